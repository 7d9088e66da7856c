"""Alert rules filtered by account group: the `accounts:` block, its errors, and counting within the groups."""

import json
from datetime import date, timedelta

import pytest

from miner.measures.accounts import document_groups
from miner.errors import InputError
from miner.store import transaction
from miner.trends.alerts import render_markdown, run_alerts
from miner.trends.rules import load_rules, parse_rules
from tests.store_builder import StoreBuilder

AS_OF = date(2026, 8, 3)  # Monday after the last week of data (week of 2026-07-27)
ACCOUNTS = {  # account: (revenue, score of each of its documents, documents per week)
    "risk-1": (100_000, 2, 5), "risk-2": (90_000, 2, 5),
    "model-1": (120_000, 9, 20), "model-2": (80_000, 9, 20),
    "grow-1": (1_000, 9, 20), "grow-2": (2_000, 9, 20),
    "dang-1": (1_500, 2, 20), "dang-2": (500, 2, 20),
}
ACCOUNTS_BLOCK = {"account_field": "account_id", "revenue_field": "arr"}


def build_accounts_store(db):
    """Nine weeks. 'billing' is 20% of the at-risk accounts' documents, then 80% in the last
    week; 20% of everyone else's throughout. Overall its share goes from 20% to 24% only."""
    b = StoreBuilder(db)
    with transaction(db):
        billing, other = b.theme("billing"), b.theme("other")
        for w in range(9):
            day = (date(2026, 6, 1) + timedelta(days=7 * w)).isoformat()
            for acc, (arr, score, n) in ACCOUNTS.items():
                for i in range(n):
                    at_risk = acc.startswith("risk")
                    hit = (i < 4 if w == 8 else i == 0) if at_risk else i % 5 == 0
                    doc = b.doc(day, [{"theme": billing if hit else other, "sentiment": "neg" if score < 5 else "pos"}], score=score)
                    db.execute("UPDATE documents SET meta = ? WHERE id = ?", [json.dumps({"account_id": acc, "arr": arr}), doc])
            b.doc(day, [other], score=9)  # no account: in no group
    return {"billing": billing, "other": other}


@pytest.fixture
def store(db):
    return db, build_accounts_store(db)


def rules(groups=None, **accounts):
    rule = {"name": "billing-spike", "when": {"flagged": True}}
    if groups is not None:
        rule["filters"] = {"account_group": groups}
    return parse_rules({"accounts": {**ACCOUNTS_BLOCK, **accounts}, "rules": [rule]}, "alerts.yaml")


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, code, fragment",
    [
        ({"accounts": [1], "rules": [{"name": "r", "when": {"flagged": True}}]}, "E926", "alerts.yaml: accounts: expected a mapping"),
        ({"accounts": {"acount_field": "a", "revenue_field": "r"}, "rules": [{"name": "r", "when": {"flagged": True}}]},
         "E926", "accounts.acount_field: unknown key"),
        ({"accounts": {"revenue_field": "arr"}, "rules": [{"name": "r", "when": {"flagged": True}}]}, "E926", "accounts.account_field: missing"),
        ({"accounts": {"account_field": "a"}, "rules": [{"name": "r", "when": {"flagged": True}}]}, "E926", "accounts need a revenue"),
        ({"accounts": {"account_field": 3, "revenue_field": "r"}, "rules": [{"name": "r", "when": {"flagged": True}}]},
         "E926", "accounts.account_field: expected a field name"),
        ({"accounts": {"account_field": "a", "accounts_csv": "nowhere.csv"}, "rules": [{"name": "r", "when": {"flagged": True}}]},
         "E926", "accounts.accounts_csv: no file at"),
        ({"accounts": {**ACCOUNTS_BLOCK, "satisfaction_threshold": 7}, "rules": [{"name": "r", "when": {"flagged": True}}]},
         "E927", "accounts.satisfaction_threshold: expected 0 to 1"),
        ({"accounts": {**ACCOUNTS_BLOCK, "revenue_threshold": "lots"}, "rules": [{"name": "r", "when": {"flagged": True}}]},
         "E927", "accounts.revenue_threshold: expected a number"),
        ({"accounts": {**ACCOUNTS_BLOCK, "score_kind": "nsp"}, "rules": [{"name": "r", "when": {"flagged": True}}]},
         "E927", "accounts.score_kind: expected one of nps"),
        ({"accounts": ACCOUNTS_BLOCK, "rules": [{"name": "r", "filters": {"account_group": ["at-risk"]}, "when": {"flagged": True}}]},
         "E928", "rule 'r' (rules[0]) filters.account_group: unknown account group 'at-risk'"),
        ({"accounts": ACCOUNTS_BLOCK, "rules": [{"name": "r", "filters": {"account_group": []}, "when": {"flagged": True}}]},
         "E928", "filters.account_group: expected a group or a list"),
        ({"rules": [{"name": "r", "filters": {"account_group": "at_risk"}, "when": {"flagged": True}}]},
         "E928", "filters.account_group: needs a top-level `accounts:` block"),
    ],
)
def test_accounts_validation_errors(data, code, fragment):
    with pytest.raises(InputError) as exc:
        parse_rules(data, "alerts.yaml")
    assert exc.value.code == code
    assert fragment in exc.value.message
    assert "\n" not in str(exc.value)


def test_unknown_group_lists_the_valid_ones():
    with pytest.raises(InputError) as exc:
        rules(["vip"])
    assert exc.value.hint == "Groups: model, at_risk, growth, dangling."


def test_unknown_filter_hint_mentions_account_group():
    with pytest.raises(InputError) as exc:
        parse_rules({"rules": [{"name": "r", "filters": {"account": "x"}, "when": {"flagged": True}}]}, "a.yaml")
    assert exc.value.code == "E924" and "account_group" in exc.value.hint


def test_parsed_block_and_groups():
    rs = parse_rules({"accounts": {**ACCOUNTS_BLOCK, "satisfaction_threshold": "60%", "revenue_threshold": 5000, "score_kind": "nps"},
                      "rules": [{"name": "r", "filters": {"account_group": "at_risk", "channel": "chat"}, "when": {"flagged": True}}]}, "a")
    a = rs.accounts
    assert (a.account_field, a.revenue_field, a.accounts_csv) == ("account_id", "arr", None)
    assert (a.revenue_threshold, a.satisfaction_threshold, a.score_kind) == (5000, 0.6, "nps")
    assert rs.rules[0].account_groups == ["at_risk"]
    assert rs.rules[0].filters == {"channel": ["chat"]}  # the group is not a trends dimension


def test_accounts_csv_is_relative_to_the_rules_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "accounts.csv").write_text("account_id,revenue\nrisk-1,100000\n", encoding="utf-8")
    path = tmp_path / "sub" / "alerts.yaml"
    path.write_text("accounts: {account_field: account_id, accounts_csv: accounts.csv}\n"
                    "rules:\n  - {name: r, filters: {account_group: [at_risk, dangling]}, when: {flagged: true}}\n", encoding="utf-8")
    rs = load_rules(path)
    assert rs.accounts.accounts_csv == str(tmp_path / "sub" / "accounts.csv")
    assert rs.rules[0].account_groups == ["at_risk", "dangling"]


# --- evaluation ------------------------------------------------------------------------


def test_document_groups_maps_documents_to_their_account_group(store):
    db, _ = store
    groups, report = document_groups(db, "account_id", revenue_field="arr")
    assert report["counts"] == {"model": 2, "at_risk": 2, "growth": 2, "dangling": 2}
    per_week = sum(n for _, _, n in ACCOUNTS.values())
    assert len(groups) == 9 * per_week  # documents without an account are in no group
    by_group = {g: sum(1 for x in groups.values() if x == g) for g in ("at_risk", "model")}
    assert by_group == {"at_risk": 9 * 10, "model": 9 * 40}


def test_at_risk_spike_fires_only_with_the_account_filter(store):
    db, ids = store
    unfiltered = run_alerts(db, rules(), as_of=AS_OF, dry_run=True)
    assert unfiltered["alerts"] == []

    result = run_alerts(db, rules(["at_risk"]), as_of=AS_OF, dry_run=True)
    [alert] = result["alerts"]
    assert alert["key"] == ids["billing"] and alert["period"] == "2026-W31" and alert["kind"] == "spike"
    f = alert["figures"]
    assert (f["volume"], f["total"]) == (8, 10)  # the period total is the at-risk accounts' documents too
    assert f["baseline_share"] == pytest.approx(0.2)
    assert alert["filters"] == {"account_group": ["at_risk"]}
    assert all(db.execute("SELECT json_extract(meta, '$.account_id') FROM documents WHERE id = ?", [q["document_id"]]).fetchone()[0]
               .startswith("risk") for q in alert["quotes"])
    info = result["rules"][0]
    assert info["account_groups"] == ["at_risk"] and info["account_documents"] == 90
    assert "8 of 10 documents of at_risk accounts (80.0%)" in render_markdown(result)


def test_other_groups_do_not_fire_and_ids_differ_from_the_unfiltered_rule(store):
    db, _ = store
    assert run_alerts(db, rules(["model", "growth", "dangling"]), as_of=AS_OF, dry_run=True)["alerts"] == []
    # at_risk among others: the spike is diluted like the unfiltered rule's
    assert run_alerts(db, rules(["at_risk", "model", "growth", "dangling"]), as_of=AS_OF, dry_run=True)["alerts"] == []


def test_thresholds_move_accounts_between_groups(store):
    db, _ = store
    # a revenue threshold above every account: no account is at risk, nothing is counted
    result = run_alerts(db, rules(["at_risk"], revenue_threshold=1_000_000), as_of=AS_OF, dry_run=True)
    assert result["alerts"] == [] and result["rules"][0]["account_documents"] == 0


def test_accounts_problems_at_run_time_name_the_rules_file(store):
    db, _ = store
    rs = parse_rules({"accounts": {"account_field": "customer", "revenue_field": "arr"},
                      "rules": [{"name": "r", "filters": {"account_group": "at_risk"}, "when": {"flagged": True}}]}, "alerts.yaml")
    with pytest.raises(InputError) as exc:
        run_alerts(db, rs, as_of=AS_OF, dry_run=True)
    assert exc.value.code == "E929"
    assert exc.value.message.startswith("alerts.yaml: accounts: no document has the field 'customer'")
    assert "account_id" in exc.value.hint  # the fields found


def test_groups_are_computed_once_per_run(store, monkeypatch):
    db, _ = store
    import miner.measures.accounts as accounts_mod

    calls = []
    real = accounts_mod.document_groups
    monkeypatch.setattr(accounts_mod, "document_groups", lambda *a, **k: calls.append(1) or real(*a, **k))
    rs = parse_rules({"accounts": ACCOUNTS_BLOCK, "rules": [
        {"name": "a", "filters": {"account_group": "at_risk"}, "when": {"flagged": True}},
        {"name": "b", "filters": {"account_group": ["model"]}, "when": {"flagged": True}},
        {"name": "c", "when": {"flagged": True}},
    ]}, "a")
    result = run_alerts(db, rs, as_of=AS_OF, dry_run=True)
    assert len(calls) == 1
    assert [a["rule"] for a in result["alerts"]] == ["a"]


def test_cli_with_an_accounts_csv_next_to_the_rules(runner, tmp_path):
    from miner.cli.main import app
    from miner.store import open_db

    db_file = tmp_path / "miner.db"
    build_accounts_store(open_db(db_file))
    folder = tmp_path / "conf"
    folder.mkdir()
    rows = "".join(f"{acc},{arr}\n" for acc, (arr, _, _) in ACCOUNTS.items())
    (folder / "accounts.csv").write_text("account_id,revenue\n" + rows, encoding="utf-8")
    rules_file = folder / "alerts.yaml"
    rules_file.write_text(
        "accounts: {account_field: account_id, accounts_csv: accounts.csv}\n"
        "rules:\n"
        "  - {name: everyone, when: {flagged: true}}\n"
        "  - {name: at-risk, filters: {account_group: at_risk}, when: {flagged: true}, owner: key-accounts@example.com}\n",
        encoding="utf-8",
    )
    args = ["alerts", "--rules", str(rules_file), "--db", str(db_file), "--as-of", AS_OF.isoformat(), "--format", "jsonl"]
    first = runner.invoke(app, args)
    assert first.exit_code == 4, first.output
    [alert] = [json.loads(line) for line in first.stdout.splitlines()]
    assert (alert["rule"], alert["owner"], alert["figures"]["total"]) == ("at-risk", "key-accounts@example.com", 10)
    assert runner.invoke(app, args).exit_code == 0  # raised once
    (folder / "accounts.csv").unlink()
    gone = runner.invoke(app, args)
    assert gone.exit_code == 1 and "[E926] alerts.yaml: accounts.accounts_csv: no file at" in gone.stderr
