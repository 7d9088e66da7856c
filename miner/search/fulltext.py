"""Full-text search over documents' clean text.

The FTS5 index uses the trigram tokenizer, so it matches substrings in every language
(Chinese and Japanese have no spaces between words). Trigrams cannot match terms of one
or two characters (退款 is two), so those terms fall back to a LIKE filter.
"""

from __future__ import annotations

import sqlite_utils

from .errors import UsageError


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search_documents(db: sqlite_utils.Database, query: str, limit: int = 20) -> list[dict]:
    terms = query.split()
    if not terms:
        raise UsageError("E501", "empty search query.", "Give at least one word.")
    if limit < 1:
        raise UsageError("E502", "--limit must be at least 1.", "Use --limit 20, for example.")
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    where, params = [], []
    if long_terms:
        where.append("d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
        params.append(" AND ".join(_quote(t) for t in long_terms))
    for t in short_terms:
        where.append("d.clean_text LIKE ? ESCAPE '\\'")
        params.append("%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    sql = (
        "SELECT d.id, d.external_id, d.lang, d.created_at, d.channel, d.score, d.clean_text FROM documents d "
        f"WHERE {' AND '.join(where)} ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
    )
    return [dict(r) for r in db.query(sql, params + [limit])]
