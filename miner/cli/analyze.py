"""`miner analyze`: embed new segments once and add sentiment."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, DbOption, EncoderOption, JsonSummaryOption, QuietOption, clean_errors, count_progress, open_store, print_json,
    print_lines, resolve_encoder, WaitOption,
)
from .format_ingest import analyze_lines

ENGINES = ("local", "ray")


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
    engine: Annotated[str, typer.Option(
        help="Where the encoder and sentiment run: 'local' (this process) or 'ray' (a Ray cluster; pip install miner[ray]; "
        "docs/scale.md). Both give the same store.")] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="--engine ray: the cluster, 'auto' (on a node of it) or ray://HOST:10001; default a local Ray instance.")] = None,
    workers: Annotated[Optional[int], typer.Option(
        help="--engine ray: encoder workers (actors), each with the model loaded once (default 2).")] = None,
    gpus_per_worker: Annotated[float, typer.Option(help="--engine ray: GPUs per worker (0: CPU; above 0: e5-small on CUDA).")] = 0.0,
    documents_per_batch: Annotated[Optional[int], typer.Option(
        help="Documents per batch (one transaction each; with --engine ray, one task). Default 512 local, 64 ray.")] = None,
    quiet: QuietOption = False,
    as_json: JsonSummaryOption = False,
    wait: WaitOption = None,
) -> None:
    """Embed every new segment once (cached) and add sentiment per segment and per document."""
    from miner.errors import UsageError

    if engine not in ENGINES:
        raise UsageError("E742", f"unknown engine {engine!r}.", "Use --engine local or --engine ray.")
    if engine == "local" and (address or workers is not None or gpus_per_worker):
        raise UsageError("E742", "--address, --workers and --gpus-per-worker are options of --engine ray.",
                         "Add --engine ray, or leave them out.")
    store = open_store(db, write="analyze", wait=wait)
    if engine == "ray":
        from miner.engine.ray_analyze import RayOptions, analyze_ray

        options = RayOptions(address=address, workers=2 if workers is None else workers, gpus_per_worker=gpus_per_worker)
        with count_progress(quiet) as progress:
            summary, stats = analyze_ray(store, encoder_name=encoder, head_path=head, document_mode=document_sentiment,
                                         options=options, batch_documents=documents_per_batch or 64, encoder_batch=batch_size,
                                         progress=progress)
        result = summary.to_dict() | {"ray": stats.to_dict()}
    else:
        from miner.analyze import analyze as run_analyze

        enc = resolve_encoder(encoder, threads=threads, lazy=True)  # a re-run on cached vectors loads no model
        with count_progress(quiet) as progress:
            result = run_analyze(store, encoder=enc, head_path=head, batch_documents=documents_per_batch or 512,
                                 encoder_batch=batch_size, document_mode=document_sentiment, progress=progress).to_dict()
    if as_json:
        print_json(result)
    elif not quiet:
        print_lines(analyze_lines(result))
