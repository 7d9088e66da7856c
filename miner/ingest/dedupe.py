"""Exact and near-duplicate detection.

Exact: a hash of the text normalised for comparison (NFKC, casefold, letters and digits
only), so that "App keeps crashing!!" and "app keeps crashing" are the same text.

Near: MinHash over character shingles (5-grams, or 3-grams for CJK text, which has no
spaces), with LSH buckets (10 bands of 4 rows) stored in `dedupe_buckets` so that a post
re-published with a typo fixed is found in later runs too. A candidate counts as a near
duplicate when the estimated Jaccard similarity is at least `NEAR_THRESHOLD`, or when the
shorter text is almost wholly contained in the longer one (`CONTAINMENT_THRESHOLD`) and
is at least `MIN_SIZE_RATIO` of its size: the same post re-published with a sentence added.

Short texts are not deduplicated: two survey respondents who both wrote "too expensive"
are two opinions, not a copy. Only texts of at least `min_chars` comparison characters
(a CJK character counts 3, as it carries about a word) take part.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

NUM_PERM = 40
BANDS = 10
ROWS = NUM_PERM // BANDS
NEAR_THRESHOLD = 0.75
CONTAINMENT_THRESHOLD = 0.9
MIN_SIZE_RATIO = 0.6
DEFAULT_MIN_CHARS = 40

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")

# Permutation constants from a fixed hash, not a random generator whose stream could change
# with numpy: signatures stored today must compare with those computed by later versions.
_A = np.array([xxhash.xxh64_intdigest(f"minhash-a-{i}".encode()) | 1 for i in range(NUM_PERM)], dtype=np.uint64).reshape(-1, 1)
_B = np.array([xxhash.xxh64_intdigest(f"minhash-b-{i}".encode()) for i in range(NUM_PERM)], dtype=np.uint64).reshape(-1, 1)
_P = np.uint64(1000003)


def comparison_form(text: str) -> str:
    """Letters and digits only, casefolded, single spaces between words."""
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_hash(form: str) -> str:
    """Hash of a comparison form (see `comparison_form`)."""
    return xxhash.xxh3_128_hexdigest(form.replace(" ", "").encode("utf-8", "surrogatepass"))


def comparison_weight(form: str) -> int:
    cjk = len(_CJK.findall(form))
    return len(form) + 2 * cjk


def _shingle_size(form: str) -> tuple[str, int]:
    """CJK text (no spaces between words) is shingled by 3 characters, other text by 5."""
    if len(_CJK.findall(form)) > 0.3 * max(1, len(form)):
        return form.replace(" ", ""), 3
    return form, 5


def signature(form: str) -> np.ndarray | None:
    """MinHash signature of a comparison form, or None if it is too short to shingle.

    uint64[NUM_PERM + 1]: the minima, then the number of distinct shingles (for containment).
    """
    return signatures([form])[0]


def signatures(forms: list[str], chunk: int = 256) -> list[np.ndarray | None]:
    """`signature` of many forms at once: one set of numpy operations per chunk of texts, not per text."""
    out: list[np.ndarray | None] = [None] * len(forms)
    groups: dict[int, list[tuple[int, str]]] = {3: [], 5: []}
    for i, form in enumerate(forms):
        shingled, k = _shingle_size(form)
        if len(shingled) - k + 1 >= 2:
            groups[k].append((i, shingled))
    for k, items in groups.items():
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            for doc, sig in _chunk_signatures([f for _, f in part], k).items():
                out[part[doc][0]] = sig
    return out


def _chunk_signatures(forms: list[str], k: int) -> dict[int, np.ndarray]:
    arrays = [np.frombuffer(f.encode("utf-32-le", "surrogatepass"), dtype=np.uint32) for f in forms]
    lengths = np.array([len(a) for a in arrays])
    codes = np.concatenate(arrays).astype(np.uint64)
    n = len(codes) - k + 1
    with np.errstate(over="ignore"):
        # Rolling polynomial hash of every k-gram of the concatenation...
        h = np.zeros(n, dtype=np.uint64)
        for j in range(k):
            h = h * _P + codes[j : j + n]
        h ^= h >> np.uint64(29)
        # ...keeping the k-grams that lie inside one text.
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        doc = np.repeat(np.arange(len(forms)), lengths)[:n]
        keep = (np.arange(n) - offsets[doc]) <= (lengths[doc] - k)
        h, doc = h[keep], doc[keep]
        order = np.lexsort((h, doc))
        h, doc = h[order], doc[order]
        distinct = np.ones(len(h), dtype=bool)
        distinct[1:] = (h[1:] != h[:-1]) | (doc[1:] != doc[:-1])
        h, doc = h[distinct], doc[distinct]
        firsts = np.flatnonzero(np.concatenate(([True], doc[1:] != doc[:-1])))
        minima = np.minimum.reduceat(_A * h[None, :] + _B, firsts, axis=1)
    counts = np.diff(np.concatenate((firsts, [len(doc)])))
    return {int(doc[f]): np.append(minima[:, c], np.uint64(counts[c])) for c, f in enumerate(firsts)}


def buckets(sig: np.ndarray) -> list[int]:
    """One LSH bucket per band, as signed 64-bit ints (SQLite INTEGER)."""
    out = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS].tobytes()  # the count (last) is not hashed
        out.append(xxhash.xxh64_intdigest(chunk, seed=band) - 2**63)
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.mean(a[:NUM_PERM] == b[:NUM_PERM]))


def near_score(a: np.ndarray, b: np.ndarray) -> float:
    """How near-duplicate two signatures are: >= NEAR_THRESHOLD means near duplicates.

    The Jaccard estimate, or, when the smaller set is nearly contained in the larger, the
    containment rescaled onto the same threshold (so that one ranking serves both).
    """
    jaccard = similarity(a, b)
    size_a, size_b = float(a[NUM_PERM]), float(b[NUM_PERM])
    small, large = min(size_a, size_b), max(size_a, size_b)
    if small / large >= MIN_SIZE_RATIO:
        containment = jaccard / (1.0 + jaccard) * (size_a + size_b) / small
        if containment >= CONTAINMENT_THRESHOLD:
            return max(jaccard, NEAR_THRESHOLD)
    return jaccard


def to_blob(sig: np.ndarray) -> bytes:
    return sig.astype("<u8").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8")
