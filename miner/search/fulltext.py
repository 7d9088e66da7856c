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
    first: by FTS5 bm25 where a term has three characters or more, else the shortest text first.
    Only the `scan` newest matches are ranked, and terms of one or two characters (read with
    LIKE, no index) are sought in the LIKE_SCAN newest documents, so a word in every other
    document of a large store, or a short word in none, costs a bounded time (the meaning ranks
    the rest; `search_documents` reads everything)."""
    terms = query_terms(query)
    where, params = _match(terms)
    where.append("d.duplicate_of IS NULL AND d.informative = 1")
    if any(len(t) >= 3 for t in terms):
        sql = (
            "SELECT d.id, bm25(documents_fts) FROM documents_fts f JOIN documents d ON d.id = f.rowid "
            f"WHERE documents_fts MATCH ? AND {' AND '.join(where[1:])}{scope[0]} ORDER BY f.rowid DESC LIMIT ?"
        )
        rows = db.execute(sql, params + list(scope[1]) + [scan]).fetchall()
        return [doc for doc, _ in sorted(rows, key=lambda r: (r[1], r[0]))[:limit]]
    newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    sql = (
        f"SELECT id FROM (SELECT d.id, length(d.clean_text) AS n FROM documents d WHERE d.id > ? AND {' AND '.join(where)}{scope[0]} "
        "ORDER BY d.id DESC LIMIT ?) ORDER BY n, id LIMIT ?"
    )
    return [r[0] for r in db.execute(sql, [newest - LIKE_SCAN] + params + list(scope[1]) + [scan, limit])]
