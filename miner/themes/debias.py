"""Remove language identity from multilingual embeddings before clustering them into themes.

e5 vectors cluster by language before topic: the same complaint in Chinese and Persian lands
in two clusters. Language lives in more than the mean (after per-language centring, the 10
nearest neighbours of a text stayed 95% in its own language), so the methods stack:

- ``center``: subtract each language's mean.
- ``standardize``: centre, then rescale each dimension to the pooled within-language spread.
- ``coral`` (the default): centre, then whiten each language with its own covariance and
  re-colour with the pooled one (CORAL), so that every language has the same second moments.
  Covariances are shrunk towards a scaled identity, by OAS (``shrinkage="auto"``) unless given:
  a language with few samples is shrunk more, so it is not over-whitened.
- ``subspace``: centre, then project out the top-k directions of the per-language means.
- ``inlp``: centre, then iterative nullspace projection: fit a linear language classifier,
  project out its weight directions, repeat until it is near chance.
- ``none``: only L2-normalise (the ablation).

Steps combine with ``+`` (e.g. ``"coral+inlp"``). Languages with fewer than ``min_count``
samples, and languages unseen at fit, get the global statistics (global mean, identity
re-colouring); projections are global, so they apply to every language. Everything is
deterministic (the classifier's subsample is seeded) and stored as plain arrays.
"""

from __future__ import annotations

import json

import numpy as np

_STEPS = ("center", "standardize", "coral", "subspace", "inlp")
_ALIASES = {"none": (), "center": ("center",)}


def _parse(method: str) -> tuple[str, ...]:
    if method in _ALIASES:
        return _ALIASES[method]
    steps = tuple(s.strip() for s in method.split("+") if s.strip())
    bad = [s for s in steps if s not in _STEPS]
    if not steps or bad:
        raise ValueError(f"unknown debias method {method!r}; use none or a '+' combination of {', '.join(_STEPS)}")
    return steps


def _normalise(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return (X / np.maximum(norms, 1e-12)).astype(np.float32)


def _sym_power(C: np.ndarray, power: float) -> np.ndarray:
    vals, vecs = np.linalg.eigh(C)
    vals = np.maximum(vals, 1e-8 * max(float(vals.max()), 1e-12))
    return (vecs * vals**power) @ vecs.T


def _shrunk_cov(Z: np.ndarray, shrinkage: float | str) -> np.ndarray:
    """Covariance of centred rows shrunk towards a scaled identity; "auto" = the OAS amount
    (Chen et al. 2010, as in sklearn.covariance.oas): few samples, more shrinkage."""
    n, d = Z.shape
    C = (Z.T @ Z) / max(n, 1)
    mu = np.trace(C) / d
    if shrinkage == "auto":
        alpha = np.mean(C**2)
        den = (n + 1) * (alpha - mu**2 / d)
        shrinkage = 1.0 if den <= 0 else min((alpha + mu**2) / den, 1.0)
    out = (1.0 - shrinkage) * C
    out.flat[:: d + 1] += shrinkage * mu
    return out


class LanguageDebias:
    def __init__(
        self,
        method: str = "coral",
        *,
        min_count: int = 20,
        k: int = 8,
        iterations: int = 10,
        max_rank: int = 32,
        shrinkage: float | str = "auto",
        inlp_sample: int = 10000,
        inlp_stop: float = 0.02,
        seed: int = 0,
    ):
        self.steps = _parse(method)
        self.method = method
        self.params = {
            "min_count": int(min_count), "k": int(k), "iterations": int(iterations), "max_rank": int(max_rank),
            "shrinkage": shrinkage if shrinkage == "auto" else float(shrinkage), "inlp_sample": int(inlp_sample), "inlp_stop": float(inlp_stop), "seed": int(seed),
        }
        self.langs: list[str] = []
        self.global_mean: np.ndarray | None = None
        self.means: np.ndarray | None = None  # (L, d)
        self.scales: np.ndarray | None = None  # (L, d), standardize
        self.maps: np.ndarray | None = None  # (L, d, d), coral
        self.basis: np.ndarray | None = None  # (r, d) orthonormal rows projected out

    # -- fit -----------------------------------------------------------------------------
    def fit(self, X: np.ndarray, langs: list[str]) -> LanguageDebias:
        X = np.asarray(X, dtype=np.float64)
        lang_arr = np.asarray([str(x) for x in langs])
        if X.ndim != 2 or len(lang_arr) != X.shape[0]:
            raise ValueError("X must be (n, d) with one language per row")
        d = X.shape[1]
        codes, counts = np.unique(lang_arr, return_counts=True)
        self.langs = [str(c) for c, n in zip(codes, counts) if n >= self.params["min_count"]]
        self.global_mean = X.mean(axis=0) if len(X) else np.zeros(d)
        self.means = np.stack([X[lang_arr == c].mean(axis=0) for c in self.langs]) if self.langs else np.zeros((0, d))
        self.scales = self.maps = None
        self.basis = np.zeros((0, d))
        if not self.steps:
            return self
        Z = X - self._mean_rows(lang_arr)
        if "standardize" in self.steps:
            pooled = Z.std(axis=0) + 1e-6
            self.scales = np.stack([pooled / (Z[lang_arr == c].std(axis=0) + 1e-6) for c in self.langs]) if self.langs else np.zeros((0, d))
            Z = Z * self._scale_rows(lang_arr)
        if "coral" in self.steps:
            s = self.params["shrinkage"]
            colour = _sym_power(_shrunk_cov(Z, s), 0.5)
            maps = [_sym_power(_shrunk_cov(Z[lang_arr == c], s), -0.5) @ colour for c in self.langs]
            self.maps = np.stack(maps) if maps else np.zeros((0, d, d))
            Z = self._apply_maps(Z, lang_arr)
        if "subspace" in self.steps and len(self.langs) > 1:
            self._add_basis(self._mean_directions(X, lang_arr))
        if "inlp" in self.steps and len(self.langs) > 1:
            # On per-language centred data a linear classifier is at chance (the means are
            # equal), so INLP learns from the uncentred vectors; projecting commutes with centring.
            self._inlp(X - self.global_mean, lang_arr)
        return self

    def _mean_directions(self, X: np.ndarray, lang_arr: np.ndarray) -> np.ndarray:
        # Directions along which the language means differ, weighted by language size.
        weights = np.sqrt(np.array([(lang_arr == c).sum() for c in self.langs], dtype=np.float64))
        centre = np.average(self.means, axis=0, weights=weights**2)
        _, sv, vt = np.linalg.svd((self.means - centre) * weights[:, None], full_matrices=False)
        k = min(self.params["k"], int((sv > 1e-9 * max(sv.max(), 1e-12)).sum()))
        return vt[:k]

    def _inlp(self, Z: np.ndarray, lang_arr: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        keep = np.isin(lang_arr, self.langs)
        Z, y = Z[keep], lang_arr[keep]
        rng = np.random.default_rng(self.params["seed"])
        if len(y) > self.params["inlp_sample"]:
            # Sort rows by content first, so that the seeded sample does not depend on input order.
            order = np.lexsort(Z[:, :3].T[::-1])
            pick = order[np.sort(rng.choice(len(y), self.params["inlp_sample"], replace=False))]
            Z, y = Z[pick], y[pick]
        Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
        majority = np.unique(y, return_counts=True)[1].max() / len(y)
        for _ in range(self.params["iterations"]):
            if self.basis.shape[0] >= self.params["max_rank"]:
                break
            P = self._project(Z)
            clf = LogisticRegression(C=1.0, max_iter=300, tol=1e-4)
            clf.fit(P, y)
            if clf.score(P, y) <= majority + self.params["inlp_stop"]:
                break
            room = self.params["max_rank"] - self.basis.shape[0]
            self._add_basis(clf.coef_[:room])

    def _add_basis(self, dirs: np.ndarray) -> None:
        dirs = dirs - (dirs @ self.basis.T) @ self.basis if self.basis.shape[0] else dirs
        q, r = np.linalg.qr(dirs.T)
        good = np.abs(np.diag(r)) > 1e-8
        self.basis = np.vstack([self.basis, q[:, good].T])

    # -- transform -----------------------------------------------------------------------
    def _index(self, lang_arr: np.ndarray) -> np.ndarray:
        pos = {c: i for i, c in enumerate(self.langs)}
        return np.array([pos.get(str(c), -1) for c in lang_arr], dtype=np.int64)

    def _mean_rows(self, lang_arr: np.ndarray) -> np.ndarray:
        idx = self._index(lang_arr)
        table = np.vstack([self.means, self.global_mean[None, :]])
        return table[idx]  # -1 picks the global mean

    def _scale_rows(self, lang_arr: np.ndarray) -> np.ndarray:
        idx = self._index(lang_arr)
        table = np.vstack([self.scales, np.ones((1, self.scales.shape[1]))])
        return table[idx]

    def _apply_maps(self, Z: np.ndarray, lang_arr: np.ndarray) -> np.ndarray:
        idx = self._index(lang_arr)
        out = Z.copy()  # unseen languages keep the identity map
        for i in range(len(self.langs)):
            rows = np.flatnonzero(idx == i)
            if len(rows):
                # float32 products: twice as fast, far below the precision clustering needs
                out[rows] = Z[rows].astype(np.float32) @ self.maps[i].astype(np.float32)
        return out

    def _project(self, Z: np.ndarray) -> np.ndarray:
        if self.basis is None or not self.basis.shape[0]:
            return Z
        return Z - (Z @ self.basis.T) @ self.basis

    def transform(self, X: np.ndarray, langs: list[str]) -> np.ndarray:
        if self.global_mean is None:
            raise ValueError("LanguageDebias.transform before fit")
        X = np.asarray(X, dtype=np.float64)
        lang_arr = np.asarray([str(x) for x in langs])
        if len(lang_arr) != X.shape[0]:
            raise ValueError("one language per row is required")
        if not self.steps:
            return _normalise(X)
        Z = X - self._mean_rows(lang_arr)
        if self.scales is not None:
            Z = Z * self._scale_rows(lang_arr)
        if self.maps is not None:
            Z = self._apply_maps(Z, lang_arr)
        return _normalise(self._project(Z))

    # -- storage (plain arrays, no pickle) ---------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        if self.global_mean is None:
            raise ValueError("LanguageDebias.to_arrays before fit")
        d = self.global_mean.shape[0]
        config = json.dumps({"method": self.method, **self.params}, sort_keys=True)
        out = {
            "config": np.array(config),
            "langs": np.array(self.langs, dtype=str) if self.langs else np.zeros(0, dtype="<U1"),
            "global_mean": self.global_mean.astype(np.float64),
            "means": self.means.astype(np.float64),
            "basis": (self.basis if self.basis is not None else np.zeros((0, d))).astype(np.float64),
        }
        if self.scales is not None:
            out["scales"] = self.scales.astype(np.float64)
        if self.maps is not None:
            out["maps"] = self.maps.astype(np.float64)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LanguageDebias:
        config = json.loads(str(np.asarray(arrays["config"])))
        method = config.pop("method")
        obj = cls(method, **config)
        obj.langs = [str(x) for x in np.asarray(arrays["langs"]).tolist()]
        obj.global_mean = np.asarray(arrays["global_mean"], dtype=np.float64)
        obj.means = np.asarray(arrays["means"], dtype=np.float64).reshape(len(obj.langs), obj.global_mean.shape[0])
        obj.basis = np.asarray(arrays["basis"], dtype=np.float64).reshape(-1, obj.global_mean.shape[0])
        obj.scales = np.asarray(arrays["scales"], dtype=np.float64) if "scales" in arrays else None
        obj.maps = np.asarray(arrays["maps"], dtype=np.float64) if "maps" in arrays else None
        return obj
