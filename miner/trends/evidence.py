"""What an alert carries besides its figures: quotes, the touchpoint where it hurts, and impact on scores."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from .periods import Period
from .series import Scope, has_touchpoints, segment_join

QUOTE_CHARS = 240


def _period_scope(scope: Scope, period: Period) -> tuple[str, list]:
    return (
        f"{scope.sql()} AND d.created_at >= ? AND d.created_at < ?",
        scope.params + [period.start.isoformat(), period.end.isoformat()],
    )


def _key_clause(dimension: str, key: Any) -> tuple[str, list]:
    column = {"theme": "m.target", "touchpoint": "tp.touchpoint", "channel": "d.channel", "lang": "d.lang"}[dimension]
    return (f"{column} IS NULL", []) if key is None else (f"{column} = ?", [key])


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def quotes(db: sqlite_utils.Database, dimension: str, key: Any, filters: dict, scope: Scope, period: Period, limit: int = 3) -> list[dict]:
    """Up to `limit` mentions from the period, negative ones first, newest first."""
    where, params = _period_scope(scope, period)
    kc, kp = _key_clause(dimension, key)
    if dimension in ("theme", "touchpoint"):
        joins, sw, sp = segment_join(db, filters, dimension == "theme", dimension == "touchpoint")
        sql = (
            f"SELECT d.id, g.text, ss.label FROM documents d {joins} LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id "
            f"WHERE {where} AND {' AND '.join(sw)} AND {kc} "
            "GROUP BY g.id ORDER BY (ss.label = 'neg') DESC, d.created_at DESC, g.id LIMIT ?"
        )
        rows = db.execute(sql, params + sp + kp + [limit * 4]).fetchall()
    else:
        extra, sp = "", []
        if filters.get("theme") or filters.get("touchpoint"):
            joins, sw, sp = segment_join(db, filters, False, False)
            extra = f" AND d.id IN (SELECT d.id FROM documents d {joins} WHERE {' AND '.join(sw)})"
        sql = (
            "SELECT d.id, d.clean_text, ds.label FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id "
            f"WHERE {where} AND {kc}{extra} ORDER BY (ds.label = 'neg') DESC, d.created_at DESC, d.id LIMIT ?"
        )
        rows = db.execute(sql, params + kp + sp + [limit * 4]).fetchall()
    out, seen = [], set()
    for doc_id, text, label in rows:  # one quote per document
        if doc_id in seen:
            continue
        seen.add(doc_id)
        out.append({"document_id": doc_id, "text": _trim(text), "sentiment": label})
        if len(out) == limit:
            break
    return out


def top_touchpoint(db: sqlite_utils.Database, theme: int, filters: dict, scope: Scope, period: Period) -> str | None:
    """The touchpoint most of the theme's mentions in the period are at (None without touchpoints)."""
    if not has_touchpoints(db):
        return None
    where, params = _period_scope(scope, period)
    joins, sw, sp = segment_join(db, filters, True, True)
    row = db.execute(
        f"SELECT tp.touchpoint, COUNT(DISTINCT d.id) AS n FROM documents d {joins} "
        f"WHERE {where} AND {' AND '.join(sw)} AND m.target = ? GROUP BY tp.touchpoint ORDER BY n DESC, tp.touchpoint LIMIT 1",
        params + sp + [theme],
    ).fetchone()
    return row[0] if row else None


def impact(db: sqlite_utils.Database, dimension: str, key: Any, filters: dict, scope: Scope, period: Period) -> float | None:
    """Mean score of all documents of the period minus the mean without the key's documents.

    Negative: the key drags the score down. None when too few documents carry a score.
    """
    where, params = _period_scope(scope, period)
    n_all, s_all = db.execute(f"SELECT COUNT(d.score), TOTAL(d.score) FROM documents d WHERE {where}", params).fetchone()
    kc, kp = _key_clause(dimension, key)
    if dimension in ("theme", "touchpoint"):
        joins, sw, sp = segment_join(db, filters, dimension == "theme", dimension == "touchpoint")
        mention = f"SELECT d.id FROM documents d {joins} WHERE {' AND '.join(sw)} AND {kc}"
        mp = sp + kp
    else:
        mention = f"SELECT d.id FROM documents d WHERE {kc}"
        mp = kp
    n_with, s_with = db.execute(
        f"SELECT COUNT(d.score), TOTAL(d.score) FROM documents d WHERE {where} AND d.id IN ({mention})", params + mp
    ).fetchone()
    if n_all < 2 or n_all - n_with < 1:
        return None
    return s_all / n_all - (s_all - s_with) / (n_all - n_with)
