"""`miner trends`: volume, share and sentiment per period; emerging themes; did a fix work."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DB, AsOfTodayOption, DbOption, FieldFilter, clean_errors, field_filters, open_store, parse_as_of, parse_date, print_json,
    print_lines, print_result, warn,
)
from .format_trends import detect_text, fix_text, trends_text

app = typer.Typer(
    help="Themes over time: volume, share and net sentiment per period; emerging themes; did a fix work.",
    invoke_without_command=True,
)

ByOption = Annotated[str, typer.Option("--by", help="theme, touchpoint, channel, lang, or a field of the input: meta.FIELD.")]
PeriodOption = Annotated[str, typer.Option("--period", help="day, week (ISO, Monday first) or month.")]
ChannelFilter = Annotated[Optional[list[str]], typer.Option("--channel", help="Only this channel. Repeatable.")]
LangFilter = Annotated[Optional[list[str]], typer.Option("--lang", help="Only this language (en, zh...). Repeatable.")]
ThemeFilter = Annotated[Optional[list[str]], typer.Option("--theme", help="Only this theme (id or label). Repeatable.")]
TouchpointFilter = Annotated[Optional[list[str]], typer.Option("--touchpoint", help="Only this touchpoint. Repeatable.")]


@app.callback()
@clean_errors
def trends_cmd(
    ctx: typer.Context,
    db: DbOption = DEFAULT_DB,
    by: ByOption = "theme",
    period: PeriodOption = "week",
    last: Annotated[Optional[int], typer.Option(help="Show the last N periods (default 26; 0 = all).")] = 26,
    since: Annotated[Optional[str], typer.Option(help="First day, YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Last day, YYYY-MM-DD (default: the end of the data).")] = None,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="Chart up to this day's period: 'today' (for cron: the periods since the data ended show as zeros) or YYYY-MM-DD.",
    )] = None,
    channel: ChannelFilter = None,
    lang: LangFilter = None,
    theme: ThemeFilter = None,
    touchpoint: TouchpointFilter = None,
    filter: FieldFilter = None,
    chart: Annotated[str, typer.Option(help="What the sparklines draw: volume, share or sentiment.")] = "volume",
    top: Annotated[int, typer.Option(help="Most keys to show in the terminal.")] = 20,
    duplicates: Annotated[bool, typer.Option("--duplicates", help="Count duplicate documents too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the series as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per key and period.")] = False,
) -> None:
    """Volume, share and net sentiment per theme, touchpoint, channel or language, per day, week or month."""
    if ctx.invoked_subcommand:
        return
    from miner.trends.asof import trends_as_of
    from miner.trends.render import write_trends_csv

    table, when = trends_as_of(
        open_store(db), by, period, as_of=parse_as_of(as_of),
        filters={"channel": channel, "lang": lang, "theme": theme, "touchpoint": touchpoint, "fields": field_filters(filter)},
        since=parse_date(since, "--since"), until=parse_date(until, "--until"), last=last or None, include_duplicates=duplicates,
    )
    warn(when["stale_warning"])
    if as_json:
        print_json(table.to_dict() | when)
    elif as_csv:
        write_trends_csv(table, sys.stdout)
    else:
        print_lines(trends_text(table, chart, top, when))


@app.command("emerging")
@clean_errors
def trends_emerging(
    db: DbOption = DEFAULT_DB,
    by: ByOption = "theme",
    period: PeriodOption = "week",
    baseline: Annotated[int, typer.Option(help="Earlier periods the latest is compared with (1-104).")] = 8,
    alpha: Annotated[float, typer.Option(help="False discovery rate across the keys tested (Benjamini-Hochberg).")] = 0.05,
    min_count: Annotated[int, typer.Option(help="Fewest mentions in the tested period to test a key.")] = 5,
    min_growth: Annotated[float, typer.Option(help="Smallest share growth that counts as a spike (0.5 = +50%).")] = 0.5,
    at: Annotated[Optional[str], typer.Option("--at", help="Test this period (e.g. 2026-W36) instead of the latest complete one.")] = None,
    as_of: AsOfTodayOption = None,
    channel: ChannelFilter = None,
    lang: LangFilter = None,
    theme: ThemeFilter = None,
    touchpoint: TouchpointFilter = None,
    filter: FieldFilter = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every key tested, not only those flagged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Emerging and spiking keys: the latest complete period against the baseline, with a share test per key.

    The period tested is the latest one over by the end of the data; `--as-of today` tests the calendar's (cron).
    """
    from miner.trends.detect import DetectSettings, detect_in_store

    result = detect_in_store(
        open_store(db), by, period, DetectSettings(baseline, alpha, min_count, min_growth),
        filters={"channel": channel, "lang": lang, "theme": theme, "touchpoint": touchpoint, "fields": field_filters(filter)},
        period_label=at, as_of=parse_as_of(as_of),
    )
    warn(result["stale_warning"])
    print_result(result, as_json, detect_text, show_all)


@app.command("fix")
@clean_errors
def trends_fix(
    theme: Annotated[str, typer.Option("--theme", help="The theme the fix addressed (id or label).")],
    shipped: Annotated[str, typer.Option(help="The day the fix shipped, YYYY-MM-DD (counts as after).")],
    db: DbOption = DEFAULT_DB,
    window: Annotated[int, typer.Option(help="Periods compared on each side of the shipped day.")] = 4,
    period: PeriodOption = "week",
    alpha: Annotated[float, typer.Option(help="Significance level of the tests.")] = 0.05,
    channel: ChannelFilter = None,
    lang: LangFilter = None,
    touchpoint: TouchpointFilter = None,
    filter: FieldFilter = None,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="Count documents before this day only: 'today' or YYYY-MM-DD (default: all, to the end of the data).",
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Did the fix work? The theme's share and negative share before vs after the shipped day, tested."""
    from miner.trends.fixcheck import fix_check

    result = fix_check(
        open_store(db), theme, parse_date(shipped, "--shipped"), window=window, period=period, alpha=alpha,
        filters={"channel": channel, "lang": lang, "touchpoint": touchpoint, "fields": field_filters(filter)}, as_of=parse_as_of(as_of),
    )
    warn(result["stale_warning"])
    print_result(result, as_json, fix_text)
