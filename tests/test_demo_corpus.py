"""The demo corpus is what the README promises, and ingest reads it as its labels say."""

import csv
from collections import Counter

import pytest

from miner.demo import run_demo
from miner.paths import demo_corpus_dir
from miner.store import open_db


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    run_demo(path, analyze=False)
    return open_db(path)


@pytest.fixture(scope="module")
def labels():
    with (demo_corpus_dir() / "labels.csv").open(encoding="utf-8") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def test_size_languages_channels(demo, labels):
    assert demo["documents"].count == len(labels) >= 300
    assert len({l["lang"] for l in labels.values()}) >= 8
    channels = Counter(r["channel"] for r in demo.query("SELECT channel FROM documents"))
    assert set(channels) == {"survey", "support_ticket", "chat", "app_review", "complaint_site"}
    months = {r["m"] for r in demo.query("SELECT substr(created_at, 1, 7) m FROM documents")}
    assert len(months) >= 6


def test_every_document_has_a_label_with_topic_touchpoint_and_sentiment(demo, labels):
    for row in demo.query("SELECT external_id FROM documents"):
        label = labels[row["external_id"]]
        assert label["topics"] and label["sentiment"] in ("neg", "neu", "pos")
        assert len(label["topics"].split("|")) == len(label["touchpoints"].split("|"))


def test_language_and_script_match_the_labels(demo, labels):
    rows = list(demo.query("SELECT external_id, lang, script FROM documents WHERE informative = 1"))
    right = 0
    for row in rows:
        expected = labels[row["external_id"]]["lang"]
        lang, _, script = expected.partition("-")
        right += row["lang"] == lang and (not script or row["script"] == script)
    assert right / len(rows) >= 0.97, f"{right}/{len(rows)}"


def test_labelled_duplicates_are_found(demo, labels):
    pairs = {(r["a"], r["b"]) for r in demo.query(
        "SELECT c.external_id a, o.external_id b FROM documents c JOIN documents o ON o.id = c.duplicate_of"
    )}
    # The writers put one exact and one near-duplicate pair in each language file.
    assert len(pairs) >= 17
    for copy, original in pairs:
        assert labels[copy]["topics"] == labels[original]["topics"]


def test_noninformative_answers_are_flagged(demo, labels):
    flagged = {r["external_id"] for r in demo.query("SELECT external_id FROM documents WHERE informative = 0")}
    expected = {i for i, l in labels.items() if l["topics"] == "noninformative"}
    assert len(flagged & expected) >= 0.9 * len(expected)
    assert len(flagged - expected) <= 2


def test_pii_in_the_corpus_is_redacted(demo):
    texts = " ".join(r["text"] for r in demo.query("SELECT text FROM documents"))
    assert "4111 1111 1111 1111" not in texts and "@example.com" not in texts
    assert "NL-2026-" in texts  # order numbers are evidence, not PII


def test_noisy_pages_are_cleaned(demo):
    pages = {r["external_id"]: r for r in demo.query("SELECT * FROM documents WHERE external_id LIKE 'page_%'")}
    assert len(pages) == 6
    assert "細節" in pages["page_zh_hant_pinyin.html"]["clean_text"] or "(xì)" not in pages["page_zh_hant_pinyin.html"]["clean_text"]
    assert "ŕ" not in pages["page_fr.html"]["clean_text"] and "à" in pages["page_fr.html"]["clean_text"]
    for page in pages.values():
        for noise in ("All rights reserved", "版权所有", "Share on Facebook", "正在翻译", "Translating, please wait"):
            assert noise not in page["clean_text"]
