"""`miner search`: documents by meaning in any language (with exact words), like a document,
or by exact words only; inside filters."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import DEFAULT_DB, DbOption, EncoderOption, clean_errors, count_progress, err, open_store, print_json

Query = Annotated[Optional[str], typer.Argument(help="Words or a phrase, in any language (leave out with --like).")]
# Documents with these field values only (miner.fields), as in `miner export` and `miner backlog`.
MetaFilter = Annotated[
    Optional[list[str]], typer.Option("--filter", help="Only documents with this field value: meta.FIELD=VALUE (an input column). Repeatable.")
]


@clean_errors
def search(
    query: Query = None,
    db: DbOption = DEFAULT_DB,
    like: Annotated[Optional[int], typer.Option("--like", help="Find the documents most like this document id instead.")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Exact words only (full text, newest first), no meaning.")] = False,
    theme: Annotated[Optional[int], typer.Option(help="Only documents of this theme or sub-theme id.")] = None,
    touchpoint: Annotated[Optional[str], typer.Option(help="Only documents with a segment at this touchpoint key.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on or before this day (YYYY-MM-DD).")] = None,
    lang: Annotated[Optional[list[str]], typer.Option(help="Only documents in this language (de, zh, zh-Hant; repeatable or a,b).")] = None,
    channel: Annotated[Optional[list[str]], typer.Option(help="Only documents of this channel (repeatable or a,b).")] = None,
    field_filter: MetaFilter = None,
    query_lang: Annotated[Optional[str], typer.Option(help="The query's language (default: detected).")] = None,
    encoder: EncoderOption = None,
    limit: Annotated[int, typer.Option(help="Most documents to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the documents found as JSON.")] = False,
) -> None:
    """Find documents by meaning in any language, fused with exact-word matches: `miner search refund`
    also finds Rückerstattung and 退款. `--like ID`: the documents most like one document. `--exact`:
    exact words only. The index of document vectors lives beside the store (STORE.search-index/) and
    is brought up to date by each search."""
    from miner.search.query import search as run_search
    from miner.search.scope import Scope

    scope = Scope(
        theme=theme, touchpoint=touchpoint, since=since, until=until, langs=_split(lang), channels=_split(channel),
        fields=tuple(field_filter or ()),
    )
    store = open_store(db)
    enc = None
    if encoder is not None:
        from .common import resolve_encoder

        enc = resolve_encoder(encoder, lazy=True)
    with count_progress(as_json) as progress:
        result = run_search(store, query, like=like, scope=scope, limit=limit, exact=exact, query_lang=query_lang,
                            encoder=enc, progress=progress)
    if as_json:
        print_json(result.hits)
    else:
        for hit in result.hits:
            typer.echo(hit_line(hit))
    for line in summary_lines(result):
        err(line)


def _split(values: Optional[list[str]]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or [] for v in value.split(",") if v.strip())


def hit_line(hit: dict) -> str:
    snippet = " ".join(hit["clean_text"].split())[:160]
    similarity = f"{hit['similarity']:.2f}" if hit.get("similarity") is not None else "  -  "
    mark = "=" if hit.get("exact") else " "
    lang = hit["lang"] or "?"
    if lang == "zh" and hit.get("script") in ("Hans", "Hant"):
        lang = f"zh-{hit['script']}"
    return f"{hit['id']:>7}  {lang:<7} {(hit['created_at'] or '')[:10]:<10}  {similarity} {mark} {snippet}"


def summary_lines(result) -> list[str]:
    n = len(result.hits)
    if result.mode == "words":
        return [f"{n} document(s) with every word (newest first)."]
    index = result.index
    how = "through the HNSW graph" if index.get("graph") else "exactly"
    lines = []
    if result.mode == "like":
        lines.append(f"{n} document(s) most like it; its language: {result.query_lang or 'undetermined'}.")
    else:
        lang = result.query_lang or "undetermined"
        centred = result.centred_on or "all documents"
        lines.append(f"{n} document(s); query read as {lang} (centred on {centred}); = marks exact-word matches.")
    saved = f"index {index['folder']}" if index.get("saved") and index.get("folder") else "index in memory"
    rebuilt = f", rebuilt: {index['rebuilt']}" if index.get("rebuilt") and index.get("saved") else ""
    added = f", {index['added']:,} added" if index.get("added") and not index.get("rebuilt") else ""
    lines.append(f"{index.get('rows', 0):,} document vector(s) searched {how} ({saved}{rebuilt}{added}; {index.get('seconds', 0):.2f} s).")
    return lines + [f"Note: {note}." for note in result.notes]
