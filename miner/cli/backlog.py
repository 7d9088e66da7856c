"""`miner backlog`: build, rank, export the backlog; set statuses; impact on scores; accounts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from miner.errors import UsageError

from .common import DEFAULT_DB, DbOption, FieldFilter, WaitOption, clean_errors, err, open_store, parse_as_of, print_result, warn

app = typer.Typer(
    help="The ranked product-improvement backlog: one item per theme, with where it hurts, evidence, impact on scores, statuses.",
    invoke_without_command=True,
)

ItemId = Annotated[str, typer.Argument(help="The item id, e.g. BL-12.")]
ScoreKindOption = Annotated[Optional[str], typer.Option("--score-kind", help="nps, csat, stars or mean (default: detected per source).")]
WeightsOption = Annotated[Optional[str], typer.Option("--weights", help="volume=1,negativity=1,growth=1,impact=1, or a YAML file.")]
AsOfOption = Annotated[Optional[str], typer.Option(
    "--as-of", help="Last day of the trend window: 'today' or YYYY-MM-DD (default: the last day with data).")]
MinDocsOption = Annotated[int, typer.Option("--min-documents", help="Fewest documents for a theme to become an item.")]
MinNegativeOption = Annotated[
    float, typer.Option("--min-negative", help="Smallest negative share for a theme to be an item (praise is not).")
]

FormatOption = Annotated[str, typer.Option("--format", help="table, md, csv, json or jira (a CSV for Jira's importer).")]


@app.callback()
@clean_errors
def backlog_cmd(
    ctx: typer.Context,
    db: DbOption = DEFAULT_DB,
    weights: WeightsOption = None,
    score_kind: ScoreKindOption = None,
    as_of: AsOfOption = None,
    min_documents: MinDocsOption = 3,
    min_negative: MinNegativeOption = 0.2,
    quotes: Annotated[int, typer.Option("--quotes", help="Evidence quotes per item.")] = 5,
    top: Annotated[Optional[int], typer.Option("--top", help="Show the first N items (default: all; 20 in the terminal).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list won't-fix items (ranked last).")] = False,
    format: FormatOption = "table",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file (default: standard output).")] = None,
    issue_type: Annotated[str, typer.Option("--issue-type", help="Jira issue type for --format jira.")] = "Task",
    filter: FieldFilter = None,
    wait: WaitOption = None,
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
    result = build(db, weights, score_kind, as_of, min_documents, quotes, min_negative=min_negative, filters=filter, wait=wait)
    warn(result.get("stale_warning"))
    if format == "table" and top is None and not out:
        top = 20
    if out:
        n = write_file(result, format, out, show_all=show_all, top=top, issue_type=issue_type)
        err(f"Wrote {n} backlog item(s) to {out}.")
    else:
        render(result, format, sys.stdout, show_all=show_all, top=top, issue_type=issue_type)


def build(db: Path, weights: Optional[str], score_kind: Optional[str], as_of: Optional[str], min_documents: int,
          quotes: int, write: bool = True, min_negative: float = 0.2, filters: Optional[list[str]] = None,
          wait: Optional[float] = None) -> dict:
    """The backlog built with the options `miner backlog` and `miner backlog show` share."""
    from miner.backlog import build_backlog
    from miner.backlog.priority import parse_weights
    from miner.fields import parse_filters

    w = parse_weights(weights)  # bad weights stop before the store is opened
    fields = parse_filters(filters)
    return build_backlog(open_store(db, write="backlog" if write else None, wait=wait), weights=w, score_kind=score_kind, as_of=parse_as_of(as_of),
                         min_documents=min_documents, min_negative_share=min_negative, quotes=quotes, write=write, fields=fields)


@app.command("status")
@clean_errors
def backlog_status(
    item: ItemId,
    status: Annotated[str, typer.Argument(help="open, planned, shipped or wont-fix.")],
    db: DbOption = DEFAULT_DB,
    date: Annotated[Optional[str], typer.Option("--date", help="Shipped date (default today) or planned date, YYYY-MM-DD.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Why, or a link to the ticket.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    wait: WaitOption = None,
) -> None:
    """Set an item's status; it persists across rebuilds (and follows the item when its theme is merged)."""
    from miner.backlog import set_status

    from .format_backlog import status_lines

    r = set_status(open_store(db, write="backlog status", wait=wait), item, status, on=date, note=note)
    print_result(r, as_json, status_lines)


@app.command("show")
@clean_errors
def backlog_show(
    item: ItemId,
    db: DbOption = DEFAULT_DB,
    weights: WeightsOption = None,
    score_kind: ScoreKindOption = None,
    as_of: AsOfOption = None,
    min_documents: MinDocsOption = 3,
    min_negative: Annotated[float, typer.Option("--min-negative", help="As for `miner backlog`: the same options rank the same way.")] = 0.2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the item as JSON.")] = False,
) -> None:
    """One item in full: why it ranks there, counts, trend, impact with its interval, evidence quotes."""
    from miner.backlog.build import resolve_item

    from .format_backlog import item_lines

    row = resolve_item(open_store(db), item)
    result = build(db, weights, score_kind, as_of, min_documents, 10, write=False, min_negative=min_negative)
    found = next((i for i in result["items"] if i["id"] == row["id"]), None)
    if found is None:
        raise UsageError("E978", f"{row['id']} is no longer found in the data (status {row['status']}).", "Its row is kept with its status.")
    print_result(found, as_json, item_lines)


@app.command("impact")
@clean_errors
def backlog_impact(
    db: DbOption = DEFAULT_DB,
    by: Annotated[str, typer.Option("--by", help="theme, touchpoint, or a field: meta.FIELD (an input column).")] = "theme",
    score_kind: ScoreKindOption = None,
    min_responses: Annotated[int, typer.Option("--min-responses", help="Fewest scored responses with and without the key.")] = 5,
    bootstrap: Annotated[bool, typer.Option("--bootstrap", help="Seeded bootstrap intervals instead of the delta method.")] = False,
    top: Annotated[int, typer.Option("--top", help="Most rows in the terminal.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print every row as JSON.")] = False,
) -> None:
    """Impact of each theme (touchpoint, field value) on NPS / CSAT / stars: the figure of all responses minus the figure without it."""
    from miner.backlog import impact_report

    from .format_backlog import impact_lines

    r = impact_report(open_store(db), by, score_kind=score_kind, min_responses=min_responses,
                      ci_method="bootstrap" if bootstrap else "delta")
    print_result(r, as_json, impact_lines, by, top)


@app.command("accounts")
@clean_errors
def backlog_accounts(
    account_field: Annotated[str, typer.Option("--account-field", help="The document field (an input column kept in meta) holding the account id.")],
    db: DbOption = DEFAULT_DB,
    revenue_field: Annotated[Optional[str], typer.Option("--revenue-field", help="The document field holding the account's revenue.")] = None,
    accounts: Annotated[Optional[Path], typer.Option("--accounts", help="A CSV with columns account_id and revenue (wins over --revenue-field).")] = None,
    score_kind: ScoreKindOption = None,
    revenue_threshold: Annotated[Optional[float], typer.Option(help="High revenue from here (default: the median).")] = None,
    satisfaction_threshold: Annotated[Optional[float], typer.Option(help="Satisfied from here, 0..1 (default: the median).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every account as JSON.")] = False,
) -> None:
    """Accounts by revenue and satisfaction (model, at risk, growth, dangling) and the at-risk accounts with their themes."""
    from miner.measures.accounts import accounts_report

    from .format_backlog import accounts_lines

    r = accounts_report(open_store(db), account_field, revenue_field=revenue_field, accounts_csv=accounts,
                        score_kind=score_kind, revenue_threshold=revenue_threshold, satisfaction_threshold=satisfaction_threshold)
    print_result(r, as_json, accounts_lines)
