"""Terminal text of `miner ingest` and `miner analyze` summaries."""

from __future__ import annotations

import typer

from .common import err


UNCHANGED_LINES = 10  # inputs named one per line; a folder or an archive of thousands is summed up after them


def counts(counter: dict, *, ordered: bool = True) -> str:
    """`a 1, b 2,345`: sorted by key unless the counter's own order matters."""
    items = sorted(counter.items()) if ordered else counter.items()
    return ", ".join(f"{k} {v:,}" for k, v in items)


def echo_ingest_summary(summary: dict) -> None:
    """The totals, counts by reason, language and PII kind; then per input, unchanged inputs and errors (on stderr)."""
    t = summary["totals"]
    typer.echo(
        f"Read {t['rows_read']:,} rows from {len(summary['inputs'])} input(s) in {summary['seconds']:.1f}s: "
        f"stored {t['stored']:,}, already stored {t['already_stored']:,}, "
        f"duplicates {t['duplicates']:,} exact + {t['near_duplicates']:,} near, "
        f"non-informative {t['noninformative']:,}, skipped {t['skipped']:,}."
    )
    if summary["skipped"]:
        typer.echo("Skipped by reason: " + counts(summary["skipped"]))
    if summary["warnings"]:
        typer.echo("Warnings: " + counts(summary["warnings"]))
    if summary["languages"]:
        typer.echo("Languages: " + counts(summary["languages"], ordered=False))
    if summary["pii_redacted"]:
        typer.echo("PII redacted: " + counts(summary["pii_redacted"]))
    unchanged = [item for item in summary["inputs"] if item["status"] == "unchanged"]
    for item in unchanged[:UNCHANGED_LINES]:
        typer.echo(f"  {item['path']}: already ingested with these options (source {item['source_id']}), nothing to do.")
    if len(unchanged) > UNCHANGED_LINES:
        typer.echo(f"  ... and {len(unchanged) - UNCHANGED_LINES:,} more inputs already ingested with these options "
                   "(`miner ingest --json` lists them all).")
    for item in summary["inputs"]:
        if item.get("resumed_stored"):
            typer.echo(f"  {item['path']}: resumed an interrupted ingest; {item['resumed_stored']:,} of its documents "
                       "had been stored before it stopped (counted above).")
        if item["error"]:
            err(input_error(item))


def input_error(item: dict) -> str:
    return f"Error in {item['path']}: {item['error']}"


def analyze_lines(result: dict) -> list[str]:
    e = result["embed"]
    lines = [
        f"Analyzed {result['documents']:,} documents ({result['segments']:,} segments) in {result['seconds']:.1f}s: "
        f"embedded {e['embedded']:,} new texts in {e['encoder_calls']:,} encoder calls, {e['cached'] + e['texts'] - e['unique']:,} from cache."
    ]
    if result["labels"]:
        lines.append("Documents by sentiment: " + counts(result["labels"]))
    if result.get("document_mode_asked"):
        lines.append(f"Document sentiment follows the rule any-negative, not '{result['document_mode_asked']}': the head "
                     f"{result['head'].split('@')[0]} has no document model (one is in --head sentiment-e5-small-complaints; README, "
                     "\"Document sentiment\").")
    if not result["documents"]:
        lines.append("Nothing new to analyze.")
    return lines + _assigned_lines(result.get("themes") or {}, result.get("touchpoints") or {})


def _assigned_lines(themes: dict, touchpoints: dict) -> list[str]:
    """New documents joining the stored themes and touchpoint model (or why they did not)."""
    out = []
    if themes.get("skipped"):
        out.append(f"Themes: not assigned, {themes['skipped']} (re-run `miner themes discover`).")
    elif themes.get("assigned", 0) + themes.get("outliers", 0):
        out.append(f"Themes: {themes['assigned']:,} new documents joined the existing themes, {themes['outliers']:,} fit none "
                   "(`miner themes discover` refits).")
    if touchpoints.get("skipped"):
        out.append(f"Touchpoints: not assigned, {touchpoints['skipped']}.")
    elif touchpoints.get("assigned", 0) + touchpoints.get("none", 0):
        out.append(f"Touchpoints: {touchpoints['assigned']:,} new segments at a touchpoint, {touchpoints['none']:,} without one.")
    return out
