"""`miner analyze` throughput and memory on 20k texts from ../shared/corpora.

    .venv/bin/python bench/bench_analyze.py [--n 20000]

Ingests the texts into a fresh store (not timed here: see bench_ingest.py), then runs
`miner analyze` in a child process, sampling the memory of its process tree, and runs it
a second time over the same store (everything cached: no encoder call).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_ingest import build  # noqa: E402
from bench.measure import run_cli  # noqa: E402
from bench.report import write_section  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, db = Path(tmp) / "texts.jsonl", Path(tmp) / "bench.db"
        info = build(args.n, data)
        _, _, ingested = run_cli("ingest", str(data), "--db", str(db), "--quiet")
        first_s, peak_mb, first = run_cli("analyze", "--db", str(db), interval=0.1)
        second_s, _, second = run_cli("analyze", "--db", str(db))
    e = first["embed"]
    body = f"""## `miner analyze` (`bench/bench_analyze.py`)

{args.n:,} texts from `../shared/corpora` (median {info['median_chars']} characters), ingested into a fresh store
({ingested['totals']['stored']:,} documents), then `miner analyze` (encoder e5-small 4-bit C engine on all cores, sentiment
head, per segment and per document) in a fresh process.

| measure | value |
|---|---|
| documents/s (whole command) | **{first['documents'] / first_s:,.1f}** |
| documents / segments analyzed | {first['documents']:,} / {first['segments']:,} |
| distinct texts embedded / from cache (duplicates) | {e['embedded']:,} / {e['texts'] - e['embedded']:,} |
| wall time | {first_s:,.0f} s, of which in the encoder {e['encoder_seconds']:,.0f} s ({100 * e['encoder_seconds'] / first_s:.0f}%) |
| peak memory (RSS) | {peak_mb:,.0f} MB |
| second run over the same store | {second_s:.1f} s, {second['documents']} documents, {second['embed']['encoder_calls']} encoder calls |
"""
    write_section("analyze", body)
    print(body)


if __name__ == "__main__":
    main()
