"""Touchpoints against the store (`miner touchpoints assign`, `miner analyze`, `miner demo`).

assign_touchpoints: load and validate the taxonomy (and the labelled examples) -> embed its
descriptions and examples through the store's embedding cache -> the concept evidence the
taxonomy names and the alignment of languages (miner.concepts) -> the few-shot model when
there are examples or people's corrections (`touchpoint_labels`) -> every informative
document and segment scored, documents smoothed over their neighbours -> `decide` -> replace
`touchpoints`, `segment_touchpoints`, `touchpoint_abstentions`, `document_touchpoints`,
`theme_touchpoints` and the saved model in one transaction (a failed run leaves the previous
assignment untouched). Corrections keep their touchpoint on every run.

assign_touchpoints_to_new_segments: segments added since (by `miner analyze`) get touchpoints
from the saved model (no neighbours: a full `assign` run smooths over them).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
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
from ..segments.vectors import VectorSource, cached_vectors, document_inputs, group_language, last_segment_id, load_segments
from ..store import transaction, utc_now
from .assign import (
    HUMAN_NONE,
    MULTILINGUAL_MIN,
    Alignment,
    AssignParams,
    ConceptEvidence,
    Decision,
    FewShot,
    damp_flat,
    decide,
    fit_few_shot,
    label_scores,
    prototypes,
    smooth,
    spread,
    standardise_rows,
    zero_shot_scores,
)
from .examples import read_examples
from .taxonomy import Taxonomy, load_taxonomy

DEFAULT_PARAMS = AssignParams()
MODEL_VERSION = 2
# The saved model lives in theme_state under these keys (npz bytes / JSON, never pickle).
KEY_MODEL, KEY_META = "touchpoints.model", "touchpoints.meta"
OLD_KEYS = ("touchpoints.prototypes", "touchpoints.fewshot")  # version 1 (prototype similarity)
ZERO_SHOT, FEW_SHOT, HUMAN = "zero-shot", "few-shot", "human"


def taxonomy_rows(tax: Taxonomy) -> tuple[list[str], list[int]]:
    """The texts that represent the taxonomy (descriptions and examples) and the index of
    the touchpoint each belongs to."""
    texts, owner = [], []
    for k, tp in enumerate(tax.touchpoints):
        for text in tp.prototype_texts():
            texts.append(text)
            owner.append(k)
    return texts, owner


def concept_evidence(tax: Taxonomy, space) -> ConceptEvidence | None:
    """The concept space cut to the concepts the taxonomy names, each linked to its touchpoint."""
    from ..concepts.space import ConceptSpace

    index = {c: i for i, c in enumerate(space.concepts)}
    cols, link = [], []
    for k, tp in enumerate(tax.touchpoints):
        for cid in tp.concepts:
            if cid in index:
                cols.append(index[cid])
                link.append(k)
    if not cols:
        return None
    c = np.array(cols, np.int64)
    sub = ConceptSpace([space.concepts[i] for i in cols], [space.kinds[i] for i in cols], list(space.langs), space.means[:, c],
                       space.present[:, c], space.lang_means, space.neutral[c], space.proj, space.ref[:, :, c])
    return ConceptEvidence(sub, np.array(link, np.int64))


@dataclass
class TouchpointModel:
    keys: list[str]
    protos: np.ndarray  # (k, d)
    evidence: ConceptEvidence | None
    doc_align: Alignment
    seg_align: Alignment
    fewshot: FewShot | None
    params: AssignParams
    meta: dict
    doc_spread: float = 0.0  # the store's median spread of document cosines (damp_flat's reference)
    seg_spread: float = 0.0

    @property
    def method(self) -> str:
        return FEW_SHOT if self.fewshot is not None and self.fewshot.weight != 0 else ZERO_SHOT

    @property
    def temperature(self) -> float:
        return self.fewshot.temperature if self.fewshot is not None else self.params.temperature

    def scores(self, X: np.ndarray, langs: list[str], align: Alignment, cosines: np.ndarray | None = None) -> np.ndarray:
        """Standardised scores of raw vectors X (documents with doc_align, segments with seg_align)."""
        # a language rare in the store (under MIN_PER_LANGUAGE texts) is centred by the store's
        # overall mean, as Alignment centres it: a text's scores never depend on what else is scored with it
        zero = zero_shot_scores(X, self.protos, evidence=self.evidence, langs=langs, data_means=align.data_means(),
                                concept_weight=self.params.concept_weight, cosines=cosines, fallback_mean=align.overall)
        if self.fewshot is None or len(X) == 0:
            return zero
        return self.fewshot.scores(align.apply(X, langs), zero)

    def save(self, db: sqlite_utils.Database) -> None:
        arrays = {"protos": self.protos, **self.doc_align.to_arrays("doc_"), **self.seg_align.to_arrays("seg_"),
                  "spreads": np.array([self.doc_spread, self.seg_spread], np.float32)}
        if self.evidence is not None:
            arrays.update({f"ev_{k}": v for k, v in self.evidence.space.to_arrays().items()})
            arrays["ev_link"] = self.evidence.link
        if self.fewshot is not None:
            arrays.update({f"fs_{k}": v for k, v in self.fewshot.to_arrays().items()})
        db.execute(f"DELETE FROM theme_state WHERE key IN ({', '.join('?' for _ in OLD_KEYS)})", list(OLD_KEYS))
        db.conn.executemany(
            "INSERT OR REPLACE INTO theme_state (key, value, run_id) VALUES (?, ?, NULL)",
            [(KEY_MODEL, pack_arrays(arrays)), (KEY_META, json.dumps(self.meta, ensure_ascii=False).encode())],
        )

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> TouchpointModel | None:
        """The saved model; None when there is none, or one of an older version (re-run assign)."""
        return cls.from_rows(dict(db.execute("SELECT key, value FROM theme_state WHERE key IN (?, ?)", [KEY_MODEL, KEY_META]).fetchall()))

    @classmethod
    def from_rows(cls, rows: dict[str, bytes]) -> TouchpointModel | None:
        """The model from the store's `theme_state` values (key -> value), as `load` reads it."""
        from ..concepts.space import ConceptSpace

        if KEY_META not in rows or KEY_MODEL not in rows:
            return None
        try:
            meta = json.loads(rows[KEY_META])
            if meta.get("version") != MODEL_VERSION:
                return None
            params = AssignParams(**meta["params"])
            a = unpack_arrays(rows[KEY_MODEL])
            evidence = None
            if "ev_link" in a:
                space = ConceptSpace.from_arrays({k[3:]: v for k, v in a.items() if k.startswith("ev_") and k != "ev_link"})
                evidence = ConceptEvidence(space, a["ev_link"])
            fewshot = FewShot.from_arrays({k[3:]: v for k, v in a.items() if k.startswith("fs_")}) if "fs_coef" in a else None
            return cls(list(meta["keys"]), a["protos"].astype(np.float32), evidence, Alignment.from_arrays(a, "doc_"),
                       Alignment.from_arrays(a, "seg_"), fewshot, params, meta, float(a["spreads"][0]), float(a["spreads"][1]))
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise UsageError("E836", f"the stored touchpoint model is unreadable ({exc}).", "Re-run `miner touchpoints assign`.") from None


@dataclass
class Labels:
    """People's corrections that name a touchpoint of this taxonomy (index, or -1 for none)."""

    docs: dict[int, int]
    segments: dict[int, int]
    ignored: int  # corrections naming a touchpoint this taxonomy lacks


def stored_labels(db: sqlite_utils.Database, keys: list[str]) -> Labels:
    index = {k: i for i, k in enumerate(keys)}
    docs, segs, ignored = {}, {}, 0
    for doc, seg, key in db.execute("SELECT document_id, segment_id, touchpoint FROM touchpoint_labels ORDER BY id"):
        if key is not None and key not in index:
            ignored += 1
            continue
        value = index[key] if key is not None else -1
        if doc is not None:
            docs[int(doc)] = value
        else:
            segs[int(seg)] = value
    return Labels(docs, segs, ignored)


def _example_languages(texts: list[str]) -> list[str]:
    from ..ingest.language import detect

    out = []
    for text in texts:
        r = detect(text)
        out.append(group_language(r.lang, r.script if r.script in ("Hans", "Hant") else None))
    return out


def _multilingual(langs: list[str]) -> bool:
    return sum(1 for n in Counter(langs).values() if n >= MULTILINGUAL_MIN) >= 2


def build_model(
    db: sqlite_utils.Database,
    encoder: Encoder,
    tax: Taxonomy,
    docs,
    segs,
    *,
    examples: list[tuple[str, str]] | None = None,
    labels: Labels | None = None,
    params: AssignParams = DEFAULT_PARAMS,
) -> tuple[TouchpointModel, int]:
    """The model for this taxonomy, store and examples; returns (model, texts embedded)."""
    cache = EmbeddingCache(db)
    texts, owner = taxonomy_rows(tax)
    X, stats = embed_texts(encoder, [encoder_input(t) for t in texts], cache)
    embedded = stats.embedded
    k = len(tax.keys)
    protos = prototypes(X, np.array(owner), k)
    space = None
    if any(tp.concepts for tp in tax.touchpoints) or _multilingual(docs.langs):
        from ..concepts.lexicon import load_lexicon
        from ..concepts.space import concept_space

        space = concept_space(load_lexicon(), encoder, cache)
    proj = space.proj if space is not None else None
    doc_align = Alignment.fit(docs.vectors, docs.langs, proj)
    seg_align = Alignment.fit(segs.vectors, segs.langs, proj)
    evidence = concept_evidence(tax, space) if space is not None else None
    model = TouchpointModel(tax.keys, protos, evidence, doc_align, seg_align, None, params, {},
                            float(np.median(spread(docs.vectors @ protos.T))) if len(docs.ids) else 0.0,
                            float(np.median(spread(segs.vectors @ protos.T))) if len(segs.ids) else 0.0)
    # Few-shot: the user's examples and people's corrections of this store.
    parts_F, parts_zero, parts_y = [], [], []
    if examples:
        idx = {key: i for i, key in enumerate(tax.keys)}
        E, st = embed_texts(encoder, [encoder_input(t) for t, _ in examples], cache)
        embedded += st.embedded
        elangs = _example_languages([t for t, _ in examples])
        parts_F.append(doc_align.apply(E, elangs))
        parts_zero.append(model.scores(E, elangs, doc_align))
        parts_y.append(np.array([idx[key] for _, key in examples], np.int64))
    if labels is not None:
        for ids, vecs_of, align in ((labels.docs, docs, doc_align), (labels.segments, segs, seg_align)):
            pos = {int(i): r for r, i in enumerate(vecs_of.ids)}
            rows = [(pos[i], t) for i, t in ids.items() if t >= 0 and i in pos]
            if rows:
                V = vecs_of.vectors[[r for r, _ in rows]]
                L = [vecs_of.langs[r] for r, _ in rows]
                parts_F.append(align.apply(V, L))
                parts_zero.append(model.scores(V, L, align))
                parts_y.append(np.array([t for _, t in rows], np.int64))
    if parts_y:
        model.fewshot = fit_few_shot(np.vstack(parts_F), np.concatenate(parts_y), np.vstack(parts_zero), k, params)
    return model, embedded


def _vectors(db: sqlite_utils.Database, encoder: Encoder):
    """Informative segments and documents with their vectors (embedding what the cache lacks)."""
    segs, s1 = load_segments(db, encoder)
    docs, embedded = documents_of_segments(segs, cached_vectors(db, encoder), encoder.dim)
    return segs, docs, (s1.embedded if s1 else 0) + embedded


def documents_of_segments(segs, vectors_of: VectorSource, dim: int):
    """The documents of these segments with their vectors, as `load_documents` builds them (a
    document of one segment has its segment's vector; a longer one the embedding of its
    segments joined), from segments already loaded: (Documents, texts embedded)."""
    from ..segments.vectors import Documents

    order: list[int] = []
    rows: dict[int, list[int]] = {}
    for i, d in enumerate(segs.doc_ids.tolist()):
        if d not in rows:
            rows[d] = []
            order.append(d)
        rows[d].append(i)
    V = np.zeros((len(order), dim), np.float32)
    inputs, where = [], []
    for n, d in enumerate(order):
        r = rows[d]
        if len(r) == 1:
            V[n] = segs.vectors[r[0]]
            continue
        texts = document_inputs([segs.texts[i] for i in r])
        if len(texts) == 1:
            inputs.append(texts[0])
            where.append((n, len(inputs) - 1, 1))
        else:  # too long to read whole: the mean of its segments
            V[n] = segs.vectors[r].mean(0)
    embedded = 0
    if inputs:
        E, stats = vectors_of(inputs)
        embedded = stats.embedded
        for n, at, _ in where:
            V[n] = E[at]
    V /= np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    first = [rows[d][0] for d in order]
    return Documents(np.array(order, np.int64), [segs.langs[i] for i in first], segs.original[first], V, []), embedded


@dataclass
class Assigned:
    doc_rows: list[tuple]
    seg_rows: list[tuple]
    abstain_rows: list[tuple]
    doc_decision: Decision | None = None  # None for rows that came from elsewhere (a Ray worker)
    seg_decision: Decision | None = None


def _assign(model: TouchpointModel, docs, segs, labels: Labels, smooth_docs: bool) -> Assigned:
    keys, p = model.keys, model.params
    k = len(keys)
    doc_cos = docs.vectors @ model.protos.T
    F = model.scores(docs.vectors, docs.langs, model.doc_align, doc_cos)
    pos = {int(d): i for i, d in enumerate(docs.ids)}
    if smooth_docs and len(docs.ids) > 1:
        clamp = {pos[d]: label_scores(t, k) for d, t in labels.docs.items() if t >= 0 and d in pos}
        F = smooth(F, model.doc_align.for_neighbours(model.doc_align.apply(docs.vectors, docs.langs)), p, clamp)
    doc_sd = spread(doc_cos)
    dd = decide(damp_flat(F, doc_sd, model.doc_spread, p.flat_share), model.temperature, p.min_confidence, second=False)
    # Segments: a document's only segment takes the document's scores; the others blend their own
    # scores with their document's (a short clause says little alone).
    doc_row = np.array([pos[int(d)] for d in segs.doc_ids], np.int64)
    per_doc = Counter(segs.doc_ids.tolist())
    several = np.flatnonzero(np.array([per_doc[d] > 1 for d in segs.doc_ids.tolist()], bool))
    G = F[doc_row] if len(doc_row) else np.zeros((0, k), np.float32)
    rel = doc_sd[doc_row] / max(model.doc_spread, 1e-9) if len(doc_row) else np.zeros(0, np.float32)
    if len(several):
        seg_cos = segs.vectors[several] @ model.protos.T
        own = model.scores(segs.vectors[several], [segs.langs[i] for i in several], model.seg_align, seg_cos)
        G = G.copy()
        G[several] = standardise_rows((1 - p.segment_context) * own + p.segment_context * G[several])
        # a clause of a document that is about something is not "about nothing": the larger relative spread counts
        rel = rel.copy()
        rel[several] = np.maximum(rel[several], spread(seg_cos) / max(model.seg_spread, 1e-9))
    sd = decide(damp_flat(G, rel, 1.0, p.flat_share), model.temperature, p.min_confidence, p.second_ratio)
    method = model.method
    doc_label = {d: t for d, t in labels.docs.items()}
    seg_rows, abstain_rows = [], []
    seg_label_of_single_doc: dict[int, int] = {}
    for i, sid in enumerate(segs.ids):
        sid, did = int(sid), int(segs.doc_ids[i])
        human = labels.segments.get(sid, doc_label.get(did))
        if human is not None:
            if sid in labels.segments and per_doc[did] == 1:
                seg_label_of_single_doc[did] = human
            if human >= 0:
                seg_rows.append((sid, keys[human], 1.0, 1, HUMAN))
            else:
                abstain_rows.append((sid, HUMAN_NONE, None, 1.0))
            continue
        if sd.first[i] >= 0:
            seg_rows.append((sid, keys[sd.first[i]], round(float(sd.first_p[i]), 4), 1, method))
            if sd.second[i] >= 0:
                seg_rows.append((sid, keys[sd.second[i]], round(float(sd.second_p[i]), 4), 2, method))
        else:
            abstain_rows.append((sid, sd.reason[i], keys[sd.best[i]], round(float(sd.best_p[i]), 4)))
    doc_rows = []
    for i, did in enumerate(docs.ids):
        did = int(did)
        human = doc_label.get(did, seg_label_of_single_doc.get(did))
        if human is not None:
            doc_rows.append((did, keys[human] if human >= 0 else None, 1.0, HUMAN, None if human >= 0 else HUMAN_NONE, None))
        elif dd.first[i] >= 0:
            doc_rows.append((did, keys[dd.first[i]], round(float(dd.first_p[i]), 4), method, None, None))
        else:
            doc_rows.append((did, None, round(float(dd.best_p[i]), 4), method, dd.reason[i], keys[dd.best[i]]))
    return Assigned(doc_rows, seg_rows, abstain_rows, dd, sd)


def write_assigned(db: sqlite_utils.Database, a: Assigned, *, replace_all: bool) -> None:
    """The rows, in the caller's transaction (`replace_all`: every earlier assignment goes)."""
    if replace_all:
        db.execute("DELETE FROM segment_touchpoints")
        db.execute("DELETE FROM touchpoint_abstentions")
        db.execute("DELETE FROM document_touchpoints")
    else:  # the segments and documents given again lose what they had
        db.conn.executemany("DELETE FROM segment_touchpoints WHERE segment_id = ?", [(r[0],) for r in a.seg_rows + a.abstain_rows])
        db.conn.executemany("DELETE FROM touchpoint_abstentions WHERE segment_id = ?", [(r[0],) for r in a.seg_rows + a.abstain_rows])
    db.conn.executemany("INSERT INTO segment_touchpoints (segment_id, touchpoint, confidence, rank, method) VALUES (?, ?, ?, ?, ?)", a.seg_rows)
    db.conn.executemany("INSERT INTO touchpoint_abstentions (segment_id, reason, closest, confidence) VALUES (?, ?, ?, ?)", a.abstain_rows)
    db.conn.executemany(
        "INSERT OR REPLACE INTO document_touchpoints (document_id, touchpoint, confidence, method, reason, closest) VALUES (?, ?, ?, ?, ?, ?)",
        a.doc_rows,
    )


def _few_shot_report(model: TouchpointModel) -> dict | None:
    if model.fewshot is None:
        return None
    r = dict(model.fewshot.report)
    r["weight"] = "examples only" if r["weight"] < 0 else r["weight"]
    r["per_touchpoint"] = {model.keys[int(t)]: v for t, v in r["per_touchpoint"].items()}
    return r


def assign_touchpoints(
    db: sqlite_utils.Database,
    *,
    encoder: Encoder | None = None,
    taxonomy: str | Path | None = None,
    examples: str | Path | None = None,
    params: AssignParams = DEFAULT_PARAMS,
) -> dict:
    """Store the taxonomy, give every informative document and segment its touchpoint(s) or
    none (with the reason), keep people's corrections, link themes."""
    started = time.perf_counter()
    if not 0.0 <= params.min_confidence <= 1.0:
        raise UsageError("E843", f"--min-confidence {params.min_confidence} is not a probability.", "Give a number from 0 to 1 (default 0.25).")
    tax = load_taxonomy(taxonomy)
    labelled = read_examples(examples, tax) if examples else None
    encoder = encoder or get_encoder(None, lazy=True)
    segs, docs, embedded = _vectors(db, encoder)
    labels = stored_labels(db, tax.keys)
    model, n = build_model(db, encoder, tax, docs, segs, examples=labelled, labels=labels, params=params)
    embedded += n
    a = _assign(model, docs, segs, labels, smooth_docs=True)
    model.meta = {
        "version": MODEL_VERSION, "keys": tax.keys, "taxonomy": tax.name, "source": tax.source, "sha256": tax.sha256,
        "encoder": encoder.id, "params": params.to_dict(), "method": model.method, "examples": len(labelled or []),
        "temperature": model.temperature, "last_segment_id": int(segs.ids.max()) if len(segs.ids) else 0, "assigned_at": utc_now(),
    }
    with transaction(db):
        db.execute("DELETE FROM theme_touchpoints")
        db.execute("DELETE FROM segment_touchpoints")
        db.execute("DELETE FROM touchpoints")
        db.conn.executemany(
            "INSERT INTO touchpoints (key, stage, label, description, owner, taxonomy, taxonomy_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(t.key, t.stage, t.label, t.description, t.owner, tax.name, tax.sha256) for t in tax.touchpoints],
        )
        write_assigned(db, a, replace_all=True)
        linked = link_themes_to_touchpoints(db)
        model.save(db)
    counts = Counter(r[1] for r in a.seg_rows if r[3] == 1)
    n_seg, n_doc = len(segs.ids), len(docs.ids)
    seg_none = len(a.abstain_rows)
    doc_none = sum(1 for r in a.doc_rows if r[1] is None)
    return {
        "taxonomy": tax.name,
        "source": tax.source,
        "touchpoints": len(tax.keys),
        "method": model.method,
        "examples": len(labelled or []),
        "corrections": len(labels.docs) + len(labels.segments),
        "corrections_ignored": labels.ignored,
        "min_confidence": params.min_confidence,
        "temperature": round(model.temperature, 4),
        "segments": n_seg,
        "assigned": n_seg - seg_none,
        "none": seg_none,
        "none_share": round(seg_none / n_seg, 4) if n_seg else 0.0,
        "none_reasons": dict(Counter(r[1] for r in a.abstain_rows)),
        "two_touchpoints": sum(1 for r in a.seg_rows if r[3] == 2),
        "documents": n_doc,
        "documents_none": doc_none,
        "documents_none_share": round(doc_none / n_doc, 4) if n_doc else 0.0,
        "by_touchpoint": {key: counts.get(key, 0) for key in sorted(tax.keys, key=lambda x: -counts.get(x, 0))},
        "by_document": dict(Counter(r[1] for r in a.doc_rows if r[1] is not None).most_common()),
        "few_shot": _few_shot_report(model),
        "aligned_languages": model.doc_align.langs,
        "projected": model.doc_align.projected,
        "concepts": int(len(model.evidence.link)) if model.evidence is not None else 0,
        "theme_links": linked,
        "embedded": embedded,
        "seconds": round(time.perf_counter() - started, 2),
    }


def touchpoint_model_for(db: sqlite_utils.Database, encoder_id: str) -> tuple[TouchpointModel | None, dict]:
    """The saved model when new segments can be given touchpoints by it; else None and the
    summary that says why."""
    has_old = db.execute("SELECT COUNT(*) FROM theme_state WHERE key IN (?, ?)", list(OLD_KEYS)).fetchone()[0]
    model = TouchpointModel.load(db)
    if model is None:
        if has_old:
            return None, {"assigned": 0, "none": 0, "model": True, "skipped": "the touchpoint model is from an older version: re-run `miner touchpoints assign`"}
        return None, {"assigned": 0, "none": 0, "model": False}
    if model.meta.get("encoder") != encoder_id:
        return None, {"assigned": 0, "none": 0, "model": True, "skipped": f"touchpoints were built on {model.meta.get('encoder')}"}
    return model, {}


def assign_new(model: TouchpointModel, segs, docs, labels: Labels) -> Assigned:
    """Touchpoints of new segments and their documents from the saved model (pure: no
    neighbours, so each document is decided alone, in any batch)."""
    return _assign(model, docs, segs, labels, smooth_docs=False)


@dataclass
class TouchpointCounts:
    """New segments given a touchpoint, and those without one."""

    assigned: int = 0
    none: int = 0

    def add(self, a: Assigned) -> None:
        self.assigned += len({r[0] for r in a.seg_rows})
        self.none += len(a.abstain_rows)


def assign_touchpoints_to_new_segments(db: sqlite_utils.Database, encoder: Encoder, done: TouchpointCounts | None = None) -> dict:
    """Segments added since the last assignment get touchpoints from the saved model (no
    re-embedding of the taxonomy, no neighbours), and their documents a main touchpoint;
    theme links are rebuilt. Only cached embeddings are read. `done`: what this run's
    workers assigned and wrote already (`miner analyze --engine ray`): their documents are
    skipped here (a worker writes a document's row with its segments') and counted in the summary."""
    model, why = touchpoint_model_for(db, encoder.id)
    if model is None:
        return why
    after = int(model.meta.get("last_segment_id", 0))
    last = last_segment_id(db, after)
    if last is None:
        return {"assigned": 0, "none": 0, "model": True}
    counts = TouchpointCounts(**(done.__dict__ if done else {}))
    segs, _ = load_segments(db, encoder, after_id=after, documents_without_touchpoint=done is not None)
    if len(segs.ids):
        docs, _ = documents_of_segments(segs, cached_vectors(db, encoder), encoder.dim)
        a = assign_new(model, segs, docs, stored_labels(db, model.keys))
        counts.add(a)
    model.meta["last_segment_id"] = int(last)
    with transaction(db):
        if len(segs.ids):
            write_assigned(db, a, replace_all=False)
        link_themes_to_touchpoints(db)
        model.save(db)
    return {"assigned": counts.assigned, "none": counts.none, "model": True}
