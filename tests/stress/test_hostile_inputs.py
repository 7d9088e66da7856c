"""Hostile inputs through the real CLI: stored correctly or rejected with a coded one-line error,
never a traceback, memory under 1 GB. About 130 generated cases here (10 per kind) and the crafted
attacks below; bench/stress.py runs 10,000.

tests/test_hostile.py holds the property tests of the library (arbitrary bytes, JSON records,
Unicode lines) and the first hand-written files; this suite adds the generator of
tests/stress/hostile.py (crafted attacks and mutations of valid files for every reader and
every YAML file) and checks what was stored for the attacks whose right answer is known."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.stress import hostile
from tests.stress.hostile import Case, cases, run_case

PER_KIND = 10  # per input kind in CI (bench/stress.py runs 10,000 in all)


@pytest.mark.parametrize("kind", hostile.KINDS)
def test_crafted_and_mutated_inputs_are_stored_or_rejected_with_a_code(kind, tmp_path, runner):
    outcomes = [run_case(c, tmp_path / "run", runner=runner) for c in cases(PER_KIND, seed_value=hostile.KINDS.index(kind), kinds=(kind,), include_big=False)]
    bad = [f"{o.recipe}: {o.detail}" for o in outcomes if o.status == "traceback"]
    assert not bad, bad
    assert len(outcomes) >= PER_KIND
    if kind in hostile.YAMLS:  # every crafted YAML attack is invalid: each must be rejected with its loader's codes
        expected = {"taxonomy": {"E831", "E832"}, "rules": {"E920", "E921", "E922", "E923", "E924", "E925", "E926"}, "profile": {"E460", "E461"}}[kind]
        crafted = [o for o in outcomes if not o.recipe.startswith("mutated")]
        assert crafted and all(o.status == "rejected" and o.code in expected for o in crafted), [(o.recipe, o.code) for o in crafted]


def _stored_texts(db_path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [r[0] for r in conn.execute("SELECT text FROM documents ORDER BY id")]


def _ingest(runner, tmp_path, name, data, *extra):
    from miner.cli.main import app

    path = tmp_path / name
    path.write_bytes(data)
    db = tmp_path / "s.db"
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--workers", "0", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result, db


def test_rtl_overrides_and_lone_surrogates_are_stored_as_text(runner, tmp_path):
    rtl = "Refund \u202eriaper\u202c for order \u2066#42\u2069 please"
    rows = [json.dumps({"id": "a", "text": rtl}), '{"id": "b", "text": "The parcel \\ud800 arrived \\udfff broken"}']
    result, db = _ingest(runner, tmp_path, "x.jsonl", "\n".join(rows).encode())
    assert result.exit_code == 0, result.output
    texts = _stored_texts(db)
    assert any("\u202eriaper\u202c" in t for t in texts)  # stored as written: a reader's display decides how to show it
    assert any("The parcel \ufffd arrived \ufffd broken" in t for t in texts)


def test_a_5_mb_cell_is_counted_too_large_and_the_other_rows_are_stored(runner, tmp_path):
    data = b"id,text\n1," + b"a" * 5_000_000 + b"\n2,The parcel was late and the box was crushed.\n"
    result, db = _ingest(runner, tmp_path, "x.csv", data)
    assert result.exit_code == 0 and "too_large 1" in result.output
    assert _stored_texts(db) == ["The parcel was late and the box was crushed."]


def test_a_hundred_thousand_columns_are_one_row(runner, tmp_path):
    header = ",".join(f"c{i}" for i in range(100_000)) + ",text\n"
    row = ",".join("" for _ in range(100_000)) + ",The refund never came.\n"
    result, db = _ingest(runner, tmp_path, "x.csv", (header + row).encode(), "--text", "text")
    assert result.exit_code == 0, result.output
    assert _stored_texts(db) == ["The refund never came."]


@pytest.mark.parametrize("name, make", [
    ("bomb.csv.gz", lambda: hostile._gzip_bomb(0.3, b"id,text\n1,")),
    ("bomb.zip", lambda: hostile._zip_with(hostile._zip_bomb_member("a.csv", 300, b"id,text\n1,"))),
    ("bomb.xlsx", lambda: hostile._workbook(strings=hostile._zip_bomb_member("xl/sharedStrings.xml", 300, b"<sst><si><t>", b"</t></si></sst>"))),
])
def test_compression_bombs_are_refused_before_they_expand(runner, tmp_path, name, make):
    result, db = _ingest(runner, tmp_path, name, make())
    assert result.exit_code == 1 and "[E222]" in result.stderr and "256 MB" in result.stderr, result.output
    assert not db.exists()


# Found by bench/stress.py: a seed CSV with runs of 3,293, 126 and 581 inserted quotes, gzipped.
QUOTE_RUNS_GZ = "H4sIAIq7FWsC/+3az2vUQBQH8IOeCv0fHnuelE1c1xY86kkP4n+QzT6agdlkmZlsFS9r2S1Vu4qehPoDq3RdC1uklnaL6GH/icnZnVpP/gvOrsGCJ8GCIO8DCZOXyTfJyy0JrzONtzSrhxpZFIdJgoKpKJU4PyfLzPTzjjlwy1vI181+iRBCCCGEEEL+B3cIIYQQQggh5NSNa+fO/9nMy9QsQs7cv31FwOgtCflreQfyNdPPV82+6U+/qw/Nbt41A5h9bR/lXbfum1eQd/IumHfmvdkFV+7k98CN99y+bbdxnwXloOqVK55fZdgIuWDB/Jz02VUBErFRS4VKIcmSKAQhcHm8B7cBBURxqKGBEKViWqunCloYoVoo8pY835/+CaCZ7+ICVrrCEW5iFLuoZVgJpTuk2UShwcXHaRTDipvQQok8qYVSM6hxrRFQKh26QbJQKpIXPT8orrTioi/8/nfB2fZldh8/z1Z1Z6sw+3nnW/uJffz0uH3XHm3bT+v2YPj944bd6J68Hk1GL0+2duzDB/b5o8nR2rQ+3Dp+1psctr9ufpgc9uzmC/um96W9WuRf8vylIn/R5V9kpesIgrckZhJcy0Ou1HgAYtZprly3MuWq0BQZRwY6zTSgco8izbgQ48GvNlVP2+Qu/AfRHgnXoSEAAA=="


def test_a_run_of_thousands_of_quotes_does_not_stall_the_delimiter_sniffer(runner, tmp_path):
    """csv.Sniffer backtracked for over 7 minutes on this file; now the run is collapsed first."""
    import base64
    import time

    started = time.perf_counter()
    result, db = _ingest(runner, tmp_path, "quotes.csv.gz", base64.b64decode(QUOTE_RUNS_GZ))
    assert time.perf_counter() - started < 60, "the sniffer stalled"
    assert result.exit_code == 0, result.output
    assert "Le livreur a laissé le colis sous la pluie, tout est mouillé." in _stored_texts(db)  # rows after the broken one


def test_a_zip_member_with_damaged_deflate_data_is_E219(runner, tmp_path):
    """Found by bench/stress.py (a flipped byte): zlib.error was E999."""
    data = bytearray(hostile._zip({"a.csv": b"id,text\n" + b"1,The parcel arrived broken and nobody answered.\n" * 200}))
    start = 30 + len(b"a.csv")  # the member's compressed data, after its local header
    data[start + 2 : start + 12] = b"\xff" * 10
    result, _ = _ingest(runner, tmp_path, "x.zip", bytes(data))
    assert result.exit_code == 1 and "[E219]" in result.stderr, result.output


def test_damaged_workbooks_are_E217(runner, tmp_path):
    for case in hostile.crafted("xlsx"):
        if case.recipe in ("string-index-out-of-range", "bad-cell-ref", "not-xml", "billion-laughs", "external-entity"):
            result, _ = _ingest(runner, tmp_path, "x.xlsx", case.make())
            assert result.exit_code == 1 and "[E217]" in result.stderr, (case.recipe, result.output)


@pytest.mark.parametrize("recipe", ["alias-bomb", "alias-bomb-late", "deep-nesting"])
@pytest.mark.parametrize("kind", hostile.YAMLS)
def test_yaml_bombs_are_rejected_quickly_in_a_subprocess_under_1_gb(kind, recipe, tmp_path):
    case = next(c for c in hostile.crafted(kind) if c.recipe == recipe)
    outcome = run_case(case, tmp_path / "run", subprocess_run=True, timeout=60)
    assert outcome.status == "rejected", outcome
    assert outcome.seconds < 30 and outcome.peak_rss_mb < 1024, outcome


@pytest.mark.parametrize("kind, recipe", [("html", "billion-laughs"), ("json", "deep-nesting"), ("csv", "utf16-lone-surrogates")])
def test_a_few_attacks_in_a_subprocess(kind, recipe, tmp_path):
    case = next(c for c in hostile.crafted(kind) if c.recipe == recipe)
    outcome = run_case(case, tmp_path / "run", subprocess_run=True, timeout=120)
    assert outcome.status in ("stored", "rejected"), outcome
    assert outcome.peak_rss_mb < 1024, outcome


def test_the_classifier_catches_what_it_must():
    """The verdicts the suite relies on, checked on outputs written by hand."""
    assert hostile.classify(0, "stored 1", "", None)[0] == "stored"
    assert hostile.classify(1, "", "Error in x.csv: [E214] invalid JSON. Fix it.\n", SystemExit(1))[:2] == ("rejected", "E214")
    assert hostile.classify(1, "", "Error [E999] internal error: KeyError: 'x'.\n", SystemExit(1))[0] == "traceback"
    assert hostile.classify(1, "", "Traceback (most recent call last):\n  File ...\n", SystemExit(1))[0] == "traceback"
    assert hostile.classify(1, "", "something broke\n", SystemExit(1))[0] == "traceback"
    assert hostile.classify(0, "", "", ValueError("boom"))[0] == "traceback"
    assert Case("gz", "x", lambda: b"").filename == "input.csv.gz"
