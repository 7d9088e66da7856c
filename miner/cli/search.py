"""`miner search`: full-text search over stored documents."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_DB, DbOption, clean_errors, err, open_store, print_json

Query = Annotated[str, typer.Argument(help="Words or phrase to find, in any language.")]


@clean_errors
def search(
    query: Query,
    db: DbOption = DEFAULT_DB,
    limit: Annotated[int, typer.Option(help="Most documents to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Full-text search over the cleaned text of stored documents (any language, CJK included)."""
    from miner.search import search_documents

    hits = search_documents(open_store(db), query, limit=limit)
    if as_json:
        print_json(hits)
        return
    for hit in hits:
        typer.echo(hit_line(hit))
    err(f"{len(hits)} document(s).")


def hit_line(hit: dict) -> str:
    snippet = " ".join(hit["clean_text"].split())[:160]
    return f"{hit['id']:>7}  {hit['lang'] or '?':<3} {hit['created_at'] or '':<10}  {snippet}"
