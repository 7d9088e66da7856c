"""Fields teams slice by (`meta.FIELD`): indexing once then incrementally, filters, errors,
and the backlog and impact by field."""

from datetime import date, timedelta

import pytest

from miner.backlog import build_backlog, impact_report
from miner.errors import UsageError
from miner.fields import documents_by_value, documents_clause, ensure_indexed, field_name, field_values, parse_filters
from miner.store import transaction
from tests.store_builder import StoreBuilder

START = date(2026, 3, 2)


def make_store(db, days=28):
    """Two airlines: United's documents complain about bags, Delta's about delays."""
    b = StoreBuilder(db)
    with transaction(db):
        bags, delays = b.theme("Lost luggage"), b.theme("Flight delayed")
        for d in range(days):
            day = (START + timedelta(days=d)).isoformat()
            b.doc(day, [{"theme": bags, "sentiment": "neg", "text": f"where is my bag {d}"}], score=1,
                  meta={"airline": "United", "tier": 1})
            b.doc(day, [{"theme": delays, "sentiment": "neg", "text": f"late again {d}"}], score=6 if d % 2 else 2,
                  meta={"airline": "Delta", "tier": 2})
            b.doc(day, [{"theme": delays, "sentiment": "neg", "text": f"four hours late {d}"}], score=0, meta={"airline": "Delta"})
        b.doc(START.isoformat(), [], meta=None)  # a document without meta
    return bags, delays


def test_field_names_and_filters_parse():
    assert field_name("meta.airline") == "airline" and field_name("meta.App version") == "App version"
    assert parse_filters(["meta.airline=United", "meta.airline=Delta", "meta.tier=1"]) == {"airline": ["United", "Delta"], "tier": ["1"]}
    for bad in ("airline", "meta.", 'meta.a"b', "meta." + "x" * 101):
        with pytest.raises(UsageError) as e:
            field_name(bad)
        assert e.value.code == "E960"
    with pytest.raises(UsageError) as e:
        parse_filters(["meta.airline"])
    assert e.value.code == "E961"


def test_a_field_is_indexed_once_then_incrementally(db):
    make_store(db, days=3)
    ensure_indexed(db, ["airline"])
    assert db.execute("SELECT COUNT(*) FROM document_fields WHERE field = 'airline'").fetchone()[0] == 10
    assert dict(field_values(db, "airline")) == {"Delta": 6, "United": 3, None: 1}
    assert dict(field_values(db, "tier")) == {"2": 3, "1": 3, None: 4}  # numbers are stored as text
    b = StoreBuilder(db)
    b.doc(START.isoformat(), [], meta={"airline": "KLM"})
    assert dict(field_values(db, "airline"))["KLM"] == 1  # the new document joins the index
    before = db.execute("SELECT COUNT(*) FROM document_fields").fetchone()[0]
    ensure_indexed(db, ["airline"])  # nothing new: nothing done
    assert db.execute("SELECT COUNT(*) FROM document_fields").fetchone()[0] == before


def test_an_unknown_field_names_the_fields_there_are(db):
    make_store(db, days=1)
    with pytest.raises(UsageError) as e:
        ensure_indexed(db, ["airlne"])
    assert e.value.code == "E962" and "meta.airline" in e.value.hint and "meta.tier" in e.value.hint
    assert db.execute("SELECT COUNT(*) FROM document_field_index").fetchone()[0] == 0


def test_documents_clause_restricts_by_every_field(db):
    make_store(db, days=2)
    sql, params = documents_clause(db, {"airline": ["Delta"], "tier": ["2"]}, "d.id")
    n = db.execute(f"SELECT COUNT(*) FROM documents d WHERE 1{sql}", params).fetchone()[0]
    assert n == 2 and documents_clause(db, {}) == ("", [])
    with pytest.raises(ValueError):
        documents_clause(db, {"airline": ["Delta"]}, "1; DROP TABLE documents")


def test_backlog_of_one_airline(db):
    bags, delays = make_store(db)
    united = build_backlog(db, fields={"airline": ["United"]})
    assert [i["theme_id"] for i in united["items"]] == [bags] and united["fields"] == {"airline": ["United"]}
    assert db.execute("SELECT COUNT(*) FROM backlog_items").fetchone()[0] == 0  # a filtered backlog is never stored
    everything = build_backlog(db)
    assert {i["theme_id"] for i in everything["items"]} == {bags, delays}


def test_impact_by_field(db):
    make_store(db)
    r = impact_report(db, "meta.airline", min_responses=3)
    rows = {row["key"]: row for row in r["rows"]}
    assert set(rows) == {"United", "Delta", None} and rows["Delta"]["documents"] == 56
    assert r["rows"][0]["key"] in ("United", "Delta")  # the largest drag first
    assert documents_by_value(db, "airline")["United"] == {row for row in documents_by_value(db, "airline")["United"]}


def test_cli_backlog_filter_and_impact_by_field(runner, db_path):
    from miner.cli.main import app
    from miner.store import open_db

    db = open_db(str(db_path))
    make_store(db)
    r = runner.invoke(app, ["backlog", "--db", str(db_path), "--filter", "meta.airline=United"])
    assert r.exit_code == 0 and "Lost luggage" in r.output and "Flight delayed" not in r.output
    r = runner.invoke(app, ["backlog", "impact", "--db", str(db_path), "--by", "meta.airline", "--min-responses", "3"])
    assert r.exit_code == 0 and "Delta" in r.output and "United" in r.output
    r = runner.invoke(app, ["backlog", "--db", str(db_path), "--filter", "meta.nope=1"])
    assert r.exit_code == 2 and "E962" in r.output and "meta.airline" in r.output and "Traceback" not in r.output


def test_export_of_one_airline(runner, db_path):
    import json

    from miner.cli.main import app
    from miner.store import open_db

    db = open_db(str(db_path))
    make_store(db, days=2)
    r = runner.invoke(app, ["export", "documents", "--db", str(db_path), "--filter", "meta.airline=Delta"])
    rows = [json.loads(line) for line in r.output.splitlines() if line.startswith("{")]
    assert r.exit_code == 0 and len(rows) == 4 and all(json.loads(x["meta"])["airline"] == "Delta" if isinstance(x["meta"], str) else x["meta"]["airline"] == "Delta" for x in rows)
    r = runner.invoke(app, ["export", "segments", "--db", str(db_path), "--filter", "meta.airline=United", "--format", "csv"])
    assert r.exit_code == 0 and r.output.count("where is my bag") == 2 and "late again" not in r.output


def test_trends_by_a_field_and_filtered_by_one(db):
    from miner.trends.series import trends

    bags, delays = make_store(db)
    table = trends(db, "meta.airline", "week")
    assert set(table.series) == {"United", "Delta", None}
    assert sum(table.series["Delta"].volume) == 56 and sum(table.series["United"].volume) == 28
    only = trends(db, "theme", "week", filters={"fields": {"airline": ["United"]}})
    assert set(only.series) == {bags} and sum(only.totals) == 28  # the period totals are United's too
    with pytest.raises(UsageError) as e:
        trends(db, "meta.nope", "week")
    assert e.value.code == "E962"


def test_emerging_by_a_field(db):
    from miner.trends.detect import DetectSettings, detect_in_store

    b = StoreBuilder(db)
    with transaction(db):
        t = b.theme("app crash")
        for d in range(70):
            day = (START + timedelta(days=d)).isoformat()
            version = "5.2" if d >= 63 else "5.1"
            for k in range(4 if version == "5.2" else 1):
                b.doc(day, [{"theme": t, "sentiment": "neg", "text": f"crash {d} {k}"}], meta={"app_version": version})
            b.doc(day, [], meta={"app_version": "5.1"})
    r = detect_in_store(db, "meta.app_version", "week", DetectSettings(baseline=8, alpha=0.05, min_count=3, min_growth=0.5))
    assert [f["key"] for f in r["flagged"]] == ["5.2"] and r["flagged"][0]["new"]


def test_alert_rules_by_and_filtered_by_fields(tmp_path, db):
    from miner.trends.rules import load_rules

    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: per-airline\n    by: meta.airline\n    when: {flagged: true}\n    filters: {meta.tier: [1, 2]}\n", encoding="utf-8")
    rule = load_rules(path).rules[0]
    assert rule.by == "meta.airline" and rule.filters == {"fields": {"tier": ["1", "2"]}}
    path.write_text("rules:\n  - name: bad\n    by: meta.\n    when: {flagged: true}\n", encoding="utf-8")
    with pytest.raises(Exception) as e:
        load_rules(path)
    assert getattr(e.value, "code", None) == "E924"


def test_cli_trends_by_a_field(runner, db_path):
    from miner.cli.main import app
    from miner.store import open_db

    db = open_db(str(db_path))
    make_store(db)
    r = runner.invoke(app, ["trends", "--db", str(db_path), "--by", "meta.airline", "--period", "week"])
    assert r.exit_code == 0 and "Delta" in r.output and "United" in r.output
    r = runner.invoke(app, ["trends", "--db", str(db_path), "--filter", "meta.airline=United", "--json"])
    assert r.exit_code == 0 and '"Lost luggage"' in r.output and '"Flight delayed"' not in r.output


def _touchpoint_store(db):
    """United's bags at baggage (negative), Delta's delays at the gate (negative) and its praise of the gate (positive)."""
    b = StoreBuilder(db)
    with transaction(db):
        bags, delays = b.theme("Lost luggage"), b.theme("Flight delayed")
        for d in range(4):
            day = (START + timedelta(days=d)).isoformat()
            b.doc(day, [{"theme": bags, "sentiment": "neg", "touchpoint": "baggage", "text": f"bag lost {d}"}], meta={"airline": "United"})
            b.doc(day, [{"theme": delays, "sentiment": "neg", "touchpoint": "gate", "text": f"late {d}"}], meta={"airline": "Delta"})
            b.doc(day, [{"theme": delays, "sentiment": "pos", "touchpoint": "gate", "text": f"kind gate agent {d}"}], meta={"airline": "Delta"})
        b.doc(START.isoformat(), [{"theme": bags, "sentiment": "neg", "touchpoint": "baggage", "text": "no airline named"}], meta=None)
        for key in ("baggage", "gate"):
            db["touchpoints"].insert({"key": key, "stage": "travel", "label": key.title(), "owner": "ops", "taxonomy": "airline", "taxonomy_sha256": "0" * 64})


def test_touchpoint_sentiment_by_a_field_and_filtered_by_one(db):
    from miner.touchpoints.aspects import aspect_sentiment

    _touchpoint_store(db)
    rows = {(r["touchpoint"], r["group"]): r for r in aspect_sentiment(db, by="meta.airline")}
    assert set(rows) == {("baggage", "United"), ("baggage", ""), ("gate", "Delta")}
    assert rows[("gate", "Delta")]["neg"] == 4 and rows[("gate", "Delta")]["pos"] == 4 and rows[("gate", "Delta")]["neg_share"] == 0.5
    assert rows[("baggage", "United")]["segments"] == 4 and rows[("baggage", "")]["segments"] == 1
    only_delta = aspect_sentiment(db, by="touchpoint", filters={"airline": ["Delta"]})
    assert [(r["touchpoint"], r["segments"]) for r in only_delta] == [("gate", 8)]
    with pytest.raises(UsageError) as err:
        aspect_sentiment(db, by="meta.plan")
    assert err.value.code == "E962"


def test_cli_touchpoint_sentiment_by_a_field(runner, db_path):
    from miner.cli.main import app
    from miner.store import open_db

    _touchpoint_store(open_db(str(db_path)))
    r = runner.invoke(app, ["touchpoints", "sentiment", "--db", str(db_path), "--by", "meta.airline", "--json"])
    assert r.exit_code == 0 and '"United"' in r.output and '"Delta"' in r.output
    r = runner.invoke(app, ["touchpoints", "sentiment", "--db", str(db_path), "--filter", "meta.airline=United", "--csv"])
    assert r.exit_code == 0 and "baggage" in r.output and "gate" not in r.output
