"""`miner themes`: discover themes across languages, read them, edit them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from miner.errors import UsageError

from .common import (
    DEFAULT_DB, DbOption, EncoderOption, JsonOption, clean_errors, open_store, print_result, resolve_encoder, stage_progress,
    WaitOption,
)
from .format_themes import discover_lines, lineage_lines, list_lines, show_lines

app = typer.Typer(help="Discover themes across languages, read them, and edit them (edits persist across runs).", no_args_is_help=True)

ThemeId = Annotated[int, typer.Argument(help="Theme id (see `miner themes list`).")]
StopTerms = Annotated[
    Optional[Path], typer.Option(help="Text file of brand, shop or product names (one per line) never used as keywords.")
]


@app.command("discover")
@clean_errors
def themes_discover(
    db: DbOption = DEFAULT_DB,
    encoder: EncoderOption = None,
    label_lang: Annotated[
        Optional[str], typer.Option(help="Language of the theme labels: en, de, fr, es, zh, ja... (remembered by the store; default en).")
    ] = None,
    lexicon: Annotated[
        Optional[Path], typer.Option(help="Your concept lexicon (YAML, docs/themes.md): more concepts or languages to name themes by.")
    ] = None,
    min_size: Annotated[int, typer.Option(help="Fewest documents a theme may have; smaller ones join their nearest theme.")] = 3,
    max_themes: Annotated[int, typer.Option(help="At most this many themes (0: as many as the data holds).")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed: the same data and seed give the same themes.")] = 42,
    max_fit: Annotated[int, typer.Option(help="Fit on at most this many documents; the rest are assigned.")] = 20_000,
    min_cluster_size: Annotated[int, typer.Option(help="Smallest sub-theme HDBSCAN may form (0: from the data size).")] = 0,
    max_outliers: Annotated[float, typer.Option(help="Most documents left without a theme, as a share (0-0.9).")] = 0.15,
    debias: Annotated[str, typer.Option(help="Language-identity removal: center (default), none, coral, coral+inlp...")] = "center",
    stop_terms: StopTerms = None,
    force: Annotated[bool, typer.Option("--force", help="Refit even if nothing changed since the last run.")] = False,
    engine: Annotated[str, typer.Option(
        help="Where documents and sentences are placed once the themes are fitted: 'local' (this process) or 'ray' "
        "(a Ray cluster; the fit stays here; pip install miner[ray]; docs/scale.md). Both give the same store.")] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="--engine ray: the cluster, 'auto' (on a node of it) or ray://HOST:10001; default a local Ray instance.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="--engine ray: tasks at once (default 2).")] = None,
    as_json: JsonOption = False,
    wait: WaitOption = None,
) -> None:
    """Find themes and sub-themes among all informative documents, named in your language; keep ids, labels and edits of earlier runs."""
    from miner.themes.discover import discover
    from miner.themes.fit import ThemeParams

    if not 0 <= max_outliers <= 0.9 or max_fit < 10 or min_cluster_size < 0 or min_size < 1 or max_themes < 0:
        raise UsageError(
            "E800", "--max-outliers must be 0..0.9, --max-fit at least 10, --min-cluster-size and --max-themes at least 0, --min-size at least 1.",
            "Fix the option.",
        )
    params = ThemeParams(seed=seed, max_fit=max_fit, min_cluster_size=min_cluster_size, max_outliers=max_outliers,
                         debias="center" if debias == "default" else debias, min_size=min_size, max_themes=max_themes)
    if engine not in ("local", "ray"):
        raise UsageError("E742", f"unknown engine {engine!r}.", "Use --engine local or --engine ray.")
    if engine == "local" and (address or workers is not None):
        raise UsageError("E742", "--address and --workers are options of --engine ray.", "Add --engine ray, or leave them out.")
    terms = read_stop_terms(stop_terms)
    store = open_store(db, write="themes discover", wait=wait)  # a second writer waits here, before the spinner starts
    ray_stats = None
    with stage_progress(as_json) as report:  # a spinner naming the stage, with its elapsed time
        kwargs = dict(encoder=resolve_encoder(encoder, lazy=True), params=params, stop_terms=terms, label_lang=label_lang,
                      lexicon_path=lexicon, force=force, progress=None if report is None else (lambda stage: report(f"themes: {stage}")))
        if engine == "ray":
            from miner.engine.ray_common import RayOptions
            from miner.engine.ray_themes import discover_ray

            summary, ray_stats = discover_ray(store, options=RayOptions(address=address, workers=2 if workers is None else workers),
                                              **kwargs)
        else:
            summary = discover(store, **kwargs)
    result = summary.to_dict() | ({"ray": ray_stats.to_dict()} if ray_stats is not None else {})
    print_result(result, as_json, discover_lines, db)


def read_stop_terms(path: Optional[Path]) -> set[str]:
    if path is None:
        return set()
    from miner.themes.terms import read_stop_terms as read

    return read(path)


@app.command("list")
@clean_errors
def themes_list(
    db: DbOption = DEFAULT_DB,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived themes.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Show at most this many themes.")] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Show each theme's sub-themes under it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Themes by size: documents, share of segments, negative share, label (in the label language), kind, languages."""
    from miner.themes.manage import list_themes

    result = list_themes(open_store(db), include_archived=archived, limit=limit, tree=tree)
    print_result(result, as_json, list_lines)


@app.command("show")
@clean_errors
def themes_show(
    theme: ThemeId,
    db: DbOption = DEFAULT_DB,
    period: Annotated[str, typer.Option(help="Volume by day, week or month.")] = "month",
    as_json: JsonOption = False,
) -> None:
    """One theme: size, languages, sentiment, first/last seen, volume sparkline, keywords and quotes per language."""
    from miner.themes.manage import show_theme

    if period not in ("day", "week", "month"):
        raise UsageError("E807", f"unknown period {period!r}.", "Use --period day, week or month.")
    t = show_theme(open_store(db), theme, period=period)
    print_result(t, as_json, show_lines, period)


@app.command("lineage")
@clean_errors
def themes_lineage(
    db: DbOption = DEFAULT_DB,
    run: Annotated[Optional[int], typer.Option(help="Discovery run (default: the latest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """What the latest discovery run did to each theme: new, kept, split, merged, retired."""
    from miner.themes.manage import lineage

    rows = lineage(open_store(db), run)
    print_result(rows, as_json, lineage_lines)


@app.command("rename")
@clean_errors
def themes_rename(theme: ThemeId, label: Annotated[str, typer.Argument(help="The new label.")], db: DbOption = DEFAULT_DB,
                  wait: WaitOption = None) -> None:
    """Give a theme your own label; it survives later discovery runs."""
    from miner.themes.manage import rename

    r = rename(open_store(db, write="themes rename", wait=wait), theme, label)
    typer.echo(f"Theme {r['theme']} is now {r['label']!r}.")


@app.command("merge")
@clean_errors
def themes_merge(
    themes: Annotated[list[int], typer.Argument(help="Themes to merge into --into.")],
    into: Annotated[int, typer.Option(help="The theme that absorbs them (keeps its id and label).")],
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = None,
) -> None:
    """Merge themes into one; later runs keep them together."""
    from miner.themes.manage import merge

    r = merge(open_store(db, write="themes merge", wait=wait), themes, into)
    typer.echo(f"Merged {', '.join(map(str, r['merged']))} into {r['into']} ({r['segments_moved']:,} segments moved).")


@app.command("split")
@clean_errors
def themes_split(
    theme: ThemeId,
    parts: Annotated[int, typer.Option(help="Number of new themes (2-10).")] = 2,
    db: DbOption = DEFAULT_DB,
    encoder: EncoderOption = None,
    wait: WaitOption = None,
) -> None:
    """Split a theme into sub-themes by its segments' embeddings; later runs keep them apart."""
    from miner.themes.manage import split

    r = split(open_store(db, write="themes split", wait=wait), theme, parts, encoder=resolve_encoder(encoder, lazy=True))
    typer.echo(f"Split {r['theme']} into " + ", ".join(f"{c} ({n} segments)" for c, n in zip(r["children"], r["sizes"])) + ".")


def flag_command(action: str, doc: str) -> None:
    """`miner themes ACTION THEME`: one command per flag (archive, unarchive, pin, unpin)."""

    @clean_errors
    def command(theme: ThemeId, db: DbOption = DEFAULT_DB, wait: WaitOption = None) -> None:
        from miner.themes.manage import set_flag

        set_flag(open_store(db, write=f"themes {action}", wait=wait), theme, action)
        typer.echo(f"Theme {theme}: {action} done.")

    command.__doc__ = doc
    app.command(action)(command)


flag_command("archive", "Hide a theme from lists and backlogs (it is still matched and assigned).")
flag_command("unarchive", "Show an archived theme again.")
flag_command("pin", "Pin a theme: later runs never retire it or merge it away.")
flag_command("unpin", "Unpin a theme.")
