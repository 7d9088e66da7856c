"""`miner crawl`: fetch a complaint site politely (a YAML profile, or a URL) into the store."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, DbOption, JsonSummaryOption, QuietOption, WaitOption, clean_errors, open_store, print_json, print_lines,
)
from .format_crawl import crawl_lines, preview_lines

Target = Annotated[str, typer.Argument(help="A site profile (YAML, see docs/sites/) or a start URL.")]


@contextmanager
def crawl_progress(quiet: bool) -> Iterator[Optional[Callable[[dict], None]]]:
    """A line of pages, documents, errors and time waited, on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True)
    task = bar.add_task("crawling", total=None)

    def update(event: dict) -> None:
        bar.update(task, description=(
            f"{event['site']}: {event['pages']:,} pages, {event['documents']:,} documents, {event['errors']:,} errors, "
            f"waited {event['wait_seconds']:.0f}s, {event['queued']:,} queued"))

    with bar:
        yield update


@clean_errors
def crawl(
    target: Target,
    db: DbOption = DEFAULT_DB,
    max_pages: Annotated[Optional[int], typer.Option(help="Stop after this many pages (the next run goes on from there).")] = None,
    max_bytes: Annotated[Optional[int], typer.Option(help="Stop after downloading this many bytes.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Store only complaints and replies dated on or after this day (YYYY-MM-DD).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Fetch robots.txt, the start pages and one complaint page; show what would be followed and stored; write nothing.")] = False,
    depth: Annotated[int, typer.Option(help="With a URL: follow links up to this many clicks away.")] = 2,
    same_host: Annotated[bool, typer.Option("--same-host/--any-host", help="With a URL: stay on its host.")] = True,
    delay: Annotated[Optional[float], typer.Option(help="Seconds between two requests to a host (default 2, or the profile's; never below robots.txt's Crawl-delay).")] = None,
    user_agent: Annotated[Optional[str], typer.Option(help="The User-Agent sent, naming you (e.g. 'acme-cx/1.0 (cx@acme.example)').", envvar="MINER_USER_AGENT")] = None,
    base: Annotated[Optional[str], typer.Option(help="Resolve the profile's relative URLs against this base instead of its base: (a mirror or a staging copy).")] = None,
    redact: Annotated[bool, typer.Option("--redact/--no-redact", help="Redact PII before storing (default: on).")] = True,
    quiet: QuietOption = False,
    as_json: JsonSummaryOption = False,
    wait: WaitOption = None,
) -> None:
    """Crawl a complaint site into the store: polite (robots.txt, delay, Retry-After), resumable, incremental."""
    from miner.crawl.crawler import CrawlOptions, crawl as run_crawl, preview
    from miner.crawl.profile import load_profile, url_profile
    from miner.ingest.pipeline import IngestOptions

    looks_like_url = "://" in target
    if looks_like_url:
        profile = url_profile(target, depth=depth, same_host=same_host)
    else:
        if not Path(target).suffix.lower() in (".yaml", ".yml") and not Path(target).exists():
            profile = url_profile(target, depth=depth, same_host=same_host)  # E652: neither a file nor a URL
        else:
            profile = load_profile(target, base_override=base)
    options = CrawlOptions(delay=delay, user_agent=user_agent, max_pages=max_pages, max_bytes=max_bytes, since=since)
    if dry_run:
        result = preview(profile, options)
        if as_json:
            print_json(result)
        elif not quiet:
            print_lines(preview_lines(result))
        return
    store = open_store(db, create=True, write="crawl", wait=wait)  # the whole crawl holds the writer lock
    with crawl_progress(quiet) as progress:
        result = run_crawl(store, profile, options, IngestOptions(redact=redact), progress=progress).to_dict()
    if as_json:
        print_json(result)
    elif not quiet:
        print_lines(crawl_lines(result))
