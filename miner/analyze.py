"""`miner analyze`: one encoder pass per segment and per document text (cached), the sentiment
head, per segment and document.

Incremental: only documents without a sentiment from the current head are read. Work goes
in batches of documents; the embeddings of a batch are committed as soon as the encoder
returns them (so a kill never costs model time twice), then the batch's sentiment rows
are written in one transaction (so a kill never leaves a document half-analyzed).
Non-informative documents and segments get no sentiment.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlite_utils

from .errors import UsageError
from .nlp.cache import EmbeddingCache, EmbedStats, embed_texts
from .nlp.encoders.base import Encoder
from .nlp.encoders.registry import get_encoder
from .nlp.textprep import encoder_input
from .nlp.sentiment import SentimentHead, aggregate, label_and_score, resolve_head
from .segments.vectors import joined_document_input
from .store import transaction, utc_now
from .themes.assign import assign_themes_to_new_segments
from .touchpoints.model import assign_touchpoints_to_new_segments


@dataclass
class AnalyzeSummary:
    documents: int = 0
    segments: int = 0
    pending_before: int = 0
    labels: Counter = field(default_factory=Counter)
    embed: EmbedStats = field(default_factory=EmbedStats)
    encoder: str = ""
    backend: str = ""  # what computed the vectors: torch-fp32, c, torch-int8...
    head: str = ""
    themes: dict = field(default_factory=dict)  # new segments assigned to existing themes
    touchpoints: dict = field(default_factory=dict)  # new segments given touchpoints by the saved model
    seconds: float = 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["labels"] = dict(self.labels)
        out["documents_per_second"] = round(self.documents / self.seconds, 1) if self.seconds else None
        return out


def head_id(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.stem}@{digest}"


# Documents still to analyze with head `?`: informative, and no sentiment from this head yet.
_PENDING = (
    "FROM documents d LEFT JOIN document_sentiment s ON s.document_id = d.id "
    "WHERE d.informative = 1 AND (s.document_id IS NULL OR s.head != ?)"
)


def analyze(
    db: sqlite_utils.Database,
    *,
    encoder: Encoder | None = None,
    head_path: str | None = None,
    batch_documents: int = 512,
    encoder_batch: int = 256,  # texts per encoder call; the torch backend re-batches them by token count
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnalyzeSummary:
    if batch_documents < 1 or encoder_batch < 1:
        raise UsageError("E730", "batch sizes must be at least 1.", "Use the defaults.")
    path = resolve_head(head_path)
    head = SentimentHead.load(path)
    encoder = encoder or get_encoder(None, threads=threads)
    if head.encoder_id != encoder.id:
        raise UsageError(
            "E722",
            f"the head {path.name} was trained on {head.encoder_id}, not on {encoder.id}.",
            "Use the encoder it was trained with, or train a head for this encoder with `miner train sentiment --encoder`.",
        )
    hid = head_id(path)
    cache = EmbeddingCache(db)
    summary = AnalyzeSummary(encoder=encoder.id, head=hid)
    started = time.perf_counter()
    total = db.execute(f"SELECT COUNT(*) {_PENDING}", [hid]).fetchone()[0]
    summary.pending_before = total
    last_id = 0
    while True:
        doc_ids = [
            r[0] for r in db.execute(f"SELECT d.id {_PENDING} AND d.id > ? ORDER BY d.id LIMIT ?", [hid, last_id, batch_documents])
        ]
        if not doc_ids:
            break
        last_id = doc_ids[-1]
        segments, labels, stats = _analyze_batch(db, doc_ids, encoder, head, hid, cache, encoder_batch)
        summary.embed.add(stats)
        summary.labels.update(labels)
        summary.documents += len(doc_ids)
        summary.segments += segments
        if progress:
            progress(summary.documents, total)
    # Segments new since the last theme discovery join the existing themes (no refit).
    summary.themes = assign_themes_to_new_segments(db, encoder)
    summary.backend = getattr(encoder, "backend", "") or ""  # after the work: a lazy encoder may never load
    summary.touchpoints = assign_touchpoints_to_new_segments(db, encoder)
    summary.seconds = time.perf_counter() - started
    return summary


def _analyze_batch(
    db: sqlite_utils.Database, doc_ids: list[int], encoder: Encoder, head: SentimentHead, hid: str,
    cache: EmbeddingCache, encoder_batch: int,
) -> tuple[int, Counter, EmbedStats]:
    """Embed the documents' informative segments (committed to the cache as they come), label
    them, and write segment and document sentiment in one transaction. Returns (segments,
    documents by label, embedding stats)."""
    marks = ",".join("?" * len(doc_ids))
    segs = list(
        db.execute(
            f"SELECT id, document_id, text FROM segments WHERE informative = 1 AND document_id IN ({marks}) ORDER BY document_id, seg_index",
            doc_ids,
        )
    )
    # The documents' whole texts ride in the same encoder pass (themes are found among documents).
    texts_of: dict[int, list[str]] = {}
    for _, doc_id, text in segs:
        texts_of.setdefault(doc_id, []).append(text)
    joined = [t for t in (joined_document_input(texts) for texts in texts_of.values()) if t is not None]
    vectors, stats = embed_texts(encoder, [encoder_input(s[2]) for s in segs] + joined, cache, batch_size=encoder_batch)
    vectors = vectors[: len(segs)]
    proba = head.predict_proba(vectors) if segs else None
    labels, scores = label_and_score(proba) if segs else ([], [])
    per_doc: dict[int, list[tuple[str, float, int]]] = {d: [] for d in doc_ids}
    seg_rows = []
    for (seg_id, doc_id, text), label, score, p in zip(segs, labels, scores, proba if segs else []):
        per_doc[doc_id].append((label, float(score), len(text)))
        seg_rows.append((seg_id, hid, label, round(float(score), 4), round(float(p[0]), 4), round(float(p[1]), 4), round(float(p[2]), 4)))
    now = utc_now()
    doc_rows, by_label = [], Counter()
    for doc_id, items in per_doc.items():
        label, score = aggregate([i[0] for i in items], [i[1] for i in items], [i[2] for i in items])
        doc_rows.append((doc_id, hid, label, score, len(items), now))
        if label:
            by_label[label] += 1
    with transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO segment_sentiment (segment_id, head, label, score, p_neg, p_neu, p_pos) VALUES (?, ?, ?, ?, ?, ?, ?)",
            seg_rows,
        )
        db.conn.executemany(
            "INSERT OR REPLACE INTO document_sentiment (document_id, head, label, score, n_segments, analyzed_at) VALUES (?, ?, ?, ?, ?, ?)",
            doc_rows,
        )
    return len(segs), by_label, stats
