"""miner search: meaning fused with exact words, --like, filters, and the index beside the store
(incremental, rebuilt when stale or damaged). The fake encoder (hashed bag of words) stands in
for e5: texts sharing words are close."""

import json
import os

import numpy as np
import pytest

import miner.search.index as search_index
from miner.cli.main import app
from miner.errors import UsageError
from miner.ingest.pipeline import IngestOptions, ingest
from miner.nlp.encoders.fake import FakeEncoder
from miner.search import search_documents
from miner.search.index import open_index
from miner.search.query import search
from miner.search.scope import Scope
from miner.segments.vectors import load_documents
from miner.store import open_db

ROWS = [
    {"id": "r1", "text": "The refund never arrived after I returned the broken kettle.", "date": "2026-01-05", "channel": "email", "plan": "pro"},
    {"id": "r2", "text": "Still waiting for my refund, three weeks now, nobody answers.", "date": "2026-02-10", "channel": "chat", "plan": "basic"},
    {"id": "r3", "text": "Die Rückerstattung ist nach vier Wochen immer noch nicht da.", "date": "2026-03-01", "channel": "email", "plan": "pro"},
    {"id": "r4", "text": "退款一直没到账，客服也不回复。", "date": "2026-03-15", "channel": "chat", "plan": "basic"},
    {"id": "r5", "text": "The delivery driver threw the parcel over the fence.", "date": "2026-04-02", "channel": "email", "plan": "pro"},
    {"id": "r6", "text": "Le livreur a jeté le colis par-dessus la clôture.", "date": "2026-04-20", "channel": "survey", "plan": "basic"},
    {"id": "r7", "text": "My internet keeps dropping, the speed is far below what the contract promised.", "date": "2026-05-03", "channel": "survey", "plan": "pro"},
    {"id": "r8", "text": "My internet keeps dropping every evening and the speed is far below the contract.", "date": "2026-05-28", "channel": "chat", "plan": "basic"},
]


def _ingest(db, tmp_path, rows, name="in.jsonl"):
    rows = [{"date": None, "channel": None, **r} for r in rows]
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    ingest(db, [str(path)], IngestOptions(external_id="id", created_at="date", channel="channel", workers=0))


def _embed(db, encoder=None):
    """What `miner analyze` does for search: every document's vector in the cache."""
    load_documents(db, encoder or FakeEncoder())


@pytest.fixture
def store(tmp_path):
    db = open_db(tmp_path / "s.db")
    _ingest(db, tmp_path, ROWS)
    _embed(db)
    return db


def _ids(result):
    return [h["external_id"] for h in result.hits]


def test_meaning_and_exact_words_are_fused(store):
    result = search(store, "refund never arrived", encoder=FakeEncoder(), limit=3)
    assert result.mode == "meaning+words" and _ids(result)[0] == "r1"
    assert result.hits[0]["exact"] and result.hits[0]["similarity"] > 0.3
    assert result.query_lang == "en" and result.index["rows"] == 8
    # a word only one document holds, and that the meaning barely sees, still comes first
    assert _ids(search(store, "kettle", encoder=FakeEncoder(), limit=1)) == ["r1"]
    # CJK terms of two characters match as exact words too
    hit = search(store, "退款", encoder=FakeEncoder(), limit=8).hits
    assert any(h["external_id"] == "r4" and h["exact"] for h in hit)


def test_exact_keeps_todays_full_text_search(store):
    result = search(store, "refund", exact=True, encoder=FakeEncoder())
    assert result.mode == "words" and _ids(result) == ["r2", "r1"]  # newest first
    assert [h["id"] for h in search_documents(store, "refund")] == [2, 1]


def test_words_are_ranked_as_fts5_bm25_ranks_them(tmp_path):
    from miner.search import fulltext

    db = _graph_store(tmp_path, np.random.default_rng(2))
    _ingest(db, tmp_path, [{"id": "x1", "text": "REFUND refund refunded, a Refund for the router"},
                           {"id": "x2", "text": "Die Rückerstattung kam nie an, die RÜCKERSTATTUNG fehlt"},
                           {"id": "x3", "text": "Wo bleibt meine Rückerstattung für den Router?"}], name="x.jsonl")
    for query in ("refund", "refund late", "router price cold", "case", "rückerstattung", "refund refund", "ase"):
        terms = " AND ".join(fulltext._quote(t) for t in query.split())
        expected = [r[0] for r in db.execute(
            "SELECT d.id FROM documents_fts f JOIN documents d ON d.id = f.rowid WHERE documents_fts MATCH ? "
            "AND d.duplicate_of IS NULL AND d.informative = 1 ORDER BY bm25(documents_fts), d.id LIMIT 100", [terms])]
        assert len(expected) > 1 and fulltext.ranked_matches(db, query) == expected, query
    # more matches than the scan: the newest `scan` holding every word, still ranked
    found = fulltext.ranked_matches(db, "case", limit=300, scan=50)
    assert sorted(found) == list(range(251, 301)) and found != sorted(found)  # x1-x3 hold no "case"
    assert fulltext.ranked_matches(db, "refund zzzq") == []


def test_short_terms_are_sought_among_the_newest_documents_for_ranking(store, monkeypatch):
    from miner.search import fulltext

    assert fulltext.ranked_matches(store, "退款") == [4]  # two characters: LIKE, no trigram
    assert fulltext.ranked_matches(store, "refund my") == [2]
    monkeypatch.setattr(fulltext, "LIKE_SCAN", 4)  # documents 5-8 only
    assert fulltext.ranked_matches(store, "退款") == [] and fulltext.ranked_matches(store, "refund my") == []
    assert [h["id"] for h in search_documents(store, "退款")] == [4]  # --exact reads every document


def test_a_store_without_vectors_searches_words_and_never_loads_the_model(tmp_path):
    db = open_db(tmp_path / "plain.db")
    _ingest(db, tmp_path, ROWS)
    encoder = FakeEncoder()
    result = search(db, "refund", encoder=encoder)
    assert _ids(result) == ["r1", "r2"] and encoder.calls == 0
    assert result.index["pending"] == 8 and "miner analyze" in result.notes[0]


def test_filters(store, tmp_path):
    enc = FakeEncoder()
    _ingest(store, tmp_path, [{"id": "undated", "text": "Where is my refund, I returned the kettle.", "channel": "email"}], name="u.jsonl")
    _embed(store)
    assert "undated" in _ids(search(store, "refund kettle", encoder=enc, scope=Scope(channels=("email",))))
    assert "undated" not in _ids(search(store, "refund kettle", encoder=enc, scope=Scope(until="2030-01-01")))
    assert set(_ids(search(store, "refund", encoder=enc, scope=Scope(langs=("de", "zh"))))) == {"r3", "r4"}
    assert set(_ids(search(store, "refund", encoder=enc, scope=Scope(langs=("zh-Hans",))))) == {"r4"}
    assert set(_ids(search(store, "refund", encoder=enc, scope=Scope(channels=("chat",))))) == {"r2", "r4", "r8"}
    assert set(_ids(search(store, "refund", encoder=enc, scope=Scope(since="2026-03-01", until="2026-04-02")))) == {"r3", "r4", "r5"}
    assert set(_ids(search(store, "refund", encoder=enc, scope=Scope(fields=("meta.plan=pro",))))) == {"r1", "r3", "r5", "r7"}
    assert _ids(search(store, "refund", exact=True, encoder=enc, scope=Scope(channels=("email",)))) == ["r1", "undated"]


def test_theme_and_touchpoint_filters(store):
    store.execute("INSERT INTO themes (id, level, label, status, created_at, updated_at) "
                  "VALUES (7, 1, 'Refund not received', 'active', '2026-06-01', '2026-06-01')")
    store.execute("INSERT INTO document_themes (document_id, theme_id, method, run_id) VALUES (1, 7, 'cluster', 1), (3, 7, 'cluster', 1)")
    store.execute("INSERT INTO segment_themes (segment_id, theme_id, method, run_id) SELECT id, 7, 'assigned', 1 FROM segments WHERE document_id = 4")
    store.execute("INSERT INTO touchpoints (key, stage, label, taxonomy, taxonomy_sha256) VALUES ('delivery', 'receive', 'Delivery', 't', 'x')")
    store.execute("INSERT INTO segment_touchpoints (segment_id, touchpoint, confidence, rank, method) "
                  "SELECT id, 'delivery', 0.9, 1, 'prototype' FROM segments WHERE document_id IN (5, 6)")
    enc = FakeEncoder()
    result = search(store, "refund", encoder=enc, scope=Scope(theme=7))
    assert set(_ids(result)) == {"r1", "r3", "r4"}
    assert {h["theme"] for h in result.hits if h["external_id"] in ("r1", "r3")} == {"Refund not received"}
    assert set(_ids(search(store, "parcel", encoder=enc, scope=Scope(touchpoint="delivery")))) == {"r5", "r6"}
    with pytest.raises(UsageError, match="E505"):
        search(store, "refund", encoder=enc, scope=Scope(theme=99))
    with pytest.raises(UsageError, match=r"E506.*delivery"):
        search(store, "refund", encoder=enc, scope=Scope(touchpoint="billing"))


def test_like_finds_the_closest_documents(store):
    result = search(store, like=8, encoder=FakeEncoder(), limit=3)
    assert result.mode == "like" and _ids(result)[0] == "r7" and "r8" not in _ids(result)
    assert _ids(search(store, like=8, encoder=FakeEncoder(), scope=Scope(channels=("survey",)), limit=2)) == ["r7", "r6"]


def test_like_a_duplicate_uses_its_cached_vector(tmp_path):
    db = open_db(tmp_path / "d.db")
    long = "The technician never came for the installation and nobody called to say why, twice now."
    _ingest(db, tmp_path, [{"id": "a", "text": long}, {"id": "b", "text": long + "!"}, {"id": "c", "text": "Billing doubled this month."}])
    assert db.execute("SELECT duplicate_of FROM documents WHERE id = 2").fetchone()[0] == 1
    load_documents(db, FakeEncoder())
    from miner.nlp.cache import EmbeddingCache, embed_texts
    from miner.nlp.textprep import encoder_input
    text = db.execute("SELECT text FROM segments WHERE document_id = 2").fetchone()[0]
    embed_texts(FakeEncoder(), [encoder_input(text)], EmbeddingCache(db))
    assert _ids(search(db, like=2, encoder=FakeEncoder(), limit=1)) == ["a"]


def test_bad_input_is_one_coded_error(store):
    enc = FakeEncoder()
    cases = [
        (dict(text="  "), "E501"),
        (dict(text=None), "E501"),
        (dict(text="refund", limit=0), "E502"),
        (dict(text="refund", scope=Scope(since="2026-13-01")), "E503"),
        (dict(text="refund", scope=Scope(until="last week")), "E503"),
        (dict(text="refund", scope=Scope(since="2026-05-01", until="2026-04-01")), "E504"),
        (dict(like=999), "E507"),
        (dict(text="refund", like=1), "E508"),
        (dict(like=1, exact=True), "E508"),
        (dict(text="refund", scope=Scope(fields=("meta.nothing=1",))), "E962"),
    ]
    for kwargs, code in cases:
        text = kwargs.pop("text", None)
        with pytest.raises(UsageError, match=code):
            search(store, text, encoder=enc, **kwargs)


def test_like_without_vector(tmp_path):
    db = open_db(tmp_path / "n.db")
    _ingest(db, tmp_path, ROWS[:2])
    with pytest.raises(UsageError, match="E509"):
        search(db, like=1, encoder=FakeEncoder())


# ------------------------------------------------------------------ the index beside the store


def test_index_is_saved_beside_the_store_and_grows_incrementally(store, tmp_path):
    _, first = open_index(store, "fake-32", 32)
    folder = tmp_path / "s.db.search-index"
    assert first.rows == 8 and first.saved and first.folder == str(folder) and first.rebuilt == "meta.json is missing"
    names = {p.name for p in folder.iterdir()}
    assert names == {"meta.json", "lock", "documents.i64", "languages.i16", "days.i32", "channels.i16", "vectors.2.f16", "norms.2.f32",
                     "means.2.npy"}  # generation 1 held the vectors before the first centring
    _, again = open_index(store, "fake-32", 32)
    assert again.rows == 8 and again.added == 0 and again.rebuilt is None
    _ingest(store, tmp_path, [{"id": "n1", "text": "My refund is late again.", "date": "2026-06-01"},
                              {"id": "n2", "text": "The router overheats.", "date": "2026-06-02"}], name="more.jsonl")
    _, before = open_index(store, "fake-32", 32)  # not analyzed yet: pending, not indexed
    assert before.rows == 8 and before.pending == 2 and before.rebuilt is None
    _embed(store)
    index, after = open_index(store, "fake-32", 32)
    assert after.rows == 10 and after.added == 2 and after.pending == 0 and after.rebuilt is None
    assert sorted(index.ids.tolist()) == list(range(1, 11))
    assert (folder / "vectors.2.f16").stat().st_size == 10 * 32 * 2


def test_processes_bringing_the_index_up_to_date_at_once_write_it_once(store, tmp_path):
    """`search` is a reader of the store (no writer lock, so it runs beside ingest), but it writes
    the index: the index folder's own lock makes concurrent searches write it one at a time."""
    import subprocess
    import sys

    _ingest(store, tmp_path, [{"id": f"c{i}", "text": f"complaint {i}: the refund for order {i} is late"} for i in range(40)],
            name="more.jsonl")
    _embed(store)
    code = ("import sys; from miner.store import open_db; from miner.search.index import open_index; "
            "_, r = open_index(open_db(sys.argv[1]), 'fake-32', 32); print(r.rows, r.added, r.rebuilt is not None)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "s.db")], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(o[0] == "48" for o in outs)
    assert sum(o[2] == "True" for o in outs) == 1  # one built it; the others found it built when they got the lock
    index, report = open_index(store, "fake-32", 32)
    assert report.rebuilt is None and sorted(index.ids.tolist()) == list(range(1, 49))


def test_index_rebuilt_for_another_encoder_or_store(store, tmp_path):
    open_index(store, "fake-32", 32)
    _embed(store, FakeEncoder(16))
    _, other = open_index(store, "fake-16", 16)
    assert other.rows == 8 and "another encoder" in other.rebuilt
    path = tmp_path / "s.db"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")
    fresh = open_db(path)
    _ingest(fresh, tmp_path, ROWS[4:], name="other.jsonl")
    _embed(fresh, FakeEncoder(16))
    _, report = open_index(fresh, "fake-16", 16)
    assert report.rows == 4 and report.rebuilt == "built for another store"


@pytest.mark.parametrize("damage", ["truncate vectors", "garbage meta", "delete ids", "bad languages", "garbage means"])
def test_damaged_index_is_rebuilt_not_a_traceback(store, tmp_path, damage):
    folder = tmp_path / "s.db.search-index"
    index, _ = open_index(store, "fake-32", 32)
    expected = index.ids.tolist()
    if damage == "truncate vectors":
        with open(folder / "vectors.2.f16", "r+b") as f:
            f.truncate(100)
    elif damage == "garbage meta":
        (folder / "meta.json").write_bytes(os.urandom(300))
    elif damage == "delete ids":
        (folder / "documents.i64").unlink()
    elif damage == "bad languages":
        (folder / "languages.i16").write_bytes(np.full(8, 999, dtype="<i2").tobytes())
    else:
        (folder / "means.2.npy").write_bytes(b"\x93NUMPY garbage")
    index, report = open_index(store, "fake-32", 32)
    assert report.rebuilt and index.ids.tolist() == expected
    assert _ids(search(store, "refund never arrived", encoder=FakeEncoder(), limit=1)) == ["r1"]


def _graph_store(tmp_path, rng):
    words = "refund parcel driver internet speed bill charge login app router delivery late broken cold price".split()
    rows = [{"id": f"g{i}", "text": " ".join(rng.choice(words, 6)) + f" case {i}"} for i in range(300)]
    db = open_db(tmp_path / "g.db")
    _ingest(db, tmp_path, rows)
    _embed(db)
    return db


def test_graph_search_agrees_with_exact_search_and_survives_a_damaged_graph(tmp_path, monkeypatch):
    # usearch adding rows on several threads builds a different graph each time (11 distinct graphs
    # in 30 builds of these vectors on 2 threads, one on 1 thread), so an approximate graph's
    # answer would depend on thread timing: one thread makes the graph, and this test, repeatable.
    monkeypatch.setattr(search_index, "available_cores", lambda: 1)
    rng = np.random.default_rng(0)
    db = _graph_store(tmp_path, rng)
    exact, _ = open_index(db, "fake-32", 32, hnsw_min=10**9)
    assert exact.graph is None
    q, _ = exact.centre_query(exact.raw_rows(np.array([7]))[0], exact.language_of(7))
    by_numpy = exact.nearest(q, 10)
    monkeypatch.setattr(search_index, "NUMPY_BELOW", 0)  # usearch's exact kernels (float16), as for large subsets
    by_usearch = exact.nearest(q, 10)
    assert by_usearch[0].tolist() == by_numpy[0].tolist() and np.allclose(by_usearch[1], by_numpy[1])
    assert by_usearch[0][0] == 7
    graph, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.graph and list((tmp_path / "g.db.search-index").glob("graph.*.usearch"))
    for i in (0, 50, 150):
        q, _ = exact.centre_query(exact.raw_rows(np.array([i]))[0], exact.language_of(i))
        assert graph.nearest(q, 10)[0].tolist()[:5] == exact.nearest(q, 10)[0].tolist()[:5]
        allowed = np.zeros(graph.rows, bool)
        allowed[::3] = True
        graph.exact_limit = 10  # the filtered search goes through the graph too
        assert set(graph.nearest(q, 5, allowed)[0].tolist()) == set(exact.nearest(q, 5, allowed)[0].tolist())
    # grows incrementally: new rows are added to the graph, not rebuilt
    _ingest(db, tmp_path, [{"id": "late", "text": "refund refund refund late"}], name="late.jsonl")
    _embed(db)
    graph, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.added == 1 and report.rebuilt is None and len(graph.graph) == 301
    # a damaged graph file fails its hash check and is rebuilt from the vectors (never read by usearch)
    path = next((tmp_path / "g.db.search-index").glob("graph.*.usearch"))
    data = bytearray(path.read_bytes())
    for p in rng.integers(64, len(data), 200):
        data[p] = int(rng.integers(0, 256))
    path.write_bytes(bytes(data))
    graph, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.rebuilt == "the graph file fails its check" and report.graph and len(graph.graph) == 301


def test_index_kept_in_the_process_and_graph_trusted_only_while_unchanged(tmp_path, monkeypatch):
    db = _graph_store(tmp_path, np.random.default_rng(1))
    folder = tmp_path / "g.db.search-index"
    first, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.graph and report.graph_check is None  # built here
    # the same process: nothing is read again, and each caller gets its own copy
    monkeypatch.setattr(search_index, "_load", lambda *a: pytest.fail("the kept index was read again"))
    first.graph, first.exact_limit = None, 5
    again, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert again.graph is not None and again.exact_limit == 100 and report.rebuilt is None
    assert again.rows_of([1, 300, 301, 0]).tolist() == [again.row_of(1), again.row_of(300), -1, -1]
    assert again.ids[again.row_of(150)] == 150
    monkeypatch.undo()
    # another process: the graph file is unchanged since it was written, so it is not read to be checked
    search_index._OPENED.clear()
    _, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.graph_check == "stat" and report.rebuilt is None
    # a graph written within meta.json's clock tick (a coarse clock) is hashed, never trusted
    graph_file = next(folder.glob("graph.*.usearch"))
    recorded = json.loads((folder / "meta.json").read_text())["graph"]["stat"]
    os.utime(folder / "meta.json", ns=(recorded[1], recorded[1]))
    search_index._OPENED.clear()
    _, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.graph_check == "hash" and report.rebuilt is None
    # the same bytes written again: a new change time, so the hash decides (and passes)
    graph_file.write_bytes(graph_file.read_bytes())
    _, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.graph_check == "hash" and report.rebuilt is None
    # meta.json rewritten by another process (here: the same index, committed again) is read again
    text = (folder / "meta.json").read_text()
    (folder / "meta.json").write_text(text.replace('"rows": 300', '"rows": 300 '))
    monkeypatch.setattr(search_index, "_load", lambda *a: (None, "read again"))
    _, report = open_index(db, "fake-32", 32, hnsw_min=100)
    assert report.rebuilt == "read again"


def test_languages_are_centred_and_recentred_when_the_store_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(search_index.docvec, "MIN_LANGUAGE_DOCS", 2)
    db = open_db(tmp_path / "c.db")
    _ingest(db, tmp_path, ROWS[:3])
    _embed(db)
    index, _ = open_index(db, "fake-32", 32)
    assert index.meta["centred_rows"] == 3 and index.languages == ["en", "de"]
    en = index.languages.index("en")
    assert np.allclose(index.means[en], index.raw_rows(slice(0, 2)).mean(axis=0), atol=1e-3)
    assert np.allclose(index.means[index.languages.index("de")], index.means[-1])  # one German document: the mean of all
    _ingest(db, tmp_path, ROWS[3:], name="more.jsonl")
    _embed(db)
    index, report = open_index(db, "fake-32", 32)
    assert report.recentred and index.meta["centred_rows"] == 8


def test_unwritable_index_folder_keeps_the_index_in_memory(store, tmp_path):
    (tmp_path / "s.db.search-index").write_text("a file where the folder goes")
    result = search(store, "refund never arrived", encoder=FakeEncoder(), limit=1)
    assert _ids(result) == ["r1"] and not result.index["saved"] and "in memory" in result.notes[0]


def test_in_memory_store(tmp_path):
    db = open_db(":memory:")
    _ingest(db, tmp_path, ROWS)
    _embed(db)
    assert _ids(search(db, "internet speed", encoder=FakeEncoder(), limit=2))[0] in ("r7", "r8")


# ------------------------------------------------------------------ the command line


def test_cli(runner, tmp_path, store):
    db = str(tmp_path / "s.db")
    result = runner.invoke(app, ["search", "refund never arrived", "--db", db, "--encoder", "fake", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:2] == ["1", "en"] and "=" in result.stdout.splitlines()[0]
    assert "query read as en" in result.stderr
    result = runner.invoke(app, ["search", "--like", "8", "--db", db, "--encoder", "fake", "--json", "--lang", "en"])
    hits = json.loads(result.stdout)
    assert result.exit_code == 0 and hits[0]["external_id"] == "r7" and {h["lang"] for h in hits} == {"en"}
    result = runner.invoke(app, ["search", "refund", "--db", db, "--encoder", "fake", "--filter", "meta.plan=basic", "--channel", "chat,survey", "--json"])
    assert {h["external_id"] for h in json.loads(result.stdout)} == {"r2", "r4", "r6", "r8"}
    for args, code in [(["--since", "2026-02-30"], "E503"), (["--like", "99"], "E507"), (["--theme", "3"], "E505")]:
        result = runner.invoke(app, ["search", *(["refund"] if "--like" not in args else []), "--db", db, "--encoder", "fake", *args])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and code in result.stderr
