"""Emerging and spiking keys: the latest complete period against a baseline of earlier periods.

The test compares the key's share of all documents, so a busy week does not look like a
spike: given the x mentions in the tested period (of n documents) and xb mentions in the
baseline (of nb), under "same share" x follows Binomial(x + xb, n / (n + nb)) (the exact
conditional test for two Poisson rates with exposure n and nb). Real feedback varies more
from week to week than a binomial does, so when the baseline periods themselves scatter
more than binomially (Pearson dispersion phi > 1), a normal test with phi times the variance
is also run and the larger p-value kept. P-values across keys of one run are adjusted by
Benjamini-Hochberg (false discovery rate); only keys with at least `min_count` mentions are
tested. A spike needs q <= alpha and a share at least (1 + min_growth) times the baseline
share; a key is new when it has no mention in the baseline and at least `min_count` now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone

from ..errors import UsageError
from .asof import resolve_as_of
from .periods import period_of
from .series import KeySeries, TrendTable, trends

DEFAULTS = {"baseline": 8, "alpha": 0.05, "min_count": 5, "min_growth": 0.5}
MAX_BASELINE = 104
MIN_BASELINE_PERIODS = 2  # periods with documents; fewer and nothing is tested


@dataclass
class DetectSettings:
    baseline: int = DEFAULTS["baseline"]
    alpha: float = DEFAULTS["alpha"]
    min_count: int = DEFAULTS["min_count"]
    min_growth: float = DEFAULTS["min_growth"]

    def check(self) -> DetectSettings:
        if not 1 <= self.baseline <= MAX_BASELINE:
            raise UsageError("E908", f"baseline must be 1 to {MAX_BASELINE} periods, not {self.baseline}.", "The default is 8.")
        if not 0 < self.alpha < 1:
            raise UsageError("E908", f"alpha must be between 0 and 1, not {self.alpha}.", "The default is 0.05.")
        if self.min_count < 1:
            raise UsageError("E908", f"min_count must be at least 1, not {self.min_count}.", "The default is 5.")
        if self.min_growth < 0:
            raise UsageError("E908", f"min_growth must be 0 or more, not {self.min_growth}.", "0.5 means +50% share.")
        return self


def dispersion(volumes: list[int], totals: list[int]) -> float:
    """Pearson chi-square / df of baseline periods around their pooled share; at least 1."""
    pairs = [(x, n) for x, n in zip(volumes, totals) if n > 0]
    xb, nb = sum(x for x, _ in pairs), sum(n for _, n in pairs)
    if len(pairs) < 3 or xb == 0 or xb == nb:
        return 1.0
    p = xb / nb
    chi2 = sum((x - n * p) ** 2 / (n * p * (1 - p)) for x, n in pairs)
    return max(1.0, chi2 / (len(pairs) - 1))


def spike_pvalue(x: int, n: int, xb: int, nb: int, phi: float = 1.0, df: int = 0) -> float:
    """One-sided p-value of "the share x/n is above the baseline share xb/nb".

    `phi` and `df`: the baseline's dispersion and its degrees of freedom (periods - 1); the
    dispersion-scaled statistic is read on Student's t with `df`, since phi is itself
    estimated from a handful of periods.
    """
    if x == 0 or n == 0 or nb == 0:
        return 1.0
    from scipy.stats import binomtest, t as student_t  # here: scipy.stats costs ~0.5 s to import

    p = binomtest(x, x + xb, n / (n + nb), alternative="greater").pvalue
    p0 = xb / nb
    if phi > 1.0 and df >= 1 and 0 < p0 < 1:
        sd = math.sqrt(phi * n * p0 * (1 - p0) * (1 + n / nb))
        p = max(p, float(student_t.sf((x - n * p0) / sd, df)))
    return float(p)


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Adjusted p-values (q) controlling the false discovery rate across one run's tests."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    q, running = [1.0] * m, 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        q[i] = min(1.0, running)
    return q


def tested_index(table: TrendTable, period: str | None = None, as_of: date | None = None) -> int | None:
    """The period to test: `period` by label, else the latest one that has ended by `as_of` (default today, UTC)."""
    if not table.periods:
        return None
    if period is not None:
        labels = [p.label for p in table.periods]
        if period not in labels:
            raise UsageError("E909", f"no period {period!r} in the data.", f"Periods run from {labels[0]} to {labels[-1]}.")
        return labels.index(period)
    as_of = as_of or datetime.now(timezone.utc).date()
    for i in range(len(table.periods) - 1, -1, -1):
        if table.periods[i].end <= as_of:
            return i
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b - 1


def detect(
    table: TrendTable,
    settings: DetectSettings | None = None,
    *,
    period: str | None = None,
    as_of: date | None = None,
) -> dict:
    """Test every key of `table` in one period against the `baseline` periods before it.

    Returns {"period", "baseline_periods", "settings", "findings": [...], "flagged": [...]};
    each finding has the metrics alert rules use (volume, share, growth, p_value, q_value,
    significant, new, net_sentiment...). Pure: no database access.
    """
    s = (settings or DetectSettings()).check()
    i = tested_index(table, period, as_of)
    out = {"dimension": table.dimension, "granularity": table.granularity, "period": None, "baseline_periods": [],
           "settings": vars(s).copy() | {"test": "conditional binomial + dispersion, Benjamini-Hochberg"},
           "findings": [], "flagged": [], "note": None}
    if i is None:
        out["note"] = "no complete period to test yet"
        return out
    lo = max(0, i - s.baseline)
    base_idx = [j for j in range(lo, i) if table.totals[j] > 0]
    out["period"] = table.periods[i].label
    out["period_start"] = table.periods[i].start.isoformat()
    out["baseline_periods"] = [table.periods[j].label for j in range(lo, i)]
    if len(base_idx) < MIN_BASELINE_PERIODS:
        out["note"] = f"not enough history: {len(base_idx)} baseline period(s) with documents, {MIN_BASELINE_PERIODS} needed"
    n = table.totals[i]
    if n == 0 and out["note"] is None:
        out["note"] = f"no documents in {out['period']}: is ingestion behind?"
    findings = [_finding(key, ks, table, i, base_idx, s) for key, ks in table.series.items()]
    _test_and_flag(findings, s)
    findings.sort(key=lambda f: (f["kind"] is None, f["q_value"] if f["q_value"] is not None else 2.0, -f["volume"]))
    out["findings"] = findings
    out["flagged"] = [f for f in findings if f["kind"]]
    return out


def _finding(key, ks: KeySeries, table: TrendTable, i: int, base_idx: list[int], s: DetectSettings) -> dict:
    """One key's figures in period `i` against the baseline periods `base_idx`, its spike test's p-value."""
    n, nb = table.totals[i], sum(table.totals[j] for j in base_idx)
    x = ks.volume[i]
    xb = sum(ks.volume[j] for j in base_idx)
    share = x / n if n else None
    base_share = xb / nb if nb else None
    mean_base = xb / len(base_idx) if base_idx else None
    bneg, bpos, blab = (sum(getattr(ks, a)[j] for j in base_idx) for a in ("neg", "pos", "labelled"))
    net, base_net = ks.net_sentiment(i), ((bpos - bneg) / blab if blab else None)
    f = {
        "key": key,
        "label": ks.label,
        "status": ks.status,
        "period": table.periods[i].label,
        "volume": x,
        "total": n,
        "share": share,
        "baseline_volume": xb,
        "baseline_mean_volume": mean_base,
        "baseline_total": nb,
        "baseline_share": base_share,
        "growth": _ratio(share, base_share),
        "volume_growth": _ratio(x, mean_base),
        "net_sentiment": net,
        "baseline_net_sentiment": base_net,
        "net_sentiment_change": None if net is None or base_net is None else net - base_net,
        "negative_share": ks.neg[i] / ks.labelled[i] if ks.labelled[i] else None,
        "dispersion": dispersion([ks.volume[j] for j in base_idx], [table.totals[j] for j in base_idx]),
        "p_value": 1.0,
        "q_value": None,
        "tested": len(base_idx) >= MIN_BASELINE_PERIODS and x >= s.min_count,
    }
    if f["tested"]:
        f["p_value"] = spike_pvalue(x, n, xb, nb, f["dispersion"], len(base_idx) - 1)
    return f


def _test_and_flag(findings: list[dict], s: DetectSettings) -> None:
    """q-values over the tested keys (Benjamini-Hochberg); significant, new and spiking keys flagged."""
    tested = [f for f in findings if f["tested"]]
    for f, q in zip(tested, benjamini_hochberg([f["p_value"] for f in tested])):
        f["q_value"] = q
    for f in findings:
        f["significant"] = f["q_value"] is not None and f["q_value"] <= s.alpha
        f["new"] = f["tested"] and f["baseline_volume"] == 0
        grew = f["growth"] is not None and f["growth"] >= s.min_growth
        f["kind"] = "new" if f["new"] and f["significant"] else ("spike" if f["significant"] and grew else None)


def detect_in_store(
    db,
    by: str = "theme",
    period: str = "week",
    settings: DetectSettings | None = None,
    *,
    filters: dict | None = None,
    period_label: str | None = None,
    as_of: date | None = None,
    today: date | None = None,
) -> dict:
    """`detect` over the store's series, reading only the history the baseline needs.

    `as_of`: the run's "today" (the latest period over by then is tested); None: the end of
    the data (see `asof`). The result says which (`as_of`, `as_of_source`, `data_ends`,
    `open_period`, `stale_warning`).
    """
    s = (settings or DetectSettings()).check()
    when = resolve_as_of(db, as_of, today=today)
    since = None if period_label else period_of(when.day, period).shift(-(s.baseline + 2)).start
    table = trends(db, by, period, filters=filters, since=since, until=None if period_label else when.day)
    result = detect(table, s, period=period_label, as_of=when.day)
    result["skipped_undated"] = table.skipped_undated
    result.update(when.fields(period))
    return result
