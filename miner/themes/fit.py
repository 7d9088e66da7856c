"""Theme discovery as a pure batch function: document vectors and languages in, a two-level
hierarchy of themes out. No database access here (the store side is `miner.themes.discover`).

    documents --center each language--> --concept projection--> UMAP -> HDBSCAN = sub-themes
    sub-theme centroids --average linkage (cosine), cut at `merge_distance`--> themes
    every document -> its nearest sub-theme (cosine) -> that sub-theme's theme

Why documents, not sentences: on cross-lingual complaint data (xling_dev, 16 topics in 10
languages) the whole document's vector found the complaint far better than its sentences did
(k-means NMI 0.650 against 0.526 for its sentences' vectors averaged; the sentence themes of
earlier versions scored 0.487; docs/benchmarks.md). A sentence with no content of its own ("Pas encore ça") is given its
document's theme by `miner.themes.discover`, not a theme of its own.

The last step is what makes later assignment agree with the fit (BERTopic users' complaint 4):
the fitted assignment *is* nearest-centroid assignment, the rule later applied to new data.
UMAP and HDBSCAN are BERTopic's default stages, called directly: importing the BERTopic class
costs 5 s (it loads transformers and spaCy), which dominated small runs.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from ..nlp.encoders.base import normalise_rows as normalise
from .debias import LanguageDebias
from .umap_import import import_umap


@dataclass(frozen=True)
class ThemeParams:
    seed: int = 42
    max_fit: int = 20_000  # discovery fits on at most this many documents, then assigns the rest
    min_cluster_size: int = 0  # smallest sub-theme HDBSCAN may form; 0: from the data size
    min_samples: int = 5
    umap_neighbors: int = 15
    umap_components: int = 5
    max_outliers: float = 0.15  # at most this share of fitted documents is left without a theme
    outlier_quantile: float = 0.05  # the threshold: this quantile of fitted documents' best cosine
    debias: str = "center"
    concepts: bool = True  # align languages with the concept lexicon's projection
    merge_distance: float = 0.65  # sub-themes closer than this (average cosine distance) form one theme; 0.55-0.7 alike on xling_dev
    max_themes: int = 0  # at most this many themes (0: as the data gives)
    min_size: int = 3  # a theme with fewer documents joins its nearest theme

    def to_dict(self) -> dict:
        return asdict(self)


def auto_min_cluster_size(n: int) -> int:
    # Sub-themes of 5+ documents up to 10k documents (on xling_dev 5 and 8 alike, 12 coarser:
    # bench/research_document_themes.py; banking77's 77 intents want small ones), growing slowly
    # above so that 200k documents give hundreds, not thousands.
    return int(max(5, min(50, round(n / 2000))))


@dataclass
class FitResult:
    sub_of: np.ndarray  # (n,) sub-theme index of each row, -1 = outlier
    theme_of_sub: np.ndarray  # (s,) theme index of each sub-theme
    scores: np.ndarray  # (n,) cosine to the nearest sub-theme centroid
    method: np.ndarray  # (n,) 'cluster' (HDBSCAN member), 'outlier' (HDBSCAN outlier, low confidence), 'assigned'
    sub_centroids: np.ndarray  # (s, D) in the clustering space, L2-normalised
    threshold: float  # below this cosine a row is an outlier
    core_threshold: float  # below this an assignment is low-confidence
    debias: LanguageDebias
    stats: dict = field(default_factory=dict)

    @property
    def theme_of(self) -> np.ndarray:
        """(n,) theme index of each row, -1 = outlier."""
        return np.where(self.sub_of >= 0, self.theme_of_sub[np.maximum(self.sub_of, 0)], -1) if len(self.theme_of_sub) else np.full(len(self.sub_of), -1)


def sample_order(keys: list[str], langs: list[str] | None = None) -> np.ndarray:
    """Row order by content key (then language: the same text can sit in documents detected
    as different languages, and debias transforms it differently): the same rows in any input
    order give the same fit, and a grown corpus keeps most of its former sample."""
    langs = langs or [""] * len(keys)
    return np.array(sorted(range(len(keys)), key=lambda i: (keys[i], langs[i])), dtype=np.int64)


def multilingual(langs: list[str], min_docs: int = 20) -> bool:
    """Two or more languages with `min_docs` documents each (LanguageDebias's own minimum): only
    then has the concept projection languages to align (on English-only banking77 it moved the
    share of neighbours on the same intent by one point: docs/benchmarks.md)."""
    return sum(n >= min_docs for n in Counter(langs).values()) >= 2


def space(debias: LanguageDebias, project, X: np.ndarray, langs: list[str]) -> np.ndarray:
    """The clustering space of raw vectors: language-debiased, then (optionally) projected."""
    Z = debias.transform(X, langs)
    return project(Z) if project is not None else Z


def label_rows(debias: LanguageDebias, project, C: np.ndarray, X: np.ndarray, langs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(nearest sub-theme, cosine) of raw rows X: the space, then `nearest`. A pure batch
    function: `fit_themes` labels every row with it, and `--engine ray` maps it over batches."""
    return nearest(space(debias, project, X, langs), C)


def fit_themes(X: np.ndarray, langs: list[str], keys: list[str], params: ThemeParams, project=None, label=None) -> FitResult:
    """Cluster rows of X (L2-normalised document vectors) into sub-themes and themes.

    `keys` are content keys (e.g. text hashes) that fix the row order, so the result does not
    depend on the input order; rows beyond `params.max_fit` (by key) are assigned, not fitted.
    `project`: a function applied after the language debias (the concept projection).
    `label`: how every row is labelled once the fit is done, `label_rows`'s signature (default:
    here, at once; `--engine ray` maps `label_rows` over batches on a cluster).
    """
    n = X.shape[0]
    order = sample_order(keys, [str(x) for x in langs])
    fit_rows = order[: params.max_fit]
    lang_arr = np.asarray(langs, dtype=object)
    debias = LanguageDebias(params.debias).fit(X[fit_rows], list(lang_arr[fit_rows]))
    if label is None:
        Z = space(debias, project, X, langs)
        Zfit = Z[fit_rows]
    else:  # only the sample's rows here: the rest are the labeller's
        Zfit = space(debias, project, X[fit_rows], list(lang_arr[fit_rows]))
    raw = _cluster_distinct(Zfit, params)
    k = int(raw.max()) + 1 if raw.size and raw.max() >= 0 else 0
    C = centroids_of(Zfit, raw, k)
    lab, sc = nearest(Zfit, C)
    # Dissolve sub-themes left too small, then renumber densely.
    sizes = np.bincount(lab[lab >= 0], minlength=k) if k else np.zeros(0, dtype=int)
    C = C[np.flatnonzero(sizes >= min(params.min_size, 3))]
    lab, sc = nearest(Zfit, C)
    core = raw >= 0
    if C.shape[0] and core.any():
        core_threshold = float(np.quantile(sc[core], 0.05))
        threshold = float(np.quantile(sc, min(params.outlier_quantile, params.max_outliers)))
    else:
        core_threshold = threshold = 1.0
    all_lab, all_sc = nearest(Z, C) if label is None else label(debias, project, C, X, langs)
    all_lab[all_sc < threshold] = -1
    theme_of_sub = merge_subthemes(C, np.bincount(all_lab[all_lab >= 0], minlength=len(C)), params)
    method = np.full(n, "assigned", dtype=object)
    method[fit_rows] = np.where(core, "cluster", "outlier")
    stats = {"documents": n, "fitted": len(fit_rows), "subthemes": len(C), "themes": int(theme_of_sub.max()) + 1 if len(C) else 0}
    return FitResult(all_lab, theme_of_sub, all_sc, method, C, threshold, core_threshold, debias, stats)


def _cluster_distinct(Zfit: np.ndarray, params: ThemeParams) -> np.ndarray:
    """HDBSCAN labels of every row, computed on the distinct rows: repeated identical rows (the
    same answer written by many) made UMAP's neighbour graph, and so the theme count, change from
    run to run (measured: 4 vs 58 themes on the same 20k segments); on distinct rows it is
    reproducible."""
    _, first, inverse = np.unique(Zfit, axis=0, return_index=True, return_inverse=True)
    distinct = np.sort(first)
    raw_distinct = _cluster(Zfit[distinct], params) if len(distinct) >= 10 else np.full(len(distinct), -1)
    return raw_distinct[np.searchsorted(distinct, first)[np.asarray(inverse).reshape(-1)]]


def _cluster(X: np.ndarray, params: ThemeParams) -> np.ndarray:
    """HDBSCAN labels over a UMAP reduction (cosine, on the exact neighbour graph)."""
    from hdbscan import HDBSCAN

    UMAP = import_umap()
    n = X.shape[0]
    mcs = params.min_cluster_size or auto_min_cluster_size(n)
    neighbors = min(params.umap_neighbors, max(2, n - 1))
    umap = UMAP(
        n_neighbors=neighbors,
        n_components=min(params.umap_components, max(2, n - 2)),
        min_dist=0.0,
        metric="cosine",
        random_state=params.seed,  # also makes UMAP single-threaded: reproducible
        low_memory=True,
        # Exact neighbours instead of UMAP's NN-descent: NN-descent's numba code compiles anew
        # in every process (measured on 10k rows: 42 CPU seconds for the clustering with
        # NN-descent, 19 without), while one blocked matrix product finds the exact graph in seconds.
        precomputed_knn=(*exact_cosine_knn(X, neighbors), None),
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")  # no NN-descent index: we never call transform
        warnings.filterwarnings("ignore", message=r"n_jobs value")
        reduced = umap.fit_transform(X)
    labels = HDBSCAN(min_cluster_size=mcs, min_samples=params.min_samples or None, cluster_selection_method="eom").fit_predict(reduced)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.max() < 2 and n >= 100:
        # eom sometimes keeps only 1-2 huge clusters (seen on food reviews); leaf then finds
        # the finer structure on the same reduction.
        leaf = HDBSCAN(min_cluster_size=mcs, min_samples=params.min_samples or None, cluster_selection_method="leaf")
        labels = np.asarray(leaf.fit_predict(reduced), dtype=np.int64)
    return labels


def merge_subthemes(C: np.ndarray, sizes: np.ndarray, params: ThemeParams) -> np.ndarray:
    """Theme index of each sub-theme: average-linkage clusters of the sub-theme centroids cut at
    `merge_distance` (at most `max_themes`); a theme under `min_size` documents joins the theme
    whose centroid is nearest."""
    s = len(C)
    if s == 0:
        return np.zeros(0, dtype=np.int64)
    if s == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(C.astype(np.float64), method="average", metric="cosine")
    groups = fcluster(tree, t=params.merge_distance, criterion="distance") - 1
    if params.max_themes and groups.max() + 1 > params.max_themes:
        groups = fcluster(tree, t=params.max_themes, criterion="maxclust") - 1
    return _absorb_small(C, sizes, _dense(groups), params.min_size)


def _dense(groups: np.ndarray) -> np.ndarray:
    """Renumber 0..k-1 in order of first appearance (sub-theme order is the fit's, by content key)."""
    seen: dict[int, int] = {}
    return np.array([seen.setdefault(int(g), len(seen)) for g in groups], dtype=np.int64)


def _absorb_small(C: np.ndarray, sizes: np.ndarray, groups: np.ndarray, min_size: int) -> np.ndarray:
    groups = groups.copy()
    while True:
        k = groups.max() + 1
        totals = np.bincount(groups, weights=sizes, minlength=k)
        small = [g for g in np.argsort(totals, kind="stable") if totals[g] < min_size]
        if not small or k == 1:
            return _dense(groups)
        g = small[0]
        cents = normalise(np.stack([np.average(C[groups == j], axis=0, weights=np.maximum(sizes[groups == j], 1)) for j in range(k)]))
        sims = cents @ cents[g]
        sims[g] = -np.inf
        groups[groups == g] = int(np.argmax(sims))


def exact_cosine_knn(X: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows (itself first) and their cosine distances, for L2-normalised X.
    O(n^2) but one matrix product and one top-k per chunk (torch's top-k: numpy's argpartition
    took 5 of the 7.5 s on 20k rows, torch does it all in 2.4 s); chunks bound memory."""
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    idx = np.empty((len(Xf), k), dtype=np.int32)
    dist = np.empty((len(Xf), k), dtype=np.float32)
    try:
        import torch
    except ImportError:  # the torch-less install (C engine): same result, slower
        torch = None
    for s in range(0, len(Xf), chunk):
        rows = np.arange(min(chunk, len(Xf) - s))
        if torch is not None:
            with torch.inference_mode():
                S = torch.from_numpy(Xf[s : s + chunk]) @ torch.from_numpy(Xf).T
                S[rows, rows + s] = float("inf")  # self first, even among duplicates
                sims_t, part_t = torch.topk(S, k, dim=1, sorted=True)
                sims, part = sims_t.numpy(), part_t.numpy()
        else:
            S = Xf[s : s + chunk] @ Xf.T
            S[rows, rows + s] = np.inf
            part = np.argpartition(-S, k - 1, axis=1)[:, :k]
            sims = np.take_along_axis(S, part, axis=1)
            order = np.argsort(-sims, axis=1, kind="stable")
            part, sims = np.take_along_axis(part, order, axis=1), np.take_along_axis(sims, order, axis=1)
        idx[s : s + chunk] = part
        sims[:, 0] = 1.0
        dist[s : s + chunk] = np.clip(1.0 - sims, 0.0, 2.0)
    return idx, dist


def centroids_of(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    C = np.zeros((k, X.shape[1]), dtype=np.float64)
    np.add.at(C, labels[labels >= 0], X[labels >= 0])
    return normalise(C.astype(np.float32))


def nearest(X: np.ndarray, C: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(index, cosine) of each row's nearest centroid; chunked so 200k rows stay small."""
    idx = np.empty(X.shape[0], dtype=np.int64)
    best = np.empty(X.shape[0], dtype=np.float32)
    if C.shape[0] == 0:
        idx[:] = -1
        best[:] = -1.0
        return idx, best
    for s in range(0, X.shape[0], chunk):
        S = X[s : s + chunk] @ C.T
        idx[s : s + chunk] = S.argmax(axis=1)
        best[s : s + chunk] = S.max(axis=1)
    return idx, best
