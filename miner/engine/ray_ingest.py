"""`miner ingest --engine ray`: the per-text work of ingest as Ray tasks.

What runs where:

- The driver (beside the SQLite store) reads each input, decodes it and maps its columns, as
  the local engine does (`pipeline._ingest_one`), and cuts its rows into batches
  (`--batch-size`).
- Each batch's texts go to a Ray task that runs the local engine's own pure function,
  `ingest.prepare.prepare_batch`: mojibake repair, PII redaction, cleaning, language,
  segmentation, segment languages, informative, comparison form and MinHash signatures.
- The driver takes the prepared batches back in input order and does what needs the store:
  record keys, dedupe against what is stored, the writes (one transaction per batch), the
  counts and resume. So resume and counts behave exactly as local.

`RayPreparer` keeps the local `Preparer`'s contract (`redactor`, `depth`, `submit` returning
something with `result()`, a context manager), so `pipeline.ingest` runs unchanged around it.
Faults: a task whose worker dies is retried by Ray (`max_retries`); the driver takes each
batch's result once. Transport: texts as JSON, prepared batches as JSON and npz bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from ..arrays import pack_arrays, unpack_arrays
from ..ingest.language import LangResult
from ..ingest.pii import Redactor
from ..ingest.prepare import Prepared, Rejected
from .ray_common import RayOptions, connect, fail_once, import_ray, test_hooks


@dataclass
class IngestRayStats:
    batches: int = 0  # tasks run on the cluster
    texts: int = 0
    connect_seconds: float = 0.0
    worker_seconds: float = 0.0  # summed inside the tasks' prepare_batch
    wait_seconds: float = 0.0  # the driver waiting for a prepared batch

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def ingest_ray(
    db: sqlite_utils.Database,
    paths: list[str],
    options=None,
    *,
    ray_options: RayOptions | None = None,
    stdin: bytes | None = None,
    progress: Callable | None = None,
):
    """`pipeline.ingest` with the texts prepared on Ray: the same store as local. Returns
    (IngestSummary, IngestRayStats)."""
    from ..ingest.pipeline import ingest

    ray_options = ray_options or RayOptions()
    ray_options.check()
    ray = import_ray()
    stats = IngestRayStats()
    summary = ingest(db, paths, options, stdin=stdin, progress=progress,
                     preparer=lambda redactor_args, min_chars, _workers: RayPreparer(ray, ray_options, redactor_args, min_chars, stats))
    return summary, stats


class RayPreparer:
    """The local `Preparer`'s contract, with `prepare_batch` in Ray tasks (the cluster joined,
    or a local instance started, at the first batch; stopped at the end if started here)."""

    def __init__(self, ray, options: RayOptions, redactor_args: tuple | None, min_chars: int, stats: IngestRayStats):
        self.ray, self.options, self.min_chars, self.stats = ray, options, min_chars, stats
        self.redactor = Redactor(*redactor_args) if redactor_args else None  # the driver's: fields other than the text
        self.args = None if redactor_args is None else json.dumps(
            [dict(redactor_args[0]), sorted(redactor_args[1]), sorted(redactor_args[2])], ensure_ascii=False)
        self.remote = None
        self.stopping = False

    @property
    def depth(self) -> int:
        return 2 * self.options.workers  # batches in flight while the driver writes

    def submit(self, raws: list[str], more_may_follow: bool) -> "_Pending":
        if self.remote is None:
            self.stopping, seconds = connect(self.ray, self.options)
            self.stats.connect_seconds += seconds
            self.remote = self.ray.remote(num_cpus=1, max_retries=5)(_prepare_task)
        self.stats.batches += 1
        self.stats.texts += len(raws)
        ref = self.remote.remote(self.args, self.min_chars, json.dumps(raws, ensure_ascii=False), test_hooks())
        return _Pending(self.ray, ref, self.stats)

    def __enter__(self) -> "RayPreparer":
        return self

    def __exit__(self, *exc) -> None:
        if self.stopping:
            self.ray.shutdown()
        self.stopping = False


class _Pending:
    def __init__(self, ray, ref, stats: IngestRayStats):
        self.ray, self.ref, self.stats = ray, ref, stats

    def result(self) -> list[Prepared | Rejected]:
        started = time.perf_counter()
        blob = self.ray.get(self.ref)
        self.stats.wait_seconds += time.perf_counter() - started
        prepared, seconds = decode_prepared(blob)
        self.stats.worker_seconds += seconds
        return prepared


# --- on the workers ----------------------------------------------------------------------------

_redactors: dict[str | None, Redactor | None] = {}


def _prepare_task(redactor_args: str | None, min_chars: int, raws: str, hooks: tuple[str | None, float]) -> bytes:
    from ..ingest.prepare import prepare_batch

    marker, slow_s = hooks
    fail_once(marker)  # tests: a worker dying mid-run, once
    started = time.perf_counter()
    if redactor_args not in _redactors:  # one Redactor per worker process and options
        patterns, disabled, enabled = json.loads(redactor_args) if redactor_args else (None, None, None)
        _redactors[redactor_args] = Redactor(patterns, frozenset(disabled), frozenset(enabled)) if redactor_args else None
    out = prepare_batch(json.loads(raws), _redactors[redactor_args], min_chars)
    seconds = time.perf_counter() - started
    if slow_s:
        time.sleep(slow_s)
    return encode_prepared(out, seconds)


def encode_prepared(items: list[Prepared | Rejected], seconds: float) -> bytes:
    header, sigs, sig_rows = [], [], []
    for i, p in enumerate(items):
        if isinstance(p, Rejected):
            header.append({"rejected": p.reason})
            continue
        header.append({"text": p.text, "clean_text": p.clean_text, "lang": [p.lang.lang, p.lang.script, p.lang.confidence],
                       "segments": p.segments, "informative": p.informative, "form": p.form, "content_hash": p.content_hash,
                       "pii": p.pii, "dropped_lines": p.dropped_lines})
        if p.signature is not None:
            sigs.append(p.signature)
            sig_rows.append(i)
    arrays = {"header": np.array(json.dumps({"items": header, "seconds": seconds}, ensure_ascii=False)),
              "sig_rows": np.array(sig_rows, np.int64)}
    if sigs:
        arrays["sigs"] = np.stack(sigs)
    return pack_arrays(arrays)


def decode_prepared(blob: bytes) -> tuple[list[Prepared | Rejected], float]:
    a = unpack_arrays(bytes(blob))
    h = json.loads(str(a["header"]))
    sig_of = dict(zip(a["sig_rows"].tolist(), a["sigs"])) if "sigs" in a else {}
    out: list[Prepared | Rejected] = []
    for i, p in enumerate(h["items"]):
        if "rejected" in p:
            out.append(Rejected(p["rejected"]))
            continue
        out.append(Prepared(
            text=p["text"], clean_text=p["clean_text"], lang=LangResult(*p["lang"]),
            segments=[tuple(s) for s in p["segments"]], informative=p["informative"], form=p["form"],
            content_hash=p["content_hash"], signature=sig_of.get(i), pii=p["pii"], dropped_lines=p["dropped_lines"],
        ))
    return out, h["seconds"]
