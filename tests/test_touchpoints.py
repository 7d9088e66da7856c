"""Touchpoint assignment: pure functions (scores, few-shot weighed on held-out folds,
neighbours, alignment, decisions and their reasons), the store side (documents and segments,
few-shot, corrections kept and learned from, new segments), aspect sentiment, exports and
the CLI (fake encoder), and one real-model check."""

import io
import json

import numpy as np
import pytest

from miner.cli.main import app
from miner.errors import InputError
from miner.table_export import export_table
from miner.ingest.pipeline import IngestOptions, ingest
from miner.nlp.encoders.fake import FakeEncoder
from miner.touchpoints.aspects import aspect_sentiment, touchpoint_overview
from miner.touchpoints.assign import (
    AMBIGUOUS,
    NO_FIT,
    Alignment,
    AssignParams,
    damp_flat,
    decide,
    fit_few_shot,
    prototypes,
    smooth,
    standardise_rows,
    zero_shot_scores,
)
from miner.segments.links import link_themes_to_touchpoints
from miner.touchpoints.examples import read_examples
from miner.touchpoints.model import assign_touchpoints, assign_touchpoints_to_new_segments

TAXONOMY = """\
taxonomy: shop
stages:
  - key: receive
    touchpoints:
      - key: delivery
        description: parcel courier delivery
        examples:
          en: [late parcel courier, courier lost parcel]
          de: [paket kurier verspätet]
          zh: [快递包裹]
          fa: [بسته پیک]
  - key: pay
    touchpoints:
      - key: billing
        description: bill invoice charged
        owner: finance
        examples:
          en: [charged twice on my bill, wrong invoice]
          de: [rechnung doppelt abgebucht]
          zh: [账单扣费]
          fa: [صورتحساب پول]
  - key: use
    touchpoints:
      - key: app
        description: app crashes login
        examples:
          en: [app crashes after update, cannot login app]
          de: [app stürzt ab]
          zh: [应用闪退]
          fa: [برنامه بسته]
"""
ENC = FakeEncoder(512)
PARAMS = AssignParams(min_confidence=0.5)  # three touchpoints: a clear winner, not a third of the probability
DOCS = [
    ("en-1", "the courier lost my parcel", "delivery"),
    ("de-1", "der kurier hat das paket verloren", "delivery"),
    ("zh-1", "快递把包裹弄丢了", "delivery"),
    ("fa-1", "پیک بسته را گم کرد", "delivery"),
    ("en-2", "I was charged twice on this bill", "billing"),
    ("de-2", "die rechnung wurde doppelt abgebucht", "billing"),
    ("zh-2", "账单重复扣费", "billing"),
    ("fa-2", "صورتحساب اشتباه و پول کم شد", "billing"),
    ("en-3", "the app crashes at login", "app"),
    ("zh-3", "应用一打开就闪退", "app"),
    ("en-4", "lovely weather in lyon tonight", None),
]


@pytest.fixture
def tax_file(write):
    return write("shop.yaml", TAXONOMY)


def load(db, write, docs, name="docs.jsonl"):
    path = write(name, "\n".join(json.dumps({"id": i, "text": t, "channel": i.split("-")[0], "date": f"2026-0{1 + n % 3}-1{n % 9}"})
                                 for n, (i, t, _) in enumerate(docs)))
    ingest(db, [str(path)], IngestOptions(external_id="id", created_at="date", channel="channel", workers=0))


def by_doc(db, rank=1):
    """Each document's segment touchpoint (documents here have one segment)."""
    return {
        ext: tp
        for ext, tp in db.execute(
            "SELECT d.external_id, t.touchpoint FROM segment_touchpoints t JOIN segments s ON s.id = t.segment_id "
            "JOIN documents d ON d.id = s.document_id WHERE t.rank = ?", [rank]
        )
    }


def main_touchpoints(db):
    return dict(db.execute("SELECT d.external_id, t.touchpoint FROM document_touchpoints t JOIN documents d ON d.id = t.document_id"))


# --- pure functions ---------------------------------------------------------------------------

def test_zero_shot_scores_rank_by_prototype_and_standardise_each_text():
    V = np.eye(3, 8, dtype=np.float32)
    protos = prototypes(np.vstack([V, V[:1] + 0.1]), np.array([0, 1, 2, 0]), 3)
    X = np.array([[1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0.2, 0, 0, 0, 0]], np.float32)
    S = zero_shot_scores(X, protos)
    assert S.argmax(1).tolist() == [0, 2]
    assert np.allclose(S.mean(1), 0, atol=1e-5) and np.allclose(S.std(1), 1, atol=1e-3)


def test_decide_gives_none_with_its_reason_and_a_second_touchpoint():
    S = np.array([[3.0, 0, 0, 0], [1.0, 0.95, -1, -1], [0.1, 0.05, 0.0, 0.0], [1.0, 1.0, -1, -1]], np.float32)
    d = decide(S, temperature=0.6, min_confidence=0.6)
    assert d.first[0] == 0 and d.first_p[0] > 0.9
    assert d.first[1] == -1 and d.reason[1] == AMBIGUOUS and d.best[1] == 0  # two touchpoints share it
    assert d.first[2] == -1 and d.reason[2] == NO_FIT  # nothing stands out
    loose = decide(S, temperature=0.6, min_confidence=0.3)
    assert loose.first[3] in (0, 1) and loose.second[3] == 1 - loose.first[3]  # it names both
    assert np.all((loose.first_p >= 0) & (loose.first_p <= 1))
    flat = damp_flat(standardise_rows(S[2:3]), np.array([0.001]), reference=0.05, share=0.8)
    assert decide(flat, 0.6, 0.35).reason == [NO_FIT]  # standardising a flat text does not make it sure


def test_few_shot_weight_is_chosen_on_held_out_folds():
    rng = np.random.default_rng(0)
    k, d = 3, 16
    centres = rng.standard_normal((k, d)).astype(np.float32) * 3
    y = np.repeat(np.arange(k), 10)
    F = standardise_rows(centres[y] + rng.standard_normal((len(y), d)).astype(np.float32))
    useless = rng.standard_normal((len(y), k)).astype(np.float32)  # zero-shot that knows nothing
    fs = fit_few_shot(F, y, standardise_rows(useless), k)
    assert fs.weight != 0 and fs.report["held_out_accuracy"]["0.0"] < 0.6
    assert fs.report["held_out_accuracy"]["examples only"] >= 0.9
    perfect = standardise_rows(np.eye(k, dtype=np.float32)[y] * 5)  # zero-shot already right; noisy examples
    noisy = rng.standard_normal((len(y), d)).astype(np.float32)
    fs = fit_few_shot(noisy, y, perfect, k)
    assert fs.weight == 0.0  # examples that do not beat zero-shot on held-out folds are not used
    assert fs.report["per_touchpoint"][0]["examples"] == 10
    assert 0.1 <= fs.temperature <= 3.0


def test_neighbours_carry_a_touchpoint_and_corrections_stay():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((2, 12)).astype(np.float32)
    A = np.vstack([base[0] + 0.05 * rng.standard_normal((30, 12)), base[1] + 0.05 * rng.standard_normal((30, 12))]).astype(np.float32)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    F = np.tile(np.array([[2.0, 0.0, 0.0]], np.float32), (60, 1))
    F[30:] = [0.0, 2.0, 0.0]
    F[5] = [0.9, 1.0, 0.0]  # one of the first group is unsure and leans the wrong way
    out = smooth(standardise_rows(F), A, AssignParams(), clamp={40: np.array([1.0, -0.5, -0.5], np.float32)})
    assert out[5].argmax() == 0  # its neighbours pull it back
    assert out[40].argmax() == 0  # a corrected document keeps its label
    assert smooth(F[:10], A[:10], AssignParams()).tolist() == F[:10].tolist()  # too few documents: untouched


def test_alignment_centres_each_language_and_projects_only_when_multilingual():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.standard_normal((25, 6)) + 3, rng.standard_normal((25, 6)) - 3]).astype(np.float32)
    langs = ["en"] * 25 + ["fa"] * 25
    proj = rng.standard_normal((6, 2)).astype(np.float32)
    al = Alignment.fit(X, langs, proj)
    assert al.projected and al.langs == ["en", "fa"]
    A = al.apply(X, langs)
    assert A.shape == (50, 8) and np.allclose(np.linalg.norm(A, axis=1), 1, atol=1e-5)
    assert not Alignment.fit(X[:25], langs[:25], proj).projected  # one language: nothing to align
    unknown = al.apply(X[:1], ["xx"])  # a language seen too rarely: the overall mean
    assert np.isfinite(unknown).all()


# --- the store ----------------------------------------------------------------------------------

def test_assigns_documents_and_segments_across_languages(db, write, tax_file):
    load(db, write, DOCS)
    r = assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    got = by_doc(db)
    for ext, _, want in DOCS[:-1]:
        assert got.get(ext) == want, ext
    assert main_touchpoints(db) == {e: w for e, _, w in DOCS[:-1]} | {"en-4": main_touchpoints(db).get("en-4")}
    assert r["method"] == "zero-shot" and r["touchpoints"] == 3 and r["documents"] == 11 and r["segments"] == 11
    rows = db.execute("SELECT key, stage, owner, taxonomy FROM touchpoints ORDER BY rowid").fetchall()
    assert rows == [("delivery", "receive", None, "shop"), ("billing", "pay", "finance", "shop"), ("app", "use", None, "shop")]
    conf = [c for (c,) in db.execute("SELECT confidence FROM segment_touchpoints")]
    assert all(0 <= c <= 1 for c in conf)
    # whatever has no touchpoint says why and what came closest
    for reason, closest, p in db.execute("SELECT reason, closest, confidence FROM touchpoint_abstentions"):
        assert reason in (AMBIGUOUS, NO_FIT) and closest in ("delivery", "billing", "app") and 0 <= p < PARAMS.min_confidence
    assert r["none"] == db.execute("SELECT COUNT(*) FROM touchpoint_abstentions").fetchone()[0]


def test_off_topic_text_is_left_without_a_touchpoint(db, write, tax_file):
    load(db, write, DOCS)
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=AssignParams(min_confidence=0.6))
    assert "en-4" not in by_doc(db)
    reason, closest = db.execute("SELECT reason, closest FROM document_touchpoints t JOIN documents d ON d.id = t.document_id "
                                 "WHERE d.external_id = 'en-4'").fetchone()
    assert reason in (AMBIGUOUS, NO_FIT) and closest


def test_min_confidence_is_a_probability(db, write, tax_file):
    from miner.errors import UsageError

    load(db, write, DOCS[:3])
    with pytest.raises(UsageError) as exc:
        assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=AssignParams(min_confidence=1.5))
    assert exc.value.code == "E843"
    assert db.execute("SELECT COUNT(*) FROM touchpoints").fetchone()[0] == 0  # nothing stored


def test_few_shot_fixes_what_zero_shot_misses(db, write, tax_file):
    # words the taxonomy never uses (the fake encoder knows words, not meanings)
    docs = DOCS + [("en-5", "flimflam quux blorp", "delivery"), ("en-6", "snarf blorp quux", "delivery")]
    load(db, write, docs)
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    assert main_touchpoints(db)["en-5"] != "delivery" and main_touchpoints(db)["en-6"] != "delivery"
    examples = write("ex.csv", "text,touchpoint\n" + "".join(f"{t},{k}\n" for t, k in [
        ("blorp quux snarf", "delivery"), ("quux blorp zib", "delivery"), ("flimflam blorp quux", "delivery"),
        ("the courier lost my parcel quux blorp", "delivery"),
        ("charged twice on my bill", "billing"), ("wrong invoice again", "billing"), ("the bill was charged twice", "billing"),
        ("invoice charged wrong", "billing"),
        ("app crashes after update", "app"), ("cannot login app", "app"), ("the app crashes at login", "app"), ("login app crashes", "app")]))
    r = assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, examples=examples, params=PARAMS)
    assert r["examples"] == 12 and r["few_shot"]["folds"] == 4 and r["method"] == "few-shot", r["few_shot"]
    assert set(r["few_shot"]["per_touchpoint"]) == {"delivery", "billing", "app"}
    assert r["few_shot"]["held_out_accuracy"]["0.0"] < max(r["few_shot"]["held_out_accuracy"].values())
    got = main_touchpoints(db)
    assert got["en-5"] == "delivery" and got["en-6"] == "delivery"
    assert all(got[e] == w for e, _, w in DOCS[:-1]), got
    assert {m for (m,) in db.execute("SELECT DISTINCT method FROM segment_touchpoints")} == {"few-shot"}


def test_examples_csv_errors_point_at_the_line(write, tax_file):
    from miner.touchpoints.taxonomy import load_taxonomy

    tax = load_taxonomy(tax_file)
    cases = [
        ("text,touchpoint\nok text,delivery\nother,delivery\nsome text,shipping\n", "E834", ":4: unknown touchpoint 'shipping'"),
        ("text,touchpoint\nok text,delivery\n,delivery\n", "E834", ":3: the text is empty"),
        ("text,touchpoint\na,delivery\nb,delivery\nc,billing\n", "E834", ":4: touchpoint 'billing' has a single example"),
        ("text,touchpoint\na,\n", "E834", ":2: no touchpoint"),
        ("sentence,label\na,b\n", "E833", ":1: the header must name the columns text and touchpoint"),
        ("text,touchpoint\n", "E834", "no examples"),
    ]
    for n, (content, code, message) in enumerate(cases):
        path = write(f"bad{n}.csv", content)
        with pytest.raises(InputError) as exc:
            read_examples(path, tax)
        assert exc.value.code == code and message in exc.value.message, (content, exc.value.message)
    with pytest.raises(InputError) as exc:
        read_examples(write("latin1.csv", "text,touchpoint\ncaf\xe9,delivery\n".encode("latin-1")), tax)
    assert exc.value.code == "E833"


def test_bad_examples_store_nothing(db, write, tax_file):
    load(db, write, DOCS)
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    before = db.execute("SELECT * FROM segment_touchpoints ORDER BY segment_id").fetchall()
    with pytest.raises(InputError):
        assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, examples=write("b.csv", "text,touchpoint\nx,delivery\n"), params=PARAMS)
    assert db.execute("SELECT * FROM segment_touchpoints ORDER BY segment_id").fetchall() == before


def test_new_segments_get_touchpoints_in_analyze_style(db, write, tax_file):
    load(db, write, DOCS[:4])
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    before = db.execute("SELECT * FROM segment_touchpoints ORDER BY segment_id").fetchall()
    load(db, write, DOCS[4:8], name="more.jsonl")
    from miner.nlp.cache import EmbeddingCache, embed_texts
    from miner.nlp.textprep import encoder_input

    texts = [r[0] for r in db.execute("SELECT text FROM segments")]
    embed_texts(ENC, [encoder_input(t) for t in texts], EmbeddingCache(db))  # what analyze caches
    r = assign_touchpoints_to_new_segments(db, ENC)
    assert r["assigned"] == 4 and r["none"] == 0
    got = by_doc(db)
    assert all(got[e] == w for e, _, w in DOCS[:8])
    assert main_touchpoints(db)["zh-2"] == "billing"  # new documents get their main touchpoint too
    assert db.execute("SELECT * FROM segment_touchpoints ORDER BY segment_id").fetchall()[: len(before)] == before
    assert assign_touchpoints_to_new_segments(db, ENC)["assigned"] == 0  # nothing new: nothing done


def test_a_model_of_the_older_version_asks_for_a_new_assignment(db, write, tax_file):
    load(db, write, DOCS[:2])
    db.execute("INSERT INTO theme_state (key, value, run_id) VALUES ('touchpoints.prototypes', x'00', NULL)")
    db.execute("INSERT INTO theme_state (key, value, run_id) VALUES ('touchpoints.meta', '{}', NULL)")
    r = assign_touchpoints_to_new_segments(db, ENC)
    assert r["assigned"] == 0 and "re-run" in r["skipped"]


def _themes(db, assignments):
    now = "2026-01-01T00:00:00+00:00"
    for tid in {t for t in assignments.values() if t}:
        db.execute("INSERT INTO themes (id, label, status, created_at, updated_at) VALUES (?, ?, 'active', ?, ?)", [tid, f"theme {tid}", now, now])
    ids = {ext: sid for ext, sid in db.execute("SELECT d.external_id, s.id FROM segments s JOIN documents d ON d.id = s.document_id")}
    for ext, tid in assignments.items():
        db.execute("INSERT INTO segment_themes (segment_id, theme_id, score, method, run_id) VALUES (?, ?, 0.9, 'cluster', 1)", [ids[ext], tid])
    return ids


def test_theme_touchpoint_weights_by_hand(db, write):
    load(db, write, [(f"en-{i}", f"text number {i}", None) for i in range(6)])
    ids = _themes(db, {"en-0": 1, "en-1": 1, "en-2": 1, "en-3": 1, "en-4": 2, "en-5": None})
    rows = [("en-0", "delivery", 1), ("en-1", "delivery", 1), ("en-1", "billing", 2), ("en-2", "billing", 1), ("en-4", "app", 1), ("en-5", "app", 1)]
    db.conn.executemany("INSERT INTO segment_touchpoints VALUES (?, ?, 0.5, ?, 'zero-shot')", [(ids[e], t, r) for e, t, r in rows])
    link_themes_to_touchpoints(db)
    got = {(t, k): (w, n) for t, k, w, n in db.execute("SELECT theme_id, touchpoint, weight, segments FROM theme_touchpoints")}
    # theme 1: en-0 delivery, en-1 half delivery half billing, en-2 billing, en-3 none -> 1.5/3 each
    assert got == {(1, "delivery"): (0.5, 2), (1, "billing"): (0.5, 2), (2, "app"): (1.0, 1)}


def test_aspect_sentiment_and_overview(db, write, tax_file):
    load(db, write, DOCS)
    ids = _themes(db, {"en-1": 7, "de-1": 7, "en-2": 8})
    labels = {"en-1": "neg", "de-1": "neg", "zh-1": "pos", "fa-1": "neu", "en-2": "neg", "de-2": "pos"}
    for ext, lab in labels.items():
        db.execute("INSERT INTO segment_sentiment (segment_id, head, label, score) VALUES (?, 'h', ?, 0.5)", [ids[ext], lab])
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    rows = {r["touchpoint"]: r for r in aspect_sentiment(db)}
    assert (rows["delivery"]["segments"], rows["delivery"]["neg"], rows["delivery"]["pos"]) == (4, 2, 1)
    assert rows["delivery"]["neg_share"] == pytest.approx(2 / 4) and rows["delivery"]["net"] == pytest.approx(-1 / 4)
    by_theme = aspect_sentiment(db, by="theme", touchpoints=["delivery"])
    assert [(r["group"], r["segments"], r["neg"]) for r in by_theme] == [(7, 2, 2)]
    by_channel = {r["group"]: r["segments"] for r in aspect_sentiment(db, by="channel", touchpoints=["billing"])}
    assert by_channel == {"en": 1, "de": 1, "zh": 1, "fa": 1}
    weeks = aspect_sentiment(db, by="period", period="week")
    assert all(r["group"].startswith("2026-W") for r in weeks)
    o = touchpoint_overview(db)
    assert [t["touchpoint"] for t in o["touchpoints"]] == ["delivery", "billing", "app"]
    assert o["touchpoints"][0]["top_themes"] == [{"id": 7, "label": "theme 7", "segments": 2}]
    assert o["segments"] == 11 and o["with_touchpoint"] + sum(x["segments"] for x in o["abstentions"].values()) == 11
    assert o["documents"] == 11 and o["method"] == "zero-shot" and o["min_confidence"] == PARAMS.min_confidence


def test_export_gains_touchpoint_columns(db, write, tax_file):
    load(db, write, DOCS)
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    out = io.StringIO()
    export_table(db, "segments", "csv", out)
    header = out.getvalue().splitlines()[0].split(",")
    assert header[-4:] == ["touchpoint", "touchpoint_confidence", "touchpoint_2", "touchpoint_2_confidence"]
    out = io.StringIO()
    export_table(db, "documents", "jsonl", out)
    docs = {d["external_id"]: d for d in map(json.loads, out.getvalue().splitlines())}
    assert docs["zh-1"]["touchpoint"] == "delivery" and 0 < docs["zh-1"]["touchpoint_confidence"] <= 1
    assert docs["zh-1"]["touchpoints"][0]["key"] == "delivery" and docs["zh-1"]["touchpoints"][0]["stage"] == "receive"
    db.execute("UPDATE document_touchpoints SET touchpoint = NULL, reason = 'no_fit' WHERE document_id = "
               "(SELECT id FROM documents WHERE external_id = 'en-1')")
    out = io.StringIO()
    export_table(db, "documents", "jsonl", out)
    docs = {d["external_id"]: d for d in map(json.loads, out.getvalue().splitlines())}
    assert docs["en-1"]["touchpoint"] is None and docs["en-1"]["touchpoint_confidence"] is None  # the document's own decision


def test_cli(runner, db_path, write, tax_file):
    from miner.store import open_db

    load(open_db(db_path), write, DOCS)
    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(tax_file),
                            "--min-confidence", "0.6", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["assigned"] >= 10 - 1
    r = runner.invoke(app, ["touchpoints", "sentiment", "--db", str(db_path), "--by", "channel", "--csv"])
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("touchpoint,group,label,segments")
    r = runner.invoke(app, ["touchpoints", "sentiment", "--db", str(db_path), "--by", "colour"])
    assert r.exit_code == 2 and "E838" in r.output
    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(tax_file),
                            "--min-confidence", "0.99"])
    assert r.exit_code == 0 and "none at --min-confidence 0.99" in r.output
    r = runner.invoke(app, ["touchpoints", "list", "--db", str(db_path)])
    assert r.exit_code == 0 and "delivery" in r.output and "finance" in r.output
    assert "Without a touchpoint (--min-confidence 0.99):" in r.output and "closest:" in r.output
    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(tax_file),
                            "--min-confidence", "2"])
    assert r.exit_code == 2 and "E843" in r.output

    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(write("bad.yaml", "taxonomy: x\n"))])
    assert r.exit_code == 1 and "bad.yaml:1: the taxonomy has no 'stages'" in r.output
    for cmd in ("assign", "list", "sentiment", "check", "correct", "evaluate"):
        assert runner.invoke(app, ["touchpoints", cmd, "--help"]).exit_code == 0


def test_list_before_assign_is_a_clean_error(runner, db_path):
    from miner.store import open_db

    open_db(db_path)
    r = runner.invoke(app, ["touchpoints", "list", "--db", str(db_path)])
    assert r.exit_code == 2 and "E837" in r.output


@pytest.mark.models
def test_real_encoder_lands_multilingual_sentences_at_the_right_touchpoint():
    from miner.nlp.cache import EmbeddingCache, embed_texts
    from miner.nlp.encoders.registry import get_encoder
    from miner.store import open_db
    from miner.segments.vectors import Documents, Segments
    from miner.touchpoints.model import build_model
    from miner.touchpoints.taxonomy import load_taxonomy

    db = open_db(":memory:")
    enc = get_encoder(None)
    cases = [
        ("快递员把包裹弄丢了，到现在还没送到", "delivery"),
        ("دو بار از کارتم برای یک قبض پول کم کردند", "billing"),
        ("gọi tổng đài chờ máy cả tiếng mà không ai nghe", "call_center"),
        ("I can't log into my account, the verification code never arrives", "account"),
        ("Der Techniker ist zum Installationstermin nicht erschienen", "installation"),
        ("解約の手続きをしたのにまだ料金を請求されている", "cancellation"),
    ]
    X, _ = embed_texts(enc, [t for t, _ in cases], EmbeddingCache(db))
    langs = ["zh-Hans", "fa", "vi", "en", "de", "ja"]
    docs = Documents(np.arange(len(cases)), langs, np.ones(len(cases), bool), X, [])
    segs = Segments(np.arange(len(cases)), np.arange(len(cases)), [t for t, _ in cases], langs, np.ones(len(cases), bool), X)
    model, _ = build_model(db, enc, load_taxonomy(), docs, segs)
    got = [model.keys[i] for i in model.scores(X, langs, model.doc_align).argmax(1)]
    assert got == [w for _, w in cases]


def test_a_new_document_gets_the_same_touchpoint_whatever_it_is_assigned_with(db, write, tax_file):
    """`miner analyze --engine ray` assigns a unit of documents at a time, the local engine all at
    once: a document's touchpoint must not depend on the others (a language rare in the store,
    without lexicon phrases, is centred by the store's mean, not by the batch's)."""
    from miner.segments.vectors import Segments, cached_vectors, load_segments
    from miner.touchpoints.model import TouchpointModel, assign_new, documents_of_segments, stored_labels

    mapped = TAXONOMY
    for desc, concept in (("parcel courier delivery", "parcel_lost"), ("bill invoice charged", "double_charged"), ("app crashes login", "app_crashes")):
        mapped = mapped.replace(f"description: {desc}", f"description: {desc}\n        concepts: [{concept}]")
    load(db, write, DOCS[:8])
    assign_touchpoints(db, encoder=ENC, taxonomy=write("mapped.yaml", mapped), params=PARAMS)
    model = TouchpointModel.load(db)
    assert model.evidence is not None  # the concept evidence, whose centring this is about
    rare = [("eo-1", "la kuriero perdis mian pakon", "delivery"), ("eo-2", "la fakturo estis pagita dufoje", "billing"),
            ("eo-3", "la aplikaĵo kraŝas", "app")]
    load(db, write, rare + DOCS[8:10], name="more.jsonl")
    db.execute("UPDATE documents SET lang = 'eo' WHERE external_id LIKE 'eo-%'")
    segs, _ = load_segments(db, ENC, after_id=int(model.meta["last_segment_id"]))
    labels = stored_labels(db, model.keys)

    def rows(s):
        a = assign_new(model, s, documents_of_segments(s, cached_vectors(db, ENC), ENC.dim)[0], labels)
        return sorted(a.seg_rows + a.abstain_rows), sorted(a.doc_rows, key=repr)

    together = rows(segs)
    def only(i):
        return Segments(segs.ids[[i]], segs.doc_ids[[i]], [segs.texts[i]], [segs.langs[i]], segs.original[[i]], segs.vectors[[i]])

    alone = [rows(only(i)) for i in range(len(segs.ids))]
    assert together[0] == sorted(r for seg_rows, _ in alone for r in seg_rows)
    assert together[1] == sorted((r for _, doc_rows in alone for r in doc_rows), key=repr)
