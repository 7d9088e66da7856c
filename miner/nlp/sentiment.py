"""The sentiment head: a small MLP (or linear layer) on the encoder's embeddings.

Three classes (neg, neu, pos) and a score in [-1, 1] = p(pos) - p(neg), per segment. The
probabilities are calibrated: the head's logits are divided by a temperature fitted on
held-out predictions (`meta["temperature"]`), so that p = 0.8 means right about 8 times in
10 whatever the language. Inference is plain numpy; the weights live in an `.npz` file
(loaded with allow_pickle=False) with a JSON metadata string: labels, the encoder it was
trained on, training data and measured metrics. No pickle anywhere.

A head trained since issue 16 also carries its document model (`sentiment_document`): a
document's label, probabilities and score are learned from its segments, in order, and from
the head's reading of the whole text (`document_sentiment`). The earlier rule, one negative
segment makes the document negative, stays available (`aggregate`, mode `any-negative`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..paths import model_file
from .sentiment_document import DocumentInput, DocumentModel, any_negative, decide, features, is_question, opens_with_contrast, softmax

LABELS = ("neg", "neu", "pos")
DEFAULT_HEAD = "sentiment-e5-small.npz"


@dataclass
class SentimentHead:
    layers: list[tuple[np.ndarray, np.ndarray]]  # (W: in x out, b: out); ReLU between, softmax after
    encoder_id: str
    meta: dict = field(default_factory=dict)
    labels: tuple[str, ...] = LABELS
    document: DocumentModel | None = None  # the document model trained with this head, if any

    @property
    def name(self) -> str:
        return self.meta.get("name", "sentiment")

    @property
    def temperature(self) -> float:
        return float(self.meta.get("temperature", 1.0))

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float32)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        return h

    def predict_proba(self, x: np.ndarray, calibrated: bool = True) -> np.ndarray:
        h = self.logits(x)
        if calibrated and self.temperature != 1.0:
            h = h / np.float32(self.temperature)
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        return h / h.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> None:
        arrays = {f"w{i}": w.astype(np.float32) for i, (w, _) in enumerate(self.layers)}
        arrays |= {f"b{i}": b.astype(np.float32) for i, (_, b) in enumerate(self.layers)}
        meta = dict(self.meta, encoder_id=self.encoder_id, labels=list(self.labels), n_layers=len(self.layers))
        if self.document is not None:
            arrays |= self.document.arrays()
            meta["document_model"] = dict(self.document.meta, temperature=self.document.temperature)
            if np.any(self.document.prior):
                meta["document_model"]["prior"] = [round(float(v), 4) for v in self.document.prior]
        arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:  # np.savez would append .npz to other names
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "SentimentHead":
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                layers = [(data[f"w{i}"], data[f"b{i}"]) for i in range(int(meta["n_layers"]))]
                document = DocumentModel.from_arrays(data, meta["document_model"]) if "document_model" in meta else None
        except (OSError, KeyError, ValueError) as exc:
            raise UsageError(
                "E720", f"{path} is not a miner sentiment head ({str(exc)[:120]}).", "Train one with `miner train sentiment`."
            ) from None
        return cls(layers, meta.pop("encoder_id"), meta, tuple(meta.pop("labels")), document)


def resolve_head(name_or_path: str | None = None) -> Path:
    """A head by path, or by name among the shipped ones in models/."""
    candidate = Path(name_or_path) if name_or_path else model_file(DEFAULT_HEAD)
    if candidate.is_file():
        return candidate
    shipped = model_file(name_or_path if name_or_path.endswith(".npz") else f"{name_or_path}.npz") if name_or_path else None
    if shipped and shipped.is_file():
        return shipped
    raise UsageError("E721", f"no sentiment head {name_or_path or DEFAULT_HEAD!r}.", "Give a .npz path or train one with `miner train sentiment`.")


def label_and_score(proba: np.ndarray) -> tuple[list[str], np.ndarray]:
    labels = [LABELS[i] for i in proba.argmax(axis=1)]
    return labels, (proba[:, 2] - proba[:, 0]).astype(np.float32)


def aggregate(labels: list[str], scores: list[float], lengths: list[int]) -> tuple[str | None, float | None]:
    """Document label and score by the rule "any negative segment" (mode `any-negative`)."""
    return any_negative(labels, scores, lengths)


DOCUMENT_MODES = ("model", "any-negative")


@dataclass
class DocumentSentiment:
    label: str | None
    score: float | None
    proba: tuple[float, float, float] | None  # calibrated p_neg, p_neu, p_pos


def document_input(seg_proba: np.ndarray, texts: list[str], langs: list[str | None], doc_proba: np.ndarray) -> DocumentInput:
    """What the document model reads of one document (segments in order)."""
    return DocumentInput(
        seg_proba=np.asarray(seg_proba).reshape(-1, 3),
        lengths=[len(t) for t in texts],
        contrast=[opens_with_contrast(t, l) for t, l in zip(texts, langs)],
        questions=[is_question(t) for t in texts],
        doc_proba=np.asarray(doc_proba).reshape(3),
    )


def document_sentiment(head: SentimentHead, docs: list[DocumentInput], mode: str = "model") -> list[DocumentSentiment]:
    """Label, score and calibrated probabilities of each document. `model`: the head's
    document model; `any-negative`: the earlier rule for the label and score, probabilities as
    `model`. A head trained before issue 16 has no document model: its documents follow the
    rule, with the head's probabilities on the whole text."""
    if not docs:
        return []
    if head.document is not None:
        proba = head.document.predict_proba(np.stack([features(d) for d in docs]))
    else:
        proba = np.stack([d.doc_proba for d in docs]).astype(np.float64)
        mode = "any-negative"
    out = []
    for d, p in zip(docs, proba):
        if len(d.seg_proba) == 0:
            out.append(DocumentSentiment(None, None, None))
            continue
        probs = tuple(round(float(v), 4) for v in p)
        if mode == "any-negative":
            seg_labels = [LABELS[i] for i in np.asarray(d.seg_proba).argmax(axis=1)]
            seg_scores = (np.asarray(d.seg_proba)[:, 2] - np.asarray(d.seg_proba)[:, 0]).tolist()
            label, score = any_negative(seg_labels, seg_scores, d.lengths)
        else:
            label, score = decide(p, d.seg_proba), round(float(p[2] - p[0]), 4)
        out.append(DocumentSentiment(label, score, probs))
    return out


__all__ = ["LABELS", "DOCUMENT_MODES", "SentimentHead", "DocumentSentiment", "aggregate", "document_input", "document_sentiment", "label_and_score", "resolve_head", "softmax"]
