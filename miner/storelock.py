"""One writer at a time per store: a lock file beside it (`miner.db.lock`).

Two writing commands on one store at once (two `themes discover`, `analyze` during `ingest`)
used to interleave their transactions and leave a store neither would have left alone (88
themes, 44 of them ghosts). Every command that writes takes this lock before it writes; a
second writer waits for the first and says whom it waits for. Readers (`themes list`,
`export`, `browse`, `search`) take no lock: the store is in WAL mode, so they read the last
committed state while a writer runs.

The lock is `fcntl.flock` on `STORE.lock`, which holds the holder's pid and command as JSON.
The kernel releases it when the holder ends, however it ends (SIGKILL included), so a
crashed command never leaves a stale lock; the file itself stays, empty, between runs.
Processes forked by the holder (ingest's workers) close their copy of the lock at fork, so
they never keep it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from .errors import StoreError

try:
    import fcntl
except ImportError:  # Windows: no flock; one writer at a time is then the user's to keep
    fcntl = None  # type: ignore[assignment]

POLL = 0.1  # seconds between two tries while waiting
UNKNOWN_AFTER = 1.0  # a lock file that names nobody for this long: announced as "another miner command"

Holder = dict  # {"pid": int, "command": str}


def lock_path(store: str | Path) -> Path:
    return Path(f"{store}.lock")


def read_holder(store: str | Path) -> Holder | None:
    """Who holds the lock of `store`, as its lock file says (None: nobody wrote one, or a half-written file)."""
    try:
        data = json.loads(lock_path(store).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("pid"), int) and isinstance(data.get("command"), str):
        return data
    return None


def describe(holder: Holder | None) -> str:
    return f"`{holder['command']}` (pid {holder['pid']})" if holder else "another miner command"


_held: dict[str, "WriterLock"] = {}  # this process's locks by lock file path


def _close_in_child() -> None:
    """After a fork: the child drops its copies of the lock descriptors (the parent keeps the lock)."""
    for lock in list(_held.values()):
        if lock.fd is not None:
            try:
                os.close(lock.fd)
            except OSError:
                pass
            lock.fd = None
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


class WriterLock:
    """The writer lock of one store, held by this process from `acquire` to `release`."""

    def __init__(self, store: str | Path, command: str):
        self.store, self.command = Path(os.path.abspath(store)), command
        self.path = lock_path(self.store)
        self.fd: int | None = None

    def acquire(self, wait: float | None = None, on_wait: Callable[[str], None] | None = None) -> "WriterLock":
        """Take the lock, waiting at most `wait` seconds (None: as long as it takes).

        `on_wait(message)` is told whom this process waits for, once per holder. E120 when
        `wait` runs out."""
        if fcntl is None or self.fd is not None:
            return self
        start = time.monotonic()
        announced: object = False
        unknown_since: float | None = None  # the lock file has named nobody since then (a holder between flock and writing its name)
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
            else:
                if self._same_file(fd):
                    break
                os.close(fd)  # the file was replaced while we waited: lock the new one
                continue
            holder = read_holder(self.store)
            now = time.monotonic()
            waited = now - start
            unknown_since = (unknown_since or now) if holder is None else None
            if on_wait and holder != announced and (holder is not None or now - unknown_since >= UNKNOWN_AFTER):
                on_wait(f"waiting for {describe(holder)} to finish writing {self.store.name} ...")
                announced = holder
            if wait is not None and waited >= wait:
                raise StoreError(
                    "E120",
                    f"{describe(holder)} is still writing to {self.store} after {wait:g} s of waiting.",
                    "Run this command again when it has finished, or give a longer --wait (leave it out to wait as long as it takes).",
                )
            time.sleep(POLL)
        self.fd = fd
        record = json.dumps({"pid": os.getpid(), "command": self.command}).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        _held[str(self.path)] = self
        return self

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise StoreError(
                "E121", f"cannot open the lock file {self.path} ({exc.strerror}).",
                "Check that the store's folder is writable.",
            ) from None

    def _same_file(self, fd: int) -> bool:
        try:
            here, there = os.fstat(fd), os.stat(self.path)
        except OSError:
            return False
        return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        _held.pop(str(self.path), None)
        try:
            if not self.store.exists():  # a first ingest that stored nothing leaves no store: no lock file either
                self.path.unlink(missing_ok=True)
            else:
                os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def hold(store: str | Path, command: str, wait: float | None = None,
         on_wait: Callable[[str], None] | None = None) -> WriterLock:
    """This process's lock of `store`, taken now unless it already holds it (nested opens)."""
    held = _held.get(str(lock_path(os.path.abspath(store))))
    if held is not None:
        return held
    return WriterLock(store, command).acquire(wait, on_wait)


def release_all() -> None:
    """Release every lock this process holds (the end of a command)."""
    for lock in list(_held.values()):
        lock.release()
