"""Volume, share and net sentiment per theme, touchpoint, channel or language, per period.

Counting unit: a document, once per key per period. By default only originals
(`duplicate_of IS NULL`) that are informative count. A document mentions a theme when one
of its informative segments has it; themes merged into others count for the theme they
ended in. Share = documents with the key / all counted documents of the period (after the
channel and language filters), so it is comparable between quiet and busy periods.
Net sentiment = (pos - neg) / documents with a sentiment; for themes and touchpoints it is
the sentiment of the mentioning segments (negative if any is negative, else positive if any
is positive), for channels and languages the document's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from ..errors import UsageError
from ..measures.theme_targets import theme_targets
from .periods import Period, check_granularity, parse_day, period_of, period_range

DIMENSIONS = ("theme", "touchpoint", "channel", "lang")
SEGMENT_DIMENSIONS = ("theme", "touchpoint")


@dataclass
class KeySeries:
    key: Any
    label: str
    status: str | None = None  # theme status; None for other dimensions
    volume: list[int] = field(default_factory=list)
    neg: list[int] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    labelled: list[int] = field(default_factory=list)

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


def has_touchpoints(db: sqlite_utils.Database) -> bool:
    """True once some segment has a touchpoint (the table exists from schema 005, empty until assigned)."""
    return db["segment_touchpoints"].exists() and db.execute("SELECT 1 FROM segment_touchpoints LIMIT 1").fetchone() is not None


def _need_touchpoints(db: sqlite_utils.Database) -> None:
    if not has_touchpoints(db):
        raise UsageError("E905", "no segment has a touchpoint yet.", "Assign touchpoints first, or use --by theme, channel or lang.")


# --- SQL --------------------------------------------------------------------------------


@dataclass
class Scope:
    """Which documents count: the WHERE clause shared by every query, and its parameters."""

    where: list[str]
    params: list

    def sql(self) -> str:
        return " AND ".join(self.where) if self.where else "1"


def _in(column: str, values: list) -> tuple[str, list]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def restrict_documents(db: sqlite_utils.Database, doc_ids: Iterable[int]) -> None:
    """The only documents a restricted scope counts (alert rules by account group); temp: never written to the file."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS trend_doc_scope (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM temp.trend_doc_scope")
    db.conn.executemany("INSERT OR IGNORE INTO temp.trend_doc_scope VALUES (?)", [(int(i),) for i in doc_ids])


def document_scope(
    filters: dict, since: date | None, until: date | None, include_duplicates: bool, include_noninformative: bool,
    restricted: bool = False,
) -> Scope:
    """`restricted`: only the documents last given to `restrict_documents`."""
    where, params = [], []
    if restricted:
        where.append("d.id IN (SELECT id FROM temp.trend_doc_scope)")
    if not include_duplicates:
        where.append("d.duplicate_of IS NULL")
    if not include_noninformative:
        where.append("d.informative = 1")
    for dim, column in (("channel", "d.channel"), ("lang", "d.lang")):
        if filters.get(dim):
            clause, p = _in(column, filters[dim])
            where.append(clause)
            params += p
    if since:
        where.append("d.created_at >= ?")
        params.append(since.isoformat())
    if until:
        where.append("d.created_at < ?")
        params.append((until + timedelta(days=1)).isoformat())
    return Scope(where, params)


def _load_theme_map(db: sqlite_utils.Database) -> None:
    """A temporary table of theme -> the theme it ended in, for joins (temp: never written to the file)."""
    targets, _ = theme_targets(db)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS trend_theme_map (theme_id INTEGER PRIMARY KEY, target INTEGER NOT NULL)")
    db.execute("DELETE FROM temp.trend_theme_map")
    db.conn.executemany("INSERT INTO temp.trend_theme_map VALUES (?, ?)", list(targets.items()))


def segment_join(db: sqlite_utils.Database, filters: dict, need_theme: bool, need_touchpoint: bool) -> tuple[str, list[str], list]:
    """Joins from `documents d` to its informative segments `g`, their theme `m.target` and touchpoint `tp`."""
    joins = ["JOIN segments g ON g.document_id = d.id"]
    where = ["COALESCE(g.informative, 1) != 0"]
    params: list = []
    if need_theme or filters.get("theme"):
        _load_theme_map(db)
        joins.append("JOIN segment_themes st ON st.segment_id = g.id JOIN temp.trend_theme_map m ON m.theme_id = st.theme_id")
        if filters.get("theme"):
            clause, p = _in("m.target", filters["theme"])
            where.append(clause)
            params += p
    if need_touchpoint or filters.get("touchpoint"):
        _need_touchpoints(db)
        joins.append("JOIN segment_touchpoints tp ON tp.segment_id = g.id")
        if filters.get("touchpoint"):
            clause, p = _in("tp.touchpoint", filters["touchpoint"])
            where.append(clause)
            params += p
    return " ".join(joins), where, params


def _keyed_counts(db: sqlite_utils.Database, dimension: str, filters: dict, scope: Scope):
    """Rows (day, key, documents, neg, pos, with sentiment)."""
    day = "substr(d.created_at, 1, 10)"
    if dimension in SEGMENT_DIMENSIONS:
        key = "m.target" if dimension == "theme" else "tp.touchpoint"
        joins, where, params = segment_join(db, filters, dimension == "theme", dimension == "touchpoint")
        sql = (
            "SELECT day, k, COUNT(*), SUM(neg), SUM(pos AND NOT neg), SUM(lab) FROM ("
            f"SELECT {day} AS day, {key} AS k, MAX(ss.label = 'neg') AS neg, MAX(ss.label = 'pos') AS pos, "
            "MAX(ss.label IS NOT NULL) AS lab "
            f"FROM documents d {joins} LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id "
            f"WHERE d.created_at IS NOT NULL AND {scope.sql()} AND {' AND '.join(where)} "
            f"GROUP BY d.id, {key}) GROUP BY day, k"
        )
        return db.execute(sql, scope.params + params).fetchall()
    column = "d.channel" if dimension == "channel" else "d.lang"
    extra, params = "", []
    if filters.get("theme") or filters.get("touchpoint"):
        joins, where, params = segment_join(db, filters, False, False)
        extra = f" AND d.id IN (SELECT d.id FROM documents d {joins} WHERE {' AND '.join(where)})"
    sql = (
        f"SELECT {day} AS day, {column} AS k, COUNT(*), SUM(ds.label = 'neg'), SUM(ds.label = 'pos'), "
        "SUM(ds.label IS NOT NULL) FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id "
        f"WHERE d.created_at IS NOT NULL AND {scope.sql()}{extra} GROUP BY day, k"
    )
    return db.execute(sql, scope.params + params).fetchall()


def normalise_filters(db: sqlite_utils.Database, filters: dict | None) -> dict:
    out = {}
    for dim, values in (filters or {}).items():
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

    `filters`: {"theme": [ids or labels], "touchpoint": [...], "channel": [...], "lang": [...]}.
    `last`: keep only the last N periods.
    `documents`: count only these documents (mentions and period totals alike), e.g. those of
    some accounts; None counts all.
    """
    if by not in DIMENSIONS:
        raise UsageError("E901", f"cannot chart by {by!r}.", f"Choose one of: {', '.join(DIMENSIONS)}.")
    check_granularity(period)
    if last is not None and last < 1:
        raise UsageError("E907", "--last must be at least 1.", "Give a number of periods, e.g. --last 12.")
    if by == "touchpoint":
        _need_touchpoints(db)
    filters = normalise_filters(db, filters)
    restricted = documents is not None
    if restricted:
        restrict_documents(db, documents)
    scope = document_scope(filters, since, until, include_duplicates, include_noninformative, restricted)

    day_totals = db.execute(
        f"SELECT substr(d.created_at, 1, 10), COUNT(*) FROM documents d WHERE d.created_at IS NOT NULL AND {scope.sql()} "
        "GROUP BY 1",
        scope.params,
    ).fetchall()
    undated = document_scope(filters, None, None, include_duplicates, include_noninformative, restricted)
    skipped = db.execute(f"SELECT COUNT(*) FROM documents d WHERE d.created_at IS NULL AND {undated.sql()}", undated.params).fetchone()[0]
    totals_by_period: dict[Period, int] = defaultdict(int)
    for day_text, n in day_totals:
        day = parse_day(day_text)
        if day is None:
            skipped += n
        else:
            totals_by_period[period_of(day, period)] += n

    counts: dict[Any, dict[Period, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    for day_text, key, n, neg, pos, lab in _keyed_counts(db, by, filters, scope):
        day = parse_day(day_text)
        if day is None:
            continue
        cell = counts[key][period_of(day, period)]
        for i, v in enumerate((n, neg, pos, lab)):
            cell[i] += v or 0

    first = period_of(since, period) if since else min(totals_by_period, default=None)
    end = period_of(until, period) if until else max(totals_by_period, default=None)
    periods: list[Period] = period_range(first, end) if first and end else []
    if last is not None:
        periods = periods[-last:]
    totals = [totals_by_period.get(p, 0) for p in periods]

    _, themes = theme_targets(db) if by == "theme" else (None, {})
    series = {}
    for key, cells in counts.items():
        s = KeySeries(key=key, label=themes[key].label if key in themes else ("(none)" if key is None else str(key)))
        if key in themes:
            s.status = themes[key].status
        for p in periods:
            n, neg, pos, lab = cells.get(p, (0, 0, 0, 0))
            s.volume.append(n)
            s.neg.append(neg)
            s.pos.append(pos)
            s.labelled.append(lab)
        if any(s.volume) or not periods:
            series[key] = s
    return TrendTable(by, period, periods, totals, series, skipped, filters)
