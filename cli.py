"""The `miner` command: thin Typer commands that parse, call one library function, and print.

Exit codes (for scripts and cron):
  0  success (skipped rows, if any, are counted in the summary)
  1  error: an input or the database could not be used; nothing half-written
  2  usage error: a bad option or column name
  3  --strict and something was skipped (nothing from that input was stored)
  4  miner alerts: new alerts were raised (written to --out or standard output)
  5  miner alerts: some webhook posts failed and stay pending (retried on the next run)
  130 interrupted (Ctrl-C); what was committed stays, re-running completes the job
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer

from miner.errors import MinerError, UsageError

app = typer.Typer(
    help="Mine complaints and open feedback into themes, touchpoints and a ranked backlog, stored in SQLite.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
export_app = typer.Typer(help="Export stored tables as JSON Lines, CSV or Parquet.", no_args_is_help=True)
app.add_typer(export_app, name="export")
train_app = typer.Typer(help="Train the small heads miner runs on top of the encoder.", no_args_is_help=True)
app.add_typer(train_app, name="train")

DbOption = Annotated[Path, typer.Option("--db", help="The SQLite store.", envvar="MINER_DB")]
EXIT_STRICT = 3


def err(message: str) -> None:
    typer.echo(message, err=True)


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
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: still one line, with a way to see the traceback
            if os.environ.get("MINER_DEBUG"):
                raise
            err(f"Error [E999] internal error: {type(exc).__name__}: {exc}. Re-run with MINER_DEBUG=1 for details.")
            raise typer.Exit(1) from None

    return wrapper


def _progress_printer(quiet: bool):
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True)
    task = bar.add_task("reading", total=None)

    def update(event: dict) -> None:
        n, total = event["position"]
        bar.update(task, description=f"[{n}/{total}] {Path(event['input']).name}: {event['rows_read']:,} rows read")

    return bar, update


def _print_ingest_summary(summary: dict) -> None:
    t = summary["totals"]
    typer.echo(
        f"Read {t['rows_read']:,} rows from {len(summary['inputs'])} input(s) in {summary['seconds']:.1f}s: "
        f"stored {t['stored']:,}, already stored {t['already_stored']:,}, "
        f"duplicates {t['duplicates']:,} exact + {t['near_duplicates']:,} near, "
        f"non-informative {t['noninformative']:,}, skipped {t['skipped']:,}."
    )
    if summary["skipped"]:
        typer.echo("Skipped by reason: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["skipped"].items())))
    if summary["warnings"]:
        typer.echo("Warnings: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["warnings"].items())))
    if summary["languages"]:
        typer.echo("Languages: " + ", ".join(f"{k} {v:,}" for k, v in summary["languages"].items()))
    if summary["pii_redacted"]:
        typer.echo("PII redacted: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["pii_redacted"].items())))
    for item in summary["inputs"]:
        if item["status"] == "unchanged":
            typer.echo(f"  {item['path']}: already ingested with these options (source {item['source_id']}), nothing to do.")
        elif item["error"]:
            err(f"Error in {item['path']}: {item['error']}")


@app.command()
@clean_errors
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (read recursively) or - for standard input.")],
    db: DbOption = Path("miner.db"),
    text: Annotated[Optional[str], typer.Option(help="Column holding the text (auto-detected if omitted).")] = None,
    id: Annotated[Optional[str], typer.Option("--id", help="Column holding the record id.")] = None,
    date: Annotated[Optional[str], typer.Option(help="Column holding the date.")] = None,
    score: Annotated[Optional[str], typer.Option(help="Column holding a score or rating (NPS, CSAT, stars).")] = None,
    channel: Annotated[Optional[str], typer.Option(help="Column holding the channel.")] = None,
    channel_value: Annotated[
        Optional[str], typer.Option(help="Channel for every row of these inputs (e.g. survey, app_review).")
    ] = None,
    meta: Annotated[
        Optional[str], typer.Option(help="Comma-separated columns kept as JSON metadata (default: all other columns).")
    ] = None,
    date_format: Annotated[
        Optional[str], typer.Option(help="strptime format for dates, e.g. %m/%d/%Y for US exports.")
    ] = None,
    format: Annotated[
        Optional[str], typer.Option("--format", help="csv, tsv, jsonl, json, parquet, xlsx, txt or html (default: from the extension).")
    ] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Force a text encoding (default: detected).")] = None,
    text_unit: Annotated[
        Optional[str], typer.Option(help="For plain text: file, line or paragraph per document (default: file; line for stdin).")
    ] = None,
    sheet: Annotated[Optional[str], typer.Option(help="Worksheet of an .xlsx file (default: the first).")] = None,
    redact: Annotated[bool, typer.Option("--redact/--no-redact", help="Redact PII before storing (default: on).")] = True,
    redact_pattern: Annotated[
        Optional[list[str]], typer.Option(help="Extra PII pattern NAME=REGEX, redacted as [NAME]. Repeatable.")
    ] = None,
    keep: Annotated[
        Optional[list[str]],
        typer.Option(help="A PII kind not to redact (email, phone, card, iban, national_id, url_secret). Repeatable."),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Fail (exit 3) instead of skipping bad rows; the input is then not stored.")] = False,
    dedupe_min_chars: Annotated[
        int, typer.Option(help="Texts shorter than this (CJK characters count 3) are never marked duplicates.")
    ] = 40,
    workers: Annotated[
        Optional[int], typer.Option(help="Worker processes preparing texts for large inputs (default: up to 2; 0 = none).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read complaint or feedback text into the SQLite store: clean, redact, detect language, segment, dedupe."""
    from miner.ingest.pii import parse_pattern_option
    from miner.ingest.pipeline import STDIN, IngestOptions
    from miner.ingest.pipeline import ingest as run_ingest
    from miner.store import open_db

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
        strict=strict,
        dedupe_min_chars=dedupe_min_chars,
    )
    if workers is not None:
        options.workers = workers
    stdin = sys.stdin.buffer.read() if STDIN in paths else None
    store = open_db(db)
    bar, update = _progress_printer(quiet)
    if bar:
        with bar:
            summary = run_ingest(store, paths, options, stdin=stdin, progress=update)
    else:
        summary = run_ingest(store, paths, options, stdin=stdin)
    result = summary.to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif not quiet:
        _print_ingest_summary(result)
    failed = [i for i in result["inputs"] if i["status"] in ("failed", "strict_failed")]
    if quiet:
        for item in failed:
            err(f"Error in {item['path']}: {item['error']}")
    if strict and (failed or result["totals"]["skipped"]):
        raise typer.Exit(EXIT_STRICT)
    if failed and len(failed) == len(result["inputs"]):
        raise typer.Exit(1)


def _export(table: str, db: Path, fmt: str, out: Optional[Path]) -> None:
    from miner.table_export import export_table
    from miner.store import open_db

    result = export_table(open_db(db, create=False), table, fmt, out if out else sys.stdout)
    if out:
        err(f"Wrote {result['rows']:,} {table} to {out}.")


FormatOption = Annotated[str, typer.Option("--format", help="jsonl, csv or parquet.")]
OutOption = Annotated[Optional[Path], typer.Option("--out", help="Output file (default: standard output).")]


@export_app.command("documents")
@clean_errors
def export_documents(db: DbOption = Path("miner.db"), format: FormatOption = "jsonl", out: OutOption = None) -> None:
    """One row per document with every stored field (CSV cells that look like formulas are neutralised)."""
    _export("documents", db, format, out)


@export_app.command("segments")
@clean_errors
def export_segments(db: DbOption = Path("miner.db"), format: FormatOption = "jsonl", out: OutOption = None) -> None:
    """One row per segment (sentence or clause) with its language and character span."""
    _export("segments", db, format, out)


@app.command()
@clean_errors
def search(
    query: Annotated[str, typer.Argument(help="Words or phrase to find, in any language.")],
    db: DbOption = Path("miner.db"),
    limit: Annotated[int, typer.Option(help="Most documents to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Full-text search over the cleaned text of stored documents (any language, CJK included)."""
    from miner.search import search_documents
    from miner.store import open_db

    hits = search_documents(open_db(db, create=False), query, limit=limit)
    if as_json:
        typer.echo(json.dumps(hits, ensure_ascii=False, indent=2))
        return
    for hit in hits:
        snippet = " ".join(hit["clean_text"].split())[:160]
        typer.echo(f"{hit['id']:>7}  {hit['lang'] or '?':<3} {hit['created_at'] or '':<10}  {snippet}")
    err(f"{len(hits)} document(s).")


@app.command()
@clean_errors
def demo(
    db: DbOption = Path("demo.db"),
    analyze: Annotated[bool, typer.Option("--analyze/--no-analyze", help="Also embed and add sentiment (default).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the main job on the bundled demo corpus (a multilingual NovaLink complaint set)."""
    from miner.demo import run_demo

    result = run_demo(db, analyze=analyze)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_ingest_summary(result["ingest"])
    if result["analyze"]:
        a = result["analyze"]
        typer.echo(
            f"Analyzed {a['documents']:,} documents ({a['segments']:,} segments) in {a['seconds']:.1f}s; "
            f"by sentiment: " + ", ".join(f"{k} {v:,}" for k, v in sorted(a["labels"].items()))
        )
    if result["themes"]:
        d = result["themes"]["discover"]
        typer.echo(
            f"Found {d['themes']} themes across languages in {d['seconds']:.1f}s "
            f"({d['outlier_share']:.1%} of segments without a theme). The largest:"
        )
        for t in result["themes"]["top"]:
            typer.echo(_theme_line(t))
    if result.get("touchpoints"):
        a, o = result["touchpoints"]["assign"], result["touchpoints"]["overview"]
        typer.echo(f"Touchpoints ({a['taxonomy']}): {a['assigned']:,} segments at a touchpoint, {a['none_share']:.1%} none. Most negative:")
        worst = sorted((t for t in o["touchpoints"] if t["segments"] >= 10), key=lambda t: -(t["neg_share"] or 0))[:5]
        for t in worst:
            typer.echo(f"  {t['label'][:34]:<34} {t['segments']:>5} segments  neg {t['neg_share']:.0%}  "
                       + "; ".join(x["label"][:30] for x in t["top_themes"]))
    typer.echo(f"Store: {result['db']} ({result['documents']:,} documents, {result['segments']:,} segments).")
    typer.echo(f"Try: miner themes list --db {db}   miner themes show ID --db {db}   miner touchpoints list --db {db}   miner export documents --db {db}")
    if result.get("backlog"):  # last: the demo ends with what to fix first
        from miner.backlog.formats import table_lines

        typer.echo(f"The backlog (miner backlog show ID --db {db}; --format md|csv|json|jira --out FILE), top 10:")
        typer.echo("\n".join(table_lines(result["backlog"], top=10)))


EncoderOption = Annotated[
    Optional[str], typer.Option("--encoder", help="e5-small (default), fake, or hf:PATH for a local transformers model.")
]


@app.command()
@clean_errors
def analyze(
    db: DbOption = Path("miner.db"),
    encoder: EncoderOption = None,
    head: Annotated[Optional[str], typer.Option(help="Sentiment head: a .npz path or a name in models/.")] = None,
    threads: Annotated[Optional[int], typer.Option(help="Encoder threads (default: all cores).")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per encoder call (torch re-batches them by token count).")] = 256,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Embed every new segment once (cached) and add sentiment per segment and per document."""
    from miner.analyze import analyze as run_analyze
    from miner.nlp.encoders.registry import get_encoder
    from miner.store import open_db

    store = open_db(db, create=False)
    enc = get_encoder(encoder, threads=threads, lazy=True)  # a re-run on cached vectors loads no model
    bar, task = None, None
    if not quiet and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
        task = bar.add_task("analyze", total=None)
    if bar:
        with bar:
            summary = run_analyze(store, encoder=enc, head_path=head, encoder_batch=batch_size,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
    else:
        summary = run_analyze(store, encoder=enc, head_path=head, encoder_batch=batch_size)
    result = summary.to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif not quiet:
        e = result["embed"]
        typer.echo(
            f"Analyzed {result['documents']:,} documents ({result['segments']:,} segments) in {result['seconds']:.1f}s: "
            f"embedded {e['embedded']:,} new texts in {e['encoder_calls']:,} encoder calls, {e['cached'] + e['texts'] - e['unique']:,} from cache."
        )
        if result["labels"]:
            typer.echo("Documents by sentiment: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result["labels"].items())))
        if not result["documents"]:
            typer.echo("Nothing new to analyze.")


@train_app.command("sentiment")
@clean_errors
def train_sentiment_cmd(
    data: Annotated[
        str, typer.Option(help="'shared' (the public corpora in ../shared/corpora) or a labelled CSV (text, label[, split, lang]).")
    ] = "shared",
    out: Annotated[Path, typer.Option(help="Where to write the head (.npz).")] = Path("models/sentiment-e5-small.npz"),
    encoder: EncoderOption = None,
    cache: Annotated[
        Optional[Path], typer.Option(help="Sidecar embedding cache for training texts (default: ~/.cache/miner/embeddings.db).")
    ] = None,
    text_column: Annotated[str, typer.Option(help="Text column of a labelled CSV.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column of a labelled CSV (neg/neu/pos).")] = "label",
    threads: Annotated[Optional[int], typer.Option(help="Encoder threads.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Train the sentiment head (select on valid, report test once) and save it with its metrics."""
    from miner.nlp.cache import EmbeddingCache
    from miner.nlp.encoders.registry import get_encoder
    from miner.nlp.sentiment_data import load_csv, load_shared
    from miner.nlp.train_sentiment import model_card, train_sentiment

    if data == "shared":
        examples, description = load_shared(), "../shared/corpora (sentiment_data.CORPORA, deterministic splits)"
    else:
        examples, description = load_csv(Path(data), text_column, label_column), f"user file {Path(data).name}"
    enc = get_encoder(encoder, threads=threads)
    from miner.paths import cache_dir

    result = train_sentiment(
        examples, enc, EmbeddingCache.open_file(cache or cache_dir() / "embeddings.db"), name=out.stem, data_description=description,
        progress=None if as_json else (lambda msg: err(msg)),
    )
    result.head.save(out)
    out.with_suffix(".md").write_text(model_card(result.head), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps({"out": str(out), "valid": result.valid, "test": result.test, "grid": result.grid}, indent=2))
        return
    typer.echo(f"Saved {out} and its model card {out.with_suffix('.md')} ({result.head.meta['params']}) in {result.seconds:.0f}s.")
    for split, metrics in (("valid", result.valid), ("test", result.test)):
        for key, m in metrics.items():
            typer.echo(f"  {split:5} {key:32} n={m['n']:5}  accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}")


themes_app = typer.Typer(help="Discover themes across languages, read them, and edit them (edits persist across runs).", no_args_is_help=True)
app.add_typer(themes_app, name="themes")
ThemeId = Annotated[int, typer.Argument(help="Theme id (see `miner themes list`).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _stop_terms(path: Optional[Path]) -> set[str]:
    if path is None:
        return set()
    from miner.themes.terms import read_stop_terms

    return read_stop_terms(path)


@themes_app.command("discover")
@clean_errors
def themes_discover(
    db: DbOption = Path("miner.db"),
    encoder: EncoderOption = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same data and seed give the same themes.")] = 42,
    max_fit: Annotated[int, typer.Option(help="Fit on at most this many segments; the rest are assigned.")] = 20_000,
    min_cluster_size: Annotated[int, typer.Option(help="Smallest theme HDBSCAN may form (0: from the data size).")] = 0,
    max_outliers: Annotated[float, typer.Option(help="Most segments left without a theme, as a share (0-0.9).")] = 0.15,
    debias: Annotated[str, typer.Option(help="Language-identity removal: default, none, center, coral+inlp...")] = "default",
    stop_terms: Annotated[
        Optional[Path], typer.Option(help="Text file of brand, shop or product names (one per line) never used as keywords.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Find themes in all informative segments; keep ids, labels and edits of earlier runs."""
    from miner.nlp.encoders.registry import get_encoder
    from miner.store import open_db
    from miner.themes.fit import ThemeParams
    from miner.themes.discover import discover

    if not 0 <= max_outliers <= 0.9 or max_fit < 10 or min_cluster_size < 0:
        raise UsageError("E800", "--max-outliers must be 0..0.9, --max-fit at least 10, --min-cluster-size at least 0.", "Fix the option.")
    params = ThemeParams(seed=seed, max_fit=max_fit, min_cluster_size=min_cluster_size, max_outliers=max_outliers, debias=debias)
    terms = _stop_terms(stop_terms)
    summary = discover(open_db(db, create=False), encoder=get_encoder(encoder, lazy=True), params=params, stop_terms=terms,
                       progress=None if as_json else (lambda stage: err(f"themes: {stage}...")))
    result = summary.to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    events = ", ".join(f"{k} {v}" for k, v in sorted(result["events"].items())) or "none"
    typer.echo(
        f"Run {result['run_id']}: {result['themes']} themes over {result['segments']:,} segments "
        f"({result['fitted']:,} fitted) in {result['seconds']:.1f}s; without a theme {result['outliers']:,} "
        f"({result['outlier_share']:.1%}); low-confidence {result['low_confidence']:,}. Themes: {events}."
    )
    typer.echo(f"See them with: miner themes list --db {db}")


def _theme_line(t: dict) -> str:
    langs = " ".join(f"{k}:{v}" for k, v in list(t["languages"].items())[:4])
    s = t["sentiment"]
    n = sum(s.values()) or 1
    mood = f"neg {s.get('neg', 0) / n:.0%}" if s else ""
    flags = ("*" if t["pinned"] else "") + ("(archived)" if t["status"] == "archived" else "")
    return f"{t['id']:>5}{flags:<2} {t['documents']:>6} docs {t['share']:>6.1%}  {mood:<8} {t['label'][:60]:<60}  {langs}"


@themes_app.command("list")
@clean_errors
def themes_list(
    db: DbOption = Path("miner.db"),
    archived: Annotated[bool, typer.Option("--archived", help="Include archived themes.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Show at most this many themes.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Themes by size: documents, share of segments, negative share, label, languages."""
    from miner.store import open_db
    from miner.themes.manage import list_themes

    result = list_themes(open_db(db, create=False), include_archived=archived, limit=limit)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'id':>5}   {'docs':>11} {'share':>6}  {'mood':<8} {'label':<60}  languages")
    for t in result["themes"]:
        typer.echo(_theme_line(t))
    typer.echo(f"{len(result['themes'])} themes; {result['outliers']:,} of {result['segments']:,} segments without a theme ({result['outlier_share']:.1%}). * pinned")


@themes_app.command("show")
@clean_errors
def themes_show(
    theme: ThemeId,
    db: DbOption = Path("miner.db"),
    period: Annotated[str, typer.Option(help="Volume by day, week or month.")] = "month",
    as_json: JsonOption = False,
) -> None:
    """One theme: size, languages, sentiment, first/last seen, volume sparkline, keywords and quotes per language."""
    from miner.store import open_db
    from miner.themes.manage import show_theme

    if period not in ("day", "week", "month"):
        raise UsageError("E807", f"unknown period {period!r}.", "Use --period day, week or month.")
    t = show_theme(open_db(db, create=False), theme, period=period)
    if as_json:
        typer.echo(json.dumps(t, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Theme {t['id']}: {t['label']}  [{t['status']}{', pinned' if t['pinned'] else ''}]")
    if t["label"] != t["auto_label"]:
        typer.echo(f"  automatic label: {t['auto_label']}")
    s = t["sentiment"]
    typer.echo(f"  {t['documents']:,} documents, {t['segments']:,} segments ({t['share']:.1%}), {t['low_confidence']:,} low-confidence")
    typer.echo("  languages: " + ", ".join(f"{k} {v}" for k, v in t["languages"].items()))
    typer.echo(f"  sentiment: neg {s.get('neg', 0)}, neu {s.get('neu', 0)}, pos {s.get('pos', 0)}")
    typer.echo(f"  seen: {t['first_seen'] or '?'} .. {t['last_seen'] or '?'}   by {period}: {t['sparkline']}")
    for lang, words in t["keywords"].items():
        typer.echo(f"  keywords [{lang}]: " + ", ".join(words))
    for lang, quotes in t["quotes"].items():
        for q in quotes:
            typer.echo(f"  [{lang}] " + " ".join(q.split())[:200])


@themes_app.command("lineage")
@clean_errors
def themes_lineage(
    db: DbOption = Path("miner.db"),
    run: Annotated[Optional[int], typer.Option(help="Discovery run (default: the latest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """What the latest discovery run did to each theme: new, kept, split, merged, retired."""
    from miner.store import open_db
    from miner.themes.manage import lineage

    rows = lineage(open_db(db, create=False), run)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        rel = f" (from/into {r['related_theme_id']})" if r["related_theme_id"] else ""
        typer.echo(f"{r['event']:<8} {r['theme_id']:>5}{rel}  {r['label']}")


@themes_app.command("rename")
@clean_errors
def themes_rename(theme: ThemeId, label: Annotated[str, typer.Argument(help="The new label.")], db: DbOption = Path("miner.db")) -> None:
    """Give a theme your own label; it survives later discovery runs."""
    from miner.store import open_db
    from miner.themes.manage import rename

    r = rename(open_db(db, create=False), theme, label)
    typer.echo(f"Theme {r['theme']} is now {r['label']!r}.")


@themes_app.command("merge")
@clean_errors
def themes_merge(
    themes: Annotated[list[int], typer.Argument(help="Themes to merge into --into.")],
    into: Annotated[int, typer.Option(help="The theme that absorbs them (keeps its id and label).")],
    db: DbOption = Path("miner.db"),
) -> None:
    """Merge themes into one; later runs keep them together."""
    from miner.store import open_db
    from miner.themes.manage import merge

    r = merge(open_db(db, create=False), themes, into)
    typer.echo(f"Merged {', '.join(map(str, r['merged']))} into {r['into']} ({r['segments_moved']:,} segments moved).")


@themes_app.command("split")
@clean_errors
def themes_split(
    theme: ThemeId,
    parts: Annotated[int, typer.Option(help="Number of new themes (2-10).")] = 2,
    db: DbOption = Path("miner.db"),
    encoder: EncoderOption = None,
) -> None:
    """Split a theme into sub-themes by its segments' embeddings; later runs keep them apart."""
    from miner.nlp.encoders.registry import get_encoder
    from miner.store import open_db
    from miner.themes.manage import split

    r = split(open_db(db, create=False), theme, parts, encoder=get_encoder(encoder, lazy=True))
    typer.echo(f"Split {r['theme']} into " + ", ".join(f"{c} ({n} segments)" for c, n in zip(r["children"], r["sizes"])) + ".")


def _flag_command(action: str, doc: str):
    @clean_errors
    def command(theme: ThemeId, db: DbOption = Path("miner.db")) -> None:
        from miner.store import open_db
        from miner.themes.manage import set_flag

        set_flag(open_db(db, create=False), theme, action)
        typer.echo(f"Theme {theme}: {action} done.")

    command.__doc__ = doc
    themes_app.command(action)(command)


_flag_command("archive", "Hide a theme from lists and backlogs (it is still matched and assigned).")
_flag_command("unarchive", "Show an archived theme again.")
_flag_command("pin", "Pin a theme: later runs never retire it or merge it away.")
_flag_command("unpin", "Unpin a theme.")


# --- touchpoints (miner.touchpoints) -----------------------------------------------------

touchpoints_app = typer.Typer(
    help="Customer-journey touchpoints: assign segments to a taxonomy (yours or the default), read volume and aspect sentiment.",
    no_args_is_help=True,
)
app.add_typer(touchpoints_app, name="touchpoints")
TaxonomyOption = Annotated[Optional[Path], typer.Option("--taxonomy", help="Your taxonomy YAML (default: the shipped customer journey).")]


def _pct(value) -> str:
    return "-" if value is None else f"{value:.0%}"


@touchpoints_app.command("assign")
@clean_errors
def touchpoints_assign(
    db: DbOption = Path("miner.db"),
    taxonomy: TaxonomyOption = None,
    examples: Annotated[Optional[Path], typer.Option("--examples", help="CSV of labelled examples (columns text,touchpoint): few-shot.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="How far the best touchpoint must stand out (default 0.018); higher leaves more segments without one.")] = None,
    encoder: EncoderOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store the taxonomy and give every informative segment its touchpoint(s), or none; link themes to touchpoints."""
    from miner.nlp.encoders.registry import get_encoder
    from miner.store import open_db
    from miner.touchpoints.assign import AssignParams
    from miner.touchpoints.model import assign_touchpoints

    params = AssignParams() if threshold is None else AssignParams(threshold=threshold)
    r = assign_touchpoints(open_db(db, create=False), encoder=get_encoder(encoder, lazy=True), taxonomy=taxonomy, examples=examples, params=params)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"Taxonomy {r['taxonomy']!r} ({r['touchpoints']} touchpoints, {r['method']}"
        + (f", {r['examples']} examples" if r["examples"] else "") + f"): {r['assigned']:,} of {r['segments']:,} segments "
        f"at a touchpoint ({r['none_share']:.1%} none, {r['two_touchpoints']:,} at two) in {r['seconds']:.1f}s."
    )
    typer.echo(f"See them with: miner touchpoints list --db {db}   miner touchpoints sentiment --by theme --db {db}")


@touchpoints_app.command("list")
@clean_errors
def touchpoints_list(
    db: DbOption = Path("miner.db"),
    themes: Annotated[int, typer.Option(help="Top themes shown per touchpoint.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """Touchpoints in journey order: segments, share, negative share, net sentiment, owner and top themes."""
    from miner.store import open_db
    from miner.touchpoints.aspects import touchpoint_overview

    r = touchpoint_overview(open_db(db, create=False), top_themes=themes)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'stage':<10} {'touchpoint':<18} {'segs':>6} {'share':>6} {'neg':>5} {'net':>6}  {'owner':<14} top themes")
    for t in r["touchpoints"]:
        net = "-" if t["net"] is None else f"{t['net']:+.2f}"
        top = "; ".join(f"{x['label'][:28]} ({x['segments']})" for x in t["top_themes"])
        typer.echo(f"{t['stage'][:10]:<10} {t['touchpoint'][:18]:<18} {t['segments']:>6} {t['share']:>6.1%} {_pct(t['neg_share']):>5} {net:>6}  {(t['owner'] or '-')[:14]:<14} {top}")
    typer.echo(f"Taxonomy {r['taxonomy']!r}: {r['with_touchpoint']:,} of {r['segments']:,} segments at a touchpoint ({r['none_share']:.1%} none).")


@touchpoints_app.command("sentiment")
@clean_errors
def touchpoints_sentiment(
    db: DbOption = Path("miner.db"),
    by: Annotated[str, typer.Option("--by", help="touchpoint, theme, channel, lang or period.")] = "touchpoint",
    period: Annotated[str, typer.Option(help="With --by period: day, week or month.")] = "month",
    touchpoint: Annotated[Optional[list[str]], typer.Option("--touchpoint", help="Only this touchpoint (key). Repeatable.")] = None,
    min_segments: Annotated[int, typer.Option(help="Leave out groups with fewer segments.")] = 1,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Aspect sentiment: negative share and net sentiment of the segments at each touchpoint, per theme, channel, language or period."""
    import csv as csv_mod

    from miner.files import neutralise_formula
    from miner.store import open_db
    from miner.touchpoints.aspects import aspect_sentiment

    rows = aspect_sentiment(open_db(db, create=False), by=by, period=period, touchpoints=touchpoint, min_segments=min_segments)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if as_csv:
        if rows:
            w = csv_mod.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows({k: neutralise_formula(v) for k, v in r.items()} for r in rows)
        return
    head = f"{'touchpoint':<18} " + (f"{by:<32} " if by != "touchpoint" else "")
    typer.echo(f"{head}{'segs':>6} {'docs':>6} {'neg':>5} {'neu':>5} {'pos':>5} {'net':>6}")
    for r in rows:
        group = f"{str(r['label'])[:32]:<32} " if by != "touchpoint" else ""
        net = "-" if r["net"] is None else f"{r['net']:+.2f}"
        rated = r["neg"] + r["neu"] + r["pos"] or 1
        typer.echo(f"{r['touchpoint'][:18]:<18} {group}{r['segments']:>6} {r['documents']:>6} {r['neg'] / rated:>5.0%} "
                   f"{r['neu'] / rated:>5.0%} {r['pos'] / rated:>5.0%} {net:>6}")


@touchpoints_app.command("check")
@clean_errors
def touchpoints_check(taxonomy: Annotated[Path, typer.Argument(help="The taxonomy YAML to validate.")]) -> None:
    """Validate a taxonomy file without a database: errors point at the file and line."""
    from miner.touchpoints.taxonomy import load_taxonomy

    tax = load_taxonomy(taxonomy)
    langs = sorted({lang for t in tax.touchpoints for lang, _ in t.examples if lang})
    n = sum(len(t.examples) for t in tax.touchpoints)
    typer.echo(f"{taxonomy}: taxonomy {tax.name!r} is valid: {len(tax.stages)} stages, {len(tax.touchpoints)} touchpoints, "
               f"{n} examples" + (f" in {', '.join(langs)}" if langs else "") + ".")


# --- trends and alerts (miner.trends) ----------------------------------------------------

trends_app = typer.Typer(
    help="Themes over time: volume, share and net sentiment per period; emerging themes; did a fix work.",
    invoke_without_command=True,
)
app.add_typer(trends_app, name="trends")
EXIT_ALERTS = 4
EXIT_PENDING = 5

ByOption = Annotated[str, typer.Option("--by", help="theme, touchpoint, channel or lang.")]
PeriodOption = Annotated[str, typer.Option("--period", help="day, week (ISO, Monday first) or month.")]
ChannelFilter = Annotated[Optional[list[str]], typer.Option("--channel", help="Only this channel. Repeatable.")]
LangFilter = Annotated[Optional[list[str]], typer.Option("--lang", help="Only this language (en, zh...). Repeatable.")]
ThemeFilter = Annotated[Optional[list[str]], typer.Option("--theme", help="Only this theme (id or label). Repeatable.")]
TouchpointFilter = Annotated[Optional[list[str]], typer.Option("--touchpoint", help="Only this touchpoint. Repeatable.")]


def _date_opt(value: Optional[str], option: str):
    from miner.trends.periods import parse_date_option

    return parse_date_option(value, option) if value else None


@trends_app.callback()
@clean_errors
def trends_cmd(
    ctx: typer.Context,
    db: DbOption = Path("miner.db"),
    by: ByOption = "theme",
    period: PeriodOption = "week",
    last: Annotated[Optional[int], typer.Option(help="Show the last N periods (default 26; 0 = all).")] = 26,
    since: Annotated[Optional[str], typer.Option(help="First day, YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    channel: ChannelFilter = None,
    lang: LangFilter = None,
    theme: ThemeFilter = None,
    touchpoint: TouchpointFilter = None,
    chart: Annotated[str, typer.Option(help="What the sparklines draw: volume, share or sentiment.")] = "volume",
    top: Annotated[int, typer.Option(help="Most keys to show in the terminal.")] = 20,
    duplicates: Annotated[bool, typer.Option("--duplicates", help="Count duplicate documents too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the series as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per key and period.")] = False,
) -> None:
    """Volume, share and net sentiment per theme, touchpoint, channel or language, per day, week or month."""
    if ctx.invoked_subcommand:
        return
    from miner.store import open_db
    from miner.trends.series import trends
    from miner.trends.render import trends_text, write_trends_csv

    table = trends(
        open_db(db, create=False), by, period,
        filters={"channel": channel, "lang": lang, "theme": theme, "touchpoint": touchpoint},
        since=_date_opt(since, "--since"), until=_date_opt(until, "--until"), last=last or None, include_duplicates=duplicates,
    )
    if as_json:
        typer.echo(json.dumps(table.to_dict(), ensure_ascii=False, indent=2))
    elif as_csv:
        write_trends_csv(table, sys.stdout)
    else:
        typer.echo("\n".join(trends_text(table, chart, top)))


@trends_app.command("emerging")
@clean_errors
def trends_emerging(
    db: DbOption = Path("miner.db"),
    by: ByOption = "theme",
    period: PeriodOption = "week",
    baseline: Annotated[int, typer.Option(help="Earlier periods the latest is compared with (1-104).")] = 8,
    alpha: Annotated[float, typer.Option(help="False discovery rate across the keys tested (Benjamini-Hochberg).")] = 0.05,
    min_count: Annotated[int, typer.Option(help="Fewest mentions in the tested period to test a key.")] = 5,
    min_growth: Annotated[float, typer.Option(help="Smallest share growth that counts as a spike (0.5 = +50%).")] = 0.5,
    at: Annotated[Optional[str], typer.Option("--at", help="Test this period (e.g. 2026-W36) instead of the latest complete one.")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Today's date for deciding which period is complete (YYYY-MM-DD).")] = None,
    channel: ChannelFilter = None,
    lang: LangFilter = None,
    theme: ThemeFilter = None,
    touchpoint: TouchpointFilter = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every key tested, not only those flagged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Emerging and spiking keys: the latest complete period against the baseline, with a share test per key."""
    from miner.store import open_db
    from miner.trends.detect import DetectSettings, detect_in_store
    from miner.trends.render import detect_text

    result = detect_in_store(
        open_db(db, create=False), by, period, DetectSettings(baseline, alpha, min_count, min_growth),
        filters={"channel": channel, "lang": lang, "theme": theme, "touchpoint": touchpoint},
        period_label=at, as_of=_date_opt(as_of, "--as-of"),
    )
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(detect_text(result, show_all)))


@trends_app.command("fix")
@clean_errors
def trends_fix(
    theme: Annotated[str, typer.Option("--theme", help="The theme the fix addressed (id or label).")],
    shipped: Annotated[str, typer.Option(help="The day the fix shipped, YYYY-MM-DD (counts as after).")],
    db: DbOption = Path("miner.db"),
    window: Annotated[int, typer.Option(help="Periods compared on each side of the shipped day.")] = 4,
    period: PeriodOption = "week",
    alpha: Annotated[float, typer.Option(help="Significance level of the tests.")] = 0.05,
    channel: ChannelFilter = None,
    lang: LangFilter = None,
    touchpoint: TouchpointFilter = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Did the fix work? The theme's share and negative share before vs after the shipped day, tested."""
    from miner.store import open_db
    from miner.trends.fixcheck import fix_check
    from miner.trends.render import fix_text

    result = fix_check(
        open_db(db, create=False), theme, _date_opt(shipped, "--shipped"), window=window, period=period, alpha=alpha,
        filters={"channel": channel, "lang": lang, "touchpoint": touchpoint},
    )
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(fix_text(result)))


@app.command()
@clean_errors
def alerts(
    rules: Annotated[Path, typer.Option("--rules", help="The YAML rules file (see docs/alerts.md).")],
    db: DbOption = Path("miner.db"),
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for alerts.jsonl and alerts.md (default: standard output).")] = None,
    format: Annotated[str, typer.Option("--format", help="On standard output: md (Markdown) or jsonl.")] = "md",
    webhook: Annotated[Optional[str], typer.Option(help="POST each new alert as JSON here (overrides the rules file's).", envvar="MINER_WEBHOOK")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Today's date for deciding which period is complete (YYYY-MM-DD).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be raised; record and post nothing.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Only validate the rules file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (the exit code tells).")] = False,
) -> None:
    """Evaluate alert rules; raise each alert once, route it to its owner, post it to a webhook. For cron.

    Exit codes: 0 no new alert, 4 new alerts, 5 some webhook posts failed and stay pending
    (retried on the next run), 1 or 2 error.
    """
    from miner.store import open_db
    from miner.trends.alerts import render_alerts as render, run_alerts, write_outputs
    from miner.trends.rules import load_rules

    ruleset = load_rules(rules)
    render(None, format)  # a bad --format stops before anything is recorded
    if check:
        if not quiet:
            typer.echo(f"{rules}: {len(ruleset.rules)} rule(s) valid.")
        return
    result = run_alerts(open_db(db, create=False), ruleset, webhook_url=webhook, as_of=_date_opt(as_of, "--as-of"), dry_run=dry_run)
    if out:
        paths = write_outputs(result, out)
        if not quiet:
            err(f"{len(result['alerts'])} new alert(s) written to {', '.join(paths)}.")
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif not out and not quiet:
        typer.echo(render(result, format), nl=False)
    delivery = result["delivery"]
    if delivery and delivery["pending"]:
        err(f"Webhook: {delivery['pending']} alert(s) pending ({delivery['last_error'] or 'no webhook configured'}); retried next run.")
        raise typer.Exit(EXIT_PENDING)
    if result["alerts"]:
        raise typer.Exit(EXIT_ALERTS)


# --- backlog (miner.backlog) --------------------------------------------------------------

backlog_app = typer.Typer(
    help="The ranked product-improvement backlog: (theme, touchpoint) items with evidence, impact on scores, statuses.",
    invoke_without_command=True,
)
app.add_typer(backlog_app, name="backlog")
ScoreKindOption = Annotated[Optional[str], typer.Option("--score-kind", help="nps, csat, stars or mean (default: detected per source).")]


def _backlog_build(db: Path, weights: Optional[str], score_kind: Optional[str], as_of: Optional[str], min_documents: int,
                   quotes: int, write: bool = True, min_negative: float = 0.2) -> dict:
    from miner.backlog import build_backlog
    from miner.backlog.priority import parse_weights
    from miner.store import open_db

    w = parse_weights(weights)  # bad weights stop before the store is opened
    return build_backlog(open_db(db, create=False), weights=w, score_kind=score_kind, as_of=_date_opt(as_of, "--as-of"),
                         min_documents=min_documents, min_negative_share=min_negative, quotes=quotes, write=write)


WeightsOption = Annotated[Optional[str], typer.Option("--weights", help="volume=1,negativity=1,growth=1,impact=1, or a YAML file.")]
AsOfOption = Annotated[Optional[str], typer.Option("--as-of", help="Last day of the trend window, YYYY-MM-DD (default: the last day with data).")]
MinDocsOption = Annotated[int, typer.Option("--min-documents", help="Fewest documents for a (theme, touchpoint) pair to become an item.")]


@backlog_app.callback()
@clean_errors
def backlog_cmd(
    ctx: typer.Context,
    db: DbOption = Path("miner.db"),
    weights: WeightsOption = None,
    score_kind: ScoreKindOption = None,
    as_of: AsOfOption = None,
    min_documents: MinDocsOption = 3,
    min_negative: Annotated[float, typer.Option("--min-negative", help="Smallest negative share for a pair to be an item (praise is not).")] = 0.2,
    quotes: Annotated[int, typer.Option("--quotes", help="Evidence quotes per item.")] = 5,
    top: Annotated[Optional[int], typer.Option("--top", help="Show the first N items (default: all; 20 in the terminal).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list won't-fix items (ranked last).")] = False,
    format: Annotated[str, typer.Option("--format", help="table, md, csv, json or jira (a CSV for Jira's importer).")] = "table",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file (default: standard output).")] = None,
    issue_type: Annotated[str, typer.Option("--issue-type", help="Jira issue type for --format jira.")] = "Task",
) -> None:
    """Build the backlog (ids and statuses kept across runs) and print it ranked, or export it.

    Priority = weighted mean of volume, negativity, growth and impact on scores; see docs/backlog.md.
    """
    if ctx.invoked_subcommand:
        return
    from miner.backlog.formats import check_format, render_backlog as render, write_backlog_file as write_file

    check_format(format)
    if top is not None and top < 1:
        raise UsageError("E989", "--top must be at least 1.", "Leave it out to list every item.")
    result = _backlog_build(db, weights, score_kind, as_of, min_documents, quotes, min_negative=min_negative)
    if format == "table" and top is None and not out:
        top = 20
    if out:
        n = write_file(result, format, out, show_all=show_all, top=top, issue_type=issue_type)
        err(f"Wrote {n} backlog item(s) to {out}.")
    else:
        render(result, format, sys.stdout, show_all=show_all, top=top, issue_type=issue_type)


@backlog_app.command("status")
@clean_errors
def backlog_status(
    item: Annotated[str, typer.Argument(help="The item id, e.g. BL-12-billing.")],
    status: Annotated[str, typer.Argument(help="open, planned, shipped or wont-fix.")],
    db: DbOption = Path("miner.db"),
    date: Annotated[Optional[str], typer.Option("--date", help="Shipped date (default today) or planned date, YYYY-MM-DD.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Why, or a link to the ticket.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Set an item's status; it persists across rebuilds (and follows the item when its theme is merged)."""
    from miner.backlog import set_status
    from miner.store import open_db

    r = set_status(open_db(db, create=False), item, status, on=date, note=note)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{r['id']} is now {r['status'].replace('_', '-')}" + (f" ({r['status_date']})" if r["status_date"] else "") + f": {r['title']}")
    if r.get("fix_check"):
        typer.echo(f"Did the fix work? {r['fix_check']['summary']}")


@backlog_app.command("show")
@clean_errors
def backlog_show(
    item: Annotated[str, typer.Argument(help="The item id, e.g. BL-12-billing.")],
    db: DbOption = Path("miner.db"),
    weights: WeightsOption = None,
    score_kind: ScoreKindOption = None,
    as_of: AsOfOption = None,
    min_documents: MinDocsOption = 3,
    min_negative: Annotated[float, typer.Option("--min-negative", help="As for `miner backlog`: the same options rank the same way.")] = 0.2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the item as JSON.")] = False,
) -> None:
    """One item in full: why it ranks there, counts, trend, impact with its interval, evidence quotes."""
    from miner.backlog.build import resolve_item
    from miner.backlog.formats import item_lines
    from miner.store import open_db

    row = resolve_item(open_db(db, create=False), item)
    result = _backlog_build(db, weights, score_kind, as_of, min_documents, 10, write=False, min_negative=min_negative)
    found = next((i for i in result["items"] if i["id"] == row["id"]), None)
    if found is None:
        raise UsageError("E978", f"{row['id']} is no longer found in the data (status {row['status']}).", "Its row is kept with its status.")
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(item_lines(found)))


@backlog_app.command("impact")
@clean_errors
def backlog_impact(
    db: DbOption = Path("miner.db"),
    by: Annotated[str, typer.Option("--by", help="theme or touchpoint.")] = "theme",
    score_kind: ScoreKindOption = None,
    min_responses: Annotated[int, typer.Option("--min-responses", help="Fewest scored responses with and without the key.")] = 5,
    bootstrap: Annotated[bool, typer.Option("--bootstrap", help="Seeded bootstrap intervals instead of the delta method.")] = False,
    top: Annotated[int, typer.Option("--top", help="Most rows in the terminal.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print every row as JSON.")] = False,
) -> None:
    """Impact of each theme (or touchpoint) on NPS / CSAT / stars: the figure of all responses minus the figure without it."""
    from miner.backlog import impact_report
    from miner.backlog.formats import KIND_NAMES
    from miner.store import open_db

    r = impact_report(open_db(db, create=False), by, score_kind=score_kind, min_responses=min_responses,
                      ci_method="bootstrap" if bootstrap else "delta")
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    if not r["scores"]:
        typer.echo("No document carries a score: ingest a survey or reviews with a score column (--score).")
        return
    for kind, s in r["scores"].items():
        typer.echo(f"{KIND_NAMES[kind]}: {s['figure']:.1f} over {s['responses']:,} responses ({', '.join(s['sources'])})")
    kinds = list(r["scores"])
    typer.echo(f"{by:<28} {'docs':>5}  " + "  ".join(f"{'impact on ' + KIND_NAMES[k] + ' [95% CI]':<30}" for k in kinds))
    for row in r["rows"][:top]:
        cells = []
        for k in kinds:
            imp = row["impacts"][k]
            text = "n/a" if imp["impact"] is None else "{:+.1f} [{:+.1f}, {:+.1f}]".format(imp["impact"], *imp["ci95"])
            cells.append(f"{text} ({imp['responses_with']})".ljust(30))
        typer.echo(f"{str(row['label'])[:28]:<28} {row['documents']:>5}  " + "  ".join(cells))


@backlog_app.command("accounts")
@clean_errors
def backlog_accounts(
    account_field: Annotated[str, typer.Option("--account-field", help="The document field (an input column kept in meta) holding the account id.")],
    db: DbOption = Path("miner.db"),
    revenue_field: Annotated[Optional[str], typer.Option("--revenue-field", help="The document field holding the account's revenue.")] = None,
    accounts: Annotated[Optional[Path], typer.Option("--accounts", help="A CSV with columns account_id and revenue (wins over --revenue-field).")] = None,
    score_kind: ScoreKindOption = None,
    revenue_threshold: Annotated[Optional[float], typer.Option(help="High revenue from here (default: the median).")] = None,
    satisfaction_threshold: Annotated[Optional[float], typer.Option(help="Satisfied from here, 0..1 (default: the median).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every account as JSON.")] = False,
) -> None:
    """Accounts by revenue and satisfaction (model, at risk, growth, dangling) and the at-risk accounts with their themes."""
    from miner.measures.accounts import GROUP_LABELS, accounts_report
    from miner.store import open_db

    r = accounts_report(open_db(db, create=False), account_field, revenue_field=revenue_field, accounts_csv=accounts,
                        score_kind=score_kind, revenue_threshold=revenue_threshold, satisfaction_threshold=satisfaction_threshold)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Thresholds: revenue {r['revenue_threshold']:,.2f} ({r['threshold_source']['revenue']}), "
               f"satisfaction {r['satisfaction_threshold']:.2f} ({r['threshold_source']['satisfaction']}).")
    for g, n in r["counts"].items():
        typer.echo(f"  {GROUP_LABELS[g]:<40} {n:>5}")
    if r["unplaced"]:
        typer.echo(f"  {'without revenue or satisfaction':<40} {r['unplaced']:>5}")
    typer.echo("At risk (highest revenue first):" if r["at_risk"] else "No account at risk.")
    for a in r["at_risk"]:
        themes = "; ".join(f"{t['label']} ({t['negative_documents']}/{t['documents']} negative)" for t in a["themes"]) or "no theme"
        typer.echo(f"  {a['account']:<16} revenue {a['revenue']:>12,.0f}  satisfaction {a['satisfaction']:.2f}  {themes}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
