"""What an alert carries besides its figures: quotes, the touchpoint where it hurts, and impact on scores."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from . import queries
from .periods import Period
from .queries import Scope

QUOTE_CHARS = 240


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def quotes(db: sqlite_utils.Database, dimension: str, key: Any, scope: Scope, period: Period, limit: int = 3) -> list[dict]:
    """Up to `limit` mentions from the period, negative ones first, newest first; one per document."""
    out, seen = [], set()
    for doc_id, text, label in queries.mentions(db, dimension, key, scope, period, limit * 4):
        if doc_id in seen:
            continue
        seen.add(doc_id)
        out.append({"document_id": doc_id, "text": _trim(text), "sentiment": label})
        if len(out) == limit:
            break
    return out


def top_touchpoint(db: sqlite_utils.Database, theme: int, scope: Scope, period: Period) -> str | None:
    """The touchpoint most of the theme's mentions in the period are at (None without touchpoints)."""
    return queries.top_touchpoint(db, theme, scope, period)


def impact(db: sqlite_utils.Database, dimension: str, key: Any, scope: Scope, period: Period) -> float | None:
    """Mean score of all documents of the period minus the mean without the key's documents.

    Negative: the key drags the score down. None when too few documents carry a score.
    """
    n_all, s_all, n_with, s_with = queries.score_sums(db, dimension, key, scope, period)
    if n_all < 2 or n_all - n_with < 1:
        return None
    return s_all / n_all - (s_all - s_with) / (n_all - n_with)
