"""What each e5-small backend costs in sentiment quality: the shipped head (trained on the C
engine's vectors) applied to vectors from the torch backends, on up to 400 test texts per
(corpus, language) group of ../shared/corpora.

    .venv/bin/python bench/bench_backend_sentiment.py

The head/encoder id check is bypassed on purpose here: the question is how far each
backend's vectors are from the ones the head was trained on.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.report import write_section  # noqa: E402
from miner.nlp.cache import EmbeddingCache, embed_texts  # noqa: E402
from miner.nlp.encoders.registry import get_encoder  # noqa: E402
from miner.nlp.sentiment import LABELS, SentimentHead, resolve_head  # noqa: E402
from miner.nlp.sentiment_data import load_shared  # noqa: E402
from miner.nlp.train_sentiment import evaluate  # noqa: E402
from miner.paths import cache_dir  # noqa: E402

PER_GROUP = 400


def main() -> None:
    head = SentimentHead.load(resolve_head())
    groups = defaultdict(list)
    for e in load_shared():
        if e.split == "test" and len(groups[(e.corpus, e.lang)]) < PER_GROUP:
            groups[(e.corpus, e.lang)].append(e)
    test = [e for g in groups.values() for e in g]
    cache = EmbeddingCache.open_file(cache_dir() / "embeddings.db")
    rows, base = [], None
    for name in ("e5-small", "e5-small-torch", "e5-small-int8"):
        encoder = get_encoder(name)
        x, _ = embed_texts(encoder, [e.text for e in test], cache)
        proba = head.predict_proba(x)
        m = evaluate(proba, test)
        labels = proba.argmax(axis=1)
        if base is None:
            base = labels
        tweets = np.mean([v["macro_f1"] for k, v in m.items() if k.startswith("umsab")])
        overall = np.mean([v["macro_f1"] for v in m.values()])
        agree = np.mean(labels == base)
        rows.append(f"| {name} | {100 * tweets:.1f} | {100 * overall:.1f} | {100 * agree:.2f}% |")
    body = f"""## Sentiment by e5-small backend (`bench/bench_backend_sentiment.py`)

The shipped head (trained on the C engine's vectors) on vectors from each backend, {len(test):,} test
texts (up to {PER_GROUP} per corpus and language).

| backend | tweets mean macro-F1 | mean macro-F1 over all groups | same label as with the C engine |
|---|---|---|---|
{chr(10).join(rows)}
"""
    write_section("backend-sentiment", body)
    print(body)


if __name__ == "__main__":
    main()
