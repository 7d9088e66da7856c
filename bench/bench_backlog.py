"""Backlog benchmarks: build time on a 20k-document store, and coverage of the impact intervals.

1. Speed: a synthetic store (StoreBuilder: no model runs) of 20,000 documents over 26 weeks,
   40 themes, 12 touchpoints, 6 languages, half the documents with an NPS score; time of
   `build_backlog` (first build and a rebuild), of each export, and of `impact_report`.
2. Coverage: how often the 95% delta-method interval (and the seeded bootstrap) holds the
   true impact, over simulated NPS surveys of several sizes and theme shares.

    .venv/bin/python bench/bench_backlog.py [--docs 20000] [--sims 1000] [--no-write]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from miner.backlog import build_backlog, impact_report  # noqa: E402
from miner.backlog.formats import render_backlog  # noqa: E402
from miner.measures.impact import impact, response_values  # noqa: E402
from miner.store import open_db, transaction  # noqa: E402
from tests.store_builder import StoreBuilder  # noqa: E402

LANGS = ["en", "de", "zh", "fa", "vi", "ja"]
TOUCHPOINTS = ["billing", "delivery", "installation", "app", "call_center", "website", "pricing", "repair",
               "cancellation", "network", "checkout", "refunds"]


def build_store(path: Path, n_docs: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    db = open_db(path)
    b = StoreBuilder(db)
    start = date(2026, 4, 6)
    with transaction(db):
        for tp in TOUCHPOINTS:
            db.execute("INSERT INTO touchpoints VALUES (?, 'use', ?, '', NULL, 'bench', 'x')", [tp, tp.replace("_", " ")])
        themes = [b.theme(f"theme {i}") for i in range(40)]
        weights = [1 / (i + 1) for i in range(40)]  # a long tail, as real themes have
        home = {t: rng.sample(TOUCHPOINTS, 2) for t in themes}
        for i in range(n_docs):
            day = (start + timedelta(days=int(182 * i / n_docs))).isoformat()
            lang = rng.choice(LANGS)
            segs = []
            for _ in range(rng.choice((1, 1, 2, 3))):
                t = rng.choices(themes, weights)[0] if rng.random() < 0.9 else None
                segs.append({"theme": t, "sentiment": rng.choice(("neg", "neg", "neu", "pos")),
                             "text": f"[{lang}] complaint {i} about theme {t}"})
            score = rng.choice((0, 3, 5, 6, 7, 8, 9, 10)) if rng.random() < 0.5 else None
            doc = b.doc(day, segs, lang=lang, score=score, channel=rng.choice(("survey", "ticket", "app_review")))
            for (seg_id, theme_id) in db.execute(
                "SELECT g.id, st.theme_id FROM segments g JOIN segment_themes st ON st.segment_id = g.id WHERE g.document_id = ?", [doc]
            ).fetchall():
                if theme_id is not None and rng.random() < 0.8:
                    db.execute("INSERT INTO segment_touchpoints VALUES (?, ?, 0.8, 1, 'bench')", [seg_id, rng.choice(home[theme_id])])
    db.conn.close()


def speed(n_docs: int) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        build_store(path, n_docs)
        t_store = time.perf_counter() - t0
        db = open_db(path)
        counts = {k: db.execute(f"SELECT COUNT(*) FROM {k}").fetchone()[0] for k in ("documents", "segments", "segment_touchpoints")}
        t0 = time.perf_counter()
        result = build_backlog(db)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = build_backlog(db)
        t_again = time.perf_counter() - t0
        exports = {}
        for fmt in ("table", "md", "csv", "json", "jira"):
            t0 = time.perf_counter()
            render_backlog(result, fmt, io.StringIO())
            exports[fmt] = time.perf_counter() - t0
        t0 = time.perf_counter()
        impact_report(db, "theme")
        t_impact = time.perf_counter() - t0
    figures = {"store_s": t_store, **counts, "items": len(result["items"]), "build_s": t_first, "rebuild_s": t_again,
               "impact_report_s": t_impact, **{f"export_{k}_s": v for k, v in exports.items()}}
    lines = [
        f"Store: {counts['documents']:,} documents, {counts['segments']:,} segments, {counts['segment_touchpoints']:,} "
        f"segment touchpoints (built in {t_store:.1f}s, no model). Backlog: {len(result['items'])} items.",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| `build_backlog` (first build, writes every item) | {t_first:.2f} |",
        f"| `build_backlog` again (ids and statuses kept) | {t_again:.2f} |",
        f"| `impact_report` by theme | {t_impact:.2f} |",
    ] + [f"| export `{k}` | {v:.3f} |" for k, v in exports.items()]
    return "\n".join(lines), figures


def coverage(sims: int) -> tuple[str, dict]:
    rng = np.random.default_rng(11)
    with_vals, without_vals = [0, 2, 5, 6, 7, 9], [5, 7, 8, 9, 10, 10]
    m_w = np.mean(response_values("nps", with_vals))
    m_o = np.mean(response_values("nps", without_vals))
    rows, figures = [], {}
    for n in (200, 1000, 5000):
        for share in (0.05, 0.2):
            truth = share * (m_w - m_o)
            hit_d = hit_b = n_ok = n_boot = 0
            width = []
            boot_sims = min(sims, 200)
            for s in range(sims):
                mask = rng.random(n) < share
                scores = np.where(mask, rng.choice(with_vals, n), rng.choice(without_vals, n))
                r = impact("nps", scores, mask)
                if r.ci95 is None:  # under the minimum counts: no interval is given
                    continue
                n_ok += 1
                hit_d += r.ci95[0] <= truth <= r.ci95[1]
                width.append(r.ci95[1] - r.ci95[0])
                if s < boot_sims:
                    lo, hi = impact("nps", scores, mask, method="bootstrap", seed=s).ci95
                    hit_b += lo <= truth <= hi
                    n_boot += 1
            key = f"n{n}_share{share}"
            figures[key] = {"delta": hit_d / n_ok, "bootstrap": hit_b / n_boot, "width": float(np.mean(width)), "given": n_ok / sims}
            rows.append(f"| {n:,} | {share:.0%} | {truth:+.1f} | {hit_d / n_ok:.1%} | {hit_b / n_boot:.1%} | {np.mean(width):.1f} | {n_ok / sims:.0%} |")
    text = "\n".join([
        f"Simulated NPS surveys: the theme's answers drawn from {with_vals}, the others from {without_vals}; "
        f"{sims} surveys per row for the delta method, {min(sims, 200)} for the bootstrap (2,000 resamples each).",
        "",
        "| responses | theme share | true impact (NPS points) | delta-method 95% CI covers | bootstrap 95% CI covers | mean CI width | surveys with an impact (min. 5 each side) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
    return text, figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--sims", type=int, default=1000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    speed_text, speed_fig = speed(args.docs)
    print(speed_text, flush=True)
    cov_text, cov_fig = coverage(args.sims)
    print(cov_text)
    if not args.no_write:
        from report import write_section

        write_section("backlog", "## Backlog: build time and impact intervals (`bench/bench_backlog.py`)\n\n"
                      + speed_text + "\n\n" + cov_text)


if __name__ == "__main__":
    main()
