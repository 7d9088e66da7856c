"""The `miner` command, assembled from one module per command group.

Exit codes: `common.EXIT_CODES` (listed in docs/cli.md); each error's code, exit code and hint:
docs/errors.md, generated from miner/errors/codes.py.
"""

from __future__ import annotations

import typer

from . import alerts, analyze, backlog, browse, crawl, demo, export, ingest, report, search, themes, touchpoints, train, trends

app = typer.Typer(
    help="Mine complaints and open feedback into themes, touchpoints and a ranked backlog, stored in SQLite.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# `miner --help` lists the commands, then the groups, each in this order.
app.command("ingest")(ingest.ingest)
app.command("crawl")(crawl.crawl)
app.command("search")(search.search)
app.command("demo")(demo.demo)
app.command("analyze")(analyze.analyze)
app.command("alerts")(alerts.alerts)
app.command("report")(report.report)
app.command("browse")(browse.browse)
app.add_typer(export.app, name="export")
app.add_typer(train.app, name="train")
app.add_typer(themes.app, name="themes")
app.add_typer(touchpoints.app, name="touchpoints")
app.add_typer(trends.app, name="trends")
app.add_typer(backlog.app, name="backlog")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
