"""`miner analyze --engine ray`: the encoder and the sentiment head on a Ray cluster.

What runs where:

- The driver (the machine holding the SQLite store) reads the pending documents in id order,
  as the local engine does, in units of `batch_documents`. For each unit it reads the
  segments (`analyze.batch_segments`), the texts the encoder must read (`analyze.batch_texts`)
  and looks them up in the embedding cache. A unit whose texts are all cached never leaves the
  driver: its sentiment is computed there (`analyze.sentiment_batch`) and written at once.
  Any other unit goes out with its cached vectors, so a text already embedded is never
  embedded again.
- A Ray Dataset (`from_items` over unit slots, then `map_batches` with an actor pool of
  `workers` actors, each with its encoder and head loaded once, on CPU or on CUDA when
  `gpus_per_worker` > 0) runs the local engine's own batch functions on each unit: the
  encoder (`nlp.cache.embed_texts`, without a cache), sentiment (`analyze.sentiment_batch`),
  and, where the store has themes or a touchpoint model, the assignment of the unit's new
  documents and segments from its fresh vectors (`themes.assign.place_new`,
  `touchpoints.model.assign_new`: both per document, so a unit decides as the whole run would).
- The driver writes each unit's new vectors, sentiment, theme and touchpoint rows in one
  transaction as results stream in (SQLite keeps one writer), then hands out the next unit.
  What no worker assigned (units whose texts were all cached, documents not pending) gets its
  themes and touchpoints on the driver at the end, from cached vectors, as the local engine
  does. Units wait in a small feeder actor (at most `ahead` of them), so memory stays
  bounded however many documents are pending.

Fault tolerance: Ray restarts a dead actor and retries its task (Ray Data's actor pools
default to unlimited restarts and retries); a retried slot gets the same unit back from the
feeder, and the driver writes a unit once (INSERT OR REPLACE, and it skips a unit it has
written). A unit lost any other way stays pending and the next round takes it. A killed driver
leaves the store as the local engine does: written units are done, the rest are pending, and
vectors already written are not embedded again.

Transport: units and results travel as JSON text and npz bytes (`miner.arrays`); Ray itself
serialises the calls between the driver and its workers.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from ..analyze import (
    DOCUMENT_MODE_SETTING, AnalyzeSummary, assign_new_segments, batch_segments, batch_texts, document_mode_of, new_summary, pending_batch, pending_count,
    sentiment_batch, use_head, write_sentiment, write_sentiment_rows, SentimentRows,
)
from ..segments.vectors import document_facts, documents_from_rows, informative_rows, segments_from_rows
from ..themes.assign import NewThemes, ThemeCounts, place_new, stored_document_themes, theme_state_for, themed_segments, write_new_themes
from ..themes.state import ThemeState, stored_rows
from ..touchpoints.model import (
    Assigned, Labels, TouchpointCounts, TouchpointModel, assign_new, documents_of_segments, stored_labels, touchpoint_model_for,
    write_assigned,
)
from ..arrays import pack_arrays, unpack_arrays
from ..errors import UsageError
from ..nlp.cache import EmbeddingCache, EmbedStats, embed_texts, text_hash
from ..nlp.encoders.registry import encoder_on, get_encoder
from ..nlp.sentiment import SentimentHead, resolve_head
from ..store import get_setting, transaction, utc_now

from .ray_common import FAIL_ONCE_ENV, INSTALL_HINT, SLOW_ENV, RayOptions, connect, fail_once, import_ray  # noqa: F401

# A worker waits at most this long for a unit, then its slot goes empty: a worker is one
# thread, and a retried task queued behind a waiting one may hold the unit others wait for.
_TAKE_TIMEOUT_S = 1.0


@dataclass
class RayStats:
    units: int = 0  # units sent to the cluster
    units_on_driver: int = 0  # units whose texts were all cached: sentiment on the driver
    rounds: int = 0
    retried_results: int = 0  # results of a unit already written (a retry): skipped
    worker_seconds: float = 0.0  # summed over units, inside the workers' batch function
    write_seconds: float = 0.0  # the driver's transactions
    prepare_seconds: float = 0.0  # the driver reading units: pending documents, segments, cache lookups
    first_result_seconds: float = 0.0  # from starting the dataset to its first result (actors and models starting)
    wait_seconds: float = 0.0  # the driver waiting for results
    connect_seconds: float = 0.0
    workers_seen: int = 0  # distinct worker processes that returned results
    assigned_documents: int = 0  # new documents given a theme place by the workers
    assigned_segments: int = 0  # new segments given touchpoints (or an abstention) by the workers
    assign_worker_seconds: float = 0.0  # summed over units, inside the workers' assignment (part of worker_seconds)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def analyze_ray(
    db: sqlite_utils.Database,
    *,
    encoder_name: str | None = None,
    head_path: str | None = None,
    document_mode: str | None = None,
    options: RayOptions | None = None,
    batch_documents: int = 64,
    encoder_batch: int = 256,
    progress: Callable[[float, int], None] | None = None,
) -> tuple[AnalyzeSummary, RayStats]:
    """`analyze` with the encoder and sentiment on Ray: the same store as the local engine."""
    options = options or RayOptions()
    options.check()
    if batch_documents < 1 or encoder_batch < 1:
        raise UsageError("E730", "batch sizes must be at least 1.", "Use the defaults.")
    ray = import_ray()
    mode = document_mode_of(db, document_mode)
    path = resolve_head(head_path)
    head = SentimentHead.load(path)
    encoder_name = encoder_name or os.environ.get("MINER_ENCODER") or None
    encoder = get_encoder(encoder_name, lazy=True)  # the driver's: ids, and the cached-vector stages after
    hid = use_head(db, head, path, encoder.id, mode, document_mode)
    summary = new_summary(encoder.id, hid, head, mode, explicit=get_setting(db, DOCUMENT_MODE_SETTING) is not None)
    stats = RayStats()
    started = time.perf_counter()
    summary.pending_before = total = pending_count(db, hid)
    assigning = _Assigning.of(db, encoder.id)
    if total:
        stopping = _connect(ray, options, stats)
        try:
            spec = _WorkerSpec(encoder_name, encoder.id, encoder.dim, path.read_bytes(), hid, mode, encoder_batch,
                               options.cpus_per_worker, options.gpus_per_worker, os.environ.get(FAIL_ONCE_ENV),
                               float(os.environ.get(SLOW_ENV) or 0), assigning.worker_part())
            while True:  # a round takes what is pending; another runs only if one made progress and left some
                before = summary.documents
                _round(ray, db, spec, head, options, batch_documents, summary, stats, total, progress, assigning)
                stats.rounds += 1
                left = pending_count(db, hid)
                if not left or summary.documents == before:
                    break
        finally:
            if stopping:
                ray.shutdown()
    assign_new_segments(db, encoder, summary, assigning.themes_done, assigning.touchpoints_done)
    summary.backend = f"ray:{summary.backend}" if summary.backend else "ray"
    summary.seconds = time.perf_counter() - started
    return summary, stats


def _connect(ray, options: RayOptions, stats: RayStats) -> bool:
    """Joins the cluster (or starts a local instance); True when this run must shut it down."""
    stopping, seconds = connect(ray, options)
    stats.connect_seconds += seconds
    return stopping


@dataclass
class _WorkerSpec:
    encoder_name: str | None
    encoder_id: str
    dim: int
    head_bytes: bytes
    hid: str
    mode: str
    encoder_batch: int
    cpus: float
    gpus: float
    fail_once: str | None
    slow_s: float = 0.0
    assign: "_WorkerAssigning | None" = None


@dataclass
class _WorkerAssigning:
    """What a worker needs to assign new documents and segments as the driver would: the
    store's `theme_state` rows as they are (theme state, touchpoint model), what applies, and
    the last segment the touchpoint model has seen."""

    rows: dict
    themes: bool
    touchpoints: bool
    touch_after: int


class _Assigning:
    """The driver's side: what applies to this run, people's touchpoint labels, and what the
    workers assigned (the rest is assigned on the driver at the end)."""

    def __init__(self, state: ThemeState | None, model: TouchpointModel | None, labels: Labels | None, rows: dict):
        self.state, self.model, self.labels, self.rows = state, model, labels, rows
        self.themes_done, self.touchpoints_done = ThemeCounts(), TouchpointCounts()

    @classmethod
    def of(cls, db, encoder_id: str) -> "_Assigning":
        state, _ = theme_state_for(db, encoder_id)
        model, _ = touchpoint_model_for(db, encoder_id)
        labels = stored_labels(db, model.keys) if model is not None else None
        return cls(state, model, labels, stored_rows(db) if state is not None or model is not None else {})

    def worker_part(self) -> _WorkerAssigning | None:
        if self.state is None and self.model is None:
            return None
        after = int(self.model.meta.get("last_segment_id", 0)) if self.model is not None else 0
        return _WorkerAssigning(self.rows, self.state is not None, self.model is not None, after)

    def unit_header(self, db, doc_ids: list[int], segs: list) -> dict:
        """What a unit's worker needs besides its segments: what the local engine's rows hold of
        their documents, which of them still need a theme, and people's touchpoint labels."""
        if self.state is None and self.model is None:
            return {}
        facts = document_facts(db, doc_ids)
        rows = informative_rows(segs, facts)
        out = {"facts": [[d, *f] for d, f in facts.items()]}
        if self.state is not None:
            stored = stored_document_themes(db, doc_ids)
            themed = themed_segments(db, [r[0] for r in rows])
            out |= {"theme_docs": [d for d in doc_ids if d not in stored], "theme_segs": [r[0] for r in rows if r[0] not in themed],
                    "stored": [[d, t, u] for d, (t, u) in stored.items()]}
        if self.labels is not None:
            ids, segs = set(doc_ids), {r[0] for r in rows}
            out["labels"] = {"docs": [[d, t] for d, t in self.labels.docs.items() if d in ids],
                             "segs": [[s_, t] for s_, t in self.labels.segments.items() if s_ in segs]}
        return out

    def write(self, db, result: "_Result") -> None:
        """A unit's assignments, in the caller's transaction."""
        if result.themes is not None and self.state is not None:
            write_new_themes(db, result.themes, self.state.run_id)
            self.themes_done.add(result.themes)
        if result.touchpoints is not None:
            write_assigned(db, result.touchpoints, replace_all=False)
            self.touchpoints_done.add(result.touchpoints)


def _round(ray, db, spec: _WorkerSpec, head: SentimentHead, options: RayOptions, batch_documents: int,
           summary: AnalyzeSummary, stats: RayStats, total: int, progress, assigning: _Assigning) -> None:
    cache = EmbeddingCache(db)
    # One slot per block, so that a retried task is one slot, given the same unit again; twice
    # the units and then some, since a slot that waited too long goes empty (what no slot took
    # is left for the next round).
    ahead = options.ahead or 4 * options.workers + 2
    slots = 2 * max(1, math.ceil(pending_count(db, spec.hid) / batch_documents)) + 2 * ahead
    feeder = ray.remote(num_cpus=0)(_Feeder).remote()
    units = _Units(db, spec, cache, batch_documents, slots, assigning)
    outstanding: set[int] = set()
    written: set[int] = set()
    inflight: dict[str, int] = {}  # text hash -> the unit out there that embeds it
    held: list[_Unit] = []  # units needing a text another unit is embedding: sent once it is written
    finished = False

    def dispatch(unit: _Unit) -> None:
        if any(h in inflight for h in unit.missing_hashes()):
            held.append(unit)  # every text is embedded once, as the local engine does
        elif not unit.missing:  # all cached: sentiment here, nothing goes out
            rows = sentiment_batch(head, spec.hid, spec.mode, unit.doc_ids, unit.segs, unit.texts, unit.vectors(), utc_now())
            w = time.perf_counter()
            write_sentiment(db, rows)
            stats.write_seconds += time.perf_counter() - w
            stats.units_on_driver += 1
            units.sizes.pop(unit.number, None)
            _count(summary, unit, rows, None)
            if progress:
                progress(summary.documents, total)
        else:
            ray.get(feeder.put.remote(unit.number, unit.payload()))
            outstanding.add(unit.number)
            inflight.update((h, unit.number) for h in unit.missing_hashes())
            stats.units += 1

    def feed() -> None:
        nonlocal finished
        for unit in [u for u in held if not any(h in inflight for h in u.missing_hashes())]:
            held.remove(unit)
            unit.refresh(cache, spec)
            dispatch(unit)
        while len(outstanding) < ahead and len(held) < ahead and not units.done:
            p = time.perf_counter()
            unit = units.next()
            stats.prepare_seconds += time.perf_counter() - p
            if unit is None:
                break
            dispatch(unit)
        if units.done and not held and not finished:
            ray.get(feeder.finish.remote())
            finished = True

    feed()
    if not outstanding:  # every unit was cached: no worker is started
        ray.kill(feeder)
        return
    ds = ray.data.from_items([{"slot": i} for i in range(slots)], override_num_blocks=slots).map_batches(
        _Worker, batch_size=1, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=options.workers), num_cpus=spec.cpus,
        num_gpus=spec.gpus or None, fn_constructor_kwargs={"spec": spec, "feeder": feeder},
    )
    pids: set[int] = set()
    waited = launched = time.perf_counter()
    for row in _rows(ds):
        stats.wait_seconds += time.perf_counter() - waited
        if not stats.first_result_seconds:
            stats.first_result_seconds = time.perf_counter() - launched
        number = int(row["unit"])
        if number >= 0 and number in written:
            stats.retried_results += 1
        elif number >= 0:
            result = _Result.decode(row["result"])
            w = time.perf_counter()
            with transaction(db):
                cache.put(spec.encoder_id, list(zip(result.hashes, result.vectors)))
                write_sentiment_rows(db, result.rows)
                assigning.write(db, result)
            stats.assigned_documents += len(result.themes.documents) if result.themes else 0
            stats.assigned_segments += len({r[0] for r in result.touchpoints.seg_rows + result.touchpoints.abstain_rows}) \
                if result.touchpoints else 0
            stats.write_seconds += time.perf_counter() - w
            stats.worker_seconds += result.seconds
            stats.assign_worker_seconds += result.assign_seconds
            pids.add(result.pid)
            written.add(number)
            outstanding.discard(number)
            for h in result.hashes:
                inflight.pop(h, None)
            ray.get(feeder.release.remote(int(row["slot"])))
            _count(summary, units.sizes.pop(number), result.rows, result.embed)
            if progress:
                progress(summary.documents, total)
        feed()
        waited = time.perf_counter()
    stats.workers_seen = max(stats.workers_seen, len(pids))
    ray.kill(feeder)


def _count(summary: AnalyzeSummary, unit, rows: SentimentRows, embed: EmbedStats | None) -> None:
    summary.documents += len(rows.documents)
    summary.segments += len(rows.segments)
    summary.labels.update(rows.by_label)
    summary.sentiment_seconds += rows.seconds
    if embed is not None:
        summary.embed.add(embed)
    else:
        summary.embed.add(EmbedStats(texts=unit.n_texts, unique=unit.n_unique, cached=unit.n_unique))


class _Unit:
    """A batch of pending documents as the driver prepared it."""

    def __init__(self, number, doc_ids, segs, texts, hashes, cached, assign: dict):
        self.number, self.doc_ids, self.segs, self.texts, self.assign = number, doc_ids, segs, texts, assign
        self.hashes, self.cached = hashes, cached
        self.n_texts, self.n_unique = len(hashes), len(set(hashes))
        self.missing = self.n_unique - len(cached)

    def missing_hashes(self) -> list[str]:
        return [h for h in dict.fromkeys(self.hashes) if h not in self.cached]

    def refresh(self, cache: EmbeddingCache, spec: "_WorkerSpec") -> None:
        """The cache again, once the units this one waited for are written."""
        self.cached.update(cache.get(spec.encoder_id, self.missing_hashes(), spec.dim))
        self.missing = self.n_unique - len(self.cached)

    def vectors(self) -> np.ndarray:
        if not self.hashes:
            return np.zeros((0, 1), np.float32)
        return np.stack([self.cached[h] for h in self.hashes]).astype(np.float32)

    def payload(self) -> tuple[str, bytes]:
        header = json.dumps({"unit": self.number, "doc_ids": self.doc_ids, "segs": self.segs, "assign": self.assign},
                            ensure_ascii=False)
        hashes = list(self.cached)
        arrays = {"hashes": np.array(hashes, dtype="U32"),
                  "vectors": np.stack([self.cached[h] for h in hashes]).astype("<f4") if hashes else np.zeros((0, 0), "<f4")}
        return header, pack_arrays(arrays)


class _UnitSize:
    def __init__(self, unit: _Unit):
        self.n_texts, self.n_unique = unit.n_texts, unit.n_unique


class _Units:
    """The pending documents in id order, a unit at a time (at most `slots` units sent out)."""

    def __init__(self, db, spec: _WorkerSpec, cache: EmbeddingCache, batch_documents: int, slots: int, assigning: _Assigning):
        self.db, self.spec, self.cache, self.batch, self.slots = db, spec, cache, batch_documents, slots
        self.assigning = assigning
        self.last_id, self.number, self.sent, self.done = 0, 0, 0, False
        self.sizes: dict[int, _UnitSize] = {}

    def next(self) -> _Unit | None:
        doc_ids = pending_batch(self.db, self.spec.hid, self.last_id, self.batch)
        if not doc_ids:
            self.done = True
            return None
        self.last_id = doc_ids[-1]
        segs = [list(s) for s in batch_segments(self.db, doc_ids)]
        texts = batch_texts(segs)
        hashes = [text_hash(t) for t in texts.texts]
        cached = self.cache.get(self.spec.encoder_id, list(dict.fromkeys(hashes)), self.spec.dim)
        unit = _Unit(self.number, doc_ids, segs, texts, hashes, cached,
                     self.assigning.unit_header(self.db, doc_ids, segs) if len(cached) < len(set(hashes)) else {})
        self.number += 1
        if unit.missing:
            self.sent += 1
            self.sizes[unit.number] = _UnitSize(unit)
            if self.sent >= self.slots:  # the rest waits for the next round
                self.done = True
        return unit


@dataclass
class _Result:
    hashes: list[str]
    vectors: np.ndarray
    rows: SentimentRows
    embed: EmbedStats
    seconds: float
    pid: int
    themes: NewThemes | None = None
    touchpoints: Assigned | None = None
    assign_seconds: float = 0.0

    def encode(self) -> bytes:
        header = {"segments": self.rows.segments, "documents": self.rows.documents, "by_label": dict(self.rows.by_label),
                  "sentiment_seconds": self.rows.seconds, "embed": self.embed.__dict__, "seconds": self.seconds, "pid": self.pid,
                  "assign_seconds": self.assign_seconds}
        if self.themes is not None:
            header["themes"] = self.themes.__dict__
        if self.touchpoints is not None:
            t = self.touchpoints
            header["touchpoints"] = {"doc_rows": t.doc_rows, "seg_rows": t.seg_rows, "abstain_rows": t.abstain_rows}
        return pack_arrays({"header": np.array(json.dumps(header, ensure_ascii=False)),
                            "hashes": np.array(self.hashes, dtype="U32"), "vectors": self.vectors.astype("<f4")})

    @classmethod
    def decode(cls, blob: bytes) -> "_Result":
        from collections import Counter

        arrays = unpack_arrays(bytes(blob))
        h = json.loads(str(arrays["header"]))
        rows = SentimentRows([tuple(r) for r in h["segments"]], [tuple(r) for r in h["documents"]], Counter(h["by_label"]),
                             h["sentiment_seconds"])
        themes = touchpoints = None
        if "themes" in h:
            t = h["themes"]
            themes = NewThemes([tuple(r) for r in t["documents"]], [tuple(r) for r in t["segments"]], t["assigned"], t["outliers"])
        if "touchpoints" in h:
            t = h["touchpoints"]
            touchpoints = Assigned(*([tuple(r) for r in t[k]] for k in ("doc_rows", "seg_rows", "abstain_rows")))
        return cls([str(x) for x in arrays["hashes"]], arrays["vectors"], rows, EmbedStats(**h["embed"]), h["seconds"], h["pid"],
                   themes, touchpoints, h["assign_seconds"])


class _Feeder:
    """Units waiting for a worker (a Ray actor on the driver's side, no CPU). A slot keeps the
    unit it was given until the driver has written it, so a retried slot redoes the same unit."""

    def __init__(self):
        import asyncio

        self.waiting: list[tuple[int, tuple[str, bytes]]] = []
        self.given: dict[int, tuple[int, tuple[str, bytes]]] = {}
        self.finished = False
        self.changed = asyncio.Condition()

    async def put(self, number: int, payload: tuple[str, bytes]) -> None:
        async with self.changed:
            self.waiting.append((number, payload))
            self.changed.notify_all()

    async def finish(self) -> None:
        async with self.changed:
            self.finished = True
            self.changed.notify_all()

    async def take(self, slot: int):
        import asyncio

        async with self.changed:
            if slot not in self.given:
                try:
                    await asyncio.wait_for(self.changed.wait_for(lambda: self.waiting or self.finished), _TAKE_TIMEOUT_S)
                except TimeoutError:
                    return None  # the slot goes empty, so that the worker can run a retried task queued behind it
                if not self.waiting:
                    return None
                self.given[slot] = self.waiting.pop(0)
            return self.given[slot]

    async def release(self, slot: int) -> None:
        self.given.pop(slot, None)


class _Worker:
    """A Ray Data actor: the encoder and the head, loaded once; a unit per call."""

    def __init__(self, spec: _WorkerSpec, feeder):
        import io

        self.spec, self.feeder = spec, feeder
        threads = max(1, int(spec.cpus))
        self.encoder = encoder_on(spec.encoder_name, "cuda" if spec.gpus > 0 else "cpu", threads)
        if self.encoder.id != spec.encoder_id:
            raise RuntimeError(f"the worker's encoder is {self.encoder.id}, the driver's {spec.encoder_id}")
        self.head = SentimentHead.load(io.BytesIO(spec.head_bytes))
        a = spec.assign
        self.state = ThemeState.from_rows(a.rows) if a is not None and a.themes else None
        self.model = TouchpointModel.from_rows({k: v for k, (v, _) in a.rows.items()}) if a is not None and a.touchpoints else None

    def __call__(self, batch: dict) -> dict:
        import ray

        slot = int(batch["slot"][0])
        got = ray.get(self.feeder.take.remote(slot))
        if got is None:
            return {"slot": np.array([slot]), "unit": np.array([-1]), "result": np.array([b""], dtype=object)}
        fail_once(self.spec.fail_once)  # a worker dying mid-run, once (tests)
        number, (header, blob) = got
        result = analyze_unit(self.encoder, self.head, self.spec, json.loads(header), unpack_arrays(blob), self.state, self.model)
        if self.spec.slow_s:
            time.sleep(self.spec.slow_s)
        return {"slot": np.array([slot]), "unit": np.array([number]), "result": np.array([result.encode()], dtype=object)}


def analyze_unit(encoder, head: SentimentHead, spec: _WorkerSpec, header: dict, cached: dict,
                 state: ThemeState | None = None, model: TouchpointModel | None = None) -> _Result:
    """A unit on a worker: the local engine's encoder and sentiment functions, the cache's
    vectors given, only the missing texts embedded; then its new documents and segments
    assigned to themes and touchpoints from those vectors."""
    started = time.perf_counter()
    segs = [tuple(s) for s in header["segs"]]
    texts = batch_texts(segs)
    hashes = [text_hash(t) for t in texts.texts]
    have = dict(zip((str(h) for h in cached["hashes"]), cached["vectors"]))
    text_of = dict(zip(hashes, texts.texts))
    missing = [h for h in dict.fromkeys(hashes) if h not in have]
    new, embed = embed_texts(encoder, [text_of[h] for h in missing], None, batch_size=spec.encoder_batch)
    embed.texts, embed.unique, embed.cached = len(hashes), len(text_of), len(text_of) - len(missing)
    have.update(zip(missing, new))
    vectors = np.stack([have[h] for h in hashes]).astype(np.float32) if hashes else np.zeros((0, spec.dim), np.float32)
    rows = sentiment_batch(head, spec.hid, spec.mode, header["doc_ids"], segs, texts, vectors, utc_now())
    vectors_of = _UnitVectors(have, encoder, spec)
    assign_started = time.perf_counter()
    themes, touchpoints = _assign_unit(header.get("assign") or {}, segs, vectors_of, spec, state, model)
    assign_seconds = time.perf_counter() - assign_started
    missing += list(vectors_of.new)
    new = np.concatenate([np.asarray(new, np.float32).reshape(-1, spec.dim)] + [v.reshape(1, -1) for v in vectors_of.new.values()])
    return _Result(missing, new.reshape(len(missing), spec.dim), rows, embed, time.perf_counter() - started, os.getpid(),
                   themes, touchpoints, assign_seconds)


class _UnitVectors:
    """The `VectorSource` of a unit on a worker: its vectors by text hash; a text the unit lacks
    (the local engine would embed it on reading) is embedded here once and sent back for the cache."""

    def __init__(self, have: dict, encoder, spec: _WorkerSpec):
        self.have, self.encoder, self.spec, self.new = have, encoder, spec, {}

    def __call__(self, inputs: list[str]):
        hashes = [text_hash(t) for t in inputs]
        lacking = {h: t for h, t in zip(hashes, inputs) if h not in self.have}
        if lacking:
            fresh, _ = embed_texts(self.encoder, list(lacking.values()), None, batch_size=self.spec.encoder_batch)
            for h, v in zip(lacking, np.asarray(fresh, np.float32)):
                self.have[h] = self.new[h] = v
        stats = EmbedStats(texts=len(hashes), unique=len(set(hashes)), cached=len(set(hashes)) - len(lacking))
        return np.stack([self.have[h] for h in hashes]).astype(np.float32), stats


def _assign_unit(header: dict, segs: list, vectors_of: _UnitVectors, spec: _WorkerSpec, state: ThemeState | None,
                 model: TouchpointModel | None) -> tuple[NewThemes | None, Assigned | None]:
    """The unit's new documents and segments placed in the stored themes and given touchpoints,
    by the functions the local engine runs on the same rows (`assign_new_segments`)."""
    rows = informative_rows(segs, {int(f[0]): tuple(f[1:]) for f in header.get("facts", [])})
    themes = touchpoints = None
    if state is not None and rows:
        docs_needed, segs_needed = set(header["theme_docs"]), set(header["theme_segs"])
        docs, _ = documents_from_rows([r for r in rows if r[1] in docs_needed], vectors_of, spec.dim)
        seg, _ = segments_from_rows(sorted(r for r in rows if r[0] in segs_needed), vectors_of, spec.dim)
        themes = place_new(state, docs, seg, {int(d): (int(t), int(u)) for d, t, u in header["stored"]})
    if model is not None and rows:
        after = spec.assign.touch_after
        segs, _ = segments_from_rows(sorted(r for r in rows if r[0] > after), vectors_of, spec.dim)
        if len(segs.ids):
            docs, _ = documents_of_segments(segs, vectors_of, spec.dim)
            given = header.get("labels", {"docs": [], "segs": []})
            labels = Labels({int(d): int(t) for d, t in given["docs"]}, {int(x): int(t) for x, t in given["segs"]}, 0)
            touchpoints = assign_new(model, segs, docs, labels)
    return themes, touchpoints


def _rows(ds):
    """The results one by one, as soon as each is done (no prefetching: a result held back
    would keep a unit from being handed out)."""
    for batch in ds.iter_batches(batch_size=None, prefetch_batches=0, batch_format="numpy"):
        for k in range(len(batch["slot"])):
            yield {name: batch[name][k] for name in batch}
