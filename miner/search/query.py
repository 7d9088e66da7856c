"""`miner search`: documents by meaning in any language, fused with exact-word matches; or the
documents most like one document; or exact words only.

By meaning: the query is embedded once by the documents' encoder (same model, same role),
centred on its language's mean like every document (`vectors`), and the index (`index`)
returns the closest documents. Exact words: FTS5 (`fulltext`). The two rankings are fused by
reciprocal rank fusion (k = 60): a document's score is the sum of 1 / (60 + rank) over the
rankings that hold it, so an exact match the meaning also ranks high comes first, and a
document in another language, which exact words never find, still ranks by its meaning.
Measured on the demo corpus (docs/benchmarks.md, "search"), fusion kept precision@10 (0.35
against 0.33 by meaning alone).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import numpy as np
import sqlite_utils

from ..errors import UsageError
from ..ingest.language import detect
from ..nlp.encoders.base import Encoder
from ..nlp.textprep import encoder_input
from ..segments.vectors import group_language
from . import fulltext
from .index import IndexReport, Progress, VectorIndex, open_index
from .scope import Scope, parse_day, scope_clause
from .vectors import document_vector

RRF_K = 60
CANDIDATES = 100  # documents each ranking contributes to the fusion


@dataclass
class SearchResult:
    mode: str  # "meaning+words", "words" (--exact) or "like"
    hits: list[dict]
    query_lang: str | None = None  # the language the query was read as
    centred_on: str | None = None  # whose mean was taken from the query: a language, or None for all documents
    index: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def search(
    db: sqlite_utils.Database,
    text: str | None = None,
    *,
    like: int | None = None,
    scope: Scope = Scope(),
    limit: int = 20,
    exact: bool = False,
    query_lang: str | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """Search the store. `text`: words or a phrase in any language; `like`: a document id
    instead of text; `exact`: exact words only (newest first); `scope`: filters;
    `query_lang`: the query's language instead of detecting it; `encoder`: the documents'
    encoder (default: `query_encoder()`, loaded only when the store has vectors)."""
    fulltext.check_limit(limit)
    if like is not None and text is not None:
        raise UsageError("E508", "give a query or --like DOC_ID, not both.", "Search by words, or for documents like one document.")
    if like is None and text is None:
        raise UsageError("E501", "empty search query.", "Give at least one word, or --like DOC_ID.")
    if exact and like is not None:
        raise UsageError("E508", "--exact searches words; --like has none.", "Leave out --exact.")
    clause = scope_clause(db, scope)
    if exact:
        return SearchResult("words", fulltext.search_documents(db, text, limit, clause))
    terms = fulltext.query_terms(text) if text is not None else None
    if encoder is None:
        encoder = query_encoder()
    if like is not None:
        return _like(db, like, scope, clause, limit, encoder, progress)
    return _by_meaning(db, " ".join(terms), scope, clause, limit, query_lang, encoder, progress)


def query_encoder() -> Encoder:
    """The encoder for queries when none is named: MINER_ENCODER's, else e5-small run by its C
    engine, loaded on the first query. The C engine and torch give the same vectors under one id
    (cosine 0.9999, README "miner analyze"), so the query meets the documents in their space; a
    one-text query costs the same in both, and a fresh `miner search` starts in seconds instead of
    waiting for torch (measured in docs/benchmarks.md, "search")."""
    from ..nlp.encoders.base import E5_DIM, E5_ID
    from ..nlp.encoders.lazy import LazyEncoder
    from ..nlp.encoders.registry import get_encoder

    if os.environ.get("MINER_ENCODER"):
        return get_encoder(None, lazy=True)
    return LazyEncoder(f"{E5_ID}:query", E5_DIM, lambda: get_encoder("e5-small-c"))


def _allowed(db: sqlite_utils.Database, index: VectorIndex, scope: Scope) -> np.ndarray | None:
    """Rows of the index inside the scope (a boolean mask), or None without filters: languages,
    dates and channels from the index's own columns, themes, touchpoints and fields from the store."""
    since = parse_day(scope.since, "--since").toordinal() if scope.since else None
    until = parse_day(scope.until, "--until").toordinal() if scope.until else None
    langs = tuple(_language_code(code) if "-" in code else code.strip().lower() for code in scope.langs)
    keep = index.mask(langs, since, until, scope.channels)
    stored = replace(scope, since=None, until=None, langs=(), channels=())
    if not stored.is_empty():
        sql, params = scope_clause(db, stored)
        ids = np.fromiter((r[0] for r in db.execute(f"SELECT d.id FROM documents d WHERE 1 = 1{sql}", params)), dtype=np.int64)
        found = np.isin(index.ids, ids)
        keep = found if keep is None else keep & found
    return keep


def _index(db, encoder: Encoder, progress) -> tuple[VectorIndex, IndexReport, list[str]]:
    index, report = open_index(db, encoder.id, encoder.dim, progress=progress)
    notes = [report.note] if report.note else []
    if report.pending:
        notes.append(
            f"{report.pending:,} document(s) have no vector for {encoder.id} yet: run `miner analyze` to search them by meaning "
            "(or give --encoder as analyze was given it)"
        )
    return index, report, notes


def _by_meaning(db, text, scope, clause, limit, query_lang, encoder, progress) -> SearchResult:
    index, report, notes = _index(db, encoder, progress)
    words = fulltext.ranked_matches(db, text, CANDIDATES, clause)
    lang = _language_code(query_lang) if query_lang else _query_language(text)
    result = SearchResult("meaning+words", [], query_lang=lang, index=report.to_dict(), notes=notes)
    similar: dict[int, float] = {}
    ranked: list[int] = []
    if index.rows:
        query, result.centred_on = index.centre_query(encoder.embed_batch([encoder_input(text)])[0], lang)
        allowed = _allowed(db, index, scope)
        rows, scores = index.nearest(query, max(CANDIDATES, limit), allowed)
        ranked = [int(d) for d in index.ids[rows]]
        similar = dict(zip(ranked, (float(s) for s in scores)))
        extra = [d for d in words if d not in similar]
        at = index.rows_of(extra)
        if (at >= 0).any():
            similar.update(zip((d for d, r in zip(extra, at) if r >= 0), (float(s) for s in index.similarity(at[at >= 0], query))))
    elif not notes:
        notes.append("no document has a vector yet: run `miner analyze` to search by meaning (exact words only here)")
    fused = _fuse([ranked, words])[:limit]
    exact_ids = set(words)
    result.hits = _documents(db, fused, similar, exact_ids)
    return result


def _like(db, doc_id, scope, clause, limit, encoder, progress) -> SearchResult:
    row = db.execute("SELECT id, lang, script FROM documents WHERE id = ?", [doc_id]).fetchone()
    if row is None:
        newest = db.execute("SELECT MAX(id) FROM documents").fetchone()[0]
        raise UsageError("E507", f"no document {doc_id}.", f"Document ids run from 1 to {newest}." if newest else "The store is empty.")
    index, report, notes = _index(db, encoder, progress)
    at = index.row_of(doc_id)
    if at is not None:
        raw, lang = index.raw_rows(np.array([at]))[0], index.language_of(at)
    else:
        found = document_vector(db, encoder.id, encoder.dim, doc_id)
        if found is None:
            raise UsageError(
                "E509", f"document {doc_id} has no vector for {encoder.id}.",
                "Run `miner analyze` first (a non-informative document never gets one).",
            )
        raw, lang = found
    query, centred_on = index.centre_query(raw, lang)
    allowed = _allowed(db, index, scope)
    rows, scores = index.nearest(query, limit + 1, allowed)
    pairs = [(int(index.ids[r]), float(s)) for r, s in zip(rows, scores) if int(index.ids[r]) != doc_id][:limit]
    result = SearchResult("like", _documents(db, [d for d, _ in pairs], dict(pairs), set()), query_lang=lang,
                          centred_on=centred_on, index=report.to_dict(), notes=notes)
    return result


def _language_code(code: str) -> str:
    """`de`, `zh` (Simplified), `zh-Hant`, as documents are grouped."""
    lang, _, script = code.strip().partition("-")
    return group_language(lang.lower(), script.capitalize() or None)


def _query_language(text: str) -> str | None:
    found = detect(text)
    return None if found.lang == "und" else group_language(found.lang, found.script)


def _fuse(rankings: list[list[int]]) -> list[int]:
    """Reciprocal rank fusion: ids by the sum of 1 / (RRF_K + rank) over the rankings."""
    score: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            score[doc] = score.get(doc, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(score, key=lambda d: (-score[d], d))


def _documents(db: sqlite_utils.Database, ids: list[int], similar: dict[int, float], exact_ids: set[int]) -> list[dict]:
    """The hits in order, with their fields, main theme, similarity and whether the words matched."""
    if not ids:
        return []
    found: dict[int, dict] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ", ".join("?" for _ in chunk)
        for r in db.query(
            "SELECT d.id, d.external_id, d.lang, d.script, d.created_at, d.channel, d.score, dt.theme_id, "
            "COALESCE(t.custom_label, t.label) AS theme, d.clean_text FROM documents d "
            "LEFT JOIN document_themes dt ON dt.document_id = d.id LEFT JOIN themes t ON t.id = dt.theme_id "
            f"WHERE d.id IN ({marks})",
            chunk,
        ):
            found[r["id"]] = dict(r)
    hits = []
    for doc in ids:
        if doc in found:
            hit = found[doc]
            hit["similarity"] = round(similar[doc], 4) if doc in similar else None
            hit["exact"] = doc in exact_ids
            hits.append(hit)
    return hits
