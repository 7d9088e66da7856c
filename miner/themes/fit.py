"""Theme discovery as a pure batch function: vectors and languages in, clusters out.

    fit sample --LanguageDebias--> BERTopic(UMAP -> HDBSCAN) --> centroids --> every row to
    its nearest centroid (cosine), outliers only below a threshold

The last step is what makes `transform` agree with `fit` (BERTopic users' complaint 4): the
fitted assignment *is* nearest-centroid assignment, the same function later applied to new
segments, so re-assigning fitted segments gives back their fitted theme.
No database access here (the store side is `miner.themes.discover`).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from ..nlp.encoders.base import normalise_rows as normalise
from .debias import LanguageDebias


@dataclass(frozen=True)
class ThemeParams:
    seed: int = 42
    max_fit: int = 20_000  # discovery fits on at most this many segments, then assigns the rest
    min_cluster_size: int = 0  # 0: chosen from the sample size (`auto_min_cluster_size`)
    min_samples: int = 5  # HDBSCAN: fewer outliers at equal NMI than its default (= min_cluster_size)
    umap_neighbors: int = 15
    umap_components: int = 5
    max_outliers: float = 0.15  # at most this share of fitted segments is left without a theme
    outlier_quantile: float = 0.10  # the threshold: this quantile of fitted segments' best cosine
    refine: int = 0  # k-means-style passes over the centroids after HDBSCAN (measured: never helped)
    debias: str = "default"
    min_theme_size: int = 3  # themes left smaller than this after refinement are dissolved

    def to_dict(self) -> dict:
        return asdict(self)


def auto_min_cluster_size(n: int) -> int:
    # Measured on banking77 (n=3k: 5-10 best), the demo corpus (n=1k: 5 better than 10) and
    # food reviews (n=2k: 15-30 collapsed to 2 clusters); bench/research_themes.py.
    return int(max(5, min(50, round(0.003 * n))))


@dataclass
class FitResult:
    labels: np.ndarray  # (n,) theme index, -1 = outlier
    scores: np.ndarray  # (n,) cosine to the assigned centroid (to the best one for outliers)
    method: np.ndarray  # (n,) 'cluster' (HDBSCAN member), 'outlier' (HDBSCAN outlier, reduced: low confidence), 'assigned' (beyond the fit sample)
    centroids: np.ndarray  # (k, d) in the debiased space, L2-normalised
    threshold: float  # below this cosine a row is an outlier
    core_threshold: float  # below this an assignment is low-confidence
    debias: LanguageDebias


def sample_order(keys: list[str], langs: list[str] | None = None) -> np.ndarray:
    """Row order by content key (then language: the same text can sit in documents detected
    as different languages, and debias transforms it differently): the same rows in any input
    order give the same fit, and a grown corpus keeps most of its former sample."""
    langs = langs or [""] * len(keys)
    return np.array(sorted(range(len(keys)), key=lambda i: (keys[i], langs[i])), dtype=np.int64)


def _cluster(X: np.ndarray, params: ThemeParams) -> np.ndarray:
    """HDBSCAN labels over a UMAP reduction, run through BERTopic with our own stages
    (no embedding model: the vectors are given)."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

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
        # NN-descent, 19 without; mostly numba compiling), while one blocked matrix product finds the exact graph in seconds.
        precomputed_knn=(*exact_cosine_knn(X, neighbors), None),
    )
    hdb = HDBSCAN(
        min_cluster_size=mcs,
        min_samples=params.min_samples or None,
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=False,
    )
    # BERTopic's own c-TF-IDF would see all languages through one tokenizer; keywords are
    # computed per language by miner.themes.keywords instead, so its documents are blanks.
    from sklearn.feature_extraction.text import CountVectorizer

    model = BERTopic(
        umap_model=umap, hdbscan_model=hdb, vectorizer_model=CountVectorizer(token_pattern=r"\S+"),
        calculate_probabilities=False, verbose=False,
    )
    with warnings.catch_warnings():
        # "transform will be unavailable" (no search index): BERTopic only needs fit_transform.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        warnings.filterwarnings("ignore", message=r"n_jobs value")
        labels, _ = model.fit_transform(["x y"] * n, embeddings=X)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.max() < 2 and n >= 100:
        # eom sometimes keeps only 1-2 huge clusters (seen on food reviews); leaf then finds
        # the finer structure on the same reduction.
        leaf = HDBSCAN(min_cluster_size=mcs, min_samples=params.min_samples or None, cluster_selection_method="leaf")
        labels = np.asarray(leaf.fit_predict(model.umap_model.embedding_), dtype=np.int64)
    return labels


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


def fit_themes(X: np.ndarray, langs: list[str], keys: list[str], params: ThemeParams) -> FitResult:
    """Cluster rows of X (L2-normalised embeddings) into themes.

    `keys` are content keys (e.g. text hashes) that fix the row order, so the result does not
    depend on the input order; rows beyond `params.max_fit` (by key) are assigned, not fitted.
    """
    n = X.shape[0]
    order = sample_order(keys, [str(x) for x in langs])
    fit_rows = order[: params.max_fit]
    lang_arr = np.asarray(langs, dtype=object)
    debias = LanguageDebias(**({} if params.debias == "default" else {"method": params.debias}))
    debias.fit(X[fit_rows], list(lang_arr[fit_rows]))
    Z = debias.transform(X, langs)
    Zfit = Z[fit_rows]
    # Cluster distinct vectors only: repeated identical rows (the same answer written by many)
    # made UMAP's neighbour graph, and so the theme count, change from run to run (measured: 4
    # vs 58 themes on the same 20k segments); on distinct rows it is reproducible.
    _, first, inverse = np.unique(Zfit, axis=0, return_index=True, return_inverse=True)
    distinct = np.sort(first)
    raw_distinct = _cluster(Zfit[distinct], params) if len(distinct) >= 10 else np.full(len(distinct), -1)
    raw = raw_distinct[np.searchsorted(distinct, first)[np.asarray(inverse).reshape(-1)]]
    k = int(raw.max()) + 1 if raw.size and raw.max() >= 0 else 0
    C = centroids_of(Zfit, raw, k)
    core = raw >= 0
    lab = raw.copy()
    for _ in range(params.refine):
        lab, _sc = nearest(Zfit, C)
        C = centroids_of(Zfit, lab, k)
    lab, sc = nearest(Zfit, C)
    # Dissolve themes left too small to be a theme, then renumber densely.
    sizes = np.bincount(lab[lab >= 0], minlength=k) if k else np.zeros(0, dtype=int)
    keep = np.flatnonzero(sizes >= params.min_theme_size)
    C = C[keep]
    lab, sc = nearest(Zfit, C)
    # Outliers: under the `outlier_quantile` of the sample's best similarity (never more than
    # `max_outliers`). Low confidence: under the 5th percentile of HDBSCAN core members'.
    if C.shape[0] and core.any():
        core_threshold = float(np.quantile(sc[core], 0.05))
        threshold = float(np.quantile(sc, min(params.outlier_quantile, params.max_outliers)))
    else:
        core_threshold = threshold = 1.0
    all_lab, all_sc = nearest(Z, C)
    all_lab[all_sc < threshold] = -1
    method = np.full(n, "assigned", dtype=object)
    method[fit_rows] = np.where(core, "cluster", "outlier")
    return FitResult(all_lab, all_sc, method, C, threshold, core_threshold, debias)
