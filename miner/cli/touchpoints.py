"""`miner touchpoints`: assign segments to a customer-journey taxonomy, read volume and aspect sentiment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, DbOption, EncoderOption, FieldFilter, JsonOption, clean_errors, field_filters, open_store,
    print_json, print_lines, print_result, resolve_encoder, WaitOption,
)
from .format_touchpoints import assign_lines, correct_lines, evaluate_lines, overview_lines, sentiment_lines, taxonomy_check_line

app = typer.Typer(
    help="Customer-journey touchpoints: assign segments to a taxonomy (yours or the default), read volume and aspect sentiment.",
    no_args_is_help=True,
)

TaxonomyOption = Annotated[Optional[Path], typer.Option("--taxonomy", help="Your taxonomy YAML (default: the shipped customer journey).")]
ExamplesOption = Annotated[
    Optional[Path], typer.Option("--examples", help="CSV of labelled examples (columns text,touchpoint): few-shot.")
]
MinConfidenceOption = Annotated[
    Optional[float],
    typer.Option(
        "--min-confidence",
        help="The probability a touchpoint needs to be given (0-1, default 0.25); below it the text gets none, with the reason "
        "(see `touchpoints list`). With --examples the probability is calibrated on held-out folds of your examples.",
    ),
]


@app.command("assign")
@clean_errors
def touchpoints_assign(
    db: DbOption = DEFAULT_DB,
    taxonomy: TaxonomyOption = None,
    examples: ExamplesOption = None,
    min_confidence: MinConfidenceOption = None,
    encoder: EncoderOption = None,
    as_json: JsonOption = False,
    wait: WaitOption = None,
) -> None:
    """Store the taxonomy and give every informative document and segment its touchpoint(s), or none; keep corrections; link themes to touchpoints."""
    from miner.touchpoints.assign import AssignParams
    from miner.touchpoints.model import assign_touchpoints

    params = AssignParams() if min_confidence is None else AssignParams(min_confidence=min_confidence)
    r = assign_touchpoints(open_store(db, write="touchpoints assign", wait=wait), encoder=resolve_encoder(encoder, lazy=True), taxonomy=taxonomy, examples=examples, params=params)
    print_result(r, as_json, assign_lines, db)


@app.command("list")
@clean_errors
def touchpoints_list(
    db: DbOption = DEFAULT_DB,
    themes: Annotated[int, typer.Option(help="Top themes shown per touchpoint.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """Touchpoints in journey order: segments, share, negative share, net sentiment, owner and top themes; what has no touchpoint and why."""
    from miner.touchpoints.aspects import touchpoint_overview

    r = touchpoint_overview(open_store(db), top_themes=themes)
    print_result(r, as_json, overview_lines)


@app.command("sentiment")
@clean_errors
def touchpoints_sentiment(
    db: DbOption = DEFAULT_DB,
    by: Annotated[str, typer.Option("--by", help="touchpoint, theme, channel, lang, period, or a field of the input: meta.FIELD.")] = "touchpoint",
    period: Annotated[str, typer.Option(help="With --by period: day, week or month.")] = "month",
    touchpoint: Annotated[Optional[list[str]], typer.Option("--touchpoint", help="Only this touchpoint (key). Repeatable.")] = None,
    min_segments: Annotated[int, typer.Option(help="Leave out groups with fewer segments.")] = 1,
    field_filter: FieldFilter = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Aspect sentiment: negative share and net sentiment of the segments at each touchpoint, per theme, channel, language, period or field."""
    from miner.touchpoints.aspects import aspect_sentiment

    rows = aspect_sentiment(
        open_store(db), by=by, period=period, touchpoints=touchpoint, min_segments=min_segments, filters=field_filters(field_filter)
    )
    if as_json:
        print_json(rows)
    elif as_csv:
        write_rows_csv(rows)
    else:
        print_lines(sentiment_lines(rows, by))


def write_rows_csv(rows: list[dict]) -> None:
    """The rows as CSV on standard output (nothing at all for no rows); formula-like cells neutralised."""
    import csv

    from miner.files import neutralise_formula

    if rows:
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: neutralise_formula(v) for k, v in r.items()} for r in rows)


@app.command("check")
@clean_errors
def touchpoints_check(taxonomy: Annotated[Path, typer.Argument(help="The taxonomy YAML to validate.")]) -> None:
    """Validate a taxonomy file without a database: errors point at the file and line."""
    from miner.touchpoints.taxonomy import load_taxonomy

    typer.echo(taxonomy_check_line(taxonomy, load_taxonomy(taxonomy)))


@app.command("correct")
@clean_errors
def touchpoints_correct(
    item: Annotated[Optional[str], typer.Argument(help="doc:ID, seg:ID, or the document's id from your file.")] = None,
    touchpoint: Annotated[Optional[str], typer.Argument(help="A touchpoint key of the stored taxonomy, or none.")] = None,
    csv_path: Annotated[Optional[Path], typer.Option("--csv", help="A CSV of corrections (columns id,touchpoint): all or nothing.")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    wait: WaitOption = None,
) -> None:
    """Correct a document's or segment's touchpoint: applied now, kept by later runs, which learn from it."""
    from miner.touchpoints.labels import correct_touchpoints

    r = correct_touchpoints(open_store(db, write="touchpoints correct", wait=wait), item=item, touchpoint=touchpoint, csv_path=csv_path)
    print_result(r, as_json, correct_lines, db)


@app.command("evaluate")
@clean_errors
def touchpoints_evaluate(
    labels: Annotated[Path, typer.Option("--labels", help="Your labelled sample: a CSV with columns id,touchpoint.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """The stored assignment against your labelled sample: top-1, macro-F1, coverage and a confusion table."""
    from miner.touchpoints.evaluate import evaluate_touchpoints

    r = evaluate_touchpoints(open_store(db), labels)
    print_result(r, as_json, evaluate_lines)
