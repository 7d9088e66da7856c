"""The informative segments and documents of the store, with their vectors from the embedding
cache (embedding only what the cache lacks): the input of theme discovery, theme assignment,
theme splits and touchpoint assignment.

A document's vector is the embedding of its informative segments joined (its own text, less
what ingest found non-informative); a document of one segment shares that segment's vector,
and a document longer than the encoder reads well (`DOCUMENT_TEXT_LIMIT`) is the mean of its
segments' vectors. `miner analyze` embeds both in one pass, so discovery finds them cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from ..nlp.cache import EmbeddingCache, EmbedStats, embed_texts, text_hash
from ..nlp.encoders.base import Encoder
from ..nlp.textprep import encoder_input

DOCUMENT_TEXT_LIMIT = 1500  # characters, about e5's 512 tokens for CJK-free text
SCRIPT_LANGUAGES = {("zh", "Hant"): "zh-Hant"}  # written variants kept apart (the rest of Chinese is zh-Hans)

_INFORMATIVE = (
    "SELECT s.id, s.document_id, s.text, d.lang, d.script, d.duplicate_of IS NULL "
    "FROM segments s JOIN documents d ON d.id = s.document_id WHERE s.informative = 1 AND d.informative = 1"
)
_WITHOUT_THEME = " AND s.id NOT IN (SELECT segment_id FROM segment_themes)"
_AFTER = " AND s.id > ?"
_DOCS_WITHOUT_TOUCHPOINT = " AND s.document_id NOT IN (SELECT document_id FROM document_touchpoints)"
_OF_THEME = " AND s.id IN (SELECT segment_id FROM segment_themes WHERE theme_id = ?)"
_DOCS_WITHOUT_THEME = " AND s.document_id NOT IN (SELECT document_id FROM document_themes)"
_DOCS_OF_THEME = " AND s.document_id IN (SELECT document_id FROM document_themes WHERE theme_id = ?)"


def last_segment_id(db: sqlite_utils.Database, after_id: int) -> int | None:
    """The id of the last informative segment after `after_id` (None: there is none)."""
    return db.execute(f"SELECT MAX(id) FROM ({_INFORMATIVE + _AFTER})", [after_id]).fetchone()[0]


def document_facts(db: sqlite_utils.Database, doc_ids: list[int]) -> dict[int, tuple]:
    """What the rows of `load_segments` and `load_documents` hold of these documents, for the
    informative ones: document id -> (language, script, original)."""
    out = {}
    for i in range(0, len(doc_ids), 900):
        chunk = doc_ids[i : i + 900]
        out.update((r[0], tuple(r[1:])) for r in db.execute(
            f"SELECT id, lang, script, duplicate_of IS NULL FROM documents WHERE informative = 1 AND id IN ({','.join('?' * len(chunk))})",
            chunk,
        ))
    return out


def informative_rows(segments: list, facts: dict[int, tuple]) -> list[tuple]:
    """Rows as `load_segments` and `load_documents` read them, from a batch's informative
    segments ((segment id, document id, text, ...), in document and segment order) and
    `document_facts`: (segment id, document id, text, language, script, original)."""
    return [(s[0], s[1], s[2], *facts[s[1]]) for s in segments if s[1] in facts]


def group_language(lang: str | None, script: str | None = None) -> str:
    """The language a text is grouped by (debias, keywords, lexicon): its code, and for Chinese
    the script too (Simplified and Traditional embed apart)."""
    lang = lang or "und"
    if lang == "zh":
        return SCRIPT_LANGUAGES.get((lang, script), "zh-Hans")
    return lang


def document_text(segment_texts: list[str]) -> str:
    """What the encoder reads for a whole document: its informative segments, joined."""
    return " ".join(" ".join(t.split()) for t in segment_texts)


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
    documents_without_touchpoint: bool = False,
) -> tuple[Segments, EmbedStats | None]:
    """Informative segments of informative documents, by id, and the embedding stats (None
    when there is no segment). `without_theme`: only segments no theme run has seen;
    `after_id`: only later segments; `theme_id`: only the theme's segments;
    `documents_without_touchpoint`: only segments of documents without a main touchpoint row."""
    sql, params = _INFORMATIVE, []
    if without_theme:
        sql += _WITHOUT_THEME
    if documents_without_touchpoint:
        sql += _DOCS_WITHOUT_TOUCHPOINT
    if after_id is not None:
        sql, params = sql + _AFTER, params + [after_id]
    if theme_id is not None:
        sql, params = sql + _OF_THEME, params + [theme_id]
    rows = db.execute(sql + " ORDER BY s.id", params).fetchall()
    return segments_from_rows(rows, cached_vectors(db, encoder), encoder.dim)


# Encoder inputs -> their vectors and the embedding stats.
VectorSource = Callable[[list[str]], tuple[np.ndarray, EmbedStats]]


def cached_vectors(db: sqlite_utils.Database, encoder: Encoder) -> VectorSource:
    """Vectors from the store's embedding cache, embedding only what it lacks."""
    return lambda inputs: embed_texts(encoder, inputs, EmbeddingCache(db))


def segments_from_rows(rows: list, vectors_of: VectorSource, dim: int) -> tuple[Segments, EmbedStats | None]:
    """Segments from rows of `INFORMATIVE_ROWS` in segment order (pure, given the vectors)."""
    inputs = [encoder_input(r[2]) for r in rows]
    vectors, stats = vectors_of(inputs) if rows else (np.zeros((0, dim), np.float32), None)
    segments = Segments(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        doc_ids=np.array([r[1] for r in rows], dtype=np.int64),
        texts=[r[2] for r in rows],
        langs=[group_language(r[3], r[4]) for r in rows],
        original=np.array([bool(r[5]) for r in rows], dtype=bool),
        vectors=vectors,
        keys=[text_hash(t) for t in inputs],
    )
    return segments, stats


@dataclass
class Documents:
    ids: np.ndarray
    langs: list[str]
    original: np.ndarray  # bool: not a duplicate (only originals are fitted)
    vectors: np.ndarray
    keys: list[str]  # hash of what represents the document: an order that ignores input order


def document_inputs(segment_texts: list[str]) -> list[str]:
    """The encoder inputs a document's vector needs: its joined text, or (too long) its segments."""
    text = document_text(segment_texts)
    return [encoder_input(text)] if len(text) <= DOCUMENT_TEXT_LIMIT else [encoder_input(t) for t in segment_texts]


def joined_document_input(segment_texts: list[str]) -> str | None:
    """The one text a document adds to its segments' for its vector (its segments joined), or
    None when its segments already give it (one segment, or a document too long to read whole)."""
    inputs = document_inputs(segment_texts)
    return inputs[0] if len(segment_texts) > 1 and len(inputs) == 1 else None


def load_documents(
    db: sqlite_utils.Database, encoder: Encoder, *, without_theme: bool = False, theme_id: int | None = None
) -> tuple[Documents, EmbedStats | None]:
    """Informative documents with an informative segment, by id, with their vectors.
    `without_theme`: only documents no theme run has placed; `theme_id`: only the theme's."""
    sql, params = _INFORMATIVE, []
    if without_theme:
        sql += _DOCS_WITHOUT_THEME
    if theme_id is not None:
        sql, params = sql + _DOCS_OF_THEME, [theme_id]
    rows = db.execute(sql + " ORDER BY s.document_id, s.seg_index", params).fetchall()
    return documents_from_rows(rows, cached_vectors(db, encoder), encoder.dim)


def documents_from_rows(rows: list, vectors_of: VectorSource, dim: int) -> tuple[Documents, EmbedStats | None]:
    """Documents from rows of `INFORMATIVE_ROWS` in document and segment order (pure, given the vectors)."""
    docs: dict[int, list] = {}
    for seg_id, doc_id, text, lang, script, original in rows:
        docs.setdefault(doc_id, [group_language(lang, script), bool(original), []])[2].append(text)
    inputs = {d: document_inputs(texts) for d, (_, _, texts) in docs.items()}
    flat = [t for d in docs for t in inputs[d]]
    if not flat:
        return Documents(np.zeros(0, np.int64), [], np.zeros(0, bool), np.zeros((0, dim), np.float32), []), None
    vectors, stats = vectors_of(flat)
    out, at = [], 0
    for d in docs:
        n = len(inputs[d])
        out.append(vectors[at : at + n].mean(axis=0))
        at += n
    V = np.asarray(out, dtype=np.float32)
    V /= np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    return Documents(
        ids=np.array(list(docs), dtype=np.int64),
        langs=[docs[d][0] for d in docs],
        original=np.array([docs[d][1] for d in docs], dtype=bool),
        vectors=V,
        keys=[text_hash("\n".join(inputs[d])) for d in docs],
    ), stats
