"""The fitted theme state in the store: arrays as npz bytes in `theme_state`, never pickle.

Keys: `debias` (LanguageDebias arrays), `centroids` (C: (m, d) float32, theme_ids: (m,) int64;
a theme may own several centroids, e.g. after a merge), `meta` (JSON: thresholds, encoder,
params, edit constraints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from ..arrays import pack_arrays, unpack_arrays
from ..errors import UsageError
from .debias import LanguageDebias


@dataclass
class ThemeState:
    debias: LanguageDebias
    centroids: np.ndarray
    theme_ids: np.ndarray
    threshold: float
    core_threshold: float
    encoder: str
    run_id: int
    params: dict

    def save(self, db: sqlite_utils.Database) -> None:
        meta = {
            "threshold": self.threshold,
            "core_threshold": self.core_threshold,
            "encoder": self.encoder,
            "params": self.params,
        }
        rows = [
            ("debias", pack_arrays(self.debias.to_arrays())),
            ("centroids", pack_arrays({"C": self.centroids.astype(np.float32), "theme_ids": self.theme_ids.astype(np.int64)})),
            ("meta", json.dumps(meta).encode()),
        ]
        db.conn.executemany(
            "INSERT OR REPLACE INTO theme_state (key, value, run_id) VALUES (?, ?, ?)",
            [(k, v, self.run_id) for k, v in rows],
        )

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> "ThemeState | None":
        rows = {k: (v, r) for k, v, r in db.execute("SELECT key, value, run_id FROM theme_state")}
        if "meta" not in rows:
            return None
        try:
            meta = json.loads(rows["meta"][0])
            cents = unpack_arrays(rows["centroids"][0])
            debias = LanguageDebias.from_arrays(unpack_arrays(rows["debias"][0]))
        except (KeyError, ValueError, OSError) as exc:
            raise UsageError(
                "E803", f"the stored theme state is unreadable ({exc}).", "Re-run `miner themes discover`."
            ) from None
        return cls(
            debias=debias,
            centroids=cents["C"],
            theme_ids=cents["theme_ids"],
            threshold=float(meta["threshold"]),
            core_threshold=float(meta["core_threshold"]),
            encoder=meta["encoder"],
            run_id=rows["meta"][1],
            params=meta["params"],
        )
