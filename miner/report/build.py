"""Build the report's HTML, or write it to a file atomically."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import sqlite_utils

from ..errors import InputError, UsageError
from ..files import replacing
from .gather import gather
from .page import render
from .safety import safe_url


def build_report(
    db: sqlite_utils.Database,
    *,
    since: date | None = None,
    label_lang: str | None = None,
    account_field: str | None = None,
    revenue_field: str | None = None,
    accounts_csv: str | Path | None = None,
    browse_url: str | None = None,
    store_name: str = "miner.db",
) -> str:
    """The report as one HTML string. `browse_url`: the base URL of a running `miner browse`
    (e.g. http://127.0.0.1:8001): themes, backlog items and quotes then link to their rows."""
    if browse_url is not None and safe_url(browse_url) is None:
        raise UsageError("E655", f"--browse-url {browse_url!r} is not an http(s) URL.", "E.g. --browse-url http://127.0.0.1:8001")
    data = gather(db, since=since, label_lang=label_lang, account_field=account_field, revenue_field=revenue_field,
                  accounts_csv=accounts_csv, store_name=store_name)
    return render(data, browse_url=browse_url, database=Path(store_name).stem)


def write_report(db: sqlite_utils.Database, out: str | Path, **options) -> dict:
    """Write the report to `out` (through a temporary file: a failure leaves any earlier report
    whole); returns {"out", "bytes", "seconds", "label_lang"...}."""
    started = time.perf_counter()
    html = build_report(db, **options)
    try:
        with replacing(out, ("E651", "E652")) as tmp:
            Path(tmp).write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InputError("E653", f"cannot write {out}: {exc.strerror or exc}.", "Choose a folder you can write to with --out.") from None
    return {"out": str(out), "bytes": len(html.encode("utf-8")), "seconds": round(time.perf_counter() - started, 2)}
