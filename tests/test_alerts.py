"""Alert rules, dedupe across runs, webhook retries without loss, exit codes for cron, CSV safety."""

import csv
import io
import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from miner.cli.main import app
from miner.errors import InputError
from miner.store import open_db, transaction
from miner.trends.alerts import run_alerts, write_outputs
from miner.trends.rules import load_rules, parse_rules
from tests.store_builder import StoreBuilder
from miner.trends.webhook import post_json

AS_OF = date(2026, 8, 3)  # Monday: the week of 2026-07-27 (the last of the data) is the latest complete one
NO_SLEEP = lambda s: None  # noqa: E731


def build_spike(db):
    """Nine weeks of 40 documents: 'steady' flat, 'rising' jumps in the last week, 'brand new' appears."""
    b = StoreBuilder(db)
    with transaction(db):
        steady, rising = b.theme("steady"), b.theme("rising", custom_label="Login fails after update")
        brand_new, archived = b.theme("brand new"), b.theme("archived one", status="archived")
        for w in range(9):
            day = (date(2026, 6, 1) + timedelta(days=7 * w)).isoformat()
            for i in range(40):
                segs = [{"theme": steady, "touchpoint": "billing", "sentiment": "neg"}] if i < 10 else []
                if (w < 8 and i in (10, 11)) or (w == 8 and 10 <= i < 25):
                    segs.append({"theme": rising, "touchpoint": "app", "sentiment": "neg", "text": f"=cmd|' /C calc'!A0 login {i}"})
                if w == 8 and 25 <= i < 32:
                    segs.append({"theme": brand_new, "sentiment": "neu"})
                if w == 8 and i >= 32:
                    segs.append({"theme": archived})
                b.doc(day, segs or [None], channel="chat" if i % 2 else "email", score=2 if any(s["theme"] == rising for s in segs) else 9)
        b.doc(None, [rising])
    return {"steady": steady, "rising": rising, "brand_new": brand_new, "archived": archived}


RULES = {
    "owners": {"default": "lead@example.com", "touchpoints": {"app": "app-team@example.com"}},
    "rules": [
        {"name": "spikes", "when": {"flagged": True}, "severity": "high"},
        {"name": "by-channel", "by": "channel", "owner": "cc@example.com", "when": {"volume": {"min": 1000}}},
    ],
}


@pytest.fixture
def store(db):
    ids = build_spike(db)
    return db, ids


# --- rule validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, code, fragment",
    [
        ([1, 2], "E922", "top level"),
        ({"rule": []}, "E922", "rule: unknown top-level key"),
        ({"rules": []}, "E922", "rules: expected a non-empty list"),
        ({"rules": [{"when": {"new": True}}]}, "E922", "rules[0] name"),
        ({"rules": [{"name": "a", "when": {"new": True}}, {"name": "a", "when": {"new": True}}]}, "E922", "rule 'a' (rules[1]) name"),
        ({"rules": [{"name": "a"}]}, "E923", "rule 'a' (rules[0]) when"),
        ({"rules": [{"name": "a", "when": {"growth": "high"}}]}, "E923", "rule 'a' (rules[0]) when.growth"),
        ({"rules": [{"name": "a", "when": {"growth": {"min": "lots"}}}]}, "E923", "when.growth.min"),
        ({"rules": [{"name": "a", "when": {"volume": {"min": 9, "max": 3}}}]}, "E923", "min 9.0 is above max 3.0"),
        ({"rules": [{"name": "a", "when": {"loudness": {"min": 1}}}]}, "E923", "when.loudness: unknown condition"),
        ({"rules": [{"name": "a", "when": {"new": "yes"}}]}, "E923", "when.new: expected true or false"),
        ({"rules": [{"name": "a", "by": "colour", "when": {"new": True}}]}, "E924", "rule 'a' (rules[0]) by"),
        ({"rules": [{"name": "a", "period": "year", "when": {"new": True}}]}, "E924", "rule 'a' (rules[0]) period"),
        ({"rules": [{"name": "a", "baseline": 500, "when": {"new": True}}]}, "E924", "baseline"),
        ({"rules": [{"name": "a", "filters": {"account": ["x"]}, "when": {"new": True}}]}, "E924", "filters.account: unknown filter"),
        ({"rules": [{"name": "a", "severity": "urgent", "when": {"new": True}}]}, "E924", "severity"),
        ({"rules": [{"name": "a", "when": {"new": True}, "colour": 1}]}, "E922", "rule 'a' (rules[0]) colour: unknown key"),
        ({"webhook": "ftp://x", "rules": [{"name": "a", "when": {"new": True}}]}, "E925", "webhook"),
        ({"webhook": {"url": "http://x", "retries": 1.5}, "rules": [{"name": "a", "when": {"new": True}}]}, "E923", "webhook.retries"),
        ({"owners": {"touchpoints": ["a"]}, "rules": [{"name": "a", "when": {"new": True}}]}, "E922", "owners.touchpoints"),
        ({"defaults": {"alfa": 0.1}, "rules": [{"name": "a", "when": {"new": True}}]}, "E922", "defaults"),
    ],
)
def test_rule_errors_name_rule_and_field(data, code, fragment):
    with pytest.raises(InputError) as exc:
        parse_rules(data, "alerts.yaml")
    text = str(exc.value)
    assert exc.value.code == code and fragment in text and text.startswith(f"[{code}] alerts.yaml: ")
    assert "\n" not in text


def test_rules_parse_with_defaults_and_percentages(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "defaults: {period: day, baseline: 12}\n"
        "webhook: {url: 'https://hooks.example.com/x', retries: 1, backoff: 0}\n"
        "rules:\n  - name: a\n    when: {share: {min: '2%'}, significant: true}\n    baseline: 4\n"
        "  - name: b\n    by: lang\n    filters: {lang: zh}\n    when: {new: true}\n",
        encoding="utf-8",
    )
    rs = load_rules(path)
    a, b = rs.rules
    assert (a.period, a.settings.baseline, a.when["share"]) == ("day", 4, (0.02, None))
    assert (b.period, b.settings.baseline, b.filters) == ("day", 12, {"lang": ["zh"]})
    assert rs.webhook.retries == 1 and rs.webhook.backoff == 0


def test_unreadable_and_broken_rule_files(tmp_path):
    with pytest.raises(InputError, match="E920"):
        load_rules(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: a\n   when: {new: true\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"E921.*line \d+"):
        load_rules(bad)


# --- evaluation, routing, dedupe ------------------------------------------------------


def test_alerts_raised_routed_and_deduplicated(store):
    db, ids = store
    rules = parse_rules(RULES, "r.yaml")
    first = run_alerts(db, rules, as_of=AS_OF)
    by_key = {a["key"]: a for a in first["alerts"]}
    assert set(by_key) == {ids["rising"], ids["brand_new"]}  # steady is flat, the archived theme is left out
    rising = by_key[ids["rising"]]
    assert rising["kind"] == "spike" and rising["period"] == "2026-W31" and rising["label"] == "Login fails after update"
    assert rising["touchpoint"] == "app" and rising["owner"] == "app-team@example.com"  # routed by touchpoint
    assert by_key[ids["brand_new"]]["kind"] == "new" and by_key[ids["brand_new"]]["owner"] == "lead@example.com"
    assert rising["figures"]["volume"] == 15 and rising["figures"]["total"] == 40
    assert rising["quotes"] and rising["quotes"][0]["sentiment"] == "neg"
    assert first["delivery"] is None and first["already_raised"] == 0
    second = run_alerts(db, rules, as_of=AS_OF + timedelta(days=2))  # same week still the latest complete one
    assert second["alerts"] == [] and second["already_raised"] == 2
    assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 2


def test_rule_owner_wins_and_archived_on_request(store):
    db, ids = store
    rules = parse_rules({"owners": {"touchpoints": {"app": "app@x"}},
                         "rules": [{"name": "r", "owner": "boss@x", "include_archived": True, "when": {"new": True}}]}, "r")
    alerts = run_alerts(db, rules, as_of=AS_OF, dry_run=True)["alerts"]
    assert {a["key"] for a in alerts} == {ids["brand_new"], ids["archived"]}
    assert {a["owner"] for a in alerts} == {"boss@x"}
    assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0  # dry run records nothing


def test_rule_needing_touchpoints_is_skipped_with_a_note(db):
    b = StoreBuilder(db)
    t = b.theme("x")
    for w in range(9):
        b.doc((date(2026, 6, 1) + timedelta(days=7 * w)).isoformat(), [t])
    rules = parse_rules({"rules": [{"name": "tp", "by": "touchpoint", "when": {"flagged": True}},
                                   {"name": "all", "when": {"volume": {"min": 1}}}]}, "r")
    out = run_alerts(db, rules, as_of=AS_OF, dry_run=True)
    assert out["rules"][0]["note"].startswith("skipped") and [a["rule"] for a in out["alerts"]] == ["all"]


def test_impact_condition(store):
    db, ids = store
    rules = parse_rules({"rules": [{"name": "drag", "when": {"impact": {"max": -1}}}]}, "r")
    alerts = run_alerts(db, rules, as_of=AS_OF, dry_run=True)["alerts"]
    # documents about 'rising' score 2, the others 9: only 'rising' drags the week's mean score down
    assert [a["key"] for a in alerts] == [ids["rising"]]
    assert alerts[0]["figures"]["impact"] == pytest.approx((15 * 2 + 25 * 9) / 40 - 9)


def test_outputs_written_and_emptied(store, tmp_path):
    db, _ = store
    result = run_alerts(db, parse_rules(RULES, "r"), as_of=AS_OF)
    paths = write_outputs(result, tmp_path / "out")
    lines = (tmp_path / "out" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and {json.loads(x)["rule"] for x in lines} == {"spikes"}
    md = (tmp_path / "out" / "alerts.md").read_text(encoding="utf-8")
    assert "Login fails after update" in md and "app-team@example.com" in md
    write_outputs(run_alerts(db, parse_rules(RULES, "r"), as_of=AS_OF), tmp_path / "out")
    assert (tmp_path / "out" / "alerts.jsonl").read_text() == "" and len(paths) == 2


# --- webhook --------------------------------------------------------------------------


class Receiver:
    """A local HTTP server in a thread that fails the first `failures` posts (status `fail_status`)."""

    def __init__(self, failures=0, fail_status=500):
        self.failures, self.fail_status, self.bodies, self.calls, self.keys = failures, fail_status, [], 0, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.calls += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.calls <= receiver.failures:
                    self.send_response(receiver.fail_status)
                    self.end_headers()
                    return
                receiver.bodies.append(json.loads(body))
                receiver.keys.append(self.headers.get("Idempotency-Key"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_post_retries_then_succeeds():
    waits = []
    with Receiver(failures=2) as r:
        result = post_json(r.url, {"a": 1}, retries=3, backoff=0.5, sleep=waits.append)
    assert result.ok and result.attempts == 3 and r.calls == 3 and r.bodies == [{"a": 1}]
    assert waits == [0.5, 1.0]  # exponential backoff


def test_post_gives_up_and_does_not_retry_a_refusal():
    with Receiver(failures=99) as r:
        result = post_json(r.url, {}, retries=2, backoff=0, sleep=NO_SLEEP)
    assert not result.ok and result.attempts == 3 and result.status == 500
    with Receiver(failures=99, fail_status=400) as r:
        result = post_json(r.url, {}, retries=2, backoff=0, sleep=NO_SLEEP)
    assert not result.ok and result.attempts == 1 and r.calls == 1
    dead = post_json("http://127.0.0.1:9/nothing", {}, retries=1, backoff=0, timeout=2, sleep=NO_SLEEP)
    assert not dead.ok and dead.status is None and dead.error


def test_webhook_retried_within_a_run_and_sent_once(store):
    db, _ = store
    rules = parse_rules({**RULES, "webhook": {"url": "http://placeholder.invalid/", "backoff": 0}}, "r")
    with Receiver(failures=2) as r:
        out = run_alerts(db, rules, webhook_url=r.url, as_of=AS_OF, sleep=NO_SLEEP)
        assert out["delivery"]["sent"] == 2 and out["delivery"]["pending"] == 0
        assert len(r.bodies) == 2 and r.calls == 4
        assert sorted(r.keys) == sorted(a["id"] for a in out["alerts"])
        again = run_alerts(db, rules, webhook_url=r.url, as_of=AS_OF, sleep=NO_SLEEP)
        assert again["alerts"] == [] and len(r.bodies) == 2  # never sent twice
    rows = db.execute("SELECT delivery, attempts, sent_at IS NOT NULL FROM alerts").fetchall()
    assert sorted(rows) == [("sent", 1, 1), ("sent", 3, 1)]


def test_failed_posts_stay_pending_and_go_out_next_run(store):
    db, _ = store
    rules = parse_rules({**RULES, "webhook": {"url": "http://placeholder.invalid/", "retries": 1, "backoff": 0}}, "r")
    with Receiver(failures=10**6) as down:
        out = run_alerts(db, rules, webhook_url=down.url, as_of=AS_OF, sleep=NO_SLEEP)
    assert out["delivery"]["pending"] == 2 and "500" in out["delivery"]["last_error"]
    assert len(out["alerts"]) == 2
    assert db.execute("SELECT COUNT(*) FROM alerts WHERE delivery = 'pending'").fetchone()[0] == 2
    with Receiver() as up:
        later = run_alerts(db, rules, webhook_url=up.url, as_of=AS_OF + timedelta(days=1), sleep=NO_SLEEP)
        assert later["alerts"] == [] and later["delivery"]["sent"] == 2 and len(up.bodies) == 2
        assert {b["rule"] for b in up.bodies} == {"spikes"}
        run_alerts(db, rules, webhook_url=up.url, as_of=AS_OF, sleep=NO_SLEEP)
        assert len(up.bodies) == 2


# --- the CLI: exit codes for cron -----------------------------------------------------


def _store_file(tmp_path):
    path = tmp_path / "m.db"
    build_spike(open_db(path))
    return path


def _rules_file(tmp_path, extra=""):
    path = tmp_path / "alerts.yaml"
    path.write_text(
        extra + "owners: {default: lead@example.com}\nrules:\n  - name: spikes\n    when: {flagged: true}\n", encoding="utf-8"
    )
    return path


def test_cli_exit_codes(runner, tmp_path):
    db, rules = _store_file(tmp_path), _rules_file(tmp_path)
    args = ["alerts", "--rules", str(rules), "--db", str(db), "--as-of", "2026-08-03"]
    first = runner.invoke(app, args + ["--out", str(tmp_path / "out")])
    assert first.exit_code == 4, first.output
    assert len((tmp_path / "out" / "alerts.jsonl").read_text().splitlines()) == 2
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "No new alerts" in second.stdout
    # an earlier week raises nothing new either: the store tells which weeks were already alerted
    quiet = runner.invoke(app, ["alerts", "--rules", str(rules), "--db", str(db), "--as-of", "2026-07-20"])
    assert quiet.exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  - name: x\n    when: {growth: big}\n", encoding="utf-8")
    bad = runner.invoke(app, ["alerts", "--rules", str(broken), "--db", str(db)])
    assert bad.exit_code == 1 and "rule 'x' (rules[0]) when.growth" in bad.stderr and "Traceback" not in bad.output
    assert runner.invoke(app, ["alerts", "--rules", str(rules), "--db", str(tmp_path / "none.db")]).exit_code == 1
    assert runner.invoke(app, ["alerts", "--rules", str(rules), "--db", str(db), "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["alerts", "--rules", str(rules), "--check"]).exit_code == 0


def test_cli_pending_webhook_exit_code(runner, tmp_path):
    db = _store_file(tmp_path)
    rules = _rules_file(tmp_path, "webhook: {url: 'http://127.0.0.1:9/', retries: 0, backoff: 0, timeout: 2}\n")
    args = ["alerts", "--rules", str(rules), "--db", str(db), "--as-of", "2026-08-03", "--format", "jsonl"]
    result = runner.invoke(app, args)
    assert result.exit_code == 5 and "pending" in result.stderr
    assert len(result.stdout.splitlines()) == 2  # the alerts are still reported
    with Receiver() as up:
        ok = runner.invoke(app, args + ["--webhook", up.url])
    assert ok.exit_code == 0 and len(up.bodies) == 2


# --- trends CLI -----------------------------------------------------------------------


def test_trends_cli_views_and_csv_neutralised(runner, tmp_path):
    db = tmp_path / "m.db"
    store = open_db(db)
    b = StoreBuilder(store)
    evil = b.theme("=HYPERLINK(\"http://evil.example\") refund")
    b.doc("2026-03-02", [{"theme": evil, "sentiment": "neg"}], channel="+chat")
    b.doc(None, [evil])
    out = runner.invoke(app, ["trends", "--db", str(db), "--csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["label"].startswith("'=HYPERLINK") and rows[0]["period"] == "2026-W10" and rows[0]["share"] == "1.0"
    ch = list(csv.DictReader(io.StringIO(runner.invoke(app, ["trends", "--db", str(db), "--csv", "--by", "channel"]).stdout)))
    assert ch[0]["key"] == "'+chat"
    text = runner.invoke(app, ["trends", "--db", str(db), "--period", "month"])
    assert text.exit_code == 0 and "1 without a date skipped" in text.stdout and "2026-03" in text.stdout
    js = json.loads(runner.invoke(app, ["trends", "--db", str(db), "--json", "--by", "lang"]).stdout)
    assert js["series"][0]["key"] == "en" and js["skipped_undated"] == 1
    assert runner.invoke(app, ["trends", "--db", str(db), "--by", "colour"]).exit_code == 2
    assert runner.invoke(app, ["trends", "--db", str(db), "--since", "March"]).exit_code == 2
    assert runner.invoke(app, ["trends", "--db", str(db), "--chart", "pie"]).exit_code == 2
