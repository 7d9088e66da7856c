"""Impact of a theme (or touchpoint) on a score: pure arithmetic, no database.

Every supported figure is the mean of a per-response value:

- `nps`: +100 for a promoter (9-10), -100 for a detractor (0-6), 0 for a passive (7-8); the
  mean is the Net Promoter Score in points (-100..100).
- `csat`: 100 for a 4 or 5 on a 1-5 scale, else 0; the mean is the CSAT in percent.
- `stars` and `mean`: the score itself; the mean is the average rating.

Impact = figure(all responses) - figure(responses without the theme). Negative: the theme
drags the figure down. With p = n_with / n, m_w and m_o the means with and without the
theme, impact = p * (m_w - m_o): a theme hurts as much as it is frequent and as much as
its responses differ from the others.

Confidence interval: the delta method on that product, counting the randomness of p as
well as of both means:
    Var = p^2 (s_w^2 / n_w + s_o^2 / n_o) + (m_w - m_o)^2 p (1 - p) / n
and a normal interval. `bootstrap_ci` (seeded, resampling responses) gives the same
interval within sampling error; the tests compare them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

SCORE_KINDS = ("nps", "csat", "stars", "mean")
UNITS = {"nps": "NPS points", "csat": "CSAT points (% satisfied)", "stars": "stars", "mean": "score units"}
MIN_WITH = 5  # scored responses with the theme; fewer and no impact is given
MIN_WITHOUT = 5
Z95 = 1.959963984540054


def check_kind(kind: str) -> str:
    if kind not in SCORE_KINDS:
        raise UsageError("E971", f"unknown score kind {kind!r}.", f"Choose one of: {', '.join(SCORE_KINDS)}.")
    return kind


def response_values(kind: str, scores) -> np.ndarray:
    """The per-response values whose mean is the figure (see the module docstring)."""
    s = np.asarray(scores, dtype=float)
    if kind == "nps":
        return np.where(s >= 9, 100.0, np.where(s <= 6, -100.0, 0.0))
    if kind == "csat":
        return np.where(s >= 4, 100.0, 0.0)
    check_kind(kind)
    return s


def figure(kind: str, scores) -> float | None:
    v = response_values(kind, scores)
    return float(v.mean()) if v.size else None


def detect_kind(column: str | None, values) -> str:
    """The figure a source's score column most likely holds: by its name, else by its values.

    NPS columns hold whole numbers 0-10; 1-5 ratings are read as stars (their mean) unless the
    column is called CSAT/satisfaction; anything else is averaged.
    """
    name = (column or "").casefold()
    v = np.asarray([x for x in values if x is not None], dtype=float)
    whole = v.size > 0 and bool(np.all(v == np.round(v)))
    in_1_5 = v.size > 0 and whole and v.min() >= 1 and v.max() <= 5
    in_0_10 = v.size > 0 and whole and v.min() >= 0 and v.max() <= 10
    if ("nps" in name or "recommend" in name) and (in_0_10 or v.size == 0):
        return "nps"
    if ("csat" in name or "satisf" in name) and (in_1_5 or v.size == 0):
        return "csat"
    if any(k in name for k in ("star", "rating")) and (in_1_5 or v.size == 0):
        return "stars"
    if in_1_5:
        return "stars"
    if in_0_10 and (v.max() > 5 or v.min() == 0):
        return "nps"
    return "mean"


@dataclass
class Impact:
    kind: str
    n: int  # scored responses in all
    n_with: int
    figure_all: float | None
    figure_without: float | None
    figure_with: float | None
    impact: float | None  # figure_all - figure_without; None when too few responses
    ci95: tuple[float, float] | None
    method: str = "delta"
    note: str | None = None

    def to_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {
            "kind": self.kind,
            "unit": UNITS[self.kind],
            "responses": self.n,
            "responses_with": self.n_with,
            "figure_all": r(self.figure_all),
            "figure_with": r(self.figure_with),
            "figure_without": r(self.figure_without),
            "impact": r(self.impact),
            "ci95": None if self.ci95 is None else [r(self.ci95[0]), r(self.ci95[1])],
            "ci_method": self.method,
            "note": self.note,
        }


def _delta_ci(v: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    n, n_w = v.size, int(mask.sum())
    w, o = v[mask], v[~mask]
    p = n_w / n
    diff = float(w.mean() - o.mean())
    var = p * p * (w.var(ddof=1) / n_w + o.var(ddof=1) / (n - n_w)) + diff * diff * p * (1 - p) / n
    est = p * diff
    half = Z95 * math.sqrt(max(var, 0.0))
    return est, est - half, est + half


def bootstrap_ci(kind: str, scores, mask, *, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of the impact, resampling responses with replacement (seeded)."""
    v = response_values(kind, scores)
    m = np.asarray(mask, dtype=bool)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    vv, mm = v[idx], m[idx]
    n_w = mm.sum(axis=1)
    total = vv.sum(axis=1)
    with_sum = (vv * mm).sum(axis=1)
    ok = (n_w > 0) & (n_w < v.size)
    est = total[ok] / v.size - (total[ok] - with_sum[ok]) / (v.size - n_w[ok])
    lo, hi = np.percentile(est, [2.5, 97.5])
    return float(lo), float(hi)


def impact(
    kind: str,
    scores,
    mask,
    *,
    min_with: int = MIN_WITH,
    min_without: int = MIN_WITHOUT,
    method: str = "delta",
    seed: int = 0,
) -> Impact:
    """Impact of the responses flagged by `mask` on the figure of all `scores`."""
    check_kind(kind)
    v = response_values(kind, scores)
    m = np.asarray(mask, dtype=bool)
    if m.shape != v.shape:
        raise ValueError("scores and mask differ in length")
    n, n_w = int(v.size), int(m.sum())
    fig_all = float(v.mean()) if n else None
    fig_with = float(v[m].mean()) if n_w else None
    fig_without = float(v[~m].mean()) if n - n_w else None
    if n_w < min_with or n - n_w < min_without:
        note = f"too few scored responses ({n_w} with, {n - n_w} without; {min_with} and {min_without} needed)"
        return Impact(kind, n, n_w, fig_all, fig_without, fig_with, None, None, method, note)
    est, lo, hi = _delta_ci(v, m)
    if method == "bootstrap":
        lo, hi = bootstrap_ci(kind, scores, m, seed=seed)
    elif method != "delta":
        raise UsageError("E972", f"unknown interval method {method!r}.", "Choose delta or bootstrap.")
    return Impact(kind, n, n_w, fig_all, fig_without, fig_with, est, (lo, hi), method)
