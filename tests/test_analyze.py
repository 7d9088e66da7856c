"""`miner analyze` with the deterministic fake encoder and a head trained on it by the test."""

import json

import numpy as np
import pytest

from miner.analyze import analyze
from miner.errors import UsageError
from miner.ingest.pipeline import IngestOptions, ingest
from miner.nlp.cache import EmbeddingCache, embed_texts
from miner.nlp.encoders.fake import FakeEncoder
from miner.nlp.sentiment import SentimentHead, aggregate
from miner.nlp.sentiment_data import Example
from miner.nlp.train_sentiment import train_sentiment

NEG = ["terrible service", "awful billing error", "the app crashes", "very bad support", "horrible delay", "angry and disappointed"]
POS = ["great service", "excellent support", "fast and friendly", "very happy", "perfect install", "love the app"]
NEU = ["the invoice arrived", "I have a question", "the router is white", "please call me", "my contract number", "what is the plan"]


def examples():
    out = []
    for label, texts in (("neg", NEG), ("pos", POS), ("neu", NEU)):
        for i, t in enumerate(texts):
            for j, variant in enumerate((t, t + " today", t + " again", "honestly " + t)):
                split = "valid" if j == 3 else "train"
                out.append(Example(variant, label, "toy", "en", split))
    return out


@pytest.fixture(scope="module")
def head_path(tmp_path_factory):
    result = train_sentiment(examples(), FakeEncoder(), None, name="toy", grid=[{"hidden": 0, "weight_decay": 1e-4, "epochs": 60}])
    path = tmp_path_factory.mktemp("head") / "toy.npz"
    result.head.save(path)
    return path


@pytest.fixture
def store(db, write):
    rows = [
        {"id": "a", "text": "Terrible service. The app crashes every day."},
        {"id": "b", "text": "Great service, very happy with the perfect install."},
        {"id": "c", "text": "n/a"},
        {"id": "d", "text": "Great service, very happy with the perfect install."},  # short: stored, not a duplicate
        {"id": "e", "text": "Excellent support and fast install. But the billing error is awful and nobody answers."},
    ]
    ingest(db, [str(write("s.jsonl", "\n".join(json.dumps(r) for r in rows)))], IngestOptions(workers=0))
    return db


def test_analyze_labels_documents_and_segments(store, head_path):
    summary = analyze(store, encoder=FakeEncoder(), head_path=str(head_path))
    assert summary.documents == 4  # the non-answer is not analyzed
    docs = {r["external_id"]: r for r in store.query(
        "SELECT d.external_id, s.label, s.score FROM documents d LEFT JOIN document_sentiment s ON s.document_id = d.id"
    )}
    assert docs["a"]["label"] == "neg" and docs["a"]["score"] < 0
    assert docs["b"]["label"] == "pos" and docs["b"]["score"] > 0
    assert docs["c"]["label"] is None
    assert docs["e"]["label"] in ("neg", "mixed")  # praise then an angry turn: never positive
    segs = store.execute("SELECT COUNT(*) FROM segment_sentiment").fetchone()[0]
    assert segs == summary.segments >= 5


def test_second_run_calls_the_encoder_zero_times(store, head_path):
    encoder = FakeEncoder()
    first = analyze(store, encoder=encoder, head_path=str(head_path))
    calls = encoder.calls
    assert first.embed.embedded < first.embed.texts  # b and d share their text: embedded once
    second = analyze(store, encoder=encoder, head_path=str(head_path))
    assert second.documents == 0 and encoder.calls == calls


def test_new_documents_are_analyzed_incrementally(store, head_path, write):
    encoder = FakeEncoder()
    analyze(store, encoder=encoder, head_path=str(head_path))
    ingest(store, [str(write("more.jsonl", json.dumps({"id": "f", "text": "Horrible delay with the delivery."})))], IngestOptions(workers=0))
    summary = analyze(store, encoder=encoder, head_path=str(head_path))
    assert summary.documents == 1 and summary.labels == {"neg": 1}


def test_killed_run_resumes_without_loss_or_double_work(store, head_path, monkeypatch):
    import miner.analyze as mod

    encoder = FakeEncoder()
    real = mod.transaction
    state = {"n": 0}

    def dying(db):
        state["n"] += 1
        if state["n"] == 2:
            raise KeyboardInterrupt
        return real(db)

    monkeypatch.setattr(mod, "transaction", dying)
    with pytest.raises(KeyboardInterrupt):
        analyze(store, encoder=encoder, head_path=str(head_path), batch_documents=2)
    done = store.execute("SELECT COUNT(*) FROM document_sentiment").fetchone()[0]
    assert done == 2
    monkeypatch.setattr(mod, "transaction", real)
    cached = EmbeddingCache(store).count(encoder.id)
    summary = analyze(store, encoder=encoder, head_path=str(head_path), batch_documents=2)
    assert summary.documents == 2
    assert summary.embed.cached >= 1 and EmbeddingCache(store).count(encoder.id) >= cached
    assert store.execute("SELECT COUNT(*) FROM document_sentiment").fetchone()[0] == 4


def test_head_encoder_mismatch_is_a_clear_error(store, head_path):
    with pytest.raises(UsageError, match="E722"):
        analyze(store, encoder=FakeEncoder(dim=16), head_path=str(head_path))


def test_head_round_trip_and_hostile_files(head_path, tmp_path):
    head = SentimentHead.load(head_path)
    x = FakeEncoder().embed_batch(["great service", "awful delay"])
    again = SentimentHead.load(head_path)
    assert np.array_equal(head.predict_proba(x), again.predict_proba(x))
    assert head.encoder_id == "fake-32" and head.meta["name"] == "toy" and "valid" in head.meta
    import pickle

    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps({"w0": np.zeros(3)}))
    with pytest.raises(UsageError, match="E720"):
        SentimentHead.load(evil)
    np.savez(tmp_path / "objects.npz", meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(UsageError, match="E720"):
        SentimentHead.load(tmp_path / "objects.npz")


def test_aggregate_rule():
    assert aggregate(["pos", "neg", "pos"], [0.9, -0.8, 0.7], [30, 30, 30])[0] == "neg"
    assert aggregate(["pos", "neu"], [0.8, 0.0], [10, 10]) == ("pos", 0.4)
    assert aggregate(["neu"], [0.05], [5]) == ("neu", 0.05)
    assert aggregate([], [], []) == (None, None)
    label, score = aggregate(["neg", "pos"], [-0.6, 0.6], [10, 10])
    assert label == "neg" and score == pytest.approx(-0.2)


def test_cache_embeds_each_distinct_text_once(db):
    encoder, cache = FakeEncoder(), EmbeddingCache(db)
    texts = ["b" * 50, "a", "a", "c" * 5]
    matrix, stats = embed_texts(encoder, texts, cache, batch_size=2)
    assert stats.unique == 3 and stats.embedded == 3 and encoder.calls == 2
    assert np.array_equal(matrix[1], matrix[2])
    again, stats = embed_texts(encoder, texts, cache)
    assert stats.embedded == 0 and encoder.calls == 2 and np.array_equal(matrix, again)


def test_export_gains_sentiment(store, head_path, tmp_path):
    from miner.table_export import export_table

    analyze(store, encoder=FakeEncoder(), head_path=str(head_path))
    out = tmp_path / "d.jsonl"
    export_table(store, "documents", "jsonl", out)
    rows = {r["external_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["a"]["sentiment"] == "neg" and rows["c"]["sentiment"] is None
    export_table(store, "segments", "jsonl", out)
    assert any(json.loads(line)["p_neg"] is not None for line in out.read_text().splitlines())


def test_cli_analyze_and_train_from_csv(runner, tmp_path, write):
    from miner.cli.main import app

    db = str(tmp_path / "m.db")
    runner.invoke(app, ["ingest", str(write("t.txt", "Terrible service and awful billing error.")), "--db", db])
    lines = ["text,label"] + [f"{e.text},{e.label}" for e in examples()]
    data = write("labels.csv", "\n".join(lines))
    out = tmp_path / "head.npz"
    result = runner.invoke(app, ["train", "sentiment", "--data", str(data), "--encoder", "fake", "--out", str(out), "--cache", str(tmp_path / "c.db")])
    assert result.exit_code == 0, result.output + result.stderr
    assert out.is_file() and "macro-F1" in result.output
    result = runner.invoke(app, ["analyze", "--db", db, "--encoder", "fake", "--head", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == 1
    result = runner.invoke(app, ["analyze", "--db", db, "--encoder", "fake", "--head", str(tmp_path / "none.npz")])
    assert result.exit_code == 2 and "E721" in result.stderr
    result = runner.invoke(app, ["train", "sentiment", "--data", str(data), "--encoder", "fake", "--hidden", "7", "--out", str(tmp_path / "h7.npz")])
    assert result.exit_code == 2 and "E716" in result.stderr and not (tmp_path / "h7.npz").exists()


def test_document_mode_any_negative_is_kept_by_the_store_and_relabels_from_cache(store, head_path):
    from miner.store import get_setting

    encoder = FakeEncoder()
    first = analyze(store, encoder=encoder, head_path=str(head_path))
    assert first.document_mode == "model" and get_setting(store, "sentiment.document_mode") is None
    calls = encoder.calls
    rule = analyze(store, encoder=encoder, head_path=str(head_path), document_mode="any-negative")
    assert rule.documents == 4 and encoder.calls == calls  # relabelled from cached vectors
    assert get_setting(store, "sentiment.document_mode") == "any-negative"
    docs = {r["external_id"]: r for r in store.query(
        "SELECT d.external_id, s.label, s.head FROM documents d JOIN document_sentiment s ON s.document_id = d.id WHERE s.label IS NOT NULL"
    )}
    assert docs["e"]["label"] == "neg"  # one angry sentence makes the complaint negative
    assert all(r["head"].endswith("+any-negative") for r in docs.values())
    again = analyze(store, encoder=encoder, head_path=str(head_path))  # the store keeps the mode
    assert again.documents == 0 and again.document_mode == "any-negative"
    back = analyze(store, encoder=encoder, head_path=str(head_path), document_mode="model")
    assert back.documents == 4 and get_setting(store, "sentiment.document_mode") == "model"
    with pytest.raises(UsageError, match="E731"):
        analyze(store, encoder=encoder, head_path=str(head_path), document_mode="majority")


def test_documents_keep_calibrated_probabilities_and_their_score(store, head_path):
    summary = analyze(store, encoder=FakeEncoder(), head_path=str(head_path))
    rows = list(store.query("SELECT label, score, p_neg, p_neu, p_pos FROM document_sentiment WHERE label IS NOT NULL"))
    assert len(rows) == 4 and summary.sentiment_seconds < summary.seconds
    for r in rows:
        assert r["p_neg"] + r["p_neu"] + r["p_pos"] == pytest.approx(1, abs=1e-3)
        assert r["score"] == pytest.approx(r["p_pos"] - r["p_neg"], abs=1e-3)
        assert r["label"] in ("neg", "neu", "pos", "mixed")
    head = SentimentHead.load(head_path)
    assert head.document is not None and head.temperature > 0


def test_a_head_trained_before_issue_16_still_analyzes(store, head_path, tmp_path):
    head = SentimentHead.load(head_path)
    old = SentimentHead(head.layers, head.encoder_id, {"name": "old"})  # no temperature, no document model
    old.save(tmp_path / "old.npz")
    summary = analyze(store, encoder=FakeEncoder(), head_path=str(tmp_path / "old.npz"))
    assert summary.documents == 4
    docs = dict(store.execute("SELECT d.external_id, s.label FROM documents d JOIN document_sentiment s ON s.document_id = d.id").fetchall())
    assert docs["a"] == "neg" and docs["b"] == "pos"
    assert summary.document_mode == "any-negative" and summary.document_mode_asked == ""  # nothing asked: silent
    from miner.cli.format_ingest import analyze_lines

    asked = analyze(store, encoder=FakeEncoder(), head_path=str(tmp_path / "old.npz"), document_mode="model")
    assert asked.document_mode == "any-negative" and asked.document_mode_asked == "model"
    line = [x for x in analyze_lines(asked.to_dict()) if x.startswith("Document sentiment follows")]
    assert line == ["Document sentiment follows the rule any-negative, not 'model': the head old has no document model "
                    "(one is in --head sentiment-e5-small-complaints; README, \"Document sentiment\")."]


def test_cli_document_sentiment_option(runner, head_path, tmp_path, write):
    from miner.cli.main import app

    db_file = str(tmp_path / "m.db")
    runner.invoke(app, ["ingest", str(write("t.txt", "Great service. But the billing error is awful.")), "--db", db_file])
    result = runner.invoke(app, ["analyze", "--db", db_file, "--encoder", "fake", "--head", str(head_path), "--document-sentiment", "any-negative", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["document_mode"] == "any-negative"
    result = runner.invoke(app, ["analyze", "--db", db_file, "--encoder", "fake", "--head", str(head_path), "--document-sentiment", "vote"])
    assert result.exit_code == 2 and "E731" in result.stderr


def test_train_keeps_a_head_and_chooses_priors_on_tuning_documents(head_path):
    """--keep-head: the head's weights stay, a temperature and a document model are fitted;
    --tune-documents: the class priors come from the grid, the tuning texts fit nothing."""
    kept = SentimentHead.load(head_path)
    kept.meta["params"] = {"hidden": 0, "weight_decay": 1e-4, "epochs": 60}
    tune = [Example(t + ". " + u, "neg", "tune", "en", "train") for t in NEG for u in ("the invoice arrived", "please call me")]
    result = train_sentiment(examples(), FakeEncoder(), None, name="kept", keep_head=kept, tune_documents=tune)
    for (w, b), (w0, b0) in zip(result.head.layers, kept.layers):
        assert np.array_equal(w, w0) and np.array_equal(b, b0)
    docs = result.documents
    assert docs["trained"] and result.head.document is not None
    choice = docs["prior_choice"]
    assert choice["grid_points"] == 81 and choice["tune_documents"] == len(tune)
    assert docs["prior"] == choice["chosen"]["prior"] == result.head.document.prior.tolist()
    assert choice["chosen"]["tune_min_negative_recall"] >= choice["unshifted"]["tune_min_negative_recall"]
    assert choice["chosen"]["valid_mean_macro_f1"] >= choice["unshifted"]["valid_mean_macro_f1"] - 0.01
