"""Where documents and their sentences go, given fitted centroids. Pure functions, no database;
the same rules place the fitted documents (`discover`) and later ones (`assign`), so a later
assignment agrees with the fit.

- A document goes to its nearest sub-theme centroid (cosine), and so to that sub-theme's theme;
  under `threshold` it has no theme, under `core_threshold` its theme is low-confidence.
- A sentence takes its document's theme, unless it matches another theme on its own, clearly:
  at least `segment_threshold` to that theme's centroid and `SEGMENT_MARGIN` above its
  document's theme. That is how a long complaint raises several themes, while a sentence with
  no content of its own ("Pas encore ça") stays with its document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fit import nearest, space

SEGMENT_MARGIN = 0.05


@dataclass
class Centroids:
    C: np.ndarray  # (m, D) sub-theme centroids (and themes kept on a centroid of their own)
    sub_ids: np.ndarray  # (m,) sub-theme id, -1 for a theme's own centroid
    theme_ids: np.ndarray  # (m,) theme id
    T: np.ndarray  # (t, D) theme centroids
    T_ids: np.ndarray  # (t,)


@dataclass
class Placed:
    theme: np.ndarray  # theme id, -1 = none
    sub: np.ndarray  # sub-theme id, -1 = none
    score: np.ndarray  # cosine to the centroid that placed it
    low: np.ndarray  # bool


def place_documents(Z: np.ndarray, c: Centroids, threshold: float, core_threshold: float) -> Placed:
    idx, score = nearest(Z, c.C)
    found = (score >= threshold) & (idx >= 0)
    theme = np.where(found, c.theme_ids[np.maximum(idx, 0)] if len(c.C) else -1, -1)
    sub = np.where(found, c.sub_ids[np.maximum(idx, 0)] if len(c.C) else -1, -1)
    return Placed(theme.astype(np.int64), sub.astype(np.int64), score, found & (score < core_threshold))


def theme_centroids(C: np.ndarray, theme_ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One centroid per theme: the weighted mean of its sub-theme centroids, normalised."""
    ids = np.array(sorted(set(int(t) for t in theme_ids)), dtype=np.int64)
    T = np.zeros((len(ids), C.shape[1]), np.float64)
    for i, t in enumerate(ids):
        rows = theme_ids == t
        T[i] = np.average(C[rows], axis=0, weights=np.maximum(weights[rows], 1e-6))
    T /= np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-12)
    return T.astype(np.float32), ids


def place_segments(Zs: np.ndarray, doc_theme: np.ndarray, doc_sub: np.ndarray, c: Centroids, segment_threshold: float) -> Placed:
    """Each sentence's theme: `doc_theme`/`doc_sub` are its document's (-1 = none), row for row."""
    n = len(Zs)
    if n == 0 or len(c.T) == 0:
        return Placed(doc_theme.copy(), doc_sub.copy(), np.zeros(n, np.float32), np.zeros(n, bool))
    S = Zs @ c.T.T
    best = S.argmax(axis=1)
    best_score = S[np.arange(n), best]
    pos = {int(t): i for i, t in enumerate(c.T_ids)}
    own = np.array([pos.get(int(t), -1) for t in doc_theme])
    own_score = np.where(own >= 0, S[np.arange(n), np.maximum(own, 0)], -1.0)
    moves = (best_score >= segment_threshold) & (best_score >= own_score + SEGMENT_MARGIN) & (best != own)
    theme = np.where(moves, c.T_ids[best], doc_theme)
    sub = np.where(moves, -1, doc_sub)
    for i in np.flatnonzero(moves):  # the moved sentence's sub-theme: the nearest one of its new theme
        rows = np.flatnonzero((c.theme_ids == theme[i]) & (c.sub_ids >= 0))
        if len(rows):
            sub[i] = c.sub_ids[rows[np.argmax(c.C[rows] @ Zs[i])]]
    score = np.where(moves, best_score, own_score)
    return Placed(theme.astype(np.int64), sub.astype(np.int64), score.astype(np.float32), np.zeros(n, bool))


def segment_threshold(Zdocs: np.ndarray, doc_theme: np.ndarray, c: Centroids) -> float:
    """How well a typical document matches its own theme (the median cosine to its theme's
    centroid): a sentence must match another theme at least this well to leave its document's."""
    return median_or_one(own_theme_similarity(Zdocs, doc_theme, c))


def own_theme_similarity(Zdocs: np.ndarray, doc_theme: np.ndarray, c: Centroids) -> np.ndarray:
    """Each document's cosine to its own theme's centroid (NaN without a theme)."""
    pos = {int(t): i for i, t in enumerate(c.T_ids)}
    rows = [i for i, t in enumerate(doc_theme) if int(t) in pos]
    if not rows:
        return np.full(len(doc_theme), np.nan)
    sims = np.einsum("ij,ij->i", Zdocs[rows], c.T[[pos[int(doc_theme[i])] for i in rows]])
    out = np.full(len(doc_theme), np.nan, sims.dtype)
    out[rows] = sims
    return out


def median_or_one(sims: np.ndarray) -> float:
    sims = sims[~np.isnan(sims)]
    return float(np.median(sims)) if len(sims) else 1.0


# --- the assignment as pure batch functions over raw vectors (local: one batch; --engine ray:
# many, on a cluster) ---------------------------------------------------------------------------

def place_document_batch(debias, project, X: np.ndarray, langs: list[str], c: Centroids, threshold: float,
                         core_threshold: float) -> tuple[Placed, np.ndarray]:
    """Documents' raw vectors -> their places, and each one's cosine to its theme's centroid
    (what `segment_threshold` takes the median of)."""
    Z = space(debias, project, X, langs)
    d = place_documents(Z, c, threshold, core_threshold)
    return d, own_theme_similarity(Z, d.theme, c)


def place_segment_batch(debias, project, X: np.ndarray, langs: list[str], doc_theme: np.ndarray, doc_sub: np.ndarray,
                        c: Centroids, threshold: float) -> Placed:
    """Sentences' raw vectors, with their documents' places -> their own places."""
    return place_segments(space(debias, project, X, langs), doc_theme, doc_sub, c, threshold)
