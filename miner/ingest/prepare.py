"""The per-document text work of ingest, as a pure function: raw text in, a prepared document out.

redact -> clean -> language -> segments -> segment languages -> informative -> hashes.
No database here, so the same function can be mapped over a process pool (or, later, over
partitions by a distributed engine).
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
import multiprocessing
import os

import numpy as np

from ..lifeline import die_with_parent
from . import dedupe
from .clean import clean_text
from .encoding import repair_mojibake
from .informative import is_informative
from .language import LangResult, detect, detect_segments
from .pii import Redactor
from .segment import segment

MAX_CHARS = 1_000_000
# Persian typed on Arabic keyboards or in Windows-1256 uses Arabic yeh/kaf (and alef maqsura):
# one spelling per word, so that search, dedupe and later tokenisers see the same word.
_PERSIAN_LETTERS = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی"})  # rows over 1 MB of text are skipped: they are dumps, not feedback


@dataclass
class Prepared:
    text: str  # original, redacted
    clean_text: str
    lang: LangResult
    segments: list[tuple[int, str, int, int, str, str, bool]]  # (index, text, start, end, lang, script, informative)
    informative: bool
    form: str  # the comparison form (see dedupe.comparison_form)
    content_hash: str
    signature: np.ndarray | None
    pii: dict[str, int] = field(default_factory=dict)
    dropped_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Rejected:
    reason: str


def _segment_informative(text: str, lang: str, doc_informative: bool, segs: list) -> bool:
    """A segment of a non-answer is a non-answer; a lone segment is the document itself."""
    if not doc_informative or len(segs) == 1:
        return doc_informative
    return is_informative(text, lang)


def prepare_batch(
    raws: list[str], redactor: Redactor | None, min_chars: int = dedupe.DEFAULT_MIN_CHARS
) -> list[Prepared | Rejected]:
    """`prepare` over many texts; MinHash signatures are computed for the whole batch at once."""
    out = [_prepare_text(raw, redactor) for raw in raws]
    wanted = [
        (i, form)
        for i, p in enumerate(out)
        if isinstance(p, Prepared) and p.informative
        for form in [p.form]
        if dedupe.comparison_weight(form) >= min_chars
    ]
    for (i, _), sig in zip(wanted, dedupe.signatures([form for _, form in wanted])):
        out[i].signature = sig
    return out


def _prepare_text(raw: str, redactor: Redactor | None) -> Prepared | Rejected:
    if len(raw) > MAX_CHARS:
        return Rejected("too_large")
    if not raw.strip():
        return Rejected("empty_text")
    pii: dict[str, int] = {}
    original, _ = repair_mojibake(raw)  # the stored original too, not only the clean text (cells of XLSX, Parquet...)
    if redactor is not None:
        original, pii = redactor.redact(original)
    clean, dropped = clean_text(original)
    if redactor is not None and clean != original:
        # Cleaning repairs mojibake and normalises Unicode, which can reveal PII the first pass missed.
        clean, more = redactor.redact(clean)
        for kind, n in more.items():
            pii[kind] = pii.get(kind, 0) + n
    if not clean.strip():
        return Rejected("empty_after_cleaning")
    lang = detect(clean)
    if lang.lang == "fa":
        clean = clean.translate(_PERSIAN_LETTERS)  # one letter for one: offsets do not move
    segs = segment(clean, lang.lang)
    seg_langs = detect_segments([s.text for s in segs], lang) if segs else []
    informative = is_informative(clean, lang.lang)
    form = dedupe.comparison_form(clean)
    return Prepared(
        text=original,
        clean_text=clean,
        lang=lang,
        segments=[
            (s.index, s.text, s.start, s.end, sl.lang, sl.script, _segment_informative(s.text, sl.lang, informative, segs))
            for s, sl in zip(segs, seg_langs)
        ],
        informative=informative,
        form=form,
        content_hash=dedupe.content_hash(form),
        signature=None,
        pii=pii,
        dropped_lines=dropped,
    )


# --- running prepare_batch in worker processes ---------------------------------------------

_worker_state: dict = {}


def _worker_init(parent: int, redactor_args: tuple | None, min_chars: int) -> None:
    die_with_parent(parent)  # no worker outlives `miner ingest`, even one killed with SIGKILL
    _worker_state["redactor"] = Redactor(*redactor_args) if redactor_args else None
    _worker_state["min_chars"] = min_chars


def _worker_prepare(raws: list[str]) -> list[Prepared | Rejected]:
    return prepare_batch(raws, _worker_state["redactor"], _worker_state["min_chars"])


class Preparer:
    """Runs `prepare_batch` in this process, or in a pool of worker processes once an input
    proves large enough to be worth it (small inputs never pay the start-up of a pool).

    `depth` is how many batches may be in flight before the caller should consume one.
    """

    def __init__(self, redactor_args: tuple | None, min_chars: int, workers: int):
        self.redactor_args, self.min_chars, self.workers = redactor_args, min_chars, workers
        self.redactor = Redactor(*redactor_args) if redactor_args else None
        self.pool: ProcessPoolExecutor | None = None

    @property
    def depth(self) -> int:
        return self.workers if self.pool else 0

    def submit(self, raws: list[str], more_may_follow: bool) -> Future:
        if self.pool is None and more_may_follow and self.workers >= 1:
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_init,
                initargs=(os.getpid(), self.redactor_args, self.min_chars),
            )
        if self.pool is not None:
            return self.pool.submit(_worker_prepare, raws)
        done: Future = Future()
        done.set_result(prepare_batch(raws, self.redactor, self.min_chars))
        return done

    def __enter__(self) -> "Preparer":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=exc[0] is None, cancel_futures=True)
