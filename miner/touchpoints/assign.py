"""Touchpoint assignment as pure functions: vectors in, touchpoints out (no store access).

A **document** gets its main touchpoint from its whole text, a **segment** from its own text
and its document's (a short clause, "and nobody called back", says little alone). Each step
was measured on four labelled sets (bench/bench_touchpoints.py, docs/benchmarks.md):

1. **Zero-shot** (`zero_shot_scores`): cosine of a text to each touchpoint's prototype (the
   mean of its "label: description" and example phrases, e5 `query:` form on both sides),
   standardised per text. Where the taxonomy names lexicon concepts (the default journey
   does), the concept evidence is added: the text is compared with each concept's phrases *in
   its own language* (`ConceptSpace.scores`), and a touchpoint takes its best concept.
2. **Few-shot** (`fit_few_shot`): a logistic regression on the labelled examples (and people's
   corrections) in the aligned space (below), fused with the zero-shot scores. How much the
   examples count is chosen on held-out folds of the examples themselves, among "zero-shot
   only" up to "examples only", so examples are used only where they beat the zero-shot
   scores on examples the model did not see. The same folds give the temperature that turns
   scores into probabilities.
3. **Alignment** (`Alignment`): every language's mean removed (e5 places texts of one
   language together before texts of one topic), then the concept lexicon's discriminant
   projection beside the centred vector when several languages are present.
4. **Neighbours** (`smooth`): each document's scores are blended with those of its nearest
   documents in the aligned space (its projected part where there is one), across languages: ten complaints about the same thing get
   the same touchpoint even where one of them, alone, is ambiguous. Corrected documents keep
   their label and pass it to their neighbours.
5. **Decision** (`decide`): scores of a text about nothing in particular (its cosines to the
   touchpoints spread less than 0.8 of the store's median) are shrunk (`damp_flat`);
   probabilities = softmax(scores / temperature); the best
   touchpoint when its probability reaches `min_confidence`, else none, with the reason: the
   runner-up comes within `second_ratio` of the best and the two hold 1.5 times
   `min_confidence` ("ambiguous": two touchpoints share the text), or no touchpoint stands out
   ("no_fit"). A segment
   gets a second touchpoint when that one also reaches `min_confidence` and half the first's
   probability.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

# Reasons a text has no touchpoint (stored in document_touchpoints / touchpoint_abstentions).
AMBIGUOUS, NO_FIT, HUMAN_NONE = "ambiguous", "no_fit", "corrected_to_none"
FUSION_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, -1.0)  # weight of the examples' scores; -1: the examples alone
MIN_PER_LANGUAGE = 5  # a language's own mean is used from this many texts; fewer: the overall mean
MULTILINGUAL_MIN = 20  # the projection applies where two or more languages have this many documents


@dataclass(frozen=True)
class AssignParams:
    min_confidence: float = 0.25  # probability under which a text gets no touchpoint (chosen on the dev halves: docs/touchpoints.md)
    concept_weight: float = 1.0  # weight of the concept evidence beside the taxonomy's own phrases
    neighbours: int = 5  # documents each document is compared with
    smoothing: float = 0.5  # share of a document's scores that comes from its neighbours
    smoothing_rounds: int = 3
    max_reference: int = 3000  # above this many documents, neighbours are sought among an even sample this large
    segment_context: float = 0.5  # share of a segment's scores that comes from its document
    temperature: float = 0.6  # zero-shot: softmax(scores / temperature), fitted on the dev halves of four labelled sets
    second_ratio: float = 0.5  # a second touchpoint needs this share of the first's probability
    flat_share: float = 0.8  # a text whose cosines spread less than this share of the store's median is damped (nothing stands out)
    min_smooth: int = 30  # fewer documents than this: no neighbours (too few to lean on)
    lr_c: float = 10.0  # inverse regularisation of the few-shot logistic regression
    folds: int = 5

    def to_dict(self) -> dict:
        return asdict(self)


def normalise(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=-1, keepdims=True), 1e-12)


def standardise_rows(S: np.ndarray) -> np.ndarray:
    """Each row to mean 0, standard deviation 1: what a text prefers, not how close it sits overall."""
    S = np.asarray(S, dtype=np.float32)
    if S.size == 0:
        return S
    return (S - S.mean(1, keepdims=True)) / (S.std(1, keepdims=True) + 1e-6)


def softmax(Z: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(1, keepdims=True)


def prototypes(vectors: np.ndarray, owner: np.ndarray, k: int) -> np.ndarray:
    """(k, d): the normalised mean of each touchpoint's phrase vectors (description and examples)."""
    V = normalise(vectors)
    owner = np.asarray(owner, dtype=np.int64)
    out = np.zeros((k, V.shape[1]), np.float32)
    for i in range(k):
        rows = owner == i
        if not rows.any():
            raise ValueError(f"touchpoint {i} has no phrases")
        out[i] = V[rows].mean(0)
    return normalise(out)


@dataclass
class Alignment:
    """Per-language centring, and the concept projection where the data is multilingual."""

    langs: list[str]
    means: np.ndarray  # (L, d)
    overall: np.ndarray  # (d,) for languages with too few texts
    proj: np.ndarray  # (d, p); p = 0: centring only

    @classmethod
    def fit(cls, X: np.ndarray, langs: list[str], proj: np.ndarray | None) -> Alignment:
        X = np.asarray(X, np.float32)
        d = X.shape[1]
        overall = X.mean(0) if len(X) else np.zeros(d, np.float32)
        counts: dict[str, int] = {}
        for lang in langs:
            counts[lang] = counts.get(lang, 0) + 1
        keep = sorted(lang for lang, n in counts.items() if n >= MIN_PER_LANGUAGE)
        arr = np.asarray(langs, dtype=object)
        means = np.stack([X[arr == lang].mean(0) for lang in keep]) if keep else np.zeros((0, d), np.float32)
        big = sum(1 for n in counts.values() if n >= MULTILINGUAL_MIN)
        use = proj if proj is not None and proj.size and big >= 2 else np.zeros((d, 0), np.float32)
        return cls(keep, means.astype(np.float32), overall.astype(np.float32), use.astype(np.float32))

    @property
    def projected(self) -> bool:
        return self.proj.shape[1] > 0

    def centre_of(self, langs: list[str]) -> np.ndarray:
        index = {lang: i for i, lang in enumerate(self.langs)}
        rows = [index.get(lang, -1) for lang in langs]
        table = np.vstack([self.means, self.overall[None, :]])
        return table[rows]

    def apply(self, X: np.ndarray, langs: list[str]) -> np.ndarray:
        if len(X) == 0:
            return np.zeros((0, X.shape[1] + self.proj.shape[1]), np.float32)
        C = normalise(np.asarray(X, np.float32) - self.centre_of(langs))
        if not self.projected:
            return C
        return normalise(np.hstack([normalise(C @ self.proj), C]))

    def for_neighbours(self, A: np.ndarray) -> np.ndarray:
        """What neighbours are sought in: the projected part alone where there is one (64
        dimensions instead of 448: as good on xling_dev and the demo, bench/bench_touchpoints.py)."""
        return normalise(A[:, : self.proj.shape[1]]) if self.projected else A

    def data_means(self) -> dict[str, np.ndarray]:
        return dict(zip(self.langs, self.means))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}langs": np.array(self.langs, dtype=str), f"{prefix}means": self.means,
                f"{prefix}overall": self.overall, f"{prefix}proj": self.proj}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str) -> Alignment:
        return cls([str(x) for x in a[f"{prefix}langs"]], a[f"{prefix}means"].astype(np.float32),
                   a[f"{prefix}overall"].astype(np.float32), a[f"{prefix}proj"].astype(np.float32))


class ConceptEvidence:
    """The concepts a taxonomy names, as evidence for its touchpoints: `space` is a concept space
    (miner.concepts.space.ConceptSpace) holding those concepts only; `link[c]` the touchpoint of
    concept c."""

    def __init__(self, space, link: np.ndarray):
        self.space = space
        self.link = np.asarray(link, dtype=np.int64)

    def touchpoint_scores(self, X: np.ndarray, langs: list[str], data_means: dict[str, np.ndarray], k: int,
                          fallback: np.ndarray | None = None) -> np.ndarray:
        """(n, k): per touchpoint, its best concept's standardised similarity; touchpoints without
        concepts get the row's lowest value (no evidence for them)."""
        Z = self.space.scores(np.asarray(X, np.float32), list(langs), data_means, fallback)
        out = np.full((len(X), k), np.nan, np.float32)
        for t in range(k):
            cols = np.flatnonzero(self.link == t)
            if len(cols):
                out[:, t] = Z[:, cols].max(1)
        low = np.nanmin(out, axis=1, keepdims=True) if len(X) else np.zeros((0, 1), np.float32)
        return np.where(np.isnan(out), low, out)


def spread(cosines: np.ndarray) -> np.ndarray:
    """How much a text's cosines to the touchpoints differ (their standard deviation): small
    when the text is about none of them in particular."""
    if len(cosines) == 0:
        return np.zeros(0, np.float32)
    return cosines.std(1)


def damp_flat(S: np.ndarray, spreads: np.ndarray, reference: float, share: float) -> np.ndarray:
    """Scores of texts whose cosines spread less than `share` of the `reference` spread, shrunk
    in proportion: standardising each text hides that nothing stood out; this puts it back."""
    if reference <= 0 or share <= 0 or len(S) == 0:
        return S
    return S * np.minimum(1.0, spreads / (share * reference))[:, None]


def zero_shot_scores(
    X: np.ndarray, protos: np.ndarray, *, evidence: ConceptEvidence | None = None, langs: list[str] | None = None,
    data_means: dict[str, np.ndarray] | None = None, concept_weight: float = 1.0, cosines: np.ndarray | None = None,
    fallback_mean: np.ndarray | None = None,
) -> np.ndarray:
    """(n, k) standardised scores of rows of X (raw, L2-normalised vectors) for each touchpoint
    (`cosines`: X @ protos.T when the caller has it)."""
    if len(X) == 0:
        return np.zeros((0, len(protos)), np.float32)
    S = standardise_rows(X @ protos.T if cosines is None else cosines)
    if evidence is not None and concept_weight > 0:
        T = evidence.touchpoint_scores(X, langs or ["und"] * len(X), data_means or {}, len(protos), fallback_mean)
        S = standardise_rows(S + concept_weight * standardise_rows(T))
    return S


def fuse(logits: np.ndarray, zero: np.ndarray, weight: float, scale: float = 0.0) -> np.ndarray:
    """Few-shot and zero-shot scores together: `weight` times the examples' logits (centred per
    text, divided by `scale`, their typical spread on the examples, so that a text unlike every
    example keeps small ones and its zero-shot scores), plus the zero-shot scores; weight -1:
    the examples alone. Standardised."""
    if weight < 0:
        return standardise_rows(logits)
    L = logits - logits.mean(1, keepdims=True)
    L = L / scale if scale > 0 else standardise_rows(L)
    return standardise_rows(weight * L + zero)


def logit_scale(logits: np.ndarray) -> float:
    """The typical spread of the logits across touchpoints (median over texts)."""
    return float(np.median(logits.std(1))) if len(logits) else 0.0


@dataclass
class FewShot:
    """A logistic regression on aligned example vectors and how it joins the zero-shot scores."""

    coef: np.ndarray  # (k, f)
    intercept: np.ndarray  # (k,)
    weight: float  # chosen on held-out folds (FUSION_WEIGHTS)
    temperature: float  # chosen on held-out folds
    scale: float = 0.0  # the logits' typical spread on the examples
    report: dict = field(default_factory=dict)

    def logits(self, F: np.ndarray) -> np.ndarray:
        return F @ self.coef.T + self.intercept

    def scores(self, F: np.ndarray, zero: np.ndarray) -> np.ndarray:
        return fuse(self.logits(F), zero, self.weight, self.scale) if self.weight != 0 else zero

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept, "weight": np.array(self.weight),
                "temperature": np.array(self.temperature), "scale": np.array(self.scale)}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> FewShot:
        return cls(a["coef"].astype(np.float32), a["intercept"].astype(np.float32), float(a["weight"]), float(a["temperature"]),
                   float(a["scale"]))


def _logistic(F: np.ndarray, y: np.ndarray, k: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression; touchpoints without examples get a very low intercept
    (only the zero-shot part can give them)."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((k, F.shape[1]), np.float32)
    intercept = np.full(k, -30.0, np.float32)
    classes = np.unique(y)
    if len(classes) == 1:
        intercept[classes[0]] = 0.0
        return coef, intercept
    clf = LogisticRegression(C=c, max_iter=3000).fit(F, y)
    if len(clf.classes_) == 2:  # sklearn's binary case: one row of coefficients
        coef[clf.classes_[1]], intercept[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
        intercept[clf.classes_[0]] = 0.0
    else:
        coef[clf.classes_], intercept[clf.classes_] = clf.coef_, clf.intercept_
    return coef, intercept


def fit_temperature(S: np.ndarray, y: np.ndarray) -> float:
    """The temperature that gives held-out texts the best log-likelihood of their label."""
    best, best_nll = 1.0, math.inf
    rows = np.arange(len(y))
    for t in np.geomspace(0.1, 3.0, 25):
        P = softmax(S / t)
        nll = float(-np.log(P[rows, y] + 1e-9).mean())
        if nll < best_nll - 1e-9:
            best, best_nll = float(t), nll
    return best


def fit_few_shot(F: np.ndarray, y: np.ndarray, zero: np.ndarray, k: int, params: AssignParams = AssignParams()) -> FewShot:
    """The few-shot model from aligned example features F, their touchpoints y and their
    zero-shot scores; weight and temperature chosen on stratified held-out folds."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y, np.int64)
    counts = np.bincount(y, minlength=k)
    present = counts[counts > 0]
    # A touchpoint with a single example (a correction) always trains and is never held out.
    tested = counts[y] >= 2
    n_folds = int(min(params.folds, counts[counts >= 2].min())) if (counts >= 2).any() else 0
    held = {w: np.zeros((len(y), k), np.float32) for w in FUSION_WEIGHTS}
    if len(present) >= 2 and n_folds >= 2 and len(set(y[tested].tolist())) >= 2:
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=0)
        always = np.flatnonzero(~tested)
        rows = np.flatnonzero(tested)
        for train, test in folds.split(F[rows], y[rows]):
            train, test = np.concatenate([rows[train], always]), rows[test]
            coef, intercept = _logistic(F[train], y[train], k, params.lr_c)
            L = F[test] @ coef.T + intercept
            scale = logit_scale(F[train] @ coef.T + intercept)
            for w in FUSION_WEIGHTS:
                held[w][test] = fuse(L, zero[test], w, scale) if w != 0 else zero[test]
        accuracy = {w: float((held[w][tested].argmax(1) == y[tested]).mean()) for w in FUSION_WEIGHTS}
        best = max(accuracy.values())
        weight = next(w for w in FUSION_WEIGHTS if accuracy[w] >= best - 1e-9)  # ties: the one nearest zero-shot
    else:
        accuracy, weight = {0.0: float((zero.argmax(1) == y).mean())}, 0.0
        held[0.0] = zero
    temperature = fit_temperature(held[weight][tested], y[tested]) if tested.any() else params.temperature
    coef, intercept = _logistic(F, y, k, params.lr_c) if len(present) >= 2 else (np.zeros((k, F.shape[1]), np.float32), np.zeros(k, np.float32))
    scale = logit_scale(F @ coef.T + intercept)
    per_touchpoint = {}
    for t in np.flatnonzero(counts >= 2):
        rows = y == t
        per_touchpoint[int(t)] = {"examples": int(counts[t]), "zero_shot": float((held[0.0][rows].argmax(1) == t).mean()),
                                  "chosen": float((held[weight][rows].argmax(1) == t).mean())}
    report = {"folds": n_folds, "held_out_accuracy": {("examples only" if w < 0 else str(w)): round(a, 4) for w, a in accuracy.items()},
              "weight": weight, "temperature": round(temperature, 4), "per_touchpoint": per_touchpoint}
    return FewShot(coef, intercept, weight, temperature, scale, report)


def neighbours(A: np.ndarray, k: int, max_reference: int, block: int = 2048) -> np.ndarray:
    """(n, k) indices of each row's most similar other rows (cosine; rows are normalised). Above
    `max_reference` rows, neighbours are sought among an evenly spaced sample of that many."""
    n = len(A)
    ref = np.arange(n) if n <= max_reference else np.linspace(0, n - 1, max_reference).round().astype(np.int64)
    k = min(k, len(ref) - 1)
    if k < 1:
        return np.zeros((n, 0), np.int64)
    R = np.ascontiguousarray(A[ref])
    is_ref = np.full(n, -1, np.int64)
    is_ref[ref] = np.arange(len(ref))
    out = np.zeros((n, k), np.int64)
    for start in range(0, n, block):
        rows = np.arange(start, min(n, start + block))
        S = A[rows] @ R.T
        own = is_ref[rows]
        mine = own >= 0
        S[np.flatnonzero(mine), own[mine]] = -np.inf  # a document is not its own neighbour
        top = np.argpartition(S, S.shape[1] - k, axis=1)[:, -k:]
        out[rows] = ref[top]
    return out


def smooth(F: np.ndarray, A: np.ndarray, params: AssignParams, clamp: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Blend each row's scores with its neighbours' (rows of A, aligned vectors); rows in
    `clamp` (corrected documents) keep the given scores and pass them on."""
    if len(F) < max(2, params.min_smooth) or params.neighbours < 1 or params.smoothing <= 0:
        return F
    nb = neighbours(A, params.neighbours, params.max_reference)
    if nb.shape[1] == 0:
        return F
    base = F.copy()
    rows = np.array(sorted(clamp), np.int64) if clamp else np.zeros(0, np.int64)
    if len(rows):
        base[rows] = np.stack([clamp[int(r)] for r in rows])
    P = base.copy()
    for _ in range(params.smoothing_rounds):
        P = (1 - params.smoothing) * base + params.smoothing * P[nb].mean(1)
        P[rows] = base[rows]
    return standardise_rows(P)


def label_scores(label: int, k: int) -> np.ndarray:
    """Standardised scores of a text a person labelled: its touchpoint far ahead of the others."""
    row = np.zeros(k, np.float32)
    row[label] = 1.0
    return standardise_rows(row[None, :])[0]


@dataclass
class Decision:
    """Per text: up to two (touchpoint index, probability) pairs; index -1 = none, with a reason."""

    first: np.ndarray
    first_p: np.ndarray
    second: np.ndarray
    second_p: np.ndarray
    best: np.ndarray  # the most probable touchpoint, kept even when none is given
    best_p: np.ndarray
    reason: list[str | None]


def decide(S: np.ndarray, temperature: float, min_confidence: float, second_ratio: float = 0.5, second: bool = True) -> Decision:
    n, k = S.shape
    if n == 0 or k == 0:
        e = np.zeros(0, np.int64)
        return Decision(e, np.zeros(0), e, np.zeros(0), e, np.zeros(0), [])
    P = softmax(S / max(temperature, 1e-6))
    order = np.argsort(-P, axis=1, kind="stable")
    rows = np.arange(n)
    top = order[:, 0]
    p1 = P[rows, top]
    runner = order[:, 1] if k > 1 else np.full(n, -1)
    p2 = P[rows, runner] if k > 1 else np.zeros(n)
    fits = p1 >= min_confidence
    # Why none: the runner-up comes close to the best (two touchpoints share the text), or not.
    reason = [None if f else (AMBIGUOUS if b >= second_ratio * a and a + b >= 1.5 * min_confidence else NO_FIT)
              for f, a, b in zip(fits, p1, p2)]
    first = np.where(fits, top, -1)
    two = fits & second & (k > 1) & (p2 >= min_confidence) & (p2 >= second_ratio * p1)
    return Decision(first.astype(np.int64), np.where(fits, p1, 0.0), np.where(two, runner, -1).astype(np.int64),
                    np.where(two, p2, 0.0), top.astype(np.int64), p1, reason)
