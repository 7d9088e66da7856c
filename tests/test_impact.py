"""Impact of a theme on NPS / CSAT / stars: hand-computed cases, intervals, minimum counts, scale detection."""

import numpy as np
import pytest

from miner.measures.impact import bootstrap_ci, detect_kind, figure, impact, response_values
from miner.measures.scores import load_scores
from miner.errors import UsageError
from tests.store_builder import StoreBuilder

# 12 NPS answers; the theme is in 4 of them (6, 3, 0, 5: all detractors).
NPS = [10, 9, 9, 8, 7, 6, 3, 0, 10, 9, 5, 8]
NPS_MASK = [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0]


def test_nps_by_hand():
    # all: 5 promoters (10, 9, 9, 10, 9), 4 detractors (6, 3, 0, 5), 3 passives -> (5 - 4) / 12 = 8.33
    assert figure("nps", NPS) == pytest.approx(100 / 12)
    r = impact("nps", NPS, NPS_MASK, min_with=3)
    # without the theme: 8 answers, 5 promoters, 0 detractors -> 62.5; impact 8.33 - 62.5
    assert r.figure_without == pytest.approx(62.5)
    assert r.figure_with == pytest.approx(-100.0)
    assert r.impact == pytest.approx(100 / 12 - 62.5)
    assert r.n == 12 and r.n_with == 4
    lo, hi = r.ci95
    assert lo < r.impact < hi and hi < 0  # a clear drag


def test_nps_boundaries():
    assert list(response_values("nps", [0, 6, 7, 8, 9, 10])) == [-100, -100, 0, 0, 100, 100]


def test_csat_by_hand():
    # CSAT = share of 4-5 on 1-5. All 10: 4s and 5s = 5, 4, 5, 4, 4 -> 50%.
    scores = [5, 4, 2, 1, 3, 5, 4, 4, 1, 2]
    mask = [0, 0, 1, 1, 1, 0, 0, 0, 1, 1]  # the theme's answers: 2, 1, 3, 1, 2 (none satisfied)
    assert figure("csat", scores) == pytest.approx(50.0)
    r = impact("csat", scores, mask)
    assert r.figure_without == pytest.approx(100.0)  # 5, 4, 5, 4, 4
    assert r.impact == pytest.approx(-50.0)
    # delta method: p = 0.5, both groups constant -> only the share's variance: 100^2 * .25 / 10
    half = 1.959963984540054 * np.sqrt(100**2 * 0.25 / 10)
    assert r.ci95[0] == pytest.approx(-50 - half) and r.ci95[1] == pytest.approx(-50 + half)


def test_stars_mean_by_hand():
    scores = [5, 5, 4, 1, 2, 5, 4, 1, 3, 5]
    mask = [0, 0, 0, 1, 1, 0, 0, 1, 0, 0]
    r = impact("stars", scores, mask, min_with=3)
    assert r.figure_all == pytest.approx(3.5)
    assert r.figure_without == pytest.approx(31 / 7)
    assert r.impact == pytest.approx(3.5 - 31 / 7)


def test_positive_theme_has_positive_impact():
    r = impact("nps", NPS, [1 - m for m in NPS_MASK], min_with=3, min_without=3)
    assert r.impact > 0


def test_minimum_counts_give_no_impact():
    r = impact("nps", NPS, NPS_MASK)  # 4 with the theme, 5 needed
    assert r.impact is None and r.ci95 is None and "too few" in r.note
    assert r.figure_all == pytest.approx(100 / 12)  # the figures are still reported
    r2 = impact("nps", NPS, [1] * 10 + [0, 0], min_with=3)  # 2 without
    assert r2.impact is None


def test_delta_and_bootstrap_agree_and_shrink_with_n():
    rng = np.random.default_rng(7)
    n = 800
    mask = rng.random(n) < 0.25
    scores = np.where(mask, rng.choice([0, 3, 6, 8, 9], n), rng.choice([6, 8, 9, 10, 10], n))
    d = impact("nps", scores, mask)
    b = impact("nps", scores, mask, method="bootstrap", seed=1)
    assert b.impact == d.impact
    assert abs((d.ci95[1] - d.ci95[0]) - (b.ci95[1] - b.ci95[0])) < 0.15 * (d.ci95[1] - d.ci95[0])
    assert b.ci95 == impact("nps", scores, mask, method="bootstrap", seed=1).ci95  # seeded: reproducible
    big = impact("nps", np.tile(scores, 4), np.tile(mask, 4))
    assert (big.ci95[1] - big.ci95[0]) == pytest.approx((d.ci95[1] - d.ci95[0]) / 2, rel=0.02)


def test_delta_interval_covers_the_true_impact():
    # Population: 30% have the theme; detractor-heavy with it. True impact = p * (m_with - m_without).
    rng = np.random.default_rng(3)
    with_vals, without_vals = [0, 2, 5, 7, 9], [6, 8, 9, 10, 10]
    m_w = np.mean(response_values("nps", with_vals))
    m_o = np.mean(response_values("nps", without_vals))
    truth = 0.3 * (m_w - m_o)
    hits = 0
    for _ in range(300):
        mask = rng.random(300) < 0.3
        scores = np.where(mask, rng.choice(with_vals, 300), rng.choice(without_vals, 300))
        lo, hi = impact("nps", scores, mask).ci95
        hits += lo <= truth <= hi
    assert 0.90 <= hits / 300 <= 0.99


def test_bootstrap_ci_direct():
    lo, hi = bootstrap_ci("nps", NPS, NPS_MASK, seed=0)
    assert lo < 100 / 12 - 62.5 < hi


def test_errors():
    with pytest.raises(UsageError, match="E971"):
        impact("promoters", NPS, NPS_MASK)
    with pytest.raises(UsageError, match="E972"):
        impact("nps", NPS, NPS_MASK, min_with=1, method="jackknife")


@pytest.mark.parametrize(
    "column, values, kind",
    [
        ("nps", [9, 10, 3], "nps"),
        ("likelihood_to_recommend", [0, 5, 10], "nps"),
        ("score", [0, 7, 10, 4], "nps"),  # a 0-10 scale by its values
        ("csat", [1, 5, 4], "csat"),
        ("satisfaction", [2, 3], "csat"),
        ("rating", [1, 5, 3], "stars"),
        ("stars", [4, 5], "stars"),
        ("score", [1, 2, 5], "stars"),
        ("score", [1.5, 88.0], "mean"),
        ("nps", [3.5, 120], "mean"),  # the name says NPS but the values cannot be
    ],
)
def test_detect_kind(column, values, kind):
    assert detect_kind(column, values) == kind


def test_mixed_scales_in_one_store(db):
    b = StoreBuilder(db)
    survey = db.execute(
        "INSERT INTO sources (path, name, format, status, mapping) VALUES ('s.csv', 'survey.csv', 'csv', 'done', '{\"score\": \"nps\"}')"
    ).lastrowid
    for s in (10, 9, 2):
        doc = b.doc("2026-09-01", [None], score=s)
        db.execute("UPDATE documents SET source_id = ? WHERE id = ?", [survey, doc])
    for s in (5, 1):
        b.doc("2026-09-01", [None], score=s)  # the synthetic source has no mapping: 1-5 values read as stars
    dup = b.doc("2026-09-01", [None], score=1)
    db.execute("UPDATE documents SET duplicate_of = 1 WHERE id = ?", [dup])
    sets = load_scores(db)
    assert set(sets) == {"nps", "stars"}
    assert sorted(sets["nps"].scores) == [2, 9, 10] and sets["nps"].sources == ["survey.csv"]
    assert sorted(sets["stars"].scores) == [1, 5]  # the duplicate is not a second respondent
    forced = load_scores(db, "mean")
    assert set(forced) == {"mean"} and forced["mean"].scores.size == 5
