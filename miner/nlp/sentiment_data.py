"""Labelled sentiment data: the public corpora in ../shared/corpora, split reproducibly.

Each example is (text, label, corpus, lang, split). Corpora that come with train/valid/test
splits keep them; the others are split 60/20/20 by a hash of the text, so the same text
always falls in the same split on every machine. Splits are capped (`CAPS`) to bound
embedding time on 2 cores. Texts are cleaned exactly as `miner ingest` cleans them, so the
head sees at training time what it will see in the store.

Two more sources teach what the review and tweet corpora lack, neutral questions and requests
(issue 16): banking77's customer queries (English, real customers), mapped by intent (plain
questions are `neu`, problem reports `neg`; `BANKING77_INTENTS`), and a small set the team
wrote in ten languages (`corpora/sentiment_requests/`: questions, requests and factual
statements, complaint questions, praise for a fixed problem; `train.tsv` is split 80/20 into
train/valid by text hash, `eval.tsv` was written apart and is the test split).

Select models on `train`/`valid`; `test` is for reporting, once.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path

import xxhash

from ..csvfile import CsvErrors, column_key, read_csv_file
from ..errors import InputError, UsageError
from ..ingest.clean import clean_text

LABELS = ("neg", "neu", "pos")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
REQUESTS = Path(__file__).resolve().parents[2] / "corpora" / "sentiment_requests"

# corpus -> how its own splits map to ours ("hash" = split 60/20/20 by text hash)
CORPORA = {
    "umsab_tweets": {"train": "train", "valid": "valid", "test": "test"},
    "amazon_reviews_zh_ja": "hash",
    "uit_vsfc_vi": {"train": "train", "dev": "hash-valid-test"},
    "snappfood_fa": "hash",
    "chnsenticorp_hotel_zh": "hash",
    "waimai_zh": "hash",
}
# most examples per (corpus, language, split); umsab is small and balanced: all of it
CAPS = {"train": 2000, "valid": 600, "test": 1000}
UNCAPPED = {"umsab_tweets", "amazon_reviews_zh_ja"}
# banking77 intents (fixed before any measurement): plain questions are neutral, problem
# reports negative; the other intents are left out (a pending transfer is neither clearly).
BANKING77_INTENTS = {
    "neu": (
        "activate_my_card", "age_limit", "apple_pay_or_google_pay", "atm_support", "automatic_top_up", "card_about_to_expire",
        "card_acceptance", "card_delivery_estimate", "change_pin", "country_support", "disposable_card_limits",
        "edit_personal_details", "exchange_rate", "exchange_via_app", "fiat_currency_support", "get_disposable_virtual_card",
        "get_physical_card", "getting_spare_card", "getting_virtual_card", "order_physical_card", "receiving_money",
        "supported_cards_and_currencies", "top_up_by_cash_or_cheque", "top_up_limits", "topping_up_by_card",
        "transfer_into_account", "verify_my_identity", "visa_or_mastercard", "why_verify_identity",
    ),
    "neg": (
        "card_not_working", "transaction_charged_twice", "Refund_not_showing_up", "wrong_amount_of_cash_received",
        "card_swallowed", "compromised_card", "cash_withdrawal_not_recognised", "card_payment_not_recognised",
        "top_up_failed", "declined_card_payment",
    ),
}
BANKING77_CAPS = {"train": 600, "valid": 200, "test": 400}


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    corpus: str
    lang: str
    split: str


def _hash_split(text: str, valid_test_only: bool = False) -> str:
    bucket = xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass")) % 10
    if valid_test_only:
        return "valid" if bucket < 5 else "test"
    return "train" if bucket < 6 else ("valid" if bucket < 8 else "test")


def load_shared(
    corpora_dir: Path | None = None, names: list[str] | None = None, *, caps: dict[str, int] | None = None, requests: bool = True
) -> list[Example]:
    """The labelled corpora of ../shared/corpora (`names`, default all of CORPORA), then (with
    `requests`) banking77's queries and the team's questions and requests."""
    corpora_dir = corpora_dir or SHARED
    caps = caps or CAPS
    if not corpora_dir.is_dir():
        raise InputError("E710", f"no corpora folder at {corpora_dir}.", "Put ../shared/corpora beside the checkout, or pass --data FILE.csv.")
    out: list[Example] = []
    if requests:
        out.extend(load_banking77(corpora_dir))
        out.extend(load_requests())
    for name in names or list(CORPORA):
        rule = CORPORA[name]
        groups: dict[tuple[str, str], list[Example]] = {}
        with gzip.open(corpora_dir / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("sentiment") not in LABELS:
                    continue
                text, _ = clean_text(row["text"])
                if not text.strip():
                    continue
                if rule == "hash":
                    split = _hash_split(text)
                elif rule[row["split"]] == "hash-valid-test":
                    split = _hash_split(text, valid_test_only=True)
                else:
                    split = rule.get(row["split"])
                if split is None:
                    continue
                groups.setdefault((row["lang"], split), []).append(Example(text, row["sentiment"], name, row["lang"], split))
        for (lang, split), examples in sorted(groups.items()):
            if name not in UNCAPPED and len(examples) > caps[split]:
                random.Random(f"{name}/{lang}/{split}").shuffle(examples)
                examples = examples[: caps[split]]
            out.extend(examples)
    return out


def load_banking77(corpora_dir: Path | None = None) -> list[Example]:
    """banking77 queries of the intents in BANKING77_INTENTS: its train split 75/25 into
    train/valid by text hash, its test split as test; capped per split (BANKING77_CAPS)."""
    label_of = {intent: label for label, intents in BANKING77_INTENTS.items() for intent in intents}
    path = (corpora_dir or SHARED) / "banking77.jsonl.gz"
    if not path.is_file():
        return []
    by_split: dict[str, list[Example]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            label = label_of.get(row.get("category"))
            text = clean_text(row["text"])[0] if label else ""
            if not text.strip():
                continue
            bucket = xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass")) % 4
            split = "test" if row["split"] == "test" else ("valid" if bucket == 0 else "train")
            by_split.setdefault(split, []).append(Example(text, label, "banking77", "en", split))
    out = []
    for split, examples in sorted(by_split.items()):
        random.Random(f"banking77/{split}").shuffle(examples)
        out.extend(examples[: BANKING77_CAPS[split]])
    return out


def load_requests(folder: Path | None = None) -> list[Example]:
    """The team's questions, requests and statements (see the module docstring)."""
    folder = folder or REQUESTS
    out = []
    for name in ("train.tsv", "eval.tsv"):
        path = folder / name
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:
            lang, label, text = line.split("\t", 2)
            text = clean_text(text)[0]
            if name == "eval.tsv":
                split = "test"
            else:
                split = "valid" if xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass")) % 5 == 0 else "train"
            out.append(Example(text, label, "sentiment_requests", lang, split))
    return out


_LABELLED_CSV_ERRORS = CsvErrors(
    no_file=lambda path: InputError("E711", f"no labelled file at {path}.", "Give a CSV with text and label columns."),
    no_columns=lambda path, missing, found: InputError(
        "E712", f"{path} has no column {missing[0]!r}.", f"Available columns: {', '.join(found)}."),
)


def load_csv(path: Path, text_column: str = "text", label_column: str = "label") -> list[Example]:
    """A user's labelled CSV (columns text, label with neg/neu/pos, optional split, lang).

    Rows without a split are split 60/20/20 by text hash.
    """
    _, rows = read_csv_file(path, (text_column, label_column), _LABELLED_CSV_ERRORS)
    text_key, label_key = column_key(text_column), column_key(label_column)
    out = []
    for _, row in rows:
        label = (row.get(label_key) or "").strip().lower()
        label = {"negative": "neg", "neutral": "neu", "positive": "pos", "-1": "neg", "0": "neu", "1": "pos"}.get(label, label)
        if label not in LABELS:
            continue
        text, _ = clean_text(row.get(text_key) or "")
        if not text.strip():
            continue
        split = (row.get("split") or "").strip().lower() or _hash_split(text)
        split = {"dev": "valid", "validation": "valid"}.get(split, split)
        if split not in ("train", "valid", "test"):
            raise UsageError("E713", f"unknown split {split!r} in {path}.", "Use train, valid or test (or leave it empty).")
        out.append(Example(text, label, path.stem, (row.get("lang") or "und").strip(), split))
    if not out:
        raise InputError("E714", f"no usable labelled rows in {path}.", "Labels must be neg, neu or pos (or negative/neutral/positive).")
    return out


# Documents of two or more segments whose segments are embedded to train the document model,
# per (corpus, language) in the train split (valid and test: all of them); chosen by a hash of
# the text, so the same texts are chosen whatever else the data holds.
DOCUMENT_TRAIN_CAP = 400


def document_segments(examples: list[Example]) -> list[list[tuple[str, str]]]:
    """Each example's informative segments (text, language) as `miner ingest` cuts them."""
    from ..ingest.prepare import Prepared, prepare_batch

    out = []
    for start in range(0, len(examples), 2000):
        for p in prepare_batch([e.text for e in examples[start : start + 2000]], None):
            out.append([(s[1], s[4]) for s in p.segments if s[6]] if isinstance(p, Prepared) else [])
    return out


def documents_with_segments(examples: list[Example], segments: list[list[tuple[str, str]]]) -> list[int]:
    """Indices of the examples of two or more segments whose segments the document model reads
    (all in valid and test, DOCUMENT_TRAIN_CAP per group in train)."""
    groups: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for i, (e, segs) in enumerate(zip(examples, segments)):
        if len(segs) >= 2:
            rank = xxhash.xxh64_intdigest(("doc/" + e.text).encode("utf-8", "surrogatepass"))
            groups.setdefault((e.corpus, e.lang, e.split), []).append((rank, i))
    out = []
    for (_, _, split), items in groups.items():
        items.sort()
        out.extend(i for _, i in (items[:DOCUMENT_TRAIN_CAP] if split == "train" else items))
    return sorted(out)
