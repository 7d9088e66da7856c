"""Touchpoint assignment: pure functions, the store side, few-shot, none, theme links,
aspect sentiment, exports and the CLI (fake encoder), and one real-model check."""

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
    AssignParams,
    build_prototypes,
    decide,
    similarities,
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
PARAMS = AssignParams(threshold=0.15)  # the fake encoder's cosines are not e5's
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
    return {
        ext: tp
        for ext, tp in db.execute(
            "SELECT d.external_id, t.touchpoint FROM segment_touchpoints t JOIN segments s ON s.id = t.segment_id "
            "JOIN documents d ON d.id = s.document_id WHERE t.rank = ?", [rank]
        )
    }


def test_pure_assignment_none_and_second():
    keys = ["a", "b", "c"]
    V = np.eye(3, 8, dtype=np.float32)
    protos = build_prototypes(keys, V, np.array([0, 1, 2]))
    X = np.array([[1, 0, 0, 0, 0, 0, 0, 0], [1, 0.9, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0]], np.float32)
    a = decide(similarities(X, protos, 0.5), AssignParams(threshold=0.1, second_margin=0.1))
    assert a.first.tolist() == [0, 0, -1]  # the third is about none of them
    assert a.second.tolist() == [-1, 1, -1]  # the second mentions two, nearly equally
    assert np.all((a.first_conf >= 0) & (a.first_conf <= 1)) and a.first_conf[0] > 0.9
    assert a.first_conf[2] == 0.0
    strict = decide(similarities(X, protos, 0.5), AssignParams(threshold=0.1, second_margin=0.05))
    assert strict.second.tolist() == [-1, -1, -1]


def test_assigns_across_languages_and_leaves_none(db, write, tax_file):
    load(db, write, DOCS)
    r = assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    got = by_doc(db)
    for ext, _, want in DOCS:
        assert got.get(ext) == want, ext
    assert r["method"] == "prototype" and r["none"] == 1 and r["touchpoints"] == 3
    rows = db.execute("SELECT key, stage, owner, taxonomy FROM touchpoints ORDER BY rowid").fetchall()
    assert rows == [("delivery", "receive", None, "shop"), ("billing", "pay", "finance", "shop"), ("app", "use", None, "shop")]
    conf = [c for (c,) in db.execute("SELECT confidence FROM segment_touchpoints")]
    assert all(0 <= c <= 1 for c in conf)


def test_few_shot_fixes_what_zero_shot_misses(db, write, tax_file):
    docs = DOCS + [("en-5", "the drone dropped it at the neighbour", "delivery")]
    load(db, write, docs)
    assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, params=PARAMS)
    assert by_doc(db).get("en-5") is None  # zero-shot: no shared words with the taxonomy
    examples = write("ex.csv", "text,touchpoint\ndrone dropped parcel at neighbour,delivery\nrefund on my bill,billing\n")
    r = assign_touchpoints(db, encoder=ENC, taxonomy=tax_file, examples=examples, params=PARAMS)
    assert r["method"] == "few-shot" and r["examples"] == 2
    got = by_doc(db)
    assert got["en-5"] == "delivery"
    assert {got[e] for e, _, w in DOCS if w} and all(got[e] == w for e, _, w in DOCS if w)
    assert {m for (m,) in db.execute("SELECT DISTINCT method FROM segment_touchpoints")} == {"few-shot"}


def test_examples_csv_errors_point_at_the_line(write, tax_file):
    from miner.touchpoints.taxonomy import load_taxonomy

    tax = load_taxonomy(tax_file)
    bad = write("bad.csv", "text,touchpoint\nok text,delivery\nsome text,shipping\n")
    with pytest.raises(InputError) as exc:
        read_examples(bad, tax)
    assert exc.value.code == "E834" and f"{bad}:3: unknown touchpoint 'shipping'" in exc.value.message
    with pytest.raises(InputError) as exc:
        read_examples(write("cols.csv", "sentence,label\na,b\n"), tax)
    assert exc.value.code == "E833"


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
    assert db.execute("SELECT * FROM segment_touchpoints ORDER BY segment_id").fetchall()[: len(before)] == before
    assert assign_touchpoints_to_new_segments(db, ENC)["assigned"] == 0  # nothing new: nothing done


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
    db.conn.executemany("INSERT INTO segment_touchpoints VALUES (?, ?, 0.5, ?, 'prototype')", [(ids[e], t, r) for e, t, r in rows])
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
    assert o["with_touchpoint"] == 10 and o["segments"] == 11


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
    assert docs["zh-1"]["touchpoint"] == "delivery"
    assert docs["zh-1"]["touchpoints"][0]["key"] == "delivery" and docs["zh-1"]["touchpoints"][0]["stage"] == "receive"
    assert docs["en-4"]["touchpoint"] is None and docs["en-4"]["touchpoints"] == []


def test_cli(runner, db_path, write, tax_file):
    from miner.store import open_db

    load(open_db(db_path), write, DOCS)
    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(tax_file),
                            "--threshold", "0.15", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["assigned"] == 10
    r = runner.invoke(app, ["touchpoints", "list", "--db", str(db_path)])
    assert r.exit_code == 0 and "delivery" in r.output and "finance" in r.output
    r = runner.invoke(app, ["touchpoints", "sentiment", "--db", str(db_path), "--by", "channel", "--csv"])
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("touchpoint,group,label,segments")
    r = runner.invoke(app, ["touchpoints", "sentiment", "--db", str(db_path), "--by", "colour"])
    assert r.exit_code == 2 and "E838" in r.output
    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(write("bad.yaml", "taxonomy: x\n"))])
    assert r.exit_code == 1 and "bad.yaml:1: the taxonomy has no 'stages'" in r.output
    for cmd in ("assign", "list", "sentiment", "check"):
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
    from miner.touchpoints.model import build_model
    from miner.touchpoints.taxonomy import load_taxonomy

    db = open_db(":memory:")
    enc = get_encoder(None)
    model, _ = build_model(db, enc, load_taxonomy())
    cases = [
        ("快递员把包裹弄丢了，到现在还没送到", "delivery"),
        ("دو بار از کارتم برای یک قبض پول کم کردند", "billing"),
        ("gọi tổng đài chờ máy cả tiếng mà không ai nghe", "call_center"),
        ("I can't log into my account, the verification code never arrives", "account"),
        ("Der Techniker ist zum Installationstermin nicht erschienen", "installation"),
        ("解約の手続きをしたのにまだ料金を請求されている", "cancellation"),
    ]
    X, _ = embed_texts(enc, [t for t, _ in cases], EmbeddingCache(db))
    a = model.assign(X)
    got = [model.keys[i] if i >= 0 else None for i in a.first]
    assert got == [w for _, w in cases]
