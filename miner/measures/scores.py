"""Which stored documents carry a score, and on which scale, for impact and account satisfaction.

A store can mix scales (an NPS survey and 1-5 app reviews): each source's score column is
read as one kind (see impact.detect_kind: by the column's name in `sources.mapping`, else
by its values), and the impact is computed per kind. `--score-kind` forces one kind for
every scored document. Responses counted: originals (`duplicate_of IS NULL`), informative
or not: a respondent who wrote "n/a" still gave the score.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from .impact import check_kind, detect_kind


@dataclass
class ScoreSet:
    kind: str
    doc_ids: np.ndarray
    scores: np.ndarray
    sources: list[str] = field(default_factory=list)

    def mask(self, doc_ids) -> np.ndarray:
        return np.isin(self.doc_ids, np.fromiter(doc_ids, dtype=np.int64))


def load_scores(db: sqlite_utils.Database, score_kind: str | None = None) -> dict[str, ScoreSet]:
    """{kind: ScoreSet} of the scored original documents."""
    if score_kind is not None:
        check_kind(score_kind)
    rows = db.execute(
        "SELECT d.id, d.score, d.source_id, s.name, s.mapping FROM documents d JOIN sources s ON s.id = d.source_id "
        "WHERE d.score IS NOT NULL AND d.duplicate_of IS NULL ORDER BY d.id"
    ).fetchall()
    by_source: dict[int, list] = defaultdict(list)
    names, columns = {}, {}
    for doc_id, score, source_id, name, mapping in rows:
        by_source[source_id].append((doc_id, score))
        names[source_id] = name
        try:
            columns[source_id] = (json.loads(mapping) if mapping else {}).get("score")
        except (ValueError, AttributeError):
            columns[source_id] = None
    grouped: dict[str, list] = defaultdict(list)
    sources: dict[str, list[str]] = defaultdict(list)
    for source_id, pairs in by_source.items():
        kind = score_kind or detect_kind(columns.get(source_id), [s for _, s in pairs])
        grouped[kind] += pairs
        sources[kind].append(names[source_id])
    out = {}
    for kind, pairs in grouped.items():
        pairs.sort()
        out[kind] = ScoreSet(
            kind,
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=float),
            sorted(set(sources[kind])),
        )
    return out


def normalised_score(kind: str, score: float) -> float:
    """A score on 0..1, for account satisfaction: NPS 0-10 -> /10, 1-5 scales -> (s-1)/4."""
    if kind == "nps":
        return min(1.0, max(0.0, score / 10))
    if kind in ("csat", "stars"):
        return min(1.0, max(0.0, (score - 1) / 4))
    return score
