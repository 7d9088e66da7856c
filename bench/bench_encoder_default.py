"""The default e5-small backend (torch fp32) against the C engine, and what prefetched tokenising gains.

    .venv/bin/python bench/bench_encoder_default.py [--per-lang 200] [--reviews 2000] [--threads N]

Two sets of texts: the short multilingual texts of the parity benchmark (`--per-lang` from
each of 10 languages, `bench_e5_parity.load_texts`) and review-style texts drawn evenly from
the 20k texts `bench_analyze.py` feeds `miner analyze` (`bench_ingest.build`'s files and
shuffle; whole texts, not segments). Each set is cut as `miner.nlp.cache.embed_texts` cuts
it (distinct texts sorted by length, batches of 32) and run five ways:
- `c`: the C engine (`e5-small-c`), one `embed_batch` per batch;
- `torch`: the default (`e5-small`, torch fp32), one `embed_batch` per batch: 32 texts of one
  length in characters, one model batch padded to the longest in tokens;
- `torch+prefetch`: the same batches through `E5Torch.embed_stream` (the next batch tokenised
  in a background thread while the model runs this one);
- `torch-capped`: model batches cut where padding would pass 20% (more, smaller model calls);
- `torch-one-call`: one `embed_batch` per group of batches (what `embed_texts` would do if it
  handed the encoder larger chunks): sorted by tokens, not characters (over 256 texts: chunks of
  256, the next one tokenised in the background).
The batches are taken in groups of `--group`; each group runs through the ways in a rotating
order (A/B/C..., B/C/...A) so that load from other processes weighs on all alike.
Model load: a fresh process per backend (imports included), A/B twice.
Writes the "encoder-default" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_e5_parity import load_texts
from bench.bench_ingest import CORPORA, FILES
from bench.report import write_section
from miner.nlp.encoders.registry import get_encoder

LOAD = """
import sys, time
t = time.perf_counter()
from miner.nlp.encoders.registry import get_encoder
enc = get_encoder({name!r}, threads={threads})
print(time.perf_counter() - t, enc.backend)
"""


def review_texts(n: int) -> list[str]:
    """n texts spread evenly over the first 20k of bench_ingest.build's shuffle (bench_analyze's texts)."""
    texts = []
    for name in FILES:
        with gzip.open(CORPORA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh]
    random.Random(7).shuffle(texts)
    pool = texts[:20_000]
    return list(dict.fromkeys(pool[:: max(1, len(pool) // n)]))[:n]


def embed_texts_batches(texts: list[str], size: int = 32) -> list[list[str]]:
    """The encoder calls embed_texts makes for an empty cache: distinct texts by length, `size` at a time."""
    distinct = sorted(set(texts), key=len)
    return [distinct[s : s + size] for s in range(0, len(distinct), size)]


def load_seconds(name: str, threads: int) -> tuple[float, str]:
    out = subprocess.run([sys.executable, "-c", LOAD.format(name=name, threads=threads)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1]


def _with_padding(enc, cap: float, run):
    def go(g):
        before, enc.max_padding = enc.max_padding, cap
        try:
            return run(g)
        finally:
            enc.max_padding = before
    return go


def race(engine, torch_enc, batches: list[list[str]], group: int) -> dict:
    """Wall seconds per way over the same batches, rotating the order per group; vectors kept for checks."""
    cap = torch_enc.max_padding
    ways = {
        "c": lambda g: [engine.embed_batch(b) for b in g],
        "torch": lambda g: [torch_enc.embed_batch(b) for b in g],
        "torch+prefetch": lambda g: list(torch_enc.embed_stream(g)),
        "torch-capped": _with_padding(torch_enc, 0.2, lambda g: [torch_enc.embed_batch(b) for b in g]),
        "torch-one-call": lambda g: [torch_enc.embed_batch([t for b in g for t in b])],
    }
    for run in ways.values():  # warm-up
        run(batches[:1])
    wall = dict.fromkeys(ways, 0.0)
    vectors = {k: [] for k in ways}
    names = list(ways)
    for k, start in enumerate(range(0, len(batches), group)):
        g = batches[start : start + group]
        for name in names[k % len(names) :] + names[: k % len(names)]:
            t = time.perf_counter()
            vectors[name] += ways[name](g)
            wall[name] += time.perf_counter() - t
    vec = {k: np.concatenate(v) for k, v in vectors.items()}
    # tokenising alone (what the prefetch can hide), and padding in the model's batches
    t = time.perf_counter()
    prepared = [torch_enc.prepare(b) for b in batches]
    tok_s = time.perf_counter() - t

    def padding(batch_lists):
        real = sum(int(p.mask.sum()) for ps in batch_lists for p in ps)
        return real, 1 - real / sum(p.ids.size for ps in batch_lists for p in ps)

    tokens, pad = padding(prepared)
    torch_enc.max_padding = 0.2
    _, pad_capped = padding([torch_enc.prepare(b) for b in batches])
    torch_enc.max_padding = cap
    _, pad_one_call = padding([torch_enc.prepare([t for b in batches[s : s + group] for t in b])
                               for s in range(0, len(batches), group)])
    return {"wall": wall, "texts": sum(map(len, batches)), "tokens": tokens, "tok_s": tok_s,
            "padding": {"torch": pad, "torch+prefetch": pad, "torch-capped": pad_capped, "torch-one-call": pad_one_call},
            "cos": (vec["torch"] * vec["c"]).sum(1),
            "same": max(float(np.abs(vec[k] - vec["torch"]).max()) for k in ways if k != "c")}


LABELS = {
    "c": "C engine (`e5-small-c`)",
    "torch": "torch fp32 (`e5-small`), one model batch per call",
    "torch+prefetch": "torch fp32, the same calls through `embed_stream` (prefetch)",
    "torch-capped": "torch fp32, model batches cut where padding passes 20% (`max_padding=0.2`)",
    "torch-one-call": "torch fp32, one `embed_batch` per group of calls (sorted by tokens)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lang", type=int, default=200)
    parser.add_argument("--reviews", type=int, default=2000)
    parser.add_argument("--group", type=int, default=4, help="batches per A/B/C turn")
    parser.add_argument("--threads", type=int, default=None, help="default: every available core")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    threads = args.threads or len(os.sched_getaffinity(0))
    load_before = os.getloadavg()

    loads: dict[str, list[float]] = {"e5-small": [], "e5-small-c": []}
    backends = {}
    get_encoder("e5-small")  # converts once if needed (not timed here: see "e5-parity")
    for _ in range(2):
        for name, seconds in loads.items():
            s, backends[name] = load_seconds(name, threads)
            seconds.append(s)

    engine = get_encoder("e5-small-c", threads=threads)
    torch_enc = get_encoder("e5-small", threads=threads)
    assert torch_enc.backend == "torch-fp32" and torch_enc.id == engine.id, (torch_enc.backend, torch_enc.id)
    short = load_texts(args.per_lang, 0)[0]
    sets = {"short multilingual (parity texts)": embed_texts_batches(short),
            "reviews (analyze's 20k texts)": embed_texts_batches(review_texts(args.reviews))}
    results = {label: race(engine, torch_enc, batches, args.group) for label, batches in sets.items()}
    load_after = os.getloadavg()

    lines = [
        "## The default encoder: e5-small in torch fp32 against the C engine (`bench/bench_encoder_default.py`)\n",
        (f"`e5-small` now runs in torch fp32 (`backend` torch-fp32) where torch and the converted model are "
         f"available, else in the C engine; both under the id `{engine.id}`. Texts cut as `embed_texts` cuts "
         f"them (distinct, sorted by length in characters, 32 per call), {threads} threads; groups of "
         f"{args.group} such calls run through every way in rotating order. Padding: share of the model's "
         "token slots that are padding."),
        "",
    ]
    for label, r in results.items():
        w, n = r["wall"], r["texts"]
        lines += [
            (f"{label}: {n} texts, {r['tokens'] / n:.0f} tokens per text (with `<s>`, `</s>`, `query: `); "
             f"tokenising alone takes {r['tok_s'] / w['torch']:.1%} of the torch time; min cosine torch vs C "
             f"{r['cos'].min():.5f}."),
            "",
            "| way | texts/s | vs C engine | padding |",
            "|---|---|---|---|",
            *(f"| {LABELS[k]} | {n / w[k]:.1f} | {w['c'] / w[k]:.2f}x | {r['padding'].get(k, 0.0):.0%} |" for k in w),
            "",
        ]
    same = max(r["same"] for r in results.values())
    lines += [
        f"All torch ways give the same vectors (largest difference of any component: {same:.1e}).",
        "",
        ("Model load in a fresh process (imports included, conversion already done), two runs each: "
         f"`e5-small` ({backends['e5-small']}) {' / '.join(f'{s:.1f}' for s in loads['e5-small'])} s; "
         f"`e5-small-c` ({backends['e5-small-c']}) {' / '.join(f'{s:.1f}' for s in loads['e5-small-c'])} s."),
        "",
        (f"Load average of the machine (1/5/15 min): {'/'.join(f'{x:.1f}' for x in load_before)} before, "
         f"{'/'.join(f'{x:.1f}' for x in load_after)} after, on {os.cpu_count()} cores: other jobs were "
         f"running whenever it is above {threads}, so absolute rates are low; the ratios compare like with like."),
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("encoder-default", body)


if __name__ == "__main__":
    main()
