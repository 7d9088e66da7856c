"""The few counts the report reads straight from the store, each scoped the same way as
`miner trends`: original (`duplicate_of IS NULL`), informative documents, from `since` on.
Statements are fixed text with ? placeholders only."""

from __future__ import annotations

from datetime import date

import sqlite_utils

from ..segments.vectors import group_language

_SCOPE = "d.duplicate_of IS NULL AND d.informative = 1"
_SINCE = " AND d.created_at >= ?"


def _where(since: date | None) -> tuple[str, list]:
    return (_SCOPE + _SINCE, [since.isoformat()]) if since else (_SCOPE, [])


def documents(db: sqlite_utils.Database, since: date | None) -> dict:
    """Documents in scope, their first and last day, and the store's documents in all."""
    where, params = _where(since)
    n, first, last = db.execute(
        f"SELECT COUNT(*), MIN(substr(d.created_at, 1, 10)), MAX(substr(d.created_at, 1, 10)) FROM documents d WHERE {where}", params
    ).fetchone()
    undated = db.execute(f"SELECT COUNT(*) FROM documents d WHERE {where} AND d.created_at IS NULL", params).fetchone()[0]
    total = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    copies = db.execute("SELECT COUNT(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone()[0]
    return {"documents": n, "first_day": first, "last_day": last, "undated": undated, "stored": total, "copies": copies}


def languages(db: sqlite_utils.Database, since: date | None) -> dict[str, int]:
    where, params = _where(since)
    out: dict[str, int] = {}
    for lang, script, n in db.execute(f"SELECT d.lang, d.script, COUNT(*) FROM documents d WHERE {where} GROUP BY d.lang, d.script", params):
        key = group_language(lang, script)
        out[key] = out.get(key, 0) + n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def channels(db: sqlite_utils.Database, since: date | None) -> dict[str, int]:
    where, params = _where(since)
    rows = db.execute(f"SELECT COALESCE(d.channel, ''), COUNT(*) FROM documents d WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1", params)
    return {ch or "(none)": n for ch, n in rows}


def sentiment_mix(db: sqlite_utils.Database, since: date | None, start: str | None = None, end: str | None = None) -> dict[str, int]:
    """Documents by sentiment label (`none`: not analyzed); `start`/`end` (ISO days, end
    excluded) narrow the window further."""
    where, params = _where(since)
    if start:
        where, params = where + " AND d.created_at >= ?", params + [start]
    if end:
        where, params = where + " AND d.created_at < ?", params + [end]
    out = {"neg": 0, "neu": 0, "pos": 0, "none": 0}
    for label, n in db.execute(
        f"SELECT ds.label, COUNT(*) FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id WHERE {where} GROUP BY 1",
        params,
    ):
        out[label if label in out else "none"] += n
    return out


def document_ids(db: sqlite_utils.Database, since: date | None) -> set[int]:
    """Original documents from `since` on, informative or not (scores count every response)."""
    if since is None:
        return {r[0] for r in db.execute("SELECT id FROM documents WHERE duplicate_of IS NULL")}
    return {r[0] for r in db.execute("SELECT id FROM documents WHERE duplicate_of IS NULL AND created_at >= ?", [since.isoformat()])}


def theme_languages(db: sqlite_utils.Database, since: date | None, targets: dict[int, int]) -> dict[int, dict[str, int]]:
    """Documents per language of every theme (merged themes counted in the theme they ended in)."""
    where, params = _where(since)
    counts: dict[int, dict[str, int]] = {}
    for theme, lang, script, n in db.execute(
        "SELECT st.theme_id, d.lang, d.script, COUNT(DISTINCT d.id) FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
        f"JOIN documents d ON d.id = s.document_id WHERE st.theme_id IS NOT NULL AND s.informative = 1 AND {where} "
        "GROUP BY st.theme_id, d.lang, d.script",
        params,
    ):
        t = targets.get(theme, theme)
        key = group_language(lang, script)
        counts.setdefault(t, {})
        counts[t][key] = counts[t].get(key, 0) + n
    return {t: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for t, c in counts.items()}


def segment_texts(db: sqlite_utils.Database, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """Segment id -> (text, language) for quotes."""
    out: dict[int, tuple[str, str | None]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for sid, text, lang, script in db.execute(f"SELECT id, text, lang, script FROM segments WHERE id IN ({marks})", chunk):
            out[sid] = (text, group_language(lang, script))
    return out


def theme_rows(db: sqlite_utils.Database) -> list[dict]:
    """Every theme's stored description (labels, keywords, quotes, parent)."""
    return [dict(r) for r in db.query(
        "SELECT id, level, parent_id, label, custom_label, label_lang, label_confidence, concept, kind, status, documents, "
        "keywords, quotes FROM themes ORDER BY id"
    )]


def theme_touchpoints(db: sqlite_utils.Database) -> dict[int, list[dict]]:
    if not db["theme_touchpoints"].exists():
        return {}
    out: dict[int, list[dict]] = {}
    for theme, key, label, weight, segs in db.execute(
        "SELECT tt.theme_id, tt.touchpoint, COALESCE(tp.label, tt.touchpoint), tt.weight, tt.segments FROM theme_touchpoints tt "
        "LEFT JOIN touchpoints tp ON tp.key = tt.touchpoint ORDER BY tt.theme_id, tt.weight DESC"
    ):
        out.setdefault(theme, []).append({"touchpoint": key, "label": label, "weight": weight, "segments": segs})
    return out


def touchpoints(db: sqlite_utils.Database) -> list[dict]:
    """The taxonomy in journey order."""
    return [dict(r) for r in db.query("SELECT key, stage, label, owner FROM touchpoints ORDER BY rowid")]


def centroids(db: sqlite_utils.Database) -> bytes | None:
    row = db.execute("SELECT value FROM theme_state WHERE key = 'centroids'").fetchone()
    return row[0] if row else None


def alerts(db: sqlite_utils.Database, since: date | None, limit: int) -> list[dict]:
    where, params = ("WHERE raised_at >= ?", [since.isoformat()]) if since else ("", [])
    return [dict(r) for r in db.query(
        f"SELECT id, rule, dimension, key, label, granularity, period, kind, severity, owner, raised_at, delivery FROM alerts {where} "
        "ORDER BY raised_at DESC, id LIMIT ?", [*params, limit]
    )]


def last_run_lexicon(db: sqlite_utils.Database) -> str | None:
    """The user lexicon file the last theme run used, if any."""
    import json

    row = db.execute("SELECT params FROM theme_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1").fetchone()
    try:
        return (json.loads(row[0]) if row and row[0] else {}).get("lexicon")
    except ValueError:
        return None
