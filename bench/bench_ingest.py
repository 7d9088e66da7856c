"""Ingest throughput without models: 100k short texts built from ../shared/corpora.

    .venv/bin/python bench/bench_ingest.py [--n 100000]

The texts are written to a temporary JSON Lines file (never into the repository), then
`miner ingest` runs in a child process so that its peak memory (max RSS) is measured
alone. A second run over the same file measures re-ingest (which must add nothing).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_cli  # noqa: E402
from bench.report import write_section  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
FILES = [
    "umsab_tweets", "amazon_reviews_zh_ja", "id_ms_reviews", "banking77", "uit_vsfc_vi",
    "snappfood_fa", "chnsenticorp_hotel_zh", "waimai_zh",
]


def build(n: int, out: Path) -> dict:
    texts = []
    for name in FILES:
        with gzip.open(CORPORA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            texts += [(json.loads(line)["text"], json.loads(line)["lang"]) for line in fh]
    rng = random.Random(7)
    rng.shuffle(texts)
    # Fewer real texts than n: repeat them with a distinguishing id, as a multi-period export would.
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text, lang = texts[i % len(texts)]
            fh.write(json.dumps({"id": f"r{i}", "text": text, "date": f"2026-{1 + i % 12:02d}-01"}, ensure_ascii=False) + "\n")
    chars = sorted(len(texts[i % len(texts)][0]) for i in range(n))
    return {"distinct": min(n, len(texts)), "median_chars": chars[len(chars) // 2], "langs": Counter(l for _, l in texts)}


def run_ingest(path: Path, db: Path, *extra: str) -> tuple[float, float, dict]:
    return run_cli("ingest", str(path), "--db", str(db), "--quiet", *extra)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, db = Path(tmp) / "texts.jsonl", Path(tmp) / "bench.db"
        info = build(args.n, data)
        first_s, peak_mb, summary = run_ingest(data, db)
        second_s, _, again = run_ingest(data, db)
        single_s, single_mb, _ = run_ingest(data, Path(tmp) / "single.db", "--workers", "0")
        db_mb = db.stat().st_size / 1e6
    t = summary["totals"]
    rate = t["rows_read"] / first_s
    body = f"""## Ingest without models (`bench/bench_ingest.py`)

{args.n:,} short texts from `../shared/corpora` ({info['distinct']:,} distinct, median {info['median_chars']} characters;
tweets, reviews, intents in ar de en es fr hi it pt zh ja id ms vi fa), one JSON Lines file,
`miner ingest` end to end in a fresh process: read, redact PII, clean, detect language and
script, segment, flag non-informative answers, dedupe, store with FTS5.

| measure | value |
|---|---|
| documents/s (whole command, process start included) | **{rate:,.0f}** (target 3,000) |
| wall time | {first_s:.1f} s |
| peak memory (RSS of the process and its workers) | {peak_mb:,.0f} MB |
| the same with `--workers 0` (one process) | {t['rows_read'] / single_s:,.0f} documents/s, {single_mb:,.0f} MB |
| stored / exact dup / near dup / non-informative / skipped | {t['stored']:,} / {t['duplicates']:,} / {t['near_duplicates']:,} / {t['noninformative']:,} / {t['skipped']:,} |
| skipped by reason | {', '.join(f"{k} {v}" for k, v in sorted(summary['skipped'].items())) or 'none'} |
| languages found (top 12) | {', '.join(f"{k} {v:,}" for k, v in list(summary['languages'].items())[:12])} |
| database size | {db_mb:,.0f} MB |
| second run over the same file | {second_s:.1f} s, {again['totals']['stored']} stored (unchanged input skipped) |
"""
    write_section("ingest", body)
    print(body)


if __name__ == "__main__":
    main()
