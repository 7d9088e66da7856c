"""Terminal text of `miner demo`: each stage's summary, then where to look next, then the backlog."""

from __future__ import annotations

import typer

from .common import print_lines
from .format_ingest import counts, echo_ingest_summary
from .format_themes import theme_line
from .format_touchpoints import most_negative_lines


def echo_demo_summary(result: dict, db) -> None:
    echo_ingest_summary(result["ingest"])
    if result["analyze"]:
        a = result["analyze"]
        typer.echo(
            f"Analyzed {a['documents']:,} documents ({a['segments']:,} segments) in {a['seconds']:.1f}s; "
            f"by sentiment: " + counts(a["labels"])
        )
    if result["themes"]:
        d = result["themes"]["discover"]
        typer.echo(
            f"Found {d['themes']} themes ({d['subthemes']} sub-themes) across languages in {d['seconds']:.1f}s, "
            f"labelled in {d['label_lang']} ({d['outlier_share']:.1%} of documents without a theme). The largest:"
        )
        print_lines([theme_line(t) for t in result["themes"]["top"]])
    if result.get("touchpoints"):
        a, o = result["touchpoints"]["assign"], result["touchpoints"]["overview"]
        typer.echo(f"Touchpoints ({a['taxonomy']}): {a['assigned']:,} segments at a touchpoint, {a['none_share']:.1%} none. Most negative:")
        print_lines(most_negative_lines(o))
    typer.echo(f"Store: {result['db']} ({result['documents']:,} documents, {result['segments']:,} segments).")
    typer.echo(f"Try: miner themes list --db {db}   miner themes show ID --db {db}   miner touchpoints list --db {db}   miner export documents --db {db}")
    if result.get("backlog"):  # last: the demo ends with what to fix first
        from miner.backlog.formats import table_lines  # imports scipy: only when there is a backlog to show

        typer.echo(f"The backlog (miner backlog show ID --db {db}; --format md|csv|json|jira --out FILE), top 10:")
        print_lines(table_lines(result["backlog"], top=10))
