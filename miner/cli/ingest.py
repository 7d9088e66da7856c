"""`miner ingest`: read files, folders or standard input into the store."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, EXIT_ERROR, EXIT_STRICT, DbOption, JsonSummaryOption, QuietOption, WaitOption, clean_errors, err, input_progress,
    lock_store, print_json,
)
from .format_ingest import echo_ingest_summary, input_error

Paths = Annotated[list[str], typer.Argument(help="Files, folders (read recursively) or - for standard input.")]
Column = Optional[str]
TextColumn = Annotated[Column, typer.Option(help="Column holding the text (auto-detected if omitted).")]
IdColumn = Annotated[Column, typer.Option("--id", help="Column holding the record id.")]
DateColumn = Annotated[Column, typer.Option(help="Column holding the date.")]
ScoreColumn = Annotated[Column, typer.Option(help="Column holding a score or rating (NPS, CSAT, stars).")]
ChannelColumn = Annotated[Column, typer.Option(help="Column holding the channel.")]
ChannelValue = Annotated[Optional[str], typer.Option(help="Channel for every row of these inputs (e.g. survey, app_review).")]
MetaColumns = Annotated[
    Optional[str], typer.Option(help="Comma-separated columns kept as JSON metadata (default: all other columns).")
]
DateFormat = Annotated[Optional[str], typer.Option(help="strptime format for dates, e.g. %m/%d/%Y for US exports.")]
InputFormat = Annotated[
    Optional[str], typer.Option("--format", help="csv, tsv, jsonl, json, parquet, xlsx, txt or html (default: from the extension).")
]
Encoding = Annotated[Optional[str], typer.Option(help="Force a text encoding (default: detected).")]
TextUnit = Annotated[
    Optional[str], typer.Option(help="For plain text: file, line or paragraph per document (default: file; line for stdin).")
]
Sheet = Annotated[Optional[str], typer.Option(help="Worksheet of an .xlsx file (default: the first).")]
Redact = Annotated[bool, typer.Option("--redact/--no-redact", help="Redact PII before storing (default: on).")]
RedactPatterns = Annotated[
    Optional[list[str]], typer.Option(help="Extra PII pattern NAME=REGEX, redacted as [NAME]. Repeatable.")
]
KeepKinds = Annotated[
    Optional[list[str]],
    typer.Option(help="A PII kind not to redact (email, phone, card, iban, national_id, url_secret). Repeatable."),
]
RedactNames = Annotated[
    bool,
    typer.Option("--redact-names", help="Also redact names of people in signatures and introductions (\"Regards, Maria Lopez\", \"我是王小明\") as [PERSON] (default: off)."),
]
Strict = Annotated[bool, typer.Option(help="Fail (exit 3) instead of skipping bad rows; the input is then not stored.")]
DedupeMinChars = Annotated[
    int, typer.Option(help="Texts shorter than this (CJK characters count 3) are never marked duplicates.")
]
Workers = Annotated[
    Optional[int], typer.Option(help="Worker processes preparing texts for large inputs (default: up to 2; 0 = none); "
                                "with --engine ray, Ray tasks at once (default 2).")
]


@clean_errors
def ingest(
    paths: Paths,
    db: DbOption = DEFAULT_DB,
    text: TextColumn = None,
    id: IdColumn = None,
    date: DateColumn = None,
    score: ScoreColumn = None,
    channel: ChannelColumn = None,
    channel_value: ChannelValue = None,
    meta: MetaColumns = None,
    date_format: DateFormat = None,
    format: InputFormat = None,
    encoding: Encoding = None,
    text_unit: TextUnit = None,
    sheet: Sheet = None,
    redact: Redact = True,
    redact_pattern: RedactPatterns = None,
    keep: KeepKinds = None,
    redact_names: RedactNames = False,
    strict: Strict = False,
    dedupe_min_chars: DedupeMinChars = 40,
    workers: Workers = None,
    engine: Annotated[str, typer.Option(
        help="Where texts are prepared (redaction, cleaning, language, segments): 'local' (worker processes) or 'ray' "
        "(Ray tasks; reading, dedupe and writes stay here; pip install miner[ray]; docs/scale.md). Both give the same store.")] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="--engine ray: the cluster, 'auto' (on a node of it) or ray://HOST:10001; default a local Ray instance.")] = None,
    quiet: QuietOption = False,
    as_json: JsonSummaryOption = False,
    wait: WaitOption = None,
) -> None:
    """Read complaint or feedback text into the SQLite store: clean, redact, detect language, segment, dedupe."""
    from miner.ingest import pipeline

    options = ingest_options(
        paths, text=text, id=id, date=date, score=score, channel=channel, channel_value=channel_value, meta=meta,
        date_format=date_format, format=format, encoding=encoding, text_unit=text_unit, sheet=sheet, redact=redact,
        redact_pattern=redact_pattern, keep=keep, strict=strict, dedupe_min_chars=dedupe_min_chars, workers=workers,
        redact_names=redact_names,
    )
    from miner.errors import UsageError
    from miner.store import new_or_existing

    if engine not in ("local", "ray"):
        raise UsageError("E742", f"unknown engine {engine!r}.", "Use --engine local or --engine ray.")
    if engine == "local" and address:
        raise UsageError("E742", "--address is an option of --engine ray.", "Add --engine ray, or leave it out.")
    stdin = sys.stdin.buffer.read() if pipeline.STDIN in paths else None
    lock_store(db, "ingest", wait)  # one writer at a time (a second one waits here)
    with new_or_existing(db) as store, input_progress(quiet) as progress:  # a new store that got nothing is removed
        if engine == "ray":
            from miner.engine.ray_common import RayOptions
            from miner.engine.ray_ingest import ingest_ray

            summary, stats = ingest_ray(store, paths, options, ray_options=RayOptions(address=address, workers=2 if workers is None else workers),
                                        stdin=stdin, progress=progress)
            result = summary.to_dict() | {"ray": stats.to_dict()}
        else:
            result = pipeline.ingest(store, paths, options, stdin=stdin, progress=progress).to_dict()
    if as_json:
        print_json(result)
    elif not quiet:
        echo_ingest_summary(result)
    if not db.exists() and not quiet:
        err(f"Nothing was stored, so no store was created at {db}.")
    exit_for_failures(result, strict=strict, quiet=quiet)


def ingest_options(
    paths: list[str], *, text, id, date, score, channel, channel_value, meta, date_format, format, encoding, text_unit,
    sheet, redact, redact_pattern, keep, strict, dedupe_min_chars, workers, redact_names=False,
):
    """The command's options as the pipeline's IngestOptions (bad --redact-pattern values stop here)."""
    from miner.ingest.pii import parse_pattern_option
    from miner.ingest.pipeline import STDIN, IngestOptions

    options = IngestOptions(
        text=text,
        external_id=id,
        created_at=date,
        score=score,
        channel=channel,
        channel_value=channel_value,
        meta=[m.strip() for m in meta.split(",")] if meta else None,
        date_format=date_format,
        format=format,
        encoding=encoding,
        text_unit=text_unit or ("line" if paths == [STDIN] else None),
        sheet=sheet,
        redact=redact,
        redact_patterns=dict(parse_pattern_option(p) for p in redact_pattern or []),
        redact_disabled=list(keep or []),
        redact_enabled=["person"] if redact_names else [],
        strict=strict,
        dedupe_min_chars=dedupe_min_chars,
    )
    if workers is not None:
        options.workers = workers
    return options


def exit_for_failures(result: dict, *, strict: bool, quiet: bool) -> None:
    """Exit 3 for --strict with anything skipped or failed, 1 when every input failed; with --quiet, name the failures."""
    failed = [i for i in result["inputs"] if i["status"] in ("failed", "strict_failed")]
    if quiet:
        for item in failed:
            err(input_error(item))
    if strict and (failed or result["totals"]["skipped"]):
        raise typer.Exit(EXIT_STRICT)
    if failed and len(failed) == len(result["inputs"]):
        raise typer.Exit(EXIT_ERROR)
