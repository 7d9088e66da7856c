"""Touchpoint assignment as pure functions: vectors in, touchpoints out (no store access).

Each touchpoint is represented by the embeddings of its description and example phrases
(and, few-shot, of the user's labelled examples). A segment's similarity to a touchpoint
mixes the cosine to the mean of those vectors with the cosine to the closest one
(`alpha`; bench/bench_touchpoints.py measured the choice). Few-shot examples count
`shot_weight` times in the mean, so ten labelled texts outweigh the generic phrases.

Few-shot (`FewShot`): a logistic regression on the taxonomy phrases and the user's examples,
fused with the prototype similarities (log p + S / temperature): measured better than
prototypes alone on banking77 with 10 examples per touchpoint.

Decision (`decide`): the best touchpoint when it stands out from the others by `threshold`
(best similarity minus the mean over all touchpoints: absolute e5 cosines shift with the
language and the taxonomy, an off-topic text has a flat profile), else none; a second
touchpoint when it also stands out and lies within `second_margin` of the best (a sentence that names two moments, "the delivery was late and the hotline hung
up"). Confidence is the softmax over touchpoints at `temperature`, the usual way to turn
cosines into a distribution, so it is comparable across taxonomies of different sizes
only roughly: it reads as "how clearly this touchpoint wins".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AssignParams:
    alpha: float = 0.5  # weight of the mean prototype; 1 - alpha on the closest example
    shot_weight: float = 3.0  # how many generic phrases one user example is worth in the mean
    threshold: float = 0.018  # best minus mean similarity under which no touchpoint fits
    second_margin: float = 0.005  # a second touchpoint within this cosine of the best (demo: recall +4 pts, precision -4)
    temperature: float = 0.02
    lr_c: float = 10.0  # inverse regularisation of the few-shot logistic regression

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Prototypes:
    keys: list[str]
    means: np.ndarray  # (k, d) L2-normalised weighted mean per touchpoint
    examples: np.ndarray  # (m, d) every description / example / user example vector
    owner: np.ndarray  # (m,) int: index into keys of each example row

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"keys": np.array(self.keys), "means": self.means, "examples": self.examples, "owner": self.owner}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Prototypes:
        return cls([str(k) for k in a["keys"]], a["means"].astype(np.float32), a["examples"].astype(np.float32), a["owner"].astype(np.int64))


def _normalise(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=-1, keepdims=True), 1e-12)


def build_prototypes(
    keys: list[str],
    vectors: np.ndarray,
    owner: np.ndarray,
    weights: np.ndarray | None = None,
) -> Prototypes:
    """Prototypes from example vectors: row i belongs to keys[owner[i]] with weight weights[i]."""
    vectors = _normalise(vectors)
    owner = np.asarray(owner, dtype=np.int64)
    weights = np.ones(len(owner), np.float32) if weights is None else np.asarray(weights, np.float32)
    means = np.zeros((len(keys), vectors.shape[1]), np.float32)
    for k in range(len(keys)):
        rows = owner == k
        if not rows.any():
            raise ValueError(f"touchpoint {keys[k]!r} has no vectors")
        means[k] = (vectors[rows] * weights[rows, None]).sum(0)
    return Prototypes(list(keys), _normalise(means), vectors, owner)


def add_examples(protos: Prototypes, base_weights: np.ndarray, vectors: np.ndarray, owner: np.ndarray, weight: float) -> Prototypes:
    """Few-shot: the user's labelled example vectors join their touchpoints' prototypes."""
    return build_prototypes(
        protos.keys,
        np.vstack([protos.examples, _normalise(vectors)]),
        np.concatenate([protos.owner, np.asarray(owner, np.int64)]),
        np.concatenate([base_weights, np.full(len(owner), weight, np.float32)]),
    )


def similarities(X: np.ndarray, protos: Prototypes, alpha: float = 0.5) -> np.ndarray:
    """(n, k) similarity of each row of X to each touchpoint: alpha * cos(mean) + (1 - alpha) * max cos(example)."""
    X = _normalise(X)
    mean_sim = X @ protos.means.T
    if alpha >= 1.0:
        return mean_sim
    ex = X @ protos.examples.T
    best = np.full((len(X), len(protos.keys)), -1.0, np.float32)
    for k in range(len(protos.keys)):
        cols = protos.owner == k
        best[:, k] = ex[:, cols].max(1)
    return alpha * mean_sim + (1.0 - alpha) * best


def softmax(S: np.ndarray, temperature: float) -> np.ndarray:
    Z = (S - S.max(1, keepdims=True)) / temperature
    E = np.exp(Z)
    return E / E.sum(1, keepdims=True)


@dataclass
class Assignment:
    """Per segment: up to two (touchpoint index, confidence) pairs; index -1 = none."""

    first: np.ndarray  # (n,) int, -1 when none fits
    first_conf: np.ndarray  # (n,) float in [0, 1]
    second: np.ndarray  # (n,) int, -1 when none
    second_conf: np.ndarray
    best_gap: np.ndarray  # (n,) the best touchpoint's similarity minus the mean (before the threshold)


class FewShot:
    """Logistic regression on taxonomy phrases + labelled examples, fused with prototype similarity."""

    def __init__(self, params: AssignParams = AssignParams()):
        self.params = params
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, k: int) -> FewShot:
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y, np.int64)
        clf = LogisticRegression(C=self.params.lr_c, max_iter=3000).fit(_normalise(X), y)
        # Classes absent from y keep a very low score (never predicted by the regression alone).
        self.coef = np.zeros((k, X.shape[1]), np.float32)
        self.intercept = np.full(k, -30.0, np.float32)
        classes = clf.classes_
        if len(classes) == 2:  # sklearn's binary case has one row of coefficients
            self.coef[classes[1]], self.intercept[classes[1]] = clf.coef_[0], clf.intercept_[0]
            self.intercept[classes[0]] = 0.0
        else:
            self.coef[classes], self.intercept[classes] = clf.coef_, clf.intercept_
        return self

    def log_proba(self, X: np.ndarray) -> np.ndarray:
        Z = _normalise(X) @ self.coef.T + self.intercept
        Z = Z - Z.max(1, keepdims=True)
        return Z - np.log(np.exp(Z).sum(1, keepdims=True))

    def scores(self, X: np.ndarray, S: np.ndarray) -> np.ndarray:
        """Fused scores in log space (argmax = prediction; softmax at temperature 1 = confidence)."""
        return self.log_proba(X) + S / self.params.temperature

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], params: AssignParams) -> FewShot:
        f = cls(params)
        f.coef, f.intercept = a["coef"].astype(np.float32), a["intercept"].astype(np.float32)
        return f


def decide(S: np.ndarray, params: AssignParams = AssignParams(), fused: np.ndarray | None = None) -> Assignment:
    """Touchpoints from prototype similarities S (n, k); `fused` (few-shot scores in log space)
    ranks the touchpoints and gives the confidence when present, S still decides "none"."""
    n = S.shape[0]
    if n == 0 or S.shape[1] == 0:
        empty = np.zeros(0, np.int64)
        return Assignment(empty, np.zeros(0), empty, np.zeros(0), np.zeros(0))
    P = softmax(S, params.temperature) if fused is None else softmax(fused, 1.0)
    rank_by = S if fused is None else fused
    order = np.argsort(-rank_by, axis=1, kind="stable")
    rows = np.arange(n)
    top, runner = order[:, 0], order[:, 1] if S.shape[1] > 1 else np.full(n, -1)
    gap = S - S.mean(1, keepdims=True)
    best = gap[rows, top]
    fits = best >= params.threshold
    first = np.where(fits, top, -1)
    first_conf = np.where(fits, P[rows, top], 0.0)
    if S.shape[1] > 1:
        s2 = gap[rows, runner]
        two = fits & (s2 >= params.threshold) & (S[rows, top] - S[rows, runner] <= params.second_margin)
        second = np.where(two, runner, -1)
        second_conf = np.where(two, P[rows, runner], 0.0)
    else:
        second, second_conf = np.full(n, -1), np.zeros(n)
    return Assignment(first.astype(np.int64), first_conf, second.astype(np.int64), second_conf, best)


def predict_top1(S: np.ndarray) -> np.ndarray:
    """The best touchpoint per row, ignoring the threshold (for accuracy measurements)."""
    return np.argmax(S, axis=1)
