"""Slicing by a field of the input (`meta.FIELD`, issue 15) on a store of a million documents.

    .venv/bin/python bench/bench_fields.py [--n 1000000]

The store is synthetic (documents only, 30 themes over segments of one per document, dates over
a year, a meta JSON of three fields per document): what is measured is the field machinery, not
the models. Each command runs in a fresh process (bench.measure.run_cli), so times include
Python and miner's imports. Target: `--by meta.FIELD` on 1M documents under 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_cli  # noqa: E402
from bench.report import write_section  # noqa: E402


def build(path: Path, n: int) -> float:
    """A store of `n` documents with one themed segment each; returns the seconds it took."""
    from miner.store import open_db

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    db = open_db(str(path))
    db.close()
    con = sqlite3.connect(str(path))
    con.execute("PRAGMA synchronous = OFF")
    now = "2026-01-01T00:00:00Z"
    con.execute("INSERT INTO sources (id, path, name, format, status, options, started_at) VALUES (1, 'synthetic', 'synthetic', 'jsonl', 'done', '{}', ?)", [now])
    for t in range(1, 31):
        con.execute("INSERT INTO themes (id, label, status, level, created_at, updated_at) VALUES (?, ?, 'active', 1, ?, ?)", [t, f"theme {t}", now, now])
    con.execute("INSERT INTO theme_runs (id, started_at, status, encoder, params) VALUES (1, ?, 'done', 'fake', '{}')", [now])
    rng = random.Random(0)
    airlines = ["United", "Delta", "American", "Southwest", "JetBlue", "Alaska", "Spirit", "Frontier"]
    batch = 50_000
    for start in range(0, n, batch):
        docs, segs, themes = [], [], []
        for i in range(start + 1, min(n, start + batch) + 1):
            day = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
            meta = json.dumps({"airline": rng.choice(airlines), "plan": rng.choice(["basic", "plus", "pro"]), "app_version": f"5.{i % 9}"})
            docs.append((i, 1, f"k{i}", f"document {i}", f"document {i}", "en", day, "survey", f"h{i}", 1, 1, meta))
            segs.append((i, i, 0, f"document {i}", "en", 0, 10, 1))
            themes.append((i, 1 + i % 30, 0.9, "cluster", 1))
        con.executemany("INSERT INTO documents (id, source_id, record_key, text, clean_text, lang, created_at, channel, content_hash, "
                        "informative, n_segments, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", docs)
        con.executemany("INSERT INTO segments (id, document_id, seg_index, text, lang, char_start, char_end, informative) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", segs)
        con.executemany("INSERT INTO segment_themes (segment_id, theme_id, score, method, run_id) VALUES (?, ?, ?, ?, ?)", themes)
        con.commit()
    con.close()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "_work" / "fields" / "fields.db")
    args = ap.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    built = build(args.db, args.n)
    rows = []
    for label, cmd in (
        ("`miner trends --by meta.airline --period month` (first: indexes the field)", ["trends", "--db", str(args.db), "--by", "meta.airline", "--period", "month"]),
        ("the same again (indexed)", ["trends", "--db", str(args.db), "--by", "meta.airline", "--period", "month"]),
        ("`miner trends --by theme --filter meta.airline=Delta --period month`", ["trends", "--db", str(args.db), "--by", "theme", "--filter", "meta.airline=Delta", "--period", "month"]),
        ("`miner backlog impact --by meta.plan` (indexes plan)", ["backlog", "impact", "--db", str(args.db), "--by", "meta.plan"]),
    ):
        secs, peak, _ = run_cli(*cmd)
        rows.append(f"| {label} | {secs:.2f} s | {peak:,.0f} MB |")
    body = f"""## Slicing by a field (`bench/bench_fields.py`)

A synthetic store of {args.n:,} documents (one themed segment each, 30 themes, dates over a year, three fields in
`meta`), built in {built:.0f} s. Each command in a fresh process (imports included). Target: `--by meta.FIELD` on
1M documents under 3 s.

| command | wall | peak memory |
|---|---|---|
{chr(10).join(rows)}
"""
    print(body)
    write_section("fields", body)


if __name__ == "__main__":
    main()
