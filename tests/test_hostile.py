"""Hostile input: whatever bytes arrive, ingest stores what it can, counts the rest, and never
shows a traceback or leaves a half-written store."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miner.cli.main import app
from miner.errors import MinerError
from miner.ingest.pipeline import IngestOptions, ingest
from miner.store import open_db

FORMATS = ["csv", "tsv", "jsonl", "json", "txt", "html", "parquet", "xlsx"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def consistent(db):
    """No orphan segments, segment counts match, FTS holds exactly the documents."""
    assert db.execute("SELECT COUNT(*) FROM segments WHERE document_id NOT IN (SELECT id FROM documents)").fetchone()[0] == 0
    assert db.execute(
        "SELECT COUNT(*) FROM documents d WHERE n_segments != (SELECT COUNT(*) FROM segments s WHERE s.document_id = d.id)"
    ).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == db["documents"].count
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


@FAST
@given(data=st.binary(max_size=3000), fmt=st.sampled_from(FORMATS))
def test_arbitrary_bytes_in_any_format(tmp_path_factory, data, fmt):
    path = tmp_path_factory.mktemp("h") / f"input.{fmt}"
    path.write_bytes(data)
    db = open_db(":memory:")
    try:
        ingest(db, [str(path)], IngestOptions(workers=0))
    except MinerError:
        pass
    consistent(db)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=200),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@FAST
@given(rows=st.lists(st.dictionaries(st.sampled_from(["text", "id", "date", "score", "channel", "x"]), json_values), max_size=20))
def test_arbitrary_json_records(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("j") / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) or "{}", encoding="utf-8")
    db = open_db(":memory:")
    try:
        summary = ingest(db, [str(path)], IngestOptions(workers=0, text="text"))
        assert summary.total("stored") + sum(summary.skipped.values()) + summary.total("already_stored") == summary.total("rows_read")
    except MinerError:
        pass
    consistent(db)


@FAST
@given(text=st.text(max_size=2000))
def test_arbitrary_unicode_text_lines(text):
    db = open_db(":memory:")
    try:
        ingest(db, ["-"], IngestOptions(workers=0, text_unit="line"), stdin=text.encode("utf-8", "surrogatepass"))
    except MinerError:
        pass
    consistent(db)


@pytest.mark.parametrize(
    "name, content",
    [
        ("zip_bomb_like.xlsx", b"PK\x03\x04" + b"\x00" * 5000),
        ("nul.csv", b"id,text\n1,a\x00b\n"),
        ("deep.json", b"[" * 100000 + b"]" * 100000),
        ("deep.jsonl", b"[" * 100000 + b"\n"),
        ("empty.csv", b""),
        ("header_only.csv", b"id,text\n"),
        ("only_bom.txt", b"\xef\xbb\xbf"),
        ("surrogates.jsonl", b'{"text": "\\ud800 lone surrogate"}\n'),
        ("wrong_utf16.txt", b"\xff\xfe" + b"\x00\xd8" * 10),
        ("control.txt", "\x1b[31mred\x1b[0m \x07 bell \u202e reversed".encode()),
        ("html_script.html", b"<html><script>while(1){}</script><body><p>" + b"The bill doubled. " * 10 + b"</p></body></html>"),
        ("huge_line.txt", b"x" * 1_200_000),
    ],
)
def test_hostile_files_through_the_cli(runner, tmp_path, write, name, content):
    path = write(name, content)
    db = tmp_path / "h.db"
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output + result.stderr
    if result.exit_code == 1:
        assert result.stderr.startswith("Error")
    consistent(open_db(db))


def test_unreadable_file_is_a_counted_failure(runner, tmp_path, write, monkeypatch):
    from pathlib import Path

    good = write("good.txt", "The technician was late.")
    bad = write("bad.txt", "secret")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "bad.txt":  # tests run as root, where chmod 0 does not stop reads
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = runner.invoke(app, ["ingest", str(good), str(bad), "--db", str(tmp_path / "h.db")])
    assert result.exit_code == 0 and "E206" in result.stderr and "Permission denied" in result.stderr
    assert "stored 1" in result.output


def test_formula_and_markup_text_is_stored_as_data(db, write):
    text = "=cmd|' /C calc'!A0 <script>alert(1)</script> '; DROP TABLE documents; --"
    ingest(db, [str(write("evil.jsonl", json.dumps({"text": text})))], IngestOptions(workers=0))
    assert db["documents"].count == 1
    assert "DROP TABLE" in db["documents"].get(1)["text"]
