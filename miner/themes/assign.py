"""Segments added since the last discovery (by `miner analyze`) get the nearest stored
centroid, without refitting."""

from __future__ import annotations

import numpy as np
import sqlite_utils

from ..nlp.encoders.base import Encoder
from ..segments.vectors import load_segments
from ..store import transaction
from .fit import nearest
from .state import ThemeState


def assign_themes_to_new_segments(db: sqlite_utils.Database, encoder: Encoder) -> dict:
    """Give segments that have none a theme from the stored state, without refitting.
    Only embeddings already in the cache are used (`miner analyze` computes them)."""
    state = ThemeState.load(db)
    if state is None:
        return {"assigned": 0, "outliers": 0, "state": False}
    if state.encoder != encoder.id:
        return {"assigned": 0, "outliers": 0, "state": True, "skipped": f"themes were fitted on {state.encoder}"}
    seg, _ = load_segments(db, encoder, without_theme=True)
    if len(seg.ids) == 0:
        return {"assigned": 0, "outliers": 0, "state": True}
    Z = state.debias.transform(seg.vectors, seg.langs)
    idx, score = nearest(Z, state.centroids)
    ids = state.theme_ids[idx] if len(state.theme_ids) else np.full(len(idx), -1)
    theme_of = np.where(score >= state.threshold, ids, -1)
    with transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO segment_themes (segment_id, theme_id, score, method, low_confidence, run_id) VALUES (?, ?, ?, 'assigned', ?, ?)",
            [
                (int(s), int(t) if t >= 0 else None, round(float(sc), 4), int(t >= 0 and sc < state.core_threshold), state.run_id)
                for s, t, sc in zip(seg.ids, theme_of, score)
            ],
        )
        db.execute(
            "UPDATE themes SET size = (SELECT COUNT(*) FROM segment_themes st WHERE st.theme_id = themes.id) "
            "WHERE status IN ('active', 'archived')"
        )
    return {"assigned": int((theme_of >= 0).sum()), "outliers": int((theme_of < 0).sum()), "state": True}
