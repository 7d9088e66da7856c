"""A user's labelled examples for few-shot touchpoint assignment: a CSV with `text` and
`touchpoint` columns (UTF-8)."""

from __future__ import annotations

from pathlib import Path

from ..csvfile import CsvErrors, read_csv_file
from ..errors import InputError
from .taxonomy import Taxonomy

MAX_EXAMPLE_ROWS = 20_000

_ERRORS = CsvErrors(
    no_file=lambda path: InputError("E833", f"no examples file at {Path(path)}.", "Give a CSV with columns text,touchpoint."),
    not_utf8=lambda path: InputError("E833", f"{Path(path)}: not UTF-8 text.", "Save the examples CSV as UTF-8."),
    no_columns=lambda path, missing, found: InputError(
        "E833", f"{Path(path)}:1: the header must name the columns text and touchpoint (found: {', '.join(found) or 'none'}).",
        "Write a header line: text,touchpoint"),
)


def read_examples(path: str | Path, tax: Taxonomy) -> list[tuple[str, str]]:
    """(text, touchpoint key) pairs; blank lines are skipped, anything else wrong is an error."""
    p = Path(path)
    _, rows = read_csv_file(path, ("text", "touchpoint"), _ERRORS)
    keys = set(tax.keys)
    out = []
    for line, row in rows:
        text = (row.get("text") or "").strip()
        key = (row.get("touchpoint") or "").strip()
        if not text and not key:
            continue
        if not text:
            raise InputError("E834", f"{p}:{line}: the text is empty.", "Remove the line or add its text.")
        if key not in keys:
            raise InputError("E834", f"{p}:{line}: unknown touchpoint {key!r}.", f"Use one of the taxonomy's keys: {', '.join(tax.keys)}.")
        out.append((text, key))
        if len(out) > MAX_EXAMPLE_ROWS:
            raise InputError("E834", f"{p}: more than {MAX_EXAMPLE_ROWS:,} examples.", "A few dozen per touchpoint is plenty.")
    if not out:
        raise InputError("E834", f"{p}: no examples.", "Add lines of text,touchpoint.")
    return out
