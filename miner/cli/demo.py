"""`miner demo`: the main job on the bundled demo corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DbOption, JsonSummaryOption, WaitOption, clean_errors, lock_store, print_json, stage_progress
from .format_demo import echo_demo_summary


@clean_errors
def demo(
    db: DbOption = Path("demo.db"),
    analyze: Annotated[bool, typer.Option("--analyze/--no-analyze", help="Also embed and add sentiment (default).")] = True,
    as_json: JsonSummaryOption = False,
    wait: WaitOption = None,
) -> None:
    """Run the main job on the bundled demo corpus (a multilingual NovaLink complaint set)."""
    from miner.demo import run_demo

    lock_store(db, "demo", wait)
    with stage_progress(False) as report:
        result = run_demo(db, analyze=analyze, progress=report)
    if as_json:
        print_json(result)
    else:
        echo_demo_summary(result, db)
