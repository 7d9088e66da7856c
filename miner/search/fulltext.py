"""Full-text search over documents' clean text: exact words, any language.

The FTS5 index uses the trigram tokenizer, so it matches substrings in every language
(Chinese and Japanese have no spaces between words). Trigrams cannot match terms of one
or two characters (退款 is two), so those terms fall back to a LIKE filter. Every term must
appear (AND).

`search_documents` is `miner search --exact` (newest first); `ranked_matches` gives the
matches by relevance (FTS5's bm25; shortest text first when only LIKE terms are given), the
full-text signal that `miner search` fuses with meaning.
"""

from __future__ import annotations

import json
import math

import sqlite_utils

from ..errors import UsageError

SCAN = 5000  # newest full-text matches ranked for fusion
LIKE_SCAN = 100_000  # newest documents whose text LIKE reads for fusion (terms under three characters)
_COLUMNS = "d.id, d.external_id, d.lang, d.script, d.created_at, d.channel, d.score, d.clean_text"


def query_terms(query: str) -> list[str]:
    """The words of a query, or a one-line error when there is none."""
    terms = query.split()
    if not terms:
        raise UsageError("E501", "empty search query.", "Give at least one word.")
    return terms


def check_limit(limit: int) -> None:
    if limit < 1:
        raise UsageError("E502", "--limit must be at least 1.", "Use --limit 20, for example.")


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _match(terms: list[str]) -> tuple[list[str], list]:
    """WHERE conditions on documents `d` (every term present) and their parameters."""
    long_terms = [t for t in terms if len(t) >= 3]
    where, params = [], []
    if long_terms:
        where.append("d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
        params.append(" AND ".join(_quote(t) for t in long_terms))
    for t in terms:
        if len(t) < 3:
            where.append("d.clean_text LIKE ? ESCAPE '\\'")
            params.append(_like(t))
    return where, params


def search_documents(
    db: sqlite_utils.Database, query: str, limit: int = 20, scope: tuple[str, list] = ("", [])
) -> list[dict]:
    """Documents holding every word of `query`, newest first. `scope`: an extra
    (" AND ...", params) clause on documents `d` (see `miner.search.scope.scope_clause`)."""
    terms = query_terms(query)
    check_limit(limit)
    where, params = _match(terms)
    sql = (
        f"SELECT {_COLUMNS} FROM documents d WHERE {' AND '.join(where)}{scope[0]} "
        "ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
    )
    return [dict(r) for r in db.query(sql, params + list(scope[1]) + [limit])]


def ranked_matches(
    db: sqlite_utils.Database, query: str, limit: int = 100, scope: tuple[str, list] = ("", []), scan: int = SCAN
) -> list[int]:
    """Ids of original, informative documents holding every word of `query`, the most relevant
    first: by BM25 as FTS5 ranks (`_bm25`) where a term has three characters or more, else the
    shortest text first. Only the `scan` newest matches are ranked, and terms of one or two
    characters (read with LIKE, no index) are sought in the LIKE_SCAN newest documents, so a word
    in every other document of a large store, or a short word in none, costs a bounded time (the
    meaning ranks the rest; `search_documents` reads everything)."""
    terms = query_terms(query)
    where, params = _match(terms)
    # `+`: read the newest documents by id, not through the index on duplicate_of (2.6x slower on a window of 100,000)
    where.append("+d.duplicate_of IS NULL AND d.informative = 1")
    long_terms = [t for t in terms if len(t) >= 3]
    if long_terms:
        return _bm25_ranked(db, long_terms, where[1:], params[1:], scope, limit, scan)
    newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    sql = (
        f"SELECT id FROM (SELECT d.id, length(d.clean_text) AS n FROM documents d WHERE d.id > ? AND {' AND '.join(where)}{scope[0]} "
        "ORDER BY d.id DESC LIMIT ?) ORDER BY n, id LIMIT ?"
    )
    return [r[0] for r in db.execute(sql, [newest - LIKE_SCAN] + params + list(scope[1]) + [scan, limit])]


# FTS5's bm25() counts, for each term, every document of the store that holds it before it can
# score one row: 0.5 s for a word in each of a million documents, on every search. The same
# score is computed here from what costs little: each term's newest `scan` matches (exact counts
# below that; above it, the count estimated from their density among the newest documents),
# FTS5's own row and token totals (its averages record) and each row's token count (its docsize
# table), and the term's occurrences in the row's text (the trigram tokenizer matches a term
# where the case-folded text holds it). tests/test_search.py checks it against bm25().
K1, B = 1.2, 0.75  # FTS5's bm25 constants


def _bm25_ranked(db, terms: list[str], where: list[str], params: list, scope: tuple[str, list], limit: int, scan: int) -> list[int]:
    rows_total, tokens_total = _fts_totals(db)
    if rows_total == 0:
        return []
    newest = {}
    for term in dict.fromkeys(terms):
        newest[term] = [r[0] for r in db.execute(
            "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? ORDER BY rowid DESC LIMIT ?", [_quote(term), scan])]
    complete = [t for t in newest if len(newest[t]) < scan]
    idf = {t: _idf(db, newest[t], scan, rows_total) for t in newest}
    avgdl = tokens_total / rows_total
    filters = f"{' AND '.join(where)}{scope[0]}"
    if len(where) > 1:  # a term of one or two characters (LIKE): sought in the newest LIKE_SCAN documents, as alone
        newest_id = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
        filters, params = f"d.id > ? AND {filters}", [newest_id - LIKE_SCAN, *params]
    columns = "SELECT d.id, d.clean_text, z.sz FROM documents d JOIN documents_fts_docsize z ON z.id = d.id"
    if complete:  # every document holding the rarest term is known: the others are checked in the text
        base = newest[min(complete, key=lambda t: len(newest[t]))]
        rows = db.execute(f"{columns} WHERE d.id IN (SELECT value FROM json_each(?)) AND {filters} ORDER BY d.id DESC",
                          [json.dumps(base)] + params + list(scope[1]))
    elif len(where) > 1:  # the window LIKE reads (fast in the documents' order), the long terms checked in the text
        rows = db.execute(f"{columns} WHERE {filters} ORDER BY d.id DESC", params + list(scope[1]))
    else:  # every term in `scan` documents or more: the newest holding them all, by the index
        rows = db.execute(
            f"{columns} JOIN documents_fts f ON f.rowid = d.id WHERE documents_fts MATCH ? AND {filters} ORDER BY f.rowid DESC LIMIT ?",
            [" AND ".join(_quote(t) for t in terms)] + params + list(scope[1]) + [scan])
    folded = [_fold(t) for t in terms]
    scored = []
    for doc, text, size in rows:
        text = _fold(text or "")
        freqs = [_occurrences(text, t) for t in folded]
        if min(freqs) == 0:
            continue
        length = _varint(size, 0)[0]
        norm = K1 * (1 - B + B * length / avgdl)
        scored.append((-sum(idf[t] * f * (K1 + 1) / (f + norm) for t, f in zip(terms, freqs)), doc))
        if len(scored) == scan:
            break
    return [doc for _, doc in sorted(scored)[:limit]]


def _idf(db, newest: list[int], scan: int, rows_total: int) -> float:
    """FTS5's idf of a term from the count of documents holding it: exact when under `scan`,
    else estimated from the share of the newest documents that hold it."""
    hits = len(newest)
    if hits >= scan:
        span = db.execute("SELECT COUNT(*) FROM documents_fts_docsize WHERE id >= ?", [min(newest)]).fetchone()[0]
        hits = round(hits * rows_total / max(span, hits))
    value = math.log((rows_total - hits + 0.5) / (hits + 0.5))
    return value if value > 0 else 1e-6


def _fts_totals(db) -> tuple[int, int]:
    """Rows and tokens in the full-text index (FTS5's averages record: a varint each)."""
    row = db.execute("SELECT block FROM documents_fts_data WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return 0, 0
    rows, at = _varint(row[0], 0)
    tokens, _ = _varint(row[0], at)
    return rows, tokens


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's varint at `at`: (value, the position after it)."""
    value = 0
    for i in range(8):
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | data[at + 8], at + 9


def _fold(text: str) -> str:
    """Case folded one character for one, as FTS5's trigram tokenizer folds."""
    low = text.lower()
    if len(low) == len(text):  # no character became two: each was folded one for one
        return low
    return "".join(c if len(low := c.lower()) != 1 else low for c in text)


def _occurrences(text: str, term: str) -> int:
    """How many times `term` starts in `text`, overlaps included (the phrase's instances)."""
    count, at = 0, text.find(term)
    while at >= 0:
        count += 1
        at = text.find(term, at + 1)
    return count
