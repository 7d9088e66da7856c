"""`miner train sentiment`: train the small heads miner runs on top of the encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .common import EncoderOption, clean_errors, err, print_json, resolve_encoder

app = typer.Typer(help="Train the small heads miner runs on top of the encoder.", no_args_is_help=True)

DataOption = Annotated[
    str, typer.Option(help="'shared' (the public corpora in ../shared/corpora) or a labelled CSV (text, label[, split, lang]).")
]
CacheOption = Annotated[
    Optional[Path], typer.Option(help="Sidecar embedding cache for training texts (default: ~/.cache/miner/embeddings.db).")
]


@app.command("sentiment")
@clean_errors
def train_sentiment_cmd(
    data: DataOption = "shared",
    out: Annotated[Path, typer.Option(help="Where to write the head (.npz).")] = Path("models/sentiment-e5-small.npz"),
    encoder: EncoderOption = None,
    cache: CacheOption = None,
    text_column: Annotated[str, typer.Option(help="Text column of a labelled CSV.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column of a labelled CSV (neg/neu/pos).")] = "label",
    threads: Annotated[Optional[int], typer.Option(help="Encoder threads.")] = None,
    requests: Annotated[bool, typer.Option(help="With --data shared: add banking77's queries and the team's questions and requests.")] = True,
    keep_head: Annotated[
        Optional[Path], typer.Option(help="Keep this head's weights (trained on the same data, train + valid): fit only its temperature and document model.")
    ] = None,
    hidden: Annotated[
        Optional[int], typer.Option(help="Train only the grid's shape with this many hidden units (0: linear) instead of choosing on valid.")
    ] = None,
    tune_documents: Annotated[
        Optional[Path], typer.Option(help="A labelled CSV (text, label, lang) of complaint-like documents on which the document model's class priors are chosen (never fitted on).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Train the sentiment head (select on valid, report test once) and save it with its metrics."""
    from miner.nlp.cache import EmbeddingCache
    from miner.nlp.train_sentiment import model_card, train_sentiment
    from miner.paths import cache_dir

    from miner.nlp.sentiment import SentimentHead
    from miner.nlp.sentiment_data import load_csv

    examples, description = load_examples(data, text_column, label_column, requests)
    tune = load_csv(tune_documents) if tune_documents else None
    kept = SentimentHead.load(keep_head) if keep_head else None
    grid = None
    if hidden is not None:
        from miner.nlp.train_sentiment import GRID

        grid = [g for g in GRID if g["hidden"] == hidden]
        if not grid:
            raise UsageError("E716", f"no head shape with {hidden} hidden units.", f"Use one of: {', '.join(str(g['hidden']) for g in GRID)}.")
    enc = resolve_encoder(encoder, threads=threads)
    result = train_sentiment(
        examples, enc, EmbeddingCache.open_file(cache or cache_dir() / "embeddings.db"), name=out.stem, data_description=description,
        grid=grid, keep_head=kept, tune_documents=tune, progress=None if as_json else (lambda msg: err(msg)),
    )
    result.head.save(out)
    out.with_suffix(".md").write_text(model_card(result.head), encoding="utf-8")
    if as_json:
        print_json({"out": str(out), "valid": result.valid, "test": result.test, "grid": result.grid}, ensure_ascii=True)
        return
    typer.echo(f"Saved {out} and its model card {out.with_suffix('.md')} ({result.head.meta['params']}) in {result.seconds:.0f}s.")
    for split, metrics in (("valid", result.valid), ("test", result.test)):
        for key, m in metrics.items():
            typer.echo(f"  {split:5} {key:32} n={m['n']:5}  accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}")


def load_examples(data: str, text_column: str, label_column: str, requests: bool = True) -> tuple[list, str]:
    """(examples, how to describe them in the model card) of --data."""
    from miner.nlp.sentiment_data import load_csv, load_shared

    if data == "shared":
        return load_shared(requests=requests), "../shared/corpora (sentiment_data.CORPORA, deterministic splits)" + (
            "" if requests else ", without banking77 and the team's requests")
    return load_csv(Path(data), text_column, label_column), f"user file {Path(data).name}"
