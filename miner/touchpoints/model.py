"""Touchpoints against the store (`miner touchpoints assign`, `miner analyze`, `miner demo`).

assign_touchpoints: load and validate the taxonomy -> embed its descriptions and examples
(and the user's labelled examples) through the store's embedding cache -> prototypes (and
the few-shot model) -> every informative segment's cached vector -> `decide` -> replace
`touchpoints`, `segment_touchpoints`, `theme_touchpoints` and the saved model in one
transaction (a failed run leaves the previous assignment untouched).

assign_touchpoints_to_new_segments: segments added since (by `miner analyze`) get touchpoints
from the saved model.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from ..arrays import pack_arrays, unpack_arrays
from ..errors import UsageError
from ..nlp.cache import EmbeddingCache, embed_texts
from ..nlp.encoders.base import Encoder
from ..nlp.encoders.registry import get_encoder
from ..nlp.textprep import encoder_input
from ..segments.links import link_themes_to_touchpoints
from ..segments.vectors import load_segments
from ..store import transaction, utc_now
from .assign import (
    Assignment,
    AssignParams,
    FewShot,
    Prototypes,
    add_examples,
    build_prototypes,
    decide,
    similarities,
)
from .examples import read_examples
from .taxonomy import Taxonomy, load_taxonomy

DEFAULT_PARAMS = AssignParams()
# The saved model lives in theme_state under these keys (npz bytes / JSON, never pickle).
KEY_PROTOS, KEY_FEWSHOT, KEY_META = "touchpoints.prototypes", "touchpoints.fewshot", "touchpoints.meta"


def taxonomy_rows(tax: Taxonomy) -> tuple[list[str], list[int]]:
    """The texts that represent the taxonomy (descriptions and examples) and the index of
    the touchpoint each belongs to."""
    texts, owner = [], []
    for k, tp in enumerate(tax.touchpoints):
        for text in tp.prototype_texts():
            texts.append(text)
            owner.append(k)
    return texts, owner


@dataclass
class TouchpointModel:
    keys: list[str]
    protos: Prototypes
    fewshot: FewShot | None
    params: AssignParams
    meta: dict

    @property
    def method(self) -> str:
        return "few-shot" if self.fewshot is not None else "prototype"

    def assign(self, X: np.ndarray) -> Assignment:
        S = similarities(X, self.protos, self.params.alpha)
        return decide(S, self.params, self.fewshot.scores(X, S) if self.fewshot is not None else None)

    def save(self, db: sqlite_utils.Database) -> None:
        rows = [(KEY_PROTOS, pack_arrays(self.protos.to_arrays())), (KEY_META, json.dumps(self.meta, ensure_ascii=False).encode())]
        db.execute("DELETE FROM theme_state WHERE key = ?", [KEY_FEWSHOT])
        if self.fewshot is not None:
            rows.append((KEY_FEWSHOT, pack_arrays(self.fewshot.to_arrays())))
        db.conn.executemany("INSERT OR REPLACE INTO theme_state (key, value, run_id) VALUES (?, ?, NULL)", rows)

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> TouchpointModel | None:
        rows = dict(db.execute("SELECT key, value FROM theme_state WHERE key LIKE 'touchpoints.%'").fetchall())
        if KEY_META not in rows:
            return None
        try:
            meta = json.loads(rows[KEY_META])
            params = AssignParams(**meta["params"])
            protos = Prototypes.from_arrays(unpack_arrays(rows[KEY_PROTOS]))
            fewshot = FewShot.from_arrays(unpack_arrays(rows[KEY_FEWSHOT]), params) if KEY_FEWSHOT in rows else None
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise UsageError("E836", f"the stored touchpoint model is unreadable ({exc}).", "Re-run `miner touchpoints assign`.") from None
        return cls(protos.keys, protos, fewshot, params, meta)


def build_model(
    db: sqlite_utils.Database,
    encoder: Encoder,
    tax: Taxonomy,
    examples: list[tuple[str, str]] | None = None,
    params: AssignParams = DEFAULT_PARAMS,
) -> tuple[TouchpointModel, int]:
    """Prototypes (and the few-shot model when examples are given); returns (model, texts embedded)."""
    cache = EmbeddingCache(db)
    texts, owner = taxonomy_rows(tax)
    X, stats = embed_texts(encoder, [encoder_input(t) for t in texts], cache)
    embedded = stats.embedded
    owner = np.array(owner, np.int64)
    protos = build_prototypes(tax.keys, X, owner)
    fewshot = None
    if examples:
        idx = {k: i for i, k in enumerate(tax.keys)}
        E, st = embed_texts(encoder, [encoder_input(t) for t, _ in examples], cache)
        embedded += st.embedded
        y = np.array([idx[k] for _, k in examples], np.int64)
        protos = add_examples(protos, np.ones(len(owner), np.float32), E, y, 1.0)
        fewshot = FewShot(params).fit(np.vstack([X, E]), np.concatenate([owner, y]), len(tax.keys))
    meta = {
        "taxonomy": tax.name, "source": tax.source, "sha256": tax.sha256, "encoder": encoder.id,
        "params": params.to_dict(), "method": "few-shot" if fewshot else "prototype", "examples": len(examples or []),
    }
    return TouchpointModel(tax.keys, protos, fewshot, params, meta), embedded


def _rows(seg_ids: np.ndarray, a: Assignment, keys: list[str], method: str) -> list[tuple]:
    rows = []
    for i, sid in enumerate(seg_ids):
        if a.first[i] >= 0:
            rows.append((int(sid), keys[a.first[i]], round(float(a.first_conf[i]), 4), 1, method))
            if a.second[i] >= 0:
                rows.append((int(sid), keys[a.second[i]], round(float(a.second_conf[i]), 4), 2, method))
    return rows


def assign_touchpoints(
    db: sqlite_utils.Database,
    *,
    encoder: Encoder | None = None,
    taxonomy: str | Path | None = None,
    examples: str | Path | None = None,
    params: AssignParams = DEFAULT_PARAMS,
) -> dict:
    """Store the taxonomy, give every informative segment its touchpoints (or none), link themes."""
    started = time.perf_counter()
    tax = load_taxonomy(taxonomy)
    labelled = read_examples(examples, tax) if examples else None
    encoder = encoder or get_encoder(None, lazy=True)
    model, embedded = build_model(db, encoder, tax, labelled, params)
    seg, stats = load_segments(db, encoder)
    embedded += stats.embedded if stats else 0
    a = model.assign(seg.vectors)
    rows = _rows(seg.ids, a, model.keys, model.method)
    model.meta["last_segment_id"] = int(seg.ids.max()) if len(seg.ids) else 0
    model.meta["assigned_at"] = utc_now()
    with transaction(db):
        db.execute("DELETE FROM theme_touchpoints")
        db.execute("DELETE FROM segment_touchpoints")
        db.execute("DELETE FROM touchpoints")
        db.conn.executemany(
            "INSERT INTO touchpoints (key, stage, label, description, owner, taxonomy, taxonomy_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(t.key, t.stage, t.label, t.description, t.owner, tax.name, tax.sha256) for t in tax.touchpoints],
        )
        db.conn.executemany(
            "INSERT INTO segment_touchpoints (segment_id, touchpoint, confidence, rank, method) VALUES (?, ?, ?, ?, ?)", rows
        )
        linked = link_themes_to_touchpoints(db)
        model.save(db)
    counts = {k: 0 for k in tax.keys}
    for r in rows:
        if r[3] == 1:
            counts[r[1]] += 1
    n = len(seg.ids)
    none = int((a.first < 0).sum())
    return {
        "taxonomy": tax.name,
        "source": tax.source,
        "touchpoints": len(tax.keys),
        "method": model.method,
        "examples": len(labelled or []),
        "segments": n,
        "assigned": n - none,
        "none": none,
        "none_share": round(none / n, 4) if n else 0.0,
        "two_touchpoints": int((a.second >= 0).sum()),
        "by_touchpoint": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        "theme_links": linked,
        "embedded": embedded,
        "seconds": round(time.perf_counter() - started, 2),
    }


def assign_touchpoints_to_new_segments(db: sqlite_utils.Database, encoder: Encoder) -> dict:
    """Segments added since the last assignment get touchpoints from the saved model (no
    re-embedding of the taxonomy); theme links are rebuilt. Only cached embeddings are read."""

    model = TouchpointModel.load(db)
    if model is None:
        return {"assigned": 0, "none": 0, "model": False}
    if model.meta.get("encoder") != encoder.id:
        return {"assigned": 0, "none": 0, "model": True, "skipped": f"touchpoints were built on {model.meta.get('encoder')}"}
    last = int(model.meta.get("last_segment_id", 0))
    seg, _ = load_segments(db, encoder, after_id=last)
    if len(seg.ids) == 0:
        return {"assigned": 0, "none": 0, "model": True}
    a = model.assign(seg.vectors)
    model.meta["last_segment_id"] = int(seg.ids.max())
    with transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO segment_touchpoints (segment_id, touchpoint, confidence, rank, method) VALUES (?, ?, ?, ?, ?)",
            _rows(seg.ids, a, model.keys, model.method),
        )
        link_themes_to_touchpoints(db)
        model.save(db)
    return {"assigned": int((a.first >= 0).sum()), "none": int((a.first < 0).sum()), "model": True}
