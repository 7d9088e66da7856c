"""The labelled sets bench/bench_touchpoints.py measures touchpoints on, as stores built through
the product (`miner ingest`, `miner analyze`), with the examples a user would give and the gold
touchpoint of every document. Stores and their vectors are kept in bench/_work/touchpoints/
(vectors also in ~/.cache/miner/embeddings.db, so a rebuild embeds nothing).

Sets, decided on 2026-12-06 before any of them was measured with the new method:

- xling_dev (640 documents, 10 languages): the default journey taxonomy (the corpus's
  touchpoint names are its keys; a close sibling counts, as in ../shared/tools/xling_dev_eval.py)
  and bench/taxonomies/xling_dev.yaml. Examples: 10 documents per touchpoint drawn from the
  corpus (3 seeded draws), scored on the other documents.
- The demo corpus (348 labelled documents, 9 languages): the default taxonomy (the demo's
  touchpoints mapped in DEMO_TO_DEFAULT) and bench/taxonomies/demo.yaml (a document is right
  when its main touchpoint is one of its labels). Examples: documents with one label.
- banking77: bench/taxonomies/banking77.yaml, intents mapped by INTENT_TO_TOUCHPOINT. Two
  evaluations: the `test` split (3,079 texts; examples from `train`), and a held-out sample of
  3,000 `train` texts that no choice of the method ever looked at (examples from `test`).
- UIT-VSFC (vi): bench/taxonomies/uit_vsfc.yaml (English descriptions and examples). The `dev`
  split (1,583; examples from `train`) and a held-out sample of 3,000 `train` texts never
  looked at (examples from `dev`); the corpus's own test split is held back by its providers.
"""

from __future__ import annotations

import csv
import gzip
import json
import sqlite3
import sys
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_cli  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
WORK = ROOT / "bench" / "_work" / "touchpoints"
THEMES_WORK = ROOT / "bench" / "_work" / "themes"
TAXONOMIES = ROOT / "bench" / "taxonomies"
SIDECAR = Path.home() / ".cache" / "miner" / "embeddings.db"
SHOTS, DRAWS, HELD_OUT, HELD_OUT_SEED = 10, (0, 1, 2), 3000, 2026

SIBLINGS = {"chat_email": {"call_center"}, "call_center": {"chat_email"}, "website": {"checkout", "account"}, "app": {"account"}}
DEMO_TO_DEFAULT = {
    "advertising": {"advertising"}, "website": {"website", "checkout"},
    "purchase": {"checkout", "contract", "in_store", "pricing", "website", "advertising"}, "delivery": {"delivery", "packaging"},
    "installation": {"installation"}, "use": {"product_quality", "features", "network"}, "app": {"app", "account", "features"},
    "call_center": {"call_center", "chat_email"}, "billing": {"billing", "fees", "pricing", "returns"}, "repair": {"repair", "returns"},
    "cancellation": {"cancellation", "loyalty"},
}
# The bank's CX team's mapping of banking77 intents onto its touchpoints (written before issue 14).
INTENT_TO_TOUCHPOINT = {
    "account": ["terminate_account", "edit_personal_details", "country_support", "age_limit"],
    "identity": ["verify_my_identity", "unable_to_verify_identity", "why_verify_identity", "verify_source_of_funds"],
    "card_order": ["activate_my_card", "card_arrival", "card_delivery_estimate", "card_about_to_expire", "get_physical_card",
                   "getting_spare_card", "order_physical_card", "card_linking", "visa_or_mastercard"],
    "virtual_cards": ["getting_virtual_card", "get_disposable_virtual_card", "disposable_card_limits", "virtual_card_not_working"],
    "card_payments": ["card_not_working", "contactless_not_working", "card_acceptance", "declined_card_payment",
                      "pending_card_payment", "apple_pay_or_google_pay"],
    "card_security": ["lost_or_stolen_card", "compromised_card", "lost_or_stolen_phone", "card_payment_not_recognised",
                      "cash_withdrawal_not_recognised", "direct_debit_payment_not_recognised"],
    "atm": ["atm_support", "card_swallowed", "declined_cash_withdrawal", "pending_cash_withdrawal", "wrong_amount_of_cash_received"],
    "top_up": ["automatic_top_up", "pending_top_up", "top_up_by_cash_or_cheque", "top_up_failed", "top_up_limits", "top_up_reverted",
               "topping_up_by_card", "verify_top_up", "transfer_into_account", "balance_not_updated_after_cheque_or_cash_deposit"],
    "transfers": ["cancel_transfer", "declined_transfer", "failed_transfer", "pending_transfer", "transfer_not_received_by_recipient",
                  "transfer_timing", "beneficiary_not_allowed", "receiving_money", "balance_not_updated_after_bank_transfer"],
    "exchange": ["exchange_rate", "exchange_via_app", "card_payment_wrong_exchange_rate", "wrong_exchange_rate_for_cash_withdrawal",
                 "fiat_currency_support", "supported_cards_and_currencies"],
    "fees": ["card_payment_fee_charged", "cash_withdrawal_charge", "exchange_charge", "top_up_by_bank_transfer_charge",
             "top_up_by_card_charge", "transfer_fee_charged", "extra_charge_on_statement"],
    "refunds": ["Refund_not_showing_up", "request_refund", "transaction_charged_twice", "reverted_card_payment?"],
    "pin_passcode": ["change_pin", "pin_blocked", "passcode_forgotten"],
}
INTENT = {intent: tp for tp, intents in INTENT_TO_TOUCHPOINT.items() for intent in intents}
UIT = {"lecturer": "lecturer", "training_program": "training_program", "facility": "facility", "others": "other"}


def read(name: str) -> list[dict]:
    with gzip.open(CORPORA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@dataclass
class LabelledSet:
    """A store, its taxonomy, each document's acceptable touchpoints (by external id), and where
    examples come from: (external id or None, text, touchpoint) rows to draw from."""

    name: str
    store: Path
    taxonomy: Path | None  # None: the default journey
    gold: dict[str, set[str]]
    pool: list[tuple[str | None, str, str]] = field(default_factory=list)
    half: dict[str, bool] = field(default_factory=dict)  # external id -> in the half the defaults were tuned on
    held_out: bool = False  # never looked at while choosing the method

    def draw(self, seed: int) -> list[tuple[str | None, str, str]]:
        """SHOTS examples per touchpoint (fewer where the pool has fewer, at least 2)."""
        rng = np.random.default_rng(seed)
        by = defaultdict(list)
        for row in self.pool:
            by[row[2]].append(row)
        out = []
        for key in sorted(by):
            rows = by[key]
            if len(rows) < 2:
                continue
            out += [rows[j] for j in rng.choice(len(rows), size=min(SHOTS, len(rows)), replace=False)]
        return out


def _copy_vectors(db: Path, texts: list[str] | None = None) -> None:
    """Vectors the sidecar cache has for the store's segments and documents (or `texts`)."""
    from miner.nlp.cache import text_hash
    from miner.nlp.textprep import encoder_input
    from miner.segments.vectors import document_inputs

    con = sqlite3.connect(str(db))
    if texts is None:
        segs = con.execute("SELECT s.document_id, s.text FROM segments s WHERE s.informative = 1 ORDER BY s.document_id, s.seg_index").fetchall()
        by = defaultdict(list)
        for d, t in segs:
            by[d].append(t)
        texts = [encoder_input(t) for _, t in segs] + [x for ts in by.values() for x in document_inputs(ts)]
    hashes = sorted({text_hash(t) for t in texts})
    con.execute("ATTACH DATABASE ? AS side", [str(SIDECAR)])
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        con.execute(
            "INSERT OR IGNORE INTO embeddings (encoder, text_hash, vector) SELECT encoder, text_hash, vector FROM side.embeddings "
            f"WHERE text_hash IN ({', '.join('?' for _ in chunk)})", chunk)
    con.commit()
    con.close()


def _save_vectors(db: Path) -> None:
    """The store's new vectors into the sidecar cache, for the next rebuild."""
    con = sqlite3.connect(str(SIDECAR))
    con.execute("ATTACH DATABASE ? AS st", [str(db)])
    con.execute("INSERT OR IGNORE INTO embeddings (encoder, text_hash, vector) SELECT encoder, text_hash, vector FROM st.embeddings")
    con.commit()
    con.close()


def build_store(name: str, rows: list[dict]) -> Path:
    """ingest + analyze of rows (id, text), vectors from the sidecar cache first."""
    db = WORK / f"{name}.db"
    if db.exists():
        return db
    WORK.mkdir(parents=True, exist_ok=True)
    src = WORK / f"{name}.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")
    tmp = WORK / f"{name}.building.db"
    tmp.unlink(missing_ok=True)
    run_cli("ingest", str(src), "--db", str(tmp), "--text", "text", "--id", "id", "--quiet")
    _copy_vectors(tmp)
    run_cli("analyze", "--db", str(tmp), "--quiet")
    _save_vectors(tmp)
    tmp.rename(db)
    return db


def copy_of(src: Path, name: str) -> Path:
    import shutil

    db = WORK / f"{name}.db"
    if not db.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, db)
    return db


def xling(default: bool) -> LabelledSet:
    gold = [json.loads(line) for line in open(CORPORA / "xling_dev" / "complaints.jsonl", encoding="utf-8")]
    store = copy_of(THEMES_WORK / "xling.db", "xling")
    return LabelledSet(
        "xling_dev, default journey" if default else "xling_dev, user taxonomy", store,
        None if default else TAXONOMIES / "xling_dev.yaml",
        {g["id"]: {g["touchpoint"]} | SIBLINGS.get(g["touchpoint"], set()) for g in gold},
        [(g["id"], g["text"], g["touchpoint"]) for g in gold],
        {g["id"]: int(g["id"][3:]) % 2 == 1 for g in gold},
    )


def demo(default: bool) -> LabelledSet:
    labels = {}
    with open(ROOT / "corpora" / "demo" / "labels.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["touchpoints"]:
                labels[r["id"]] = set(r["touchpoints"].split("|"))
    store = copy_of(THEMES_WORK / "demo.db", "demo")
    con = sqlite3.connect(str(store))
    texts = dict(con.execute("SELECT external_id, text FROM documents WHERE informative = 1 AND duplicate_of IS NULL"))
    con.close()
    gold = {e: (set().union(*(DEMO_TO_DEFAULT[x] for x in ls)) if default else ls) for e, ls in labels.items() if e in texts}
    pool = [(e, texts[e], next(iter(ls))) for e, ls in labels.items() if e in texts and len(ls) == 1]
    return LabelledSet("demo, default journey" if default else "demo, user taxonomy", store,
                       None if default else TAXONOMIES / "demo.yaml", gold, pool,
                       {e: zlib.crc32(e.encode()) % 2 == 1 for e in gold})


def _held_out_sample(rows: list[dict]) -> list[dict]:
    rng = np.random.default_rng(HELD_OUT_SEED)
    return [rows[i] for i in sorted(rng.choice(len(rows), size=min(HELD_OUT, len(rows)), replace=False))]


def banking(held_out: bool) -> LabelledSet:
    rows = read("banking77")
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    sample = _held_out_sample(train)
    sampled = {r["text"] for r in sample}
    evaluated = sample if held_out else test
    pool_rows = test if held_out else [r for r in train if r["text"] not in sampled]
    named = [{"id": f"b{i}", "text": r["text"], "gold": INTENT[r["category"]]} for i, r in enumerate(evaluated)]
    store = build_store("banking77_heldout" if held_out else "banking77_test", named)
    rng = np.random.default_rng(7)
    return LabelledSet(
        "banking77, held-out train sample" if held_out else "banking77, test split", store, TAXONOMIES / "banking77.yaml",
        {r["id"]: {r["gold"]} for r in named}, [(None, r["text"], INTENT[r["category"]]) for r in pool_rows],
        {r["id"]: bool(rng.random() < 0.5) for r in named}, held_out)


def uit(held_out: bool) -> LabelledSet:
    rows = read("uit_vsfc_vi")
    train = [r for r in rows if r["split"] == "train"]
    dev = [r for r in rows if r["split"] == "dev"]
    sample = _held_out_sample(train)
    sampled = {r["text"] for r in sample}
    evaluated = sample if held_out else dev
    pool_rows = dev if held_out else [r for r in train if r["text"] not in sampled]
    named = [{"id": f"u{i}", "text": r["text"], "gold": UIT[r["category"]]} for i, r in enumerate(evaluated)]
    store = build_store("uit_heldout" if held_out else "uit_dev", named)
    rng = np.random.default_rng(7)
    return LabelledSet(
        "UIT-VSFC, held-out train sample" if held_out else "UIT-VSFC, dev split", store, TAXONOMIES / "uit_vsfc.yaml",
        {r["id"]: {r["gold"]} for r in named}, [(None, r["text"], UIT[r["category"]]) for r in pool_rows],
        {r["id"]: bool(rng.random() < 0.5) for r in named}, held_out)


if __name__ == "__main__":  # build the stores (minutes the first time: analyze embeds what the cache lacks)
    for f in (lambda: banking(False), lambda: uit(False), lambda: banking(True), lambda: uit(True)):
        s = f()
        print(s.name, s.store, len(s.gold), flush=True)
