"""Files written for people: through a temporary file, so a failure never leaves half a file
where a good one was, and CSV cells that a spreadsheet would run as a formula (=, +, -, @,
tab, CR, and their full-width forms) get a leading apostrophe: complaint text is data,
never code.
"""

from __future__ import annotations

import csv
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import UsageError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv_rows(columns: list[str], rows: Iterable[Iterable], out: IO[str]) -> int:
    """A header and the rows, every cell through `neutralise_formula`; returns the rows written."""
    writer = csv.writer(out)
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([neutralise_formula(v) for v in row])
        n += 1
    return n


@contextmanager
def replacing(path: str | Path, codes: tuple[str, str] = ("E404", "E405")) -> Iterator[str]:
    """A temporary file beside `path` to write into: it replaces `path` when the block ends
    well and is removed when it fails, so a failed export never leaves half a file."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(codes[0], f"{path} is a folder.", "Give a file name with --out.")
    if not target.parent.exists():
        raise UsageError(codes[1], f"the folder of {path} does not exist.", "Create it first.")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _mode_for(target))  # mkstemp's 0600 is for the temporary file, not for what people read
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    """The permissions a replaced file keeps; a new file gets what `open()` would give it (0666
    less the umask)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: set it straight back
    os.umask(mask)
    return mask
