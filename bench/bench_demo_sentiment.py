"""Document sentiment on the demo corpus against its labels (in-domain: complaints, tickets,
reviews, survey answers about one operator, 9 languages).

    .venv/bin/python bench/bench_demo_sentiment.py
"""

from __future__ import annotations

import csv
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.report import write_section  # noqa: E402
from miner.demo import run_demo  # noqa: E402
from miner.nlp.train_sentiment import macro_f1  # noqa: E402
from miner.paths import demo_corpus_dir  # noqa: E402
from miner.store import open_db  # noqa: E402

LABELS = ("neg", "neu", "pos")


def main() -> None:
    with (demo_corpus_dir() / "labels.csv").open(encoding="utf-8") as fh:
        labels = {row["id"]: row for row in csv.DictReader(fh)}
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(Path(tmp) / "demo.db")
        rows = list(open_db(Path(tmp) / "demo.db").query(
            "SELECT d.external_id, s.label FROM documents d JOIN document_sentiment s ON s.document_id = d.id WHERE s.label IS NOT NULL"
        ))
    by_lang: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in rows:
        gold = labels[r["external_id"]]
        by_lang[gold["lang"]].append((LABELS.index(gold["sentiment"]), LABELS.index(r["label"])))
    lines = []
    for lang, pairs in sorted(by_lang.items()):
        g, p = np.array(pairs).T
        lines.append(f"| {lang} | {len(pairs)} | {100 * np.mean(g == p):.1f}% | {100 * macro_f1(g, p, [0, 1, 2]):.1f} |")
    g, p = np.array([x for pairs in by_lang.values() for x in pairs]).T
    confusion = "\n".join(
        f"| {LABELS[i]} | " + " | ".join(str(int(np.sum((g == i) & (p == j)))) for j in range(3)) + " |" for i in range(3)
    )
    a = result["analyze"]
    body = f"""## Document sentiment on the demo corpus (`bench/bench_demo_sentiment.py`)

`miner demo` (ingest + analyze with the shipped head), document labels against `labels.csv`
({len(g)} informative documents; the labels were written with the texts, by the team).

| language | documents | accuracy | macro-F1 |
|---|---|---|---|
{chr(10).join(lines)}
| **all** | {len(g)} | **{100 * np.mean(g == p):.1f}%** | **{100 * macro_f1(g, p, [0, 1, 2]):.1f}** |

Confusion (rows: label, columns: miner):

| | neg | neu | pos |
|---|---|---|---|
{confusion}

Analyze on the demo: {a['documents']} documents, {a['segments']} segments in {a['seconds']:.1f} s.
"""
    write_section("demo-sentiment", body)
    print(body)


if __name__ == "__main__":
    main()
