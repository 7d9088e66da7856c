"""The informative segments of the store, with their vectors from the embedding cache
(embedding only what the cache lacks): the input of theme discovery, theme assignment,
theme splits and touchpoint assignment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from ..nlp.cache import EmbeddingCache, EmbedStats, embed_texts, text_hash
from ..nlp.encoders.base import Encoder
from ..nlp.textprep import encoder_input

_INFORMATIVE = (
    "SELECT s.id, s.document_id, s.text, COALESCE(d.lang, 'und'), d.duplicate_of IS NULL "
    "FROM segments s JOIN documents d ON d.id = s.document_id WHERE s.informative = 1 AND d.informative = 1"
)
_WITHOUT_THEME = " AND s.id NOT IN (SELECT segment_id FROM segment_themes)"
_AFTER = " AND s.id > ?"
_OF_THEME = " AND s.id IN (SELECT segment_id FROM segment_themes WHERE theme_id = ?)"


@dataclass
class Segments:
    ids: np.ndarray
    doc_ids: np.ndarray
    texts: list[str]
    langs: list[str]
    original: np.ndarray  # bool: the document is not a duplicate (only originals are fitted)
    vectors: np.ndarray
    keys: list[str] = field(default_factory=list)  # hash of the text embedded: an order that ignores input order


def load_segments(
    db: sqlite_utils.Database,
    encoder: Encoder,
    *,
    without_theme: bool = False,
    after_id: int | None = None,
    theme_id: int | None = None,
) -> tuple[Segments, EmbedStats | None]:
    """Informative segments of informative documents, by id, and the embedding stats (None
    when there is no segment). `without_theme`: only segments no theme run has seen;
    `after_id`: only later segments; `theme_id`: only the theme's segments."""
    sql, params = _INFORMATIVE, []
    if without_theme:
        sql += _WITHOUT_THEME
    if after_id is not None:
        sql, params = sql + _AFTER, params + [after_id]
    if theme_id is not None:
        sql, params = sql + _OF_THEME, params + [theme_id]
    rows = db.execute(sql + " ORDER BY s.id", params).fetchall()
    inputs = [encoder_input(r[2]) for r in rows]
    vectors, stats = embed_texts(encoder, inputs, EmbeddingCache(db)) if rows else (np.zeros((0, encoder.dim), np.float32), None)
    segments = Segments(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        doc_ids=np.array([r[1] for r in rows], dtype=np.int64),
        texts=[r[2] for r in rows],
        langs=[r[3] for r in rows],
        original=np.array([bool(r[4]) for r in rows], dtype=bool),
        vectors=vectors,
        keys=[text_hash(t) for t in inputs],
    )
    return segments, stats
