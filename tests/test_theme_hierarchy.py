"""Themes among documents, in two levels, end to end with the fake encoder: one row per
document, themes and sub-themes that follow broad and fine topics, the tree, sentences that
keep their document's theme or clearly raise another, an unchanged store not refitted, a new
label language relabelled without a refit, the CLI (tree, sub-theme edits, bad options), the
export's theme order, new documents assigned, splits and merges that keep the tree
consistent, and the stored state's round trip. Plus the pure pieces (merging sub-themes,
placing sentences) on synthetic vectors.

One store is built per module (about 2 s) and copied for each test."""

from __future__ import annotations

import io
import json
import random
import shutil
from collections import Counter, defaultdict

import numpy as np
import pytest

from miner.cli.main import app
from miner.errors import UsageError
from miner.ingest.pipeline import IngestOptions, ingest
from miner.nlp.encoders.fake import FakeEncoder
from miner.segments.vectors import load_documents
from miner.store import get_setting, open_db
from miner.themes import discover as discover_module
from miner.themes import manage
from miner.themes.assign import assign_themes_to_new_segments
from miner.themes.discover import discover
from miner.themes.fit import FitResult, ThemeParams, fit_themes, merge_subthemes
from miner.concepts.lexicon import load_lexicon
from miner.themes.placement import SEGMENT_MARGIN, Centroids, place_documents, place_segments, theme_centroids
from miner.themes.state import ThemeState

# Three broad complaints, each in two kinds: a document is three of its broad topic's words
# and three of its kind's.
BROAD = {
    "delivery": (["delivery", "parcel", "courier"], {
        "late": ["late", "waiting", "days", "delayed", "slow"],
        "damaged": ["broken", "damaged", "crushed", "smashed", "torn"]}),
    "account": (["account", "login", "password"], {
        "locked": ["locked", "blocked", "suspended", "frozen", "disabled"],
        "reset": ["reset", "email", "link", "code", "forgot"]}),
    "billing": (["bill", "invoice", "charge"], {
        "double": ["twice", "double", "duplicate", "again", "repeated"],
        "high": ["expensive", "increase", "higher", "tariff", "surcharge"]}),
}
# Every fitted document gets a theme (no outliers), so the two documents below have one.
PARAMS = ThemeParams(min_cluster_size=8, max_outliers=0.0)
CLI_PARAMS = ["--min-cluster-size", "8", "--max-outliers", "0"]  # the same options from the command line
TWO_TOPICS = "Account login password locked blocked suspended frozen. Bill invoice charge twice double."
CONTENT_FREE = "Courier parcel delivery late waiting days delayed. Still the same."


def topic_rows(n=25, seed=0, start=0):
    rng = random.Random(seed)
    rows = []
    for broad, (common, kinds) in BROAD.items():
        for kind, words in kinds.items():
            for i in range(start, start + n):
                rows.append({"id": f"{broad}-{kind}-{i}", "text": " ".join(rng.sample(common, 3) + rng.sample(words, 3))})
    return rows


ROWS = topic_rows() + [{"id": "two-topics", "text": TWO_TOPICS}, {"id": "content-free", "text": CONTENT_FREE}]


def ingest_rows(db, folder, rows, name="in.jsonl"):
    path = folder / name
    path.write_text("\n".join(json.dumps({"id": r["id"], "text": r["text"]}) for r in rows), encoding="utf-8")
    ingest(db, [str(path)], IngestOptions(external_id="id", workers=0))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hierarchy")
    db = open_db(str(folder / "store.db"))
    ingest_rows(db, folder, ROWS)
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS)
    db.conn.close()
    return folder / "store.db", summary


@pytest.fixture
def store(built, tmp_path):
    """(db, path) of a fresh copy of the themed store."""
    path = tmp_path / "store.db"
    shutil.copy(built[0], path)
    return open_db(str(path)), path


@pytest.fixture
def cli(store, runner, monkeypatch):
    monkeypatch.setenv("MINER_ENCODER", "fake")
    db, path = store

    def invoke(*args):
        return runner.invoke(app, [*args, "--db", str(path)])

    return db, invoke


# -- reading the store ----------------------------------------------------------------------------
def doc_themes(db) -> dict[str, tuple]:
    """external id -> (theme, sub-theme) from document_themes."""
    return {ext: (t, u) for ext, t, u in db.execute(
        "SELECT d.external_id, dt.theme_id, dt.subtheme_id FROM document_themes dt JOIN documents d ON d.id = dt.document_id")}


def seg_themes(db) -> dict[str, list[tuple]]:
    """external id -> [(sentence text, theme, sub-theme, score)] in sentence order."""
    out = defaultdict(list)
    for ext, text, t, u, sc in db.execute(
        "SELECT d.external_id, s.text, st.theme_id, st.subtheme_id, st.score FROM segment_themes st "
        "JOIN segments s ON s.id = st.segment_id JOIN documents d ON d.id = s.document_id ORDER BY d.id, s.seg_index"):
        out[ext].append((text, t, u, sc))
    return out


def table(db, name: str) -> list[tuple]:
    return db.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()


def runs(db) -> int:
    return db.execute("SELECT COUNT(*) FROM theme_runs").fetchone()[0]


def live(db, level: int) -> dict[int, dict]:
    return {r["id"]: r for r in db.query("SELECT * FROM themes WHERE level = ? AND status IN ('active', 'archived')", [level])}


def main_theme(db, prefix: str) -> int:
    """The theme holding most documents whose external id starts with `prefix`."""
    votes = Counter(t for ext, (t, _) in doc_themes(db).items() if ext.startswith(prefix))
    return votes.most_common(1)[0][0]


def children(db, theme: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT id FROM themes WHERE level = 2 AND parent_id = ? AND status IN ('active', 'archived')", [theme])}


def assert_tree_consistent(db):
    """Every document's sub-theme is a child of its theme; every sentence's too; no row points
    at a theme that is no longer live."""
    level1, level2 = live(db, 1), live(db, 2)
    for t, u in db.execute("SELECT theme_id, subtheme_id FROM document_themes"):
        assert t is None or t in level1, t
        assert u is None or (u in level2 and level2[u]["parent_id"] == t), (t, u)
    for seg, t, u in db.execute("SELECT segment_id, theme_id, subtheme_id FROM segment_themes"):
        assert t is None or t in level1, (seg, t)
        assert u is None or (u in level2 and level2[u]["parent_id"] == t), (seg, t, u)
    for u, row in level2.items():
        assert row["parent_id"] in level1, row


# -- discovery -------------------------------------------------------------------------------------
def test_documents_are_the_unit_one_row_each(store, built):
    db, _ = store
    informative = db.execute(
        "SELECT COUNT(DISTINCT d.id) FROM documents d JOIN segments s ON s.document_id = d.id "
        "WHERE d.informative = 1 AND s.informative = 1").fetchone()[0]
    assert informative == len(ROWS)
    rows = db.execute("SELECT document_id, theme_id, method, run_id, score FROM document_themes").fetchall()
    assert len(rows) == len({r[0] for r in rows}) == informative == built[1].documents
    assert all(t is not None for _, t, _, _, _ in rows)  # no outliers with max_outliers=0
    assert {m for _, _, m, _, _ in rows} <= {"cluster", "outlier", "assigned"}
    assert {r for _, _, _, r, _ in rows} == {built[1].run_id}
    assert db.execute("SELECT COUNT(*) FROM segment_themes").fetchone()[0] == built[1].segments == len(ROWS) + 2


def test_themes_follow_broad_topics_and_subthemes_finer_ones(store, built):
    db, _ = store
    by_doc = doc_themes(db)
    level1, level2 = live(db, 1), live(db, 2)
    assert len(level1) == 3 == built[1].themes
    assert len(level2) == built[1].subthemes >= 4
    for broad in BROAD:  # every broad complaint is one theme, whatever its kinds
        theme = main_theme(db, broad + "-")
        mine = [t for ext, (t, _) in by_doc.items() if ext.startswith(broad + "-")]
        assert mine.count(theme) == len(mine) == 50, broad
    assert len({main_theme(db, b + "-") for b in BROAD}) == 3
    kinds = defaultdict(Counter)  # sub-theme -> the kinds of its documents
    for ext, (_, u) in by_doc.items():
        if u is not None and ext.count("-") == 2:
            kinds[u][ext.rsplit("-", 1)[0]] += 1
    for u, counts in kinds.items():  # a sub-theme never mixes two kinds of one complaint
        assert counts.most_common(1)[0][1] / sum(counts.values()) >= 0.95, (u, counts)
    assert set(kinds) == set(level2)
    assert sum(1 for t in level1 if children(db, t)) >= 2


def test_the_tree(store):
    db, _ = store
    level1, level2 = live(db, 1), live(db, 2)
    assert all(r["parent_id"] is None for r in level1.values())
    for u, row in level2.items():
        assert len(children(db, row["parent_id"])) >= 2, row  # a theme of one sub-theme shows none
    assert_tree_consistent(db)
    for t, row in level1.items():
        docs = db.execute("SELECT COUNT(*) FROM document_themes WHERE theme_id = ?", [t]).fetchone()[0]
        assert row["documents"] == docs
        subs = children(db, t)
        if subs:  # the sub-themes share out all their theme's documents
            assert sum(level2[u]["documents"] for u in subs) == docs
            assert db.execute("SELECT COUNT(*) FROM document_themes WHERE theme_id = ? AND subtheme_id IS NULL", [t]).fetchone()[0] == 0
        else:
            assert db.execute("SELECT COUNT(*) FROM document_themes WHERE theme_id = ? AND subtheme_id IS NOT NULL", [t]).fetchone()[0] == 0
    for u, row in level2.items():
        assert row["documents"] == db.execute("SELECT COUNT(*) FROM document_themes WHERE subtheme_id = ?", [u]).fetchone()[0]
    lexicon = load_lexicon()
    for row in [*level1.values(), *level2.values()]:
        assert row["label_lang"] == "en" and 0 <= row["label_confidence"] <= 1 and row["kind"] in ("complaint", "praise", "request", "venting")
        assert row["label"].split(" (")[0] == lexicon.label(row["concept"], "en")
    labels = [r["label"] for r in level1.values()]
    assert len(set(labels)) == len(labels)
    for t in level1:  # sub-themes of one theme are named apart
        sub_labels = [level2[u]["label"] for u in children(db, t)]
        assert len(set(sub_labels)) == len(sub_labels)


def test_sentences_keep_their_documents_theme_unless_they_clearly_raise_another(store):
    db, _ = store
    by_doc, by_seg = doc_themes(db), seg_themes(db)
    account, billing, delivery = (main_theme(db, b + "-") for b in ("account", "billing", "delivery"))
    for ext, sentences in by_seg.items():
        if ext != "two-topics":
            assert all((t, u) == by_doc[ext] for _, t, u, _ in sentences), ext
    # A document about a locked account that also mentions a double charge: its theme is the
    # account's, and its billing sentence raises the billing theme on its own.
    assert by_doc["two-topics"][0] == account
    (first, t1, u1, _), (second, t2, u2, s2) = by_seg["two-topics"]
    assert first.startswith("Account") and t1 == account and u1 == by_doc["two-topics"][1]
    assert second.startswith("Bill") and t2 == billing
    assert u2 is None if not children(db, billing) else u2 in children(db, billing)
    state = ThemeState.load(db)
    assert s2 >= state.segment_threshold
    # A sentence with no content of its own stays with its document, though on its own it
    # matches its theme far less than any document does.
    assert by_doc["content-free"][0] == delivery
    (_, t1, _, _), (text, t2, u2, s2) = by_seg["content-free"]
    assert text == "Still the same." and (t1, t2) == (delivery, delivery) and u2 == by_doc["content-free"][1]
    assert s2 < state.threshold


def test_an_unchanged_store_is_not_refitted(store, monkeypatch):
    db, _ = store
    before = {name: table(db, name) for name in ("themes", "document_themes", "segment_themes", "theme_state", "theme_runs")}

    def boom(*args, **kwargs):
        raise AssertionError("refitted an unchanged store")

    monkeypatch.setattr(discover_module, "_cluster", boom)
    monkeypatch.setattr(discover_module, "load_lexicon", boom)  # not even the lexicon is parsed
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS)
    assert summary.unchanged and summary.relabelled == 0
    assert (summary.themes, summary.subthemes, summary.documents, summary.label_lang) == (3, len(live(db, 2)), len(ROWS), "en")
    assert summary.run_id == db.execute("SELECT MAX(id) FROM theme_runs").fetchone()[0]
    assert {name: table(db, name) for name in before} == before


def test_changes_refit(store, tmp_path):
    db, _ = store
    n = runs(db)
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS, force=True)
    assert not summary.unchanged and runs(db) == n + 1 and summary.themes == 3
    summary = discover(db, encoder=FakeEncoder(), params=ThemeParams(min_cluster_size=8, max_outliers=0.0, min_size=4))
    assert not summary.unchanged and runs(db) == n + 2  # other options
    ingest_rows(db, tmp_path, [{"id": "new-one", "text": "bill invoice charge expensive increase higher"}], "more.jsonl")
    summary = discover(db, encoder=FakeEncoder(), params=ThemeParams(min_cluster_size=8, max_outliers=0.0, min_size=4))
    assert not summary.unchanged and runs(db) == n + 3  # another document
    assert doc_themes(db)["new-one"][0] == main_theme(db, "billing-")
    assert discover(db, encoder=FakeEncoder(), params=ThemeParams(min_cluster_size=8, max_outliers=0.0, min_size=4)).unchanged


def test_a_new_label_language_relabels_without_a_refit(store, monkeypatch):
    db, _ = store
    account = main_theme(db, "account-")
    manage.rename(db, account, "Login trouble")
    concepts = {r["id"]: r["concept"] for r in db.query("SELECT id, concept FROM themes")}
    placed = (table(db, "document_themes"), table(db, "segment_themes"))
    n = runs(db)
    monkeypatch.setattr(discover_module, "_cluster", lambda *a, **k: pytest.fail("refitted to relabel"))
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS, label_lang="de")
    assert not summary.unchanged and summary.relabelled == len(live(db, 1)) + len(live(db, 2)) and summary.label_lang == "de"
    assert runs(db) == n and (table(db, "document_themes"), table(db, "segment_themes")) == placed
    lexicon = load_lexicon()
    rows = list(db.query("SELECT * FROM themes WHERE status = 'active'"))
    for r in rows:
        assert r["label_lang"] == "de" and r["concept"] == concepts[r["id"]]
        assert r["label"].split(" (")[0] == lexicon.label(r["concept"], "de") != lexicon.label(r["concept"], "en")
    assert get_setting(db, "label_lang") == "de" and ThemeState.load(db).label_lang == "de"
    assert db.execute("SELECT custom_label FROM themes WHERE id = ?", [account]).fetchone()[0] == "Login trouble"
    listed = {t["id"]: t for t in manage.list_themes(db)["themes"]}
    assert listed[account]["label"] == "Login trouble" and listed[account]["label_lang"] == "de"
    # The store remembers the language: a plain run later is unchanged, and stays German.
    again = discover(db, encoder=FakeEncoder(), params=PARAMS)
    assert again.unchanged and again.label_lang == "de"
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS, label_lang="zh")
    assert summary.label_lang == "zh-Hans" and get_setting(db, "label_lang") == "zh-Hans"
    for r in db.query("SELECT * FROM themes WHERE status = 'active'"):
        assert r["label_lang"] == "zh-Hans" and r["label"].split(" (")[0] == lexicon.label(r["concept"], "zh-Hans")
    assert runs(db) == n
    with pytest.raises(UsageError, match="E816"):
        discover(db, encoder=FakeEncoder(), params=PARAMS, label_lang="xx")
    assert get_setting(db, "label_lang") == "zh-Hans"


def test_a_label_language_on_a_refit_labels_in_it(store):
    db, _ = store
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS, label_lang="fr", force=True)
    assert summary.label_lang == "fr" and get_setting(db, "label_lang") == "fr"
    assert {r[0] for r in db.execute("SELECT label_lang FROM themes WHERE status = 'active'")} == {"fr"}


# -- the CLI ---------------------------------------------------------------------------------------
def test_cli_tree(cli):
    db, invoke = cli
    out = invoke("themes", "list", "--tree", "--json")
    assert out.exit_code == 0, out.output
    themes = json.loads(out.stdout)["themes"]
    assert {t["id"] for t in themes} == set(live(db, 1))
    kids = [c for t in themes for c in t["children"]]
    assert {c["id"] for c in kids} == set(live(db, 2))
    for t in themes:
        assert t["level"] == 1 and t["parent"] is None
        for key in ("label", "label_lang", "label_confidence", "kind", "concept", "keywords", "languages"):
            assert key in t, key
        assert t["label_lang"] == "en" and t["languages"] == {"en": t["documents"]} and list(t["keywords"]) == ["en"]
        for c in t["children"]:
            assert c["parent"] == t["id"] and c["level"] == 2 and c["label_lang"] == "en" and c["kind"]
            assert "children" not in c
    flat = json.loads(invoke("themes", "list", "--json").stdout)["themes"]
    assert all("children" not in t for t in flat) and [t["id"] for t in flat] == [t["id"] for t in themes]
    text = invoke("themes", "list", "--tree")
    assert text.exit_code == 0 and text.stdout.count("└") == len(kids)
    parent = next(t for t in themes if t["children"])
    shown = json.loads(invoke("themes", "show", str(parent["id"]), "--json").stdout)
    assert {c["id"] for c in shown["children"]} == {c["id"] for c in parent["children"]}
    sub = json.loads(invoke("themes", "show", str(parent["children"][0]["id"]), "--json").stdout)
    assert sub["level"] == 2 and sub["parent"] == parent["id"] and sub["children"] == []


def test_cli_edits_of_a_subtheme_are_refused(cli):
    db, invoke = cli
    sub = next(iter(live(db, 2)))
    parent = live(db, 2)[sub]["parent_id"]
    other = next(t for t in live(db, 1) if t != parent)
    before = table(db, "themes"), table(db, "document_themes"), table(db, "theme_edits")
    for args in (["merge", str(sub), "--into", str(other)], ["merge", str(other), "--into", str(sub)], ["split", str(sub)],
                 ["archive", str(sub)], ["pin", str(sub)]):
        out = invoke("themes", *args)
        assert out.exit_code == 2, (args, out.output)
        assert "E818" in out.stderr and f"theme {parent}" in out.stderr and "Traceback" not in out.output + out.stderr, args
    assert (table(db, "themes"), table(db, "document_themes"), table(db, "theme_edits")) == before
    assert invoke("themes", "rename", str(sub), "Crushed boxes").exit_code == 0  # renaming a sub-theme is fine
    assert db.execute("SELECT custom_label FROM themes WHERE id = ?", [sub]).fetchone()[0] == "Crushed boxes"


def test_cli_discover_bad_label_language(cli):
    db, invoke = cli
    before = table(db, "themes")
    out = invoke("themes", "discover", "--label-lang", "xx")
    assert out.exit_code == 2 and "E816" in out.stderr and "zh-Hant" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # one line of error (and its hint)
    assert table(db, "themes") == before


def test_cli_discover_broken_lexicon_leaves_the_store_alone(cli, tmp_path):
    db, invoke = cli
    bad = tmp_path / "bad.yaml"
    bad.write_text("concepts:\n  kitchen_too_small:\n    en: [Kitchen too small]\n", encoding="utf-8")
    before = {name: table(db, name) for name in ("themes", "document_themes", "segment_themes", "theme_runs", "settings")}
    out = invoke("themes", "discover", "--lexicon", str(bad), *CLI_PARAMS)
    assert out.exit_code == 1, out.output
    assert "E817" in out.stderr and "bad.yaml:2" in out.stderr and "Traceback" not in out.stderr
    assert {name: table(db, name) for name in before} == before


def test_cli_label_language_relabels_and_a_user_lexicon_names_in_a_new_language(cli, tmp_path):
    db, invoke = cli
    n = runs(db)
    out = invoke("themes", "discover", "--label-lang", "de", "--json", *CLI_PARAMS)
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["relabelled"] > 0 and result["label_lang"] == "de" and not result["unchanged"] and runs(db) == n
    listed = json.loads(invoke("themes", "list", "--tree", "--json").stdout)["themes"]
    assert all(t["label_lang"] == "de" and all(c["label_lang"] == "de" for c in t["children"]) for t in listed)
    # A user's lexicon with Dutch phrases for every concept the themes use: Dutch labels.
    concepts = {r[0] for r in db.execute("SELECT concept FROM themes WHERE status = 'active'")}
    lexicon = tmp_path / "nl.yaml"
    lexicon.write_text("concepts:\n" + "".join(f"  {c}:\n    nl: [\"NL {c}\"]\n" for c in sorted(concepts)), encoding="utf-8")
    out = invoke("themes", "discover", "--lexicon", str(lexicon), "--label-lang", "nl", "--json", *CLI_PARAMS)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["label_lang"] == "nl"
    for r in db.query("SELECT label, label_lang, concept FROM themes WHERE status = 'active'"):
        assert r["label_lang"] == "nl" and r["label"].split(" (")[0] == f"NL {r['concept']}", r


def test_export_documents_lists_the_main_theme_first(cli):
    db, invoke = cli
    out = invoke("export", "documents")
    assert out.exit_code == 0, out.output
    records = {r["external_id"]: r for r in map(json.loads, out.stdout.splitlines())}
    by_doc = doc_themes(db)
    assert set(records) == set(by_doc)
    for ext, (t, u) in by_doc.items():
        record = records[ext]
        assert record["themes"][0]["id"] == t, (ext, record["themes"])
        assert record["subtheme_id"] == u
    account, billing = main_theme(db, "account-"), main_theme(db, "billing-")
    assert [x["id"] for x in records["two-topics"]["themes"]] == [account, billing]
    assert all(x["segments"] == 1 for x in records["two-topics"]["themes"])


# -- later documents ---------------------------------------------------------------------------------
def test_new_documents_get_the_nearest_subtheme_and_its_theme(store, tmp_path):
    db, _ = store
    before = table(db, "document_themes")
    billing, delivery = main_theme(db, "billing-"), main_theme(db, "delivery-")
    docs_before = db.execute("SELECT documents FROM themes WHERE id = ?", [billing]).fetchone()[0]
    n = runs(db)
    new = topic_rows(n=2, seed=5, start=100)
    new.append({"id": "new-two-topics", "text": "Parcel courier delivery late waiting days delayed. Bill invoice charge twice double."})
    ingest_rows(db, tmp_path, new, "new.jsonl")
    result = assign_themes_to_new_segments(db, FakeEncoder())
    assert result["assigned"] == len(new) and result["outliers"] == 0 and runs(db) == n
    by_doc, by_seg = doc_themes(db), seg_themes(db)
    for r in new[:-1]:
        broad, kind = r["id"].split("-")[:2]
        t, u = by_doc[r["id"]]
        assert t == main_theme(db, broad + "-"), r
        assert (u is None) == (not children(db, t))
        if u is not None:  # the sub-theme of most documents of the same kind
            kind_subs = Counter(v for ext, (_, v) in by_doc.items() if ext.startswith(f"{broad}-{kind}-") and int(ext.rsplit("-", 1)[1]) < 100)
            assert u in kind_subs, (r, u, kind_subs)
        assert [(x[1], x[2]) for x in by_seg[r["id"]]] == [(t, u)]
    assert by_doc["new-two-topics"][0] == delivery
    assert [x[1] for x in by_seg["new-two-topics"]] == [delivery, billing]
    assert set(before) <= set(table(db, "document_themes"))  # earlier documents untouched
    assert {m for (m,) in db.execute("SELECT method FROM document_themes WHERE document_id IN "
                                     "(SELECT id FROM documents WHERE external_id LIKE '%-100' OR external_id LIKE 'new-%')")} == {"assigned"}
    assert db.execute("SELECT documents FROM themes WHERE id = ?", [billing]).fetchone()[0] == docs_before + 4
    assert_tree_consistent(db)
    assert assign_themes_to_new_segments(db, FakeEncoder()) == {"assigned": 0, "outliers": 0, "state": True}


# -- edits -------------------------------------------------------------------------------------------
def test_split_of_a_theme_with_subthemes_keeps_the_tree(store):
    db, _ = store
    billing = main_theme(db, "billing-")
    subs = children(db, billing)
    assert len(subs) >= 2
    docs_in = {ext for ext, (t, _) in doc_themes(db).items() if t == billing}
    segs_in = db.execute("SELECT COUNT(*) FROM segment_themes WHERE theme_id = ?", [billing]).fetchone()[0]
    result = manage.split(db, billing, 2, encoder=FakeEncoder())
    kids = result["children"]
    rows = {r["id"]: r for r in db.query("SELECT * FROM themes")}
    assert rows[billing]["status"] == "split"
    for c in kids:
        assert rows[c]["level"] == 1 and rows[c]["parent_id"] is None and rows[c]["status"] == "active"
    for u in subs:  # the sub-themes go to a child
        assert rows[u]["parent_id"] in kids and rows[u]["level"] == 2
    after = doc_themes(db)
    assert {ext for ext, (t, _) in after.items() if t in kids} == docs_in
    assert sorted(result["sizes"]) == sorted(Counter(after[ext][0] for ext in docs_in).values())
    # Every row that named the split theme names a child now: the documents' sentences, and the
    # sentence of another document that raised it.
    assert db.execute("SELECT COUNT(*) FROM document_themes WHERE theme_id = ?", [billing]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM segment_themes WHERE theme_id = ?", [billing]).fetchone()[0] == 0
    assert db.execute(f"SELECT COUNT(*) FROM segment_themes WHERE theme_id IN ({kids[0]}, {kids[1]})").fetchone()[0] == segs_in
    for ext, sentences in seg_themes(db).items():
        if ext in docs_in:
            assert all(t == after[ext][0] for _, t, _, _ in sentences), ext
    assert seg_themes(db)["two-topics"][1][1] in kids
    assert_tree_consistent(db)
    listed = manage.list_themes(db, tree=True)["themes"]
    assert {t["id"] for t in listed} == (set(live(db, 1)))
    state = ThemeState.load(db)
    assert billing not in state.theme_ids.tolist() and set(kids) <= set(state.theme_ids.tolist())


def test_merge_of_themes_with_subthemes_keeps_the_tree(store):
    db, _ = store
    account, billing = main_theme(db, "account-"), main_theme(db, "billing-")
    subs = children(db, account) | children(db, billing)
    manage.merge(db, [billing], into=account)
    assert children(db, account) == subs
    assert db.execute("SELECT COUNT(*) FROM document_themes WHERE theme_id = ?", [billing]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM segment_themes WHERE theme_id = ?", [billing]).fetchone()[0] == 0
    # The two-topic document's sentences were in the two merged themes: both in one now.
    assert {x[1] for x in seg_themes(db)["two-topics"]} == {account}
    assert_tree_consistent(db)
    listed = {t["id"]: t for t in manage.list_themes(db, tree=True)["themes"]}
    assert billing not in listed and {c["id"] for c in listed[account]["children"]} == subs
    assert listed[account]["documents"] == 100 + 1  # both complaints, and the document that raises both
    assert listed[account]["languages"] == {"en": 101}  # counted now, not as stored by discovery
    with pytest.raises(UsageError, match="E818"):
        manage.merge(db, [next(iter(subs))], into=main_theme(db, "delivery-"))


def test_state_round_trip(store):
    db, _ = store
    for key, blob in db.execute("SELECT key, value FROM theme_state WHERE key != 'meta'"):
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files), key
    state = ThemeState.load(db)
    assert state.concepts is not None and state.encoder == "fake-32" and state.label_lang == "en"
    assert set(state.theme_centroid_ids.tolist()) == set(state.theme_ids.tolist()) == set(live(db, 1))
    assert set(state.sub_ids[state.sub_ids >= 0].tolist()) == set(live(db, 2))
    level2 = live(db, 2)
    for u, t in zip(state.sub_ids.tolist(), state.theme_ids.tolist()):
        assert u < 0 or level2[u]["parent_id"] == t
    state.save(db)
    again = ThemeState.load(db)
    for name in ("centroids", "sub_ids", "theme_ids", "theme_centroids", "theme_centroid_ids"):
        assert np.array_equal(getattr(again, name), getattr(state, name)), name
    for name in ("means", "present", "lang_means", "neutral", "proj", "ref"):
        assert np.array_equal(getattr(again.concepts, name), getattr(state.concepts, name)), name
    assert (again.threshold, again.core_threshold, again.segment_threshold, again.params) == (
        state.threshold, state.core_threshold, state.segment_threshold, state.params)
    # The loaded state places every document where discovery did.
    docs, _ = load_documents(db, FakeEncoder())
    c = Centroids(again.centroids, again.sub_ids, again.theme_ids, again.theme_centroids, again.theme_centroid_ids)
    placed = place_documents(again.space(docs.vectors, docs.langs), c, again.threshold, again.core_threshold)
    stored = dict((d, (t, u)) for d, t, u in db.execute("SELECT document_id, theme_id, subtheme_id FROM document_themes"))
    got = {int(d): (int(t), None if u < 0 else int(u)) for d, t, u in zip(docs.ids, placed.theme, placed.sub)}
    assert got == stored


def test_a_state_of_an_older_version_loads_as_none(store):
    db, _ = store
    meta = json.loads(db.execute("SELECT value FROM theme_state WHERE key = 'meta'").fetchone()[0])
    db.execute("UPDATE theme_state SET value = ? WHERE key = 'meta'", [json.dumps({**meta, "version": 1}).encode()])
    assert ThemeState.load(db) is None
    assert not discover(db, encoder=FakeEncoder(), params=PARAMS, force=True).unchanged
    assert ThemeState.load(db) is not None


# -- the pure pieces ---------------------------------------------------------------------------------
def unit(rows):
    X = np.asarray(rows, dtype=np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_merge_subthemes():
    C = unit([[1, 0.1, 0, 0], [1, -0.1, 0, 0], [0, 0, 1, 0.1], [0, 0, 1, -0.1], [0.3, 1, 0, 0]])
    sizes = np.array([10, 10, 10, 10, 10])
    assert merge_subthemes(C, sizes, ThemeParams()).tolist() == [0, 0, 1, 1, 2]
    assert merge_subthemes(C, sizes, ThemeParams(merge_distance=0.001)).tolist() == [0, 1, 2, 3, 4]
    assert merge_subthemes(C, sizes, ThemeParams(max_themes=2)).tolist() == [0, 0, 1, 1, 0]  # the fifth is nearest the first two
    # A theme under min_size documents joins its nearest theme.
    assert merge_subthemes(C, np.array([10, 10, 10, 10, 2]), ThemeParams(min_size=3)).tolist() == [0, 0, 1, 1, 0]
    assert merge_subthemes(C, np.array([10, 10, 10, 10, 3]), ThemeParams(min_size=3)).tolist() == [0, 0, 1, 1, 2]
    assert merge_subthemes(C[:1], sizes[:1], ThemeParams()).tolist() == [0]
    assert merge_subthemes(C[:0], sizes[:0], ThemeParams()).tolist() == []
    one = merge_subthemes(C, np.array([1, 1, 1, 1, 1]), ThemeParams(min_size=100))
    assert one.tolist() == [0] * 5  # everything too small: one theme, not an endless loop


def test_fit_result_theme_of():
    res = FitResult(np.array([0, 2, -1, 1]), np.array([0, 1, 1]), np.zeros(4), np.array(["cluster"] * 4, dtype=object),
                    np.zeros((3, 2)), 0.5, 0.5, None)
    assert res.theme_of.tolist() == [0, 1, -1, 1]
    empty = FitResult(np.array([-1, -1]), np.zeros(0, dtype=np.int64), np.zeros(2), np.array(["outlier"] * 2, dtype=object),
                      np.zeros((0, 2)), 1.0, 1.0, None)
    assert empty.theme_of.tolist() == [-1, -1]


def test_fit_two_levels_on_synthetic_vectors():
    rng = np.random.default_rng(0)
    broad = rng.standard_normal((3, 32)) * 3
    X, keys, truth = [], [], []
    for b in range(3):
        for s in range(2):
            centre = broad[b] + rng.standard_normal(32) * 1.2
            for i in range(30):
                X.append(centre + 0.4 * rng.standard_normal(32))
                keys.append(f"{b}-{s}-{i}")
                truth.append((b, s))
    X = unit(X)
    calls = []

    def project(Z):
        calls.append(Z.shape)
        return Z

    res = fit_themes(X, ["en"] * len(X), keys, ThemeParams(min_cluster_size=8), project=project)
    assert calls and calls[0][0] == len(X)  # the projection is applied to every row
    assert len(res.sub_centroids) == len(res.theme_of_sub) >= 4
    theme = res.theme_of
    for b in range(3):
        mine = theme[[i for i, (bb, _) in enumerate(truth) if bb == b]]
        assert Counter(mine.tolist()).most_common(1)[0][1] >= 0.9 * len(mine)
    assert len(set(theme[theme >= 0].tolist())) == 3
    assert np.array_equal(theme >= 0, res.sub_of >= 0)


def test_place_segments_rule():
    # Two themes: theme 10 with two sub-themes (1, 2), theme 20 on a centroid of its own.
    C = unit([[1, 0.2, 0], [1, -0.2, 0], [0, 0, 1]])
    c = Centroids(C, np.array([1, 2, -1]), np.array([10, 10, 20]), *theme_centroids(C, np.array([10, 10, 20]), np.ones(3)))
    threshold = 0.6
    Zs = unit([
        [0.05, 0, 1],  # clearly theme 20: leaves its document's theme 10
        [1, 0, 1.05],  # a little closer to 20 (0.72 vs 0.69), under the margin: stays
        [1, 0, 1.3],  # closer to 20 by more than the margin (0.79 vs 0.61): leaves
        [0.3, 1, 0.5],  # near nothing: stays
        [1, -0.3, 0],  # in a document of theme 20, clearly theme 10's second sub-theme
        [0.05, 0, 1],  # a document without a theme: the sentence may have one
    ])
    doc_theme = np.array([10, 10, 10, 10, 20, -1])
    doc_sub = np.array([1, 1, 1, 1, -1, -1])
    p = place_segments(Zs, doc_theme, doc_sub, c, threshold)
    assert p.theme.tolist() == [20, 10, 20, 10, 10, 20]
    assert p.sub.tolist() == [-1, 1, -1, 1, 2, -1]  # a moved sentence takes the nearest sub-theme of its new theme
    S = Zs @ c.T.T
    col = {int(t): i for i, t in enumerate(c.T_ids)}
    assert 0 < S[1, col[20]] - S[1, col[10]] < SEGMENT_MARGIN and S[1, col[20]] >= threshold  # the margin held it
    np.testing.assert_allclose(p.score, [S[i, col[t]] for i, t in enumerate(p.theme.tolist())], atol=1e-6)
    same = place_segments(Zs, doc_theme, doc_sub, c, 0.9999)  # nothing matches that well: all stay
    assert same.theme.tolist() == doc_theme.tolist() and same.sub.tolist() == doc_sub.tolist()
    assert place_segments(Zs[:0], doc_theme[:0], doc_sub[:0], c, threshold).theme.size == 0


@pytest.mark.parametrize("broad,parts", [("account", 3), ("delivery", 4)])
def test_split_across_subthemes_leaves_no_document_under_another_childs_subtheme(store, broad, parts):
    # k-means in more parts than the theme has sub-themes cuts through one: its documents in
    # the child it was not given keep their new theme and lose the sub-theme.
    db, _ = store
    theme = main_theme(db, broad + "-")
    before = doc_themes(db)
    kids = manage.split(db, theme, parts, encoder=FakeEncoder())["children"]
    after = doc_themes(db)
    assert {ext for ext, (t, _) in after.items() if t in kids} == {ext for ext, (t, _) in before.items() if t == theme}
    assert_tree_consistent(db)
    kept = [ext for ext, (t, u) in before.items() if t == theme and after[ext][1] == u]
    assert kept  # a document whose sub-theme went with it keeps it
