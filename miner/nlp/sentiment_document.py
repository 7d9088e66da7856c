"""Document sentiment learned from its segments (issue 16).

A document's label is not "any negative segment": a small multinomial logistic model reads
what its segments say and in which order, and the head's reading of the whole text:

- the head's probabilities on the document's own vector (its whole text, which `miner
  analyze` embeds anyway for themes);
- the segments' probabilities: length-weighted mean, the strongest negative and positive
  segment, the first and the last segment, the share of segments read as negative/positive;
- contrast: whether a segment opens with a contrast word ("but", "aber", "但是", "اما",
  "nhưng"...; `CONTRAST`) and what the segments from the last such turn on say;
- how many segments, and how many are questions.

Everything is pure numpy: `features` turns one document into a fixed vector, the model is a
weight matrix and a bias (stored in the head's `.npz`, never pickled), and its output is
calibrated by a temperature fitted on held-out documents, then (optionally) shifted by log class
priors (`DocumentModel.prior`: the model is trained with balanced classes, complaint data has few
neutral and positive documents). A document is `mixed` when it
clearly holds both: its calibrated negative and positive probabilities are each at least
`MIXED_MIN` and one of its segments is clearly negative and another clearly positive
(`MIXED_SEGMENT`). The rule of earlier versions (one negative segment makes a document
negative) stays available as `any_negative`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

FEATURES_VERSION = 1
MIXED_MIN = 0.3  # each of p_neg and p_pos of the document (fixed before measuring)
MIXED_SEGMENT = 0.5  # a segment with p_neg >= this and another with p_pos >= this

# Words that turn a text around, by language (group codes: zh covers zh-Hans and zh-Hant).
# Space-separated languages match whole words; CJK matches characters.
CONTRAST: dict[str, tuple[str, ...]] = {
    "en": ("but", "however", "although", "though", "yet", "except", "unfortunately", "nevertheless", "sadly"),
    "de": ("aber", "jedoch", "allerdings", "trotzdem", "leider", "obwohl", "dennoch", "sondern", "nur leider"),
    "fr": ("mais", "cependant", "pourtant", "toutefois", "malheureusement", "sauf", "néanmoins", "par contre", "en revanche", "dommage", "bien que"),
    "es": ("pero", "sin embargo", "aunque", "lamentablemente", "excepto", "salvo", "no obstante", "lástima", "eso sí", "por desgracia"),
    "it": ("ma", "però", "tuttavia", "purtroppo", "eppure", "peccato", "anche se", "invece"),
    "pt": ("mas", "porém", "contudo", "entretanto", "infelizmente", "no entanto", "embora", "pena que"),
    "vi": ("nhưng", "tuy nhiên", "có điều", "tiếc là", "song", "ngặt nỗi", "nhung", "tuy nhien", "mỗi tội"),
    "fa": ("اما", "ولی", "ولیکن", "منتها", "با این حال", "هرچند", "متاسفانه", "متأسفانه", "ولے"),
    "ar": ("لكن", "ولكن", "لكنّ", "بس", "إلا أن", "الا ان", "غير أن", "مع ذلك", "للأسف", "رغم", "مع أن", "بالرغم"),
    "hi": ("lekin", "magar", "par", "लेकिन", "मगर", "किंतु", "पर"),
    "id": ("tapi", "tetapi", "namun", "sayangnya"),
    "ms": ("tapi", "tetapi", "namun", "sayangnya"),
    "ja": ("しかし", "でも", "けど", "けれど", "ただ、", "だが", "ですが", "ものの", "のに", "残念", "一方"),
    "zh": ("但是", "但", "可是", "不过", "不過", "就是", "只是", "然而", "却", "卻", "可惜", "遗憾", "遺憾"),
}
_CJK = {"ja", "zh"}
_OPENING_CHARS = 6  # a CJK segment "opens" with a contrast word found in its first characters
_QUESTION = re.compile(r"[?？؟]\s*\W*$")
_WORD_PATTERNS = {
    lang: re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)", re.I)
    for lang, words in CONTRAST.items()
    if lang not in _CJK
}
_ANY_SPACED = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted({w for l, ws in CONTRAST.items() if l not in _CJK for w in ws}, key=len, reverse=True)) + r")(?!\w)",
    re.I,
)


def _base_language(lang: str | None) -> str:
    return (lang or "und").split("-")[0].lower()


def opens_with_contrast(text: str, lang: str | None) -> bool:
    """Whether a segment turns against what came before: a contrast word among its first
    three words (CJK: first characters)."""
    base = _base_language(lang)
    stripped = text.lstrip(" \t\n-–—…,.;:·•*\"'“”«»()[]")
    if base in _CJK:
        head = stripped[:_OPENING_CHARS]
        return any(w in head for w in CONTRAST[base])
    pattern = _WORD_PATTERNS.get(base, _ANY_SPACED)
    first_words = " ".join(stripped.split()[:3])
    return bool(pattern.search(first_words))


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text.strip()))


@dataclass
class DocumentInput:
    """One document as the model reads it: its segments in order and the whole-text reading."""

    seg_proba: np.ndarray  # (n, 3) calibrated segment probabilities, neg/neu/pos
    lengths: list[int]  # characters per segment
    contrast: list[bool]  # segment opens with a contrast word
    questions: list[bool]  # segment is a question
    doc_proba: np.ndarray  # (3,) the head on the document's own vector


N_FEATURES = 26


def features(doc: DocumentInput) -> np.ndarray:
    """The model's fixed-length view of one document (FEATURES_VERSION 1, N_FEATURES values)."""
    p = np.asarray(doc.seg_proba, dtype=np.float64).reshape(-1, 3)
    n = len(p)
    w = np.maximum(np.asarray(doc.lengths, dtype=np.float64), 1.0)
    mean = (p * w[:, None]).sum(axis=0) / w.sum()
    pred = p.argmax(axis=1)
    turns = [i for i, c in enumerate(doc.contrast) if c and i > 0]
    after = p[turns[-1]:].mean(axis=0) if turns else mean
    d = np.clip(np.asarray(doc.doc_proba, dtype=np.float64), 1e-4, 1.0)
    return np.concatenate(
        [
            np.log(d),  # 3
            d,  # 3
            mean,  # 3
            [p[:, 0].max(), p[:, 2].max()],  # 2
            p[0],  # 3
            p[-1],  # 3
            after,  # 3
            [1.0 if turns else 0.0],  # 1
            [np.log(n), 1.0 if n == 1 else 0.0],  # 2
            [np.mean(pred == 0), np.mean(pred == 2)],  # 2
            [np.mean(doc.questions) if doc.questions else 0.0],  # 1
        ]
    ).astype(np.float32)


@dataclass
class DocumentModel:
    """Multinomial logistic regression over `features`, with its calibration temperature."""

    weight: np.ndarray  # (N_FEATURES, 3)
    bias: np.ndarray  # (3,)
    mean: np.ndarray  # feature standardisation
    scale: np.ndarray
    temperature: float = 1.0
    meta: dict = field(default_factory=dict)
    prior: np.ndarray = field(default_factory=lambda: np.zeros(3))  # log-prior offsets neg/neu/pos

    def logits(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return z @ self.weight + self.bias

    def predict_proba(self, x: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities under the model's class priors (`prior` overrides them)."""
        offsets = self.prior if prior is None else prior
        return softmax(self.logits(x) / self.temperature + np.asarray(offsets, dtype=np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "doc_w": self.weight.astype(np.float32), "doc_b": self.bias.astype(np.float32),
            "doc_mean": self.mean.astype(np.float32), "doc_scale": self.scale.astype(np.float32),
        }

    @classmethod
    def from_arrays(cls, data, meta: dict) -> "DocumentModel":
        return cls(
            np.asarray(data["doc_w"], np.float64), np.asarray(data["doc_b"], np.float64),
            np.asarray(data["doc_mean"], np.float64), np.asarray(data["doc_scale"], np.float64),
            float(meta.get("temperature", 1.0)), meta, np.asarray(meta.get("prior", (0.0, 0.0, 0.0)), np.float64),
        )


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_document_model(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float = 1.0) -> DocumentModel:
    """Weighted multinomial logistic regression (L2, strength 1/c) on standardised features.
    Classes missing from `y` simply get no probability mass to speak of."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    k, f = 3, z.shape[1]
    onehot = np.eye(k)[y]
    wn = np.asarray(w, dtype=np.float64) / np.sum(w)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        wt, b = theta[: f * k].reshape(f, k), theta[f * k :]
        p = softmax(z @ wt + b)
        nll = -np.sum(wn * np.log(np.clip((p * onehot).sum(axis=1), 1e-12, None)))
        reg = 0.5 / (c * len(z)) * np.sum(wt * wt)
        g = (p - onehot) * wn[:, None]
        grad_w = z.T @ g + wt / (c * len(z))
        return nll + reg, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(f * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    theta = res.x
    return DocumentModel(theta[: f * k].reshape(f, k), theta[f * k :], mean, scale)


def fit_temperature(logits: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, classes: np.ndarray | None = None) -> float:
    """The temperature that minimises the (weighted) negative log-likelihood of `y`.
    `classes`: optional (n, 3) mask of the classes each row's gold can take (binary corpora
    have no neutral gold: there the probabilities are renormalised over neg and pos)."""
    logits = np.asarray(logits, dtype=np.float64)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    mask = np.ones_like(logits, dtype=bool) if classes is None else classes
    best_t, best = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 121)):
        p = softmax(np.where(mask, logits / t, -np.inf))
        nll = -np.sum(w * np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))) / w.sum()
        if nll < best:
            best_t, best = float(t), nll
    return best_t


def decide(proba: np.ndarray, seg_proba: np.ndarray) -> str:
    """The label of a document from its calibrated probabilities: `mixed` when it clearly
    holds both (see the module docstring), else the most probable class."""
    p = np.asarray(proba)
    s = np.asarray(seg_proba).reshape(-1, 3)
    if (
        len(s) > 1
        and min(p[0], p[2]) >= MIXED_MIN
        and s[:, 0].max() >= MIXED_SEGMENT
        and s[:, 2].max() >= MIXED_SEGMENT
        and int(s[:, 0].argmax()) != int(s[:, 2].argmax())
    ):
        return "mixed"
    return ("neg", "neu", "pos")[int(p.argmax())]


def any_negative(labels: list[str], scores: list[float], lengths: list[int]) -> tuple[str | None, float | None]:
    """The earlier rule, kept for teams that want "any complaint counts": `neg` if any segment
    is `neg`, else `pos` if any is `pos`, else `neu`; the score is the length-weighted mean of
    segment scores with negative segments weighted twice."""
    if not labels:
        return None, None
    label = "neg" if "neg" in labels else ("pos" if "pos" in labels else "neu")
    weights = np.array([max(1, n) * (2.0 if l == "neg" else 1.0) for l, n in zip(labels, lengths)])
    score = float(np.clip(np.dot(weights, scores) / weights.sum(), -1.0, 1.0))
    return label, round(score, 4)
