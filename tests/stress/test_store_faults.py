"""A full disk and a read-only store: a coded one-line error, and the store as it was.

The full disk is a small tmpfs mounted for the test (root), or else a file size limit
(`ulimit -f`, RLIMIT_FSIZE) in a subprocess; the read-only store is a read-only mount (root),
and a file and folder without write permission opened by an unprivileged user. "As it was":
every table's rows are the same before and after, but for the `sources` row that records the
failed attempt (status `failed`, nothing stored).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.stress.hostile import CODE

ROOT = Path(__file__).resolve().parents[2]


def miner(*args, limit_bytes: int | None = None, user: int | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    def limits():
        if limit_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        if user is not None:
            os.setgid(user)
            os.setuid(user)

    env = {**os.environ, "MINER_ENCODER": "fake"}
    return subprocess.run([sys.executable, "-m", "miner.cli.main", *map(str, args)], capture_output=True, text=True,
                          preexec_fn=limits, env=env, timeout=timeout, cwd=ROOT)


def snapshot(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'documents_fts%' ORDER BY name")]
        out = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
        out["sources"] = conn.execute("SELECT * FROM sources ORDER BY id").fetchall()
        out["_integrity"] = conn.execute("PRAGMA integrity_check").fetchall()
        out["_fts"] = conn.execute("SELECT COUNT(*) FROM documents_fts").fetchall()
        return out
    finally:
        conn.close()


def assert_as_it_was(before: dict, after: dict) -> None:
    assert after["_integrity"] == [("ok",)]
    for table, rows in before.items():
        if table == "sources":
            assert after[table][: len(rows)] == rows
            new = after[table][len(rows):]
            assert all("failed" in row for row in new), new  # the record of the failed attempt, nothing more
        elif table != "_miner_migrations":
            assert after[table] == rows, table
    assert set(after) == set(before)


def one_coded_error(result: subprocess.CompletedProcess, codes: set[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and CODE.search(errors[0]), result.stderr
    code = CODE.search(errors[0]).group(1)
    assert code in codes, errors[0]
    return code


def write_inputs(folder: Path) -> tuple[Path, Path]:
    small = folder / "small.jsonl"
    small.write_text("\n".join(json.dumps({"id": f"s{i}", "text": f"Parcel {i} arrived broken and support never answered, order {i * 7919}."}) for i in range(60)))
    big = folder / "big.jsonl"
    big.write_text("\n".join(json.dumps({"id": f"b{i}", "text": f"Complaint {i}: the refund {i * 104729} never came back to my card, the chat closed twice. " * 8}) for i in range(3_000)))
    return small, big


@contextmanager
def tmpfs(folder: Path, size: str):
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_is_E106_and_the_store_stays_as_it_was_then_the_ingest_completes(tmp_path):
    small, big = write_inputs(tmp_path)
    with tmpfs(tmp_path / "fs", "2m") as fs:
        db = fs / "s.db"
        assert miner("ingest", small, "--db", db, "--workers", "0").returncode == 0
        before = snapshot(db)
        result = miner("ingest", big, "--db", db, "--workers", "0")
        assert result.returncode == 1
        one_coded_error(result, {"E106"})
        assert_as_it_was(before, snapshot(db))
        subprocess.run(["mount", "-o", "remount,size=128m", str(fs)], check=True)
        assert miner("ingest", big, "--db", db, "--workers", "0").returncode == 0  # space freed: the same command completes
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT record_key) FROM documents").fetchone() == (3_060, 3_060)


def test_a_file_size_limit_is_a_coded_error_and_the_store_stays_as_it_was(tmp_path):
    """ulimit -f: what a non-root CI can do. SQLite sees EFBIG as an I/O error (E108), or a full disk (E106)."""
    small, big = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    assert miner("ingest", small, "--db", db, "--workers", "0").returncode == 0
    before = snapshot(db)
    size = max(p.stat().st_size for p in tmp_path.glob("s.db*"))
    result = miner("ingest", big, "--db", db, "--workers", "0", limit_bytes=size + 64 * 1024)
    assert result.returncode == 1, result.stderr
    one_coded_error(result, {"E106", "E108"})
    assert_as_it_was(before, snapshot(db))


def test_a_read_only_mount_is_a_coded_error_for_writers_and_readers(tmp_path):
    small, _ = write_inputs(tmp_path)
    with tmpfs(tmp_path / "fs", "8m") as fs:
        db = fs / "s.db"
        assert miner("ingest", small, "--db", db, "--workers", "0").returncode == 0
        before = snapshot(db)
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        more = tmp_path / "more.txt"
        more.write_text("The technician never came.")
        result = miner("ingest", more, "--db", db)
        assert result.returncode == 1, (result.stdout, result.stderr)
        one_coded_error(result, {"E107", "E121"})  # E121: the writer lock beside the store cannot be created
        for args in (("themes", "list"), ("export", "documents"), ("trends",)):  # readers read, or say why in one coded line
            result = miner(*args, "--db", db)
            assert "Traceback" not in result.stderr and not {"E105", "E999"} & set(CODE.findall(result.stderr)), (args, result.stderr)
            if result.returncode:
                one_coded_error(result, {"E107", "E802", "E901", "E902"})
        subprocess.run(["mount", "-o", "remount,rw", str(fs)], check=True)
        assert_as_it_was(before, snapshot(db))


def test_a_store_without_write_permission_is_E107_and_stays_as_it_was(tmp_path):
    """chmod a-w on the store file (root ignores permissions: chattr +i, immutable, instead):
    SQLite opens it read-only and the first write fails."""
    small, _ = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    assert miner("ingest", small, "--db", db, "--workers", "0").returncode == 0
    assert miner("export", "documents", "--db", db).returncode == 0  # a reader checkpoints nothing new: the files settle
    before = snapshot(db)
    more = tmp_path / "more.txt"
    more.write_text("The technician never came.")
    files = [p for p in tmp_path.glob("s.db*") if not p.name.endswith(".lock")]
    if os.geteuid() == 0:
        if any(subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode for p in files):
            pytest.skip("chattr +i is not possible here")
    else:
        for p in files:
            os.chmod(p, 0o444)
    try:
        result = miner("ingest", more, "--db", db, "--workers", "0")
    finally:
        for p in files:
            subprocess.run(["chattr", "-i", str(p)], capture_output=True) if os.geteuid() == 0 else os.chmod(p, 0o644)
    assert result.returncode == 1, (result.stdout, result.stderr)
    one_coded_error(result, {"E107"})
    assert_as_it_was(before, snapshot(db))
