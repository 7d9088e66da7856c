"""Child processes that die with their parent, whatever killed it (SIGKILL included).

A worker process blocked on its task queue never learns that the parent is gone: when
`miner ingest` was killed by the OOM killer or a cron timeout, its workers stayed asleep,
holding their memory. `die_with_parent` is called first thing in every child miner starts
(ingest's worker pool, the theme keywords process):

- on Linux, `prctl(PR_SET_PDEATHSIG, SIGKILL)` makes the kernel kill the child the moment its
  parent ends;
- everywhere, a watchdog thread checks every `POLL` seconds that the parent is still its
  parent (`os.getppid()` changes when the parent ends and the child is re-parented), and ends
  the child otherwise. This covers systems without prctl, and a parent that died before the
  child got to call prctl.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
POLL = 0.25  # seconds between two checks of the watchdog thread
EXIT_ORPHANED = 70  # exit status of a child that ended because its parent was gone


def _prctl_pdeathsig() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent ends; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, poll: float) -> None:
    while True:
        time.sleep(poll)
        if os.getppid() != parent:
            os._exit(EXIT_ORPHANED)


def die_with_parent(parent: int, poll: float = POLL) -> list[str]:
    """Make this (child) process end when process `parent` ends; returns the ways armed.

    `parent` is the pid of the process that started this one, passed in by it (a child that
    reads its parent's pid itself could read the pid of the process that adopted it)."""
    armed = ["prctl"] if _prctl_pdeathsig() else []
    if os.getppid() != parent:  # the parent ended before we got here
        os._exit(EXIT_ORPHANED)
    threading.Thread(target=_watch, args=(parent, poll), name="miner-lifeline", daemon=True).start()
    return armed + ["watchdog"]
