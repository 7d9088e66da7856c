"""Did the fix work? Verdicts on constructed before/after data, windows, and the CLI."""

from datetime import date, timedelta

import pytest

from miner.cli.main import app
from miner.errors import UsageError
from miner.store import open_db, transaction
from miner.trends.fixcheck import fix_check
from miner.trends.fixcheck import add_periods, compare_proportions
from tests.store_builder import StoreBuilder

SHIPPED = date(2026, 9, 14)


def build(db, before_share: float, after_share: float, per_day: int = 20, neg_before: float = 0.8, neg_after: float = 0.8):
    """28 days before and after SHIPPED; the theme is in the given share of each day's documents."""
    b = StoreBuilder(db)
    with transaction(db):
        theme, other = b.theme("refund delays"), b.theme("other")
        for offset in range(-28, 28):
            day = (SHIPPED + timedelta(days=offset)).isoformat()
            share, neg = (before_share, neg_before) if offset < 0 else (after_share, neg_after)
            k = round(per_day * share)
            n_neg = round(k * neg)
            for i in range(per_day):
                if i < k:
                    b.doc(day, [{"theme": theme, "sentiment": "neg" if i < n_neg else "pos"}])
                else:
                    b.doc(day, [other])
    return theme


def test_significant_drop(db):
    theme = build(db, 0.20, 0.05)
    r = fix_check(db, theme, SHIPPED)
    assert r["verdict"] == "significant drop"
    assert r["before"]["documents"] == 560 and r["after"]["documents"] == 560
    assert r["before"]["mentions"] == 112 and r["after"]["mentions"] == 28
    assert r["share_test"]["p_value"] < 1e-6 and r["share_test"]["ci95"][1] < 0
    assert r["before"]["from"] == "2026-08-17" and r["after"]["to"] == "2026-10-11"
    assert r["summary"].startswith("Significant drop: theme 'refund delays' was 20.0% of documents")


def test_no_significant_change(db):
    theme = build(db, 0.10, 0.10)
    r = fix_check(db, "Refund Delays", SHIPPED)  # by label too
    assert r["verdict"] == "no significant change" and r["negative_verdict"] == "no significant change"


def test_significant_rise_and_sentiment(db):
    theme = build(db, 0.05, 0.25, neg_before=0.2, neg_after=0.9)
    r = fix_check(db, theme, SHIPPED)
    assert r["verdict"] == "significant rise" and r["negative_verdict"] == "significant rise"


def test_not_enough_data_and_window(db):
    theme = build(db, 0.05, 0.05, per_day=4)  # 0 mentions a day after rounding
    r = fix_check(db, theme, SHIPPED, window=1)
    assert r["verdict"] == "not enough data"
    r2 = fix_check(db, theme, SHIPPED + timedelta(days=20), window=2)  # after window runs past the data
    assert any("not over yet" in n for n in r2["notes"])


def test_errors(db):
    build(db, 0.1, 0.1)
    with pytest.raises(UsageError, match="E904"):
        fix_check(db, "no such theme", SHIPPED)
    with pytest.raises(UsageError, match="E911"):
        fix_check(db, 1, SHIPPED, window=0)


def test_merged_theme_counts_in_its_target(db):
    b = StoreBuilder(db)
    target = b.theme("billing")
    old = b.theme("old billing", merged_into=target, status="merged")
    for d in range(-10, 10):
        b.doc((SHIPPED + timedelta(days=d)).isoformat(), [old if d < 0 else None])
    r = fix_check(db, old, SHIPPED, window=2)
    assert r["theme"] == target and r["before"]["mentions"] == 10 and r["verdict"] == "significant drop"


def test_month_arithmetic_and_proportions():
    assert add_periods(date(2026, 1, 31), 1, "month") == date(2026, 2, 28)
    assert add_periods(date(2026, 3, 15), -3, "month") == date(2025, 12, 15)
    assert add_periods(date(2026, 3, 15), -2, "week") == date(2026, 3, 1)
    small = compare_proportions(1, 10, 6, 10)
    assert small["test"] == "fisher exact" and 0.05 < small["p_value"] < 0.1
    assert compare_proportions(0, 0, 1, 5)["p_value"] is None


def test_cli(runner, tmp_path):
    path = tmp_path / "m.db"
    theme = build(open_db(path), 0.2, 0.05)
    out = runner.invoke(app, ["trends", "fix", "--db", str(path), "--theme", str(theme), "--shipped", "2026-09-14"])
    assert out.exit_code == 0 and out.stdout.startswith("Significant drop") and "negative share" in out.stdout
    assert runner.invoke(app, ["trends", "fix", "--db", str(path), "--theme", "1", "--shipped", "14/09/2026"]).exit_code == 2
    em = runner.invoke(app, ["trends", "emerging", "--db", str(path), "--as-of", "2026-10-12", "--all"])
    assert em.exit_code == 0 and "2026-W41" in em.stdout
