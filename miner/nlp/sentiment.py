"""The sentiment head: a small MLP (or linear layer) on the encoder's embeddings.

Three classes (neg, neu, pos) and a score in [-1, 1] = p(pos) - p(neg), per segment.
Inference is plain numpy; the weights live in an `.npz` file (loaded with
allow_pickle=False) with a JSON metadata string: labels, the encoder it was trained on,
training data and measured metrics. No pickle anywhere.

Document sentiment from its segments (`aggregate`): complaints are asymmetric, so one
clearly negative sentence makes the document negative even among polite ones ("Thanks for
the quick install. But I was billed twice and nobody answers."):
- label: `neg` if any segment is `neg`; otherwise `pos` if any segment is `pos`; else `neu`;
- score: the mean of segment scores weighted by segment length, with negative segments
  weighted twice; then clipped to [-1, 1].
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..paths import model_file

LABELS = ("neg", "neu", "pos")
DEFAULT_HEAD = "sentiment-e5-small.npz"


@dataclass
class SentimentHead:
    layers: list[tuple[np.ndarray, np.ndarray]]  # (W: in x out, b: out); ReLU between, softmax after
    encoder_id: str
    meta: dict = field(default_factory=dict)
    labels: tuple[str, ...] = LABELS

    @property
    def name(self) -> str:
        return self.meta.get("name", "sentiment")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float32)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        return h / h.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> None:
        arrays = {f"w{i}": w.astype(np.float32) for i, (w, _) in enumerate(self.layers)}
        arrays |= {f"b{i}": b.astype(np.float32) for i, (_, b) in enumerate(self.layers)}
        meta = dict(self.meta, encoder_id=self.encoder_id, labels=list(self.labels), n_layers=len(self.layers))
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
        except (OSError, KeyError, ValueError) as exc:
            raise UsageError(
                "E720", f"{path} is not a miner sentiment head ({str(exc)[:120]}).", "Train one with `miner train sentiment`."
            ) from None
        return cls(layers, meta.pop("encoder_id"), meta, tuple(meta.pop("labels")))


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
    """Document label and score from its segments (see the module docstring)."""
    if not labels:
        return None, None
    label = "neg" if "neg" in labels else ("pos" if "pos" in labels else "neu")
    weights = np.array([max(1, n) * (2.0 if l == "neg" else 1.0) for l, n in zip(labels, lengths)])
    score = float(np.clip(np.dot(weights, scores) / weights.sum(), -1.0, 1.0))
    return label, round(score, 4)
