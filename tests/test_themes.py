"""Themes end to end with the fake encoder: discovery, determinism, identity over runs,
edits that persist, assignment of new data, no pickle, CLI."""

import io
import json
import random

import numpy as np
import pytest

from miner.cli.main import app
from miner.errors import UsageError
from miner.ingest.pipeline import IngestOptions, ingest
from miner.nlp.encoders.fake import FakeEncoder
from miner.store import open_db
from miner.themes import manage
from miner.themes.fit import ThemeParams
from miner.themes.assign import assign_themes_to_new_segments
from miner.themes.discover import discover
from miner.concepts.lexicon import load_lexicon
from miner.themes.state import ThemeState

TOPICS = {
    "login": ["login", "password", "locked", "account", "sign", "verification", "reset"],
    "delivery": ["delivery", "courier", "parcel", "late", "driver", "tracking", "doorstep"],
    "price": ["price", "increase", "bill", "expensive", "tariff", "surcharge", "invoice"],
    "signal": ["signal", "coverage", "dropped", "calls", "antenna", "reception", "bars"],
}
PARAMS = ThemeParams(min_cluster_size=8)


def rows_for(n_per_topic, seed=0, start=0):
    rng = random.Random(seed)
    rows = []
    for topic, words in TOPICS.items():
        for i in range(start, start + n_per_topic):
            rows.append({"id": f"{topic}-{i}", "topic": topic, "text": " ".join(rng.sample(words, 4)) + f" case {i}"})
    return rows


def load(db, write, rows, name="in.jsonl"):
    path = write(name, "\n".join(json.dumps({"id": r["id"], "text": r["text"]}) for r in rows))
    ingest(db, [str(path)], IngestOptions(external_id="id", workers=0))


def theme_by_doc(db):
    return {
        ext: t
        for ext, t in db.execute(
            "SELECT d.external_id, st.theme_id FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
            "JOIN documents d ON d.id = s.document_id"
        )
    }


@pytest.fixture
def themed(db, write):
    rows = rows_for(40)
    load(db, write, rows)
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS)
    return db, rows, summary


def purity(db, rows):
    topic = {r["id"]: r["topic"] for r in rows}
    by_theme = {}
    for ext, t in theme_by_doc(db).items():
        if t is not None:
            by_theme.setdefault(t, []).append(topic[ext])
    majority = sum(max(v.count(x) for x in set(v)) for v in by_theme.values())
    return majority / sum(len(v) for v in by_theme.values())


def test_discover_finds_the_topics(themed):
    db, rows, summary = themed
    assert summary.themes >= 4
    assert summary.outlier_share <= 0.15
    assert purity(db, rows) >= 0.9
    rows = list(db.query("SELECT label, label_lang, label_confidence, concept FROM themes WHERE status = 'active' AND level = 1"))
    lexicon = load_lexicon()
    for r in rows:  # labels name a lexicon concept, in the label language, once each
        base = r["label"].split(" (")[0]
        assert base == lexicon.label(r["concept"], "en"), r
        assert r["label_lang"] == "en" and 0.0 <= r["label_confidence"] <= 1.0
    assert len({r["label"] for r in rows}) == len(rows)


def test_same_input_in_another_order_gives_identical_themes(db, write, tmp_path):
    rows = rows_for(30)
    load(db, write, rows, "a.jsonl")
    discover(db, encoder=FakeEncoder(), params=PARAMS)
    other = open_db(str(tmp_path / "other.db"))
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    load(other, write, shuffled, "b.jsonl")
    discover(other, encoder=FakeEncoder(), params=PARAMS)

    def partition(d):
        groups = {}
        for ext, t in theme_by_doc(d).items():
            groups.setdefault(t, set()).add(ext)
        return sorted(sorted(g) for g in groups.values())

    assert partition(db) == partition(other)


def test_rerun_on_grown_data_keeps_ids_and_labels(themed, write):
    db, rows, _ = themed
    before = theme_by_doc(db)
    some_theme = before["login-0"]
    manage.rename(db, some_theme, "Login problems")
    load(db, write, rows_for(5, seed=1, start=100), "more.jsonl")
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS)
    after = theme_by_doc(db)
    agree = sum(after[k] == v for k, v in before.items() if v is not None) / sum(v is not None for v in before.values())
    assert agree >= 0.85
    assert summary.events["kept"] >= 4 and "retired" not in summary.events
    old_login = {v for k, v in before.items() if k.startswith("login-")}
    assert after["login-100"] in old_login  # new data joins the old themes
    label = db.execute("SELECT custom_label FROM themes WHERE id = ?", [some_theme]).fetchone()[0]
    assert label == "Login problems"
    assert {r[0] for r in db.execute("SELECT event FROM theme_lineage WHERE run_id = ?", [summary.run_id])} >= {"kept"}


def test_edits_survive_a_rerun(themed):
    db, rows, _ = themed
    t = theme_by_doc(db)
    login, delivery, price, signal = t["login-0"], t["delivery-0"], t["price-0"], t["signal-0"]
    manage.set_flag(db, delivery, "archive")
    manage.set_flag(db, signal, "pin")
    manage.merge(db, [price], into=login)
    split = manage.split(db, signal, 2, encoder=FakeEncoder())
    assert len(split["children"]) == 2 and min(split["sizes"]) > 0
    discover(db, encoder=FakeEncoder(), params=PARAMS)
    status = dict(db.execute("SELECT id, status FROM themes"))
    assert status[delivery] == "archived"
    assert status[price] == "merged" and status[login] == "active"
    after = theme_by_doc(db)
    price_docs = [after[r["id"]] for r in rows if r["topic"] == "price" and after[r["id"]] is not None]
    assert sum(x == login for x in price_docs) / len(price_docs) >= 0.9  # the merge held
    children = set(split["children"])
    signal_docs = [after[r["id"]] for r in rows if r["topic"] == "signal"]
    assert set(signal_docs) - {None} <= children and len(set(signal_docs) - {None}) == 2  # the split held
    assert all(status[c] == "active" for c in children)


def test_pinned_theme_is_never_retired(themed, db_path, write):
    db, rows, _ = themed
    signal = theme_by_doc(db)["signal-0"]
    manage.set_flag(db, signal, "pin")
    # The documents behind the theme become non-informative: nothing would re-form it.
    db.execute("UPDATE documents SET informative = 0 WHERE external_id LIKE 'signal-%'")
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS)
    assert db.execute("SELECT status FROM themes WHERE id = ?", [signal]).fetchone()[0] == "active"
    assert "retired" not in {r[0] for r in db.execute("SELECT event FROM theme_lineage WHERE run_id = ? AND theme_id = ?", [summary.run_id, signal])}


def test_unpinned_theme_without_data_is_retired(themed):
    db, rows, _ = themed
    signal = theme_by_doc(db)["signal-0"]
    db.execute("UPDATE documents SET informative = 0 WHERE external_id LIKE 'signal-%'")
    discover(db, encoder=FakeEncoder(), params=PARAMS)
    assert db.execute("SELECT status FROM themes WHERE id = ?", [signal]).fetchone()[0] == "retired"


def test_new_data_is_assigned_without_refit(themed, write):
    db, rows, _ = themed
    runs = db.execute("SELECT COUNT(*) FROM theme_runs").fetchone()[0]
    before = theme_by_doc(db)
    load(db, write, rows_for(3, seed=2, start=200), "new.jsonl")
    result = assign_themes_to_new_segments(db, FakeEncoder())
    assert result["assigned"] + result["outliers"] == 12 and result["assigned"] >= 10
    after = theme_by_doc(db)
    assert db.execute("SELECT COUNT(*) FROM theme_runs").fetchone()[0] == runs
    assert all(after[k] == v for k, v in before.items())  # old assignments untouched
    assert after["delivery-200"] == before["delivery-0"]
    methods = {r[0] for r in db.execute("SELECT method FROM segment_themes WHERE run_id = (SELECT MAX(id) FROM theme_runs)")}
    assert "assigned" in methods


def test_reassigning_fitted_segments_agrees_with_the_fit(themed):
    db, rows, _ = themed
    fitted = dict(db.execute("SELECT segment_id, theme_id FROM segment_themes"))
    db.execute("DELETE FROM segment_themes")
    assign_themes_to_new_segments(db, FakeEncoder())
    again = dict(db.execute("SELECT segment_id, theme_id FROM segment_themes"))
    assert sum(again[s] == t for s, t in fitted.items()) / len(fitted) >= 0.99


def test_state_is_plain_arrays_not_pickle(themed):
    db, _, _ = themed
    for key, blob in db.execute("SELECT key, value FROM theme_state"):
        assert b"\x80\x04" not in blob[:2] and b"\x80\x05" not in blob[:2]
        if key != "meta":
            with np.load(io.BytesIO(blob), allow_pickle=False) as z:  # raises on object arrays
                assert all(z[k].dtype != object for k in z.files)
    state = ThemeState.load(db)
    assert state.centroids.dtype == np.float32 and len(state.theme_ids) == state.centroids.shape[0]


def test_edit_errors(themed):
    db, _, _ = themed
    with pytest.raises(UsageError, match="E810"):
        manage.rename(db, 999, "x")
    with pytest.raises(UsageError, match="E812"):
        manage.rename(db, 1, "   ")
    with pytest.raises(UsageError, match="E813"):
        manage.merge(db, [1], into=1)
    with pytest.raises(UsageError, match="E814"):
        manage.split(db, 1, 11, encoder=FakeEncoder())
    with pytest.raises(UsageError, match="E804"):
        manage.split(db, 1, 2, encoder=FakeEncoder(16))


def test_commands_before_discovery_say_what_to_do(runner, db_path):
    open_db(db_path)
    result = runner.invoke(app, ["themes", "list", "--db", str(db_path)])
    assert result.exit_code == 2 and "E802" in result.output and "discover" in result.output


def test_cli_themes(runner, db_path, write, monkeypatch):
    monkeypatch.setenv("MINER_ENCODER", "fake")
    db = open_db(db_path)
    load(db, write, rows_for(25))
    out = runner.invoke(app, ["themes", "discover", "--db", str(db_path), "--min-cluster-size", "8", "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["themes"] >= 4
    listed = json.loads(runner.invoke(app, ["themes", "list", "--db", str(db_path), "--json"]).output)
    first = listed["themes"][0]["id"]
    assert runner.invoke(app, ["themes", "rename", str(first), "Billing shock", "--db", str(db_path)]).exit_code == 0
    shown = runner.invoke(app, ["themes", "show", str(first), "--db", str(db_path)])
    assert shown.exit_code == 0 and "Billing shock" in shown.output and "keywords [en]" in shown.output
    assert runner.invoke(app, ["themes", "pin", str(first), "--db", str(db_path)]).exit_code == 0
    text = runner.invoke(app, ["themes", "list", "--db", str(db_path)]).output
    assert "Billing shock" in text and "*" in text
    lineage = runner.invoke(app, ["themes", "lineage", "--db", str(db_path)])
    assert lineage.exit_code == 0 and "new" in lineage.output
    bad = runner.invoke(app, ["themes", "show", "12345", "--db", str(db_path)])
    assert bad.exit_code == 2 and "E810" in bad.output
    bad = runner.invoke(app, ["themes", "discover", "--db", str(db_path), "--max-outliers", "2"])
    assert bad.exit_code == 2
    exported = runner.invoke(app, ["export", "documents", "--db", str(db_path)])
    record = json.loads(exported.output.splitlines()[0])
    assert record["themes"] and {"id", "label", "score", "segments", "low_confidence"} <= record["themes"][0].keys()


def test_tiny_store_with_no_theme_still_assigns_later(db, write):
    load(db, write, [{"id": str(i), "text": t} for i, t in enumerate(
        ["the app crashes on login", "late delivery again", "price went up", "router broken", "billing error twice"])])
    summary = discover(db, encoder=FakeEncoder(), params=PARAMS)
    assert summary.themes == 0 and summary.outliers == 5
    load(db, write, [{"id": "new", "text": "the router is broken again"}], "new.jsonl")
    assert assign_themes_to_new_segments(db, FakeEncoder()) == {"assigned": 0, "outliers": 1, "segments": 1, "state": True}


def test_fit_is_the_same_for_any_row_order_with_repeats_and_mixed_languages():
    # Repeated answers and one text seen in documents of two languages: the two things that
    # made the fit depend on row order before (measured on real data).
    from miner.themes.fit import fit_themes

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((4, 16))
    X, keys, langs = [], [], []
    for c in range(4):
        for i in range(30):
            v = centres[c] + 0.3 * rng.standard_normal(16)
            for _ in range(1 + (i % 3 == 0) * 4):  # every third answer written five times
                X.append(v)
                keys.append(f"{c}-{i}")
                langs.append("en" if i % 2 else "de")
    X.append(X[0])
    keys.append(keys[0])
    langs.append("fr")  # the same text, detected as another language
    X = np.array(X, dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    params = ThemeParams(min_cluster_size=8)
    first = fit_themes(X, langs, keys, params)
    perm = np.random.default_rng(1).permutation(len(keys))
    second = fit_themes(X[perm], [langs[i] for i in perm], [keys[i] for i in perm], params)
    assert np.array_equal(first.sub_of[perm], second.sub_of)
    assert np.array_equal(first.theme_of[perm], second.theme_of)
    assert first.sub_of.max() >= 3


def test_exact_cosine_knn_is_the_brute_force_graph_with_each_row_first():
    from miner.themes.fit import exact_cosine_knn

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 16)).astype(np.float32)
    X[7] = X[8]  # a duplicate pair: each still lists itself first
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    idx, dist = exact_cosine_knn(X, 6, chunk=64)  # chunks smaller than n
    assert idx.shape == dist.shape == (300, 6)
    assert (idx[:, 0] == np.arange(300)).all() and (dist[:, 0] == 0).all()
    assert idx[7, 1] == 8 and idx[8, 1] == 7 and dist[7, 1] < 1e-6
    S = X @ X.T
    np.fill_diagonal(S, np.inf)
    want = np.argsort(-S, axis=1, kind="stable")[:, :6]
    assert (np.sort(idx, axis=1) == np.sort(want, axis=1)).mean() > 0.99  # ties aside
    np.testing.assert_allclose(dist[:, 1:], 1 - np.take_along_axis(X @ X.T, idx[:, 1:], axis=1), atol=1e-5)
    assert (np.diff(dist, axis=1) >= -1e-6).all()  # nearest first


def test_exact_cosine_knn_without_torch_gives_the_same_graph(monkeypatch):
    import builtins

    from miner.themes.fit import exact_cosine_knn

    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    with_torch = exact_cosine_knn(X, 5, chunk=64)
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("no torch here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    without = exact_cosine_knn(X, 5, chunk=64)
    assert (with_torch[0] == without[0]).all()
    np.testing.assert_allclose(with_torch[1], without[1], atol=1e-6)


def test_keywords_tokenised_in_a_second_process_give_the_same_themes(db, write, monkeypatch):
    from miner.themes import background

    load(db, write, rows_for(40))
    monkeypatch.setattr(background, "available_cores", lambda: 1)
    discover(db, encoder=FakeEncoder(), params=PARAMS)
    in_line = db.execute("SELECT id, label, keywords FROM themes ORDER BY id").fetchall()
    started = []
    real = background.TermsInBackground.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        started.append(self._proc is not None)

    monkeypatch.setattr(background, "available_cores", lambda: 2)
    monkeypatch.setattr(background, "MIN_TEXTS", 0)
    monkeypatch.setattr(background.TermsInBackground, "__init__", spy)
    discover(db, encoder=FakeEncoder(), params=PARAMS, force=True)
    assert started == [True]
    assert db.execute("SELECT id, label, keywords FROM themes ORDER BY id").fetchall() == in_line
