"""Datasette on a miner store: read-only (the file is opened with SQLite's mode=ro, so no
statement can change it), bound to 127.0.0.1 unless asked otherwise."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from ..errors import InputError, UsageError
from .metadata import build_metadata, store_tables

SETTINGS = {
    "suggest_facets": False,  # suggestions run a query per column: slow on 100k documents, and the useful facets are set
    "default_page_size": 50,
    "max_returned_rows": 1000,
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 500,
    "truncate_cells_html": 400,
    "default_allow_sql": True,
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_store(path: str | Path) -> dict[str, list[str]]:
    """The store's tables, or a one-line error when `path` is not a usable miner store."""
    p = Path(path)
    if not p.exists():
        raise InputError("E102", f"there is no database at {path}.", "Run `miner ingest FILE --db PATH` first.")
    if p.is_dir():
        raise InputError("E103", f"{path} is a folder, not a database file.", "Give a file path with --db.")
    try:
        tables = store_tables(p)
    except sqlite3.DatabaseError as exc:
        raise InputError("E105", f"{path} is not a usable SQLite database ({exc}).", "Point --db at a miner database.") from None
    if "documents" not in tables:
        raise InputError("E105", f"{path} is not a miner store (no documents table).", "Point --db at a miner database.")
    return tables


def make_datasette(path: str | Path):
    """A Datasette instance serving the store read-only with miner's metadata."""
    try:
        from datasette.app import Datasette
    except ImportError:
        raise InputError("E660", "Datasette is not installed.", "pip install datasette (miner's dependencies include it).") from None
    import datasette.handle_exception

    datasette.handle_exception.rich = None  # a bad query is shown in the page; no rich traceback on the terminal
    tables = check_store(path)
    return Datasette([str(Path(path).resolve())], metadata=build_metadata(path, tables), settings=dict(SETTINGS))


def check_port_number(port: int) -> None:
    if not 1 <= port <= 65535:
        raise UsageError("E662", f"--port {port} is not a TCP port.", "Use a port from 1024 to 65535, e.g. 8001.")


def check_port(host: str, port: int) -> None:
    """E661 now, in one line, when the address cannot be listened on (uvicorn would log and exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError("E661", f"cannot listen on {host}:{port} ({exc.strerror or exc}).",
                             "Another program uses the port: choose another with --port.") from None


def url_of(host: str, port: int, path: str | Path) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{Path(path).stem}"


def serve(path: str | Path, *, host: str = "127.0.0.1", port: int = 8001, ready=None) -> None:
    """Serve until interrupted. `ready(url)` is called once the server listens."""
    import asyncio

    import uvicorn

    check_port_number(port)
    ds = make_datasette(path)
    check_port(host, port)
    asyncio.run(ds.invoke_startup())
    config = uvicorn.Config(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    if ready is not None:
        original = server.startup

        async def startup(sockets=None):
            await original(sockets=sockets)
            ready(url_of(host, port, path))

        server.startup = startup
    server.run()
