"""bench/sentiment_fresh/cases.jsonl is well formed (issue 16's fresh held-out sentiment set): cheap, no model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "bench" / "sentiment_fresh" / "cases.jsonl"
LANGS = {"en", "de", "fr", "es", "ar", "fa", "vi", "ja", "zh-Hans", "zh-Hant"}
LABEL_OF_KIND = {"complaint": "neg", "praise": "pos", "praise_after_problem": "pos", "question": "neu",
                 "request": "neu", "statement": "neu", "mixed": "mixed"}
PER_LANGUAGE = {"complaint": 12, "praise": 5, "praise_after_problem": 4, "question": 2, "request": 2, "statement": 2, "mixed": 3}


def rows() -> list[dict]:
    with CASES.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_fields_and_labels_are_valid():
    for r in rows():
        assert set(r) == {"id", "lang", "text", "label", "kind", "topic"}, r.get("id")
        assert r["lang"] in LANGS, r["id"]
        assert r["kind"] in LABEL_OF_KIND, r["id"]
        assert r["label"] == LABEL_OF_KIND[r["kind"]], r["id"]
        assert r["id"].startswith(f"sf-{r['lang']}-"), r["id"]
        assert r["text"].strip() == r["text"] and len(r["text"]) >= 10, r["id"]
        assert r["topic"], r["id"]


def test_every_language_has_every_kind_in_the_planned_numbers():
    by_lang = Counter((r["lang"], r["kind"]) for r in rows())
    for lang in LANGS:
        assert {kind: by_lang[(lang, kind)] for kind in PER_LANGUAGE} == PER_LANGUAGE, lang
    assert len(rows()) == 30 * len(LANGS)


def test_no_duplicate_ids_or_texts():
    ids = Counter(r["id"] for r in rows())
    texts = Counter(" ".join(r["text"].casefold().split()) for r in rows())
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in texts.items() if n > 1] == []


def test_topics_are_outside_xling_dev_and_the_demo():
    topics = {r["topic"] for r in rows()}
    xling = {"wrong_item_sent", "subscription_auto_renewal", "slow_internet_speed", "order_tracking_no_update",
             "card_blocked_abroad", "food_arrived_cold", "flight_rebooking_chaos", "meter_reading_wrong_bill",
             "app_update_broke_feature", "store_out_of_stock", "chatbot_cannot_help", "data_privacy_spam_calls",
             "warranty_claim_refused", "price_changed_at_checkout", "delivery_driver_behaviour", "praise_fast_fix"}
    assert topics.isdisjoint(xling)
    assert len(topics) == 10
