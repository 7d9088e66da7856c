"""The backlog: items, explainable priority, stable ids, statuses across rebuilds and merges, quotes, exports."""

import csv
import io
import json
from datetime import date, timedelta

import pytest

from miner.backlog import build_backlog, set_status
from miner.backlog.build import resolve_item
from miner.backlog.collect import item_id
from miner.backlog.formats import jira_priority, markdown, render_text
from miner.backlog.priority import DEFAULT_WEIGHTS, parse_weights, score_items
from miner.errors import UsageError
from miner.store import transaction
from tests.store_builder import StoreBuilder

START = date(2026, 6, 1)
LANGS = ["en", "de", "zh", "fa"]


def add_touchpoint(db, segment_id, key):
    db.execute("INSERT INTO segment_touchpoints VALUES (?, ?, 0.8, 1, 'prototype')", [segment_id, key])


def make_store(db, days=84):
    """Three themes over 12 weeks: billing double charge (at billing, NPS detractors, in 4 languages),
    login failures (no touchpoint, growing in the last 4 weeks), praise (positive)."""
    b = StoreBuilder(db)
    with transaction(db):
        db.execute("INSERT INTO touchpoints VALUES ('billing', 'pay', 'Billing', 'invoices', 'finance-team', 'default', 'x')")
        ids = {"billing": b.theme("double charge"), "login": b.theme("login fails"), "praise": b.theme("praise"),
               "archived": b.theme("spam", status="archived")}
        for d in range(days):
            day = (START + timedelta(days=d)).isoformat()
            lang = LANGS[d % 4]
            doc = b.doc(day, [{"theme": ids["billing"], "sentiment": "neg", "text": f"[{lang}] charged twice on day {d}"}],
                        score=[0, 3, 6][d % 3], lang=lang, channel="survey")
            add_touchpoint(db, _seg(db, doc), "billing")
            if d % 3 == 0 or (d >= days - 28):
                b.doc(day, [{"theme": ids["login"], "sentiment": "neg", "text": f"cannot log in {d}"}], score=[5, 8][d % 2], channel="app")
            for _ in range(2):
                b.doc(day, [{"theme": ids["praise"], "sentiment": "pos", "text": f"great service {d}"}], score=10, channel="survey")
            if d % 7 == 0:
                b.doc(day, [{"theme": ids["archived"], "sentiment": "neg", "text": "buy cheap pills"}], score=0)
    return ids


def _seg(db, doc):
    return db.execute("SELECT id FROM segments WHERE document_id = ? ORDER BY seg_index LIMIT 1", [doc]).fetchone()[0]


def by_id(result):
    return {i["id"]: i for i in result["items"]}


# --- priority ----------------------------------------------------------------------------


def _metrics(docs, neg, lab, growth, recent, base, impact, n_with=50):
    return {"documents": docs, "neg_segments": neg, "labelled_segments": lab, "growth": growth, "recent_documents": recent,
            "baseline_documents": base, "impacts": {"nps": {"impact": impact, "responses_with": n_with}}}


def test_priority_components_and_breakdown_add_up():
    items = [_metrics(100, 50, 100, 0.0, 30, 70, -2.0), _metrics(10, 10, 10, 1.5, 8, 2, -8.0), _metrics(40, 5, 40, -0.5, 5, 35, 1.0)]
    score_items(items, dict(DEFAULT_WEIGHTS))
    a, b, c = items
    assert a["breakdown"]["volume"]["component"] == 1.0
    assert b["breakdown"]["growth"]["component"] == 1.0 and c["breakdown"]["growth"]["component"] == 0.0
    assert b["breakdown"]["impact"]["component"] == 1.0 and a["breakdown"]["impact"]["component"] == pytest.approx(0.25)
    assert c["breakdown"]["impact"]["component"] == 0.0  # a positive impact is no drag
    # negativity shrinks towards the overall share (65/150) with 5 pseudo-segments
    assert b["breakdown"]["negativity"]["component"] == pytest.approx((10 + 5 * 65 / 150) / 15, abs=1e-4)
    for it in items:
        assert sum(x["points"] for x in it["breakdown"].values()) == pytest.approx(it["priority"], abs=0.05)
        assert it["explanation"].startswith("volume ") and it["explanation"].endswith(f"= {it['priority']:.1f}")
    assert b["priority"] > a["priority"] > c["priority"]


def test_weights_change_the_ranking():
    items = [_metrics(100, 50, 100, 0.0, 30, 70, -2.0), _metrics(10, 10, 10, 1.5, 8, 2, -8.0)]
    score_items(items, parse_weights("volume=5,negativity=0,growth=0,impact=0"))
    assert items[0]["priority"] > items[1]["priority"]
    assert not items[0]["breakdown"]["growth"]["used"]
    score_items(items, parse_weights("volume=0,growth=1"))
    assert items[1]["priority"] > items[0]["priority"]


def test_component_nobody_has_is_left_out():
    items = [_metrics(10, 5, 10, None, 0, 0, None), _metrics(5, 5, 5, None, 0, 0, None)]
    score_items(items, dict(DEFAULT_WEIGHTS))
    assert not items[0]["breakdown"]["impact"]["used"] and not items[0]["breakdown"]["growth"]["used"]
    assert items[0]["priority"] == pytest.approx(100 * (1.0 + items[0]["breakdown"]["negativity"]["component"]) / 2, abs=0.01)


@pytest.mark.parametrize("spec", ["volume=x", "speed=1", "volume=-1", "volume=0,negativity=0,growth=0,impact=0", "volume",
                                  "volume=inf", "volume=1e9"])
def test_bad_weights(spec):
    with pytest.raises(UsageError, match="E973"):
        parse_weights(spec)


def test_weights_yaml(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("weights:\n  volume: 2\n  impact: 3\n")
    assert parse_weights(str(p)) == {"volume": 2.0, "negativity": 1.0, "growth": 1.0, "impact": 3.0}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(UsageError, match="E974"):
        parse_weights(str(bad))
    with pytest.raises(UsageError, match="E974"):
        parse_weights(str(tmp_path / "missing.yml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("volume: [1\n")
    with pytest.raises(UsageError, match="E974"):
        parse_weights(str(broken))


# --- building ----------------------------------------------------------------------------


def test_items_ids_counts_and_order(db):
    ids = make_store(db)
    r = build_backlog(db)
    items = by_id(r)
    billing, login = f"BL-{ids['billing']}", f"BL-{ids['login']}"
    assert set(items) == {billing, login}  # praise is not something to fix; archived themes never enter
    b = items[billing]
    assert b["documents"] == 84 and b["negative_share"] == 1.0
    assert b["first_seen"] == "2026-06-01" and b["last_seen"] == "2026-08-23"
    assert b["title"] == "double charge" and b["owner"] == "finance-team" and b["where"] == "Billing 100%"
    assert [(f["touchpoint"], f["documents"], f["negative_share"]) for f in b["facets"]] == [("billing", 84, 1.0)]
    assert b["summary"].startswith('Customers report "double charge": 84 documents, 100% negative, in 4 languages, since 2026-06-01')
    assert "where: Billing 100%" in b["summary"] and "lowers NPS by" in b["summary"]
    assert items[login]["touchpoint"] is None and items[login]["title"] == "login fails"
    # login grows in the last 4 weeks (daily instead of every third day)
    assert items[login]["growth"] > 1.0 and items[login]["breakdown"]["growth"]["component"] == 1.0
    assert b["growth"] == pytest.approx(0.0, abs=0.35)
    # the billing theme's answers are all detractors: a large NPS drag with an interval below 0
    imp = b["impacts"]["nps"]
    assert imp["impact"] < -20 and imp["ci95"][1] < 0
    assert [i["rank"] for i in r["items"]] == [1, 2]
    assert r["as_of"] == "2026-08-23" and len(b["trend"]["volume"]) == 12 and b["trend"]["sparkline"]


def test_quotes_speak_several_languages(db):
    ids = make_store(db)
    item = by_id(build_backlog(db, quotes=4))[f"BL-{ids['billing']}"]
    assert len(item["quotes"]) == 4
    assert {q["lang"] for q in item["quotes"]} == set(LANGS)
    assert all(q["text"].startswith(f"[{q['lang']}]") for q in item["quotes"])  # each quote in its own language
    assert len({q["document_id"] for q in item["quotes"]}) == 4


def test_ids_and_statuses_survive_a_rebuild(db):
    ids = make_store(db)
    build_backlog(db)
    billing = f"BL-{ids['billing']}"
    set_status(db, billing.lower(), "planned", on="2026-12-01", note="JIRA-42")
    r = build_backlog(db)
    item = by_id(r)[billing]
    assert (item["status"], item["status_date"], item["status_note"]) == ("planned", "2026-12-01", "JIRA-42")
    row = db.execute("SELECT status, status_note, rank, created_at FROM backlog_items WHERE id = ?", [billing]).fetchone()
    assert row[:2] == ("planned", "JIRA-42") and row[2] == item["rank"]
    assert db.execute("SELECT COUNT(*) FROM backlog_items").fetchone()[0] == 2  # no duplicate rows


def test_wont_fix_ranks_last_and_is_hidden_by_default(db):
    ids = make_store(db)
    r = build_backlog(db)
    top = r["items"][0]["id"]
    set_status(db, top, "wont-fix", note="by design")
    r = build_backlog(db)
    assert r["items"][-1]["id"] == top and r["items"][-1]["rank"] == len(r["items"])
    table = render_text(r, "table")
    assert top not in table and "won't-fix hidden" in table
    assert top in render_text(r, "table", show_all=True)


def test_shipped_item_says_whether_the_fix_worked(db):
    ids = make_store(db)
    build_backlog(db)
    billing = f"BL-{ids['billing']}"
    out = set_status(db, billing, "shipped", on="2026-07-20")
    assert out["fix_check"]["verdict"] in ("significant drop", "no significant change", "significant rise")
    item = by_id(build_backlog(db))[billing]
    assert item["status"] == "shipped" and item["fix_check"]["summary"].startswith(item["fix_check"]["verdict"][0].upper())
    assert item["rank"] == 2  # after the open item


def test_status_follows_a_theme_merge(db):
    ids = make_store(db)
    b = StoreBuilder(db)
    new_billing = b.theme("billing problems")
    build_backlog(db)
    old_id = f"BL-{ids['billing']}"
    set_status(db, old_id, "planned", note="Q4")
    # merge as `miner themes merge` does: segments move, the old theme points at the new one
    with transaction(db):
        db.execute("UPDATE segment_themes SET theme_id = ? WHERE theme_id = ?", [new_billing, ids["billing"]])
        db.execute("UPDATE themes SET status = 'merged', merged_into = ? WHERE id = ?", [new_billing, ids["billing"]])
    r = build_backlog(db)
    new_id = item_id(new_billing, None)
    item = by_id(r)[new_id]
    assert item["status"] == "planned" and item["status_note"] == "Q4" and item["moved_from"] == [old_id]
    assert r["moved"] == {old_id: new_id}
    old = db.execute("SELECT rank, details FROM backlog_items WHERE id = ?", [old_id]).fetchone()
    assert old[0] is None and json.loads(old[1])["moved_to"] == new_id
    assert resolve_item(db, old_id)["id"] == new_id  # the old id still works in `status`
    set_status(db, old_id, "open")
    r = build_backlog(db)  # carried once: reopening is not undone by the next rebuild
    assert by_id(r)[new_id]["status"] == "open"


def test_segments_not_yet_reassigned_follow_merged_into(db):
    """Segments still pointing at a merged theme count for the theme it ended in (as in miner.trends)."""
    ids = make_store(db)
    b = StoreBuilder(db)
    target = b.theme("billing problems")
    db.execute("UPDATE themes SET status = 'merged', merged_into = ? WHERE id = ?", [target, ids["billing"]])
    items = by_id(build_backlog(db))
    assert f"BL-{target}" in items and f"BL-{ids['billing']}" not in items


def test_vanished_item_keeps_its_row_and_status(db):
    ids = make_store(db)
    build_backlog(db)
    login = f"BL-{ids['login']}"
    set_status(db, login, "planned")
    db.execute("UPDATE themes SET status = 'archived' WHERE id = ?", [ids["login"]])
    r = build_backlog(db)
    assert login not in by_id(r) and login in r["stale"]
    assert db.execute("SELECT status, rank FROM backlog_items WHERE id = ?", [login]).fetchone() == ("planned", None)
    db.execute("UPDATE themes SET status = 'active' WHERE id = ?", [ids["login"]])
    assert by_id(build_backlog(db))[login]["status"] == "planned"


def test_write_false_leaves_the_store_alone(db):
    make_store(db)
    build_backlog(db, write=False)
    assert db.execute("SELECT COUNT(*) FROM backlog_items").fetchone()[0] == 0


def test_empty_store(db):
    r = build_backlog(db)
    assert r["items"] == [] and "No backlog items" in render_text(r, "table")


@pytest.mark.parametrize(
    "args, code",
    [
        (("planned-ish",), "E976"),
        (("shipped", "2026-13-01"), "E903"),
        (("shipped", "2999-01-01"), "E979"),
        (("open", "2026-01-01"), "E980"),
    ],
)
def test_status_errors(db, args, code):
    ids = make_store(db)
    build_backlog(db)
    with pytest.raises(UsageError, match=code):
        set_status(db, f"BL-{ids['login']}", args[0], on=args[1] if len(args) > 1 else None)


def test_unknown_item(db):
    with pytest.raises(UsageError, match="E978"):
        set_status(db, "BL-999-nothing", "planned")


def test_item_id_is_safe():
    assert item_id(12, "billing") == "BL-12-billing"
    assert item_id(12, None) == "BL-12"
    odd = item_id(3, "Check in / Gate")
    assert odd.startswith("BL-3-check-in-gate-") and " " not in odd
    assert item_id(3, "Check in / Gate") != item_id(3, "check-in-gate")


# --- exports -----------------------------------------------------------------------------


def hostile_store(db):
    ids = make_store(db)
    db.execute("UPDATE themes SET custom_label = '=HYPERLINK(\"http://x\",\"click\")' WHERE id = ?", [ids["billing"]])
    db.execute("UPDATE segments SET text = '=cmd|'' /C calc''!A0 | pipes' WHERE id = (SELECT MIN(segment_id) FROM segment_touchpoints)")
    return ids


def test_csv_neutralises_formulas(db):
    hostile_store(db)
    text = render_text(build_backlog(db), "csv")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:3] == ["rank", "id", "status"] and "impact_nps" in header and "impact_nps_ci_low" in header
    titles = [r[header.index("title")] for r in rows[1:]]
    assert any(t.startswith("'=HYPERLINK") for t in titles)
    for r in rows[1:]:
        for cell in r:
            assert not cell.startswith(("=", "+", "@")), cell
            assert not (cell.startswith("-") and not cell.lstrip("-").replace(".", "").isdigit()), cell


def test_jira_csv_columns_and_neutralisation(db):
    ids = hostile_store(db)
    r = build_backlog(db)
    rows = list(csv.reader(io.StringIO(render_text(r, "jira"))))
    header = rows[0]
    assert header[:4] == ["Summary", "Issue Type", "Priority", "Description"]
    assert header.count("Labels") >= 2 and header[-1] == "Backlog ID"
    assert all(len(row) == len(header) for row in rows)
    first = dict(zip(header, rows[1]))
    assert first["Issue Type"] == "Task" and first["Priority"] == "Highest"
    labels = [v for h, v in zip(header, rows[1]) if h == "Labels" and v]
    assert "miner" in labels and first["Backlog ID"] in labels and all(" " not in x for x in labels)
    billing = next(dict(zip(header, row)) for row in rows[1:] if row[-1] == f"BL-{ids['billing']}")
    assert billing["Summary"].startswith("'=HYPERLINK")
    assert "Evidence (original languages):" in billing["Description"] and "[zh]" in billing["Description"]
    for row in rows[1:]:
        assert all(not c.startswith(("=", "+", "@")) for c in row)
    story = list(csv.reader(io.StringIO(render_text(r, "jira", issue_type="Story"))))
    assert {row[1] for row in story[1:]} == {"Story"}


def test_jira_priority_by_rank():
    assert [jira_priority(i, 10) for i in range(10)] == ["Highest", "High", "High", "Medium", "Medium", "Medium", "Medium",
                                                         "Low", "Low", "Lowest"]
    assert jira_priority(0, 1) == "Highest"


def test_markdown(db):
    ids = hostile_store(db)
    r = build_backlog(db)
    md = markdown(r)
    assert md.startswith("# Product backlog (data ends 2026-08-23)")
    assert "| # | ID | Priority |" in md
    assert f"`BL-{ids['billing']}`" in md and "**Priority" in md and "Impact on NPS" in md
    assert "> [zh] [zh] charged twice" in md  # quotes as block quotes, in their language
    table = [line for line in md.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert all(line.count(" | ") == 9 for line in table)  # the pipe in the hostile text is escaped in table cells
    assert "&lt;" not in md and "&amp;" not in md


def test_json_export(db):
    make_store(db)
    data = json.loads(render_text(build_backlog(db), "json"))
    assert {"as_of", "weights", "scores", "items"} <= set(data)
    item = data["items"][0]
    assert {"id", "priority", "breakdown", "explanation", "quotes", "trend", "impacts", "first_seen", "last_seen"} <= set(item)


def test_unknown_format(db):
    with pytest.raises(UsageError, match="E987"):
        render_text(build_backlog(db), "xlsx")


def test_a_theme_of_kind_praise_never_makes_an_item(db):
    # Half negative (over --min-negative) but named as praise by its concept: kept out of the work list.
    b = StoreBuilder(db)
    with transaction(db):
        complaint, praise = b.theme("late delivery"), b.theme("fast fix")
        db.execute("UPDATE themes SET kind = 'praise' WHERE id = ?", [praise])
        for d in range(10):
            day = (START + timedelta(days=d)).isoformat()
            b.doc(day, [{"theme": complaint, "sentiment": "neg", "text": f"still waiting {d}"}])
            b.doc(day, [{"theme": praise, "sentiment": "neg" if d % 2 else "pos", "text": f"fixed it, slowly {d}"}])
    themes = {i["theme_id"] for i in build_backlog(db)["items"]}
    assert complaint in themes and praise not in themes



def test_a_status_set_on_an_item_of_an_earlier_version_carries_to_its_theme(db):
    # Earlier versions made one item per (theme, touchpoint): BL-<theme>-billing. Its status
    # goes, once, to the theme's item; the old row points at it.
    ids = make_store(db)
    now = "2026-09-01T00:00:00Z"
    db.execute("INSERT INTO backlog_items (id, theme_id, touchpoint, title, status, status_note, created_at, updated_at) "
               "VALUES (?, ?, 'billing', 'double charge — Billing', 'planned', 'JIRA-7', ?, ?)", [f"BL-{ids['billing']}-billing", ids["billing"], now, now])
    item = by_id(build_backlog(db))[f"BL-{ids['billing']}"]
    assert item["status"] == "planned" and item["status_note"] == "JIRA-7"
    assert resolve_item(db, f"BL-{ids['billing']}-billing")["id"] == f"BL-{ids['billing']}"


def test_venting_and_thanks_are_set_aside_not_ranked(db):
    ids = make_store(db)
    b = StoreBuilder(db)
    with transaction(db):
        rant = b.theme("Generally poor service")
        db.execute("UPDATE themes SET kind = 'venting' WHERE id = ?", [rant])
        db.execute("UPDATE themes SET kind = 'praise' WHERE id = ?", [ids["praise"]])
        for d in range(20):
            b.doc((START + timedelta(days=d)).isoformat(), [{"theme": rant, "sentiment": "neg", "text": f"worst company ever {d}"}])
    r = build_backlog(db)
    assert rant not in {i["theme_id"] for i in r["items"]}
    assert [t["theme_id"] for t in r["set_aside"]["venting"]] == [rant] and r["set_aside"]["venting"][0]["documents"] == 20
    assert [t["theme_id"] for t in r["set_aside"]["thanks"]] == [ids["praise"]]
    table = render_text(r, "table")
    assert "Venting without a cause, not ranked (1 theme(s), 20 documents): Generally poor service" in table
    assert "Thanks and praise, not ranked" in table and "## Set aside" in render_text(r, "md")


def test_growth_needs_enough_documents_to_be_shown_or_counted(db):
    # 1 mention in the first 8 weeks, 3 in the last 4: "+800%" from 4 documents is noise.
    b = StoreBuilder(db)
    with transaction(db):
        small = b.theme("rare thing")
        for d in range(84):
            day = (START + timedelta(days=d)).isoformat()
            b.doc(day, [{"theme": small, "sentiment": "neg", "text": f"x {d}"}] if d in (5, 80, 81, 82) else [])
            b.doc(day, [])
    r = build_backlog(db, min_documents=1)
    item = by_id(r)[f"BL-{small}"]
    assert item["trend"]["few"] and item["growth"] is None and item["breakdown"]["growth"]["component"] == 0.0
    assert " few " in render_text(r, "table")
