"""What each e5-small backend's vectors do to themes (issue 4: the cost of int8 in theme metrics).

    .venv/bin/python bench/bench_backend_themes.py             # writes docs/benchmarks.md
    .venv/bin/python bench/bench_backend_themes.py --no-write

The fits of `bench_themes.py` parts 1 and 4 (product defaults, `fit_themes`) on each backend's
vectors: banking77 test split (NMI against the 77 intents, outliers counted as wrong) and
waimai (zh) + SnappFood (fa), 1,000 each (themes holding both languages, sentiment purity).
`e5-small` reads the embedding cache (its vectors are the C engine's and torch fp32's alike);
the others embed the texts now.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_themes import (  # noqa: E402
    banking_test, cache_vectors, food_pairs, label_scores, log, md_table, mixing, pct, purity,
)
from bench.report import write_section  # noqa: E402
from miner.nlp.cache import text_hash  # noqa: E402
from miner.themes.fit import ThemeParams, fit_themes  # noqa: E402

BACKENDS = ("e5-small", "e5-small-int8")


def vectors(backend: str, texts: list[str]) -> tuple[np.ndarray, float]:
    if backend == "e5-small":
        return cache_vectors(texts)[0], 0.0
    from miner.nlp.encoders.registry import get_encoder

    enc = get_encoder(backend)
    t = time.perf_counter()
    X = enc.embed_batch(texts)
    return X, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    bt, bc = banking_test()
    bl = ["en"] * len(bt)
    ft, fl, fs = food_pairs()
    rows = []
    for backend in args.backends.split(","):
        log(f"{backend}: banking77")
        X, secs_b = vectors(backend, bt)
        b = label_scores(bc, fit_themes(X, bl, [text_hash(t) for t in bt], ThemeParams()).sub_of)
        log(f"{backend}: food")
        Y, secs_f = vectors(backend, ft)
        lab = fit_themes(Y, fl, [text_hash(t) for t in ft], ThemeParams()).theme_of
        m = mixing(lab, fl)
        embed = f"{secs_b + secs_f:.0f} s" if secs_b + secs_f else "cached"
        rows.append([f"`{backend}`", b["themes"], f"{b['nmi']:.3f}", pct(b["main"]), pct(b["outliers"]),
                     len(set(lab[lab >= 0].tolist())), pct(m["mixed_themes"]), pct(purity(lab, fs)), embed])
    body = f"""## Themes by e5-small backend (`bench/bench_backend_themes.py`)

The fits of the themes section's public corpora (product defaults, without the concept projection) on each backend's vectors: banking77 test split
({len(bt):,} texts; NMI against the 77 intents, outliers counted as wrong) and waimai + SnappFood ({len(ft):,} texts;
themes in which Chinese and Persian each hold at least 10% of the texts, and sentiment purity). `e5-small` is the
default (torch fp32, the C engine's vectors); `e5-small-int8` is torch with int8 dynamic quantisation.

{md_table(["backend", "banking77 sub-themes", "NMI", "intent in its main sub-theme", "outliers", "food themes", "themes with both languages",
           "sentiment purity", "embedding time"], rows)}
"""
    print(body)
    if not args.no_write:
        write_section("backend-themes", body)


if __name__ == "__main__":
    main()
