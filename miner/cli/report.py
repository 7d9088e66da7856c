"""`miner report`: one self-contained HTML file with charts (docs/report.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DEFAULT_DB, DbOption, clean_errors, err, open_store, parse_date, print_json


@clean_errors
def report(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write (replaced whole, never half-written).")] = Path("report.html"),
    since: Annotated[Optional[str], typer.Option("--since", help="Count only documents from this day on, YYYY-MM-DD.")] = None,
    label_lang: Annotated[
        Optional[str], typer.Option("--label-lang", help="Name themes in this lexicon language (default: the store's); the store is not changed.")
    ] = None,
    account_field: Annotated[Optional[str], typer.Option("--account-field", help="Document field holding the account id (accounts quadrants).")] = None,
    revenue_field: Annotated[Optional[str], typer.Option("--revenue-field", help="Document field holding the account's revenue.")] = None,
    accounts: Annotated[Optional[Path], typer.Option("--accounts", help="CSV with columns account_id and revenue.")] = None,
    browse_url: Annotated[
        Optional[str], typer.Option("--browse-url", help="Link themes, items and quotes to a running `miner browse`, e.g. http://127.0.0.1:8001.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write the report: overview, themes (sortable, with drill-down and a map), customer journey,
    trends, impact on scores, backlog. One HTML file, no network needed to open it."""
    from miner.report import write_report

    day = parse_date(since, "--since")
    r = write_report(open_store(db), out, since=day, label_lang=label_lang, account_field=account_field,
                     revenue_field=revenue_field, accounts_csv=accounts, browse_url=browse_url, store_name=db.name)
    if as_json:
        print_json(r)
    else:
        err(f"Wrote {r['out']} ({r['bytes'] / 1e6:.1f} MB) in {r['seconds']:.1f}s.")
