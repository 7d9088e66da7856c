"""Labelled sentiment data: the public corpora in ../shared/corpora, split reproducibly.

Each example is (text, label, corpus, lang, split). Corpora that come with train/valid/test
splits keep them; the others are split 60/20/20 by a hash of the text, so the same text
always falls in the same split on every machine. Splits are capped (`CAPS`) to bound
embedding time on 2 cores. Texts are cleaned exactly as `miner ingest` cleans them, so the
head sees at training time what it will see in the store.

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


def load_shared(corpora_dir: Path | None = None, names: list[str] | None = None) -> list[Example]:
    corpora_dir = corpora_dir or SHARED
    if not corpora_dir.is_dir():
        raise InputError("E710", f"no corpora folder at {corpora_dir}.", "Put ../shared/corpora beside the checkout, or pass --data FILE.csv.")
    out: list[Example] = []
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
            if name not in UNCAPPED and len(examples) > CAPS[split]:
                random.Random(f"{name}/{lang}/{split}").shuffle(examples)
                examples = examples[: CAPS[split]]
            out.extend(examples)
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
