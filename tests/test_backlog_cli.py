"""`miner backlog` through CliRunner: table, exports, status, show, impact, accounts, help, one-line errors."""

import csv
import json

import pytest

from miner.cli.main import app
from miner.store import open_db
from tests.test_backlog import make_store
from tests.test_backlog_accounts import store_with_accounts


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "b.db"
    db = open_db(path)
    ids = make_store(db)
    db.conn.close()
    return path, ids


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_help(runner):
    for sub in ([], ["status"], ["show"], ["impact"], ["accounts"]):
        r = run(runner, "backlog", *sub, "--help")
        assert r.exit_code == 0 and "Usage" in r.output
    assert "--weights" in run(runner, "backlog", "--help").output


def test_table_and_status_round_trip(runner, store):
    path, ids = store
    r = run(runner, "backlog", "--db", path)
    assert r.exit_code == 0, r.output
    billing = f"BL-{ids['billing']}"
    assert billing in r.output and "Impact [95% CI]" in r.output and "NPS " in r.output
    r = run(runner, "backlog", "status", billing, "shipped", "--date", "2026-07-20", "--note", "fixed in v5.1", "--db", path)
    assert r.exit_code == 0 and f"{billing} is now shipped (2026-07-20)" in r.output and "Did the fix work?" in r.output
    r = run(runner, "backlog", "--db", path)
    line = next(x for x in r.output.splitlines() if billing in x)
    assert "shipped:" in line
    r = run(runner, "backlog", "show", billing, "--db", path)
    assert r.exit_code == 0 and "Why it ranks here: volume" in r.output and "  at Billing: 84 documents" in r.output and "Evidence:" in r.output and "[zh]" in r.output


def test_exports_to_files(runner, store, tmp_path):
    path, ids = store
    for fmt in ("md", "csv", "json", "jira"):
        out = tmp_path / f"backlog.{fmt}"
        r = run(runner, "backlog", "--db", path, "--format", fmt, "--out", out)
        assert r.exit_code == 0, r.output
        assert out.exists() and "backlog item(s) to" in r.output
    assert json.loads((tmp_path / "backlog.json").read_text())["items"]
    with open(tmp_path / "backlog.jira", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[0] == "Summary" and "Backlog ID" in header
    assert (tmp_path / "backlog.md").read_text().startswith("# Product backlog")


def test_weights_change_the_order(runner, store):
    path, ids = store
    first = lambda out: out.splitlines()[1].split()[1]  # noqa: E731
    by_volume = run(runner, "backlog", "--db", path, "--weights", "volume=1,negativity=0,growth=0,impact=0").stdout
    by_growth = run(runner, "backlog", "--db", path, "--weights", "volume=0,negativity=0,growth=1,impact=0").stdout
    assert first(by_volume) == f"BL-{ids['billing']}"
    assert first(by_growth) == f"BL-{ids['login']}"


def test_impact_command(runner, store):
    path, ids = store
    r = run(runner, "backlog", "impact", "--db", path)
    assert r.exit_code == 0 and "NPS:" in r.output and "double charge" in r.output
    data = json.loads(run(runner, "backlog", "impact", "--db", path, "--json", "--by", "touchpoint").output)
    assert data["by"] == "touchpoint" and data["rows"][0]["key"] == "billing"
    assert data["rows"][0]["impacts"]["nps"]["impact"] < 0


def test_accounts_command(runner, tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    store_with_accounts(db)
    db.conn.close()
    r = run(runner, "backlog", "accounts", "--db", path, "--account-field", "account", "--revenue-field", "arr")
    assert r.exit_code == 0, r.output
    assert "at risk (high revenue, dissatisfied)" in r.output and "globex" in r.output and "double charge" in r.output


@pytest.mark.parametrize(
    "args, code, exit_code",
    [
        (["backlog", "status", "BL-1", "maybe"], "E976", 2),
        (["backlog", "status", "BL-1", "shipped", "--date", "20-07-2026"], "E903", 2),
        (["backlog", "status", "BL-404", "planned"], "E978", 2),
        (["backlog", "--weights", "volume=lots"], "E973", 2),
        (["backlog", "--weights", "speed=1"], "E973", 2),
        (["backlog", "--format", "xlsx"], "E987", 2),
        (["backlog", "--score-kind", "happiness"], "E971", 2),
        (["backlog", "--as-of", "yesterday"], "E903", 2),
        (["backlog", "--top", "0"], "E989", 2),
        (["backlog", "--min-negative", "2"], "E977", 2),
        (["backlog", "impact", "--by", "channel"], "E982", 2),
        (["backlog", "accounts", "--account-field", "nope", "--revenue-field", "x"], "E986", 2),
    ],
)
def test_hostile_input_gives_one_line(runner, store, args, code, exit_code):
    path, _ = store
    r = run(runner, *args, "--db", path)
    assert r.exit_code == exit_code, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"Error [{code}]"), r.output
    assert "Traceback" not in r.output


def test_missing_database(runner, tmp_path):
    r = run(runner, "backlog", "--db", tmp_path / "none.db")
    assert r.exit_code == 1 and "E102" in r.output
    assert not (tmp_path / "none.db").exists()


def test_out_into_missing_folder(runner, store, tmp_path):
    path, _ = store
    r = run(runner, "backlog", "--db", path, "--format", "csv", "--out", tmp_path / "no" / "x.csv")
    assert r.exit_code == 2 and "E988" in r.output


def test_demo_ends_with_the_backlog(runner, store, monkeypatch):
    """`miner demo` prints the backlog last (the run itself is too slow for the suite: the real demo is run by hand)."""
    import miner.demo
    from miner.backlog import build_backlog

    path, ids = store
    db = open_db(path)
    fake = {"db": "demo.db", "ingest": {"totals": {k: 0 for k in ("rows_read", "stored", "already_stored", "duplicates",
                                                                   "near_duplicates", "noninformative", "skipped")},
                                        "inputs": [], "seconds": 0.1, "skipped": {}, "warnings": {}, "languages": {},
                                        "pii_redacted": {}},
            "analyze": None, "themes": None, "backlog": build_backlog(db), "documents": 1, "segments": 1}
    monkeypatch.setattr(miner.demo, "run_demo", lambda *a, **k: fake)
    r = run(runner, "demo", "--db", path)
    assert r.exit_code == 0, r.output
    lines = r.output.rstrip().splitlines()
    assert lines[-1].startswith("2 of 2 item(s).") and f"BL-{ids['billing']}" in r.output
    assert lines[-5].startswith("The backlog (miner backlog show ID")


def test_show_ranks_like_the_table(runner, store):
    path, ids = store
    built = {i["id"]: i for i in json.loads(run(runner, "backlog", "--db", path, "--format", "json").stdout)["items"]}
    for item_id, item in built.items():
        shown = json.loads(run(runner, "backlog", "show", item_id, "--db", path, "--json").stdout)
        assert (shown["priority"], shown["rank"]) == (item["priority"], item["rank"])
        assert shown["explanation"].endswith(f"= {item['priority']:.1f}")
