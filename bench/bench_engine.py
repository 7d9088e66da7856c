"""`miner analyze` on the local engine and on Ray (`--engine ray`), same texts, same machine.

    .venv/bin/python bench/bench_engine.py [--n 2000]

Texts from ../shared/corpora (bench_ingest.build), ingested once; each run analyzes a fresh
copy of that store (nothing cached), as `miner analyze --json` in its own process:

1. local engine, e5-small on every core;
2. Ray, 1 CPU worker (one actor, one torch thread), a local Ray instance started by the run;
3. Ray, 2 CPU workers;
4. Ray's overhead per batch: the fake encoder and a toy head (no model time to speak of),
   8 documents per task, 1 worker: wall time less start-up, per task;
5. the driver's store-write rate: the driver's transactions (vectors and sentiment rows) per
   document, from runs 2-4.

GPU workers are not measured (no GPU here).

    .venv/bin/python bench/bench_engine.py --stages ingest,themes [--n 20000]

`miner ingest` and the assignment of `miner themes discover`, local against Ray (1 and 2
workers), on the same texts (section "engine-ingest-themes", and the second figures table of
docs/scale.md):

6. ingest: `miner ingest --json` of the texts into a fresh store, local (up to 2 worker
   processes) and `--engine ray --workers 1|2` (a local Ray instance started by the run):
   documents/s of the whole command, and without Ray's start;
7. themes assignment: `discover` in this process on a store of those texts with a fake
   encoder of e5-small's width (384; the placing is arithmetic on vectors, the encoder only
   makes them), fit on a 5,000-document sample; timed: the passes that place every document
   and sentence and write them (local: one batch; Ray: 2,000 rows a task). Documents/s =
   documents / those seconds.

    .venv/bin/python bench/bench_engine.py --stages assign [--n 2000]

`miner analyze` of new documents in a store that has themes and a touchpoint model (section
"engine-assign"): half the texts ingested, analyzed, `themes discover` and `touchpoints assign`
run; then the other half ingested and analyzed, local and on Ray (2 workers), each on a copy
of that store, with the assignment (new documents placed in the themes, new segments given
touchpoints: on Ray inside the workers) and without it (the same copy, its theme state and
touchpoint model removed): the assignment's cost per 1,000 documents and where it runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_ingest import build  # noqa: E402
from bench.measure import run_cli  # noqa: E402
from bench.report import write_section  # noqa: E402

SCALE_MD = ROOT / "docs" / "scale.md"


def toy_head(path: Path) -> None:
    """A head for the fake encoder (for the overhead run only: its labels mean nothing)."""
    from miner.nlp.encoders.fake import FakeEncoder
    from miner.nlp.sentiment_data import Example
    from miner.nlp.train_sentiment import train_sentiment

    texts = {"neg": ["terrible service", "awful delay", "bad support"], "pos": ["great service", "fast and friendly", "very happy"],
             "neu": ["the invoice arrived", "a question", "my contract"]}
    examples = [Example(v, label, "toy", "en", "valid" if j == 2 else "train")
                for label, ts in texts.items() for t in ts for j, v in enumerate((t, t + " today", "honestly " + t))]
    train_sentiment(examples, FakeEncoder(), None, name="toy", grid=[{"hidden": 0, "weight_decay": 1e-4, "epochs": 30}]).head.save(path)


def run(base: Path, tmp: Path, name: str, *args: str) -> dict:
    db = tmp / f"{name}.db"
    shutil.copy(base, db)
    seconds, peak_mb, out = run_cli("analyze", "--db", str(db), "--quiet", *args, interval=0.2)
    out["wall"], out["peak_mb"] = seconds, peak_mb
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--stages", default="analyze", help="analyze, or ingest,themes")
    args = parser.parse_args()
    if args.stages == "assign":
        return analyze_with_assignment(args.n)
    if args.stages != "analyze":
        return ingest_and_themes(args.n)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data, base = tmp / "texts.jsonl", tmp / "base.db"
        info = build(args.n, data)
        run_cli("ingest", str(data), "--db", str(base), "--quiet")
        local = run(base, tmp, "local")
        ray1 = run(base, tmp, "ray1", "--engine", "ray", "--workers", "1")
        ray2 = run(base, tmp, "ray2", "--engine", "ray", "--workers", "2")
        toy_head(tmp / "toy.npz")
        over = run(base, tmp, "over", "--engine", "ray", "--workers", "1", "--encoder", "fake", "--head", str(tmp / "toy.npz"),
                   "--documents-per-batch", "8")
    load_after = os.getloadavg()[0]

    def rate(r: dict) -> float:
        return r["documents"] / r["wall"]

    def steady(r: dict) -> float:
        """Documents/s once the model is loaded (Ray: after the first result)."""
        if "ray" not in r:
            return r["documents"] / max(1e-9, r["seconds"] - r["embed"]["load_seconds"])
        ray = r["ray"]
        return r["documents"] / max(1e-9, ray["wait_seconds"] + ray["write_seconds"] + ray["prepare_seconds"] - ray["first_result_seconds"])

    o = over["ray"]
    loop = o["wait_seconds"] + o["write_seconds"] + o["prepare_seconds"] - o["first_result_seconds"]
    overhead_ms = 1000 * (loop / max(1, o["units"] - 1) - o["worker_seconds"] / max(1, o["units"]))
    writes = [(r["documents"], r["ray"]["write_seconds"], r["ray"]["prepare_seconds"]) for r in (ray1, ray2, over)]
    write_rate = sum(d for d, _, _ in writes) / sum(w for _, w, _ in writes)
    driver_rate = sum(d for d, _, _ in writes) / sum(w + p for _, w, p in writes)
    fig = {
        "local": rate(local), "local_steady": steady(local), "ray1": rate(ray1), "ray2": rate(ray2), "ray1_steady": steady(ray1), "ray2_steady": steady(ray2),
        "overhead_ms": overhead_ms, "texts_per_doc": local["embed"]["embedded"] / max(1, local["documents"]),
        "worker_mb": (ray2["peak_mb"] - ray1["peak_mb"]), "write_rate": write_rate, "driver_rate": driver_rate,
    }
    row = lambda label, r, extra="": (  # noqa: E731
        f"| {label} | **{rate(r):,.1f}** | {r['wall']:,.0f} s | {r['peak_mb']:,.0f} MB | {extra} |")
    body = f"""## `miner analyze --engine ray` against the local engine (`bench/bench_engine.py`)

{args.n:,} texts from `../shared/corpora` (median {info['median_chars']} characters; {args.n:,}, not the issue's 20k, to fit
the time on a machine shared with other work: load average {load:.1f} at the start, {load_after:.1f} at the end, on 2 cores),
ingested once ({local['documents']:,} documents to analyze, {local['embed']['embedded']:,} distinct texts to embed); each run
analyzes a fresh copy of that store as `miner analyze --json` in its own process. e5-small in torch fp32; a Ray worker is one
actor with 1 CPU and one torch thread, the local engine uses both cores. Ray runs start their own local Ray instance
(`ray.init(num_cpus=workers)`, 200 MB object store), included in the wall time.

| run | documents/s (whole command) | wall | peak RSS (process tree) | Ray start / first result / documents/s once loaded |
|---|---:|---:|---:|---|
{row("local engine (2 threads)", local, f"- / - / {steady(local):,.1f}")}
{row("Ray, 1 CPU worker", ray1, f"{ray1['ray']['connect_seconds']:.0f} s / {ray1['ray']['first_result_seconds']:.0f} s / {steady(ray1):,.1f}")}
{row("Ray, 2 CPU workers", ray2, f"{ray2['ray']['connect_seconds']:.0f} s / {ray2['ray']['first_result_seconds']:.0f} s / {steady(ray2):,.1f}")}

- The machine was shared (load above): a process tree with more processes gets a larger share of contended cores, so
  Ray's lead or lag against the local engine here says more about the load than about the engines; on a quiet 2-core
  machine Ray is not expected to beat the local engine, which already uses both cores.
- Same store: the tests (`tests/test_engine_ray.py`) check it; here every run analyzed {local['documents']:,} documents
  (Ray 1: {ray1['documents']:,}, Ray 2: {ray2['documents']:,}) and embedded {local['embed']['embedded']:,} /
  {ray1['embed']['embedded']:,} / {ray2['embed']['embedded']:,} distinct texts.
- Ray's overhead per batch (task): **{overhead_ms:.1f} ms**, measured with the fake encoder and 8 documents per task
  ({o['units']} tasks on 1 worker: the driver's wait less the first result and the time inside the batch function, per
  task, in steady state). Against e5-small's ~{1000 * 64 / max(steady(ray1), 1e-9):,.0f} ms for a 64-document task on one CPU worker here, it is small.
- The driver's store writes (vectors and sentiment rows, one transaction per task): **{write_rate:,.0f} documents/s**;
  with reading the next units (pending documents, segments, cache look-ups): **{driver_rate:,.0f} documents/s**. That is
  the ceiling of one SQLite driver, whatever the cluster: reached with about {driver_rate / max(steady(ray1), 1e-9):,.0f}
  CPU workers of this speed.
- GPU workers (`--gpus-per-worker 1`): not measured, no GPU here.
"""
    write_section("engine", body)
    write_scale_figures(fig, args.n, load, load_after)
    print(body)


def write_scale_figures(fig: dict, n: int, load: float, load_after: float) -> None:
    """The measured figures docs/scale.md works from, between its markers."""
    import re

    block = f"""<!-- figures -->
| measured (`bench/bench_engine.py`, {n:,} texts, 2 shared cores, load {load:.1f}-{load_after:.1f}) | value |
|---|---:|
| local engine (2 threads): documents/s, whole command / once loaded | {fig['local']:,.1f} / {fig['local_steady']:,.1f} |
| Ray, 1 CPU worker: documents/s, whole command / steady | {fig['ray1']:,.1f} / {fig['ray1_steady']:,.1f} |
| Ray, 2 CPU workers: documents/s, whole command / steady | {fig['ray2']:,.1f} / {fig['ray2_steady']:,.1f} |
| Ray overhead per task | {fig['overhead_ms']:.1f} ms |
| distinct texts embedded per document | {fig['texts_per_doc']:.2f} |
| memory of one more CPU worker (peak RSS, 2 workers less 1) | {fig['worker_mb']:,.0f} MB |
| driver: store writes, documents/s | {fig['write_rate']:,.0f} |
| driver: writes and reading units, documents/s | {fig['driver_rate']:,.0f} |
<!-- /figures -->"""
    text = SCALE_MD.read_text("utf-8")
    SCALE_MD.write_text(re.sub(r"<!-- figures -->.*?<!-- /figures -->", lambda _: block, text, flags=re.S), "utf-8")


class TimedPlacer:
    """A placer (miner.themes.discover's contract) whose placing passes are timed, with the
    driver's writes between batches (what `discover` waits for)."""

    def __init__(self, inner):
        self.inner, self.label, self.seconds = inner, inner.label, 0.0

    def _timed(self, gen):
        started = time.perf_counter()
        yield from gen
        self.seconds += time.perf_counter() - started

    def place_documents(self, *args):
        return self._timed(self.inner.place_documents(*args))

    def place_segments(self, *args):
        return self._timed(self.inner.place_segments(*args))


def themes_run(base: Path, tmp: Path, name: str, workers: int | None, batch_rows: int = 2000) -> dict:
    from miner.engine.ray_common import RayOptions, import_ray
    from miner.engine.ray_themes import RayPlacer
    from miner.nlp.encoders.fake import FakeEncoder
    from miner.store import open_db
    from miner.themes.discover import LocalPlacer, discover
    from miner.themes.fit import ThemeParams

    db_path = tmp / f"themes-{name}.db"
    shutil.copy(base, db_path)
    db = open_db(db_path)
    inner = LocalPlacer() if workers is None else RayPlacer(import_ray(), RayOptions(workers=workers), batch_rows)
    placer = TimedPlacer(inner)
    started = time.perf_counter()
    try:
        summary = discover(db, encoder=FakeEncoder(384), params=ThemeParams(max_fit=5000), placer=placer)
    finally:
        if workers is not None:
            inner.close()
    wall = time.perf_counter() - started
    out = {"documents": summary.documents, "segments": summary.segments, "themes": summary.themes, "outliers": summary.outliers,
           "place_seconds": placer.seconds, "wall": wall}
    if workers is not None:
        out["ray"] = inner.stats.to_dict()
    rows = sorted(tuple(r) for r in db.execute("SELECT document_id, theme_id, subtheme_id, score, method, low_confidence FROM document_themes"))
    rows += sorted(tuple(r) for r in db.execute("SELECT segment_id, theme_id, subtheme_id, score, method, low_confidence FROM segment_themes"))
    out["rows"] = rows
    db.conn.close()
    return out


def ingest_and_themes(n: int) -> None:
    from miner.nlp.encoders.fake import FakeEncoder
    from miner.store import open_db
    from miner.nlp.cache import EmbeddingCache  # noqa: F401  (the fake vectors are cached by discover's first run)

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "texts.jsonl"
        info = build(n, data)
        ing = {}
        for name, extra in (("local", ()), ("ray1", ("--engine", "ray", "--workers", "1")), ("ray2", ("--engine", "ray", "--workers", "2"))):
            seconds, peak, out = run_cli("ingest", str(data), "--db", str(tmp / f"ingest-{name}.db"), "--quiet", *extra, interval=0.2)
            ing[name] = {"wall": seconds, "peak_mb": peak, "out": out}
        load_mid = os.getloadavg()[0]
        # the themes base: the local ingest's store, vectors cached once (a discover run that is then thrown away)
        base = tmp / "themes-base.db"
        shutil.copy(tmp / "ingest-local.db", base)
        warm = open_db(base)
        from miner.segments.vectors import load_documents, load_segments

        load_documents(warm, FakeEncoder(384))
        load_segments(warm, FakeEncoder(384))
        warm.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        warm.conn.close()
        th = {name: themes_run(base, tmp, name, w) for name, w in (("local", None), ("ray1", 1), ("ray2", 2))}
    load_after = os.getloadavg()[0]

    def stored(r: dict) -> int:  # documents read (stored, duplicates and rows skipped alike)
        return r["out"]["totals"]["rows_read"]

    def irate(r: dict, less: float = 0.0) -> float:
        return stored(r) / max(1e-9, r["wall"] - less)

    same_ingest = all(r["out"]["totals"] == ing["local"]["out"]["totals"] for r in ing.values())
    same_themes = all(r["rows"] == th["local"]["rows"] for r in th.values())
    trate = {k: r["documents"] / max(1e-9, r["place_seconds"]) for k, r in th.items()}
    srate = {k: (r["documents"] + r["segments"]) / max(1e-9, r["place_seconds"]) for k, r in th.items()}
    fig = {
        "ingest_local": irate(ing["local"]), "ingest_ray1": irate(ing["ray1"]), "ingest_ray2": irate(ing["ray2"]),
        "ingest_ray1_less": irate(ing["ray1"], ing["ray1"]["out"]["ray"]["connect_seconds"]),
        "ingest_ray2_less": irate(ing["ray2"], ing["ray2"]["out"]["ray"]["connect_seconds"]),
        "themes_local": trate["local"], "themes_ray1": trate["ray1"], "themes_ray2": trate["ray2"],
    }
    irow = lambda label, r: (  # noqa: E731
        f"| {label} | **{irate(r):,.0f}** | {r['wall']:,.1f} s | "
        f"{'-' if 'ray' not in r['out'] else format(r['out']['ray']['connect_seconds'], '.1f') + ' s'} | "
        f"{'-' if 'ray' not in r['out'] else format(irate(r, r['out']['ray']['connect_seconds']), ',.0f')} | {r['peak_mb']:,.0f} MB |")
    trow = lambda label, k: (  # noqa: E731
        f"| {label} | **{trate[k]:,.0f}** | {srate[k]:,.0f} | {th[k]['place_seconds']:.2f} s | "
        f"{'-' if 'ray' not in th[k] else str(th[k]['ray']['batches'])} | {th[k]['wall']:.1f} s |")
    docs = stored(ing["local"])
    body = f"""## `miner ingest` and `themes discover` assignment, local against `--engine ray` (`bench/bench_engine.py --stages ingest,themes`)

{n:,} texts from `../shared/corpora` (`bench_ingest.build`, median {info['median_chars']} characters, {info['distinct']:,} distinct),
on 2 cores shared with other work (load average {load:.1f} at the start, {load_mid:.1f} after ingest, {load_after:.1f} at the end).
Same results: every run stored the same counts ({'yes' if same_ingest else '**NO**'}: {ing['local']['out']['totals']['stored']:,} stored,
{ing['local']['out']['totals'].get('duplicates', 0):,} duplicates) and every themes run wrote the same document and sentence rows
({'yes' if same_themes else '**NO**'}; the tests check whole stores).

**Ingest** (`miner ingest --json` into a fresh store, its own process; documents/s = rows read / wall):

| run | documents/s (whole command) | wall | Ray start | documents/s without Ray's start | peak RSS (process tree) |
|---|---:|---:|---:|---:|---:|
{irow("local (up to 2 worker processes)", ing["local"])}
{irow("Ray, 1 worker", ing["ray1"])}
{irow("Ray, 2 workers", ing["ray2"])}

**Themes assignment** (`discover` in this process, fake encoder of width 384, fit on 5,000 of {th['local']['documents']:,} documents,
{th['local']['themes']} themes; timed: placing every document and sentence and writing the rows; Ray: 2,000 rows a task, its start not counted):

| run | documents/s | documents + sentences/s | seconds | Ray tasks (document + sentence passes) | whole discover |
|---|---:|---:|---:|---:|---:|
{trow("local (one batch)", "local")}
{trow("Ray, 1 worker", "ray1")}
{trow("Ray, 2 workers", "ray2")}

- On 2 shared cores Ray adds processes (a Ray instance, workers) to the same cores, and ingest pays for it; the themes
  placing gains on this loaded machine from overlapping the driver's writes with the workers' placing and from one BLAS
  thread per worker (`docs/scale.md`). A speed-up that grows with workers needs more cores or machines.
- Ingest with Ray: the driver still reads, decodes, dedupes and writes ({docs:,} rows); workers only prepare texts.
- Themes with Ray: every batch carries its raw vectors (384 float32 per row) to a worker and its places back; the local
  engine's placing is a few matrix products on vectors already in memory.
"""
    write_section("engine-ingest-themes", body)
    write_scale_figures2(fig, n, load, load_after)
    print(body)


def write_scale_figures2(fig: dict, n: int, load: float, load_after: float) -> None:
    import re

    block = f"""<!-- figures-ingest-themes -->
| measured (`bench/bench_engine.py --stages ingest,themes`, {n:,} texts, 2 shared cores, load {load:.1f}-{load_after:.1f}) | value |
|---|---:|
| ingest, local (up to 2 worker processes): documents/s | {fig['ingest_local']:,.0f} |
| ingest, Ray 1 worker: documents/s, whole command / without Ray's start | {fig['ingest_ray1']:,.0f} / {fig['ingest_ray1_less']:,.0f} |
| ingest, Ray 2 workers: documents/s, whole command / without Ray's start | {fig['ingest_ray2']:,.0f} / {fig['ingest_ray2_less']:,.0f} |
| themes assignment, local: documents/s | {fig['themes_local']:,.0f} |
| themes assignment, Ray 1 worker: documents/s | {fig['themes_ray1']:,.0f} |
| themes assignment, Ray 2 workers: documents/s | {fig['themes_ray2']:,.0f} |
<!-- /figures-ingest-themes -->"""
    text = SCALE_MD.read_text("utf-8")
    SCALE_MD.write_text(re.sub(r"<!-- figures-ingest-themes -->.*?<!-- /figures-ingest-themes -->", lambda _: block, text, flags=re.S), "utf-8")


_LABELS = {  # what a user sees decided: equal between engines
    "segment sentiment": "SELECT segment_id, label FROM segment_sentiment",
    "document sentiment": "SELECT document_id, label FROM document_sentiment",
    "document themes": "SELECT document_id, theme_id, subtheme_id, low_confidence FROM document_themes",
    "segment themes": "SELECT segment_id, theme_id, subtheme_id FROM segment_themes",
    "document touchpoints": "SELECT document_id, touchpoint, reason, closest FROM document_touchpoints",
    "segment touchpoints": "SELECT segment_id, rank, touchpoint FROM segment_touchpoints",
    "abstentions": "SELECT segment_id, reason, closest FROM touchpoint_abstentions",
}
_SCORES = {  # rounded to 4 decimals in the store: may differ in the last one
    "segment_sentiment": "SELECT segment_id, score, p_neg, p_neu, p_pos FROM segment_sentiment",
    "document_themes": "SELECT document_id, score FROM document_themes",
    "segment_themes": "SELECT segment_id, score FROM segment_themes",
    "document_touchpoints": "SELECT document_id, confidence FROM document_touchpoints",
    "segment_touchpoints": "SELECT segment_id || '-' || rank, confidence FROM segment_touchpoints",
}


def compare_stores(a_path: Path, b_path: Path) -> dict:
    """Labels and assignments of two stores (equal, or which differ), vectors' lowest cosine, and
    how many rounded scores differ."""
    import sqlite3

    import numpy as np

    a, b = sqlite3.connect(a_path), sqlite3.connect(b_path)
    differ = [name for name, sql in _LABELS.items() if sorted(a.execute(sql), key=repr) != sorted(b.execute(sql), key=repr)]
    scores = values = 0
    for sql in _SCORES.values():
        x = {r[0]: r[1:] for r in a.execute(sql)}
        y = {r[0]: r[1:] for r in b.execute(sql)}
        for k in x.keys() | y.keys():
            values += len(x.get(k) or y.get(k))
            scores += sum(p != q for p, q in zip(x.get(k, ()), y.get(k, ()))) + abs(len(x.get(k, ())) - len(y.get(k, ())))
    va = {h: np.frombuffer(v, "<f4") for h, v in a.execute("SELECT text_hash, vector FROM embeddings")}
    vb = {h: np.frombuffer(v, "<f4") for h, v in b.execute("SELECT text_hash, vector FROM embeddings")}
    cos = [float(va[h] @ vb[h]) / float(np.linalg.norm(va[h]) * np.linalg.norm(vb[h])) for h in va if h in vb]
    return {"labels": "yes, every label and assignment" if not differ and va.keys() == vb.keys() else f"**NO**: {', '.join(differ)}",
            "min_cos": min(cos), "vectors": len(cos), "exact": sum(np.array_equal(va[h], vb[h]) for h in va if h in vb),
            "scores": scores, "values": values}


def analyze_with_assignment(n: int) -> None:
    import sqlite3

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data, old, new, base = tmp / "texts.jsonl", tmp / "old.jsonl", tmp / "new.jsonl", tmp / "base.db"
        info = build(n, data)
        lines = data.read_text("utf-8").splitlines()
        old.write_text("\n".join(lines[0::2]) + "\n", "utf-8")
        new.write_text("\n".join(lines[1::2]) + "\n", "utf-8")
        run_cli("ingest", str(old), "--db", str(base), "--quiet")
        run_cli("analyze", "--db", str(base), "--quiet")
        fit = run_cli("themes", "discover", "--db", str(base))[2]
        touch = run_cli("touchpoints", "assign", "--db", str(base))[2]
        run_cli("ingest", str(new), "--db", str(base), "--quiet")
        bare = tmp / "bare.db"
        shutil.copy(base, bare)
        with sqlite3.connect(bare) as conn:
            conn.execute("DELETE FROM theme_state")  # no theme state, no touchpoint model: nothing to assign
        runs = {
            "local": run(base, tmp, "local"), "local_bare": run(bare, tmp, "local-bare"),
            "ray2": run(base, tmp, "ray2", "--engine", "ray", "--workers", "2"),
            "ray2_bare": run(bare, tmp, "ray2-bare", "--engine", "ray", "--workers", "2"),
        }
        same = compare_stores(tmp / "local.db", tmp / "ray2.db")
    load_after = os.getloadavg()[0]

    def per_k(seconds: float, r: dict) -> str:
        return f"{1000 * seconds / max(1, r['documents']):.2f} s"

    def row(label: str, r: dict, bare_r: dict) -> str:
        ray = r.get("ray") or {}
        worker = ray.get("assign_worker_seconds", 0.0)
        where = (f"workers {worker:.1f} s ({per_k(worker, r)} per 1,000), driver {r['assign_seconds']:.1f} s" if ray
                 else f"{r['assign_seconds']:.1f} s ({per_k(r['assign_seconds'], r)} per 1,000)")
        return (f"| {label} | {r['documents']:,} | **{r['documents'] / r['wall']:,.1f}** | {bare_r['documents'] / bare_r['wall']:,.1f} | "
                f"{where} | {ray.get('assigned_documents', '-')} / {ray.get('assigned_segments', '-')} |")

    t, p = runs["local"]["themes"], runs["local"]["touchpoints"]
    body = f"""## `miner analyze` of new documents with themes and touchpoints to join, local against `--engine ray` (`bench/bench_engine.py --stages assign`)

{n:,} texts from `../shared/corpora` (median {info['median_chars']} characters): every other text ingested, analyzed,
`themes discover` ({fit['themes']} themes) and `touchpoints assign` (the default journey) run; then the other half ingested
and analyzed on a copy of that store, as `miner analyze --json` in its own process. "Without" is the same copy with its theme
state and touchpoint model removed, so nothing is assigned. 2 cores shared with other work (load average {load:.1f} at the
start, {load_after:.1f} at the end); e5-small in torch fp32.

| run | documents | documents/s with the assignment | without | time in the assignment | assigned in the workers (documents / segments) |
|---|---:|---:|---:|---|---:|
{row("local engine", runs["local"], runs["local_bare"])}
{row("Ray, 2 CPU workers", runs["ray2"], runs["ray2_bare"])}

- Same results, local against Ray: {same['labels']} (themes: {t.get('assigned', 0):,} new documents joined, {t.get('outliers', 0):,}
  fit none; touchpoints: {p.get('assigned', 0):,} new segments at a touchpoint, {p.get('none', 0):,} without). Vectors: lowest cosine
  {same['min_cos']:.7f} over {same['vectors']:,} ({same['exact']:,} bit-identical: the encoder's batches differ, and float sums
  with them); rounded scores and probabilities that differ in their 4th decimal: {same['scores']:,} of {same['values']:,}.
  (With the fake encoder, whose vectors do not depend on the batch, the tests find the whole stores equal.)
- On Ray the assignment runs in the workers on each unit's fresh vectors, beside the encoder; the driver only writes the
  rows in the unit's transaction (and assigns what no worker did: units whose texts were all cached).
- The assignment is arithmetic on vectors already computed (a projection, nearest centroids, the touchpoint model's
  scores): small beside the encoder, which is why the rates with and without differ by little more than the noise of a
  shared machine.
"""
    write_section("engine-assign", body)
    print(body)


if __name__ == "__main__":
    main()
