"""Documents added since the last discovery (by `miner analyze`) get the nearest stored
sub-theme, and their sentences a theme by the same rules as discovery (`placement`), without
refitting."""

from __future__ import annotations

import numpy as np
import sqlite_utils

from ..nlp.encoders.base import Encoder
from ..segments.vectors import load_documents, load_segments
from ..store import transaction
from .placement import Centroids, place_documents, place_segments
from .state import ThemeState


def assign_themes_to_new_segments(db: sqlite_utils.Database, encoder: Encoder) -> dict:
    """Give documents and segments that have none a theme from the stored state, without
    refitting. Only embeddings already in the cache are used (`miner analyze` computes them)."""
    state = ThemeState.load(db)
    if state is None:
        return {"assigned": 0, "outliers": 0, "state": False}
    if state.encoder != encoder.id:
        return {"assigned": 0, "outliers": 0, "state": True, "skipped": f"themes were fitted on {state.encoder}"}
    docs, _ = load_documents(db, encoder, without_theme=True)
    seg, _ = load_segments(db, encoder, without_theme=True)
    if len(docs.ids) == 0 and len(seg.ids) == 0:
        return {"assigned": 0, "outliers": 0, "state": True}
    c = Centroids(state.centroids, state.sub_ids, state.theme_ids, state.theme_centroids, state.theme_centroid_ids)
    d = place_documents(state.space(docs.vectors, docs.langs), c, state.threshold, state.core_threshold)
    # A new sentence's document: placed now, or (a sentence added to an old document) as stored.
    doc_theme = {int(i): (int(t), int(u)) for i, t, u in zip(docs.ids, d.theme, d.sub)}
    missing = sorted({int(x) for x in seg.doc_ids} - doc_theme.keys())
    for i in range(0, len(missing), 900):
        chunk = missing[i : i + 900]
        rows = db.execute(
            f"SELECT document_id, theme_id, subtheme_id FROM document_themes WHERE document_id IN ({','.join('?' * len(chunk))})", chunk
        )
        doc_theme.update({int(x): (-1 if t is None else int(t), -1 if u is None else int(u)) for x, t, u in rows})
    own = np.array([doc_theme.get(int(x), (-1, -1)) for x in seg.doc_ids], dtype=np.int64).reshape(-1, 2)
    s = place_segments(state.space(seg.vectors, seg.langs), own[:, 0], own[:, 1], c, state.segment_threshold)
    with transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO document_themes (document_id, theme_id, subtheme_id, score, method, low_confidence, run_id) "
            "VALUES (?, ?, ?, ?, 'assigned', ?, ?)",
            [(int(i), _none(t), _none(u), round(float(sc), 4), int(lo), state.run_id)
             for i, t, u, sc, lo in zip(docs.ids, d.theme, d.sub, d.score, d.low)],
        )
        db.conn.executemany(
            "INSERT OR REPLACE INTO segment_themes (segment_id, theme_id, subtheme_id, score, method, low_confidence, run_id) "
            "VALUES (?, ?, ?, ?, 'assigned', 0, ?)",
            [(int(i), _none(t), _none(u), round(float(sc), 4), state.run_id) for i, t, u, sc in zip(seg.ids, s.theme, s.sub, s.score)],
        )
        db.execute(
            "UPDATE themes SET size = (SELECT COUNT(*) FROM segment_themes st WHERE st.theme_id = themes.id OR st.subtheme_id = themes.id), "
            "documents = (SELECT COUNT(*) FROM document_themes dt WHERE dt.theme_id = themes.id OR dt.subtheme_id = themes.id) "
            "WHERE status IN ('active', 'archived')"
        )
    return {"assigned": int((d.theme >= 0).sum()), "outliers": int((d.theme < 0).sum()), "segments": len(seg.ids), "state": True}


def _none(x: int) -> int | None:
    return int(x) if x >= 0 else None
