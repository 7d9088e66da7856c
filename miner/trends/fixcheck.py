"""Did the fix work? A theme's share of documents and its negative share before vs after a date.

Before: the `window` periods before the shipped date; after: the `window` periods from it
(the shipped day counts as after). Each figure is compared with a two-sided two-proportion
z-test, or Fisher's exact test when an expected count is under 5. Called by
`miner trends fix` and, with a backlog item's theme and shipped date, by the backlog.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import sqlite_utils

from ..display import percent
from ..errors import UsageError
from ..measures.theme_targets import theme_targets
from .asof import resolve_as_of
from .periods import check_granularity, parse_day
from .series import resolve_themes, trends

MIN_MENTIONS = 10  # before + after; fewer and no verdict is given


def add_periods(day: date, n: int, granularity: str) -> date:
    if granularity == "day":
        return day + timedelta(days=n)
    if granularity == "week":
        return day + timedelta(days=7 * n)
    months = day.year * 12 + day.month - 1 + n
    y, m = divmod(months, 12)
    for d in (day.day, 30, 29, 28):  # the same day of the month, or the month's last day
        try:
            return date(y, m + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def compare_proportions(x1: int, n1: int, x2: int, n2: int) -> dict:
    """Two-sided test of x1/n1 vs x2/n2, with the difference and its 95% interval."""
    from scipy.stats import fisher_exact, norm  # here: scipy.stats costs ~0.5 s to import, and the report and backlog rarely test

    if n1 == 0 or n2 == 0:
        return {"before": None, "after": None, "difference": None, "ci95": None, "p_value": None, "test": None}
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if expected < 5:
        p_value, test = float(fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue), "fisher exact"
    else:
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p_value = float(2 * norm.sf(abs(p2 - p1) / se)) if se > 0 else 1.0
        test = "two-proportion z"
    se_diff = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    diff = p2 - p1
    return {"before": p1, "after": p2, "difference": diff, "ci95": [diff - 1.96 * se_diff, diff + 1.96 * se_diff],
            "p_value": p_value, "test": test}


def _verdict(cmp: dict, alpha: float, enough: bool) -> str:
    if not enough or cmp["p_value"] is None:
        return "not enough data"
    if cmp["p_value"] >= alpha:
        return "no significant change"
    return "significant drop" if cmp["difference"] < 0 else "significant rise"


def _side(db: sqlite_utils.Database, target: int, filters: dict, lo: date, hi: date, include_duplicates: bool) -> dict:
    """The theme's mentions, negative share and net sentiment from `lo` to the day before `hi`."""
    table = trends(db, "theme", "day", filters={**filters, "theme": [target]}, since=lo, until=hi - timedelta(days=1),
                   include_duplicates=include_duplicates)
    s = table.series.get(target)
    days = [p.start for p, n in zip(table.periods, table.totals) if n]
    side = {
        "from": lo.isoformat(),
        "to": (hi - timedelta(days=1)).isoformat(),
        "documents": sum(table.totals),
        "mentions": sum(s.volume) if s else 0,
        "negative": sum(s.neg) if s else 0,
        "with_sentiment": sum(s.labelled) if s else 0,
        "positive": sum(s.pos) if s else 0,
        "first_data": min(days).isoformat() if days else None,
        "last_data": max(days).isoformat() if days else None,
    }
    side["share"] = side["mentions"] / side["documents"] if side["documents"] else None
    side["negative_share"] = side["negative"] / side["with_sentiment"] if side["with_sentiment"] else None
    side["net_sentiment"] = (side["positive"] - side["negative"]) / side["with_sentiment"] if side["with_sentiment"] else None
    return side


def _notes(after: dict, end: date, period: str) -> list[str]:
    notes = []
    last = parse_day(after["last_data"]) if after["last_data"] else None
    if last is not None and last < end - timedelta(days=1) and period != "day":
        notes.append(f"the after window is not over yet: data runs to {after['last_data']}")
    if after["documents"] == 0:
        notes.append("no dated documents after the shipped date yet")
    return notes


def fix_check(
    db: sqlite_utils.Database,
    theme: int | str,
    shipped: date,
    *,
    window: int = 4,
    period: str = "week",
    alpha: float = 0.05,
    filters: dict | None = None,
    include_duplicates: bool = False,
    as_of: date | None = None,
    today: date | None = None,
) -> dict:
    """Compare the theme before and after `shipped`; returns figures, tests and a plain verdict.

    `as_of`: the run's "today" (documents from that day on are not counted yet); None: the end
    of the data. The result carries the as-of fields (`data_ends`, `stale_warning`...).
    """
    check_granularity(period)
    if window < 1:
        raise UsageError("E911", "--window must be at least 1 period.", "The default is 4.")
    ids = resolve_themes(db, [theme])
    if len(ids) != 1:
        raise UsageError("E912", f"{theme!r} names {len(ids)} themes ({', '.join(map(str, ids))}).", "Give the theme id.")
    target = ids[0]
    _, info = theme_targets(db)
    filters = {k: v for k, v in (filters or {}).items() if k != "theme"}
    when = resolve_as_of(db, as_of, today=today)
    start, end = add_periods(shipped, -window, period), add_periods(shipped, window, period)
    cut = max(min(end, when.day), shipped)  # nothing after the as-of day counts yet
    sides = {side: _side(db, target, filters, lo, hi, include_duplicates)
             for side, lo, hi in (("before", start, min(shipped, when.day)), ("after", shipped, cut))}
    b, a = sides["before"], sides["after"]
    share = compare_proportions(b["mentions"], b["documents"], a["mentions"], a["documents"])
    negative = compare_proportions(b["negative"], b["with_sentiment"], a["negative"], a["with_sentiment"])
    enough = b["documents"] > 0 and a["documents"] > 0 and b["mentions"] + a["mentions"] >= MIN_MENTIONS
    verdict = _verdict(share, alpha, enough)
    neg_verdict = _verdict(negative, alpha, enough and b["with_sentiment"] > 0 and a["with_sentiment"] > 0)
    notes = _notes(a, end, period)
    if when.source != "data" and end > when.day:
        notes.append(f"the after window runs to {(end - timedelta(days=1)).isoformat()}, past the as-of day {when.day}")
    label = info[target].label if target in info else str(target)
    summary = (
        f"{verdict[0].upper()}{verdict[1:]}: theme '{label}' was {percent(b['share'])} of documents in the {window} "
        f"{period}(s) before {shipped.isoformat()} and {percent(a['share'])} after"
        + (f" (p = {share['p_value']:.2g}, {share['test']})" if share["p_value"] is not None else "")
        + f". Negative share of its mentions: {percent(b['negative_share'])} → {percent(a['negative_share'])} ({neg_verdict})."
    )
    return {
        "theme": target,
        "asked": theme,
        "label": label,
        "shipped": shipped.isoformat(),
        "window": window,
        "period": period,
        "alpha": alpha,
        "filters": filters,
        "before": b,
        "after": a,
        "share_test": share,
        "negative_share_test": negative,
        "verdict": verdict,
        "negative_verdict": neg_verdict,
        "summary": summary,
        "notes": notes,
        **when.fields(period),
    }
