"""Readers: one input (file or stdin) in, a table of rows out.

Each reader gives the column names up front (so a missing `--text` column fails before
anything is stored) and then rows as dicts, or `Skip` for a row it cannot read (a broken
JSON line, a CSV row with too many fields). Readers never clean, redact or store: that
is the pipeline's job, done the same way whatever the format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from .encoding import decode, html_declared_charset, looks_binary

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "xlsx", "txt", "html")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".txt": "txt",
    ".text": "txt",
    ".md": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
# Compressed exports are read as the file inside (`reviews.jsonl.gz` is JSON Lines).
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz"}
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))
ARCHIVES = (".zip",)  # read like a folder: each member is an input
TEXT_UNITS = ("file", "line", "paragraph")
_PEEK_ROWS = 200
_MAX_FIELD = 64 * 1024 * 1024  # read huge CSV cells so that they are counted as too large, not as broken
# A compressed input, a .zip member or an .xlsx workbook may expand to at most this much: a
# 2 MB gzip or zip bomb expands to gigabytes (measured: 17 GB resident for a 3 GB gzip bomb).
# Larger inputs are read uncompressed (the limit is on expansion, not on files given as they are).
MAX_EXPANDED = 256 * 1024 * 1024
# pyarrow decodes a batch with buffers for every column: 100,000 one-row columns took 1.1 GB.
MAX_PARQUET_COLUMNS = 10_000
_QUOTE_RUN = re.compile(r"([\"'])\1{2,}")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Skip:
    reason: str
    detail: str = ""


@dataclass
class Table:
    """What a reader gives: columns, and rows numbered from 1 (data rows, header excluded)."""

    format: str
    columns: list[str]
    rows: Iterator[tuple[int, dict[str, Any] | Skip]]
    encoding: str | None = None
    replaced_bytes: int = 0
    lines_decoded_otherwise: int = 0  # lines of a mixed-encoding file read with another codec than `encoding`
    mojibake_lines: int = 0  # lines whose mojibake was repaired as they were decoded
    extra: dict[str, Any] = field(default_factory=dict)


def format_for(path: Path, forced: str | None = None) -> str | None:
    if forced:
        forced = forced.lower()
        if forced not in FORMATS:
            raise UsageError("E201", f"unknown format {forced!r}.", f"Choose one of: {', '.join(FORMATS)}.")
        return forced
    return EXTENSIONS.get(inner_name(path).suffix.lower())


def inner_name(path: Path) -> Path:
    """The name of what a compressed file holds: `reviews.jsonl.gz` -> `reviews.jsonl`."""
    return path.with_suffix("") if path.suffix.lower() in COMPRESSIONS else path


def is_readable_name(path: Path) -> bool:
    """A file a folder walk reads: a known extension, compressed or not."""
    return inner_name(path).suffix.lower() in EXTENSIONS


def compression_of(data: bytes) -> str | None:
    """gzip, bz2 or xz when `data` starts with that format's magic bytes (bz2's with its block
    magic too: a text may start with "BZh")."""
    kind = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
    if kind == "bz2" and data[4:10] not in (b"1AY&SY", b"\x17rE8P\x90"):
        return None
    return kind


def decompress(data: bytes, kind: str, name: str) -> bytes:
    """The bytes inside a gzip, bz2 or xz file (several gzip members are read in turn)."""
    import bz2
    import gzip
    import lzma
    import zlib

    opener = {"gzip": gzip.GzipFile, "bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[kind]
    try:
        with opener(fileobj=io.BytesIO(data)) if kind == "gzip" else opener(io.BytesIO(data)) as f:
            out = f.read(MAX_EXPANDED + 1)  # several gzip members are read in turn
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise InputError("E219", f"{name} is a damaged or truncated {kind} file ({str(exc)[:120]}).",
                         "Download or export it again, or give the uncompressed file.") from None
    if len(out) > MAX_EXPANDED:
        raise too_expanded(name, f"this {kind} file")
    return out


def too_expanded(name: str, what: str) -> InputError:
    return InputError("E222", f"{name}: {what} expands to more than {MAX_EXPANDED // 2**20} MB (a compression bomb?).",
                      "Decompress it yourself and ingest the uncompressed file if it is genuine.")


_BINARY_KINDS = (  # (magic, offset, what it is, how to fix)
    (b"PK", 0, "a zip archive", "Give it a .zip name (miner reads its members like a folder) or unzip it first."),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive", "Extract it first (7z x FILE) and ingest the folder."),
    (b"Rar!", 0, "a RAR archive", "Extract it first and ingest the folder."),
    (b"ustar", 257, "a tar archive", "Extract it first (tar xf FILE) and ingest the folder."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an old Excel .xls (or another Office 97 file)", "Save it as .xlsx or CSV."),
    (b"%PDF", 0, "a PDF", "Export its text first."),
)


def binary_kind(data: bytes) -> tuple[str, str] | None:
    """(what, fix) for a binary input that is an archive or document miner does not open itself."""
    for magic, offset, what, fix in _BINARY_KINDS:
        if data[offset : offset + len(magic)] == magic:
            return what, fix
    return None


def sniff_format(data: bytes) -> str:
    """Guess the format of stdin or of a file with an unknown extension."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return "json"
    if head.startswith(b"{"):
        return "jsonl"
    if head[:1] == b"<" and b"<html" in data[:4096].lower() or head.lower().startswith(b"<!doctype html"):
        return "html"
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:2] == b"PK":
        return "xlsx"
    return "txt"


def read_table(
    data: bytes | None,
    fmt: str,
    *,
    path: Path | None = None,
    encoding: str | None = None,
    text_unit: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open one input. `data` holds the bytes for text formats (None for parquet/xlsx read from `path`)."""
    if fmt in ("parquet", "xlsx"):
        return _read_parquet(path, data) if fmt == "parquet" else _read_xlsx(path, data, sheet)
    assert data is not None
    if not data.strip():
        raise InputError("E210", "the input is empty.", "Check the file: it has no bytes or only whitespace.")
    if looks_binary(data):
        what, fix = binary_kind(data) or (None, "Give a text export (CSV, JSON Lines, ...) or pass --format if the extension is misleading.")
        raise InputError("E211", f"the input looks binary, not {fmt} text" + (f": it is {what}." if what else "."), fix)
    declared = html_declared_charset(data) if fmt == "html" else None
    decoded = decode(data, encoding, declared)
    text = decoded.text
    if fmt in ("csv", "tsv"):
        table = _read_csv(text, fmt)
    elif fmt == "jsonl":
        table = _read_jsonl(text)
    elif fmt == "json":
        table = _read_json(text)
    elif fmt == "html":
        table = _read_html(text, path)
    else:
        table = _read_txt(text, path, text_unit or "file")
    table.encoding, table.replaced_bytes = decoded.codec, decoded.replaced
    table.lines_decoded_otherwise, table.mojibake_lines = decoded.other_lines, decoded.repaired_lines
    return table


# --- delimited text -------------------------------------------------------------------


def _sniff_delimiter(sample: str, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    # csv.Sniffer's doubled-quote regex backtracks without end on a long run of quotes (a sample
    # with a 3,300-quote run ran for over 7 minutes); two quotes say as much as three thousand.
    sample = _QUOTE_RUN.sub(r"\1\1", sample)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _unique_headers(raw: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(raw):
        name = (name or "").strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _read_csv(text: str, fmt: str) -> Table:
    csv.field_size_limit(_MAX_FIELD)
    text = text.replace("\x00", "")
    delimiter = _sniff_delimiter(text[:20000], fmt)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError("E212", f"no header row could be read ({exc}).", "The first line must name the columns.") from None
    columns = _unique_headers(header)

    def rows() -> Iterator[tuple[int, dict | Skip]]:
        n = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                n += 1
                yield n, Skip("broken_row", str(exc))
                continue
            if not values or not any(v.strip() for v in values):
                continue  # blank line
            n += 1
            if len(values) > len(columns):
                yield n, Skip("broken_row", f"{len(values)} fields where the header has {len(columns)}")
                continue
            yield n, dict(zip(columns, values))

    return Table(format=fmt, columns=columns, rows=rows(), extra={"delimiter": delimiter})


# --- JSON ---------------------------------------------------------------------------


def _columns_of(rows: Iterable[dict | Skip]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            for key in row:
                columns.setdefault(key, None)
    return list(columns)


def _no_surrogates(value: Any) -> Any:
    """JSON's \\ud800 escapes give lone surrogates, which UTF-8 (and so the store) cannot hold:
    each becomes U+FFFD, in nested values too."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    return value


def _object_row(obj: Any) -> dict | Skip:
    try:
        if isinstance(obj, dict):
            return {_no_surrogates(str(k)): _no_surrogates(v) for k, v in obj.items()}
        if isinstance(obj, str):
            return {"text": _no_surrogates(obj)}
    except RecursionError:
        return Skip("broken_row", "values nested too deeply")
    return Skip("broken_row", f"a JSON {type(obj).__name__} where an object was expected")


def _read_jsonl(text: str) -> Table:
    def parse(lines: Iterable[str]) -> Iterator[dict | Skip]:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                yield _object_row(json.loads(line))
            except (ValueError, RecursionError) as exc:  # JSONDecodeError, or an integer of over 4,300 digits
                yield Skip("broken_json", str(exc)[:200])

    parsed = parse(io.StringIO(text))
    head = list(islice(parsed, _PEEK_ROWS))
    columns = _columns_of(head)
    if not columns and not any(isinstance(r, dict) for r in head):
        if head:
            raise InputError("E213", "no line of this JSON Lines input holds a JSON object.", "Each line must be {...}.")
    return Table(format="jsonl", columns=columns, rows=enumerate(_chain(head, parsed), start=1))


def _chain(head: list, rest: Iterator) -> Iterator:
    yield from head
    yield from rest


def _read_json(text: str) -> Table:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or an integer of over 4,300 digits
        # A .json file that is really JSON Lines is common.
        if text.lstrip().startswith("{") and "\n{" in text:
            table = _read_jsonl(text)
            table.format = "jsonl"
            return table
        raise InputError("E214", f"invalid JSON ({str(exc)[:120]}).", "Fix the file or export it as JSON Lines.") from None
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            value = lists[0]  # {"data": [...]} or {"reviews": [...]}
        else:
            value = [value]
    if not isinstance(value, list):
        raise InputError("E215", "the JSON holds neither an array nor an object.", "Give an array of records.")
    rows = [_object_row(v) for v in value]
    return Table(format="json", columns=_columns_of(rows), rows=enumerate(iter(rows), start=1))


# --- plain text and HTML ------------------------------------------------------------------


def _read_txt(text: str, path: Path | None, unit: str) -> Table:
    if unit not in TEXT_UNITS:
        raise UsageError("E202", f"unknown text unit {unit!r}.", f"Choose one of: {', '.join(TEXT_UNITS)}.")
    name = path.name if path else "stdin"
    if unit == "file":
        pieces = [text]
    elif unit == "line":
        pieces = text.splitlines()
    else:
        pieces = [p for p in text.replace("\r\n", "\n").split("\n\n")]
    pieces = [p for p in pieces if p.strip()]
    multi = len(pieces) > 1 or unit != "file"

    def rows() -> Iterator[tuple[int, dict]]:
        for i, piece in enumerate(pieces, start=1):
            yield i, {"id": f"{name}:{i}" if multi else name, "text": piece}

    return Table(format="txt", columns=["id", "text"], rows=rows(), extra={"text_unit": unit})


def _read_html(text: str, path: Path | None) -> Table:
    from .html import extract_main_text

    body, meta = extract_main_text(text)
    row = {"id": path.name if path else "stdin", "text": body, "title": meta.get("title"), "date": meta.get("date")}
    return Table(format="html", columns=["id", "text", "title", "date"], rows=iter([(1, row)]))


# --- columnar binary formats -------------------------------------------------------------


def _read_parquet(path: Path | None, data: bytes | None) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pa.BufferReader(data) if data is not None else str(path)
        pf = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise InputError("E216", f"not a readable Parquet file ({str(exc)[:160]}).", "Re-export the file.") from None
    columns = list(pf.schema_arrow.names)
    if len(columns) > MAX_PARQUET_COLUMNS:
        raise InputError("E216", f"not a readable Parquet file: it has {len(columns):,} columns, miner reads at most {MAX_PARQUET_COLUMNS:,}.",
                         "Export only the columns you need (the text, its id, date and a few fields).")

    def rows() -> Iterator[tuple[int, dict]]:
        n = 0
        batches = pf.iter_batches(batch_size=4096)
        while True:
            try:  # a damaged page shows only when its batch is read
                values = next(batches).to_pylist()
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:  # OverflowError: a date out of Python's range
                raise InputError("E216", f"not a readable Parquet file: a damaged page after row {n:,} ({str(exc)[:160]}).", "Re-export the file.") from None
            for row in values:
                n += 1
                yield n, row

    return Table(format="parquet", columns=columns, rows=rows())


def _read_xlsx(path: Path | None, data: bytes | None, sheet: str | None) -> Table:
    import zipfile

    import openpyxl

    source = io.BytesIO(data) if data is not None else path
    try:
        with zipfile.ZipFile(source) as zf:
            expanded = sum(max(i.file_size, 0) for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:  # NotImplementedError: a zip version
        raise InputError("E217", f"not a readable .xlsx workbook ({str(exc)[:160]}).", "Save it again as .xlsx or CSV.") from None
    if expanded > MAX_EXPANDED:
        raise too_expanded(str(path or "the workbook"), "this workbook")
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl and its XML parser raise many kinds on damaged parts
        raise _damaged_xlsx(exc) from None
    if sheet is not None and sheet not in book.sheetnames:
        raise InputError("E218", f"no sheet named {sheet!r}.", f"Sheets: {', '.join(book.sheetnames)}.")
    if not book.worksheets:
        raise InputError("E217", "not a readable .xlsx workbook (it has no worksheet).", "Save it again as .xlsx or CSV.")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    values = _checked_rows(ws.iter_rows(values_only=True))
    header = None
    for candidate in values:  # survey exports often start with blank or title rows
        if candidate and sum(v is not None and str(v).strip() != "" for v in candidate) >= 1:
            header = candidate
            break
    if header is None:
        raise InputError("E210", "the workbook's sheet is empty.", "Check the sheet (or choose one with --sheet).")
    columns = _unique_headers([str(v) if v is not None else "" for v in header])

    def rows() -> Iterator[tuple[int, dict]]:
        n = 0
        for cells in values:
            if not cells or all(c is None or str(c).strip() == "" for c in cells):
                continue
            n += 1
            yield n, dict(zip(columns, cells))
        book.close()

    return Table(format="xlsx", columns=columns, rows=rows(), extra={"sheet": ws.title})


def _damaged_xlsx(exc: Exception) -> InputError:
    return InputError("E217", f"not a readable .xlsx workbook ({type(exc).__name__}: {str(exc)[:160]}).", "Save it again as .xlsx or CSV.")


def _checked_rows(rows: Iterator[tuple]) -> Iterator[tuple]:
    """openpyxl's rows, its errors on a damaged sheet (bad XML, a shared string that is not
    there, a cell reference out of range, entities) as E217."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - as in load_workbook
            raise _damaged_xlsx(exc) from None
        yield row
