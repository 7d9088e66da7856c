"""Child processes die with their parent (issue 17): ingest's workers and the theme keywords
process end within 2 s when the parent is killed by any signal, SIGKILL included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

if not Path("/proc/self/stat").exists():  # pragma: no cover - the process table is read from /proc
    pytest.skip("needs /proc (Linux)", allow_module_level=True)

from tests.writers import descendants, still_running  # noqa: E402  (after the /proc check)

GONE_WITHIN = 2.0  # seconds the issue allows


def wait_for(condition, timeout: float, step: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


def kill_and_check(parent: subprocess.Popen, children: set[int], sig: int) -> set[int]:
    """Kill the parent with `sig`; return the children still alive GONE_WITHIN seconds later."""
    os.kill(parent.pid, sig)
    parent.wait(timeout=10)
    left = wait_for(lambda: not still_running(children), GONE_WITHIN, 0.02)
    survivors = still_running(children)
    for pid in survivors:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left or survivors
    return survivors


@pytest.fixture(scope="module")
def big_input(tmp_path_factory) -> Path:
    """Enough rows for several batches, so ingest starts its worker pool."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    words = "refund delivery courier invoice login password app crash support waiting charged twice".split()
    with path.open("w", encoding="utf-8") as out:
        for i in range(30_000):
            text = " ".join(words[(i * 7 + k) % len(words)] for k in range(12)) + f" order {i} is still not here, please help."
            out.write(json.dumps({"id": i, "text": text}) + "\n")
    return path


def env() -> dict:
    return {**os.environ, "MINER_ENCODER": "fake", "PYTHONUNBUFFERED": "1"}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_ingest_workers_end_with_a_killed_ingest(big_input, tmp_path, sig):
    proc = subprocess.Popen(
        [sys.executable, "-m", "miner.cli.main", "ingest", str(big_input), "--db", str(tmp_path / "k.db"), "--workers", "2", "--quiet"],
        env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        workers = wait_for(lambda: len(descendants(proc.pid)) >= 2 and descendants(proc.pid), 60)
        assert proc.poll() is None, proc.stderr.read().decode()
        assert len(workers) >= 2, "ingest started no worker pool: the input is too small to test this"
        time.sleep(0.5)  # the workers are at work (mid-ingest), not starting
        children = descendants(proc.pid)
        assert kill_and_check(proc, children, sig) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


KEYWORDS_PARENT = textwrap.dedent("""
    import sys, time
    from miner.themes import background as bg
    bg.available_cores = lambda: 2
    texts = ["the login page crashes and the refund never arrived"] * 20000
    job = bg.TermsInBackground(texts, ["en"] * len(texts), set(), min_texts=0)
    print(job._proc.pid, flush=True)
    time.sleep(120)
""")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_theme_keywords_process_ends_with_a_killed_parent(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-c", KEYWORDS_PARENT], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        child = int(proc.stdout.readline() or 0)
        assert child, proc.stderr.read().decode()
        time.sleep(1.5)  # past its start-up: tokenising
        assert still_running({child}), "the keywords process ended by itself: nothing was tested"
        children = descendants(proc.pid)
        assert child in children
        assert kill_and_check(proc, children, sig) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


WATCHDOG_PARENT = textwrap.dedent("""
    import os, sys, time
    from miner import lifeline
    if {no_prctl}:
        lifeline._prctl_pdeathsig = lambda: False  # what a system without prctl gets
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        armed = lifeline.die_with_parent(parent)
        print(",".join(armed), flush=True)
        time.sleep(120)
        os._exit(0)
    time.sleep(120)
""")


@pytest.mark.parametrize("no_prctl", [False, True], ids=["prctl", "watchdog-only"])
def test_die_with_parent_by_prctl_and_by_the_watchdog_alone(no_prctl):
    proc = subprocess.Popen([sys.executable, "-c", WATCHDOG_PARENT.format(no_prctl=no_prctl)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        armed = proc.stdout.readline().decode().strip().split(",")
        assert armed == (["watchdog"] if no_prctl else ["prctl", "watchdog"]), proc.stderr.read().decode()
        children = descendants(proc.pid)
        assert len(children) == 1
        assert kill_and_check(proc, children, signal.SIGKILL) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_child_whose_parent_is_already_gone_ends_at_once():
    from miner import lifeline

    pid = os.fork()
    if pid == 0:  # the child: pretends its parent was another process (already gone)
        lifeline.die_with_parent(os.getppid() + 10**6)
        os._exit(0)  # not reached: die_with_parent ends it
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == lifeline.EXIT_ORPHANED
