"""Reading themes and the human edits that every later discovery run keeps.

- rename: `custom_label` wins over the automatic label, for as long as the theme lives.
- merge A.. into B: A's segments and centroids become B's; A points at B. Later runs never
  split B's parts off again.
- split T into k: k-means over T's segments; the children are new themes whose parent is T.
  Later runs never merge the children back.
- archive / unarchive: hidden from lists and backlogs, still matched and assigned.
- pin / unpin: a pinned theme is never retired or merged away by a later run.
Every edit is logged in `theme_edits`.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import sqlite_utils

from ..errors import UsageError
from ..nlp.encoders.registry import get_encoder
from ..segments.links import link_themes_to_touchpoints
from ..segments.vectors import load_segments
from ..sparkline import sparkline
from ..store import transaction, utc_now
from .fit import centroids_of, nearest
from .state import ThemeState

STATUSES = ("active", "archived", "merged", "split", "retired")


def _theme(db: sqlite_utils.Database, theme_id: int, live: bool = True) -> dict:
    rows = list(db.query("SELECT * FROM themes WHERE id = ?", [theme_id]))
    if not rows:
        raise UsageError("E810", f"there is no theme {theme_id}.", "See `miner themes list` for the ids.")
    row = rows[0]
    if live and row["status"] not in ("active", "archived"):
        hint = f"It was merged into theme {row['merged_into']}." if row["status"] == "merged" else "Choose an active theme."
        raise UsageError("E811", f"theme {theme_id} is {row['status']}.", hint)
    return row


def _require_state(db: sqlite_utils.Database) -> ThemeState:
    state = ThemeState.load(db)
    if state is None:
        raise UsageError("E802", "no themes have been discovered in this database.", "Run `miner themes discover` first.")
    return state


def _log(db: sqlite_utils.Database, action: str, theme_id: int, payload: dict | None = None) -> None:
    db.execute(
        "INSERT INTO theme_edits (at, action, theme_id, payload) VALUES (?, ?, ?, ?)",
        [utc_now(), action, theme_id, json.dumps(payload or {})],
    )


def rename(db: sqlite_utils.Database, theme_id: int, label: str) -> dict:
    label = " ".join(label.split())
    if not label or len(label) > 120:
        raise UsageError("E812", "a theme label must have 1 to 120 characters.", "Give a short phrase.")
    _theme(db, theme_id)
    with transaction(db):
        db.execute("UPDATE themes SET custom_label = ?, updated_at = ? WHERE id = ?", [label, utc_now(), theme_id])
        _log(db, "rename", theme_id, {"label": label})
    return {"theme": theme_id, "label": label}


_FLAG_UPDATES = {
    "archive": "UPDATE themes SET status = 'archived', updated_at = ? WHERE id = ?",
    "unarchive": "UPDATE themes SET status = 'active', updated_at = ? WHERE id = ?",
    "pin": "UPDATE themes SET pinned = 1, updated_at = ? WHERE id = ?",
    "unpin": "UPDATE themes SET pinned = 0, updated_at = ? WHERE id = ?",
}


def set_flag(db: sqlite_utils.Database, theme_id: int, action: str) -> dict:
    """archive | unarchive | pin | unpin."""
    _theme(db, theme_id)
    sql = _FLAG_UPDATES[action]
    with transaction(db):
        db.execute(sql, [utc_now(), theme_id])
        _log(db, action, theme_id)
    return {"theme": theme_id, "action": action}


def merge(db: sqlite_utils.Database, sources: list[int], into: int) -> dict:
    if into in sources:
        raise UsageError("E813", "a theme cannot be merged into itself.", "Name the other themes with --into's target left out.")
    state = _require_state(db)
    _theme(db, into)
    for t in sources:
        _theme(db, t)
    now = utc_now()
    with transaction(db):
        marks = ",".join("?" * len(sources))
        moved = db.execute(f"UPDATE segment_themes SET theme_id = ? WHERE theme_id IN ({marks})", [into, *sources]).rowcount
        db.execute(f"UPDATE themes SET status = 'merged', merged_into = ?, size = 0, updated_at = ? WHERE id IN ({marks})", [into, now, *sources])
        db.execute(
            "UPDATE themes SET size = (SELECT COUNT(*) FROM segment_themes WHERE theme_id = ?), updated_at = ? WHERE id = ?",
            [into, now, into],
        )
        state.theme_ids = np.where(np.isin(state.theme_ids, sources), into, state.theme_ids)
        state.save(db)
        link_themes_to_touchpoints(db)
        for t in sources:
            _log(db, "merge", t, {"into": into})
    return {"into": into, "merged": sources, "segments_moved": moved}


def split(db: sqlite_utils.Database, theme_id: int, parts: int = 2, *, seed: int = 42, encoder=None) -> dict:
    """Split a theme by k-means over its segments' (debiased) embeddings."""
    from sklearn.cluster import KMeans  # only a split needs it

    if not 2 <= parts <= 10:
        raise UsageError("E814", "a theme splits into 2 to 10 parts.", "Use --parts 2..10.")
    state = _require_state(db)
    _theme(db, theme_id)
    encoder = _encoder_for(state, encoder)
    seg, _ = load_segments(db, encoder, theme_id=theme_id)
    if len(seg.ids) < parts * 2:
        raise UsageError("E815", f"theme {theme_id} has {len(seg.ids)} segments: too few to split in {parts}.", "Merge or archive it instead.")
    Z = state.debias.transform(seg.vectors, seg.langs)
    order = np.argsort(np.array(seg.keys))  # input order must not matter
    km = KMeans(n_clusters=parts, n_init=10, random_state=seed).fit(Z[order])
    labels = np.empty(len(seg.ids), dtype=np.int64)
    labels[order] = km.labels_
    C = centroids_of(Z, labels, parts)
    idx, score = nearest(Z, C)
    now = utc_now()
    children = []
    with transaction(db):
        for p in range(parts):
            children.append(
                db.execute(
                    "INSERT INTO themes (label, status, parent_id, first_run, last_run, created_at, updated_at) "
                    "SELECT label || ' (' || ? || ')', 'active', id, last_run, last_run, ?, ? FROM themes WHERE id = ?",
                    [p + 1, now, now, theme_id],
                ).lastrowid
            )
        db.conn.executemany(
            "UPDATE segment_themes SET theme_id = ?, score = ? WHERE segment_id = ?",
            [(children[i], round(float(s), 4), int(sid)) for sid, i, s in zip(seg.ids, idx, score)],
        )
        sizes = Counter(int(i) for i in idx)
        for p, child in enumerate(children):
            db.execute("UPDATE themes SET size = ? WHERE id = ?", [sizes.get(p, 0), child])
            _log(db, "split-child", child, {"parent": theme_id})
        db.execute("UPDATE themes SET status = 'split', size = 0, updated_at = ? WHERE id = ?", [now, theme_id])
        keep = state.theme_ids != theme_id
        state.centroids = np.vstack([state.centroids[keep], C]).astype(np.float32)
        state.theme_ids = np.concatenate([state.theme_ids[keep], np.array(children, dtype=np.int64)])
        state.save(db)
        link_themes_to_touchpoints(db)
        _log(db, "split", theme_id, {"children": children})
    return {"theme": theme_id, "children": children, "sizes": [sizes.get(p, 0) for p in range(parts)]}


def _encoder_for(state: ThemeState, encoder=None):
    """The encoder the state was fitted with, or a clear error."""
    encoder = encoder or get_encoder(None, lazy=True)
    if encoder.id != state.encoder:
        raise UsageError(
            "E804", f"themes were fitted with encoder {state.encoder}, not {encoder.id}.",
            "Pass the same --encoder as `miner themes discover`.",
        )
    return encoder


def display_label(row: dict) -> str:
    return row.get("custom_label") or row.get("label") or f"theme {row['id']}"


def list_themes(db: sqlite_utils.Database, *, include_archived: bool = False, limit: int | None = None) -> dict:
    _require_state(db)
    statuses = ("active", "archived") if include_archived else ("active",)
    marks = ",".join("?" * len(statuses))
    total = db.execute("SELECT COUNT(*) FROM segment_themes").fetchone()[0] or 1
    outliers = db.execute("SELECT COUNT(*) FROM segment_themes WHERE theme_id IS NULL").fetchone()[0]
    sentiment = {
        t: {"neg": neg, "neu": neu, "pos": pos}
        for t, neg, neu, pos in db.execute(
            "SELECT st.theme_id, SUM(ss.label = 'neg'), SUM(ss.label = 'neu'), SUM(ss.label = 'pos') "
            "FROM segment_themes st JOIN segment_sentiment ss ON ss.segment_id = st.segment_id "
            "WHERE st.theme_id IS NOT NULL GROUP BY st.theme_id"
        )
    }
    themes = []
    for row in db.query(
        f"SELECT t.*, (SELECT COUNT(*) FROM segment_themes st WHERE st.theme_id = t.id) AS n, "
        f"(SELECT COUNT(DISTINCT s.document_id) FROM segment_themes st JOIN segments s ON s.id = st.segment_id WHERE st.theme_id = t.id) AS docs "
        f"FROM themes t WHERE t.status IN ({marks}) ORDER BY n DESC, t.id",
        list(statuses),
    ):
        themes.append(_summary(row, total, sentiment.get(row["id"])))
    if limit:
        themes = themes[:limit]
    return {"themes": themes, "segments": total, "outliers": outliers, "outlier_share": round(outliers / total, 4)}


def _summary(row: dict, total: int, sentiment: dict | None) -> dict:
    keywords = json.loads(row["keywords"] or "{}")
    return {
        "id": row["id"],
        "label": display_label(row),
        "auto_label": row["label"],
        "status": row["status"],
        "pinned": bool(row["pinned"]),
        "segments": row["n"],
        "documents": row["docs"],
        "share": round(row["n"] / total, 4),
        "languages": json.loads(row["languages"] or "{}"),
        "sentiment": sentiment or {},
        "keywords": {lang: [w for w, _ in words] for lang, words in keywords.items()},
        "parent": row["parent_id"],
    }


def show_theme(db: sqlite_utils.Database, theme_id: int, *, period: str = "month") -> dict:
    _require_state(db)
    _theme(db, theme_id, live=False)
    row = next(
        db.query(
            "SELECT t.*, (SELECT COUNT(*) FROM segment_themes st WHERE st.theme_id = t.id) AS n, "
            "(SELECT COUNT(DISTINCT s.document_id) FROM segment_themes st JOIN segments s ON s.id = st.segment_id WHERE st.theme_id = t.id) AS docs "
            "FROM themes t WHERE t.id = ?",
            [theme_id],
        )
    )
    total = db.execute("SELECT COUNT(*) FROM segment_themes").fetchone()[0] or 1
    sent = db.execute(
        "SELECT SUM(ss.label = 'neg'), SUM(ss.label = 'neu'), SUM(ss.label = 'pos') FROM segment_themes st "
        "JOIN segment_sentiment ss ON ss.segment_id = st.segment_id WHERE st.theme_id = ?",
        [theme_id],
    ).fetchone()
    out = _summary(row, total, {"neg": sent[0] or 0, "neu": sent[1] or 0, "pos": sent[2] or 0})
    out["keywords_weighted"] = json.loads(row["keywords"] or "{}")
    fmt = {"day": "%Y-%m-%d", "week": "%Y-W%W", "month": "%Y-%m"}[period]
    series = list(
        db.execute(
            "SELECT strftime(?, d.created_at) AS p, COUNT(DISTINCT d.id) FROM segment_themes st "
            "JOIN segments s ON s.id = st.segment_id JOIN documents d ON d.id = s.document_id "
            "WHERE st.theme_id = ? AND d.created_at IS NOT NULL GROUP BY p ORDER BY p",
            [fmt, theme_id],
        )
    )
    seen = db.execute(
        "SELECT MIN(d.created_at), MAX(d.created_at) FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
        "JOIN documents d ON d.id = s.document_id WHERE st.theme_id = ?",
        [theme_id],
    ).fetchone()
    out["first_seen"], out["last_seen"] = seen
    out["volume"] = {"period": period, "series": [{"period": p, "documents": n} for p, n in series]}
    out["sparkline"] = sparkline([n for _, n in series])
    quotes = json.loads(row["quotes"] or "{}")
    out["quotes"] = {}
    for lang, ids in quotes.items():
        if ids:
            marks = ",".join("?" * len(ids))
            texts = {sid: text for sid, text in db.execute(f"SELECT id, text FROM segments WHERE id IN ({marks})", ids)}
            out["quotes"][lang] = [texts[i] for i in ids if i in texts]
    out["low_confidence"] = db.execute(
        "SELECT COUNT(*) FROM segment_themes WHERE theme_id = ? AND low_confidence = 1", [theme_id]
    ).fetchone()[0]
    out["lineage"] = [
        dict(r) for r in db.query(
            "SELECT run_id, event, related_theme_id, overlap FROM theme_lineage WHERE theme_id = ? OR related_theme_id = ? ORDER BY run_id",
            [theme_id, theme_id],
        )
    ]
    out["edits"] = [dict(r) for r in db.query("SELECT at, action, payload FROM theme_edits WHERE theme_id = ? ORDER BY id", [theme_id])]
    return out


def lineage(db: sqlite_utils.Database, run_id: int | None = None) -> list[dict]:
    run_id = run_id or db.execute("SELECT MAX(id) FROM theme_runs WHERE status = 'done'").fetchone()[0]
    return [
        dict(r) for r in db.query(
            "SELECT l.theme_id, l.event, l.related_theme_id, l.overlap, COALESCE(t.custom_label, t.label) AS label "
            "FROM theme_lineage l JOIN themes t ON t.id = l.theme_id WHERE l.run_id = ? ORDER BY l.event, l.theme_id",
            [run_id],
        )
    ]
