"""People's touchpoint labels: corrections applied at once, kept and learned from by later
runs, CSV input that is all or nothing with one clear line per problem, and
`miner touchpoints evaluate` against a labelled sample (fake encoder)."""

import json

import pytest

from miner.cli.main import app
from miner.errors import InputError, UsageError
from miner.store import open_db
from miner.touchpoints.evaluate import evaluate_touchpoints
from miner.touchpoints.labels import correct_touchpoints
from miner.touchpoints.model import assign_touchpoints
from tests.test_touchpoints import DOCS, ENC, PARAMS, TAXONOMY, load, main_touchpoints

EXTRA = [("en-5", "flimflam quux blorp", None), ("en-6", "snarf blorp quux", None), ("en-7", "zib zab zob", None),
         ("en-8", "zab zob zib glorp", None)]


@pytest.fixture
def store(db, write):
    load(db, write, DOCS + EXTRA)
    tax = write("shop.yaml", TAXONOMY)
    assign_touchpoints(db, encoder=ENC, taxonomy=tax, params=PARAMS)
    return db, tax


def seg_of(db, ext):
    return db.execute("SELECT s.id FROM segments s JOIN documents d ON d.id = s.document_id WHERE d.external_id = ?", [ext]).fetchone()[0]


def doc_of(db, ext):
    return db.execute("SELECT id FROM documents WHERE external_id = ?", [ext]).fetchone()[0]


def test_a_correction_applies_now_and_to_the_document_s_segments(store):
    db, _ = store
    r = correct_touchpoints(db, item="en-5", touchpoint="delivery")
    assert r["stored"] == 1 and r["documents"] == 1 and r["total"] == 1
    assert main_touchpoints(db)["en-5"] == "delivery"
    row = db.execute("SELECT touchpoint, method, confidence FROM segment_touchpoints WHERE segment_id = ?", [seg_of(db, "en-5")]).fetchall()
    assert row == [("delivery", "human", 1.0)]
    # a segment of a one-segment document: the document follows; doc:ID and seg:ID name items too
    correct_touchpoints(db, item=f"seg:{seg_of(db, 'en-6')}", touchpoint="delivery")
    assert main_touchpoints(db)["en-6"] == "delivery"
    correct_touchpoints(db, item=f"doc:{doc_of(db, 'en-7')}", touchpoint="none")
    assert main_touchpoints(db)["en-7"] is None
    assert db.execute("SELECT reason FROM touchpoint_abstentions WHERE segment_id = ?", [seg_of(db, "en-7")]).fetchone() == ("corrected_to_none",)
    # correcting again replaces the earlier label
    r = correct_touchpoints(db, item="en-7", touchpoint="app")
    assert r["replaced"] == 1 and r["total"] == 3 and main_touchpoints(db)["en-7"] == "app"


def test_later_runs_keep_corrections_and_learn_from_them(store):
    db, tax = store
    assert main_touchpoints(db)["en-8"] != "billing"
    for ext, key in (("en-5", "delivery"), ("en-6", "delivery"), ("en-7", "billing"), ("en-3", "billing")):
        correct_touchpoints(db, item=ext, touchpoint=key)
    r = assign_touchpoints(db, encoder=ENC, taxonomy=tax, params=PARAMS)
    got = main_touchpoints(db)
    assert (got["en-5"], got["en-6"], got["en-7"], got["en-3"]) == ("delivery", "delivery", "billing", "billing")  # kept
    assert r["corrections"] == 4 and r["few_shot"] is not None  # learned from
    assert got["en-8"] == "billing"  # "zab zob zib glorp" is like the corrected "zib zab zob"
    methods = dict(db.execute("SELECT d.external_id, t.method FROM document_touchpoints t JOIN documents d ON d.id = t.document_id"))
    assert methods["en-5"] == "human" and methods["en-8"] in ("few-shot", "zero-shot")


def test_corrections_naming_another_taxonomy_s_touchpoints_are_kept_unused(store, write):
    db, _ = store
    correct_touchpoints(db, item="en-5", touchpoint="delivery")
    other = write("other.yaml", TAXONOMY.replace("key: delivery", "key: shipping"))
    r = assign_touchpoints(db, encoder=ENC, taxonomy=other, params=PARAMS)
    assert r["corrections_ignored"] == 1 and db.execute("SELECT COUNT(*) FROM touchpoint_labels").fetchone()[0] == 1


@pytest.mark.parametrize("content,code,message", [
    ("id,touchpoint\nen-1,delivery\nnope-9,billing\n", "E841", ":3: no document or segment 'nope-9' in this store"),
    ("id,touchpoint\nen-1,shipping\n", "E841", ":2: unknown touchpoint 'shipping'"),
    ("id,touchpoint\nen-1,delivery\nen-1,billing\n", "E841", ":3: 'en-1' is labelled twice (first at line 2)"),
    ("id,touchpoint\n,delivery\n", "E841", ":2: the id is empty"),
    ("id,touchpoint\nen-1,\n", "E841", ":2: no touchpoint for 'en-1'"),
    ("id,touchpoint\nseg:99999,app\n", "E841", ":2: no segment 99999 in this store"),
    ("doc,label\nen-1,delivery\n", "E840", ":1: the header must name the columns id and touchpoint"),
    ("id,touchpoint\n", "E841", "no labels"),
])
def test_bad_correction_files_say_one_line_and_store_nothing(store, write, content, code, message):
    db, _ = store
    before = db.execute("SELECT * FROM document_touchpoints ORDER BY document_id").fetchall()
    path = write("fix.csv", content)
    with pytest.raises(InputError) as exc:
        correct_touchpoints(db, csv_path=path)
    assert exc.value.code == code and message in exc.value.message and "\n" not in exc.value.message
    assert db.execute("SELECT COUNT(*) FROM touchpoint_labels").fetchone()[0] == 0
    assert db.execute("SELECT * FROM document_touchpoints ORDER BY document_id").fetchall() == before


def test_a_correction_file_is_all_or_nothing(store, write):
    db, _ = store
    r = correct_touchpoints(db, csv_path=write("fix.csv", "id,touchpoint\nen-5,delivery\nen-6,none\n"))
    assert r["stored"] == 2 and r["none"] == 1
    assert main_touchpoints(db)["en-6"] is None


def test_single_corrections_check_their_item_and_touchpoint(store):
    db, _ = store
    with pytest.raises(UsageError) as exc:
        correct_touchpoints(db, item="xx-1", touchpoint="delivery")
    assert exc.value.code == "E842"
    with pytest.raises(UsageError) as exc:
        correct_touchpoints(db, item="en-1", touchpoint="shipping")
    assert exc.value.code == "E839" and "delivery" in exc.value.hint
    with pytest.raises(UsageError) as exc:
        correct_touchpoints(db, item="en-1")
    assert exc.value.code == "E842"


def test_evaluate_against_a_labelled_sample(store, write):
    db, _ = store
    truth = {e: w for e, _, w in DOCS if w}
    truth["en-5"] = "delivery"
    rows = "\n".join(f"{e},{w}" for e, w in truth.items())
    r = evaluate_touchpoints(db, write("sample.csv", "id,touchpoint\n" + rows + "\n"))
    got = main_touchpoints(db)
    right = sum(got.get(e) == w for e, w in truth.items())
    assert r["evaluated"] == len(truth) and r["top1"] == pytest.approx(right / len(truth), abs=1e-4)
    assert 0 <= r["coverage"] <= 1 and 0 <= r["macro_f1"] <= 1
    assert sum(sum(v.values()) for v in r["confusion"].values()) == len(truth)
    assert r["per_touchpoint"]["delivery"]["labelled"] == 5
    correct_touchpoints(db, item="en-5", touchpoint="delivery")
    r2 = evaluate_touchpoints(db, write("sample.csv", "id,touchpoint\n" + rows + "\n"))
    assert r2["left_out_corrected"] == 1 and r2["evaluated"] == len(truth) - 1  # corrected items are not evidence


def test_before_any_assignment_corrections_and_evaluation_are_clean_errors(db, write):
    from miner.errors import UsageError

    load(db, write, DOCS[:2])
    with pytest.raises(UsageError) as exc:
        correct_touchpoints(db, item="en-1", touchpoint="delivery")
    assert exc.value.code == "E837"


def test_cli_correct_and_evaluate(runner, db_path, write):
    load(open_db(db_path), write, DOCS + EXTRA)
    tax = write("shop.yaml", TAXONOMY)
    r = runner.invoke(app, ["touchpoints", "assign", "--db", str(db_path), "--encoder", "fake-512", "--taxonomy", str(tax), "--min-confidence", "0.5"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["touchpoints", "correct", "en-5", "delivery", "--db", str(db_path)])
    assert r.exit_code == 0 and "Stored 1 correction(s)" in r.output, r.output
    r = runner.invoke(app, ["touchpoints", "correct", "--csv", str(write("c.csv", "id,touchpoint\nen-6,delivery\n")), "--db", str(db_path), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["total"] == 2
    r = runner.invoke(app, ["touchpoints", "correct", "--csv", str(write("bad.csv", "id,touchpoint\nen-6,shipping\n")), "--db", str(db_path)])
    assert r.exit_code == 1 and "E841" in r.output and "bad.csv:2:" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["touchpoints", "correct", "en-5", "delivery", "--csv", str(write("c2.csv", "id,touchpoint\nen-6,app\n")), "--db", str(db_path)])
    assert r.exit_code == 2 and "E842" in r.output
    r = runner.invoke(app, ["touchpoints", "list", "--db", str(db_path)])
    assert r.exit_code == 0 and "Corrections kept: 2" in r.output
    sample = write("sample.csv", "id,touchpoint\n" + "\n".join(f"{e},{w}" for e, _, w in DOCS if w) + "\n")
    r = runner.invoke(app, ["touchpoints", "evaluate", "--labels", str(sample), "--db", str(db_path)])
    assert r.exit_code == 0, r.output
    assert "Top-1" in r.output and "macro-F1" in r.output and "Confusion" in r.output and "billing" in r.output
    r = runner.invoke(app, ["touchpoints", "evaluate", "--labels", str(write("x.csv", "a,b\n")), "--db", str(db_path)])
    assert r.exit_code == 1 and "E840" in r.output
