"""`miner train sentiment`: fit the sentiment head on labelled data, select on valid, report.

Reproducible: fixed seeds, deterministic splits (`sentiment_data`), a small grid of head
shapes chosen by the mean macro-F1 over every (corpus, language) group of the valid split,
so that no language or domain is sacrificed for the biggest one. The chosen shape is then
refitted on train + valid (the valid figures reported are those of the train-only fit that
was selected) and evaluated once on test.

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
from .encoders.base import Encoder
from .sentiment import LABELS, SentimentHead
from .sentiment_data import Example

# Corpora whose labels are only neg/pos: scored on the neg-vs-pos decision.
BINARY = {"snappfood_fa", "chnsenticorp_hotel_zh", "waimai_zh", "uit_vsfc_vi"}
GRID = [  # measured on valid: wider or longer-trained MLPs and seed ensembles did not help
    {"hidden": 0, "weight_decay": 1e-4, "epochs": 40},
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
    refit: bool = True,
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
    if valid_examples and refit:
        # The shape is chosen; valid data now helps more as training data than held back.
        both = np.array(by_split["train"] + by_split["valid"])
        head = SentimentHead(fit_head(x[both], y[both], _weights([examples[i] for i in both]), **best_params), encoder.id)
    test_examples = [examples[i] for i in by_split["test"]]
    test = evaluate(head.predict_proba(x[by_split["test"]]), test_examples) if test_examples else {}
    head.meta = {
        "name": name,
        "trained_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "data": data_description,
        "params": best_params,
        "train_examples": len(tr) + (len(valid_examples) if refit else 0),
        "valid": valid,
        "test": test,
        "grid": [{"params": p, "valid_mean_macro_f1": round(s, 4)} for s, p, _ in results],
    }
    return TrainResult(
        head=head,
        valid=valid,
        test=test,
        grid=[{"params": p, "valid_mean_macro_f1": round(s, 4)} for s, p, _ in results],
        seconds=time.perf_counter() - started,
        embed_stats=stats.__dict__,
    )


def model_card(head: SentimentHead, grid: list | None = None) -> str:
    """A Markdown model card from the head's own metadata (so card and weights never disagree)."""
    m = head.meta
    p = m.get("params", {})
    shape = f"MLP, one hidden layer of {p['hidden']} ReLU units" if p.get("hidden") else "linear layer"

    def table(metrics: dict) -> str:
        rows = [f"| {k} | {v['n']} | {100 * v['accuracy']:.1f}% | {100 * v['macro_f1']:.1f} | {'neg/pos' if v['binary'] else '3 classes'} |" for k, v in metrics.items()]
        return "| corpus/language | texts | accuracy | macro-F1 | scored on |\n|---|---|---|---|---|\n" + "\n".join(rows)

    grid_rows = "\n".join(f"| {g['params']} | {100 * g['valid_mean_macro_f1']:.1f} |" for g in grid or m.get("grid", []))
    langs = sorted({k.split("/")[1] for k in m.get("test", {}) or m.get("valid", {})})
    return f"""# Model card: `{m.get('name')}`

A sentiment head for miner: {shape} on the frozen embeddings of `{head.encoder_id}`,
softmax over neg / neu / pos. Weights and metadata in `{m.get('name')}.npz` (numpy, loaded
with `allow_pickle=False`). Trained {m.get('trained_at')} by `miner train sentiment`.

## Data
{m.get('data')}: {m.get('train_examples'):,} training texts. Every (corpus, language) group
weighs the same in the loss, classes balanced inside each group. Shape selected by the mean
macro-F1 over the groups of the valid split, then refitted on train + valid.

Languages seen in training: {', '.join(langs)}. The encoder covers about 100 languages; on
others the head works through the shared multilingual space, unmeasured.

## Selection (valid split, mean macro-F1 over groups)
| head | valid |
|---|---|
{grid_rows}

## Test split (held out, evaluated once)
{table(m.get('test', {}))}

Binary corpora (snappfood, waimai, ChnSentiCorp, UIT-VSFC, whose labels have no or almost
no neutral) are scored on the head's neg-vs-pos decision.

## Limits
- Trained on tweets and product, food-delivery, hotel and course reviews, not on support
  tickets: complaint language is close, but sarcasm, mixed feelings and domain words
  ("churn", "SLA") are unmeasured here.
- Neutral is the weakest class (short factual questions vs mild complaints).
- Praise for a solved problem ("problème réglé en cinq minutes, merci !") can come out
  neutral: the problem words pull towards negative.
- umsab `hi` tweets are romanised Hindi; Devanagari Hindi is unmeasured.
- A head only works with the encoder it was trained on (checked at load: error E722).
"""
