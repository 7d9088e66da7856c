"""`miner train sentiment`: fit the sentiment head on labelled data, select on valid, report.

Reproducible: fixed seeds, deterministic splits (`sentiment_data`), a small grid of head
shapes chosen by the mean macro-F1 over every (corpus, language) group of the valid split,
so that no language or domain is sacrificed for the biggest one. The chosen shape is then
refitted on train + valid (the valid figures reported are those of the train-only fit that
was selected) and evaluated once on test.

Every (corpus, language) group weighs the same in the loss, and classes are balanced
inside each group, so 2,000 food-delivery reviews do not drown 600 Persian ones.

Calibration and the document model (issue 16): the chosen shape is also fitted in FOLDS
folds over train + valid, so that every one of those texts gets a prediction from a head
that never saw it. A temperature fitted on these out-of-fold predictions calibrates the
head. The document model (`sentiment_document`) learns each labelled text's label from its
segments as `miner ingest` cuts them, read by the fold head that never saw the text, and
from the head's reading of the whole text: fitted on train, its regularisation chosen and
its own temperature fitted on valid, then refitted on train + valid. Test is read once, by
the final head and document model.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xxhash

from .cache import EmbeddingCache, embed_texts
from .encoders.base import Encoder
from .sentiment import LABELS, SentimentHead, document_input, document_sentiment
from .sentiment_data import Example, document_segments, documents_with_segments
from .sentiment_document import DocumentInput, features, fit_document_model, fit_temperature, softmax
from .textprep import encoder_input

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


FOLDS = 5
DOCUMENT_C = (0.03, 0.3, 3.0)  # inverse regularisation of the document model, chosen on valid


def evaluate_documents(labels: list[str], proba: np.ndarray, examples: list[Example]) -> dict[str, dict]:
    """Document labels per (corpus, language) group, as a user reads them: `mixed` counts as
    `neu` against three-class gold (gold has no mixed; a mixed review is its neutral); on
    binary corpora `accuracy` is the label (a neu or mixed answer is wrong) and
    `binary_accuracy` the neg-vs-pos decision of the probabilities."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        groups[f"{e.corpus}/{e.lang}"].append(i)
    out = {}
    for key, idx in sorted(groups.items()):
        gold = np.array([LABELS.index(examples[i].label) for i in idx])
        pred = np.array([LABELS.index("neu" if labels[i] == "mixed" else labels[i]) for i in idx])
        p = np.asarray(proba)[idx]
        binary = key.split("/")[0] in BINARY
        if binary:
            keep = gold != 1
            gold, pred, p = gold[keep], pred[keep], p[keep]
        classes = [0, 2] if binary else [0, 1, 2]
        m = {
            "n": int(len(gold)),
            "accuracy": round(float(np.mean(pred == gold)), 4) if len(gold) else 0.0,
            "macro_f1": round(macro_f1(gold, pred, classes), 4),
            "binary": binary,
            "mixed": int(sum(labels[i] == "mixed" for i in idx)),
        }
        if binary:
            m["binary_accuracy"] = round(float(np.mean(np.where(p[:, 2] >= p[:, 0], 2, 0) == gold)), 4) if len(gold) else 0.0
        out[key] = m
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

    # One thread: small batches gain nothing from two, and on a shared machine two are ~7x slower.
    torch.set_num_threads(1)
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
    documents: dict = field(default_factory=dict)  # the document model: choice, valid and test metrics


def _mean_f1(metrics: dict) -> float:
    return float(np.mean([m["macro_f1"] for m in metrics.values()])) if metrics else 0.0


def _fold(text: str) -> int:
    return xxhash.xxh64_intdigest(("fold/" + text).encode("utf-8", "surrogatepass")) % FOLDS


def _gold_mask(examples: list[Example]) -> np.ndarray:
    """The classes each text's gold can take: binary corpora have no neutral."""
    mask = np.ones((len(examples), 3), dtype=bool)
    for i, e in enumerate(examples):
        if e.corpus in BINARY:
            mask[i, 1] = False
    return mask


def train_sentiment(
    examples: list[Example],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    name: str = "sentiment",
    data_description: str = "",
    grid: list[dict] | None = None,
    refit: bool = True,
    documents: bool = True,
    keep_head: SentimentHead | None = None,
    tune_documents: list[Example] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train a head (see the module docstring). `keep_head`: keep that head's weights (they must
    come from these examples' train + valid splits, with its `params`); only its temperature,
    fold heads and document model are fitted. `tune_documents`: labelled complaint-like documents
    on which the document model's class priors are chosen (`choose_prior`), never fitted on."""
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
    if keep_head is not None:
        if keep_head.encoder_id != encoder.id:
            from ..errors import UsageError

            raise UsageError("E722", f"the kept head was trained on {keep_head.encoder_id}, not {encoder.id}.", "Train with the encoder the head was trained on (--encoder).")
        grid = [dict(keep_head.meta["params"])]
    for params in grid or GRID:
        if keep_head is not None:
            score = _mean_f1(evaluate(keep_head.predict_proba(x[by_split["valid"]], calibrated=False), valid_examples)) if valid_examples else 0.0
            results.append((score, params, keep_head.layers))
            break
        say(f"fitting {params}")
        layers = fit_head(x[tr], y[tr], w, **params)
        head = SentimentHead(layers, encoder.id)
        score = _mean_f1(evaluate(head.predict_proba(x[by_split["valid"]]), valid_examples)) if valid_examples else 0.0
        results.append((score, params, layers))
    best_score, best_params, best_layers = max(results, key=lambda r: r[0])
    head = SentimentHead(best_layers, encoder.id)
    valid = evaluate(head.predict_proba(x[by_split["valid"]]), valid_examples) if valid_examples else {}

    # Out-of-fold logits over train + valid: calibration and the document model's training data.
    seen = np.array(by_split["train"] + by_split["valid"])
    fold = np.array([_fold(e.text) for e in examples])
    fold_heads: dict[int, SentimentHead] = {}
    oof = np.zeros((len(examples), 3), dtype=np.float32)
    for k in range(FOLDS):
        fit_idx, out_idx = seen[fold[seen] != k], seen[fold[seen] == k]
        if not len(out_idx) or not len(fit_idx):
            continue
        say(f"fold {k + 1}/{FOLDS}")
        fold_heads[k] = SentimentHead(fit_head(x[fit_idx], y[fit_idx], _weights([examples[i] for i in fit_idx]), **best_params), encoder.id)
        oof[out_idx] = fold_heads[k].logits(x[out_idx])
    covered = np.array([i for i in seen if fold[i] in fold_heads])
    temperature = (
        fit_temperature(oof[covered], y[covered], _weights([examples[i] for i in covered]), _gold_mask([examples[i] for i in covered]))
        if len(covered) else 1.0
    )

    if valid_examples and refit and keep_head is None:
        # The shape is chosen; valid data now helps more as training data than held back.
        both = np.array(by_split["train"] + by_split["valid"])
        head = SentimentHead(fit_head(x[both], y[both], _weights([examples[i] for i in both]), **best_params), encoder.id)
    head.meta = {"temperature": round(temperature, 4)}
    test_examples = [examples[i] for i in by_split["test"]]
    test = evaluate(head.predict_proba(x[by_split["test"]]), test_examples) if test_examples else {}

    doc_report: dict = {}
    if documents:
        doc_report = _train_document_model(examples, x, y, oof, fold, fold_heads, temperature, head, encoder, cache, say, tune_documents)
    head.meta = {
        "name": name,
        "trained_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "data": data_description,
        "params": best_params,
        "temperature": round(temperature, 4),
        "train_examples": len(tr) + (len(valid_examples) if refit else 0),
        **({"kept": {k: keep_head.meta.get(k) for k in ("name", "trained_at")}} if keep_head is not None else {}),
        "valid": valid,
        "test": test,
        "grid": [{"params": p, "valid_mean_macro_f1": round(s, 4)} for s, p, _ in results],
        "documents": {k: v for k, v in doc_report.items() if k != "test_proba"},
    }
    return TrainResult(
        head=head,
        valid=valid,
        test=test,
        grid=[{"params": p, "valid_mean_macro_f1": round(s, 4)} for s, p, _ in results],
        seconds=time.perf_counter() - started,
        embed_stats=stats.__dict__,
        documents=doc_report,
    )


def _train_document_model(
    examples: list[Example], x: np.ndarray, y: np.ndarray, oof: np.ndarray, fold: np.ndarray, fold_heads: dict[int, SentimentHead],
    temperature: float, head: SentimentHead, encoder: Encoder, cache: EmbeddingCache | None, say: Callable[[str], None],
    tune_documents: list[Example] | None = None,
) -> dict:
    """Fit the head's document model (see the module docstring); returns what it measured."""
    say("cutting the texts into segments")
    segments = document_segments(examples)
    multi = documents_with_segments(examples, segments)
    flat = [(i, encoder_input(t)) for i in multi for t, _ in segments[i]]
    say(f"embedding {len(flat):,} segments of {len(multi):,} documents")
    seg_x, _ = embed_texts(encoder, [t for _, t in flat], cache)
    rows_of: dict[int, list[int]] = defaultdict(list)
    for r, (i, _) in enumerate(flat):
        rows_of[i].append(r)

    def doc_inputs(indices: list[int], reader: Callable[[int], SentimentHead | None], whole: np.ndarray) -> tuple[list[int], list[DocumentInput]]:
        keep, docs = [], []
        for i in indices:
            segs = segments[i]
            if not segs or (len(segs) > 1 and i not in rows_of):
                continue
            doc_p = softmax(whole[i] / temperature)
            if len(segs) == 1:
                seg_p = doc_p[None, :]
            else:
                h = reader(i)
                if h is None:
                    continue
                seg_p = softmax(h.logits(seg_x[rows_of[i]]) / temperature)
            keep.append(i)
            docs.append(document_input(seg_p, [t for t, _ in segs], [l for _, l in segs], doc_p))
        return keep, docs

    split_of = np.array([e.split for e in examples])
    fold_reader = lambda i: fold_heads.get(int(fold[i]))  # noqa: E731
    tr_idx, tr_docs = doc_inputs([i for i in range(len(examples)) if split_of[i] == "train"], fold_reader, oof)
    va_idx, va_docs = doc_inputs([i for i in range(len(examples)) if split_of[i] == "valid"], fold_reader, oof)
    if len(tr_idx) < 10 or len({int(y[i]) for i in tr_idx}) < 2:
        return {"trained": False, "reason": "too few training documents"}
    x_tr, x_va = np.stack([features(d) for d in tr_docs]), (np.stack([features(d) for d in va_docs]) if va_docs else None)
    w_tr = _weights([examples[i] for i in tr_idx])
    va_examples = [examples[i] for i in va_idx]
    choices = []
    for c in DOCUMENT_C if x_va is not None else DOCUMENT_C[1:2]:
        model = fit_document_model(x_tr, y[tr_idx], w_tr, c)
        if x_va is None:
            choices.append((0.0, c, model, {}))
            continue
        proba = model.predict_proba(x_va)
        labels = [r.label for r in _decide_all(proba, va_docs)]
        metrics = evaluate_documents(labels, proba, va_examples)
        choices.append((_mean_f1(metrics), c, model, metrics))
        say(f"document model c={c}: valid mean macro-F1 {_mean_f1(metrics):.3f}")
    score, c, model, _ = max(choices, key=lambda r: r[0])
    doc_temperature = 1.0
    if x_va is not None:
        doc_temperature = fit_temperature(model.logits(x_va), y[va_idx], _weights(va_examples), _gold_mask(va_examples))
        model.temperature = doc_temperature
        proba = model.predict_proba(x_va)
        valid_metrics = evaluate_documents([r.label for r in _decide_all(proba, va_docs)], proba, va_examples)
        prior_report = {}
        if tune_documents:
            say(f"choosing class priors on {len(tune_documents)} tuning documents")
            tune_inputs = document_inputs(head, encoder, cache, tune_documents)
            kept = [k for k, d in enumerate(tune_inputs) if d is not None]
            prior, prior_report = choose_prior(
                model, x_va, va_docs, va_examples, np.stack([features(tune_inputs[k]) for k in kept]), [tune_inputs[k] for k in kept],
                [tune_documents[k] for k in kept],
            )
            model.prior = prior
            proba = model.predict_proba(x_va)
            valid_metrics = evaluate_documents([r.label for r in _decide_all(proba, va_docs)], proba, va_examples)
        both = tr_idx + va_idx
        model = fit_document_model(np.concatenate([x_tr, x_va]), y[both], _weights([examples[i] for i in both]), c)
        model.temperature = doc_temperature
        if tune_documents:
            model.prior = prior
    else:
        valid_metrics, prior_report = {}, {}
    model.meta = {"features_version": 1, "c": c, "train_documents": len(tr_idx) + len(va_idx)}
    head.document = model
    # Test, once: the final head reads every segment and whole text.
    te_all = [i for i in range(len(examples)) if split_of[i] == "test"]
    test_metrics, test_proba = {}, None
    if te_all:
        te_examples = [examples[i] for i in te_all]
        results = document_predictions(head, encoder, cache, te_examples, [segments[i] for i in te_all], x[te_all])
        test_proba = np.array([r.proba if r.proba else (np.nan,) * 3 for r in results])
        keep = [k for k, r in enumerate(results) if r.label]
        test_metrics = evaluate_documents([results[k].label for k in keep], test_proba[keep], [te_examples[k] for k in keep])
    return {
        "trained": True,
        "c": c,
        "prior": [round(float(v), 4) for v in model.prior],
        "prior_choice": prior_report,
        "temperature": round(doc_temperature, 4),
        "grid": [{"c": cc, "valid_mean_macro_f1": round(sc, 4)} for sc, cc, _, _ in choices],
        "train_documents": len(tr_idx),
        "segmented_documents": len(multi),
        "valid": valid_metrics,
        "test": test_metrics,
        "test_proba": test_proba,
    }


def document_inputs(
    head: SentimentHead, encoder: Encoder, cache: EmbeddingCache | None, examples: list[Example],
    segments: list[list[tuple[str, str]]] | None = None, whole: np.ndarray | None = None,
) -> list[DocumentInput | None]:
    """What the document model reads of each example as `miner analyze` reads a document: its
    text cut into segments as ingest cuts them, every segment read by the head, the whole text
    too. `whole`: the examples' own vectors if already at hand. None where the text has no
    informative segment."""
    segments = document_segments(examples) if segments is None else segments
    if whole is None:
        whole, _ = embed_texts(encoder, [e.text for e in examples], cache)
    flat = [(i, encoder_input(t)) for i, segs in enumerate(segments) if len(segs) > 1 for t, _ in segs]
    seg_x, _ = embed_texts(encoder, [t for _, t in flat], cache) if flat else (np.zeros((0, whole.shape[1]), np.float32), None)
    rows_of: dict[int, list[int]] = defaultdict(list)
    for r, (i, _) in enumerate(flat):
        rows_of[i].append(r)
    whole_p = head.predict_proba(whole)
    seg_p = head.predict_proba(seg_x) if len(seg_x) else np.zeros((0, 3), np.float32)
    return [
        document_input(seg_p[rows_of[i]] if len(segs) > 1 else whole_p[i : i + 1], [t for t, _ in segs], [l for _, l in segs], whole_p[i])
        if segs else None
        for i, segs in enumerate(segments)
    ]


def document_predictions(
    head: SentimentHead, encoder: Encoder, cache: EmbeddingCache | None, examples: list[Example],
    segments: list[list[tuple[str, str]]] | None = None, whole: np.ndarray | None = None, mode: str = "model",
):
    """What `miner analyze` says of each example as a document (`document_inputs`, then the
    document model, or the rule: `mode`). A result's label is None where the text has no
    informative segment."""
    from .sentiment import DocumentSentiment

    inputs = document_inputs(head, encoder, cache, examples, segments, whole)
    results = iter(document_sentiment(head, [d for d in inputs if d is not None], mode))
    return [next(results) if d is not None else DocumentSentiment(None, None, None) for d in inputs]


PRIOR_GRID = np.arange(-2.0, 0.001, 0.25)  # log-prior offsets tried for neu and pos (neg stays 0)


def choose_prior(
    model, x_va: np.ndarray, va_docs: list[DocumentInput], va_examples: list[Example],
    x_tune: np.ndarray, tune_docs: list[DocumentInput], tune_examples: list[Example],
) -> tuple[np.ndarray, dict]:
    """Class priors of complaint data for the document model (bench/sentiment_decision.md, fixed
    before the runs): log offsets (0, d_neu, d_pos) on the grid; among those whose valid mean
    document macro-F1 is at most 1 point below that of (0, 0), the one with the highest minimum
    over languages of negative recall on the tuning documents; ties: the higher valid macro-F1,
    then the offset nearest 0. Two numbers chosen, nothing fitted."""
    gold_neg = np.array([e.label == "neg" for e in tune_examples])
    langs = sorted({e.lang for e in tune_examples})
    rows = []
    for d_neu in PRIOR_GRID:
        for d_pos in PRIOR_GRID:
            prior = np.array([0.0, d_neu, d_pos])
            p_va = model.predict_proba(x_va, prior)
            valid = _mean_f1(evaluate_documents([r.label for r in _decide_all(p_va, va_docs)], p_va, va_examples))
            labels = np.array([r.label for r in _decide_all(model.predict_proba(x_tune, prior), tune_docs)])
            recall = {
                lang: float(np.mean(labels[gold_neg & (np.array([e.lang for e in tune_examples]) == lang)] == "neg"))
                for lang in langs if np.any(gold_neg & (np.array([e.lang for e in tune_examples]) == lang))
            }
            rows.append({"prior": [0.0, float(d_neu), float(d_pos)], "valid_mean_macro_f1": round(valid, 4), "tune_min_negative_recall": round(min(recall.values()), 4), "tune_negative_recall": {k: round(v, 3) for k, v in recall.items()}})
    base = next(r for r in rows if r["prior"] == [0.0, 0.0, 0.0])
    allowed = [r for r in rows if r["valid_mean_macro_f1"] >= base["valid_mean_macro_f1"] - 0.01]
    best = max(allowed, key=lambda r: (r["tune_min_negative_recall"], r["valid_mean_macro_f1"], -abs(r["prior"][1]) - abs(r["prior"][2])))
    return np.array(best["prior"]), {"chosen": best, "unshifted": base, "tune_documents": len(tune_examples), "grid_points": len(rows)}


def _decide_all(proba: np.ndarray, docs: list[DocumentInput]):
    from .sentiment import DocumentSentiment
    from .sentiment_document import decide

    return [DocumentSentiment(decide(p, d.seg_proba), float(p[2] - p[0]), tuple(p)) for p, d in zip(proba, docs)]


def model_card(head: SentimentHead, grid: list | None = None) -> str:
    """A Markdown model card from the head's own metadata (so card and weights never disagree)."""
    m = head.meta
    p = m.get("params", {})
    shape = f"MLP, one hidden layer of {p['hidden']} ReLU units" if p.get("hidden") else "linear layer"

    def table(metrics: dict) -> str:
        rows = [f"| {k} | {v['n']} | {100 * v['accuracy']:.1f}% | {100 * v['macro_f1']:.1f} | {'neg/pos' if v['binary'] else '3 classes'} |" for k, v in metrics.items()]
        return "| corpus/language | texts | accuracy | macro-F1 | scored on |\n|---|---|---|---|---|\n" + "\n".join(rows)

    def doc_table(metrics: dict) -> str:
        rows = [
            f"| {k} | {v['n']} | {100 * v['accuracy']:.1f}% | "
            + (f"{100 * v['binary_accuracy']:.1f}%" if v["binary"] else "-")
            + f" | {100 * v['macro_f1']:.1f} | {v['mixed']} |"
            for k, v in metrics.items()
        ]
        return "| corpus/language | documents | label right | neg-vs-pos right | macro-F1 | mixed |\n|---|---|---|---|---|---|\n" + "\n".join(rows)

    grid_rows = "\n".join(f"| {g['params']} | {100 * g['valid_mean_macro_f1']:.1f} |" for g in grid or m.get("grid", []))
    langs = sorted({k.split("/")[1] for k in m.get("test", {}) or m.get("valid", {})})
    docs = m.get("documents") or {}
    if docs.get("trained"):
        doc_grid = ", ".join(f"c={g['c']}: {100 * g['valid_mean_macro_f1']:.1f}" for g in docs.get("grid", []))
        choice = docs.get("prior_choice") or {}
        prior_text = ""
        if choice:
            chosen, base = choice["chosen"], choice["unshifted"]
            prior_text = (
                f"\n\nClass priors for complaint data: log offsets (neg, neu, pos) {tuple(chosen['prior'])} added to the\n"
                f"calibrated logits, chosen on {choice['tune_documents']} tuning documents (`--tune-documents`; never fitted on)\n"
                f"among {choice['grid_points']} offsets: minimum negative recall over their languages {chosen['tune_min_negative_recall']:.3f}\n"
                f"(unshifted {base['tune_min_negative_recall']:.3f}), valid mean document macro-F1 {100 * chosen['valid_mean_macro_f1']:.1f}\n"
                f"(unshifted {100 * base['valid_mean_macro_f1']:.1f}, at most 1 point lower allowed)."
            )
        doc_section = f"""
## Document model
A document's label is learned from its segments (multinomial logistic regression over the
head's calibrated probabilities of each segment, in order: first, last, strongest negative and
positive, after the last contrast word, share of questions; and the head's reading of the whole
text), trained on {docs.get('train_documents', 0):,} labelled texts of the train split cut into segments as
`miner ingest` cuts them, each read by a head fitted without it ({FOLDS} folds). Regularisation
chosen on valid ({doc_grid}), temperature {docs.get('temperature')} fitted on valid, then refitted on
train + valid. `mixed`: p_neg and p_pos of the document both at least 0.3, one segment clearly
negative and another clearly positive.{prior_text}

Test split, as documents (`mixed` counts as `neu` against three-class gold; on binary corpora
"label right" counts a `neu` or `mixed` answer as wrong):

{doc_table(docs.get('test', {}))}
"""
    else:
        doc_section = "\n## Document model\nNone: documents are read from the head's probabilities on their whole text.\n"
    return f"""# Model card: `{m.get('name')}`

A sentiment head for miner: {shape} on the frozen embeddings of `{head.encoder_id}`,
softmax over neg / neu / pos, calibrated by a temperature of {m.get('temperature', 1.0)} (fitted on
out-of-fold predictions over train + valid). Weights, the document model and metadata in
`{m.get('name')}.npz` (numpy, loaded with `allow_pickle=False`). Trained {m.get('trained_at')} by
`miner train sentiment`.

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
{doc_section}
## Limits
- Trained on tweets, product, food-delivery, hotel and course reviews, banking queries and a
  small set of questions and requests the team wrote, not on support tickets: complaint
  language is close, but sarcasm and domain words ("churn", "SLA") are unmeasured here.
- `mixed` has no gold label in any training corpus: its rule was fixed, not learned.
- umsab `hi` tweets are romanised Hindi; Devanagari Hindi is unmeasured.
- A head only works with the encoder it was trained on (checked at load: error E722).
"""
