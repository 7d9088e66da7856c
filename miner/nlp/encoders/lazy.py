"""An encoder whose model loads only when a text really has to be embedded.

Stages that mostly read cached vectors (themes, touchpoints) then cost no model load (6-14 s
and ~700 MB for e5-small in torch). Its id and dim are known before loading, so cache
lookups work without the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .base import Encoder


class LazyEncoder:
    def __init__(self, id: str, dim: int, load: Callable[[], Encoder]):
        self.id, self.dim = id, dim
        self._load, self._encoder = load, None
        self.load_seconds = 0.0  # measured apart, so that encoder time is the model's own

    @property
    def backend(self) -> str:
        return getattr(self._encoder, "backend", "not loaded")

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            started = time.perf_counter()
            self._encoder = self._load()
            self.load_seconds = time.perf_counter() - started
        return self._encoder.embed_batch(texts)
