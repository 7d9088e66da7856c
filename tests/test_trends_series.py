"""Series arithmetic on hand-built stores: counting unit, merges, sentiment, periods at year ends."""

from datetime import date

import pytest

from miner.errors import UsageError
from miner.trends.series import trends
from miner.trends.periods import Period, period_of
from tests.store_builder import StoreBuilder


@pytest.fixture
def b(db):
    return StoreBuilder(db)


def test_iso_weeks_and_months_across_year_boundaries():
    # 2026-12-31 is a Thursday of ISO week 2026-W53; 2027-01-03 (Sunday) is still in it.
    assert period_of(date(2026, 12, 31), "week").label == "2026-W53"
    assert period_of(date(2027, 1, 3), "week").label == "2026-W53"
    assert period_of(date(2027, 1, 4), "week").label == "2027-W01"
    # 2024-12-30 (Monday) starts ISO week 2025-W01
    assert period_of(date(2024, 12, 30), "week").label == "2025-W01"
    assert period_of(date(2024, 12, 29), "week").label == "2024-W52"
    assert period_of(date(2026, 12, 31), "month").label == "2026-12"
    assert Period(date(2026, 12, 1), "month").shift(1).label == "2027-01"
    assert Period(date(2027, 1, 1), "month").shift(-13).label == "2025-12"
    assert Period(date(2026, 12, 28), "week").end == date(2027, 1, 4)


def test_counts_documents_once_per_theme_and_period(db, b):
    billing, outage = b.theme("billing"), b.theme("outage")
    old = b.theme("old billing", merged_into=billing)  # a segment may still point at a merged theme
    older = b.theme("older billing", merged_into=old)  # chains are followed
    b.doc("2027-01-04T09:00:00Z", [{"theme": billing, "sentiment": "pos"}, {"theme": old, "sentiment": "neg"}, {"theme": older}])
    b.doc("2027-01-05", [{"theme": billing, "sentiment": "pos"}, {"theme": outage, "sentiment": "neu"}])
    b.doc("2027-01-06", [None])  # outlier only: counts in the total, mentions no theme
    orig = b.doc("2027-01-07", [outage])
    b.doc("2027-01-07", [outage], duplicate_of=orig)  # copies do not count
    b.doc("2027-01-07", [outage], informative=0)  # non-answers do not count
    b.doc(None, [billing])  # undated: skipped
    b.doc("garbage", [billing])  # unreadable date: skipped
    t = trends(db, "theme", "week")
    assert [p.label for p in t.periods] == ["2027-W01"]
    assert t.totals == [4]
    assert t.skipped_undated == 2
    assert set(t.series) == {billing, outage}
    s = t.series[billing]
    assert s.volume == [2] and s.neg == [1] and s.pos == [1] and s.labelled == [2]
    assert s.net_sentiment(0) == 0.0
    assert t.share(billing, 0) == 0.5
    o = t.series[outage]
    assert o.volume == [2] and o.labelled == [1] and o.net_sentiment(0) == 0.0
    d = t.to_dict()
    assert d["series"][0]["share"] == [0.5] and d["documents"] == 4
    # duplicates counted on request
    assert trends(db, "theme", "week", include_duplicates=True).series[outage].volume == [3]


def test_custom_label_and_status_shown(db, b):
    t1 = b.theme("refund late", custom_label="Refund delays", status="archived")
    b.doc("2026-03-02", [t1])
    s = trends(db, "theme", "month").series[t1]
    assert (s.label, s.status) == ("Refund delays", "archived")


def test_periods_are_filled_and_windowed(db, b):
    t1 = b.theme("x")
    b.doc("2026-11-30", [t1])
    b.doc("2027-02-01", [t1])
    t = trends(db, "theme", "month")
    assert [p.label for p in t.periods] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert t.totals == [1, 0, 0, 1] and t.series[t1].volume == [1, 0, 0, 1]
    assert t.to_dict()["series"][0]["share"] == [1.0, None, None, 1.0]
    assert [p.label for p in trends(db, "theme", "month", last=2).periods] == ["2027-01", "2027-02"]
    w = trends(db, "theme", "week", since=date(2026, 12, 1), until=date(2027, 1, 31))
    assert w.periods[0].label == "2026-W49" and sum(w.totals) == 0 and w.series == {}


def test_channel_and_language_with_filters(db, b):
    t1, t2 = b.theme("a"), b.theme("b")
    b.doc("2026-05-01", [t1], channel="chat", lang="en", sentiment="neg")
    b.doc("2026-05-02", [t2], channel="chat", lang="de", sentiment="pos")
    b.doc("2026-05-03", [t1], channel="mail", lang="de", sentiment="neg")
    by_channel = trends(db, "channel", "month")
    assert by_channel.series["chat"].volume == [2] and by_channel.series["chat"].net_sentiment(0) == 0.0
    assert trends(db, "lang", "month", filters={"channel": ["chat"]}).totals == [2]
    only_a = trends(db, "channel", "month", filters={"theme": ["A"]})  # labels match case-insensitively
    assert {k: s.volume for k, s in only_a.series.items()} == {"chat": [1], "mail": [1]}
    assert only_a.totals == [3]  # the share's denominator keeps every document of the period
    assert set(trends(db, "theme", "month", filters={"lang": "de"}).series) == {t1, t2}
    with pytest.raises(UsageError, match="E904"):
        trends(db, "theme", "month", filters={"theme": ["nope"]})
    with pytest.raises(UsageError, match="E906"):
        trends(db, "theme", "month", filters={"account": ["x"]})


def test_touchpoints_when_the_table_exists(db, b):
    t1 = b.theme("billing error")
    b.doc("2026-05-04", [t1])
    with pytest.raises(UsageError, match="E905"):  # none assigned yet
        trends(db, "touchpoint", "week")
    b.doc("2026-05-04", [{"theme": t1, "touchpoint": "billing", "sentiment": "neg"}, {"theme": t1, "touchpoint": "call center"}])
    b.doc("2026-05-05", [{"theme": t1, "touchpoint": "billing"}])
    tp = trends(db, "touchpoint", "week")
    assert tp.totals == [3] and tp.series["billing"].volume == [2] and tp.series["call center"].volume == [1]
    assert tp.series["billing"].neg == [1]
    assert trends(db, "theme", "week", filters={"touchpoint": ["call center"]}).series[t1].volume == [1]
    db.execute("DROP TABLE segment_touchpoints")  # a store from before touchpoints existed
    with pytest.raises(UsageError, match="E905"):
        trends(db, "touchpoint", "week")


def test_bad_options(db):
    with pytest.raises(UsageError, match="E901"):
        trends(db, "colour", "week")
    with pytest.raises(UsageError, match="E902"):
        trends(db, "theme", "fortnight")


def test_empty_store(db):
    t = trends(db, "theme", "week")
    assert t.periods == [] and t.series == {} and t.to_dict()["documents"] == 0
