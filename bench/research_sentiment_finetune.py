"""Does fine-tuning the encoder beat the frozen-encoder sentiment head? (issue 4, measured on valid)

    nice .venv/bin/python bench/research_sentiment_finetune.py            # all shared train/valid data
    .venv/bin/python bench/research_sentiment_finetune.py --cap 200 --epochs 1 --no-write   # a quick look

miner embeds every segment once and feeds the same vector to sentiment, themes and touchpoints,
so fine-tuning the whole encoder for sentiment would move the theme space too. What can be
added without a second encoder pass is a *branch*: the first 11 layers run once, then the
shipped 12th layer gives the shared vector and a fine-tuned copy of it gives the sentiment
vector (one more layer: about 1/12 more encoder time). This script measures what that branch
is worth before building it:

  frozen   the shipped recipe: MLP head (512 hidden) on the frozen e5-small vectors;
  branch   a copy of layer 12 and the frozen head, trained on together (plain fine-tuning,
           weighted cross-entropy as in `miner train sentiment`), `--epochs` passes.

Both train on the train split and are scored on the valid split (mean macro-F1 over every
(corpus, language) group, as `miner train sentiment` selects); the test split is not touched.
Layer-11 states are computed once and kept in memory (fp16), so each epoch runs one layer.
Texts are cut at 512 tokens here (the product windows longer texts; under 1% of this data).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.report import write_section  # noqa: E402
from miner.nlp.encoders.e5_torch import E5Torch  # noqa: E402
from miner.nlp.sentiment import LABELS  # noqa: E402
from miner.nlp.sentiment_data import load_shared  # noqa: E402
from miner.nlp.train_sentiment import GRID, _weights, evaluate, fit_head  # noqa: E402


def lower_states(enc: E5Torch, texts: list[str], batch: int = 64) -> list[tuple]:
    """[(ids of rows, mask, layer-11 states fp16)] per length-sorted batch of first windows."""
    import torch

    ids = [[enc._bos, *t[:510], enc._eos] for t in enc.token_ids(texts)]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    bert = enc.model
    out = []
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            rows = order[s : s + batch]
            width = len(ids[rows[-1]])
            x = torch.full((len(rows), width), enc._pad, dtype=torch.long)
            m = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                x[r, : len(ids[i])] = torch.tensor(ids[i])
                m[r, : len(ids[i])] = 1
            h = bert.embeddings(input_ids=x)
            ext = additive_mask(m)
            for layer in bert.encoder.layer[:-1]:
                h = layer(h, attention_mask=ext)
            out.append((np.array(rows), m, h.half()))
    return out


def additive_mask(m):
    """(rows, width) 0/1 -> (rows, 1, 1, width) 0 / -inf-ish, the form BertLayer adds to its scores."""
    import torch

    return (1.0 - m[:, None, None, :].float()) * torch.finfo(torch.float32).min


def pooled(layer, h, m):
    """The product's vector: mean over every token (<s> and </s> too), L2-normalised."""
    import torch

    o = layer(h.float(), attention_mask=additive_mask(m))
    mm = m.unsqueeze(-1).float()
    v = (o * mm).sum(1) / mm.sum(1)
    return torch.nn.functional.normalize(v, dim=1)


def vectors(layer, states, n: int):
    import torch

    out = np.zeros((n, 384), dtype=np.float32)
    with torch.inference_mode():
        for rows, m, h in states:
            out[rows] = pooled(layer, h, m).numpy()
    return out


def mean_f1(metrics: dict) -> float:
    return float(np.mean([v["macro_f1"] for v in metrics.values()]))


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--cap", type=int, default=0, help="at most this many train texts per (corpus, language) (0: all)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-5, help="learning rate of the layer")
    ap.add_argument("--head-lr", type=float, default=2e-4, help="learning rate of the head (starts from the frozen one)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(13)
    started = time.perf_counter()
    examples = [e for e in load_shared() if e.split in ("train", "valid")]
    if args.cap:
        seen: dict = defaultdict(int)
        kept = []
        for e in examples:
            key = (e.corpus, e.lang, e.split)
            if seen[key] < args.cap:
                seen[key] += 1
                kept.append(e)
        examples = kept
    train = [e for e in examples if e.split == "train"]
    valid = [e for e in examples if e.split == "valid"]
    enc = E5Torch()
    t0 = time.perf_counter()
    s_train = lower_states(enc, [e.text for e in train])
    s_valid = lower_states(enc, [e.text for e in valid])
    states_s = time.perf_counter() - t0
    last = enc.model.encoder.layer[-1]
    y = torch.tensor([LABELS.index(e.label) for e in train])
    w = torch.from_numpy(_weights(train))
    hp = GRID[1]  # the shipped head's shape (512 hidden)

    # frozen: the shipped recipe on the shipped layer's vectors
    t0 = time.perf_counter()
    x_tr, x_va = vectors(last, s_train, len(train)), vectors(last, s_valid, len(valid))
    from miner.nlp.sentiment import SentimentHead

    frozen_layers = fit_head(x_tr, y.numpy(), w.numpy(), **hp)
    head = SentimentHead(frozen_layers, enc.id)
    frozen = evaluate(head.predict_proba(x_va), valid)
    frozen_s = time.perf_counter() - t0

    # branch: a copy of layer 12 and the frozen run's head, trained on together (so epoch 0 is
    # the frozen model, and any gain is the fine-tuning's)
    layer = copy.deepcopy(last).train()
    for p in layer.parameters():
        p.requires_grad_(True)
    scale = float(np.sqrt(384))
    net = torch.nn.Sequential(torch.nn.Linear(384, hp["hidden"]), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(hp["hidden"], 3))
    with torch.no_grad():
        (w0, b0), (w1, b1) = frozen_layers  # fit_head folds the input scale into the first weight
        net[0].weight.copy_(torch.from_numpy(w0.T / scale))
        net[0].bias.copy_(torch.from_numpy(b0))
        net[3].weight.copy_(torch.from_numpy(w1.T))
        net[3].bias.copy_(torch.from_numpy(b1))
    opt = torch.optim.AdamW([{"params": layer.parameters(), "lr": args.lr},
                             {"params": net.parameters(), "lr": args.head_lr}], weight_decay=hp["weight_decay"])
    gen = torch.Generator().manual_seed(13)
    history = []
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        layer.train()
        net.train()
        for b in torch.randperm(len(s_train), generator=gen).tolist():
            rows, m, h = s_train[b]
            logits = net(pooled(layer, h, m) * scale)
            r = torch.from_numpy(rows)
            loss = (torch.nn.functional.cross_entropy(logits, y[r], reduction="none") * w[r]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        layer.eval()
        net.eval()
        proba = np.zeros((len(valid), 3), dtype=np.float32)
        with torch.inference_mode():
            for rows, m, h in s_valid:
                proba[rows] = torch.softmax(net(pooled(layer, h, m) * scale), dim=1).numpy()
        metrics = evaluate(proba, valid)
        history.append((epoch + 1, mean_f1(metrics), metrics, time.perf_counter() - t0))
        print(f"epoch {epoch + 1}: valid mean macro-F1 {mean_f1(metrics):.4f} ({time.perf_counter() - t0:.0f} s)",
              file=sys.stderr, flush=True)

    best = max(history, key=lambda h: h[1])
    lines = [
        "## Fine-tuning the encoder for sentiment (`bench/research_sentiment_finetune.py`)",
        "",
        (f"Train split {len(train):,} texts, valid split {len(valid):,} texts of `../shared/corpora` (the data of "
         f"`miner train sentiment`{f', at most {args.cap} per corpus, language and split' if args.cap else ''}); test "
         "not touched. **frozen**: the shipped recipe, an MLP head (512 hidden) on frozen e5-small vectors. "
         "**branch**: a copy of e5-small's 12th layer and the frozen model's head, trained on together (AdamW, "
         f"layer lr {args.lr:g}, head lr {args.head_lr:g}, weighted cross-entropy; epoch 0 is the frozen model), the 11 layers below frozen, so that the shared "
         "vector for themes and touchpoints stays as it is and the branch costs one more layer (about 1/12 of "
         "the encoder) per segment. Mean macro-F1 over the (corpus, language) groups of valid:"),
        "",
        "| model | valid mean macro-F1 | training time |",
        "|---|---|---|",
        f"| frozen (shipped recipe) | {100 * mean_f1(frozen):.1f} | {frozen_s:.0f} s |",
    ]
    lines += [f"| branch, epoch {e} | {100 * f:.1f} | {s:.0f} s |" for e, f, _, s in history]
    lines += ["", "| group | valid n | frozen | branch (best epoch) |", "|---|---|---|---|"]
    for key, m in frozen.items():
        lines.append(f"| {key} | {m['n']:,} | {100 * m['macro_f1']:.1f} | {100 * best[2][key]['macro_f1']:.1f} |")
    gain = 100 * (best[1] - mean_f1(frozen))
    lines += ["", (f"Best branch epoch against frozen: {gain:+.1f} points of valid mean macro-F1. "
                   + ("The branch would win; building it into `miner analyze` is worth doing." if gain >= 1.0 else
                      "Under 1 point: no win worth a second top layer per segment, so the frozen head stays the "
                      "shipped model."))]
    lines += ["", (f"Layer-11 states of all texts: {states_s:.0f} s (one encoder pass, kept in memory); "
                   f"whole run {time.perf_counter() - started:.0f} s on this machine's CPU.")]
    body = "\n".join(lines) + "\n"
    print(body)
    if not args.no_write:
        write_section("sentiment-finetune", body)


if __name__ == "__main__":
    main()
