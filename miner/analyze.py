"""`miner analyze`: one encoder pass per segment and per document text (cached), the sentiment
head, per segment and document.

Incremental: only documents without a sentiment from the current head are read. Work goes
in batches of documents; the embeddings of a batch are committed as soon as the encoder
returns them (so a kill never costs model time twice), then the batch's sentiment rows
are written in one transaction (so a kill never leaves a document half-analyzed).
Non-informative documents and segments get no sentiment.

A document's sentiment is learned from its segments in order and from the head's reading of
its whole text (`nlp.sentiment.document_sentiment`, mode `model`), or, for teams that want
"any complaint counts", by the rule "one negative segment makes the document negative"
(mode `any-negative`). The store keeps the mode it was given (`settings`), and the mode is
part of the `head` recorded with every document, so changing it re-labels the documents
(from cached vectors: no encoder time).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils

from .errors import UsageError
from .nlp.cache import EmbeddingCache, EmbedStats, embed_texts
from .nlp.encoders.base import Encoder
from .nlp.encoders.registry import get_encoder
from .nlp.textprep import encoder_input
from .nlp.sentiment import DOCUMENT_MODES, SentimentHead, document_input, document_sentiment, label_and_score, resolve_head
from .segments.vectors import joined_document_input
from .store import get_setting, set_setting, transaction, utc_now
from .themes.assign import ThemeCounts, assign_themes_to_new_segments
from .touchpoints.model import TouchpointCounts, assign_touchpoints_to_new_segments


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
    document_mode: str = "model"  # how document sentiment is decided: model | any-negative
    document_mode_asked: str = ""  # the store's or the given mode, where the head cannot follow it (no document model)
    themes: dict = field(default_factory=dict)  # new segments assigned to existing themes
    touchpoints: dict = field(default_factory=dict)  # new segments given touchpoints by the saved model
    seconds: float = 0.0
    sentiment_seconds: float = 0.0  # the head and the document model (not the encoder, not the store)
    assign_seconds: float = 0.0  # new segments given themes and touchpoints here (with --engine ray: what the driver did)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["labels"] = dict(self.labels)
        out["documents_per_second"] = round(self.documents / self.seconds, 1) if self.seconds else None
        return out


def head_id(path: Path, document_mode: str = "model") -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.stem}@{digest}" + ("" if document_mode == "model" else f"+{document_mode}")


DOCUMENT_MODE_SETTING = "sentiment.document_mode"


def document_mode_of(db: sqlite_utils.Database, mode: str | None) -> str:
    """The mode given (then kept by the store), else the store's, else `model`."""
    if mode is None:
        return get_setting(db, DOCUMENT_MODE_SETTING, "model") or "model"
    if mode not in DOCUMENT_MODES:
        raise UsageError("E731", f"unknown document sentiment mode {mode!r}.", f"Choose one of: {', '.join(DOCUMENT_MODES)}.")
    return mode


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
    document_mode: str | None = None,
    progress: Callable[[float, int], None] | None = None,  # (documents done, of total), also within a batch
) -> AnalyzeSummary:
    if batch_documents < 1 or encoder_batch < 1:
        raise UsageError("E730", "batch sizes must be at least 1.", "Use the defaults.")
    mode = document_mode_of(db, document_mode)
    path = resolve_head(head_path)
    head = SentimentHead.load(path)
    encoder = encoder or get_encoder(None, threads=threads)
    hid = use_head(db, head, path, encoder.id, mode, document_mode)
    cache = EmbeddingCache(db)
    summary = new_summary(encoder.id, hid, head, mode, explicit=get_setting(db, DOCUMENT_MODE_SETTING) is not None)
    started = time.perf_counter()
    total = pending_count(db, hid)
    summary.pending_before = total
    last_id = 0
    while True:
        doc_ids = pending_batch(db, hid, last_id, batch_documents)
        if not doc_ids:
            break
        last_id = doc_ids[-1]
        within = None if progress is None else (  # per encoder call: the batch's share of texts embedded, in documents
            lambda embedded, to_embed, done=summary.documents, n=len(doc_ids): progress(done + n * embedded / to_embed, total))
        segments, labels, stats, sentiment_seconds = _analyze_batch(db, doc_ids, encoder, head, hid, cache, encoder_batch, mode,
                                                                    progress=within)
        summary.sentiment_seconds += sentiment_seconds
        summary.embed.add(stats)
        summary.labels.update(labels)
        summary.documents += len(doc_ids)
        summary.segments += segments
        if progress:
            progress(summary.documents, total)
    assign_new_segments(db, encoder, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def new_summary(encoder_id: str, hid: str, head: SentimentHead, mode: str, explicit: bool) -> AnalyzeSummary:
    """The run's summary, with the document mode that applies: a head without a document model
    (trained before issue 16, like the shipped default) always follows the rule, and says so
    when `model` was asked for (`explicit`: given now or kept by the store)."""
    if head.document is None and mode == "model":
        return AnalyzeSummary(encoder=encoder_id, head=hid, document_mode="any-negative", document_mode_asked=mode if explicit else "")
    return AnalyzeSummary(encoder=encoder_id, head=hid, document_mode=mode)


def use_head(db: sqlite_utils.Database, head: SentimentHead, path: Path, encoder_id: str, mode: str,
             document_mode: str | None) -> str:
    """The head's id with the document mode, once the head is known to fit the encoder; the
    mode is kept by the store when given."""
    if head.encoder_id != encoder_id:
        raise UsageError(
            "E722",
            f"the head {path.name} was trained on {head.encoder_id}, not on {encoder_id}.",
            "Use the encoder it was trained with, or train a head for this encoder with `miner train sentiment --encoder`.",
        )
    hid = head_id(path, mode)
    if document_mode is not None and get_setting(db, DOCUMENT_MODE_SETTING) != mode:
        with transaction(db):
            set_setting(db, DOCUMENT_MODE_SETTING, mode)
    return hid


def pending_count(db: sqlite_utils.Database, hid: str) -> int:
    return db.execute(f"SELECT COUNT(*) {_PENDING}", [hid]).fetchone()[0]


def pending_batch(db: sqlite_utils.Database, hid: str, after_id: int, limit: int) -> list[int]:
    """The next pending documents after `after_id`, in id order."""
    return [r[0] for r in db.execute(f"SELECT d.id {_PENDING} AND d.id > ? ORDER BY d.id LIMIT ?", [hid, after_id, limit])]


def assign_new_segments(db: sqlite_utils.Database, encoder: Encoder, summary: AnalyzeSummary,
                        themes_done: ThemeCounts | None = None, touchpoints_done: TouchpointCounts | None = None) -> None:
    """Segments new since the last theme discovery join the existing themes (no refit), and the
    saved touchpoint model labels them (from cached vectors). `*_done`: what this run assigned
    and wrote already (`--engine ray`'s workers), counted in the summary and not done again."""
    started = time.perf_counter()
    summary.themes = assign_themes_to_new_segments(db, encoder, themes_done)
    summary.backend = getattr(encoder, "backend", "") or ""  # after the work: a lazy encoder may never load
    summary.touchpoints = assign_touchpoints_to_new_segments(db, encoder, touchpoints_done)
    summary.assign_seconds += time.perf_counter() - started


def _analyze_batch(
    db: sqlite_utils.Database, doc_ids: list[int], encoder: Encoder, head: SentimentHead, hid: str,
    cache: EmbeddingCache, encoder_batch: int, mode: str = "model", progress: Callable[[int, int], None] | None = None,
) -> tuple[int, Counter, EmbedStats, float]:
    """Embed the documents' informative segments (committed to the cache as they come), label
    them, and write segment and document sentiment in one transaction. Returns (segments,
    documents by label, embedding stats, seconds spent on sentiment)."""
    segs = batch_segments(db, doc_ids)
    texts = batch_texts(segs)
    vectors, stats = embed_texts(encoder, texts.texts, cache, batch_size=encoder_batch, progress=progress)
    rows = sentiment_batch(head, hid, mode, doc_ids, segs, texts, vectors, utc_now())
    write_sentiment(db, rows)
    return len(segs), rows.by_label, stats, rows.seconds


# The stages of a batch of documents, shared by every engine (`miner.engine` runs the same
# functions on a Ray cluster): read the batch's segments (store), the texts the encoder reads
# (pure), the encoder (`nlp.cache.embed_texts`, with or without the cache), sentiment (pure:
# vectors in, rows out), the write (store, one transaction).

Segment = tuple[int, int, str, str | None]  # (segment id, document id, text, language)


def batch_segments(db: sqlite_utils.Database, doc_ids: list[int]) -> list[Segment]:
    """The documents' informative segments, in document and segment order."""
    marks = ",".join("?" * len(doc_ids))
    return [
        tuple(r) for r in db.execute(
            f"SELECT id, document_id, text, lang FROM segments WHERE informative = 1 AND document_id IN ({marks}) "
            "ORDER BY document_id, seg_index",
            doc_ids,
        )
    ]


@dataclass
class BatchTexts:
    """What the encoder reads for a batch: each segment's input, then the whole text of each
    document in `joined_docs` (themes are found among documents); `rows_of`: a document's
    segment rows."""

    texts: list[str]
    rows_of: dict[int, list[int]]
    joined_docs: list[int]


def batch_texts(segs: list[Segment]) -> BatchTexts:
    rows_of: dict[int, list[int]] = {}
    for r, (_, doc_id, _, _) in enumerate(segs):
        rows_of.setdefault(doc_id, []).append(r)
    joined_of = {d: joined_document_input([segs[r][2] for r in rows]) for d, rows in rows_of.items()}
    joined_docs = [d for d, t in joined_of.items() if t is not None]
    return BatchTexts([encoder_input(s[2]) for s in segs] + [joined_of[d] for d in joined_docs], rows_of, joined_docs)


@dataclass
class SentimentRows:
    """A batch's rows for `segment_sentiment` and `document_sentiment`."""

    segments: list[tuple]
    documents: list[tuple]
    by_label: Counter
    seconds: float  # the head and the document model


def sentiment_batch(
    head: SentimentHead, hid: str, mode: str, doc_ids: list[int], segs: list[Segment], texts: BatchTexts,
    vectors: np.ndarray, now: str,
) -> SentimentRows:
    """Segment and document sentiment of a batch from the vectors of `texts.texts` (pure)."""
    rows_of, n = texts.rows_of, len(segs)
    seg_vectors, joined_vectors = vectors[:n], dict(zip(texts.joined_docs, vectors[n:]))
    started = time.perf_counter()
    proba = head.predict_proba(seg_vectors) if segs else np.zeros((0, 3), np.float32)
    labels, scores = label_and_score(proba) if segs else ([], [])
    seg_rows = [
        (seg_id, hid, label, round(float(score), 4), round(float(p[0]), 4), round(float(p[1]), 4), round(float(p[2]), 4))
        for (seg_id, _, _, _), label, score, p in zip(segs, labels, scores, proba)
    ]
    # A document's own vector: its joined text, its one segment, or (too long to read whole)
    # the mean of its segments.
    analyzed = [d for d in doc_ids if d in rows_of]
    doc_vectors = np.stack([
        joined_vectors[d] if d in joined_vectors else _mean_vector(seg_vectors[rows_of[d]]) for d in analyzed
    ]) if analyzed else np.zeros((0, seg_vectors.shape[1] if len(segs) else 1), np.float32)
    doc_proba = head.predict_proba(doc_vectors) if analyzed else np.zeros((0, 3))
    inputs = [
        document_input(proba[rows_of[d]], [segs[r][2] for r in rows_of[d]], [segs[r][3] for r in rows_of[d]], doc_proba[k])
        for k, d in enumerate(analyzed)
    ]
    results = dict(zip(analyzed, document_sentiment(head, inputs, mode)))
    seconds = time.perf_counter() - started
    doc_rows, by_label = [], Counter()
    for doc_id in doc_ids:
        r = results.get(doc_id)
        label, score, p = (r.label, r.score, r.proba) if r else (None, None, None)
        doc_rows.append((doc_id, hid, label, score, len(rows_of.get(doc_id, [])), now, *(p or (None, None, None))))
        if label:
            by_label[label] += 1
    return SentimentRows(seg_rows, doc_rows, by_label, seconds)


def write_sentiment(db: sqlite_utils.Database, rows: SentimentRows) -> None:
    """A batch's sentiment rows, in one transaction."""
    with transaction(db):
        write_sentiment_rows(db, rows)


def write_sentiment_rows(db: sqlite_utils.Database, rows: SentimentRows) -> None:
    """The rows, in the caller's transaction."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO segment_sentiment (segment_id, head, label, score, p_neg, p_neu, p_pos) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows.segments,
    )
    db.conn.executemany(
        "INSERT OR REPLACE INTO document_sentiment (document_id, head, label, score, n_segments, analyzed_at, p_neg, p_neu, p_pos) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.documents,
    )


def _mean_vector(vectors: np.ndarray) -> np.ndarray:
    v = vectors.mean(axis=0)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
