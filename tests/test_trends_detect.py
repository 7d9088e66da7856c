"""Emerging and spiking detection: spikes caught, flat series quiet, busy weeks not spikes, new themes flagged."""

from datetime import date

import numpy as np
import pytest

from miner.errors import UsageError
from miner.trends.detect import DetectSettings, benjamini_hochberg, detect, dispersion, spike_pvalue
from miner.trends.detect import tested_index as period_to_test
from miner.trends.periods import Period
from miner.trends.series import KeySeries, TrendTable, trends
from tests.store_builder import StoreBuilder

AS_OF = date(2030, 1, 1)


def table(volumes: dict, totals: list[int]) -> TrendTable:
    periods = [Period(date(2026, 1, 5), "week").shift(i) for i in range(len(totals))]
    zeros = [0] * len(totals)
    series = {k: KeySeries(k, f"theme {k}", "active", list(v), zeros, zeros, zeros) for k, v in volumes.items()}
    return TrendTable("theme", "week", periods, totals, series)


def test_spike_caught_and_flat_quiet():
    totals = [1000] * 9
    t = table({"flat": [50, 48, 53, 47, 51, 49, 52, 50, 51], "spike": [20, 22, 18, 21, 19, 20, 23, 20, 60]}, totals)
    r = detect(t, as_of=AS_OF)
    assert r["period"] == "2026-W10" and len(r["baseline_periods"]) == 8
    kinds = {f["key"]: f["kind"] for f in r["findings"]}
    assert kinds == {"flat": None, "spike": "spike"}
    spike = next(f for f in r["findings"] if f["key"] == "spike")
    assert spike["growth"] == pytest.approx(0.06 / (163 / 8000) - 1)
    assert spike["q_value"] < 1e-6 and spike["significant"]


def test_busy_week_is_not_a_spike():
    # Twice the documents in the last week and twice the mentions: the share did not move.
    t = table({"a": [30, 31, 29, 30, 30, 32, 28, 30, 61]}, [1000] * 8 + [2000])
    f = detect(t, as_of=AS_OF)["findings"][0]
    assert f["kind"] is None and f["volume_growth"] > 0.9 and abs(f["growth"]) < 0.05


def test_new_theme_flagged_and_min_count():
    t = table({"new": [0] * 8 + [12], "tiny": [0] * 8 + [3]}, [500] * 9)
    r = detect(t, as_of=AS_OF)
    by_key = {f["key"]: f for f in r["findings"]}
    assert by_key["new"]["kind"] == "new" and by_key["new"]["new"]
    assert by_key["tiny"]["kind"] is None and not by_key["tiny"]["tested"]  # under min_count


def test_small_growth_is_not_flagged_even_if_significant():
    # +20% share on a big theme is statistically clear but under min_growth (50%).
    t = table({"big": [2000] * 8 + [2400]}, [10000] * 9)
    f = detect(t, as_of=AS_OF)["findings"][0]
    assert f["significant"] and f["kind"] is None
    assert detect(t, DetectSettings(min_growth=0.1), as_of=AS_OF)["findings"][0]["kind"] == "spike"


def test_flat_random_series_rarely_alarm():
    rng = np.random.default_rng(7)
    alarms = 0
    for _ in range(40):
        totals = rng.poisson(1500, 9).tolist()
        shares = rng.uniform(0.005, 0.08, 20)
        vols = {k: [int(rng.binomial(n, p)) for n in totals] for k, p in enumerate(shares)}
        alarms += len(detect(table(vols, totals), as_of=AS_OF)["flagged"])
    assert alarms <= 3  # of 800 tested series


def test_overdispersed_baseline_needs_more():
    steady = [40, 41, 39, 40, 40, 41, 39, 40]
    wild = [20, 60, 25, 55, 30, 50, 22, 58]
    assert dispersion(steady, [1000] * 8) == 1.0
    assert dispersion(wild, [1000] * 8) > 5
    p_steady = spike_pvalue(70, 1000, sum(steady), 8000, dispersion(steady, [1000] * 8), 7)
    p_wild = spike_pvalue(70, 1000, sum(wild), 8000, dispersion(wild, [1000] * 8), 7)
    assert p_steady < 1e-4 < p_wild


def test_benjamini_hochberg():
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])  # step-up: 0.03 takes the smaller q of 0.04
    assert benjamini_hochberg([]) == []


def test_tested_period_is_the_latest_complete_one():
    t = table({"a": [1] * 3}, [10] * 3)  # weeks starting 2026-01-05, -12, -19
    assert period_to_test(t, as_of=date(2026, 1, 26)) == 2
    assert period_to_test(t, as_of=date(2026, 1, 25)) == 1  # the week of the 19th is not over on Sunday the 25th
    assert period_to_test(t, as_of=date(2026, 1, 5)) is None
    assert period_to_test(t, "2026-W02") == 0
    with pytest.raises(UsageError, match="E909"):
        period_to_test(t, "2025-W01")


def test_not_enough_history_tests_nothing():
    t = table({"a": [0, 0, 0, 0, 0, 0, 0, 10, 40]}, [0] * 7 + [100, 100])
    r = detect(t, as_of=AS_OF)
    assert "not enough history" in r["note"] and r["flagged"] == []


def test_bad_settings():
    with pytest.raises(UsageError, match="E908"):
        DetectSettings(baseline=0).check()
    with pytest.raises(UsageError, match="E908"):
        DetectSettings(alpha=1.5).check()


def test_end_to_end_from_a_store(db):
    b = StoreBuilder(db)
    steady, rising = b.theme("steady"), b.theme("rising")
    archived = b.theme("old", status="archived")
    week0 = date(2026, 6, 1)
    for w in range(9):
        day = date.fromordinal(week0.toordinal() + 7 * w).isoformat()
        for i in range(40):
            themes = [steady] if i < 10 else []
            if (w < 8 and i in (10, 11)) or (w == 8 and 10 <= i < 25):
                themes.append(rising)
            if w == 8 and i >= 30:
                themes.append(archived)
            b.doc(day, themes)
    t = trends(db, "theme", "week")
    r = detect(t, as_of=date(2026, 8, 10))
    kinds = {f["key"]: f["kind"] for f in r["findings"]}
    assert kinds[rising] == "spike" and kinds[steady] is None and kinds[archived] == "new"
