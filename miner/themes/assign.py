"""Documents added since the last discovery (by `miner analyze`) get the nearest stored
sub-theme, and their sentences a theme by the same rules as discovery (`placement`), without
refitting.

The work is a pure function over vectors (`place_new`), so that `miner analyze --engine ray`
runs it in its workers on each batch's fresh vectors; the store's reads and writes stay here."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from ..nlp.encoders.base import Encoder
from ..segments.vectors import Documents, Segments, load_documents, load_segments
from ..store import transaction
from .placement import Centroids, place_documents, place_segments
from .state import ThemeState


@dataclass
class NewThemes:
    """Rows for `document_themes` and `segment_themes` (without the run id), and the counts."""

    documents: list[tuple] = field(default_factory=list)  # (document id, theme, sub-theme, score, low confidence)
    segments: list[tuple] = field(default_factory=list)  # (segment id, theme, sub-theme, score)
    assigned: int = 0
    outliers: int = 0


@dataclass
class ThemeCounts:
    """What a run placed: documents with a theme, documents without, sentences."""

    assigned: int = 0
    outliers: int = 0
    segments: int = 0

    def add(self, new: NewThemes) -> None:
        self.assigned += new.assigned
        self.outliers += new.outliers
        self.segments += len(new.segments)


def theme_state_for(db: sqlite_utils.Database, encoder_id: str) -> tuple[ThemeState | None, dict]:
    """The stored state when new segments can join it; else None and the summary that says why."""
    state = ThemeState.load(db)
    if state is None:
        return None, {"assigned": 0, "outliers": 0, "state": False}
    if state.encoder != encoder_id:
        return None, {"assigned": 0, "outliers": 0, "state": True, "skipped": f"themes were fitted on {state.encoder}"}
    return state, {}


def assign_themes_to_new_segments(db: sqlite_utils.Database, encoder: Encoder, done: ThemeCounts | None = None) -> dict:
    """Give documents and segments that have none a theme from the stored state, without
    refitting. Only embeddings already in the cache are used (`miner analyze` computes them).
    `done`: what was placed (and written) elsewhere in this run, counted in the summary."""
    state, why = theme_state_for(db, encoder.id)
    if state is None:
        return why
    docs, _ = load_documents(db, encoder, without_theme=True)
    seg, _ = load_segments(db, encoder, without_theme=True)
    counts = ThemeCounts(**(done.__dict__ if done else {}))
    if len(docs.ids) or len(seg.ids):
        new = place_new(state, docs, seg, stored_document_themes(db, _unplaced_documents(docs, seg)))
        counts.add(new)
        with transaction(db):
            write_new_themes(db, new, state.run_id)
            update_theme_sizes(db)
    elif done is not None:  # rows written elsewhere in this run, or by an interrupted one
        with transaction(db):
            update_theme_sizes(db)
    if counts == ThemeCounts():
        return {"assigned": 0, "outliers": 0, "state": True}
    return {"assigned": counts.assigned, "outliers": counts.outliers, "segments": counts.segments, "state": True}


def place_new(state: ThemeState, docs: Documents, seg: Segments, stored: dict[int, tuple[int, int]]) -> NewThemes:
    """Places of new documents and sentences (pure). A sentence's document is placed here or,
    for a sentence added to an older document, given in `stored` (document -> (theme, sub), -1 = none)."""
    c = Centroids(state.centroids, state.sub_ids, state.theme_ids, state.theme_centroids, state.theme_centroid_ids)
    d = place_documents(state.space(docs.vectors, docs.langs), c, state.threshold, state.core_threshold)
    doc_theme = dict(stored)
    doc_theme.update({int(i): (int(t), int(u)) for i, t, u in zip(docs.ids, d.theme, d.sub)})
    own = np.array([doc_theme.get(int(x), (-1, -1)) for x in seg.doc_ids], dtype=np.int64).reshape(-1, 2)
    s = place_segments(state.space(seg.vectors, seg.langs), own[:, 0], own[:, 1], c, state.segment_threshold)
    return NewThemes(
        [(int(i), _none(t), _none(u), round(float(sc), 4), int(lo)) for i, t, u, sc, lo in zip(docs.ids, d.theme, d.sub, d.score, d.low)],
        [(int(i), _none(t), _none(u), round(float(sc), 4)) for i, t, u, sc in zip(seg.ids, s.theme, s.sub, s.score)],
        int((d.theme >= 0).sum()), int((d.theme < 0).sum()),
    )


def themed_segments(db: sqlite_utils.Database, seg_ids: list[int]) -> set[int]:
    """Those of these segments that a theme run has seen."""
    out: set[int] = set()
    for i in range(0, len(seg_ids), 900):
        chunk = seg_ids[i : i + 900]
        out.update(r[0] for r in db.execute(f"SELECT segment_id FROM segment_themes WHERE segment_id IN ({','.join('?' * len(chunk))})", chunk))
    return out


def _unplaced_documents(docs: Documents, seg: Segments) -> list[int]:
    """Documents of new sentences that are not placed with them (they hold a place already)."""
    return sorted({int(x) for x in seg.doc_ids} - {int(i) for i in docs.ids})


def stored_document_themes(db: sqlite_utils.Database, doc_ids: list[int]) -> dict[int, tuple[int, int]]:
    """The stored (theme, sub-theme) of these documents (-1 = none), for those that have a row."""
    out = {}
    for i in range(0, len(doc_ids), 900):
        chunk = doc_ids[i : i + 900]
        rows = db.execute(
            f"SELECT document_id, theme_id, subtheme_id FROM document_themes WHERE document_id IN ({','.join('?' * len(chunk))})", chunk
        )
        out.update({int(x): (-1 if t is None else int(t), -1 if u is None else int(u)) for x, t, u in rows})
    return out


def write_new_themes(db: sqlite_utils.Database, new: NewThemes, run_id: int) -> None:
    """The rows, in the caller's transaction."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO document_themes (document_id, theme_id, subtheme_id, score, method, low_confidence, run_id) "
        "VALUES (?, ?, ?, ?, 'assigned', ?, ?)",
        [(*r, run_id) for r in new.documents],
    )
    db.conn.executemany(
        "INSERT OR REPLACE INTO segment_themes (segment_id, theme_id, subtheme_id, score, method, low_confidence, run_id) "
        "VALUES (?, ?, ?, ?, 'assigned', 0, ?)",
        [(*r, run_id) for r in new.segments],
    )


def update_theme_sizes(db: sqlite_utils.Database) -> None:
    db.execute(
        "UPDATE themes SET size = (SELECT COUNT(*) FROM segment_themes st WHERE st.theme_id = themes.id OR st.subtheme_id = themes.id), "
        "documents = (SELECT COUNT(*) FROM document_themes dt WHERE dt.theme_id = themes.id OR dt.subtheme_id = themes.id) "
        "WHERE status IN ('active', 'archived')"
    )


def _none(x: int) -> int | None:
    return int(x) if x >= 0 else None
