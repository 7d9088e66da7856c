"""`miner themes discover --engine ray`: the fit on the driver, the assignment on a Ray cluster.

What runs where:

- The driver (beside the SQLite store) reads the informative documents and sentences with
  their cached vectors, as the local engine does, and fits the themes on its bounded sample
  (`ThemeParams.max_fit` documents: debias, concept projection, UMAP, HDBSCAN), matches them
  to the previous run's themes and labels them.
- The cluster labels and places every document and sentence, a batch (`batch_rows` rows) per
  Ray task, with the local engine's own pure batch functions: `fit.label_rows` (each
  document's nearest sub-theme, which sizes the sub-themes before they are merged into
  themes), `placement.place_document_batch` and `placement.place_segment_batch`.
- The driver writes the placed rows as batches come back, inside the run's one transaction
  (an interrupted run leaves the previous themes, as the local engine does).

Faults: a task whose worker dies is retried by Ray (`max_retries`); each batch is written once.
Transport: batches and results travel as npz bytes (`miner.arrays`, no pickle of our own).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from ..arrays import pack_arrays, unpack_arrays
from ..errors import UsageError
from ..themes.discover import DiscoverSummary, discover
from ..themes.placement import Centroids, Placed
from .ray_common import RayOptions, connect, import_ray, map_tasks


@dataclass
class ThemesRayStats:
    batches: int = 0  # tasks run on the cluster (labelling, documents, sentences)
    rows: int = 0  # documents and sentences placed on the cluster (documents counted twice: labelled, then placed)
    connect_seconds: float = 0.0
    cluster_seconds: float = 0.0  # the driver from sending the first batch of a pass to writing its last result
    worker_seconds: float = 0.0  # summed inside the tasks' batch functions
    write_seconds: float = 0.0  # the driver's inserts of placed rows (inside the run's transaction)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def discover_ray(
    db: sqlite_utils.Database,
    *,
    options: RayOptions | None = None,
    batch_rows: int = 20_000,
    **discover_options,
) -> tuple[DiscoverSummary, ThemesRayStats]:
    """`discover` (its keyword options as they are) with every document and sentence placed on
    Ray: the same store as local."""
    options = options or RayOptions()
    options.check()
    if batch_rows < 1:
        raise UsageError("E742", "rows per batch must be at least 1.", "Use the default.")
    ray = import_ray()
    placer = RayPlacer(ray, options, batch_rows)
    try:
        summary = discover(db, placer=placer, **discover_options)
    finally:
        placer.close()
    return summary, placer.stats


class RayPlacer:
    """The placer contract of `miner.themes.discover.LocalPlacer`, on a Ray cluster (joined, or a
    local instance started, at the first batch: a run with nothing to fit starts nothing)."""

    def __init__(self, ray, options: RayOptions, batch_rows: int):
        self.ray, self.options, self.batch_rows = ray, options, batch_rows
        self.stats = ThemesRayStats()
        self.connected = self.stopping = False
        self.write_started = 0.0

    def close(self) -> None:
        if self.stopping:
            self.ray.shutdown()
        self.stopping = False

    def _map(self, fn, shared: bytes, items: list):
        if not self.connected:
            self.stopping, seconds = connect(self.ray, self.options)
            self.connected = True
            self.stats.connect_seconds += seconds
        started = time.perf_counter()
        for i, blob in map_tasks(self.ray, fn, items, shared=shared, workers=self.options.workers):
            result = unpack_arrays(blob)
            self.stats.batches += 1
            self.stats.worker_seconds += float(result.pop("seconds"))
            w = time.perf_counter()
            yield i, result
            self.stats.write_seconds += time.perf_counter() - w
        self.stats.cluster_seconds += time.perf_counter() - started

    def _slices(self, n: int) -> list[slice]:
        return [slice(a, min(n, a + self.batch_rows)) for a in range(0, n, self.batch_rows)]

    def _items(self, X: np.ndarray, langs: list[str], **per_row: np.ndarray) -> tuple[list[slice], list[bytes]]:
        slices = self._slices(len(X))
        self.stats.rows += len(X)
        return slices, [pack_arrays({"X": X[s].astype(np.float32, copy=False), "langs": np.array(langs[s], dtype=str),
                                     **{k: v[s] for k, v in per_row.items()}}) for s in slices]

    def label(self, debias, project, C: np.ndarray, X: np.ndarray, langs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        lab, sc = np.full(len(X), -1, np.int64), np.full(len(X), -1.0, np.float32)
        slices, items = self._items(X, list(langs))
        for i, r in self._map(_label_task, _shared(debias, project, {"C": C}), items):
            lab[slices[i]], sc[slices[i]] = r["lab"], r["sc"]
        return lab, sc

    def place_documents(self, debias, project, X, langs, c: Centroids, threshold: float, core_threshold: float):
        slices, items = self._items(X, list(langs))
        shared = _shared(debias, project, _centroid_arrays(c) | {"threshold": np.array(threshold), "core": np.array(core_threshold)})
        for i, r in self._map(_documents_task, shared, items):
            yield np.arange(len(X))[slices[i]], Placed(r["theme"], r["sub"], r["score"], r["low"]), r["sims"]

    def place_segments(self, debias, project, X, langs, doc_theme, doc_sub, c: Centroids, threshold: float):
        slices, items = self._items(X, list(langs), doc_theme=np.asarray(doc_theme, np.int64), doc_sub=np.asarray(doc_sub, np.int64))
        shared = _shared(debias, project, _centroid_arrays(c) | {"threshold": np.array(threshold)})
        for i, r in self._map(_segments_task, shared, items):
            yield np.arange(len(X))[slices[i]], Placed(r["theme"], r["sub"], r["score"], r["low"])


def _centroid_arrays(c: Centroids) -> dict:
    return {"C": c.C, "sub_ids": c.sub_ids, "theme_ids": c.theme_ids, "T": c.T, "T_ids": c.T_ids}


def _shared(debias, project, arrays: dict) -> bytes:
    """What every task of a pass needs, as npz bytes: the debias, the concept projection (if
    any: `project` is a `ConceptSpace.project`) and the centroids."""
    out = {f"debias.{k}": v for k, v in debias.to_arrays().items()} | arrays
    if project is not None:
        out |= {f"concepts.{k}": v for k, v in project.__self__.to_arrays().items()}
    return pack_arrays(out)


def _unshared(blob: bytes):
    from ..concepts.space import ConceptSpace
    from ..themes.debias import LanguageDebias

    a = unpack_arrays(blob)
    debias = LanguageDebias.from_arrays({k[7:]: v for k, v in a.items() if k.startswith("debias.")})
    concepts = {k[9:]: v for k, v in a.items() if k.startswith("concepts.")}
    project = ConceptSpace.from_arrays(concepts).project if concepts else None
    return debias, project, a


def _centroids(a: dict) -> Centroids:
    return Centroids(a["C"], a["sub_ids"], a["theme_ids"], a["T"], a["T_ids"])


def _batch(item: bytes) -> tuple[np.ndarray, list[str], dict]:
    b = unpack_arrays(item)
    return b["X"], [str(x) for x in b["langs"].tolist()], b


# --- the tasks (on the workers): decode, the local engine's batch function, encode -------------

def _label_task(shared: bytes, item: bytes) -> bytes:
    from ..themes.fit import label_rows

    started = time.perf_counter()
    debias, project, a = _unshared(shared)
    X, langs, _ = _batch(item)
    lab, sc = label_rows(debias, project, a["C"], X, langs)
    return pack_arrays({"lab": lab, "sc": sc, "seconds": np.array(time.perf_counter() - started), "pid": np.array(os.getpid())})


def _documents_task(shared: bytes, item: bytes) -> bytes:
    from ..themes.placement import place_document_batch

    started = time.perf_counter()
    debias, project, a = _unshared(shared)
    X, langs, _ = _batch(item)
    d, sims = place_document_batch(debias, project, X, langs, _centroids(a), float(a["threshold"]), float(a["core"]))
    return pack_arrays({"theme": d.theme, "sub": d.sub, "score": d.score, "low": d.low, "sims": sims,
                        "seconds": np.array(time.perf_counter() - started), "pid": np.array(os.getpid())})


def _segments_task(shared: bytes, item: bytes) -> bytes:
    from ..themes.placement import place_segment_batch

    started = time.perf_counter()
    debias, project, a = _unshared(shared)
    X, langs, b = _batch(item)
    s = place_segment_batch(debias, project, X, langs, b["doc_theme"], b["doc_sub"], _centroids(a), float(a["threshold"]))
    return pack_arrays({"theme": s.theme, "sub": s.sub, "score": s.score, "low": s.low,
                        "seconds": np.array(time.perf_counter() - started), "pid": np.array(os.getpid())})
