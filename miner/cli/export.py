"""`miner export documents|segments`: stored tables as JSON Lines, CSV or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DEFAULT_DB, DbOption, FieldFilter, clean_errors, err, open_store

app = typer.Typer(help="Export stored tables as JSON Lines, CSV or Parquet.", no_args_is_help=True)

FormatOption = Annotated[str, typer.Option("--format", help="jsonl, csv or parquet.")]
OutOption = Annotated[Optional[Path], typer.Option("--out", help="Output file (default: standard output).")]


@app.command("documents")
@clean_errors
def export_documents(db: DbOption = DEFAULT_DB, format: FormatOption = "jsonl", out: OutOption = None,
                     filter: FieldFilter = None) -> None:
    """One row per document with every stored field (CSV cells that look like formulas are neutralised)."""
    export("documents", db, format, out, filter)


@app.command("segments")
@clean_errors
def export_segments(db: DbOption = DEFAULT_DB, format: FormatOption = "jsonl", out: OutOption = None,
                    filter: FieldFilter = None) -> None:
    """One row per segment (sentence or clause) with its language and character span."""
    export("segments", db, format, out, filter)


def export(table: str, db: Path, fmt: str, out: Optional[Path], filters: Optional[list[str]] = None) -> None:
    from miner.fields import parse_filters
    from miner.table_export import export_table

    result = export_table(open_store(db), table, fmt, out if out else sys.stdout, parse_filters(filters))
    if out:
        err(f"Wrote {result['rows']:,} {table} to {out}.")
