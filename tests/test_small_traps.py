"""Small traps a new user falls into (issue 15): compressed and zipped exports, common id and
date headers, part numbers taken for national ids, exports only their owner can read, and a
failed first ingest leaving an empty store behind."""

import bz2
import gzip
import lzma
import os
import stat
import zipfile

import pytest

from miner.cli.main import app
from miner.errors import InputError
from miner.files import replacing
from miner.ingest.mapping import resolve_mapping
from miner.ingest.pii import Redactor
from miner.ingest.pipeline import IngestOptions, expand_inputs, ingest

CSV = (
    "complaint_id,Consumer complaint narrative,Date received,Submitted via\n"
    "C-1,The refund never arrived after three weeks of waiting for it,2026-03-01,Web\n"
    "C-2,The router drops the connection every evening around eight,2026-03-02,Phone\n"
)
JSONL = '{"id": "r1", "text": "App crashes at login every single time I open it"}\n'


def _texts(db):
    return sorted(r[0] for r in db.execute("SELECT text FROM documents"))


# --- compressed and zipped exports -------------------------------------------------------


@pytest.mark.parametrize("suffix,compress", [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)])
def test_compressed_exports_are_read_as_the_file_inside(db, write, suffix, compress):
    path = write(f"complaints.csv{suffix}", compress(CSV.encode()))
    summary = ingest(db, [str(path)], IngestOptions(workers=0)).to_dict()
    assert summary["inputs"][0]["status"] == "done" and summary["inputs"][0]["format"] == "csv"
    assert summary["totals"]["stored"] == 2
    assert db.execute("SELECT name FROM sources").fetchone()[0] == f"complaints.csv{suffix}"


def test_gzip_under_a_plain_name_and_on_stdin(db, write):
    path = write("complaints.jsonl", gzip.compress(JSONL.encode()))  # compressed, not named so
    assert ingest(db, [str(path)], IngestOptions(workers=0)).to_dict()["totals"]["stored"] == 1
    summary = ingest(db, ["-"], IngestOptions(workers=0, format="csv"), stdin=gzip.compress(CSV.encode())).to_dict()
    assert summary["totals"]["stored"] == 2


def test_a_zip_is_read_like_a_folder(db, write, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2026/complaints.csv", CSV)
        zf.writestr("reviews.jsonl.gz", gzip.compress(JSONL.encode()))
        zf.writestr("readme.pdf", b"%PDF-1.4")
        zf.writestr("__MACOSX/2026/._complaints.csv", b"\x00\x05")
        zf.writestr(".hidden.csv", CSV)
    files, unsupported = expand_inputs([str(archive)])
    assert [str(f) for f in files] == [f"{archive}/2026/complaints.csv", f"{archive}/reviews.jsonl.gz"]
    assert unsupported == [f"{archive}/readme.pdf"]
    summary = ingest(db, [str(archive)], IngestOptions(workers=0)).to_dict()
    assert summary["totals"]["stored"] == 3 and summary["skipped"] == {"unsupported_file": 1}
    assert db.execute("SELECT path FROM sources ORDER BY id").fetchone()[0] == f"{archive.resolve()}/2026/complaints.csv"
    # in a folder too, and the same content is recognised as already ingested
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "export.zip").write_bytes(archive.read_bytes())
    again = ingest(db, [str(folder)], IngestOptions(workers=0)).to_dict()
    assert again["totals"]["stored"] == 0 and {i["status"] for i in again["inputs"]} == {"unchanged"}


def test_damaged_archives_and_other_binaries_say_what_they_are(db, write):
    with pytest.raises(InputError, match="E219"):
        expand_inputs([str(write("broken.zip", b"PK\x03\x04 not really a zip"))])
    truncated = write("cut.csv.gz", gzip.compress(CSV.encode())[:40])
    report = ingest(db, [str(truncated)], IngestOptions(workers=0)).inputs[0]
    assert report.status == "failed" and "[E219]" in report.error and "truncated" in report.error
    zipped_as_csv = write("data.csv", _zip_bytes())
    report = ingest(db, [str(zipped_as_csv)], IngestOptions(workers=0)).inputs[0]
    assert "[E211]" in report.error and "zip archive" in report.error and ".zip name" in report.error
    seven = write("data.7z.csv", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64))
    assert "7-Zip" in ingest(db, [str(seven)], IngestOptions(workers=0)).inputs[0].error


def _zip_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", CSV)
    return buf.getvalue()


# --- column headers -------------------------------------------------------------------


def test_common_complaint_export_headers_are_detected():
    m = resolve_mapping(["complaint_id", "Consumer complaint narrative", "Date received", "Submitted via", "Product"])
    assert (m.external_id, m.text, m.created_at, m.channel) == (
        "complaint_id", "Consumer complaint narrative", "Date received", "Submitted via")
    assert m.meta == ["Product"]
    tweets = resolve_mapping(["tweet_id", "airline_sentiment", "airline", "text", "tweet_created", "user_timezone"])
    assert (tweets.external_id, tweets.text, tweets.created_at) == ("tweet_id", "text", "tweet_created")
    assert resolve_mapping(["Ticket Number", "Details", "Created Date"]).external_id == "Ticket Number"


# --- PII: part numbers are not national ids ---------------------------------------------


@pytest.mark.parametrize("text", [
    "Ordered part PN 320008A last week and it broke.",
    "PN320008A is out of stock again",
    "Model JG 103748A overheats",
    "Replaced part AB123456C twice",
])
def test_part_numbers_are_not_redacted(text):
    assert Redactor().redact(text) == (text, {})


@pytest.mark.parametrize("text,expected", [
    ("NI number JG 10 37 48 A", "NI number [NATIONAL_ID]"),
    ("NINO: AB123456C", "NINO: [NATIONAL_ID]"),
    ("my national insurance is PN 320008A", "my national insurance is [NATIONAL_ID]"),
    ("my number is AB 12 34 56 C, please call", "my number is [NATIONAL_ID], please call"),
])
def test_real_national_insurance_numbers_still_are(text, expected):
    assert Redactor().redact(text)[0] == expected


# --- exports readable like any file ----------------------------------------------------


def test_exports_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        new = tmp_path / "new.csv"
        with replacing(new) as tmp:
            open(tmp, "w").write("a\n")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's 0600
        kept = tmp_path / "kept.csv"
        kept.write_text("old")
        kept.chmod(0o640)
        with replacing(kept) as tmp:
            open(tmp, "w").write("new\n")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "new\n"
    finally:
        os.umask(old)


def test_cli_export_file_mode(runner, tmp_path, write):
    db, out = tmp_path / "m.db", tmp_path / "docs.csv"
    assert runner.invoke(app, ["ingest", str(write("a.csv", CSV)), "--db", str(db)]).exit_code == 0
    old = os.umask(0o022)
    try:
        assert runner.invoke(app, ["export", "documents", "--db", str(db), "--format", "csv", "--out", str(out)]).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


# --- a failed first ingest leaves no store ------------------------------------------------


def test_failed_first_ingest_leaves_no_empty_store(runner, tmp_path, write):
    db = tmp_path / "new.db"
    binary = write("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    r = runner.invoke(app, ["ingest", str(binary), "--db", str(db)])
    assert r.exit_code == 1 and "E211" in r.stderr and "no store was created" in r.stderr
    assert not any(tmp_path.glob("new.db*"))
    r = runner.invoke(app, ["ingest", str(write("a.csv", CSV)), "--text", "nope", "--db", str(db)])
    assert r.exit_code != 0 and not any(tmp_path.glob("new.db*"))


def test_an_existing_store_is_never_removed(runner, tmp_path, write):
    db = tmp_path / "kept.db"
    assert runner.invoke(app, ["ingest", str(write("a.csv", CSV)), "--db", str(db)]).exit_code == 0
    r = runner.invoke(app, ["ingest", str(write("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(50))), "--db", str(db)])
    assert r.exit_code == 1 and db.exists() and "no store was created" not in r.stderr
    empty_existing = tmp_path / "empty.db"
    from miner.store import open_db

    open_db(empty_existing).conn.close()  # created by someone else, still empty
    runner.invoke(app, ["ingest", str(tmp_path / "photo.csv"), "--db", str(empty_existing)])
    assert empty_existing.exists()
