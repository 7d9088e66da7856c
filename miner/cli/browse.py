"""`miner browse`: Datasette on the store, read-only (docs/report.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_DB, DbOption, clean_errors, err


@clean_errors
def browse(
    db: DbOption = DEFAULT_DB,
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8001,
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but 127.0.0.1 shows the store to the network.")] = "127.0.0.1",
) -> None:
    """Browse the store in a web browser with Datasette: described tables, facets, full-text
    search, canned queries. Read-only; Ctrl-C stops it."""
    from miner.browse import serve
    from miner.browse.server import LOOPBACK

    if host not in LOOPBACK:
        err(f"Warning: listening on {host}: anyone who can reach this machine can read the store.")
    serve(db, host=host, port=port, ready=lambda url: err(f"Serving {db} read-only at {url} (Ctrl-C to stop)."))
