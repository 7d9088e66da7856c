"""Every SQL statement of the trends: which documents count, how segments reach their theme
and touchpoint, the counts per day and key, and the evidence an alert carries.

Other modules pass values (a `Scope`, a dimension, a key, a period) and get rows back; SQL
text is put together here alone, from the fixed fragments below and `?` placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from ..errors import UsageError
from ..fields import VALUE_SQL, field_name, fields_sql, is_field
from ..measures.theme_targets import theme_targets
from .periods import Period

# What each dimension's key is, in the joins below: documents `d`, segments `g`, the theme a
# segment's theme ended in `m.target`, its touchpoint `tp`.
KEY_COLUMNS = {"theme": "m.target", "touchpoint": "tp.touchpoint", "channel": "d.channel", "lang": "d.lang"}
DIMENSIONS = tuple(KEY_COLUMNS)  # and any field of the input: meta.FIELD (miner.fields)
SEGMENT_DIMENSIONS = ("theme", "touchpoint")
_DAY = "substr(d.created_at, 1, 10)"


@dataclass(frozen=True)
class Scope:
    """Which documents count. `filters`: {"theme": [ids], "touchpoint": [...], "channel": [...],
    "lang": [...], "fields": {field: [values]}} (normalised; fields already indexed); `until` is
    inclusive; `restricted`: only the documents last given to `restrict_documents`."""

    filters: dict = field(default_factory=dict)
    since: date | None = None
    until: date | None = None
    include_duplicates: bool = False
    include_noninformative: bool = False
    restricted: bool = False

    def undated(self) -> Scope:
        """The same documents, any date (to count those without one)."""
        return replace(self, since=None, until=None)


def _in(column: str, values: list) -> tuple[str, list]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def _document_where(scope: Scope) -> tuple[str, list]:
    where, params = [], []
    if scope.restricted:
        where.append("d.id IN (SELECT id FROM temp.trend_doc_scope)")
    if not scope.include_duplicates:
        where.append("d.duplicate_of IS NULL")
    if not scope.include_noninformative:
        where.append("d.informative = 1")
    for dim in ("channel", "lang"):
        if scope.filters.get(dim):
            clause, p = _in(KEY_COLUMNS[dim], scope.filters[dim])
            where.append(clause)
            params += p
    if scope.filters.get("fields"):
        clause, p = fields_sql(scope.filters["fields"], "d.id")
        where.append("1" + clause)
        params += p
    if scope.since:
        where.append("d.created_at >= ?")
        params.append(scope.since.isoformat())
    if scope.until:
        where.append("d.created_at < ?")
        params.append((scope.until + timedelta(days=1)).isoformat())
    return (" AND ".join(where) if where else "1"), params


def _period_where(scope: Scope, period: Period) -> tuple[str, list]:
    where, params = _document_where(scope)
    return f"{where} AND d.created_at >= ? AND d.created_at < ?", params + [period.start.isoformat(), period.end.isoformat()]


def restrict_documents(db: sqlite_utils.Database, doc_ids: Iterable[int]) -> None:
    """The only documents a restricted scope counts (alert rules by account group); temp: never written to the file."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS trend_doc_scope (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM temp.trend_doc_scope")
    db.conn.executemany("INSERT OR IGNORE INTO temp.trend_doc_scope VALUES (?)", [(int(i),) for i in doc_ids])


def segments_have_touchpoints(db: sqlite_utils.Database) -> bool:
    """True once some segment has a touchpoint (the table exists from schema 005, empty until assigned)."""
    return db["segment_touchpoints"].exists() and db.execute("SELECT 1 FROM segment_touchpoints LIMIT 1").fetchone() is not None


def need_touchpoints(db: sqlite_utils.Database) -> None:
    if not segments_have_touchpoints(db):
        raise UsageError("E905", "no segment has a touchpoint yet.", "Assign touchpoints first, or use --by theme, channel or lang.")


def _load_theme_map(db: sqlite_utils.Database) -> None:
    """A temporary table of theme -> the theme it ended in, for joins (temp: never written to the file)."""
    targets, _ = theme_targets(db)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS trend_theme_map (theme_id INTEGER PRIMARY KEY, target INTEGER NOT NULL)")
    db.execute("DELETE FROM temp.trend_theme_map")
    db.conn.executemany("INSERT INTO temp.trend_theme_map VALUES (?, ?)", list(targets.items()))


def _segment_join(db: sqlite_utils.Database, filters: dict, need_theme: bool, need_touchpoint: bool) -> tuple[str, str, list]:
    """Joins from `documents d` to its informative segments `g`, their theme `m.target` and
    touchpoint `tp`, and the segments' conditions (with the theme and touchpoint filters)."""
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
        need_touchpoints(db)
        joins.append("JOIN segment_touchpoints tp ON tp.segment_id = g.id")
        if filters.get("touchpoint"):
            clause, p = _in("tp.touchpoint", filters["touchpoint"])
            where.append(clause)
            params += p
    return " ".join(joins), " AND ".join(where), params


def _mentioned_by_segments(db: sqlite_utils.Database, filters: dict) -> tuple[str, list]:
    """` AND d.id IN (...)`: documents whose segments pass the theme and touchpoint filters ('' without such filters)."""
    if not (filters.get("theme") or filters.get("touchpoint")):
        return "", []
    joins, where, params = _segment_join(db, filters, False, False)
    return f" AND d.id IN (SELECT d.id FROM documents d {joins} WHERE {where})", params


def _key_column(dimension: str) -> tuple[str, list]:
    """The key's column in the joins below, and its parameters (a field's name)."""
    return (VALUE_SQL, [field_name(dimension)]) if is_field(dimension) else (KEY_COLUMNS[dimension], [])


def _key_clause(dimension: str, key: Any) -> tuple[str, list]:
    column, params = _key_column(dimension)
    return (f"{column} IS NULL", params) if key is None else (f"{column} = ?", params + [key])


# --- series ----------------------------------------------------------------------------


def day_totals(db: sqlite_utils.Database, scope: Scope) -> list[tuple[str, int]]:
    """(day, documents) of the dated documents in scope."""
    where, params = _document_where(scope)
    return db.execute(
        f"SELECT {_DAY}, COUNT(*) FROM documents d WHERE d.created_at IS NOT NULL AND {where} GROUP BY 1", params
    ).fetchall()


def last_dated_days(db: sqlite_utils.Database, limit: int) -> list[str]:
    """The latest `created_at` values of counted documents (originals, informative), newest
    first: the end of the data (the index on created_at answers without a scan)."""
    return [r[0] for r in db.execute(
        "SELECT created_at FROM documents WHERE created_at IS NOT NULL AND duplicate_of IS NULL AND informative = 1 "
        "ORDER BY created_at DESC LIMIT ?", [limit]
    )]


def undated_documents(db: sqlite_utils.Database, scope: Scope) -> int:
    where, params = _document_where(scope.undated())
    return db.execute(f"SELECT COUNT(*) FROM documents d WHERE d.created_at IS NULL AND {where}", params).fetchone()[0]


def keyed_counts(db: sqlite_utils.Database, dimension: str, scope: Scope) -> list[tuple]:
    """Rows (day, key, documents, neg, pos, with sentiment, mixed). Themes and touchpoints count the
    mentioning segments' sentiment (negative if any is negative; a segment is never mixed);
    channels and languages the document's (`mixed`: a document that clearly holds both)."""
    where, params = _document_where(scope)
    if dimension in SEGMENT_DIMENSIONS:
        key = KEY_COLUMNS[dimension]
        joins, seg_where, seg_params = _segment_join(db, scope.filters, dimension == "theme", dimension == "touchpoint")
        sql = (
            "SELECT day, k, COUNT(*), SUM(neg), SUM(pos AND NOT neg), SUM(lab), 0 FROM ("
            f"SELECT {_DAY} AS day, {key} AS k, MAX(ss.label = 'neg') AS neg, MAX(ss.label = 'pos') AS pos, "
            "MAX(ss.label IS NOT NULL) AS lab "
            f"FROM documents d {joins} LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id "
            f"WHERE d.created_at IS NOT NULL AND {where} AND {seg_where} "
            f"GROUP BY d.id, {key}) GROUP BY day, k"
        )
        return db.execute(sql, params + seg_params).fetchall()
    mentioned, seg_params = _mentioned_by_segments(db, scope.filters)
    key, key_params = _key_column(dimension)
    sql = (
        f"SELECT {_DAY} AS day, {key} AS k, COUNT(*), SUM(ds.label = 'neg'), SUM(ds.label = 'pos'), "
        "SUM(ds.label IS NOT NULL), SUM(ds.label = 'mixed') FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id "
        f"WHERE d.created_at IS NOT NULL AND {where}{mentioned} GROUP BY day, k"
    )
    return db.execute(sql, key_params + params + seg_params).fetchall()


# --- evidence of one key in one period -----------------------------------------------------


def mentions(db: sqlite_utils.Database, dimension: str, key: Any, scope: Scope, period: Period, limit: int) -> list[tuple]:
    """Up to `limit` rows (document, text, sentiment) mentioning the key in the period, negative
    ones first, newest first: segments for themes and touchpoints, documents otherwise."""
    where, params = _period_where(scope, period)
    kc, kp = _key_clause(dimension, key)
    if dimension in SEGMENT_DIMENSIONS:
        joins, seg_where, seg_params = _segment_join(db, scope.filters, dimension == "theme", dimension == "touchpoint")
        sql = (
            f"SELECT d.id, g.text, ss.label FROM documents d {joins} LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id "
            f"WHERE {where} AND {seg_where} AND {kc} "
            "GROUP BY g.id ORDER BY (ss.label = 'neg') DESC, d.created_at DESC, g.id LIMIT ?"
        )
        return db.execute(sql, params + seg_params + kp + [limit]).fetchall()
    mentioned, seg_params = _mentioned_by_segments(db, scope.filters)
    sql = (
        "SELECT d.id, d.clean_text, ds.label FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id "
        f"WHERE {where} AND {kc}{mentioned} ORDER BY (ds.label = 'neg') DESC, d.created_at DESC, d.id LIMIT ?"
    )
    return db.execute(sql, params + kp + seg_params + [limit]).fetchall()


def top_touchpoint(db: sqlite_utils.Database, theme: int, scope: Scope, period: Period) -> str | None:
    """The touchpoint most of the theme's mentions in the period are at (None without touchpoints)."""
    if not segments_have_touchpoints(db):
        return None
    where, params = _period_where(scope, period)
    joins, seg_where, seg_params = _segment_join(db, scope.filters, True, True)
    row = db.execute(
        f"SELECT tp.touchpoint, COUNT(DISTINCT d.id) AS n FROM documents d {joins} "
        f"WHERE {where} AND {seg_where} AND m.target = ? GROUP BY tp.touchpoint ORDER BY n DESC, tp.touchpoint LIMIT 1",
        params + seg_params + [theme],
    ).fetchone()
    return row[0] if row else None


def score_sums(db: sqlite_utils.Database, dimension: str, key: Any, scope: Scope, period: Period) -> tuple[int, float, int, float]:
    """(scored documents, sum of their scores) in the period, then the same for those mentioning the key."""
    where, params = _period_where(scope, period)
    n_all, s_all = db.execute(f"SELECT COUNT(d.score), TOTAL(d.score) FROM documents d WHERE {where}", params).fetchone()
    kc, kp = _key_clause(dimension, key)
    if dimension in SEGMENT_DIMENSIONS:
        joins, seg_where, seg_params = _segment_join(db, scope.filters, dimension == "theme", dimension == "touchpoint")
        mention, mention_params = f"SELECT d.id FROM documents d {joins} WHERE {seg_where} AND {kc}", seg_params + kp
    else:
        mention, mention_params = f"SELECT d.id FROM documents d WHERE {kc}", kp
    n_with, s_with = db.execute(
        f"SELECT COUNT(d.score), TOTAL(d.score) FROM documents d WHERE {where} AND d.id IN ({mention})", params + mention_params
    ).fetchone()
    return n_all, s_all, n_with, s_with
