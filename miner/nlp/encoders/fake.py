"""A deterministic, instant encoder for tests (`fake`, `fake-DIM`)."""

from __future__ import annotations

import re

import numpy as np
import xxhash

from .base import normalise_rows

_TOKEN = re.compile(r"\w+", re.UNICODE)


class FakeEncoder:
    """Deterministic, instant: each word (and CJK character) adds a fixed pseudo-random vector.

    Texts sharing words get similar vectors, which is enough to test clustering, caching
    and the plumbing around a real model.
    """

    backend = "fake"

    def __init__(self, dim: int = 32):
        self.dim = dim
        self.id = f"fake-{dim}"
        self.calls = 0

    def _word(self, word: str) -> np.ndarray:
        seed = xxhash.xxh64_intdigest(word.encode("utf-8", "surrogatepass"))
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = []
            for token in _TOKEN.findall(text.casefold()):
                words.extend(token if any("\u3040" <= ch <= "\u9fff" for ch in token) else [token])
            for w in words or ["<empty>"]:
                out[i] += self._word(w)
        return normalise_rows(out)
