"""Research behind document themes (issue 13): which unit, which language-bias removal, what the
concept projection does. Prints a table; the product choices in docs/themes.md cite it.

    .venv/bin/python bench/research_document_themes.py [--workdir bench/_work/themes]

Needs the xling_dev store of bench_themes.py (WORKDIR/xling.db, built by its `xling` part) and
the embedding cache for banking77. Measures, on xling_dev (640 documents, 16 topics, 10 languages):
- k-means (k = 16) NMI against the topic and against the language;
- the share of each document's 15 nearest neighbours (cosine) that have its topic;
for documents as one vector (their informative sentences joined), documents as the mean of their
sentences' vectors, each raw / centred per language / centred + concept projection; and the same
neighbour share on banking77's test split (English only: no language to remove).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_themes import XLING, banking_test, cache_vectors, md_table  # noqa: E402
from bench.report import write_section  # noqa: E402


def normalise(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def centre(X: np.ndarray, langs: list[str]) -> np.ndarray:
    Z, L = X.astype(np.float64).copy(), np.asarray(langs)
    for lang in set(langs):
        Z[L == lang] -= Z[L == lang].mean(axis=0)
    return normalise(Z).astype(np.float32)


def neighbour_share(Z: np.ndarray, y, k: int = 15) -> float:
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    nb = np.argsort(-S, axis=1)[:, :k]
    y = np.asarray(y)
    return float((y[nb] == y[:, None]).mean())


def kmeans_nmi(Z: np.ndarray, y, langs, k: int) -> tuple[float, float]:
    lab = KMeans(k, n_init=10, random_state=0).fit_predict(Z)
    return nmi(y, lab), nmi(langs, lab)


def main() -> None:
    import sqlite_utils

    from miner.nlp.encoders.registry import get_encoder
    from miner.segments.vectors import load_documents, load_segments
    from miner.concepts.space import ConceptSpace, phrase_vectors
    from miner.concepts.lexicon import load_lexicon

    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "_work" / "themes")
    args = ap.parse_args()
    db = sqlite_utils.Database(str(args.workdir / "xling.db"))
    encoder = get_encoder(None, lazy=True)
    lexicon = load_lexicon()
    space = ConceptSpace.build(lexicon, phrase_vectors(lexicon, encoder, None))
    gold = {json.loads(line)["id"]: json.loads(line) for line in open(XLING, encoding="utf-8")}
    ext = {i: e for i, e in db.execute("SELECT id, external_id FROM documents")}
    docs, _ = load_documents(db, encoder)
    seg, _ = load_segments(db, encoder)
    pooled = defaultdict(list)
    for d, v in zip(seg.doc_ids, seg.vectors):
        pooled[int(d)].append(v)
    mean_seg = normalise(np.stack([np.mean(pooled[int(d)], axis=0) for d in docs.ids]))
    y = [gold[ext[int(d)]]["topics"][0] for d in docs.ids]
    langs = docs.langs
    rows = []
    for unit, X in (("document vector", docs.vectors), ("mean of its sentences", mean_seg)):
        for name, Z in (("raw", normalise(X)), ("centred", centre(X, langs)), ("centred + concept projection", space.project(centre(X, langs)))):
            topic, lang = kmeans_nmi(Z, y, langs, 16)
            rows.append((unit, name, topic, lang, neighbour_share(Z, y)))
    texts, cats = banking_test()
    X, _ = cache_vectors(texts)
    Z = normalise(X - X.mean(axis=0))
    bank = (neighbour_share(Z, cats), neighbour_share(space.project(Z), cats))
    defaults = _defaults(lexicon, encoder, docs, y, langs)
    table = md_table(["unit", "space", "k-means NMI with the topic", "k-means NMI with the language", "15 nearest neighbours on its topic"],
                     [[u, n, f"{t:.3f}", f"{lang:.3f}", f"{sh:.1%}"] for u, n, t, lang, sh in rows])
    body = f"""## Research: documents as the unit of themes (`bench/research_document_themes.py`)

xling_dev (640 documents, 16 topics, 10 languages), k-means with k = 16 and the share of each document's 15
nearest neighbours (cosine) that carry its topic. "Document vector": its informative sentences joined and embedded
once; "mean of its sentences": their cached vectors averaged; "centred": each language's mean removed; "concept
projection": the lexicon's discriminant beside the centred vector (miner.concepts.space).

{table}

banking77 test ({len(texts):,} texts, English only): 15 nearest neighbours on the intent {bank[0]:.1%} centred,
{bank[1]:.1%} with the concept projection (one language: nothing to align, so discovery leaves the projection out).

Defaults of `ThemeParams` and the concept space on xling_dev (`fit_themes` with the projection, mean of seeds 42 and
1: NMI / topic in its main theme; the discriminant's shrinkage by the neighbour share above):

{defaults}
"""
    print(body)
    write_section("research-document-themes", body)


def _defaults(lexicon, encoder, docs, y, langs) -> str:
    import miner.concepts.space as concepts
    from miner.concepts.space import ConceptSpace, phrase_vectors
    from miner.themes.fit import ThemeParams, fit_themes

    vectors = phrase_vectors(lexicon, encoder, None)
    lines = []
    for shrink in (0.5, 0.9, 0.95, 0.98):
        concepts.SHRINKAGE = shrink
        space = ConceptSpace.build(lexicon, vectors)
        lines.append(f"- shrinkage {shrink}: {neighbour_share(space.project(centre(docs.vectors, langs)), y):.1%} of neighbours on the topic")
    concepts.SHRINKAGE = 0.95
    space = ConceptSpace.build(lexicon, vectors)

    def fit(**kw) -> str:
        runs = [fit_themes(docs.vectors, langs, docs.keys, ThemeParams(seed=s, **kw), space.project).theme_of for s in (42, 1)]
        shares = []
        for lab in runs:
            t, la = np.asarray(y), np.asarray(lab)
            shares.append(np.mean([np.unique(la[t == x], return_counts=True)[1].max() / (t == x).sum() for x in set(y)]))
        return f"{np.mean([nmi(y, np.where(r >= 0, r, -1 - np.arange(len(r)))) for r in runs]):.3f} / {np.mean(shares):.1%}"

    lines.append("- merge distance: " + ", ".join(f"{d}: {fit(merge_distance=d)}" for d in (0.55, 0.6, 0.65, 0.7, 0.75)))
    lines.append("- smallest sub-theme (HDBSCAN min_cluster_size): " + ", ".join(f"{m}: {fit(min_cluster_size=m)}" for m in (5, 8, 12)))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
