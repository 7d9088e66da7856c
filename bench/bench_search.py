"""Search across languages (issue 15): does `miner search` find the same complaint in every
language, and is it fast on a million documents?

The check, written down before any search result was seen (this file's first commit):

Quality, on ../shared/corpora/xling_dev (640 complaints, 16 topics x 10 language varieties x 4,
vectors from the analyzed store bench/_work/themes/xling.db):
  - one English query per topic (XLING_QUERIES below, written from the topic definitions in
    the corpus README, never from a text); a document is relevant when the topic is among its
    labelled topics (first or second);
  - measures: precision@10 (mean over the 16 queries), the number of language varieties among
    the top 10 (mean; zh-Hans and zh-Hant count apart, 10 is the most), and precision@40
    (each topic has 40 documents as main topic, so this is about R-precision);
  - variants: raw e5 vectors ("raw"), and each document minus its language's mean vector, the
    query minus the mean of the language it is detected in ("centred").
  - rule: centring is adopted when its mean P@10 is at least raw's minus 0.02 and its mean
    languages@10 is higher, or when its mean P@10 is higher than raw's by more than 0.02;
    otherwise raw vectors stay.
Fusion with full-text matches (FTS5), judged on the demo corpus (corpora/demo, labels.csv):
  - one query per labelled demo complaint topic with 15 or more documents (DEMO_QUERIES; praise,
    suggestion and noninformative left out; short as a user types them, "refund" the issue's
    own example); relevant = the topic among the document's
    labelled topics; same measures (P@10, languages@10);
  - variants: semantic only; reciprocal rank fusion (k = 60) of the semantic ranking and the
    FTS5 bm25 ranking ("hybrid");
  - rule: hybrid is the default when its mean P@10 on the demo queries is no lower than
    semantic-only's minus 0.05 (exact words are what a user typed); otherwise semantic only is
    the default and full text stays behind --exact. xling_dev is reported for both too.
Misses are recorded as misses.

Speed (`--parts speed`): 1,000,000 random unit vectors of 384 dimensions (random vectors are the
worst case for graph indexes, which have no neighbourhoods to exploit: recall on real
embeddings is higher), 2 threads: build time, memory, latency per query (median and p95 of
200 queries), recall@10 against exact search, incremental add of 10,000 vectors; for exact
search in numpy (float32, float16), usearch (exact, f32/f16/i8; HNSW f16/i8), hnswlib (HNSW,
float32), faiss (flat and HNSW, for comparison). sqlite-vec cannot be measured: this Python's
sqlite3 is built without extension loading (`enable_load_extension` is missing).
"""

from __future__ import annotations

# topic -> the English query (from the corpus README's one-line definitions)
XLING_QUERIES = {
    "wrong_item_sent": "received the wrong item in my parcel",
    "subscription_auto_renewal": "subscription renewed automatically without my consent",
    "slow_internet_speed": "internet is much slower than promised",
    "order_tracking_no_update": "order tracking is stuck and never updated",
    "card_blocked_abroad": "bank card blocked while travelling abroad",
    "food_arrived_cold": "food delivery arrived cold",
    "flight_rebooking_chaos": "cancelled flight and a bad rebooking",
    "meter_reading_wrong_bill": "bill based on a wrong meter reading",
    "app_update_broke_feature": "the app update broke a feature",
    "store_out_of_stock": "product out of stock in the shop",
    "chatbot_cannot_help": "the chatbot cannot help and I cannot reach a human",
    "data_privacy_spam_calls": "my personal data was shared and now I get spam calls",
    "warranty_claim_refused": "warranty claim refused",
    "price_changed_at_checkout": "price went up at checkout",
    "delivery_driver_behaviour": "rude delivery driver",
    "praise_fast_fix": "problem fixed quickly, thank you",
}

# demo topic (labels.csv, 15+ documents) -> the query a user would type
DEMO_QUERIES = {
    "refund_delay": "refund",
    "billing_double_charge": "charged twice",
    "callcenter_wait": "waiting on hold",
    "app_login": "cannot log in to the app",
    "billing_price_increase": "price increase",
    "connection_drops": "connection keeps dropping",
    "callcenter_unhelpful": "unhelpful support agent",
    "repair_slow": "slow repair",
    "delivery_late": "late delivery",
    "misleading_ad": "misleading advertising",
    "cancel_difficult": "hard to cancel my contract",
}
