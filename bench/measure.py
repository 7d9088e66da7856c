"""Run a `miner` command in a child process and measure it: wall time and peak memory of its
whole process tree (main process and workers), sampled from /proc."""

from __future__ import annotations

import json
import subprocess
import tempfile
import sys
import time
from pathlib import Path

CLI = Path(__file__).resolve().parent.parent / "cli.py"


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def run_cli(*args: str, interval: float = 0.05) -> tuple[float, float, dict]:
    """(seconds, peak MB, the command's --json output) of `miner ARGS --json`."""
    # Output goes to files, not pipes: a command that prints more than a pipe holds (64 KB: the
    # demo's JSON) would block on a pipe nobody reads while we only sample memory.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(CLI), *args, "--json"], stdout=out, stderr=err, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(interval)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"miner {' '.join(args)} failed: {err.read()}")
        return seconds, peak, json.loads(out.read())
