"""Search across languages (issue 15): does `miner search` find the same complaint in every
language, and is it fast on a million documents?

The check, written down before any search result was seen (this file's first commit):

Quality, on ../shared/corpora/xling_dev (640 complaints, 16 topics x 10 language varieties x 4,
vectors from the analyzed store bench/_work/themes/xling.db):
  - one English query per topic (XLING_QUERIES below, written from the topic definitions in
    the corpus README, never from a text); a document is relevant when the topic is among its
    labelled topics (first or second);
  - measures: precision@10 (mean over the 16 queries), the number of language varieties among
    the top 10 (mean; zh-Hans and zh-Hant count apart, 10 is the most), and precision@40
    (each topic has 40 documents as main topic, so this is about R-precision);
  - variants: raw e5 vectors ("raw"), and each document minus its language's mean vector, the
    query minus the mean of the language it is detected in ("centred").
  - rule: centring is adopted when its mean P@10 is at least raw's minus 0.02 and its mean
    languages@10 is higher, or when its mean P@10 is higher than raw's by more than 0.02;
    otherwise raw vectors stay.
Fusion with full-text matches (FTS5), judged on the demo corpus (corpora/demo, labels.csv):
  - one query per labelled demo complaint topic with 15 or more documents (DEMO_QUERIES; praise,
    suggestion and noninformative left out; short as a user types them, "refund" the issue's
    own example); relevant = the topic among the document's
    labelled topics; same measures (P@10, languages@10);
  - variants: semantic only; reciprocal rank fusion (k = 60) of the semantic ranking and the
    FTS5 bm25 ranking ("hybrid");
  - rule: hybrid is the default when its mean P@10 on the demo queries is no lower than
    semantic-only's minus 0.05 (exact words are what a user typed); otherwise semantic only is
    the default and full text stays behind --exact. xling_dev is reported for both too.
Misses are recorded as misses.

Speed (`--parts speed`): 1,000,000 random unit vectors of 384 dimensions (random vectors are the
worst case for graph indexes, which have no neighbourhoods to exploit: recall on real
embeddings is higher), 2 threads: build time, memory, latency per query (median and p95 of
200 queries), recall@10 against exact search, incremental add of 10,000 vectors; for exact
search in numpy (float32, float16), usearch (exact, f32/f16/i8; HNSW f16/i8), hnswlib (HNSW,
float32), faiss (flat and HNSW, for comparison). sqlite-vec cannot be measured: this Python's
sqlite3 is built without extension loading (`enable_load_extension` is missing).
"""

from __future__ import annotations

# topic -> the English query (from the corpus README's one-line definitions)
XLING_QUERIES = {
    "wrong_item_sent": "received the wrong item in my parcel",
    "subscription_auto_renewal": "subscription renewed automatically without my consent",
    "slow_internet_speed": "internet is much slower than promised",
    "order_tracking_no_update": "order tracking is stuck and never updated",
    "card_blocked_abroad": "bank card blocked while travelling abroad",
    "food_arrived_cold": "food delivery arrived cold",
    "flight_rebooking_chaos": "cancelled flight and a bad rebooking",
    "meter_reading_wrong_bill": "bill based on a wrong meter reading",
    "app_update_broke_feature": "the app update broke a feature",
    "store_out_of_stock": "product out of stock in the shop",
    "chatbot_cannot_help": "the chatbot cannot help and I cannot reach a human",
    "data_privacy_spam_calls": "my personal data was shared and now I get spam calls",
    "warranty_claim_refused": "warranty claim refused",
    "price_changed_at_checkout": "price went up at checkout",
    "delivery_driver_behaviour": "rude delivery driver",
    "praise_fast_fix": "problem fixed quickly, thank you",
}

# demo topic (labels.csv, 15+ documents) -> the query a user would type
DEMO_QUERIES = {
    "refund_delay": "refund",
    "billing_double_charge": "charged twice",
    "callcenter_wait": "waiting on hold",
    "app_login": "cannot log in to the app",
    "billing_price_increase": "price increase",
    "connection_drops": "connection keeps dropping",
    "callcenter_unhelpful": "unhelpful support agent",
    "repair_slow": "slow repair",
    "delivery_late": "late delivery",
    "misleading_ad": "misleading advertising",
    "cancel_difficult": "hard to cancel my contract",
}

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.report import write_section  # noqa: E402

WORK = ROOT / "bench" / "_work" / "search"
RESULTS = WORK / "results.json"
CORPORA = ROOT.parent / "shared" / "corpora"
if not CORPORA.exists():
    CORPORA = Path("/work/shared/corpora")
XLING_JSONL = CORPORA / "xling_dev" / "complaints.jsonl"
DEMO_LABELS = ROOT / "corpora" / "demo" / "labels.csv"
STORES = {"xling": ROOT / "bench" / "_work" / "themes" / "xling.db", "demo": ROOT / "bench" / "_work" / "themes" / "demo.db"}
REAL_CACHES = [Path(os.path.expanduser("~/.cache/miner/embeddings.db")), ROOT / "bench" / "_work" / "themes" / "scale20k.db"]
DIM = 384
FAKE = f"fake-{DIM}"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms(values) -> dict:
    a = np.asarray(values) * 1000
    return {"median_ms": round(float(np.median(a)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2)}


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def fresh_copy(name: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    target = WORK / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{target}.search-index", ignore_errors=True)
    shutil.copy(STORES[name], target)
    return target


# ------------------------------------------------------------------------------------------ quality


def labels_of(name: str) -> dict[str, set[str]]:
    if name == "xling":
        return {r["id"]: set(r["topics"]) for r in map(json.loads, XLING_JSONL.read_text(encoding="utf-8").splitlines())}
    import csv

    with open(DEMO_LABELS, encoding="utf-8") as f:
        return {r["id"]: set(r["topics"].split("|")) for r in csv.DictReader(f)}


def quality_part(encoder) -> dict:
    from miner.nlp.textprep import encoder_input
    from miner.search.index import open_index
    from miner.search.query import search
    from miner.segments.vectors import group_language
    from miner.store import open_db

    out = {}
    for name, queries in (("xling", XLING_QUERIES), ("demo", DEMO_QUERIES)):
        db = open_db(fresh_copy(name))
        index, report = open_index(db, encoder.id, encoder.dim)
        labels = labels_of(name)
        ext = dict(db.execute("SELECT id, external_id FROM documents").fetchall())
        topics = {int(d): labels.get(ext[int(d)], set()) for d in index.ids}
        lang_of = {int(d): index.languages[int(l)] for d, l in zip(index.ids, index.langs)}
        raw = index.raw_rows(slice(None))
        per, sums = {}, {}
        for topic, text in queries.items():
            q = encoder.embed_batch([encoder_input(text)])[0]
            rankings = {"raw": [int(index.ids[i]) for i in np.argsort(-(raw @ q), kind="stable")[:40]]}
            found = search(db, text, limit=40, encoder=encoder)
            centred, _ = index.centre_query(q, found.query_lang)
            rankings["centred"] = [int(index.ids[r]) for r in index.nearest(centred, 40)[0]]
            rankings["hybrid"] = [h["id"] for h in found.hits]
            per[topic] = {"query": text, "lang": found.query_lang, "exact_matches": sum(h["exact"] for h in found.hits)}
            for variant, ids in rankings.items():
                rel = [topic in topics.get(d, set()) for d in ids]
                langs = {lang_of.get(d) or group_language(*db.execute("SELECT lang, script FROM documents WHERE id = ?", [d]).fetchone())
                         for d in ids[:10]}
                m = {"p10": float(np.mean(rel[:10])), "p40": float(np.mean(rel[:40])), "langs10": len(langs)}
                per[topic][variant] = m
                for k, v in m.items():
                    sums.setdefault(variant, {}).setdefault(k, []).append(v)
        means = {v: {k: round(float(np.mean(x)), 3) for k, x in m.items()} for v, m in sums.items()}
        out[name] = {"documents": report.rows, "pending": report.pending, "queries": per, "means": means}
        log(f"quality {name}: {means}")
    x, d = out["xling"]["means"], out["demo"]["means"]
    centring = (x["centred"]["p10"] >= x["raw"]["p10"] - 0.02 and x["centred"]["langs10"] > x["raw"]["langs10"]) or (
        x["centred"]["p10"] > x["raw"]["p10"] + 0.02)
    out["decision"] = {"centring": bool(centring), "hybrid_default": bool(d["hybrid"]["p10"] >= d["centred"]["p10"] - 0.05)}
    return out


# ------------------------------------------------------------------------------------------ speed


def _word(i: int) -> str:
    letters = "bcdfghjklmnpqrstvwxz"
    out = ""
    while True:
        out += letters[i % 20]
        i //= 20
        if not i:
            return out


LANGS = ["en", "de", "fr", "es", "vi", "fa", "ar", "ja", "zh", "ko"]


def synthetic_store(path: Path, first: int, n: int, seed: int) -> None:
    """n documents of one segment each (ids from first + 1), in 10 languages, dated over 2026,
    with a random unit vector each in the embedding cache under the `fake-384` encoder."""
    import xxhash

    from miner.nlp.textprep import encoder_input
    from miner.store import index_fts, open_db

    db = open_db(path)
    conn = db.conn
    source = conn.execute("SELECT id FROM sources WHERE path = '<bench>'").fetchone()
    source = source[0] if source else conn.execute(
        "INSERT INTO sources (path, name, format, status) VALUES ('<bench>', 'bench', 'jsonl', 'done')").lastrowid
    rng = np.random.default_rng(seed)
    step = 50_000
    for start in range(first, first + n, step):
        stop = min(start + step, first + n)
        V = rng.standard_normal((stop - start, DIM), dtype=np.float32)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        conn.execute("BEGIN")
        docs, segs, embs = [], [], []
        for k, i in enumerate(range(start + 1, stop + 1)):
            text = f"complaint {_word(i)} about {_word(i * 7919 % 1000)}"
            lang = LANGS[i % 10]
            docs.append((i, source, f"k{i}", text, text, lang, f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", "survey", f"h{i}", 1, 1))
            segs.append((i, i, 0, text, lang, 0, len(text)))
            embs.append((FAKE, xxhash.xxh3_128_hexdigest(encoder_input(text).encode()), V[k].astype("<f4").tobytes()))
        conn.executemany("INSERT INTO documents (id, source_id, record_key, text, clean_text, lang, created_at, channel, "
                         "content_hash, informative, n_segments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", docs)
        conn.executemany("INSERT INTO segments (id, document_id, seg_index, text, lang, char_start, char_end, informative) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, 1)", segs)
        conn.executemany("INSERT OR IGNORE INTO embeddings (encoder, text_hash, vector) VALUES (?, ?, ?)", embs)
        index_fts(db, start + 1, stop)  # full text, as ingest indexes it
        conn.execute("COMMIT")
    conn.close()


def index_missing_fts(path: Path) -> dict:
    """Add to the full-text index the documents it lacks (stores filled before the bench indexed
    them: their exact-word cases found nothing)."""
    from miner.store import index_fts, open_db

    db = open_db(path)
    done = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents_fts_docsize").fetchone()[0]
    last = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    t = time.perf_counter()
    for start in range(done, last, 50_000):
        db.conn.execute("BEGIN")
        index_fts(db, start + 1, min(start + 50_000, last))
        db.conn.execute("COMMIT")
    return {"documents": last - done, "seconds": round(time.perf_counter() - t, 1)}


def worker(args) -> None:
    """One measured step in its own process (its peak memory is its own); prints JSON."""
    from miner.nlp.encoders.fake import FakeEncoder
    from miner.search.index import open_index
    from miner.search.query import search
    from miner.search.scope import Scope
    from miner.store import open_db

    path = Path(args.store)
    out = {}
    if args.worker == "fill":
        t = time.perf_counter()
        synthetic_store(path, args.first, args.rows, args.seed)
        out = {"seconds": round(time.perf_counter() - t, 1)}
    elif args.worker == "fts":
        out = index_missing_fts(path)
    elif args.worker == "index":
        db = open_db(path)
        t = time.perf_counter()
        index, report = open_index(db, FAKE, DIM)
        out = {"seconds": round(time.perf_counter() - t, 1), "report": report.to_dict(), "peak_mb": round(peak_mb())}
    elif args.worker == "query":
        from miner.search import index as search_index

        db = open_db(path)
        t = time.perf_counter()
        index, report = open_index(db, FAKE, DIM)
        out["open_s"] = round(time.perf_counter() - t, 3)
        out["report"] = report.to_dict()
        out["fts_documents"] = db.execute("SELECT COUNT(*) FROM documents_fts_docsize").fetchone()[0]
        if index.graph is not None:  # what a fresh process pays when the graph's stat is not the recorded one
            t = time.perf_counter()
            search_index._file_hash(Path(report.folder) / search_index._files(index.meta)["graph"])
            out["graph_hash_s"] = round(time.perf_counter() - t, 3)
        rng = np.random.default_rng(7)
        Q = rng.standard_normal((200, DIM), dtype=np.float32)
        Q /= np.linalg.norm(Q, axis=1, keepdims=True)
        times = []
        for q in Q:
            t = time.perf_counter()
            c, _ = index.centre_query(q, "en")
            index.nearest(c, 100)
            times.append(time.perf_counter() - t)
        out["nearest_100"] = ms(times)
        if index.graph is not None:  # recall of the graph + re-ranking against exact search, on these random vectors
            hits = []
            for q in Q[:20]:
                c, _ = index.centre_query(q, "en")
                through_graph = set(index.nearest(c, 10)[0].tolist())
                graph, index.graph = index.graph, None
                exact = set(index.nearest(c, 10)[0].tolist())
                index.graph = graph
                hits.append(len(exact & through_graph) / 10)
            out["recall10_random"] = round(float(np.mean(hits)), 3)
        enc = FakeEncoder(DIM)
        t = time.perf_counter()
        search(db, "first query", encoder=enc, limit=20)
        out["first_search_s"] = round(time.perf_counter() - t, 3)  # pages of the store and index read from disk
        cases = (("search", Scope(), "{w} late refund"), ("search_lang", Scope(langs=("de",)), "{w} late refund"),
                 ("search_since", Scope(since="2026-07-01"), "{w} late refund"),
                 ("search_common_word", Scope(), "complaint {w}"), ("search_every_document", Scope(), "complaint"),
                 ("search_two_characters", Scope(), "退款"))
        for name, scope, text in cases:
            times, cpu = [], []
            for i in range(30):
                t, c = time.perf_counter(), time.process_time()
                found = search(db, text.format(w=_word(i * 31)), scope=scope, encoder=enc, limit=20)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)  # this process's CPU time, all threads: less moved by other work
                exact = sum(h["exact"] for h in found.hits)
            out[name] = {**ms(times), "cpu_median_ms": ms(cpu)["median_ms"], "exact_in_top20_last": exact}
        out["load_after"] = round(os.getloadavg()[0], 1)
        out["peak_mb"] = round(peak_mb())
    print(json.dumps(out))


def run_worker(kind: str, store: Path, **kw) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--store", str(store)] + [f"--{k}={v}" for k, v in kw.items()]
    log(" ".join(cmd[2:]))
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


SPEED_STEPS = ("fill", "build", "reopen", "query", "add")


def speed_part(rows: int, steps: tuple[str, ...] = SPEED_STEPS, previous: dict | None = None) -> dict:
    """All steps from an empty store, or (`--speed-steps add,query`, for example) some steps, in
    that order, on the store the last run left (its 20-minute build kept), the other figures kept
    from `previous`."""
    store = WORK / f"speed{rows}.db"
    WORK.mkdir(parents=True, exist_ok=True)
    out = {"rows": rows}
    if "fill" in steps:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(f"{store}.search-index", ignore_errors=True)
        out["fill"] = run_worker("fill", store, first=0, rows=rows, seed=1)
    else:
        if not store.exists():
            raise SystemExit(f"{store} is missing: run --parts speed with every step first")
        out = {**(previous or {}), "rows": rows}
        fts = run_worker("fts", store)
        if fts["documents"] or "fts" not in out:  # else what an earlier re-run indexed stays reported
            out["fts"] = fts
        out["steps_rerun"] = list(dict.fromkeys([*out.get("steps_rerun", []), *steps]))  # since the last full run
    for step in steps:  # in the order given
        if step in ("build", "reopen"):
            out[step] = run_worker("index", store)
        elif step == "query":
            out["query"] = run_worker("query", store)
        elif step == "add":
            add = 10_000
            first = sqlite3.connect(store).execute("SELECT MAX(id) FROM documents").fetchone()[0]
            out["fill_more"] = run_worker("fill", store, first=first, rows=add, seed=2)
            out["add"] = run_worker("index", store)
            out["add"]["rows_added"] = add
    folder = Path(f"{store}.search-index")
    out["files_mb"] = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted(folder.iterdir()) if p.is_file()}
    out["store_mb"] = round(store.stat().st_size / 1e6)
    log(f"speed: {json.dumps(out)}")
    return out


# ------------------------------------------------------------------------------------------ libraries


def real_vectors() -> np.ndarray:
    found = {}
    for path in REAL_CACHES:
        if path.exists():
            conn = sqlite3.connect(path)
            for h, blob in conn.execute("SELECT text_hash, vector FROM embeddings WHERE encoder LIKE '%e5-small-q4:query'"):
                found[h] = np.frombuffer(blob, "<f4")
    X = np.stack(list(found.values())).astype(np.float32)
    np.random.default_rng(0).shuffle(X)
    X -= X.mean(axis=0)  # the product searches centred vectors
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def libs_part(rows: int) -> dict:
    """Libraries on the real e5 vectors of the caches (recall, build) and exact search on 1M random vectors (latency)."""
    from usearch.index import Index

    threads = 2
    X = real_vectors()
    Q, X = X[:200], X[200:]
    truth = np.argsort(-(Q @ X.T), axis=1)[:, :10]
    Xh = X.astype(np.float16)

    def recall(fn):
        return round(float(np.mean([len(set(np.asarray(fn(q)).tolist()) & set(t.tolist())) / 10 for q, t in zip(Q, truth)])), 3)

    def latency(fn):
        times = []
        for q in Q:
            t = time.perf_counter()
            fn(q)
            times.append(time.perf_counter() - t)
        return ms(times)

    out = {"real_vectors": len(X), "graphs": []}
    for dtype in ("i8", "f16"):
        t = time.perf_counter()
        g = Index(ndim=DIM, metric="ip", dtype=dtype, connectivity=16, expansion_add=64, expansion_search=128)
        g.add(np.arange(len(X), dtype=np.uint64), X, threads=threads)
        build = time.perf_counter() - t

        def plain(q, g=g):
            return g.search(q, 10, threads=1).keys

        def rerank(q, g=g):
            c = np.asarray(g.search(q, 100, threads=1).keys, dtype=np.int64)
            return c[np.argsort(-(Xh[c].astype(np.float32) @ q))[:10]]

        out["graphs"].append({"library": f"usearch {dtype}", "build_s": round(build, 1), "recall10": recall(plain),
                              "recall10_rerank100": recall(rerank), **latency(rerank), "bytes_per_vector": round(g.serialized_length / len(X))})
        log(f"libs: {out['graphs'][-1]}")
    try:
        import hnswlib  # for the comparison only (pip install hnswlib); not a dependency
    except ImportError:
        hnswlib = None
        out["graphs"].append({"library": "hnswlib (not installed)"})
    if hnswlib is not None:
        out["graphs"].append(hnswlib_row(hnswlib, X, recall, latency, threads))
        log(f"libs: {out['graphs'][-1]}")
    exact_part(out, rows, threads)
    return out


def hnswlib_row(hnswlib, X, recall, latency, threads) -> dict:
    t = time.perf_counter()
    h = hnswlib.Index(space="ip", dim=DIM)
    h.init_index(max_elements=len(X), ef_construction=64, M=16)
    h.set_num_threads(threads)
    h.add_items(X, np.arange(len(X)))
    build = time.perf_counter() - t
    h.set_ef(128)
    h.set_num_threads(1)
    h.save_index(str(WORK / "h.bin"))
    size = (WORK / "h.bin").stat().st_size
    t = time.perf_counter()
    h2 = hnswlib.Index(space="ip", dim=DIM)
    h2.load_index(str(WORK / "h.bin"))
    load = time.perf_counter() - t
    (WORK / "h.bin").unlink()
    return {"library": "hnswlib f32", "build_s": round(build, 1), "recall10": recall(lambda q: h.knn_query(q, 10)[0][0]),
            **latency(lambda q: h.knn_query(q, 100)[0][0]), "bytes_per_vector": round(size / len(X)), "load_s": round(load, 3)}


def exact_part(out: dict, rows: int, threads: int) -> None:
    """Exact search over `rows` random unit vectors, top 100."""
    import usearch.index as ui

    rng = np.random.default_rng(0)
    R = rng.standard_normal((rows, DIM), dtype=np.float32)
    R /= np.linalg.norm(R, axis=1, keepdims=True)
    Qr = R[:30] + 0.0
    Rh = R.astype(np.float16)
    exact = {}

    def lat(fn):
        times = []
        for q in Qr:
            t = time.perf_counter()
            fn(q)
            times.append(time.perf_counter() - t)
        return ms(times)

    exact["numpy f32 matvec + argpartition"] = lat(lambda q: np.argpartition(-(R @ q), 100)[:100])
    exact["usearch exact f16"] = lat(lambda q: ui.search(Rh, q.astype(np.float16), 100, ui.MetricKind.IP, exact=True, threads=threads))
    exact["usearch exact f32"] = lat(lambda q: ui.search(R, q, 100, ui.MetricKind.IP, exact=True, threads=threads))
    out["exact"] = exact
    log(f"libs exact: {exact}")


# ------------------------------------------------------------------------------------------ report


def cli_part() -> dict:
    """`miner search` as a user runs it on the xling_dev store: a fresh process each time."""
    store = fresh_copy("xling")
    out = {}
    for name, extra in (("first (index built)", []), ("again", []), ("again, --encoder e5-small-c", ["--encoder", "e5-small-c"]),
                        ("--exact", ["--exact"])):
        t = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "search", "refund", "--db", str(store), *extra],
                              capture_output=True, text=True)
        out[name] = {"seconds": round(time.perf_counter() - t, 2), "rc": done.returncode, "stderr": done.stderr.strip()[-300:]}
    log(f"cli: {out}")
    return out


def render(results: dict) -> str:
    parts = ["## Search across languages (issue 15; `bench/bench_search.py`)", ""]
    q = results.get("quality")
    if q:
        parts += [
            "Check decided before any result (the script's docstring): English queries, one per topic; a document is "
            "relevant when it carries the topic. `raw`: e5 vectors as they are; `centred`: each document minus its "
            "language's mean, the query minus its language's; `hybrid`: what `miner search` does (centred meaning fused "
            "with FTS5 matches by reciprocal rank).", "",
        ]
        rows = []
        for corpus in ("xling", "demo"):
            for variant, m in q[corpus]["means"].items():
                rows.append([corpus, variant, f"{m['p10']:.3f}", f"{m['langs10']:.2f}", f"{m['p40']:.3f}"])
        parts += [md_table(["corpus", "variant", "P@10", "languages in top 10", "P@40"], rows), ""]
        d = q["decision"]
        parts += [f"Rules applied: centring {'adopted' if d['centring'] else 'rejected'} (xling_dev); fusion with full text "
                  f"{'the default' if d['hybrid_default'] else 'rejected, --exact only'} (demo).", ""]
        rows = []
        for corpus in ("xling", "demo"):
            for topic, m in q[corpus]["queries"].items():
                rows.append([corpus, f"`{m['query']}`", m["lang"], f"{m['raw']['p10']:.1f} / {m['raw']['langs10']}",
                             f"{m['centred']['p10']:.1f} / {m['centred']['langs10']}", f"{m['hybrid']['p10']:.1f} / {m['hybrid']['langs10']}",
                             m["exact_matches"]])
        parts += ["Per query (P@10 / languages in the top 10):", "",
                  md_table(["corpus", "query", "read as", "raw", "centred", "hybrid", "exact-word matches in top 40"], rows), ""]
    c = results.get("cli")
    if c:
        parts += ["`miner search refund` on the xling_dev store, a fresh process each time (model load included):", "",
                  md_table(["run", "wall s"], [[k, v["seconds"]] for k, v in c.items()]), ""]
    s = results.get("speed")
    if s:
        n = s["rows"]
        b, qy, a = s["build"], s["query"], s["add"]
        at_query = qy["report"]["rows"]
        check = {"stat": "trusted by its recorded stat", "hash": "hash-checked"}.get(qy["report"].get("graph_check"), "hash-checked")
        real = next((g for g in (results.get("libs") or {}).get("graphs", []) if g.get("library") == "usearch i8"), {})

        def case(key: str, label: str) -> list:
            c = qy[key]
            found = f"; {c['exact_in_top20_last']} exact-word matches in the last query's top 20" if "exact_in_top20_last" in c else ""
            cpu = f" (CPU time median {c['cpu_median_ms']} ms)" if "cpu_median_ms" in c else ""
            return [label, f"median {c['median_ms']} ms, p95 {c['p95_ms']} ms{cpu}{found}"]

        parts += [
            f"Speed on {n:,} documents with **random unit vectors** (384 dimensions; random vectors are the worst case for "
            "graph recall and build time, real embeddings have neighbourhoods), a synthetic store in 10 languages, "
            "2 cores shared with other work" + (f" (load average {qy['load_after']} after the query step)" if "load_after" in qy else "")
            + (f"; the query step ran on {at_query:,} documents" if at_query != n else "") + ":", "",
        ]
        if s.get("steps_rerun"):
            fts = s.get("fts", {})
            parts += [f"Steps re-run on the kept store: {', '.join(s['steps_rerun'])} (the fill and first build are from the "
                      f"earlier run; {fts.get('documents', 0):,} documents the earlier fill had left out of the full-text index "
                      f"were indexed first, {fts.get('seconds', 0)} s, so that the exact-word cases find words). The build's peak "
                      "memory was read with ru_maxrss in that run, which carries a peak across exec; the re-run steps read "
                      "their own VmHWM.", ""]
        parts += [
            md_table(["step", "figure"], [
                ["filling the synthetic store (documents, segments, cached vectors)", f"{s['fill']['seconds']} s"],
                ["first index build (vectors read from the cache, centred, HNSW graph)", f"{b['seconds']} s, peak {b['peak_mb']:,} MB"],
                ["re-open, nothing new", f"{s['reopen']['seconds']} s"],
                [f"incremental add of {a['rows_added']:,} documents", f"{a['seconds']} s ({'rebuilt: ' + a['report']['rebuilt'] if a['report']['rebuilt'] else 'nothing rebuilt'})"],
                [f"open in a fresh process (graph file {check}, mapped)", f"{qy['open_s']} s"],
                *([["hashing the graph file (what a fresh process pays when its stat is not the recorded one)", f"{qy['graph_hash_s']} s"]]
                  if "graph_hash_s" in qy else []),
                *([["the process's first `search()` (store and index pages read from disk)", f"{qy['first_search_s']} s"]]
                  if "first_search_s" in qy else []),
                ["nearest 100 + exact re-rank, per query", f"median {qy['nearest_100']['median_ms']} ms, p95 {qy['nearest_100']['p95_ms']} ms"],
                case("search", "whole `search()` in one process (fake encoder, full text, fusion, rows), per query"),
                case("search_lang", "the same filtered to one language (10%)"),
                case("search_since", "the same filtered by date (half)"),
                case("search_common_word", "a query whose first word every document holds"),
                case("search_every_document", "a one-word query every document holds"),
                *([case("search_two_characters", "a two-character query no document holds (退款: LIKE over the newest 100,000 texts)")]
                  if "search_two_characters" in qy else []),
                ["recall@10 of graph + re-rank against exact, random vectors (see below)", qy.get("recall10_random", "n/a")],
                ["peak memory of the query process", f"{qy['peak_mb']:,} MB"],
                ["index files", ", ".join(f"{k} {v} MB" for k, v in s["files_mb"].items())],
            ]), "",
            f"The random-vector recall@10 ({qy.get('recall10_random', 'n/a')}) is not the quality of search: random vectors have "
            "no neighbourhoods (a document close to the query says nothing about which others are), so a graph walk has nothing "
            "to follow; the figure only shows that the graph is not exact search. On "
            f"{(results.get('libs') or {}).get('real_vectors', 0):,} real e5 vectors the same kind of graph (usearch i8, top 100 "
            f"re-ranked) finds {real.get('recall10_rerank100', 'n/a')} of the exact top 10 (libraries table below).", "",
        ]
    lb = results.get("libs")
    if lb:
        parts += [f"Libraries on {lb['real_vectors']:,} real e5 vectors from the caches (centred; 200 held-out queries; "
                  "connectivity 16, expansion 64 to add, 128 to search; 2 threads to build, 1 to search):", "",
                  md_table(["library", "build s", "recall@10", "recall@10, top 100 re-ranked", "query (k=100) median ms", "p95 ms", "bytes/vector"],
                           [[g["library"], g.get("build_s", "n/a"), g.get("recall10", "n/a"), g.get("recall10_rerank100", "n/a"),
                             g.get("median_ms", "n/a"), g.get("p95_ms", "n/a"), g.get("bytes_per_vector", "n/a")] for g in lb["graphs"]]), "",
                  *([f"hnswlib reads its whole file to open it: {g['load_s']} s for these vectors (usearch maps its file)."
                     for g in lb["graphs"] if "load_s" in g] + [""]),
                  f"Exact search over {results.get('speed', {}).get('rows', 1_000_000):,} random vectors, top 100, 2 threads:", "",
                  md_table(["method", "median ms", "p95 ms"], [[k, v["median_ms"], v["p95_ms"]] for k, v in lb["exact"].items()]), "",
                  "sqlite-vec could not be measured: this Python's sqlite3 is built without extension loading.", ""]
    return "\n".join(parts)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--parts", default="quality,cli,libs,speed")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--speed-steps", default=",".join(SPEED_STEPS), help="speed steps to run; without fill, on the store left by the last run")
    p.add_argument("--worker")
    p.add_argument("--store")
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    parts = [x for x in args.parts.split(",") if x]
    if "quality" in parts:
        from miner.nlp.encoders.registry import get_encoder

        results["quality"] = quality_part(get_encoder(None, lazy=True))
    if "cli" in parts:
        results["cli"] = cli_part()
    if "libs" in parts:
        results["libs"] = libs_part(args.rows)
    if "speed" in parts:
        steps = tuple(x for x in args.speed_steps.split(",") if x)
        results["speed"] = speed_part(args.rows, steps, results.get("speed"))
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    write_section("search", render(results))


if __name__ == "__main__":
    main()
