"""The as-of day (issue 15): time-based commands report on the end of the data by default, say
so, warn when the data is long past, and keep the calendar for cron with `--as-of today`."""

import json
from datetime import date, timedelta

import pytest

from miner.cli.main import app
from miner.errors import UsageError
from miner.store import open_db, transaction
from miner.trends.alerts import run_alerts
from miner.trends.asof import resolve_as_of, trends_as_of
from miner.trends.detect import detect_in_store
from miner.trends.fixcheck import fix_check
from miner.trends.periods import parse_as_of_option, periods_between, utc_today
from miner.trends.rules import parse_rules
from tests.store_builder import StoreBuilder

FIRST = date(2026, 1, 5)  # a Monday; nine weeks of data, the last one from 2026-03-02 to 2026-03-08
LAST_WEEK = "2026-W10"
TODAY = date(2026, 8, 20)  # five months after the data ends


def build(db, last_day: int = 6):
    """Nine weeks of 40 documents a week (spread Monday to `last_day` of each week); 'rising'
    jumps in the last week."""
    b = StoreBuilder(db)
    with transaction(db):
        steady, rising = b.theme("steady"), b.theme("rising")
        for w in range(9):
            for i in range(40):
                day = FIRST + timedelta(days=7 * w + i % (last_day + 1))
                themes = [steady] if i < 10 else []
                if (w < 8 and i in (10, 11)) or (w == 8 and 10 <= i < 25):
                    themes.append(rising)
                b.doc(day.isoformat(), themes or [None])
    return steady, rising


@pytest.fixture
def old_store(db):
    return db, build(db)


def test_periods_between_and_the_option():
    assert periods_between(date(2026, 3, 8), date(2026, 8, 20), "month") == 5
    assert periods_between(date(2026, 3, 8), date(2026, 3, 9), "week") == 1
    assert periods_between(date(2026, 3, 8), date(2026, 3, 8), "day") == 0
    assert parse_as_of_option("today") == parse_as_of_option(" Today ") == utc_today()
    assert parse_as_of_option("2026-03-09") == date(2026, 3, 9)
    with pytest.raises(UsageError, match="E903"):
        parse_as_of_option("yesterday")


def test_emerging_defaults_to_the_end_of_the_data(old_store):
    db, (steady, rising) = old_store
    r = detect_in_store(db, today=TODAY)
    assert (r["data_ends"], r["as_of_source"], r["as_of"]) == ("2026-03-08", "data", "2026-03-09")
    assert r["period"] == LAST_WEEK and r["open_period"] is None
    assert {f["key"]: f["kind"] for f in r["flagged"]} == {rising: "spike"}
    assert "the data ends 2026-03-08, 24 weeks before today (2026-08-20)" in r["stale_warning"]
    # the same data read the week after it ends: no warning
    assert detect_in_store(db, today=date(2026, 3, 10))["stale_warning"] is None


def test_emerging_as_of_today_keeps_the_calendar(old_store):
    db, _ = old_store
    r = detect_in_store(db, as_of=TODAY, today=TODAY)
    assert r["as_of_source"] == "today" and r["period"] == "2026-W33" and r["flagged"] == []
    assert "not enough history" in r["note"]
    assert "the latest periods have no documents" in r["stale_warning"]
    past = detect_in_store(db, as_of=date(2026, 3, 9), today=TODAY)  # a date given: as if it were today
    assert past["as_of_source"] == "date" and past["period"] == LAST_WEEK and past["stale_warning"] is None


def test_a_last_period_the_data_does_not_finish_is_not_tested(db):
    build(db, last_day=4)  # Monday to Friday: the data ends on Friday 2026-03-06
    r = detect_in_store(db, today=TODAY)
    assert r["data_ends"] == "2026-03-06" and r["period"] == "2026-W09" and r["open_period"] == LAST_WEEK
    assert detect_in_store(db, period_label=LAST_WEEK, today=TODAY)["period"] == LAST_WEEK  # --at tests it
    assert detect_in_store(db, "theme", "month", today=TODAY)["period"] == "2026-02"


def test_no_dated_document(db):
    StoreBuilder(db).doc(None, [None])
    when = resolve_as_of(db, None, today=TODAY)
    assert (when.day, when.source, when.data_ends, when.stale_warning("week")) == (TODAY, "today", None, None)


def test_an_unreadable_latest_date_is_passed_over(db):
    build(db)
    db.execute("UPDATE documents SET created_at = 'unknown' WHERE id = 1")  # sorts above every ISO date
    assert resolve_as_of(db, None, today=TODAY).data_ends == date(2026, 3, 8)


RULES = {"rules": [{"name": "spikes", "when": {"flagged": True}}, {"name": "daily", "period": "day", "when": {"volume": {"min": 1000}}}]}


def test_alerts_default_to_the_end_of_the_data_and_raise_once_whatever_the_as_of(old_store):
    db, (_, rising) = old_store
    rules = parse_rules(RULES, "r")
    first = run_alerts(db, rules, today=TODAY)
    assert [(a["key"], a["period"]) for a in first["alerts"]] == [(rising, LAST_WEEK)]
    assert first["data_ends"] == "2026-03-08" and first["as_of_source"] == "data"
    assert "days before today" in first["stale_warning"]  # the finest period of the rules
    # the same period by an explicit date, or again by the end of the data: recorded once
    again = run_alerts(db, rules, as_of=date(2026, 3, 10), today=TODAY)
    assert again["alerts"] == [] and again["already_raised"] == 1
    assert run_alerts(db, rules, today=TODAY)["already_raised"] == 1
    # cron's calendar tests its own (empty) week and raises nothing
    cron = run_alerts(db, rules, as_of=TODAY, today=TODAY)
    assert cron["alerts"] == [] and cron["already_raised"] == 0
    assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1


def test_alerts_markdown_says_what_was_tested(old_store):
    from miner.trends.alerts import render_markdown

    db, _ = old_store
    md = render_markdown(run_alerts(db, parse_rules(RULES, "r"), today=TODAY, dry_run=True))
    assert "Data ends 2026-03-08; testing 2026-03-08, 2026-W10." in md


def test_fix_check_counts_nothing_after_the_as_of_day(old_store):
    db, (_, rising) = old_store
    whole = fix_check(db, rising, date(2026, 3, 2), window=1, today=TODAY)
    assert whole["data_ends"] == "2026-03-08" and whole["after"]["documents"] == 40
    cut = fix_check(db, rising, date(2026, 3, 2), window=1, as_of=date(2026, 3, 5), today=TODAY)
    assert cut["after"]["documents"] == 18 and cut["after"]["to"] == "2026-03-04"  # Monday to Wednesday
    assert any("past the as-of day" in n for n in cut["notes"])


def test_chart_ends_with_the_data_or_the_as_of_day(old_store):
    db, _ = old_store
    table, when = trends_as_of(db, "theme", "week", today=TODAY)
    assert table.periods[-1].label == LAST_WEEK and when["data_ends"] == "2026-03-08" and not when["last_period_partial"]
    table, when = trends_as_of(db, "theme", "week", as_of=TODAY, today=TODAY)
    assert table.periods[-1].label == "2026-W34" and table.totals[-1] == 0 and when["last_period_partial"]


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def stale_file(tmp_path):
    """The same nine weeks, six years back: stale whatever day the tests run."""
    path = tmp_path / "old.db"
    db = open_db(path)
    b = StoreBuilder(db)
    with transaction(db):
        rising = b.theme("rising")
        for w in range(9):
            for i in range(40):
                day = date(2020, 1, 6) + timedelta(days=7 * w + i % 7)
                b.doc(day.isoformat(), [rising] if (w < 8 and i < 2) or (w == 8 and i < 15) else [None])
    db.conn.close()
    return path


def test_cli_emerging_and_alerts_on_stale_data(runner, stale_file, tmp_path):
    r = runner.invoke(app, ["trends", "emerging", "--db", str(stale_file)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Data ends 2020-03-08; testing 2020-W10.") and "spike" in r.stdout
    assert r.stderr.startswith("Warning: the data ends 2020-03-08") and len(r.stderr.splitlines()) == 1
    cron = runner.invoke(app, ["trends", "emerging", "--db", str(stale_file), "--as-of", "today"])
    assert cron.exit_code == 0 and cron.stdout.startswith("As of today (") and "is ingestion behind?" in cron.stderr
    assert runner.invoke(app, ["trends", "emerging", "--db", str(stale_file), "--as-of", "soon"]).exit_code == 2
    as_json = json.loads(runner.invoke(app, ["trends", "emerging", "--db", str(stale_file), "--json"]).stdout)
    assert as_json["data_ends"] == "2020-03-08" and as_json["period"] == "2020-W10"
    rules = tmp_path / "alerts.yaml"
    rules.write_text("rules:\n  - name: spikes\n    when: {flagged: true}\n", encoding="utf-8")
    a = runner.invoke(app, ["alerts", "--rules", str(rules), "--db", str(stale_file)])
    assert a.exit_code == 4 and "Data ends 2020-03-08; testing 2020-W10." in a.stdout and "Warning: the data ends" in a.stderr
    assert "Warning" not in runner.invoke(app, ["alerts", "--rules", str(rules), "--db", str(stale_file), "-q"]).stderr


def test_cli_chart_fix_and_backlog_say_where_the_data_ends(runner, stale_file):
    chart = runner.invoke(app, ["trends", "--db", str(stale_file)])
    assert chart.exit_code == 0 and "; data ends 2020-03-08." in chart.stdout.splitlines()[0] and "Warning" in chart.stderr
    fix = runner.invoke(app, ["trends", "fix", "--db", str(stale_file), "--theme", "1", "--shipped", "2020-03-02", "--window", "2"])
    assert fix.exit_code == 0 and fix.stdout.splitlines()[-1] == "Data ends 2020-03-08."
    backlog = runner.invoke(app, ["backlog", "--db", str(stale_file), "--min-negative", "0"])
    assert backlog.exit_code == 0 and "Data ends 2020-03-08." in backlog.stdout and "Warning: the data ends" in backlog.stderr
    today = runner.invoke(app, ["backlog", "--db", str(stale_file), "--min-negative", "0", "--as-of", "today", "--format", "json"])
    result = json.loads(today.stdout)
    assert result["as_of"] == utc_today().isoformat() and result["data_ends"] == "2020-03-08"
