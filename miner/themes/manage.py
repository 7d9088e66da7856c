"""Reading themes and the human edits that every later discovery run keeps.

- rename: `custom_label` wins over the automatic label, for as long as the theme lives.
- merge A.. into B: A's documents, segments, sub-themes and centroids become B's; A points at B.
  Later runs never split B's parts off again.
- split T into k: k-means over T's documents; the children are new themes (T is kept as their
  origin in the edit log). Later runs never merge the children back.
Merge, split, archive and pin act on themes; a sub-theme follows its theme (rename works on both).
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
from ..segments.vectors import group_language, load_documents, load_segments
from ..sparkline import sparkline
from ..store import transaction, utc_now
from .fit import centroids_of, nearest
from .placement import theme_centroids
from .state import ThemeState

STATUSES = ("active", "archived", "merged", "split", "retired")


def _theme(db: sqlite_utils.Database, theme_id: int, live: bool = True, top_level: bool = False) -> dict:
    rows = list(db.query("SELECT * FROM themes WHERE id = ?", [theme_id]))
    if not rows:
        raise UsageError("E810", f"there is no theme {theme_id}.", "See `miner themes list` for the ids.")
    row = rows[0]
    if live and row["status"] not in ("active", "archived"):
        hint = f"It was merged into theme {row['merged_into']}." if row["status"] == "merged" else "Choose an active theme."
        raise UsageError("E811", f"theme {theme_id} is {row['status']}.", hint)
    if top_level and row["level"] != 1:
        raise UsageError("E818", f"{theme_id} is a sub-theme of theme {row['parent_id']}; it follows its theme.",
                         f"Edit theme {row['parent_id']} instead (`miner themes list --tree` shows the tree).")
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
    _theme(db, theme_id, top_level=True)
    sql = _FLAG_UPDATES[action]
    with transaction(db):
        db.execute(sql, [utc_now(), theme_id])
        _log(db, action, theme_id)
    return {"theme": theme_id, "action": action}


def merge(db: sqlite_utils.Database, sources: list[int], into: int) -> dict:
    if into in sources:
        raise UsageError("E813", "a theme cannot be merged into itself.", "Name the other themes with --into's target left out.")
    state = _require_state(db)
    _theme(db, into, top_level=True)
    for t in sources:
        _theme(db, t, top_level=True)
    now = utc_now()
    with transaction(db):
        marks = ",".join("?" * len(sources))
        moved = db.execute(f"UPDATE segment_themes SET theme_id = ? WHERE theme_id IN ({marks})", [into, *sources]).rowcount
        db.execute(f"UPDATE document_themes SET theme_id = ? WHERE theme_id IN ({marks})", [into, *sources])
        db.execute(f"UPDATE themes SET parent_id = ?, updated_at = ? WHERE level = 2 AND parent_id IN ({marks})", [into, now, *sources])
        db.execute(f"UPDATE themes SET status = 'merged', merged_into = ?, size = 0, documents = 0, updated_at = ? WHERE id IN ({marks})",
                   [into, now, *sources])
        _refresh_sizes(db, [into], now)
        state.theme_ids = np.where(np.isin(state.theme_ids, sources), into, state.theme_ids)
        _refresh_theme_centroids(state)
        state.save(db)
        link_themes_to_touchpoints(db)
        for t in sources:
            _log(db, "merge", t, {"into": into})
    return {"into": into, "merged": sources, "segments_moved": moved}


def _refresh_sizes(db: sqlite_utils.Database, theme_ids: list[int], now: str) -> None:
    """Sizes of these themes and of their sub-themes, counted again."""
    subs = [r[0] for t in theme_ids for r in db.execute("SELECT id FROM themes WHERE level = 2 AND parent_id = ?", [t])]
    for t in [*theme_ids, *subs]:
        db.execute(
            "UPDATE themes SET size = (SELECT COUNT(*) FROM segment_themes WHERE theme_id = ? OR subtheme_id = ?), "
            "documents = (SELECT COUNT(*) FROM document_themes WHERE theme_id = ? OR subtheme_id = ?), updated_at = ? WHERE id = ?",
            [t, t, t, t, now, t],
        )


def _refresh_theme_centroids(state: ThemeState) -> None:
    """One centroid per theme again, after themes were merged or split."""
    state.theme_centroids, state.theme_centroid_ids = theme_centroids(state.centroids, state.theme_ids, np.ones(len(state.theme_ids)))


def split(db: sqlite_utils.Database, theme_id: int, parts: int = 2, *, seed: int = 42, encoder=None) -> dict:
    """Split a theme by k-means over its documents (in the space themes were found in)."""
    from sklearn.cluster import KMeans  # only a split needs it

    if not 2 <= parts <= 10:
        raise UsageError("E814", "a theme splits into 2 to 10 parts.", "Use --parts 2..10.")
    state = _require_state(db)
    _theme(db, theme_id, top_level=True)
    encoder = _encoder_for(state, encoder)
    docs, _ = load_documents(db, encoder, theme_id=theme_id)
    if len(docs.ids) < parts * 2:
        raise UsageError("E815", f"theme {theme_id} has {len(docs.ids)} documents: too few to split in {parts}.", "Merge or archive it instead.")
    Z = state.space(docs.vectors, docs.langs)
    order = np.argsort(np.array(docs.keys))  # input order must not matter
    km = KMeans(n_clusters=parts, n_init=10, random_state=seed).fit(Z[order])
    labels = np.empty(len(docs.ids), dtype=np.int64)
    labels[order] = km.labels_
    C = centroids_of(Z, labels, parts)
    idx, score = nearest(Z, C)
    # Sentences of other documents that raised the theme on their own go to their nearest child.
    seg, _ = load_segments(db, encoder, theme_id=theme_id)
    raised = np.flatnonzero(~np.isin(seg.doc_ids, docs.ids))
    seg_idx = nearest(state.space(seg.vectors[raised], [seg.langs[i] for i in raised]), C)[0] if len(raised) else []
    now = utc_now()
    with transaction(db):
        children = [
            db.execute(
                "INSERT INTO themes (label, status, level, label_lang, label_confidence, concept, kind, first_run, last_run, created_at, updated_at) "
                "SELECT label || ' (' || ? || ')', 'active', 1, label_lang, label_confidence, concept, kind, last_run, last_run, ?, ? FROM themes WHERE id = ?",
                [p + 1, now, now, theme_id],
            ).lastrowid
            for p in range(parts)
        ]
        child_of_doc = {int(d): children[i] for d, i in zip(docs.ids, idx)}
        db.conn.executemany("UPDATE document_themes SET theme_id = ?, score = ? WHERE document_id = ?",
                            [(children[i], round(float(sc), 4), int(d)) for d, i, sc in zip(docs.ids, idx, score)])
        db.conn.executemany("UPDATE segment_themes SET theme_id = ? WHERE theme_id = ? AND segment_id IN "
                            "(SELECT id FROM segments WHERE document_id = ?)", [(c, theme_id, d) for d, c in child_of_doc.items()])
        db.conn.executemany("UPDATE segment_themes SET theme_id = ? WHERE segment_id = ?",
                            [(children[i], int(sid)) for sid, i in zip(seg.ids[raised], seg_idx)])
        _reparent_subthemes(db, theme_id, child_of_doc, now)
        for name in ("document_themes", "segment_themes"):  # in another child than its sub-theme: no sub-theme
            db.execute(f"UPDATE {name} SET subtheme_id = NULL WHERE theme_id IN ({','.join('?' * parts)}) AND subtheme_id NOT IN "
                       f"(SELECT id FROM themes WHERE parent_id = {name}.theme_id)", children)
        _refresh_sizes(db, children, now)
        for p, child in enumerate(children):
            _log(db, "split-child", child, {"parent": theme_id})
        db.execute("UPDATE themes SET status = 'split', size = 0, documents = 0, updated_at = ? WHERE id = ?", [now, theme_id])
        keep = state.theme_ids != theme_id
        state.centroids = np.vstack([state.centroids[keep], C]).astype(np.float32)
        state.sub_ids = np.concatenate([state.sub_ids[keep], np.full(parts, -1, dtype=np.int64)])
        state.theme_ids = np.concatenate([state.theme_ids[keep], np.array(children, dtype=np.int64)])
        _refresh_theme_centroids(state)
        state.save(db)
        link_themes_to_touchpoints(db)
        _log(db, "split", theme_id, {"children": children})
    sizes = Counter(int(i) for i in idx)
    return {"theme": theme_id, "children": children, "sizes": [sizes.get(p, 0) for p in range(parts)]}


def _reparent_subthemes(db: sqlite_utils.Database, theme_id: int, child_of_doc: dict[int, int], now: str) -> None:
    """Each sub-theme of a split theme goes to the child holding most of its documents."""
    for (sub,) in db.execute("SELECT id FROM themes WHERE level = 2 AND parent_id = ?", [theme_id]).fetchall():
        votes = Counter(child_of_doc.get(int(d)) for (d,) in db.execute("SELECT document_id FROM document_themes WHERE subtheme_id = ?", [sub]))
        votes.pop(None, None)
        if votes:
            db.execute("UPDATE themes SET parent_id = ?, updated_at = ? WHERE id = ?", [votes.most_common(1)[0][0], now, sub])


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


_MEMBERS = "(st.theme_id = t.id OR st.subtheme_id = t.id)"  # ids are unique across levels
_COUNTS = (
    f"SELECT t.*, (SELECT COUNT(*) FROM segment_themes st WHERE {_MEMBERS}) AS n, "
    f"(SELECT COUNT(DISTINCT s.document_id) FROM segment_themes st JOIN segments s ON s.id = st.segment_id WHERE {_MEMBERS}) AS docs "
    "FROM themes t"
)


def list_themes(db: sqlite_utils.Database, *, include_archived: bool = False, limit: int | None = None, tree: bool = False) -> dict:
    """Themes by size; with `tree`, each with its sub-themes (`children`)."""
    _require_state(db)
    statuses = ("active", "archived") if include_archived else ("active",)
    marks = ",".join("?" * len(statuses))
    total = db.execute("SELECT COUNT(*) FROM segment_themes").fetchone()[0] or 1
    outliers = db.execute("SELECT COUNT(*) FROM segment_themes WHERE theme_id IS NULL").fetchone()[0]
    sentiment, languages = _sentiment_by_theme(db), _languages_by_theme(db)
    rows = list(db.query(f"{_COUNTS} WHERE t.status IN ({marks}) ORDER BY n DESC, t.id", list(statuses)))
    themes = [_summary(r, total, sentiment.get(r["id"]), languages.get(r["id"])) for r in rows if r["level"] == 1]
    if limit:
        themes = themes[:limit]
    if tree:
        children: dict[int, list[dict]] = {}
        for r in rows:
            if r["level"] == 2:
                children.setdefault(r["parent_id"], []).append(_summary(r, total, sentiment.get(r["id"]), languages.get(r["id"])))
        for t in themes:
            t["children"] = children.get(t["id"], [])
    return {"themes": themes, "segments": total, "outliers": outliers, "outlier_share": round(outliers / total, 4)}


def _sentiment_by_theme(db: sqlite_utils.Database) -> dict[int, dict]:
    """Segments by sentiment of every theme and sub-theme."""
    out: dict[int, Counter] = {}
    for t, u, label, n in db.execute(
        "SELECT st.theme_id, st.subtheme_id, ss.label, COUNT(*) FROM segment_themes st "
        "JOIN segment_sentiment ss ON ss.segment_id = st.segment_id WHERE st.theme_id IS NOT NULL "
        "GROUP BY st.theme_id, st.subtheme_id, ss.label"
    ):
        for key in (t, u):
            if key is not None and label in ("neg", "neu", "pos"):
                out.setdefault(key, Counter())[label] += n
    return {t: {k: c.get(k, 0) for k in ("neg", "neu", "pos")} for t, c in out.items()}


def _languages_by_theme(db: sqlite_utils.Database) -> dict[int, dict[str, int]]:
    """Documents per language of every theme and sub-theme, counted now (so after an edit too)."""
    counts: dict[int, Counter] = {}
    # Distinct documents per theme and per sub-theme: a document whose sentences sit in two
    # sub-themes of one theme (after a merge, or two sentences raising it) counts once for it.
    for key, lang, script, n in db.execute(
        "SELECT st.k, d.lang, d.script, COUNT(DISTINCT d.id) FROM (SELECT segment_id, theme_id AS k FROM segment_themes "
        "WHERE theme_id IS NOT NULL UNION ALL SELECT segment_id, subtheme_id FROM segment_themes WHERE subtheme_id IS NOT NULL) st "
        "JOIN segments s ON s.id = st.segment_id JOIN documents d ON d.id = s.document_id GROUP BY st.k, d.lang, d.script"
    ):
        counts.setdefault(key, Counter())[group_language(lang, script)] += n
    return {t: dict(c.most_common()) for t, c in counts.items()}


def _summary(row: dict, total: int, sentiment: dict | None, languages: dict | None = None) -> dict:
    keywords = json.loads(row["keywords"] or "{}")
    return {
        "id": row["id"],
        "label": display_label(row),
        "auto_label": row["label"],
        "label_lang": row["label_lang"],
        "label_confidence": row["label_confidence"],
        "concept": row["concept"],
        "kind": row["kind"] or "complaint",
        "level": row["level"],
        "parent": row["parent_id"] if row["level"] == 2 else None,
        "status": row["status"],
        "pinned": bool(row["pinned"]),
        "segments": row["n"],
        "documents": row["docs"],
        "share": round(row["n"] / total, 4),
        "languages": languages if languages is not None else json.loads(row["languages"] or "{}"),
        "sentiment": sentiment or {},
        "keywords": {lang: [w for w, _ in words] for lang, words in keywords.items()},
    }


def show_theme(db: sqlite_utils.Database, theme_id: int, *, period: str = "month") -> dict:
    _require_state(db)
    _theme(db, theme_id, live=False)
    row = next(db.query(f"{_COUNTS} WHERE t.id = ?", [theme_id]))
    total = db.execute("SELECT COUNT(*) FROM segment_themes").fetchone()[0] or 1
    sent = db.execute(
        "SELECT SUM(ss.label = 'neg'), SUM(ss.label = 'neu'), SUM(ss.label = 'pos') FROM segment_themes st "
        "JOIN segment_sentiment ss ON ss.segment_id = st.segment_id WHERE st.theme_id = ? OR st.subtheme_id = ?",
        [theme_id, theme_id],
    ).fetchone()
    out = _summary(row, total, {"neg": sent[0] or 0, "neu": sent[1] or 0, "pos": sent[2] or 0}, _languages_by_theme(db).get(theme_id, {}))
    out["children"] = [
        {"id": r["id"], "label": display_label(r), "documents": r["docs"], "label_confidence": r["label_confidence"]}
        for r in db.query(f"{_COUNTS} WHERE t.level = 2 AND t.parent_id = ? AND t.status IN ('active', 'archived') ORDER BY docs DESC, t.id", [theme_id])
    ]
    out["keywords_weighted"] = json.loads(row["keywords"] or "{}")
    fmt = {"day": "%Y-%m-%d", "week": "%Y-W%W", "month": "%Y-%m"}[period]
    series = list(
        db.execute(
            "SELECT strftime(?, d.created_at) AS p, COUNT(DISTINCT d.id) FROM segment_themes st "
            "JOIN segments s ON s.id = st.segment_id JOIN documents d ON d.id = s.document_id "
            "WHERE (st.theme_id = ? OR st.subtheme_id = ?) AND d.created_at IS NOT NULL GROUP BY p ORDER BY p",
            [fmt, theme_id, theme_id],
        )
    )
    seen = db.execute(
        "SELECT MIN(d.created_at), MAX(d.created_at) FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
        "JOIN documents d ON d.id = s.document_id WHERE st.theme_id = ? OR st.subtheme_id = ?",
        [theme_id, theme_id],
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
        "SELECT COUNT(*) FROM segment_themes WHERE (theme_id = ? OR subtheme_id = ?) AND low_confidence = 1", [theme_id, theme_id]
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
