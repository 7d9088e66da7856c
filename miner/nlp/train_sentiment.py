"""`miner train sentiment`: fit the sentiment head on labelled data, select on valid, report.

Reproducible: fixed seeds, deterministic splits (`sentiment_data`), a small grid of head
shapes chosen by the mean macro-F1 over every (corpus, language) group of the valid split,
so that no language or domain is sacrificed for the biggest one. The chosen shape is then
refitted on train only (valid stays clean for selection) and evaluated once on test.

Every (corpus, language) group weighs the same in the loss, and classes are balanced
inside each group, so 2,000 food-delivery reviews do not drown 600 Persian ones.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .cache import EmbeddingCache, embed_texts
from .encoders import Encoder
from .sentiment import LABELS, SentimentHead
from .sentiment_data import Example

# Corpora whose labels are only neg/pos: scored on the neg-vs-pos decision.
BINARY = {"snappfood_fa", "chnsenticorp_hotel_zh", "waimai_zh", "uit_vsfc_vi"}
GRID = [
    {"hidden": 0, "weight_decay": 1e-4, "epochs": 40},
    {"hidden": 256, "weight_decay": 1e-3, "epochs": 30},
    {"hidden": 512, "weight_decay": 1e-2, "epochs": 30},
    {"hidden": 1024, "weight_decay": 1e-2, "epochs": 40},
]


def macro_f1(gold: np.ndarray, pred: np.ndarray, classes: list[int]) -> float:
    scores = []
    for c in classes:
        tp = np.sum((pred == c) & (gold == c))
        fp = np.sum((pred == c) & (gold != c))
        fn = np.sum((pred != c) & (gold == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def evaluate(proba: np.ndarray, examples: list[Example]) -> dict[str, dict]:
    """Metrics per (corpus, language) group: accuracy and macro-F1 (binary corpora: neg vs pos)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        groups[f"{e.corpus}/{e.lang}"].append(i)
    gold_all = np.array([LABELS.index(e.label) for e in examples])
    out = {}
    for key, idx in sorted(groups.items()):
        idx = np.array(idx)
        gold, p = gold_all[idx], proba[idx]
        binary = key.split("/")[0] in BINARY
        if binary:
            keep = gold != 1
            gold, p = gold[keep], p[keep]
            pred = np.where(p[:, 2] >= p[:, 0], 2, 0)
            classes = [0, 2]
        else:
            pred = p.argmax(axis=1)
            classes = [0, 1, 2]
        out[key] = {
            "n": int(len(gold)),
            "accuracy": round(float(np.mean(pred == gold)), 4),
            "macro_f1": round(macro_f1(gold, pred, classes), 4),
            "binary": binary,
        }
    return out


def _weights(examples: list[Example]) -> np.ndarray:
    """Each (corpus, language) group sums to 1, split evenly over its classes."""
    counts: dict[tuple, int] = defaultdict(int)
    classes: dict[tuple, set] = defaultdict(set)
    for e in examples:
        counts[(e.corpus, e.lang, e.label)] += 1
        classes[(e.corpus, e.lang)].add(e.label)
    w = np.array([1.0 / (counts[(e.corpus, e.lang, e.label)] * len(classes[(e.corpus, e.lang)])) for e in examples])
    return (w / w.mean()).astype(np.float32)


def fit_head(x: np.ndarray, y: np.ndarray, w: np.ndarray, hidden: int, weight_decay: float, epochs: int, seed: int = 13) -> list:
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    dim = x.shape[1]
    if hidden:
        model = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(hidden, 3))
    else:
        model = torch.nn.Sequential(torch.nn.Linear(dim, 3))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    xt, yt, wt = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(w)
    # Embeddings are L2-normalised (tiny values): scale so a linear layer learns quickly.
    scale = float(np.sqrt(dim))
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(order), 256):
            idx = order[start : start + 256]
            logits = model(xt[idx] * scale)
            loss = (torch.nn.functional.cross_entropy(logits, yt[idx], reduction="none") * wt[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    layers = []
    for i, lin in enumerate(linears):
        weight = lin.weight.detach().numpy().T.copy()
        if i == 0:
            weight *= scale  # fold the input scaling into the first layer
        layers.append((weight.astype(np.float32), lin.bias.detach().numpy().astype(np.float32)))
    return layers


@dataclass
class TrainResult:
    head: SentimentHead
    valid: dict
    test: dict
    grid: list
    seconds: float
    embed_stats: dict


def _mean_f1(metrics: dict) -> float:
    return float(np.mean([m["macro_f1"] for m in metrics.values()]))


def train_sentiment(
    examples: list[Example],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    name: str = "sentiment",
    data_description: str = "",
    grid: list[dict] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    texts = [e.text for e in examples]
    say(f"embedding {len(texts):,} texts ({encoder.id})")
    x, stats = embed_texts(encoder, texts, cache)
    by_split = {s: [i for i, e in enumerate(examples) if e.split == s] for s in ("train", "valid", "test")}
    if not by_split["train"]:
        from ..errors import UsageError

        raise UsageError("E715", "no training examples.", "The data needs rows in the train split.")
    y = np.array([LABELS.index(e.label) for e in examples], dtype=np.int64)
    tr = np.array(by_split["train"])
    w = _weights([examples[i] for i in tr])
    valid_examples = [examples[i] for i in by_split["valid"]]
    results = []
    for params in grid or GRID:
        say(f"fitting {params}")
        layers = fit_head(x[tr], y[tr], w, **params)
        head = SentimentHead(layers, encoder.id)
        score = _mean_f1(evaluate(head.predict_proba(x[by_split["valid"]]), valid_examples)) if valid_examples else 0.0
        results.append((score, params, layers))
    best_score, best_params, best_layers = max(results, key=lambda r: r[0])
    head = SentimentHead(best_layers, encoder.id)
    valid = evaluate(head.predict_proba(x[by_split["valid"]]), valid_examples) if valid_examples else {}
    test_examples = [examples[i] for i in by_split["test"]]
    test = evaluate(head.predict_proba(x[by_split["test"]]), test_examples) if test_examples else {}
    head.meta = {
        "name": name,
        "trained_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "data": data_description,
        "params": best_params,
        "train_examples": len(tr),
        "valid": valid,
        "test": test,
    }
    return TrainResult(
        head=head,
        valid=valid,
        test=test,
        grid=[{"params": p, "valid_mean_macro_f1": round(s, 4)} for s, p, _ in results],
        seconds=time.perf_counter() - started,
        embed_stats=stats.__dict__,
    )
