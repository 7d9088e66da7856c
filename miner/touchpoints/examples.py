"""A user's labelled examples for few-shot touchpoint assignment: a CSV with `text` and
`touchpoint` columns (UTF-8). Everything wrong with the file is said in one line with the
file's line, before anything is stored."""

from __future__ import annotations

from pathlib import Path

from ..csvfile import CsvErrors, read_csv_file
from ..errors import InputError
from .taxonomy import Taxonomy

MAX_EXAMPLE_ROWS = 20_000
MIN_PER_TOUCHPOINT = 2  # the held-out folds that weigh the examples need two of each

_ERRORS = CsvErrors(
    no_file=lambda path: InputError("E833", f"no examples file at {Path(path)}.", "Give a CSV with columns text,touchpoint."),
    not_utf8=lambda path: InputError("E833", f"{Path(path)}: not UTF-8 text.", "Save the examples CSV as UTF-8."),
    no_columns=lambda path, missing, found: InputError(
        "E833", f"{Path(path)}:1: the header must name the columns text and touchpoint (found: {', '.join(found) or 'none'}).",
        "Write a header line: text,touchpoint"),
)


def read_examples(path: str | Path, tax: Taxonomy) -> list[tuple[str, str]]:
    """(text, touchpoint key) pairs; blank lines are skipped, anything else wrong is an error:
    an empty text, a key the taxonomy lacks, a touchpoint with a single example."""
    p = Path(path)
    _, rows = read_csv_file(path, ("text", "touchpoint"), _ERRORS)
    keys = set(tax.keys)
    out = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        text = (row.get("text") or "").strip()
        key = (row.get("touchpoint") or "").strip()
        if not text and not key:
            continue
        if not text:
            raise InputError("E834", f"{p}:{line}: the text is empty.", "Remove the line or add its text.")
        if not key:
            raise InputError("E834", f"{p}:{line}: no touchpoint.", f"Give one of the taxonomy's keys: {', '.join(tax.keys)}.")
        if key not in keys:
            raise InputError("E834", f"{p}:{line}: unknown touchpoint {key!r}.", f"Use one of the taxonomy's keys: {', '.join(tax.keys)}.")
        out.append((text, key))
        first_line.setdefault(key, line)
        if len(out) > MAX_EXAMPLE_ROWS:
            raise InputError("E834", f"{p}: more than {MAX_EXAMPLE_ROWS:,} examples.", "A few dozen per touchpoint is plenty.")
    if not out:
        raise InputError("E834", f"{p}: no examples.", "Add lines of text,touchpoint.")
    counts: dict[str, int] = {}
    for _, key in out:
        counts[key] = counts.get(key, 0) + 1
    for key, n in sorted(counts.items(), key=lambda kv: first_line[kv[0]]):
        if n < MIN_PER_TOUCHPOINT:
            raise InputError("E834", f"{p}:{first_line[key]}: touchpoint {key!r} has a single example.",
                             f"Give at least {MIN_PER_TOUCHPOINT} examples per touchpoint you label (10 is a good start), or remove it.")
    return out
