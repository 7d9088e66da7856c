"""What every command module shares: option types, clean errors, progress bars, output helpers.

Library modules are imported inside the command functions, not at module level: importing
`miner.store` alone loads sqlite_utils and pandas (0.3-0.5 s), and `miner.trends` loads
scipy (over 1 s), which `miner --help` and every other command would then pay.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer

from miner.errors.codes import CODES, INPUT, USAGE
from miner.errors import MinerError, StoreError, UsageError

# Exit codes (for scripts and cron); an error's comes from the error registry (miner/errors/codes.py).
EXIT_ERROR = INPUT
EXIT_USAGE = USAGE
EXIT_STRICT = 3
EXIT_ALERTS = 4
EXIT_PENDING = 5
EXIT_INTERRUPTED = 130
EXIT_CODES = {
    0: "success (skipped rows, if any, are counted in the summary)",
    EXIT_ERROR: "error: an input or the database could not be used; nothing half-written",
    EXIT_USAGE: "usage error: a bad option or column name",
    EXIT_STRICT: "--strict and something was skipped (nothing from that input was stored)",
    EXIT_ALERTS: "miner alerts: new alerts were raised (written to --out or standard output)",
    EXIT_PENDING: "miner alerts: some webhook posts failed and stay pending (retried on the next run)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); what was committed stays, re-running completes the job",
}
INTERNAL_ERROR = "E999"

DEFAULT_DB = Path("miner.db")
DbOption = Annotated[Path, typer.Option("--db", help="The SQLite store.", envvar="MINER_DB")]
EncoderOption = Annotated[
    Optional[str], typer.Option("--encoder", help="e5-small (default), fake, or hf:PATH for a local transformers model.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
WaitOption = Annotated[Optional[float], typer.Option(
    "--wait", metavar="SECONDS", envvar="MINER_WAIT",
    help="When another command is writing to the store, wait at most this long for it (default: as long as it takes; 0: not at all).",
)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
JsonSummaryOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
AsOfTodayOption = Annotated[Optional[str], typer.Option(
    "--as-of",
    help="Test as if today were this day: 'today' (for cron) or YYYY-MM-DD; the latest period over by then is tested. "
    "Default: the end of the data (the day after the last dated document).",
)]


def err(message: str) -> None:
    typer.echo(message, err=True)


def print_json(data, *, ensure_ascii: bool = False) -> None:
    typer.echo(json.dumps(data, ensure_ascii=ensure_ascii, indent=2))


def print_lines(lines: list[str]) -> None:
    """One line each on standard output; nothing at all for no lines."""
    if lines:
        typer.echo("\n".join(lines))


def print_result(data, as_json: bool, text: Callable[..., list[str]], *args) -> None:
    """`data` as JSON with --json, otherwise as the lines `text(data, *args)`."""
    if as_json:
        print_json(data)
    else:
        print_lines(text(data, *args))


def clean_errors(fn: Callable) -> Callable:
    """Library errors become one line on stderr and an exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MinerError as exc:
            err(f"Error {exc}")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:  # `miner export ... | head`: the reader has all it wants
            sys.stderr.close()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            err("Interrupted: everything committed so far is kept; run the same command again to finish.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort):
            raise
        except sqlite3.OperationalError as exc:
            if not store_busy(exc):
                return internal_error(exc)
            busy = StoreError("E122", f"the store is busy: another program kept it locked for too long ({exc}).")
            err(f"Error {busy}")
            raise typer.Exit(busy.exit_code) from None
        except Exception as exc:  # a bug: still one line, with a way to see the traceback
            return internal_error(exc)
        finally:
            release_writer_locks()

    return wrapper


def store_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy": another connection holds the write lock too long."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def internal_error(exc: Exception):
    if isinstance(exc, sqlite3.Error):  # a full disk or a read-only store outside a transaction: E106-E108
        from miner.store import store_fault

        fault = store_fault(exc)
        if fault is not None:
            err(f"Error {fault}")
            raise typer.Exit(fault.exit_code) from None
    if os.environ.get("MINER_DEBUG"):
        raise exc
    err(f"Error [{INTERNAL_ERROR}] internal error: {type(exc).__name__}: {exc}. Re-run with MINER_DEBUG=1 for details.")
    raise typer.Exit(CODES[INTERNAL_ERROR].exit_code) from None


def release_writer_locks() -> None:
    """The end of a command: the store's writer lock goes (only imported if a command took one)."""
    lock = sys.modules.get("miner.storelock")
    if lock is not None:
        lock.release_all()


def open_store(db: Path, *, create: bool = False, write: Optional[str] = None, wait: Optional[float] = None):
    """The store at --db; an existing one unless `create` (only `miner ingest` and `miner crawl` create it).

    `write`: the command, as typed after `miner` (`"themes discover"`), of a command that
    writes: it first takes the store's writer lock (miner.storelock), waiting at most `wait`
    seconds for the command holding it; the lock goes when the command ends (`clean_errors`).
    Commands that only read take no lock (WAL: they read while a writer writes)."""
    if write:
        lock_store(db, write, wait)
    from miner.store import open_db

    return open_db(db, create=create)


def lock_store(db: Path, command: str, wait: Optional[float] = None) -> None:
    """Take the writer lock of the store at `db` for `miner COMMAND` until the command ends (see `open_store`)."""
    if str(db) == ":memory:":
        return
    if wait is not None and wait < 0:
        raise UsageError("E123", f"--wait cannot be negative ({wait:g}).", "Give a number of seconds, 0 for no wait, or leave it out.")
    if not Path(db).parent.is_dir():
        return  # open_db names the missing folder (E104)
    from miner.storelock import hold

    hold(db, f"miner {command}", wait=wait, on_wait=err)


def parse_date(value: Optional[str], option: str):
    """A YYYY-MM-DD option as a date (None when not given); E903 names the option otherwise."""
    if not value:
        return None
    from miner.trends.periods import parse_date_option

    return parse_date_option(value, option)


def parse_as_of(value: Optional[str], option: str = "--as-of"):
    """An --as-of option: 'today' (the real date, UTC) or YYYY-MM-DD as a date; None when not given."""
    if not value:
        return None
    from miner.trends.periods import parse_as_of_option

    return parse_as_of_option(value, option)


def warn(message: Optional[str]) -> None:
    """One line on stderr that is not an error (stale data...); nothing for None."""
    if message:
        err(f"Warning: {message}")


def resolve_encoder(name: Optional[str], **kwargs):
    """The --encoder option as an encoder (MINER_ENCODER or e5-small when not given)."""
    from miner.nlp.encoders.registry import get_encoder

    return get_encoder(name, **kwargs)


ProgressReport = Callable[..., None]  # report(label, done=None, total=None)


def _progress_columns():
    """Spinner, stage label, then (for a stage with a total) bar, done/total, rate and time left; the stage's elapsed time."""
    from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Counts(ProgressColumn):
        def render(self, task) -> Text:
            if task.total is None:
                return Text(f"{int(task.completed):,}" if task.completed else "")
            return Text(f"{int(task.completed):,}/{int(task.total):,}")

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            if not speed or not task.completed:
                return Text("")
            return Text(f"{speed:,.1f}/s" if speed < 100 else f"{speed:,.0f}/s")

    class Left(ProgressColumn):
        max_refresh = 0.5

        def render(self, task) -> Text:
            left = task.time_remaining
            if task.total is None or left is None:
                return Text("")
            minutes, seconds = divmod(int(left), 60)
            return Text(f"ETA {minutes // 60}:{minutes % 60:02d}:{seconds:02d}" if minutes >= 60 else f"ETA {minutes}:{seconds:02d}")

    return (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=24), Counts(), Rate(), Left(),
            TimeElapsedColumn())


@contextmanager
def stage_progress(quiet: bool, console=None) -> Iterator[Optional[ProgressReport]]:
    """A live progress line on stderr when it is a terminal (None otherwise, or with --quiet).

    Yields `report(label, done=None, total=None)`: a new label starts a new stage (its clock
    restarts); `done` and `total` move its bar, with rate and time left. The line redraws ten
    times a second, so the elapsed time moves even while a stage reports nothing.
    """
    if quiet or (console is None and not sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(*_progress_columns(), console=console or Console(stderr=True), transient=True, refresh_per_second=10)
    state: dict = {"task": None, "label": None}

    def report(label: str, done: Optional[float] = None, total: Optional[float] = None) -> None:
        if label != state["label"]:
            if state["task"] is not None:
                bar.remove_task(state["task"])
            state["task"], state["label"] = bar.add_task(label, total=total, completed=done or 0), label
        else:
            bar.update(state["task"], completed=done if done is not None else None, total=total)

    with bar:
        yield report


@contextmanager
def input_progress(quiet: bool) -> Iterator[Optional[Callable[[dict], None]]]:
    """`stage_progress` for `miner ingest`: the input being read (n of N), its rows read and their rate."""
    with stage_progress(quiet) as report:
        if report is None:
            yield None
            return

        def update(event: dict) -> None:
            n, total = event["position"]
            report(f"ingest [{n}/{total}] {Path(event['input']).name}: rows read", event["rows_read"])

        yield update


@contextmanager
def count_progress(quiet: bool, label: str = "analyze: documents embedded and labelled") -> Iterator[Optional[Callable[[float, int], None]]]:
    """`stage_progress` for a stage that reports (done, total): a labelled bar with counts, rate and time left."""
    with stage_progress(quiet) as report:
        yield None if report is None else (lambda done, total: report(label, done, total))


# Documents with these field values only: `--filter meta.airline=United` (repeatable; miner.fields).
FieldFilter = Annotated[
    Optional[list[str]], typer.Option("--filter", help="Only documents with this field value: meta.FIELD=VALUE (an input column). Repeatable.")
]


def field_filters(specs: Optional[list[str]]) -> dict:
    """--filter values as miner.fields filters ({} without any); imports the library only when given."""
    if not specs:
        return {}
    from miner.fields import parse_filters

    return parse_filters(specs)
