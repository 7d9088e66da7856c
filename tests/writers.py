"""The writing stages as commands, a small store to run them on, and a fingerprint of a store.

Shared by tests/test_concurrency.py (two writers at once), tests/stress/test_kill_anywhere.py
and bench/stress_kill.py (SIGKILL at random moments, then a re-run). Every command runs as a
real `miner` process with the fake encoder, so a test or a kill sees what a user's shell does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "demo"
SITES = ROOT / "docs" / "sites"

# Columns that hold a clock reading (or a process id), not a result: left out of fingerprints.
VOLATILE = {"applied_at", "analyzed_at", "ingested_at", "started_at", "finished_at", "fetched_at", "discovered_at", "changed_at",
            "raised_at", "last_attempt_at", "sent_at", "heartbeat_at", "updated_at", "seconds", "pid", "machine", "wait_seconds",
            "next_at", "at"}
VOLATILE_BY_TABLE = {"themes": {"created_at"}, "backlog_items": {"created_at"}, "touchpoint_labels": {"created_at"},
                     "sources": {"path"}}  # sources.path: each copy of a store reads the same files from its own folder
SKIP_TABLES = ("_fts", "sqlite_")


def env(**extra) -> dict:
    return {**os.environ, "MINER_ENCODER": "fake", "PYTHONUNBUFFERED": "1", "COLUMNS": "120", **extra}


def miner(*args: str) -> list[str]:
    return [sys.executable, "-m", "miner.cli.main", *args]


@dataclass
class Setup:
    """What the writers need: a folder of inputs, a sentiment head for the fake encoder, a site server."""

    folder: Path
    head: Path
    site_base: str | None = None
    extra: dict = field(default_factory=dict)


def fake_head(path: Path) -> Path:
    """A sentiment head for the fake encoder (the shipped one is for e5-small)."""
    from miner.nlp.encoders.fake import FakeEncoder
    from miner.nlp.sentiment_data import Example
    from miner.nlp.train_sentiment import train_sentiment

    texts = {"neg": ["terrible service", "awful billing error", "the app crashes", "horrible delay"],
             "pos": ["great service", "excellent support", "fast and friendly", "very happy"],
             "neu": ["the invoice arrived", "I have a question", "please call me", "what is the plan"]}
    examples = [Example(v, label, "toy", "en", "valid" if j == 3 else "train")
                for label, ts in texts.items() for t in ts for j, v in enumerate((t, t + " today", t + " again", "so " + t))]
    result = train_sentiment(examples, FakeEncoder(), None, name="toy", grid=[{"hidden": 0, "weight_decay": 1e-4, "epochs": 40}])
    result.head.save(path)
    return path


def writer_args(name: str, db: Path, setup: Setup) -> list[str]:
    """The command line of writer `name` on store `db`."""
    d = str(db)
    if name == "ingest":
        return miner("ingest", str(DEMO / "survey_nps.csv"), "--db", d, "--channel-value", "survey", "--quiet")
    if name == "analyze":
        return miner("analyze", "--db", d, "--head", str(setup.head), "--quiet")
    if name == "themes discover":
        return miner("themes", "discover", "--db", d, "--min-cluster-size", "8", "--max-outliers", "0", "--json")
    if name == "touchpoints assign":
        return miner("touchpoints", "assign", "--db", d, "--json")
    if name == "backlog":
        return miner("backlog", "--db", d, "--format", "json", "--out", str(db.parent / "backlog.json"))
    if name == "alerts":
        return miner("alerts", "--rules", str(DEMO / "alerts.yaml"), "--db", d, "--out", str(db.parent / "alerts"), "--quiet")
    if name == "crawl":
        assert setup.site_base, "crawl needs the test site"
        return miner("crawl", str(SITES / "zh-board.yaml"), "--db", d, "--base", setup.site_base, "--delay", "0", "--quiet")
    raise KeyError(name)


WRITERS = ("ingest", "analyze", "themes discover", "touchpoints assign", "backlog", "alerts", "crawl")
# The order the stages run in a pipeline; the base store has been through these (not ingest's second file, not crawl).
PIPELINE = ("analyze", "themes discover", "touchpoints assign", "backlog", "alerts")


def run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env(), capture_output=True, text=True, timeout=timeout)


def check(result: subprocess.CompletedProcess, ok=(0, 4)) -> subprocess.CompletedProcess:
    """A command that must succeed (alerts exits 4 when it raised alerts)."""
    assert result.returncode in ok, f"{result.args[3:]} exited {result.returncode}:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def build_base(db: Path, setup: Setup, stages=PIPELINE) -> Path:
    """A small store: the demo tickets ingested, then `stages` run in order."""
    check(run(miner("ingest", str(DEMO / "tickets.jsonl"), "--db", str(db), "--quiet")))
    for stage in stages:
        check(run(writer_args(stage, db, setup)))
    return db


def copy_store(src: Path, dst: Path) -> Path:
    """A copy of a store that no one is writing (its WAL checkpointed first)."""
    conn = sqlite3.connect(src)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def _steady(data):
    """JSON without its clock readings (`assigned_at` inside a stored settings object)."""
    if isinstance(data, dict):
        return {k: _steady(v) for k, v in data.items() if k not in VOLATILE and not k.endswith("_at")}
    if isinstance(data, list):
        return [_steady(v) for v in data]
    return data


def _cell(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (bytes, str)) and value[:1] in (b"{", "{"):
        try:
            return json.dumps(_steady(json.loads(value)), sort_keys=True)
        except ValueError:
            pass
    if isinstance(value, bytes):
        return "sha1:" + hashlib.sha1(value).hexdigest()
    return value


def fingerprint(db: Path) -> dict[str, list]:
    """Every table's rows, sorted, without clock readings: two stores with equal fingerprints hold the same results."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            if any(s in table for s in SKIP_TABLES):
                continue
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            keep = [c for c in cols if c not in VOLATILE and c not in VOLATILE_BY_TABLE.get(table, ())]
            rows = conn.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in keep)} FROM "{table}"').fetchall()
            out[table] = sorted((tuple(_cell(v) for v in row) for row in rows), key=repr)
        return out
    finally:
        conn.close()


def differences(a: dict, b: dict, limit: int = 5) -> list[str]:
    """What differs between two fingerprints, table by table (a few rows each)."""
    out = []
    for table in sorted(set(a) | set(b)):
        ra, rb = a.get(table, []), b.get(table, [])
        if ra != rb:
            only_a = [r for r in ra if r not in rb][:limit]
            only_b = [r for r in rb if r not in ra][:limit]
            out.append(f"{table}: {len(ra)} vs {len(rb)} rows; only in the first {only_a}; only in the second {only_b}")
    return out


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def documents_lost_and_doubled(db: Path, reference: Path) -> tuple[int, int]:
    """Documents of `reference` missing from `db`, and records stored more than once in `db`."""
    def keys(path):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return [r[0] for r in conn.execute("SELECT record_key FROM documents")]
        finally:
            conn.close()

    got, want = keys(db), set(keys(reference))
    return len(want - set(got)), len(got) - len(set(got))


def holder(db: Path) -> dict | None:
    from miner.storelock import read_holder

    return read_holder(db)


def wait_until_holding(proc: subprocess.Popen, db: Path, timeout: float = 60) -> bool:
    """Wait until process `proc` holds the writer lock of `db` (False: it ended first)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        h = holder(db)
        if h and h["pid"] == proc.pid:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def result_json(stdout: str) -> dict:
    return json.loads(stdout)


# --- kill anywhere ------------------------------------------------------------------------------------

KILL_STAGES = ("ingest", "analyze", "themes discover", "touchpoints assign", "backlog", "alerts", "crawl")
ORPHAN_GRACE = 2.0  # seconds a child may take to end after its parent was killed


def big_input(path: Path, rows: int = 6000) -> Path:
    """A JSONL file of several ingest batches (2,000 rows each), so ingest starts its worker pool."""
    words = "refund delivery courier invoice login password app crash support waiting charged twice".split()
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            text = " ".join(words[(i * 7 + k) % len(words)] for k in range(10)) + f" order {i} is still not here, please help."
            out.write(json.dumps({"id": i, "text": text, "date": f"2026-10-{1 + i % 28:02d}"}) + "\n")
    return path


def kill_args(stage: str, db: Path, setup: Setup) -> list[str]:
    """`writer_args`, except that ingest reads a larger file (several batches, worker processes)."""
    if stage == "ingest":
        return miner("ingest", str(setup.extra["big"]), "--db", str(db), "--workers", "2", "--quiet")
    return writer_args(stage, db, setup)


@dataclass
class Chain:
    """The store before each stage (`before[stage]`, None: no store yet) and after it run uninterrupted."""

    before: dict
    after: dict
    seconds: dict
    setup: Setup | None = None
    twice: dict = field(default_factory=dict)  # stage -> the store after it, then the same stage run once more

    def after_twice(self, stage: str) -> Path:
        """The uninterrupted run's store with the stage run once more on it (built on first use): what a
        kill that lands after the run committed its end leaves after the re-run (a crawl records a
        second, incremental run)."""
        if stage not in self.twice:
            twice = copy_store(self.after[stage], self.after[stage].parent / "twice" / "after.db")
            check(run(kill_args(stage, twice, self.setup)))
            self.twice[stage] = twice
        return self.twice[stage]


def build_chain(folder: Path, setup: Setup) -> Chain:
    """Each stage run once, uninterrupted, on the store the stage before it left: the references of the kill runs."""
    folder.mkdir(parents=True, exist_ok=True)
    setup.extra.setdefault("big", big_input(folder / "big.jsonl"))
    before, after, seconds = {}, {}, {}

    def timed(stage, db):
        start = time.monotonic()
        check(run(kill_args(stage, db, setup)))
        seconds[stage] = time.monotonic() - start

    before["ingest"] = None  # ingest creates the store
    (folder / "ingest").mkdir(exist_ok=True)
    after["ingest"] = folder / "ingest" / "after.db"
    raw = folder / "raw.db"  # the pipeline's stores: the demo tickets and survey
    for old in (after["ingest"], raw):  # a folder used before: ingest into an old store would be a no-op
        for path in old.parent.glob(old.name + "*"):
            path.unlink()
    timed("ingest", after["ingest"])
    check(run(miner("ingest", str(DEMO / "tickets.jsonl"), "--db", str(raw), "--quiet")))
    check(run(writer_args("ingest", raw, setup)))
    current = raw
    for stage in ("analyze", "themes discover", "touchpoints assign", "backlog", "alerts", "crawl"):
        name = stage.replace(" ", "_")
        before[stage] = current
        after[stage] = copy_store(current, folder / name / "after.db")
        timed(stage, after[stage])
        current = after[stage]
    return Chain(before, after, seconds, setup)


def descendants(pid: int) -> set[int]:
    """The processes started by `pid`, their children and so on (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def still_running(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            out.add(pid)
    return out


@dataclass
class KillResult:
    stage: str
    at: float  # seconds after the start
    ended_first: bool  # the command had finished before the kill (nothing was killed)
    integrity_after_kill: str
    integrity_final: str
    rerun_exit: int
    lost: int
    doubled: int
    equal: bool
    orphans: int
    differences: list
    equal_to: str = ""  # "one run", or "one run + re-run" (the kill came after the run had committed its end)


def kill_once(stage: str, chain: Chain, setup: Setup, folder: Path, at: float) -> KillResult:
    """Copy the store before `stage`, start it, SIGKILL it `at` seconds in, check the store, re-run it to the end,
    compare with the uninterrupted run's store."""
    import signal

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db = folder / "s.db"
    if chain.before[stage] is not None:
        copy_store(chain.before[stage], db)
    proc = subprocess.Popen(kill_args(stage, db, setup), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children: set[int] = set()
    end = time.monotonic() + at
    while time.monotonic() < end and proc.poll() is None:
        children |= descendants(proc.pid)
        time.sleep(min(0.02, max(0.0, end - time.monotonic())))
    ended_first = proc.poll() is not None
    children |= descendants(proc.pid) if not ended_first else set()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    deadline = time.monotonic() + ORPHAN_GRACE
    while still_running(children) and time.monotonic() < deadline:
        time.sleep(0.02)
    orphans = still_running(children)
    for pid in orphans:  # counted, then never left behind
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    after_kill = integrity(db) if db.exists() else "ok (no store yet)"
    rerun = run(kill_args(stage, db, setup))
    final = integrity(db) if db.exists() else "no store"
    lost, doubled = documents_lost_and_doubled(db, chain.after[stage]) if db.exists() else (-1, -1)
    diffs = differences(fingerprint(db), fingerprint(chain.after[stage])) if db.exists() else ["no store"]
    equal_to = "one run"
    if diffs and db.exists() and not differences(fingerprint(db), fingerprint(chain.after_twice(stage))):
        diffs, equal_to = [], "one run + re-run"
    if rerun.returncode not in (0, 4):
        diffs = [f"re-run exited {rerun.returncode}: {rerun.stderr[-500:]}"] + diffs
    return KillResult(stage, round(at, 3), ended_first, after_kill, final, rerun.returncode, lost, doubled, not diffs,
                      len(orphans), diffs, equal_to if not diffs else "")


def kill_times(stage: str, chain: Chain, n: int, rng, window: float = 1.0) -> list[float]:
    """`n` random moments within the first `window` of the stage's uninterrupted run time."""
    return [rng.uniform(0.0, chain.seconds[stage] * window) for _ in range(n)]
