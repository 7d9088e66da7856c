"""The backlog's priority: a weighted mean of four components in [0, 1], times 100.

- volume: log(1 + documents) / log(1 + the largest item's documents). Logarithmic, so an
  item twice as frequent ranks higher without burying everything else.
- negativity: the share of the item's segments with a sentiment that are negative, shrunk
  towards the share over all items with `PRIOR` pseudo-segments (3 of 3 negative is weaker
  evidence than 60 of 60).
- growth: the item's share of documents in the last 4 weeks against the 8 weeks before
  (see collect.trend); +100% or more counts 1, no growth or a decline counts 0, and so does
  a rise the share test of miner.trends.detect (conditional binomial, one-sided) does not
  find significant at `GROWTH_ALPHA`, or one with fewer than `MIN_RECENT` recent documents or
  `MIN_GROWTH_DOCUMENTS` in both windows together: noise in small weekly counts earns no points. An item with no mention before counts 1
  when its recent mentions pass the same test.
- impact: how much the item drags the score down (minus the impact, when negative),
  divided by the largest drag among the items, per score kind; several kinds are averaged
  weighted by the item's scored responses in each.

priority = 100 * sum(weight * component) / sum(weights). A component no item has (no
scores anywhere, no dates) is left out of the sum, so it neither helps nor hurts. Each item
keeps its breakdown: value, component, weight and points (100 * weight * component / sum
of weights), and the points add up to the priority.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from ..errors import UsageError

COMPONENTS = ("volume", "negativity", "growth", "impact")
DEFAULT_WEIGHTS = {c: 1.0 for c in COMPONENTS}
PRIOR = 5  # pseudo-segments of the overall negative share added to each item
MIN_RECENT = 3  # documents in the recent window for growth to count
MIN_GROWTH_DOCUMENTS = 10  # documents in both windows together before any growth is shown or counts
GROWTH_ALPHA = 0.05
MAX_WEIGHT = 1000.0


def _check(weights: dict, origin: str) -> dict[str, float]:
    out = dict(DEFAULT_WEIGHTS)
    for key, value in weights.items():
        name = str(key).strip().casefold()
        if name not in COMPONENTS:
            raise UsageError("E973", f"unknown weight {key!r} in {origin}.", f"Weights are: {', '.join(COMPONENTS)}.")
        try:
            w = float(value)
        except (TypeError, ValueError):
            raise UsageError("E973", f"weight {name}={value!r} in {origin} is not a number.", "Use e.g. volume=2,growth=0.5.") from None
        if not math.isfinite(w) or w < 0 or w > MAX_WEIGHT:
            raise UsageError("E973", f"weight {name}={value!r} in {origin} must be between 0 and {MAX_WEIGHT:g}.", "0 turns a component off.")
        out[name] = w
    if sum(out.values()) <= 0:
        raise UsageError("E973", f"all weights are 0 in {origin}.", "Give at least one component a positive weight.")
    return out


def parse_weights(spec: str | None) -> dict[str, float]:
    """`volume=1,negativity=2,...` or the path of a YAML mapping {volume: 1, ...}; missing ones stay 1."""
    if spec is None or not str(spec).strip():
        return dict(DEFAULT_WEIGHTS)
    text = str(spec).strip()
    path = Path(text)
    if text.endswith((".yaml", ".yml")) or ("=" not in text and path.exists()):
        if not path.is_file():
            raise UsageError("E974", f"no weights file {text}.", "Give a YAML file or volume=1,negativity=1,growth=1,impact=1.")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise UsageError("E974", f"{text} is not valid YAML ({type(exc).__name__}).", "Write e.g. `volume: 2` one per line.") from None
        if isinstance(data, dict) and isinstance(data.get("weights"), dict):
            data = data["weights"]
        if not isinstance(data, dict):
            raise UsageError("E974", f"{text} must hold a mapping of weights.", "Write e.g. `volume: 2` one per line.")
        return _check(data, text)
    pairs = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise UsageError("E973", f"weight {part.strip()!r} has no '='.", "Use e.g. --weights volume=1,negativity=2.")
        key, value = part.split("=", 1)
        pairs[key] = value.strip()
    return _check(pairs, "--weights")


def shrunk_share(neg: int, labelled: int, prior_share: float, prior: int = PRIOR) -> float:
    return (neg + prior * prior_share) / (labelled + prior) if labelled + prior > 0 else 0.0


def growth_component(growth: float | None, recent: int, baseline: int, p_value: float | None = 0.0) -> float:
    if recent < MIN_RECENT or recent + baseline < MIN_GROWTH_DOCUMENTS or p_value is None or p_value > GROWTH_ALPHA:
        return 0.0
    if baseline == 0:
        return 1.0
    return 0.0 if growth is None else min(1.0, max(0.0, growth))


def score_items(items: list[dict], weights: dict[str, float]) -> list[dict]:
    """Add `priority` and `breakdown` to each item (dicts with the raw metrics build.py collects).

    Needs per item: documents, neg_segments, labelled_segments, growth, recent_documents,
    baseline_documents, growth_p_value (absent: taken as significant), and impacts =
    {kind: Impact dict}. Pure; items are changed in place.
    """
    if not items:
        return items
    max_docs = max(i["documents"] for i in items)
    neg_all = sum(i["neg_segments"] for i in items)
    lab_all = sum(i["labelled_segments"] for i in items)
    prior_share = neg_all / lab_all if lab_all else 0.0
    max_drag: dict[str, float] = {}
    for i in items:
        for kind, imp in i["impacts"].items():
            if imp["impact"] is not None:
                max_drag[kind] = max(max_drag.get(kind, 0.0), -imp["impact"])
    available = {
        "volume": True,
        "negativity": lab_all > 0,
        "growth": any(i["recent_documents"] or i["baseline_documents"] for i in items),
        "impact": any(v > 0 for v in max_drag.values()),
    }
    used = {c: w for c, w in weights.items() if available[c] and w > 0}
    total_w = sum(used.values())
    for i in items:
        comp = {
            "volume": math.log1p(i["documents"]) / math.log1p(max_docs) if max_docs else 0.0,
            "negativity": shrunk_share(i["neg_segments"], i["labelled_segments"], prior_share) if lab_all else 0.0,
            "growth": growth_component(i["growth"], i["recent_documents"], i["baseline_documents"], i.get("growth_p_value", 0.0)),
        }
        drag_sum, drag_n = 0.0, 0
        for kind, imp in i["impacts"].items():
            if imp["impact"] is not None and max_drag.get(kind, 0) > 0:
                drag_sum += imp["responses_with"] * max(0.0, -imp["impact"]) / max_drag[kind]
                drag_n += imp["responses_with"]
        comp["impact"] = drag_sum / drag_n if drag_n else 0.0
        values = {
            "volume": i["documents"],
            "negativity": None if not i["labelled_segments"] else round(i["neg_segments"] / i["labelled_segments"], 4),
            "growth": None if i["growth"] is None else round(i["growth"], 4),
            "impact": {k: v["impact"] for k, v in i["impacts"].items()},
        }
        breakdown, priority = {}, 0.0
        for c in COMPONENTS:
            w = used.get(c, 0.0)
            points = 100 * w * comp[c] / total_w if total_w else 0.0
            priority += points
            breakdown[c] = {
                "value": values[c],
                "component": round(comp[c], 4),
                "weight": weights.get(c, 0.0),
                "used": c in used,
                "points": round(points, 2),
            }
        i["priority"] = round(priority, 2)
        i["breakdown"] = breakdown
        i["explanation"] = " + ".join(f"{c} {breakdown[c]['points']:.1f}" for c in COMPONENTS if c in used) + f" = {i['priority']:.1f}"
    return items
