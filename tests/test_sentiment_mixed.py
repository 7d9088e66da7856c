"""A `mixed` document is kept apart from neutral where documents are counted (issue 16)."""

import json

import pytest

from miner.trends.render import CSV_COLUMNS, trends_rows
from miner.trends.series import trends
from tests.store_builder import StoreBuilder


@pytest.fixture
def b(db):
    return StoreBuilder(db)


def test_trends_by_channel_count_mixed_documents_apart(db, b):
    b.doc("2027-01-04", [{"sentiment": "pos"}, {"sentiment": "neg"}], channel="survey", sentiment="mixed")
    b.doc("2027-01-05", [{"sentiment": "neu"}], channel="survey", sentiment="neu")
    b.doc("2027-01-05", [{"sentiment": "neg"}], channel="survey", sentiment="neg")
    t = trends(db, "channel", "week")
    s = t.series["survey"]
    assert s.volume == [3] and s.labelled == [3] and s.neg == [1] and s.pos == [0] and s.mixed == [1]
    assert s.net_sentiment(0) == pytest.approx(-1 / 3)  # mixed is neither negative nor positive
    assert t.to_dict()["series"][0]["mixed"] == [1]
    row = dict(zip(CSV_COLUMNS, next(trends_rows(t))))
    assert row["mixed"] == 1 and row["with_sentiment"] == 3


def test_trends_by_theme_have_no_mixed_segments(db, b):
    theme = b.theme("billing")
    b.doc("2027-01-04", [{"theme": theme, "sentiment": "pos"}, {"theme": theme, "sentiment": "neg"}], sentiment="mixed")
    s = trends(db, "theme", "week").series[theme]
    assert s.neg == [1] and s.mixed == [0]


def test_export_says_mixed(db, b, tmp_path):
    from miner.table_export import export_table

    b.doc("2027-01-04", [{"sentiment": "pos"}, {"sentiment": "neg"}], sentiment="mixed")
    out = tmp_path / "d.jsonl"
    export_table(db, "documents", "jsonl", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["sentiment"] for r in rows] == ["mixed"] and {"p_neg", "p_neu", "p_pos", "sentiment_score"} <= set(rows[0])
