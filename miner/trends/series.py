"""Volume, share and net sentiment per theme, touchpoint, channel or language, per period.

Counting unit: a document, once per key per period. By default only originals
(`duplicate_of IS NULL`) that are informative count. A document mentions a theme when one
of its informative segments has it; themes merged into others count for the theme they
ended in. Share = documents with the key / all counted documents of the period (after the
channel and language filters), so it is comparable between quiet and busy periods.
Net sentiment = (pos - neg) / documents with a sentiment; for themes and touchpoints it is
the sentiment of the mentioning segments (negative if any is negative, else positive if any
is positive), for channels and languages the document's. A `mixed` document (it clearly holds
both) is counted apart (`mixed`), neither negative nor positive in the net sentiment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlite_utils

from ..errors import UsageError
from ..fields import ensure_indexed, field_name, is_field
from ..measures.theme_targets import theme_targets
from .periods import Period, check_granularity, parse_day, period_of, period_range
from .queries import (
    DIMENSIONS,
    Scope,
    day_totals,
    keyed_counts,
    need_touchpoints,
    restrict_documents,
    undated_documents,
)


@dataclass
class KeySeries:
    key: Any
    label: str
    status: str | None = None  # theme status; None for other dimensions
    volume: list[int] = field(default_factory=list)
    neg: list[int] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    labelled: list[int] = field(default_factory=list)
    mixed: list[int] = field(default_factory=list)  # documents labelled mixed (channels, languages)

    def net_sentiment(self, i: int) -> float | None:
        return (self.pos[i] - self.neg[i]) / self.labelled[i] if self.labelled[i] else None


@dataclass
class TrendTable:
    dimension: str
    granularity: str
    periods: list[Period]
    totals: list[int]
    series: dict[Any, KeySeries]
    skipped_undated: int = 0
    filters: dict = field(default_factory=dict)

    def share(self, key: Any, i: int) -> float | None:
        return self.series[key].volume[i] / self.totals[i] if self.totals[i] else None

    def to_dict(self) -> dict:
        rows = []
        for s in sorted(self.series.values(), key=lambda s: (-sum(s.volume), str(s.key))):
            rows.append(
                {
                    "key": s.key,
                    "label": s.label,
                    "status": s.status,
                    "total": sum(s.volume),
                    "volume": s.volume,
                    "share": [round(v / t, 6) if t else None for v, t in zip(s.volume, self.totals)],
                    "net_sentiment": [None if x is None else round(x, 4) for x in map(s.net_sentiment, range(len(s.volume)))],
                    "neg": s.neg,
                    "pos": s.pos,
                    "with_sentiment": s.labelled,
                    "mixed": s.mixed,
                }
            )
        return {
            "dimension": self.dimension,
            "granularity": self.granularity,
            "periods": [p.label for p in self.periods],
            "period_starts": [p.start.isoformat() for p in self.periods],
            "totals": self.totals,
            "documents": sum(self.totals),
            "skipped_undated": self.skipped_undated,
            "filters": self.filters,
            "series": rows,
        }


# --- themes: ids or labels, merge chains followed -------------------------------------


def resolve_themes(db: sqlite_utils.Database, values: list) -> list[int]:
    """Theme ids (or labels, case-insensitive) to the ids they ended in; unknown ones are an error."""
    targets, info = theme_targets(db)
    by_label = defaultdict(set)
    for tid, t in info.items():
        by_label[t.label.casefold()].add(targets[tid])
    out: set[int] = set()
    for v in values:
        text = str(v).strip()
        if text.lstrip("-").isdigit() and int(text) in targets:
            out.add(targets[int(text)])
        elif text.casefold() in by_label:
            out |= by_label[text.casefold()]
        else:
            raise UsageError("E904", f"no theme {text!r} (by id or label).", "List themes with `miner themes list` or query the themes table.")
    return sorted(out)


def normalise_filters(db: sqlite_utils.Database, filters: dict | None) -> dict:
    out = {}
    for dim, values in (filters or {}).items():
        if dim == "fields":  # {field: [values]} of miner.fields.parse_filters: indexed here, once
            if values:
                ensure_indexed(db, list(values))
                out["fields"] = {f: [str(v) for v in vs] for f, vs in values.items()}
            continue
        if dim not in DIMENSIONS:
            raise UsageError("E906", f"cannot filter by {dim!r}.", f"Filter by one of: {', '.join(DIMENSIONS)}.")
        if values is None or values == []:
            continue
        values = [values] if isinstance(values, (str, int)) else list(values)
        out[dim] = resolve_themes(db, values) if dim == "theme" else [str(v) for v in values]
    return out


def trends(
    db: sqlite_utils.Database,
    by: str = "theme",
    period: str = "week",
    *,
    filters: dict | None = None,
    since: date | None = None,
    until: date | None = None,
    last: int | None = None,
    include_duplicates: bool = False,
    include_noninformative: bool = False,
    documents: Iterable[int] | None = None,
) -> TrendTable:
    """Count documents per key and period, from the first to the last period with data.

    `filters`: {"theme": [ids or labels], "touchpoint": [...], "channel": [...], "lang": [...],
    "fields": {field: [values]}}. `by`: a dimension, or a field of the input: meta.FIELD.
    `last`: keep only the last N periods.
    `documents`: count only these documents (mentions and period totals alike), e.g. those of
    some accounts; None counts all.
    """
    if by not in DIMENSIONS and not is_field(by):
        raise UsageError("E901", f"cannot chart by {by!r}.", f"Choose one of: {', '.join(DIMENSIONS)}, or a field: meta.FIELD.")
    check_granularity(period)
    if is_field(by):
        ensure_indexed(db, [field_name(by)])
    if last is not None and last < 1:
        raise UsageError("E907", "--last must be at least 1.", "Give a number of periods, e.g. --last 12.")
    if by == "touchpoint":
        need_touchpoints(db)
    filters = normalise_filters(db, filters)
    if documents is not None:
        restrict_documents(db, documents)
    scope = Scope(filters, since, until, include_duplicates, include_noninformative, restricted=documents is not None)
    totals_by_period, skipped = _totals_by_period(db, scope, period)
    counts = _counts_by_key(db, by, scope, period)
    first = period_of(since, period) if since else min(totals_by_period, default=None)
    end = period_of(until, period) if until else max(totals_by_period, default=None)
    periods: list[Period] = period_range(first, end) if first and end else []
    if last is not None:
        periods = periods[-last:]
    totals = [totals_by_period.get(p, 0) for p in periods]
    _, themes = theme_targets(db) if by == "theme" else (None, {})
    series = {}
    for key, cells in counts.items():
        s = _key_series(key, cells, periods, themes)
        if any(s.volume) or not periods:
            series[key] = s
    return TrendTable(by, period, periods, totals, series, skipped, filters)


def _totals_by_period(db: sqlite_utils.Database, scope: Scope, period: str) -> tuple[dict[Period, int], int]:
    """Documents in scope per period, and those skipped for want of a usable date."""
    skipped = undated_documents(db, scope)
    totals: dict[Period, int] = defaultdict(int)
    for day_text, n in day_totals(db, scope):
        day = parse_day(day_text)
        if day is None:
            skipped += n
        else:
            totals[period_of(day, period)] += n
    return totals, skipped


def _counts_by_key(db: sqlite_utils.Database, by: str, scope: Scope, period: str) -> dict[Any, dict[Period, list[int]]]:
    """key -> period -> [documents, neg, pos, with sentiment, mixed]."""
    counts: dict[Any, dict[Period, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    for day_text, key, n, neg, pos, lab, mixed in keyed_counts(db, by, scope):
        day = parse_day(day_text)
        if day is None:
            continue
        cell = counts[key][period_of(day, period)]
        for i, v in enumerate((n, neg, pos, lab, mixed)):
            cell[i] += v or 0
    return counts


def _key_series(key: Any, cells: dict[Period, list[int]], periods: list[Period], themes: dict) -> KeySeries:
    s = KeySeries(key=key, label=themes[key].label if key in themes else ("(none)" if key is None else str(key)))
    if key in themes:
        s.status = themes[key].status
    for p in periods:
        n, neg, pos, lab, mixed = cells.get(p, (0, 0, 0, 0, 0))
        s.volume.append(n)
        s.neg.append(neg)
        s.pos.append(pos)
        s.labelled.append(lab)
        s.mixed.append(mixed)
    return s
