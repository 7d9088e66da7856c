"""Accounts by revenue and satisfaction: the four groups on a toy set, fields and CSV revenue, at-risk themes."""

import json

import pytest

from miner.measures.accounts import account_groups, accounts_report, group_of, parse_revenue
from miner.errors import InputError, UsageError
from tests.store_builder import StoreBuilder

TOY = [
    {"account": "A", "revenue": 900, "satisfaction": 0.9},  # model
    {"account": "B", "revenue": 800, "satisfaction": 0.2},  # at risk
    {"account": "C", "revenue": 100, "satisfaction": 0.8},  # growth
    {"account": "D", "revenue": 50, "satisfaction": 0.1},  # dangling
    {"account": "E", "revenue": 500, "satisfaction": 0.5},  # the medians themselves: high and satisfied
    {"account": "F", "revenue": None, "satisfaction": 0.5},
]


def test_groups_by_medians():
    r = account_groups(TOY)
    assert r["revenue_threshold"] == 500 and r["satisfaction_threshold"] == 0.5
    groups = {a["account"]: a["group"] for a in r["accounts"]}
    assert groups == {"A": "model", "B": "at_risk", "C": "growth", "D": "dangling", "E": "model", "F": None}
    assert r["counts"] == {"model": 2, "at_risk": 1, "growth": 1, "dangling": 1} and r["unplaced"] == 1


def test_given_thresholds():
    r = account_groups(TOY, revenue_threshold=850, satisfaction_threshold=0.85)
    groups = {a["account"]: a["group"] for a in r["accounts"]}
    assert groups["B"] == "dangling" and groups["A"] == "model" and groups["C"] == "dangling"
    assert r["threshold_source"] == {"revenue": "given", "satisfaction": "given"}
    assert group_of(10, 0.1, 10, 0.5) == "at_risk"


@pytest.mark.parametrize("raw, value", [(1200, 1200.0), ("12,000", 12000.0), ("$12k", 12000.0), ("1.5M", 1.5e6),
                                        ("€ 300", 300.0), ("n/a", None), (None, None), ("", None), ("nan", None)])
def test_parse_revenue(raw, value):
    assert parse_revenue(raw) == value


def store_with_accounts(db):
    """Four accounts: big & happy, big & angry (billing), small & happy, small & angry."""
    b = StoreBuilder(db)
    billing, login = b.theme("double charge"), b.theme("login fails")
    plan = {"acme": (90000, [10, 9, 9], None), "globex": (120000, [2, 0, 3], billing),
            "initech": (3000, [9, 10], None), "hooli": (2000, [4, 1], login)}
    for acc, (revenue, scores, theme) in plan.items():
        for s in scores:
            doc = b.doc("2026-09-01", [{"theme": theme, "sentiment": "neg" if theme else "pos"}], score=s)
            db.execute("UPDATE documents SET meta = ? WHERE id = ?", [json.dumps({"account": acc, "arr": f"${revenue:,}"}), doc])
    b.doc("2026-09-01", [None])  # no account: ignored
    return billing, login


def test_accounts_report_from_fields(db):
    billing, _ = store_with_accounts(db)
    r = accounts_report(db, "account", revenue_field="arr")
    groups = {a["account"]: a["group"] for a in r["accounts"]}
    assert groups == {"acme": "model", "globex": "at_risk", "initech": "growth", "hooli": "dangling"}
    [risk] = r["at_risk"]
    assert risk["account"] == "globex" and risk["revenue"] == 120000 and risk["documents"] == 3
    assert risk["themes"] == [{"theme_id": billing, "label": "double charge", "documents": 3, "negative_documents": 3}]
    # satisfaction: the synthetic source's 0-10 values are read as NPS, rescaled /10
    assert risk["satisfaction"] == pytest.approx((2 + 0 + 3) / 30, abs=1e-4)


def test_accounts_csv_wins_over_the_field(db, tmp_path):
    store_with_accounts(db)
    p = tmp_path / "accounts.csv"
    p.write_text("Account_ID,Revenue\nhooli,500000\nglobex,10\nacme,90000\nunknown,5\n", encoding="utf-8")
    r = accounts_report(db, "account", accounts_csv=p, satisfaction_threshold=0.5)
    groups = {a["account"]: a["group"] for a in r["accounts"]}
    assert groups == {"hooli": "at_risk", "globex": "dangling", "acme": "model", "initech": None}  # initech: no revenue
    assert r["csv_accounts_without_documents"] == 1 and r["unplaced"] == 1
    r2 = accounts_report(db, "account", revenue_field="arr", accounts_csv=p)  # the CSV wins, the field fills the gaps
    assert {a["account"]: a["revenue"] for a in r2["accounts"]}["initech"] == 3000


def test_satisfaction_falls_back_to_sentiment(db):
    b = StoreBuilder(db)
    doc = b.doc("2026-09-01", [{"theme": None, "sentiment": "neg"}])
    db.execute("UPDATE document_sentiment SET score = -0.6 WHERE document_id = ?", [doc])
    db.execute("UPDATE documents SET meta = ? WHERE id = ?", [json.dumps({"account": "x", "revenue": 10}), doc])
    [acc] = accounts_report(db, "account", revenue_field="revenue")["accounts"]
    assert acc["satisfaction"] == pytest.approx(0.2) and acc["by_sentiment"] == 1 and acc["scored"] == 0


def test_account_errors(db, tmp_path):
    store_with_accounts(db)
    with pytest.raises(UsageError, match="E984"):
        accounts_report(db, "account")
    with pytest.raises(UsageError, match=r"E986.*Fields found: account, arr|E986.*Fields found: arr, account"):
        accounts_report(db, "customer", revenue_field="arr")
    with pytest.raises(UsageError, match="E985"):
        accounts_report(db, "account", revenue_field="arr", satisfaction_threshold=7)
    bad = tmp_path / "a.csv"
    bad.write_text("id,money\n1,2\n")
    with pytest.raises(InputError, match="E983"):
        accounts_report(db, "account", accounts_csv=bad)
    with pytest.raises(InputError, match="E983"):
        accounts_report(db, "account", accounts_csv=tmp_path / "none.csv")
