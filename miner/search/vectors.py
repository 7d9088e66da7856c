"""Documents' vectors as search sees them: read from the embedding cache only (search never
runs the model over documents; `miner analyze` embeds them), and freed of language identity.

A document's vector is the one themes use (`miner.segments.vectors`): the embedding of its
informative segments joined, the mean of its segments' when it is too long to read whole. A
document some of whose inputs are not cached yet has no vector; it is "pending".

Raw e5 vectors cluster by language (an English query is closer to any English text than to a
German one on its topic). Each document is centred on its language's mean vector, and a query
on the mean of the language it is written in; measured on xling_dev (docs/benchmarks.md,
"search"), precision@10 of English queries rose from 0.76 to 0.81 and the languages among the
top 10 from 5.0 to 6.4. A language with fewer than MIN_LANGUAGE_DOCS documents, and a query
language the store lacks, use the mean of all documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import sqlite_utils

from ..nlp.cache import EmbeddingCache, text_hash
from ..segments.vectors import document_inputs, group_language

MIN_LANGUAGE_DOCS = 20

_SEGMENTS = (
    "SELECT s.document_id, s.text, d.lang, d.script, d.created_at, d.channel FROM segments s JOIN documents d ON d.id = s.document_id "
    "WHERE s.informative = 1 AND d.informative = 1 AND d.duplicate_of IS NULL"
)


@dataclass
class DocumentVectors:
    ids: np.ndarray  # int64 document ids
    langs: list[str]  # the language each is grouped by (zh-Hans, zh-Hant kept apart)
    days: np.ndarray  # int32 proleptic ordinal of the document's date, -1 without one
    channels: list[str | None]
    vectors: np.ndarray  # float32, L2-normalised, raw (not centred)
    pending: list[int]  # documents with a segment whose vector is not cached yet


def _vectors_of(db: sqlite_utils.Database, encoder_id: str, dim: int, rows: list) -> DocumentVectors:
    docs: dict[int, list] = {}
    for doc_id, text, lang, script, created_at, channel in rows:
        docs.setdefault(doc_id, [group_language(lang, script), day_number(created_at), channel, []])[3].append(text)
    inputs = {d: [text_hash(t) for t in document_inputs(doc[3])] for d, doc in docs.items()}
    cached = EmbeddingCache(db).get(encoder_id, list({h for hs in inputs.values() for h in hs}), dim)
    found, vectors, pending = [], [], []
    for d, doc in docs.items():
        if all(h in cached for h in inputs[d]):
            found.append((d, *doc[:3]))
            vectors.append(np.mean([cached[h] for h in inputs[d]], axis=0))
        else:
            pending.append(d)
    V = np.asarray(vectors, dtype=np.float32).reshape(len(found), dim)
    V /= np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    return DocumentVectors(
        np.array([f[0] for f in found], dtype=np.int64), [f[1] for f in found], np.array([f[2] for f in found], dtype=np.int32),
        [f[3] for f in found], V, pending,
    )


def day_number(created_at: str | None) -> int:
    """The day of an ISO date or datetime as a proleptic ordinal (-1 when absent or unreadable)."""
    try:
        return date.fromisoformat(created_at[:10]).toordinal() if created_at else -1
    except ValueError:
        return -1


def cached_document_vectors(
    db: sqlite_utils.Database, encoder_id: str, dim: int, *, after_id: int = 0, until_id: int | None = None,
    doc_ids: list[int] | None = None, batch: int = 20000,
) -> Iterator[DocumentVectors]:
    """Original informative documents (by id, in batches of about `batch`) with their cached
    vectors: those after `after_id` (up to `until_id`), or those of `doc_ids` when given."""
    if doc_ids is not None:
        for start in range(0, len(doc_ids), 900):
            chunk = doc_ids[start : start + 900]
            marks = ", ".join("?" for _ in chunk)
            rows = db.execute(f"{_SEGMENTS} AND d.id IN ({marks}) ORDER BY s.document_id, s.seg_index", chunk).fetchall()
            yield _vectors_of(db, encoder_id, dim, rows)
        return
    last = after_id
    end = until_id if until_id is not None else db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    while last < end:
        top = db.execute(
            "SELECT MAX(id) FROM (SELECT id FROM documents WHERE id > ? AND id <= ? ORDER BY id LIMIT ?)", [last, end, batch]
        ).fetchone()[0]
        if top is None:
            return
        rows = db.execute(f"{_SEGMENTS} AND d.id > ? AND d.id <= ? ORDER BY s.document_id, s.seg_index", [last, top]).fetchall()
        yield _vectors_of(db, encoder_id, dim, rows)
        last = top


def document_vector(db: sqlite_utils.Database, encoder_id: str, dim: int, doc_id: int) -> tuple[np.ndarray, str] | None:
    """One document's raw vector and language, duplicates included; None when not cached."""
    rows = db.execute(
        "SELECT s.document_id, s.text, d.lang, d.script, d.created_at, d.channel FROM segments s "
        "JOIN documents d ON d.id = s.document_id WHERE s.informative = 1 AND d.id = ? ORDER BY s.seg_index",
        [doc_id],
    ).fetchall()
    found = _vectors_of(db, encoder_id, dim, rows)
    return (found.vectors[0], found.langs[0]) if len(found.ids) else None


def means_from_sums(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = sums.sum(axis=0) / max(int(counts.sum()), 1)
    means = np.vstack([sums, total[None, :]])
    for i, n in enumerate(counts):
        means[i] = sums[i] / n if n >= MIN_LANGUAGE_DOCS else total
    return means.astype(np.float32)


def centre(vectors: np.ndarray, lang_index: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Each vector minus its language's mean, L2-normalised (float32)."""
    out = np.asarray(vectors, dtype=np.float32) - means[lang_index]
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out
