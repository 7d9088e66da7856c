"""`miner alerts`: evaluate alert rules, raise each alert once, route and post it. For cron."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, EXIT_ALERTS, EXIT_PENDING, AsOfTodayOption, DbOption, clean_errors, err, open_store, parse_as_of, print_json, warn,
    WaitOption,
)

RulesOption = Annotated[Path, typer.Option("--rules", help="The YAML rules file (see docs/alerts.md).")]
OutFolder = Annotated[
    Optional[Path], typer.Option("--out", help="Folder for alerts.jsonl and alerts.md (default: standard output).")
]
FormatOption = Annotated[str, typer.Option("--format", help="On standard output: md (Markdown) or jsonl.")]
WebhookOption = Annotated[
    Optional[str], typer.Option(help="POST each new alert as JSON here (overrides the rules file's).", envvar="MINER_WEBHOOK")
]


@clean_errors
def alerts(
    rules: RulesOption,
    db: DbOption = DEFAULT_DB,
    out: OutFolder = None,
    format: FormatOption = "md",
    webhook: WebhookOption = None,
    as_of: AsOfTodayOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be raised; record and post nothing.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Only validate the rules file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (the exit code tells).")] = False,
    wait: WaitOption = None,
) -> None:
    """Evaluate alert rules; raise each alert once, route it to its owner, post it to a webhook. For cron.

    By default the latest period over by the end of the data is tested; `--as-of today` tests
    the calendar's (cron). Each alert is raised once per rule, key and period either way.

    Exit codes: 0 no new alert, 4 new alerts, 5 some webhook posts failed and stay pending
    (retried on the next run), 1 or 2 error.
    """
    from miner.trends.alerts import render_alerts as render, run_alerts, write_outputs
    from miner.trends.rules import load_rules

    ruleset = load_rules(rules)
    render(None, format)  # a bad --format stops before anything is recorded
    if check:
        if not quiet:
            typer.echo(f"{rules}: {len(ruleset.rules)} rule(s) valid.")
        return
    result = run_alerts(open_store(db, write=None if dry_run else "alerts", wait=wait), ruleset, webhook_url=webhook, as_of=parse_as_of(as_of), dry_run=dry_run)
    if not quiet:
        warn(result["stale_warning"])
    if out:
        paths = write_outputs(result, out)
        if not quiet:
            err(f"{len(result['alerts'])} new alert(s) written to {', '.join(paths)}.")
    if as_json:
        print_json(result)
    elif not out and not quiet:
        typer.echo(render(result, format), nl=False)
    exit_for_alerts(result)


def exit_for_alerts(result: dict) -> None:
    """Exit 5 when webhook posts stay pending, 4 when new alerts were raised."""
    delivery = result["delivery"]
    if delivery and delivery["pending"]:
        err(f"Webhook: {delivery['pending']} alert(s) pending ({delivery['last_error'] or 'no webhook configured'}); retried next run.")
        raise typer.Exit(EXIT_PENDING)
    if result["alerts"]:
        raise typer.Exit(EXIT_ALERTS)
