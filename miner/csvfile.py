"""One reader for the small CSV files people hand over beside their data (labelled examples,
an accounts list, labelled sentiment): UTF-8 (a BOM is fine), a header that names the
required columns (case and surrounding spaces do not matter), rows with their line numbers.

What is wrong is said by the caller's own errors (`CsvErrors`): codes and texts stay where
the file's meaning is known.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import MinerError


@dataclass(frozen=True)
class CsvErrors:
    no_file: Callable[[str | Path], MinerError]
    # (path, required columns missing, the header's column names as matched)
    no_columns: Callable[[str | Path, list[str], list[str]], MinerError]
    not_utf8: Callable[[str | Path], MinerError] | None = None  # None: the UnicodeDecodeError goes up as is


def column_key(name: str) -> str:
    """How header names are matched: case and surrounding spaces ignored."""
    return name.strip().casefold()


def read_csv_file(
    path: str | Path, required: Sequence[str], errors: CsvErrors
) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    """(the header's column keys, rows): each row is (its last line number, {column key: value});
    a short row gives None for its missing cells. Raises the caller's errors for a missing
    file, text that is not UTF-8, or a header without every `required` column."""
    p = Path(path)
    if not p.is_file():
        raise errors.no_file(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        if errors.not_utf8 is None:
            raise
        raise errors.not_utf8(path) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    found = list(dict.fromkeys(column_key(f) for f in (reader.fieldnames or []) if f and column_key(f)))
    missing = [c for c in required if column_key(c) not in found]
    if missing:
        raise errors.no_columns(path, missing, found)
    return found, _rows(reader)


def _rows(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, str | None]]]:
    for row in reader:
        # cells past the header (key None) belong to no column
        yield reader.line_num, {column_key(k): v for k, v in row.items() if k is not None}
