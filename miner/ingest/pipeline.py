"""`ingest`: inputs in, documents and segments stored, a summary out.

Each input becomes one `sources` row. Rows are prepared in batches and every batch is
written in one transaction together with the source's running counts, so a crash or a
kill loses at most the batch in flight and never leaves half a document; re-running
resumes (already stored records are recognised by their `record_key` and add nothing).
An input whose bytes and options were already ingested completely is skipped whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import sqlite_utils
import xxhash

from .. import __version__
from ..errors import InputError, MinerError, UsageError
from ..store import index_fts, transaction, utc_now
from . import dedupe
from .encoding import normalise_codec
from .mapping import Mapping, as_text, parse_date, parse_score, resolve_mapping
from .pii import Redactor
from .prepare import Prepared, Preparer, Rejected
from .readers import (
    ARCHIVES, Skip, Table, compression_of, decompress, format_for, inner_name, is_readable_name, read_table,
    sniff_format,
)

STDIN = "-"


@dataclass
class IngestOptions:
    text: str | None = None
    external_id: str | None = None
    created_at: str | None = None
    score: str | None = None
    channel: str | None = None
    channel_value: str | None = None
    meta: list[str] | None = None
    date_format: str | None = None
    format: str | None = None
    encoding: str | None = None
    text_unit: str | None = None
    sheet: str | None = None
    redact: bool = True
    redact_patterns: dict[str, str] = field(default_factory=dict)
    redact_disabled: list[str] = field(default_factory=list)
    redact_enabled: list[str] = field(default_factory=list)  # opt-in kinds (person)
    strict: bool = False
    dedupe_min_chars: int = dedupe.DEFAULT_MIN_CHARS
    batch_size: int = 2000
    workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))

    def identity(self) -> dict:
        """The options that change what is stored: an input re-run with the same ones adds nothing."""
        return {
            "redact": self.redact,
            "redact_patterns": dict(sorted(self.redact_patterns.items())),
            "redact_disabled": sorted(self.redact_disabled),
            "text_unit": self.text_unit,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "dedupe_min_chars": self.dedupe_min_chars,
        } | ({"redact_enabled": sorted(self.redact_enabled)} if self.redact_enabled else {})


@dataclass
class InputReport:
    path: str
    status: str = "pending"  # done | unchanged | failed | strict_failed
    source_id: int | None = None
    format: str | None = None
    encoding: str | None = None
    error: str | None = None
    rows_read: int = 0
    stored: int = 0
    already_stored: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    noninformative: int = 0
    skipped: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    resumed_stored: int = 0  # documents an interrupted run of this input had stored (counted above)


@dataclass
class IngestSummary:
    inputs: list[InputReport] = field(default_factory=list)
    languages: Counter = field(default_factory=Counter)
    scripts: Counter = field(default_factory=Counter)
    pii: Counter = field(default_factory=Counter)
    dropped_lines: Counter = field(default_factory=Counter)
    unsupported_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.inputs)

    @property
    def skipped(self) -> Counter:
        out: Counter = Counter()
        for r in self.inputs:
            out.update(r.skipped)
        if self.unsupported_files:
            out["unsupported_file"] += len(self.unsupported_files)
        return out

    @property
    def warnings(self) -> Counter:
        out: Counter = Counter()
        for r in self.inputs:
            out.update(r.warnings)
        return out

    def to_dict(self) -> dict:
        names = ("rows_read", "stored", "already_stored", "duplicates", "near_duplicates", "noninformative")
        return {
            "totals": {n: self.total(n) for n in names} | {"skipped": sum(self.skipped.values())},
            "skipped": dict(self.skipped),
            "warnings": dict(self.warnings),
            "languages": dict(self.languages.most_common()),
            "scripts": dict(self.scripts.most_common()),
            "pii_redacted": dict(self.pii),
            "dropped_lines": dict(self.dropped_lines),
            "unsupported_files": self.unsupported_files,
            "seconds": round(self.seconds, 3),
            "inputs": [
                asdict(r) | {"skipped": dict(r.skipped), "warnings": dict(r.warnings)} for r in self.inputs
            ],
        }


ProgressFn = Callable[[dict], None]


@dataclass
class _Tally:
    """What one batch adds to its input's counts, applied to the report only once the batch is
    committed: a batch rolled back (a full disk, a kill) must not be reported as stored."""

    stored: int = 0
    already_stored: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    noninformative: int = 0
    languages: Counter = field(default_factory=Counter)
    scripts: Counter = field(default_factory=Counter)
    pii: Counter = field(default_factory=Counter)
    dropped_lines: Counter = field(default_factory=Counter)

    def count(self, prep: Prepared, kind: str | None) -> None:
        if kind == "exact":
            self.duplicates += 1
        elif kind == "near":
            self.near_duplicates += 1
        if not prep.informative:
            self.noninformative += 1
        self.stored += 1
        self.languages[prep.lang.lang] += 1
        self.scripts[prep.lang.script] += 1
        self.pii.update(prep.pii)
        self.dropped_lines.update(prep.dropped_lines)

    def add_to(self, report: InputReport, summary: IngestSummary | None = None, sign: int = 1) -> None:
        """Count the batch in (sign -1: out again, when a strict input's transaction is rolled back)."""
        for name in ("stored", "already_stored", "duplicates", "near_duplicates", "noninformative"):
            setattr(report, name, getattr(report, name) + sign * getattr(self, name))
        if summary is not None:
            for name in ("languages", "scripts", "pii", "dropped_lines"):
                counter = getattr(summary, name)
                (counter.update if sign > 0 else counter.subtract)(getattr(self, name))
                if sign < 0:
                    counter += Counter()  # drop the zeros subtract leaves


@dataclass
class _Record:
    key: str
    external_id: str | None
    created_at: str | None
    channel: str | None
    score: float | None
    meta: dict
    prep: Prepared


@dataclass(frozen=True)
class ArchiveMember:
    """An input inside a .zip archive, read like a file of a folder: `export.zip/reviews/2026.csv`."""

    archive: str
    member: str

    def __str__(self) -> str:
        return f"{self.archive}/{self.member}"


def _archive_members(path: Path) -> tuple[list[ArchiveMember], list[str]]:
    """The members of a .zip to read (sorted; folders, hidden files and macOS resource forks
    left out) and those skipped for their extension."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(i.filename for i in zf.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
        raise InputError("E219", f"{path} is not a readable zip archive ({str(exc)[:120]}).",
                         "Download or export it again, or unzip it and ingest the folder.") from None
    members, unsupported = [], []
    for name in names:
        parts = name.split("/")
        if any(part.startswith(".") for part in parts) or parts[0] == "__MACOSX":
            continue
        member = ArchiveMember(str(path), name)
        (members if is_readable_name(Path(name)) else unsupported).append(member)
    return members, [str(m) for m in unsupported]


def expand_inputs(paths: Iterable[str]) -> tuple[list, list[str]]:
    """Inputs to read (folders walked recursively, sorted; a .zip read like a folder; compressed
    files by the name inside) and files skipped for their extension."""
    files: list = []
    unsupported: list[str] = []

    def add(p: Path, named: bool) -> None:
        if p.suffix.lower() in ARCHIVES:
            members, skipped = _archive_members(p)
            files.extend(members)
            unsupported.extend(skipped)
        elif named or is_readable_name(p):
            files.append(str(p))
        else:
            unsupported.append(str(p))

    for raw in paths:
        if raw == STDIN:
            files.append(STDIN)
            continue
        p = Path(raw)
        if not p.exists():
            raise InputError("E200", f"no such file or folder: {raw}.", "Check the path (or use - for standard input).")
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if not child.is_file() or any(part.startswith(".") for part in child.relative_to(p).parts):
                    continue
                add(child, named=False)
        else:
            add(p, named=True)
    return files, unsupported


def ingest(
    db: sqlite_utils.Database,
    paths: list[str],
    options: IngestOptions | None = None,
    *,
    stdin: bytes | None = None,
    progress: ProgressFn | None = None,
    preparer: Callable[[tuple | None, int, int], Preparer] = Preparer,
) -> IngestSummary:
    """`preparer(redactor_args, min_chars, workers)` makes what prepares the texts: the local
    `Preparer` (worker processes), or `miner.engine.ray_ingest.RayPreparer` (Ray tasks)."""
    options = options or IngestOptions()
    if options.batch_size < 1:
        raise UsageError("E204", "batch size must be at least 1.", "Use --batch-size 2000 (the default).")
    if options.dedupe_min_chars < 1:
        raise UsageError("E205", "--dedupe-min-chars must be at least 1.", f"The default is {dedupe.DEFAULT_MIN_CHARS}.")
    if options.encoding:
        normalise_codec(options.encoding)  # an unknown codec is a usage error, before any input is read
    if options.format:
        format_for(Path("-"), options.format)
    if options.workers < 0:
        raise UsageError("E207", "--workers cannot be negative.", "Use 0 to prepare texts in this process.")
    redactor_args = (
        (dict(options.redact_patterns), frozenset(options.redact_disabled), frozenset(options.redact_enabled))
        if options.redact else None
    )
    if redactor_args:
        Redactor(*redactor_args)  # bad patterns are usage errors, before any input is read
    files, unsupported = expand_inputs(paths)
    summary = IngestSummary(unsupported_files=unsupported)
    started = time.perf_counter()
    with preparer(redactor_args, options.dedupe_min_chars, options.workers) as preparer, _OpenArchive() as archive:
        for n, path in enumerate(files, start=1):
            report = InputReport(path=str(path))
            summary.inputs.append(report)
            try:
                _ingest_one(db, path, options, preparer, archive, report, summary, stdin, progress, (n, len(files)))
            except MinerError as exc:
                report.status = "strict_failed" if options.strict and report.status == "strict_failed" else "failed"
                report.error = str(exc)
                if report.source_id is not None:
                    _finish_source(db, report, "failed")
                if isinstance(exc, UsageError):
                    raise
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Loaded:
    data: bytes
    name: Path | None  # what readers name documents by (None for stdin): the file inside a compressed one
    format: str
    sha256: str
    where: str  # the sources row's path: the file, `archive.zip/member`, or <stdin>
    size: int | None  # bytes as stored (compressed), None for stdin


def _load(path, options: IngestOptions, stdin: bytes | None, archive: _OpenArchive) -> _Loaded:
    """One input's bytes and format: a file, a member of a .zip, or stdin; gzip, bz2 and xz are
    read as the file inside (`reviews.jsonl.gz` is JSON Lines)."""
    if path == STDIN:
        data, p, where = (stdin if stdin is not None else b""), Path("stdin"), "<stdin>"
    elif isinstance(path, ArchiveMember):
        data, p = archive.read(path), Path(path.member)
        where = f"{Path(path.archive).resolve()}/{path.member}"
    else:
        p = Path(path)
        where = str(p.resolve())
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InputError("E206", f"cannot read {path} ({exc.strerror or exc}).", "Check its permissions.") from None
    size = None if path == STDIN else len(data)
    kind = compression_of(data)
    if kind:
        data = decompress(data, kind, str(path))
    name = inner_name(p)
    fmt = format_for(name, options.format) or sniff_format(data)
    return _Loaded(data, None if path == STDIN else name, fmt, hashlib.sha256(data).hexdigest(), where, size)


class _OpenArchive:
    """The .zip being read, kept open from one member to the next: opening a .zip parses its whole
    directory, so opening it again for each member made an archive of 20,000 files quadratic (minutes)."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.zf = None

    def __enter__(self) -> _OpenArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()
        self.path, self.zf = None, None

    def read(self, m: ArchiveMember) -> bytes:
        import lzma
        import zipfile
        import zlib

        from .readers import MAX_EXPANDED, too_expanded

        try:
            if self.path != m.archive:
                self.close()
                self.zf, self.path = zipfile.ZipFile(m.archive), m.archive
            with self.zf.open(m.member) as f:  # reads at most the member's stated size
                data = f.read(MAX_EXPANDED + 1)
            if len(data) > MAX_EXPANDED:
                raise too_expanded(str(m), "this member of the archive")
            return data
        except RuntimeError as exc:  # encrypted
            raise InputError("E219", f"cannot read {m} ({exc}).", "Unzip it with its password and ingest the folder.") from None
        except (zipfile.BadZipFile, OSError, EOFError, KeyError, zlib.error, lzma.LZMAError, ValueError,
                NotImplementedError) as exc:  # zlib/lzma: damaged data; NotImplementedError: a version or method zipfile lacks
            self.close()  # a damaged archive is opened again for the next member, as before
            raise InputError("E219", f"cannot read {m} ({str(exc)[:120]}).", "Download or export the archive again, or unzip it first.") from None


def _peek(rows: Iterator, n: int) -> tuple[list, Iterator]:
    head = list(islice(rows, n))

    def chained() -> Iterator:
        yield from head
        yield from rows

    return head, chained()


def _ingest_one(
    db: sqlite_utils.Database,
    path: str,
    options: IngestOptions,
    preparer: Preparer,
    archive: _OpenArchive,
    report: InputReport,
    summary: IngestSummary,
    stdin: bytes | None,
    progress: ProgressFn | None,
    position: tuple[int, int],
) -> None:
    loaded = _load(path, options, stdin, archive)
    sha = loaded.sha256
    report.format = loaded.format
    table: Table = read_table(loaded.data, loaded.format, path=loaded.name, encoding=options.encoding,
                              text_unit=options.text_unit, sheet=options.sheet)
    loaded.data = b""
    report.encoding = table.encoding
    if table.replaced_bytes:
        report.warnings["undecodable_bytes"] += table.replaced_bytes
    if table.lines_decoded_otherwise:
        report.warnings["lines_decoded_otherwise"] += table.lines_decoded_otherwise
    if table.mojibake_lines:
        report.warnings["mojibake_lines_repaired"] += table.mojibake_lines
    head, rows = _peek(table.rows, 50)
    mapping = _mapping_for(table, options, head)
    mapping_json = json.dumps(mapping.to_dict(), sort_keys=True, ensure_ascii=False)
    options_json = json.dumps(options.identity(), sort_keys=True)
    existing = db.execute(
        "SELECT id, status FROM sources WHERE sha256 = ? AND mapping = ? AND options = ? ORDER BY id DESC LIMIT 1",
        [sha, mapping_json, options_json],
    ).fetchone()
    if existing and existing[1] == "done":
        report.status, report.source_id = "unchanged", existing[0]
        return
    resumed = existing[0] if existing else None
    source_id = report.source_id = _open_source(db, resumed, loaded, table, mapping_json, options_json)
    if resumed is not None:
        _count_committed(db, source_id).add_to(report, summary)
        report.resumed_stored = report.stored
    # Strict mode stores an input all or nothing: one transaction around every batch.
    whole_input = transaction(db) if options.strict else nullcontext()
    per_batch = nullcontext if options.strict else (lambda: transaction(db))
    pending: deque = deque()  # (fields, future) in input order: workers prepare while this process writes
    in_transaction: list[_Tally] = []  # strict mode: batches counted but committed only with the whole input

    def write_next() -> None:
        fields, future = pending.popleft()
        records = _records(fields, future.result(), options, report)
        with per_batch():
            tally = _write_batch(db, source_id, records, report, own_source=resumed)
        tally.add_to(report, summary)  # after the batch's commit; in strict mode, before the input's
        if options.strict:
            in_transaction.append(tally)
        if progress:
            progress({"input": str(path), "position": position, "rows_read": report.rows_read, "stored": report.stored})

    try:
        with whole_input:
            for batch in _batches(rows, options.batch_size):
                fields = _extract_fields(batch, mapping, options, report, preparer.redactor)
                more_may_follow = len(batch) == options.batch_size
                pending.append((fields, preparer.submit([f.raw for f in fields], more_may_follow)))
                while len(pending) > preparer.depth:
                    write_next()
            while pending:
                write_next()
    except BaseException:
        for tally in in_transaction:  # strict: the whole input was rolled back, none of it is stored
            tally.add_to(report, summary, sign=-1)
        raise
    _finish_source(db, report, "done")
    report.status = "done"


def _mapping_for(table: Table, options: IngestOptions, head: list) -> Mapping:
    """Which column is which: the options' names, else detected from the header and the first rows."""
    return resolve_mapping(
        table.columns,
        text=options.text,
        external_id=options.external_id,
        created_at=options.created_at,
        score=options.score,
        channel=options.channel,
        meta=options.meta,
        channel_value=options.channel_value,
        date_format=options.date_format,
        sample_rows=[r for _, r in head if isinstance(r, dict)],
    )


def _open_source(db: sqlite_utils.Database, resumed: int | None, loaded: _Loaded, table: Table,
                 mapping_json: str, options_json: str) -> int:
    """The `sources` row of this input, marked running: `resumed` (an interrupted run of the same input) or a new one."""
    with transaction(db):
        if resumed is not None:
            db.execute("UPDATE sources SET status = 'running', started_at = ? WHERE id = ?", [utc_now(), resumed])
            return resumed
        return db["sources"].insert(
            {
                "path": loaded.where,
                "name": "stdin" if loaded.name is None else Path(loaded.where).name,
                "format": table.format,
                "sha256": loaded.sha256,
                "size_bytes": loaded.size,
                "encoding": table.encoding,
                "mapping": mapping_json,
                "options": options_json,
                "status": "running",
                "started_at": utc_now(),
                "miner_version": __version__,
            }
        ).last_pk


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while True:
        batch = list(islice(rows, size))
        if not batch:
            return
        yield batch


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _skip(report: InputReport, options: IngestOptions, row: int, reason: str, detail: str = "") -> None:
    report.skipped[reason] += 1
    if options.strict:
        report.status = "strict_failed"
        raise InputError(
            "E230",
            f"row {row} of {report.path} was skipped ({reason}{': ' + detail if detail else ''}).",
            "Nothing from this input was stored (--strict). Fix the row or run without --strict to skip it.",
        )


@dataclass
class _Fields:
    row: int
    raw: str
    external_id: str | None
    created_at: str | None
    channel: str | None
    score: float | None
    meta: dict
    pii: dict


def _redact_value(value: Any, redactor: Redactor, counts: Counter) -> Any:
    if isinstance(value, str):
        text, found = redactor.redact(value)
        counts.update(found)
        return text
    if isinstance(value, list):
        return [_redact_value(v, redactor, counts) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v, redactor, counts) for k, v in value.items()}
    return value


def _extract_fields(
    batch: list[tuple[int, dict | Skip]],
    mapping: Mapping,
    options: IngestOptions,
    report: InputReport,
    redactor: Redactor | None,
) -> list[_Fields]:
    """The mapped fields of each row; unreadable rows are counted as skips.

    Other columns (meta) and the record id are redacted here: an export's "email" or
    "phone" column must not reach the database any more than the text's.
    """
    out = []
    for row_number, row in batch:
        report.rows_read += 1
        if isinstance(row, Skip):
            _skip(report, options, row_number, row.reason, row.detail)
            continue
        raw = as_text(row.get(mapping.text))
        if raw is None or not raw.strip():
            _skip(report, options, row_number, "empty_text")
            continue
        meta = {c: _jsonable(row.get(c)) for c in mapping.meta if row.get(c) not in (None, "")}
        created_at = None
        if mapping.created_at:
            try:
                created_at = parse_date(row.get(mapping.created_at), mapping.date_format)
            except (ValueError, OverflowError, OSError):
                report.warnings["unreadable_date"] += 1
                meta[mapping.created_at] = _jsonable(row.get(mapping.created_at))
        score = None
        if mapping.score:
            try:
                score = parse_score(row.get(mapping.score))
            except ValueError:
                report.warnings["unreadable_score"] += 1
                meta[mapping.score] = _jsonable(row.get(mapping.score))
        channel = as_text(row.get(mapping.channel)) if mapping.channel else None
        channel = (channel or "").strip() or mapping.channel_value
        external_id = as_text(row.get(mapping.external_id)) if mapping.external_id else None
        pii: Counter = Counter()
        if redactor is not None:
            meta = _redact_value(meta, redactor, pii)
            external_id = _redact_value(external_id, redactor, pii)
        out.append(_Fields(row_number, raw, external_id, created_at, channel, score, meta, dict(pii)))
    return out


def _records(
    fields: list[_Fields], prepared: list[Prepared | Rejected], options: IngestOptions, report: InputReport
) -> list[_Record]:
    out = []
    for f, prep in zip(fields, prepared):
        if isinstance(prep, Rejected):
            _skip(report, options, f.row, prep.reason)
            continue
        for kind, n in f.pii.items():
            prep.pii[kind] = prep.pii.get(kind, 0) + n
        key_source = "\x1f".join([f.external_id or "", f.created_at or "", f.channel or "", prep.text])
        key = xxhash.xxh3_128_hexdigest(key_source.encode("utf-8", "surrogatepass"))
        out.append(_Record(key, f.external_id, f.created_at, f.channel, f.score, f.meta, prep))
    return out


def _in_chunks(values: list, size: int = 900) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _write_batch(
    db: sqlite_utils.Database,
    source_id: int,
    records: list[_Record],
    report: InputReport,
    *,
    own_source: int | None = None,
) -> _Tally:
    """Store one batch and the source's counts as they will be once it is committed; return what it adds."""
    tally = _Tally()
    fresh = _fresh_records(db.conn, records, tally, own_source)
    if not fresh:
        _update_source(db, source_id, report, tally)
        return tally
    index = _DedupeIndex.load(db.conn, [r for r in fresh if r.prep.signature is not None])
    first_id = (db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]) + 1
    now = utc_now()
    rows = _BatchRows()
    for doc_id, r in enumerate(fresh, start=first_id):
        duplicate_of, kind = index.place(r, doc_id, rows) if r.prep.signature is not None else (None, None)
        tally.count(r.prep, kind)
        rows.documents.append(_document_row(doc_id, source_id, r, duplicate_of, kind, now))
        for seg_index, text, start, end, lang, script, informative in r.prep.segments:
            rows.segments.append((doc_id, seg_index, text, lang, script, start, end, int(informative)))
    rows.insert(db)
    _update_source(db, source_id, report, tally)
    return tally


def _fresh_records(conn, records: list[_Record], tally: _Tally, own_source: int | None) -> list[_Record]:
    """Records not stored before (by record key, nor earlier in this batch); the others are counted as
    already stored, except those `own_source` stored (an interrupted run of this input: counted by that run)."""
    known: set[str] = set()
    own: set[str] = set()
    for chunk in _in_chunks([r.key for r in records]):
        marks = ",".join("?" * len(chunk))
        for key, source in conn.execute(
                f"SELECT record_key, source_id FROM documents WHERE record_key IN ({marks})", chunk):
            (own if source == own_source else known).add(key)
    fresh: list[_Record] = []
    for r in records:
        if r.key in own:
            continue
        if r.key in known:
            tally.already_stored += 1
        else:
            known.add(r.key)
            fresh.append(r)
    return fresh


def _count_committed(db: sqlite_utils.Database, source_id: int) -> _Tally:
    """The counts of what an interrupted run of this input committed: its source row was written in the same
    transactions as its documents, so it agrees with them."""
    tally = _Tally()
    tally.duplicates, tally.near_duplicates, tally.noninformative = db.execute(
        "SELECT duplicates, near_duplicates, noninformative FROM sources WHERE id = ?", [source_id]).fetchone()
    for lang, script, pii in db.execute("SELECT lang, script, pii FROM documents WHERE source_id = ?", [source_id]):
        tally.stored += 1
        tally.languages[lang] += 1
        tally.scripts[script] += 1
        tally.pii.update(json.loads(pii) if pii else {})
    return tally


@dataclass
class _BatchRows:
    """The rows one batch inserts, table by table."""

    documents: list[tuple] = field(default_factory=list)
    segments: list[tuple] = field(default_factory=list)
    signatures: list[tuple] = field(default_factory=list)
    buckets: list[tuple] = field(default_factory=list)

    def insert(self, db: sqlite_utils.Database) -> None:
        conn = db.conn
        conn.executemany(
            "INSERT INTO documents (id, source_id, external_id, record_key, text, clean_text, lang, script, "
            "lang_confidence, created_at, channel, score, meta, content_hash, duplicate_of, duplicate_kind, "
            "informative, n_segments, pii, ingested_at) VALUES (" + ",".join("?" * 20) + ")",
            self.documents,
        )
        index_fts(db, self.documents[0][0], self.documents[-1][0])
        conn.executemany(
            "INSERT INTO segments (document_id, seg_index, text, lang, script, char_start, char_end, informative) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.segments,
        )
        conn.executemany("INSERT INTO dedupe_signatures (document_id, signature) VALUES (?, ?)", self.signatures)
        conn.executemany("INSERT OR IGNORE INTO dedupe_buckets (bucket, document_id) VALUES (?, ?)", self.buckets)


@dataclass
class _DedupeIndex:
    """What duplicate detection of a batch needs from the store (originals by content hash, the
    LSH buckets of the batch's signatures and the signatures of the documents in them), kept
    current as the batch's own new originals join it."""

    originals_by_hash: dict[str, int]
    buckets_of: dict[int, list[int]]  # id(record) -> its LSH buckets
    bucket_docs: dict[int, list[int]]
    signatures: dict[int, Any]

    @classmethod
    def load(cls, conn, eligible: list[_Record]) -> _DedupeIndex:
        """`eligible`: records long enough to be deduplicated (those with a signature)."""
        originals_by_hash: dict[str, int] = {}
        for chunk in _in_chunks(sorted({r.prep.content_hash for r in eligible})):
            marks = ",".join("?" * len(chunk))
            for h, doc_id in conn.execute(
                # Originals long enough to be deduplicated are exactly those with a signature.
                f"SELECT d.content_hash, MIN(d.id) FROM documents d JOIN dedupe_signatures s ON s.document_id = d.id "
                f"WHERE +d.duplicate_of IS NULL AND d.content_hash IN ({marks}) GROUP BY d.content_hash",  # +: not via the duplicate_of index
                chunk,
            ):
                originals_by_hash[h] = doc_id
        buckets_of = {id(r): dedupe.buckets(r.prep.signature) for r in eligible}
        bucket_docs: dict[int, list[int]] = {}
        for chunk in _in_chunks(sorted({b for bl in buckets_of.values() for b in bl})):
            marks = ",".join("?" * len(chunk))
            for b, doc_id in conn.execute(f"SELECT bucket, document_id FROM dedupe_buckets WHERE bucket IN ({marks})", chunk):
                bucket_docs.setdefault(b, []).append(doc_id)
        signatures: dict[int, Any] = {}
        for chunk in _in_chunks(sorted({d for docs in bucket_docs.values() for d in docs})):
            marks = ",".join("?" * len(chunk))
            for doc_id, blob in conn.execute(
                f"SELECT document_id, signature FROM dedupe_signatures WHERE document_id IN ({marks})", chunk
            ):
                signatures[doc_id] = dedupe.from_blob(blob)
        return cls(originals_by_hash, buckets_of, bucket_docs, signatures)

    def place(self, r: _Record, doc_id: int, rows: _BatchRows) -> tuple[int | None, str | None]:
        """(the original it duplicates, exact | near), or (None, None) for a new original, which
        then joins the index (for the rest of this batch) and `rows` (for later runs)."""
        prep = r.prep
        duplicate_of = self.originals_by_hash.get(prep.content_hash)
        if duplicate_of is not None:
            return duplicate_of, "exact"
        candidates = sorted({c for b in self.buckets_of[id(r)] for c in self.bucket_docs.get(b, ())})
        scored = [(dedupe.near_score(prep.signature, self.signatures[c]), -c) for c in candidates]
        best_sim, neg_id = max(scored, default=(0.0, 0))
        if best_sim >= dedupe.NEAR_THRESHOLD:
            return -neg_id, "near"
        self.originals_by_hash[prep.content_hash] = doc_id
        self.signatures[doc_id] = prep.signature
        rows.signatures.append((doc_id, dedupe.to_blob(prep.signature)))
        for b in self.buckets_of[id(r)]:
            self.bucket_docs.setdefault(b, []).append(doc_id)
            rows.buckets.append((b, doc_id))
        return None, None


def _document_row(doc_id: int, source_id: int, r: _Record, duplicate_of: int | None, kind: str | None, now: str) -> tuple:
    prep = r.prep
    return (
        doc_id, source_id, r.external_id, r.key, prep.text, prep.clean_text, prep.lang.lang, prep.lang.script,
        round(prep.lang.confidence, 4), r.created_at, r.channel, r.score,
        json.dumps(r.meta, ensure_ascii=False) if r.meta else None, prep.content_hash, duplicate_of, kind,
        int(prep.informative), len(prep.segments), json.dumps(prep.pii) if prep.pii else None, now,
    )


def _update_source(db: sqlite_utils.Database, source_id: int, report: InputReport, batch: _Tally | None = None) -> None:
    """The source row's counts: the report's, plus those of the batch being committed with this row."""
    batch = batch or _Tally()
    db.execute(
        "UPDATE sources SET rows_read = ?, stored = (SELECT COUNT(*) FROM documents WHERE source_id = ?), "
        "already_stored = ?, duplicates = ?, near_duplicates = ?, noninformative = ?, skipped = ?, "
        "skipped_reasons = ? WHERE id = ?",
        [
            report.rows_read, source_id, report.already_stored + batch.already_stored,
            report.duplicates + batch.duplicates, report.near_duplicates + batch.near_duplicates,
            report.noninformative + batch.noninformative, sum(report.skipped.values()),
            json.dumps(dict(report.skipped)), source_id,
        ],
    )


def _finish_source(db: sqlite_utils.Database, report: InputReport, status: str) -> None:
    with transaction(db):
        _update_source(db, report.source_id, report)
        db.execute(
            "UPDATE sources SET status = ?, finished_at = ? WHERE id = ?", [status, utc_now(), report.source_id]
        )


def store_items(
    db: sqlite_utils.Database,
    source_id: int,
    items: list[tuple[dict, Prepared | Rejected]],
    options: IngestOptions,
    report: InputReport,
    summary: IngestSummary,
) -> None:
    """Store records that come from elsewhere than a file (a crawled page's complaint and its
    replies) exactly as ingest stores a batch: the same record keys (a record already stored
    adds nothing), duplicates, counts and source row. Each item is (fields, prepared): fields
    may hold external_id, created_at, channel, score, meta (redacted by the caller) and pii
    (counts of what the caller redacted). Runs in the caller's transaction."""
    fields = [
        _Fields(n, "", f.get("external_id"), f.get("created_at"), f.get("channel"), f.get("score"),
                f.get("meta") or {}, dict(f.get("pii") or {}))
        for n, (f, _) in enumerate(items, start=report.rows_read + 1)
    ]
    report.rows_read += len(items)
    # Counted at once: the caller's transaction holds the crawl's own state, and a rollback ends its run.
    _write_batch(db, source_id, _records(fields, [p for _, p in items], options, report), report).add_to(report, summary)
