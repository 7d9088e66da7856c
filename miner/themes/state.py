"""The fitted theme state in the store: arrays as npz bytes in `theme_state`, never pickle.

Keys: `debias` (LanguageDebias arrays), `concepts` (the concept space: projection and phrase
means), `centroids` (`C`: one row per sub-theme centroid, with `sub_ids` (the sub-theme, -1 for a
theme kept on a centroid of its own) and `theme_ids` (its theme); `T`/`T_ids`: one centroid per
theme, for sentences), `meta` (JSON: version, thresholds, encoder, params, label language).
A store fitted by an older miner (version 1, sentence themes) loads as None: `themes discover`
refits it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from ..arrays import pack_arrays, unpack_arrays
from ..errors import UsageError
from ..concepts.space import ConceptSpace
from .debias import LanguageDebias
from .fit import space

VERSION = 2


@dataclass
class ThemeState:
    debias: LanguageDebias
    concepts: ConceptSpace | None
    centroids: np.ndarray  # (m, D) sub-theme centroids in the clustering space
    sub_ids: np.ndarray  # (m,) sub-theme id of each row, -1 where a theme has a centroid of its own
    theme_ids: np.ndarray  # (m,) theme id of each row
    theme_centroids: np.ndarray  # (t, D) one per theme
    theme_centroid_ids: np.ndarray  # (t,)
    threshold: float  # a document under this cosine to every centroid has no theme
    core_threshold: float  # under this its theme is low-confidence
    segment_threshold: float  # a sentence joins another theme than its document's from this cosine
    encoder: str
    run_id: int
    params: dict
    label_lang: str = "en"
    projected: bool = True  # the clustering space includes the concept projection (multilingual data)

    def space(self, X: np.ndarray, langs: list[str]) -> np.ndarray:
        return space(self.debias, self.concepts.project if self.concepts is not None and self.projected else None, X, langs)

    def save(self, db: sqlite_utils.Database) -> None:
        meta = {
            "version": VERSION, "threshold": self.threshold, "core_threshold": self.core_threshold,
            "segment_threshold": self.segment_threshold, "encoder": self.encoder, "params": self.params,
            "label_lang": self.label_lang, "projected": self.projected,
        }
        rows = [
            ("debias", pack_arrays(self.debias.to_arrays())),
            ("centroids", pack_arrays({
                "C": self.centroids.astype(np.float32), "sub_ids": self.sub_ids.astype(np.int64),
                "theme_ids": self.theme_ids.astype(np.int64), "T": self.theme_centroids.astype(np.float32),
                "T_ids": self.theme_centroid_ids.astype(np.int64),
            })),
            ("meta", json.dumps(meta).encode()),
        ]
        if self.concepts is not None:
            rows.append(("concepts", pack_arrays(self.concepts.to_arrays())))
        else:
            db.execute("DELETE FROM theme_state WHERE key = 'concepts'")
        db.conn.executemany(
            "INSERT OR REPLACE INTO theme_state (key, value, run_id) VALUES (?, ?, ?)",
            [(k, v, self.run_id) for k, v in rows],
        )

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> "ThemeState | None":
        return cls.from_rows(stored_rows(db))

    @classmethod
    def from_rows(cls, rows: dict[str, tuple[bytes, int | None]]) -> "ThemeState | None":
        """The state from `stored_rows` (key -> (value, run id)), as `load` reads it."""
        if "meta" not in rows:
            return None
        try:
            meta = json.loads(rows["meta"][0])
            if meta.get("version") != VERSION:
                return None
            cents = unpack_arrays(rows["centroids"][0])
            debias = LanguageDebias.from_arrays(unpack_arrays(rows["debias"][0]))
            concepts = ConceptSpace.from_arrays(unpack_arrays(rows["concepts"][0])) if "concepts" in rows else None
        except (KeyError, ValueError, OSError) as exc:
            raise UsageError(
                "E803", f"the stored theme state is unreadable ({exc}).", "Re-run `miner themes discover`."
            ) from None
        return cls(
            debias=debias, concepts=concepts, centroids=cents["C"], sub_ids=cents["sub_ids"], theme_ids=cents["theme_ids"],
            theme_centroids=cents["T"], theme_centroid_ids=cents["T_ids"], threshold=float(meta["threshold"]),
            core_threshold=float(meta["core_threshold"]), segment_threshold=float(meta["segment_threshold"]),
            encoder=meta["encoder"], run_id=rows["meta"][1], params=meta["params"], label_lang=meta.get("label_lang", "en"),
            projected=bool(meta.get("projected", True)),
        )


def stored_rows(db: sqlite_utils.Database) -> dict[str, tuple[bytes, int | None]]:
    """The store's `theme_state` rows, key -> (value, run id): what `ThemeState.from_rows` and
    `TouchpointModel.from_rows` read (a worker gets them as they are)."""
    return {k: (bytes(v), r) for k, v, r in db.execute("SELECT key, value, run_id FROM theme_state")}
