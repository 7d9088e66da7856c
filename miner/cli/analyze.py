"""`miner analyze`: embed new segments once and add sentiment."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, DbOption, EncoderOption, JsonSummaryOption, QuietOption, clean_errors, count_progress, open_store, print_json,
    print_lines, resolve_encoder, WaitOption,
)
from .format_ingest import analyze_lines


@clean_errors
def analyze(
    db: DbOption = DEFAULT_DB,
    encoder: EncoderOption = None,
    head: Annotated[Optional[str], typer.Option(help="Sentiment head: a .npz path or a name in models/.")] = None,
    threads: Annotated[Optional[int], typer.Option(help="Encoder threads (default: all cores).")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per encoder call (torch re-batches them by token count).")] = 256,
    document_sentiment: Annotated[Optional[str], typer.Option(
        "--document-sentiment",
        help="How a document's sentiment is decided: 'model' (learned from its segments, in order, and its whole text; "
        "may say 'mixed') or 'any-negative' (one negative segment makes it negative). Kept by the store; default model.",
    )] = None,
    quiet: QuietOption = False,
    as_json: JsonSummaryOption = False,
    wait: WaitOption = None,
) -> None:
    """Embed every new segment once (cached) and add sentiment per segment and per document."""
    from miner.analyze import analyze as run_analyze

    store = open_store(db, write="analyze", wait=wait)
    enc = resolve_encoder(encoder, threads=threads, lazy=True)  # a re-run on cached vectors loads no model
    with count_progress(quiet) as progress:
        result = run_analyze(store, encoder=enc, head_path=head, encoder_batch=batch_size, document_mode=document_sentiment,
                             progress=progress).to_dict()
    if as_json:
        print_json(result)
    elif not quiet:
        print_lines(analyze_lines(result))
