"""Theme discovery against the store (`miner themes discover`).

discover: read informative documents and segments with their cached embeddings (embedding only
what the cache lacks) -> `fit_themes` over documents (themes and sub-themes) -> match them to the
themes of the previous run (`identity`) -> keep ids, labels and human edits -> place every
document and sentence (`placement`) -> label themes in the reader's language (`labels`) ->
write themes, assignments, lineage and state in one transaction (a failed or interrupted run
leaves the previous themes untouched).

A run over an unchanged store (same documents, options, lexicon and encoder) does nothing.
Documents and segments added later get a theme without a refit: `miner.themes.assign`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils

from .. import __version__
from ..errors import UsageError
from ..nlp.cache import EmbeddingCache
from ..nlp.encoders.base import Encoder
from ..nlp.encoders.registry import get_encoder
from ..segments.links import link_themes_to_touchpoints
from ..segments.vectors import Documents, Segments, load_documents, load_segments
from ..store import get_setting, set_setting, transaction, utc_now
from .background import TermsInBackground
from ..concepts.space import ConceptSpace, concept_space
from .fit import FitResult, ThemeParams, centroids_of, fit_themes, multilingual, space
from .identity import Matching, match_clusters
from .keywords import TermTable, keywords_by_language
from .labels import label_themes
from ..concepts.lexicon import Lexicon, label_language, lexicon_digest, load_lexicon, normalise_language
from .placement import (
    Centroids, Placed, median_or_one, place_document_batch, place_segment_batch, theme_centroids,
)
from .state import ThemeState

QUOTES_PER_LANGUAGE = 3
LIVE = ("active", "archived")  # statuses that take part in matching and assignment
DEFAULT_LABEL_LANG = "en"
# Part of every run's fingerprint, with miner's version: raise it when what a run computes from
# the same input changes (clustering, placement, labels, kinds), so that stores refit once.
FINGERPRINT_VERSION = 2


@dataclass
class DiscoverSummary:
    run_id: int = 0
    documents: int = 0
    segments: int = 0
    fitted: int = 0
    themes: int = 0
    subthemes: int = 0
    outliers: int = 0  # documents without a theme
    outlier_share: float = 0.0
    low_confidence: int = 0
    weak_labels: int = 0
    label_lang: str = DEFAULT_LABEL_LANG
    unchanged: bool = False  # nothing changed since the last run: nothing was done
    relabelled: int = 0  # only the label language changed: this many themes were named anew, nothing refitted
    events: Counter = field(default_factory=Counter)
    embedded: int = 0
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["events"] = dict(self.events)
        return d


def discover(
    db: sqlite_utils.Database,
    *,
    encoder: Encoder | None = None,
    params: ThemeParams = ThemeParams(),
    stop_terms: set[str] = frozenset(),
    label_lang: str | None = None,
    lexicon_path: Path | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    placer=None,
) -> DiscoverSummary:
    """`placer`: where every document and sentence is placed once the fit is done (None: here;
    `miner.engine.ray_themes.RayPlacer` maps the same batch functions over a Ray cluster)."""
    started = time.perf_counter()
    placer = placer or LocalPlacer()
    stage = lambda name: progress(name) if progress else None  # noqa: E731
    last = _last_run_params(db)
    stop_terms = set(stop_terms or last.get("stop_terms", []))  # given once, they hold for later runs
    lexicon_path = lexicon_path or (Path(last["lexicon"]) if last.get("lexicon") else None)
    wanted_lang = normalise_language(label_lang or get_setting(db, "label_lang") or DEFAULT_LABEL_LANG)
    encoder = encoder or get_encoder(None, lazy=True)
    data_print = _fingerprint(db, encoder, params, stop_terms, lexicon_digest(lexicon_path))
    if not force and f"{data_print}:{wanted_lang}" == last.get("fingerprint"):
        return _unchanged(db, wanted_lang, started)
    lexicon = load_lexicon(lexicon_path)
    label_lang = label_language(wanted_lang, lexicon)
    fingerprint = f"{data_print}:{label_lang}"
    if not force and (last.get("fingerprint") or "").split(":")[0] == data_print:
        return _relabel(db, encoder, lexicon, label_lang, fingerprint, started)
    t0 = time.perf_counter()
    stage("embeddings")
    docs, dstats = load_documents(db, encoder)
    seg, sstats = load_segments(db, encoder)
    if len(docs.ids) == 0:
        raise UsageError("E801", "there are no informative documents to find themes in.", "Ingest documents first (`miner ingest FILE`).")
    concepts = concept_space(lexicon, encoder, EmbeddingCache(db)) if params.concepts else None
    seconds = {"embeddings": _since(t0)}
    # Keyword tokenising needs no themes: a second process does it while this one clusters.
    with TermsInBackground(seg.texts, seg.langs, stop_terms) as background:
        t0 = time.perf_counter()
        stage("clustering")
        fit = _cluster(docs, params, concepts, placer)
        seconds["clustering"] = _since(t0)
        t0 = time.perf_counter()
        themes_match, subs_match = _match_previous_run(db, docs, fit)
        now = utc_now()
        with transaction(db):
            run_id = _start_run(db, encoder, params, stop_terms, lexicon_path, fingerprint, len(docs.ids), fit.fitted, now)
            placed = _place_themes(db, fit, themes_match, subs_match, docs, run_id, now)
            assigned = _assign(db, docs, seg, fit, placed, run_id, placer)
            seconds["identity_and_assignment"] = _since(t0)
            t0 = time.perf_counter()
            stage("labels")
            weak = _describe_themes(db, docs, seg, assigned, placed, concepts, lexicon, label_lang, background.result(),
                                    stop_terms, run_id, now)
            seconds["labels_and_keywords"] = _since(t0)
            events = _record_lineage(db, themes_match.clusters, placed.theme_of_cluster, placed.kept_protected, run_id, now)
            events += _record_lineage(db, subs_match.clusters, placed.sub_of_cluster, [], run_id, now)
            link_themes_to_touchpoints(db)  # theme <-> touchpoint weights follow the new assignment
            set_setting(db, "label_lang", label_lang)
            _save_state(db, fit, placed, assigned, concepts, encoder, params, label_lang, run_id)
            summary = _summary(run_id, docs, seg, fit, placed, assigned, events, weak, label_lang, dstats, sstats, seconds, started)
            db.execute(
                "UPDATE theme_runs SET status = 'done', finished_at = ?, n_themes = ?, outlier_share = ?, seconds = ? WHERE id = ?",
                [utc_now(), summary.themes, summary.outlier_share, summary.seconds, run_id],
            )
    return summary


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 2)


def _last_run_params(db: sqlite_utils.Database) -> dict:
    last = db.execute("SELECT params, fingerprint FROM theme_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1").fetchone()
    if not last:
        return {}
    return {**json.loads(last[0]), "fingerprint": last[1]}


def _fingerprint(db: sqlite_utils.Database, encoder: Encoder, params: ThemeParams, stop_terms: set[str], lexicon_digest: str) -> str:
    """What a run's themes depend on, read without touching a vector: the informative documents
    and segments with their content, the options, the lexicon and the encoder (the label
    language only changes the labels, and is added to the run's fingerprint after a colon)."""
    h = hashlib.sha256()
    h.update(json.dumps([__version__, FINGERPRINT_VERSION, encoder.id, params.to_dict(), sorted(stop_terms), lexicon_digest]).encode())
    for row in db.execute(
        "SELECT s.id, s.document_id, s.text, d.lang, d.script, d.duplicate_of FROM segments s JOIN documents d ON d.id = s.document_id "
        "WHERE s.informative = 1 AND d.informative = 1 ORDER BY s.id"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def _unchanged(db: sqlite_utils.Database, label_lang: str, started: float) -> DiscoverSummary:
    run = db.execute("SELECT id, n_segments, n_fit FROM theme_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1").fetchone()
    themes = db.execute("SELECT COUNT(*) FROM themes WHERE level = 1 AND status IN (?, ?)", list(LIVE)).fetchone()[0]
    subs = db.execute("SELECT COUNT(*) FROM themes WHERE level = 2 AND status IN (?, ?)", list(LIVE)).fetchone()[0]
    docs, outliers = db.execute("SELECT COUNT(*), SUM(theme_id IS NULL) FROM document_themes").fetchone()
    return DiscoverSummary(
        run_id=run[0], documents=docs, segments=run[1] or 0, fitted=run[2] or 0, themes=themes, subthemes=subs,
        outliers=outliers or 0, outlier_share=round((outliers or 0) / max(docs, 1), 4), label_lang=label_lang,
        unchanged=True, seconds=_since(started),
    )


def _relabel(db: sqlite_utils.Database, encoder: Encoder, lexicon: Lexicon, label_lang: str, fingerprint: str,
             started: float) -> DiscoverSummary:
    """Only the label language changed: name the same themes in it, without a refit."""
    state = ThemeState.load(db)
    docs, _ = load_documents(db, encoder)
    placed = {int(d): (t, u) for d, t, u in db.execute("SELECT document_id, theme_id, subtheme_id FROM document_themes")}
    theme_of = np.array([placed.get(int(d), (None, None))[0] or -1 for d in docs.ids], dtype=np.int64)
    sub_of = np.array([placed.get(int(d), (None, None))[1] or -1 for d in docs.ids], dtype=np.int64)
    concepts = state.concepts if state is not None else None
    labels = _labels(db, docs, theme_of, sub_of, concepts, lexicon, label_lang)
    now = utc_now()
    with transaction(db):
        db.conn.executemany(
            "UPDATE themes SET label = ?, label_lang = ?, label_confidence = ?, concept = ?, kind = ?, updated_at = ? WHERE id = ?",
            [(lab.label, lab.lang, lab.confidence, lab.concept, lab.kind, now, t) for t, lab in labels.items()],
        )
        set_setting(db, "label_lang", label_lang)
        if state is not None:
            state.label_lang = label_lang
            state.save(db)
        db.execute("UPDATE theme_runs SET fingerprint = ? WHERE id = (SELECT MAX(id) FROM theme_runs WHERE status = 'done')", [fingerprint])
    summary = _unchanged(db, label_lang, started)
    summary.unchanged, summary.relabelled = False, len(labels)
    summary.weak_labels = sum(1 for t, lab in labels.items() if lab.weak and t in set(theme_of.tolist()))
    return summary


@dataclass
class _Fit:
    result: FitResult
    fit_idx: np.ndarray  # rows of the documents that were fitted (originals)
    fitted: int
    Z: np.ndarray | None  # every document in the clustering space (None: a placer computes it, batch by batch)
    project: object  # the concept projection (or None)

    def space_of(self, rows, docs: Documents) -> np.ndarray:
        if self.Z is not None:
            return self.Z[rows]
        return space(self.result.debias, self.project, docs.vectors[rows], [docs.langs[i] for i in rows])


class LocalPlacer:
    """Places documents and sentences in this process, in one batch each. A placer's contract
    (`miner.engine.ray_themes.RayPlacer` keeps it on a cluster): `label` is None (`fit_themes`
    labels every row itself) or `label_rows`'s signature; `place_documents` yields (rows,
    Placed, cosine to own theme) and `place_segments` (rows, Placed), covering every row once."""

    label = None

    def place_documents(self, debias, project, X, langs, c: Centroids, threshold: float, core_threshold: float):
        d, sims = place_document_batch(debias, project, X, langs, c, threshold, core_threshold)
        yield np.arange(len(X)), d, sims

    def place_segments(self, debias, project, X, langs, doc_theme, doc_sub, c: Centroids, threshold: float):
        yield np.arange(len(X)), place_segment_batch(debias, project, X, langs, doc_theme, doc_sub, c, threshold)


def _cluster(docs: Documents, params: ThemeParams, concepts: ConceptSpace | None, placer: LocalPlacer) -> _Fit:
    fit_idx = np.flatnonzero(docs.original)
    project = concepts.project if concepts is not None and multilingual([docs.langs[i] for i in fit_idx]) else None
    res = fit_themes(docs.vectors[fit_idx], [docs.langs[i] for i in fit_idx], [docs.keys[i] for i in fit_idx], params, project,
                     label=placer.label)
    if placer.label is not None:  # the placer labels and places every document from its raw vector
        return _Fit(res, fit_idx, int(min(len(fit_idx), params.max_fit)), None, project)
    Z = res.debias.transform(docs.vectors, docs.langs)
    return _Fit(res, fit_idx, int(min(len(fit_idx), params.max_fit)), project(Z) if project else Z, project)


@dataclass
class _Match:
    clusters: Matching  # new clusters -> themes of the previous run
    old: dict[int, int]  # document -> its live theme in the previous run
    protected: set[int]  # themes no run may merge away or retire


def _edit_constraints(db: sqlite_utils.Database) -> tuple[set[int], set[int]]:
    """(protected, no_split): pinned themes and children of a user split are never merged
    away or retired; a theme the user merged others into never splits off again."""
    protected = {r[0] for r in db.execute("SELECT id FROM themes WHERE pinned = 1 AND level = 1 AND status IN (?, ?)", list(LIVE))}
    protected |= {r[0] for r in db.execute(
        "SELECT id FROM themes WHERE level = 1 AND status IN (?, ?) AND id IN (SELECT theme_id FROM theme_edits WHERE action = 'split-child')",
        list(LIVE))}
    no_split = {r[0] for r in db.execute("SELECT json_extract(payload, '$.into') FROM theme_edits WHERE action = 'merge'")}
    return protected, no_split


_PREVIOUS_THEMES = "SELECT document_id, theme_id FROM document_themes WHERE theme_id IS NOT NULL"
_PREVIOUS_SUBTHEMES = "SELECT document_id, subtheme_id FROM document_themes WHERE subtheme_id IS NOT NULL"


def _match_previous_run(db: sqlite_utils.Database, docs: Documents, fit: _Fit) -> tuple[_Match, _Match]:
    """Identity: this run's themes and sub-themes against the previous run's, by shared documents,
    honouring human edits (themes only: sub-themes follow)."""
    fitted = {int(docs.ids[row]): i for i, row in enumerate(fit.fit_idx)}  # document -> row of the fit
    protected, no_split = _edit_constraints(db)
    matches = []
    for previous, level, labels, k, prot in (
        (_PREVIOUS_THEMES, 1, fit.result.theme_of, len(set(fit.result.theme_of_sub.tolist())), protected),
        (_PREVIOUS_SUBTHEMES, 2, fit.result.sub_of, len(fit.result.sub_centroids), set()),
    ):
        live = {r[0] for r in db.execute("SELECT id FROM themes WHERE level = ? AND status IN (?, ?)", [level, *LIVE])}
        old = {int(d): int(t) for d, t in db.execute(previous) if t in live}
        new = {d: int(labels[i]) for d, i in fitted.items() if labels[i] >= 0}
        m = match_clusters(old, new, sorted(live), list(range(k)), protected=prot)
        if level == 1:
            for c, parent in list(m.split_from.items()):
                if parent in no_split:  # the user merged these: keep them together
                    m.cluster_to_theme[c] = parent
                    del m.split_from[c]
        matches.append(_Match(m, old, prot))
    return matches[0], matches[1]


def _start_run(db: sqlite_utils.Database, encoder: Encoder, params: ThemeParams, stop_terms: set[str], lexicon_path: Path | None,
               fingerprint: str, documents: int, fitted: int, now: str) -> int:
    run_params = {**params.to_dict(), "stop_terms": sorted(stop_terms), "lexicon": str(lexicon_path) if lexicon_path else None}
    return db.execute(
        "INSERT INTO theme_runs (started_at, status, encoder, params, n_segments, n_fit, fingerprint) VALUES (?, 'running', ?, ?, ?, ?, ?)",
        [now, encoder.id, json.dumps(run_params, ensure_ascii=False), documents, fitted, fingerprint],
    ).lastrowid


@dataclass
class _Placed:
    theme_of_cluster: dict[int, int]  # theme cluster -> theme id
    sub_of_cluster: dict[int, int]  # sub-theme cluster -> sub-theme id
    kept_protected: list[int]  # protected themes no cluster matched, kept on a centroid of their own
    centroids: Centroids


def _new_theme(db: sqlite_utils.Database, level: int, parent: int | None, run_id: int, now: str) -> int:
    return db.execute(
        "INSERT INTO themes (label, status, level, parent_id, first_run, last_run, created_at, updated_at) "
        "VALUES ('', 'active', ?, ?, ?, ?, ?, ?)",
        [level, parent, run_id, run_id, now, now],
    ).lastrowid


def _place_themes(db: sqlite_utils.Database, fit: _Fit, tm: _Match, sm: _Match, docs: Documents, run_id: int, now: str) -> _Placed:
    """Every theme and sub-theme cluster's id (kept, split off or new), and the centroids to place by."""
    res = fit.result
    theme_of_cluster: dict[int, int] = {}
    for c in sorted(set(res.theme_of_sub.tolist())):
        if c in tm.clusters.cluster_to_theme:
            theme_of_cluster[c] = tm.clusters.cluster_to_theme[c]
        else:
            theme_of_cluster[c] = _new_theme(db, 1, tm.clusters.split_from.get(c), run_id, now)
    sub_of_cluster: dict[int, int] = {}
    subs_per_theme = Counter(res.theme_of_sub.tolist())
    for c in range(len(res.sub_centroids)):
        parent = theme_of_cluster[int(res.theme_of_sub[c])]
        if subs_per_theme[int(res.theme_of_sub[c])] < 2:  # a theme of one sub-theme has none to show
            _drop_cluster(sm.clusters, c)
            continue
        if c in sm.clusters.cluster_to_theme:
            sub_of_cluster[c] = sm.clusters.cluster_to_theme[c]
            db.execute("UPDATE themes SET parent_id = ? WHERE id = ?", [parent, sub_of_cluster[c]])
        else:
            sub_of_cluster[c] = _new_theme(db, 2, parent, run_id, now)
    C = [res.sub_centroids]
    sub_ids = [sub_of_cluster.get(c, -1) for c in range(len(res.sub_centroids))]
    theme_ids = [theme_of_cluster[int(res.theme_of_sub[c])] for c in range(len(res.sub_centroids))]
    # Protected themes no cluster matched stay alive on the centroid of their documents.
    kept = []
    pos = {int(d): i for i, d in enumerate(docs.ids)}
    for t in sorted(tm.protected - set(theme_of_cluster.values())):
        rows = [pos[d] for d, tt in tm.old.items() if tt == t and d in pos]
        if rows:
            C.append(centroids_of(fit.space_of(rows, docs), np.zeros(len(rows), dtype=np.int64), 1))
            sub_ids.append(-1)
            theme_ids.append(t)
            kept.append(t)
    C = np.vstack(C).astype(np.float32)
    sub_ids, theme_ids = np.array(sub_ids, dtype=np.int64), np.array(theme_ids, dtype=np.int64)
    sizes = np.bincount(res.sub_of[res.sub_of >= 0], minlength=len(C)).astype(np.float64) + 1.0
    T, T_ids = theme_centroids(C, theme_ids, sizes)
    return _Placed(theme_of_cluster, sub_of_cluster, kept, Centroids(C, sub_ids, theme_ids, T, T_ids))


def _drop_cluster(m: Matching, c: int) -> None:
    """A cluster that becomes no theme: the old theme it matched is retired."""
    if c in m.cluster_to_theme:
        m.retired.append(m.cluster_to_theme.pop(c))
    m.split_from.pop(c, None)


@dataclass
class _Assigned:
    docs: Placed
    method: np.ndarray  # per document
    segments: Placed
    seg_doc: np.ndarray  # per segment: its document's row in `docs`, -1 if its document has no vector
    segment_threshold: float


def _assign(db: sqlite_utils.Database, docs: Documents, seg: Segments, fit: _Fit, placed: _Placed, run_id: int,
            placer: "LocalPlacer") -> _Assigned:
    """Every document (fitted, copies and beyond the sample alike) and every sentence, placed by
    `placer` with the pure batch functions `place_document_batch` and `place_segment_batch`
    (here: one batch; `--engine ray`: batches on a cluster); rows are written as batches come back."""
    res, c, n = fit.result, placed.centroids, len(docs.ids)
    d = Placed(np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros(n, np.float32), np.zeros(n, bool))
    sims = None
    method = np.full(n, "assigned", dtype=object)
    method[fit.fit_idx] = res.method
    db.execute("DELETE FROM document_themes")
    for rows, part, part_sims in placer.place_documents(res.debias, fit.project, docs.vectors, docs.langs, c, res.threshold,
                                                        res.core_threshold):
        low = (part.low | (method[rows] == "outlier")) & (part.theme >= 0)
        d.theme[rows], d.sub[rows], d.score[rows], d.low[rows] = part.theme, part.sub, part.score, low
        if sims is None:
            sims = np.full(n, np.nan, part_sims.dtype)
        sims[rows] = part_sims
        _insert_document_themes(db, docs.ids[rows], part.theme, part.sub, part.score, method[rows], low, run_id)
    pos = {int(x): i for i, x in enumerate(docs.ids)}
    seg_doc = np.array([pos.get(int(x), -1) for x in seg.doc_ids], dtype=np.int64)
    fitted_docs = fit.fit_idx[d.theme[fit.fit_idx] >= 0]
    threshold = median_or_one(sims[fitted_docs]) if sims is not None else 1.0
    has_doc = seg_doc >= 0
    doc_theme = np.where(has_doc, d.theme[np.maximum(seg_doc, 0)], -1)
    doc_sub = np.where(has_doc, d.sub[np.maximum(seg_doc, 0)], -1)
    m = len(seg.ids)
    s = Placed(np.full(m, -1, np.int64), np.full(m, -1, np.int64), np.zeros(m, np.float32), np.zeros(m, bool))
    low_doc = dict(zip(docs.ids.tolist(), d.low.tolist()))
    db.execute("DELETE FROM segment_themes")
    for rows, part in placer.place_segments(res.debias, fit.project, seg.vectors, seg.langs, doc_theme, doc_sub, c, threshold):
        s.theme[rows], s.sub[rows], s.score[rows] = part.theme, part.sub, part.score
        _insert_segment_themes(db, seg.ids[rows], seg.doc_ids[rows], part.theme, part.sub, part.score, low_doc, run_id)
    return _Assigned(d, method, s, seg_doc, threshold)


def _none(x: int) -> int | None:
    return int(x) if x >= 0 else None


def _insert_document_themes(db, ids, theme, sub, score, method, low, run_id: int) -> None:
    db.conn.executemany(
        "INSERT INTO document_themes (document_id, theme_id, subtheme_id, score, method, low_confidence, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(int(i), _none(t), _none(u), round(float(sc), 4), str(me), int(lo), run_id)
         for i, t, u, sc, me, lo in zip(ids, theme, sub, score, method, low)],
    )


def _insert_segment_themes(db, ids, doc_ids, theme, sub, score, low_doc: dict, run_id: int) -> None:
    db.conn.executemany(
        "INSERT INTO segment_themes (segment_id, theme_id, subtheme_id, score, method, low_confidence, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(int(i), _none(t), _none(u), round(float(sc), 4), "document" if t >= 0 else "outlier", int(bool(low_doc.get(int(doc))) and t >= 0), run_id)
         for i, doc, t, u, sc in zip(ids, doc_ids, theme, sub, score)],
    )


def _describe_themes(db: sqlite_utils.Database, docs: Documents, seg: Segments, a: _Assigned, placed: _Placed,
                     concepts: ConceptSpace | None, lexicon: Lexicon, label_lang: str, terms: TermTable | None,
                     stop_terms: set[str], run_id: int, now: str) -> int:
    """Labels, keywords, languages, sizes and quotes of every live theme and sub-theme; returns
    how many theme labels are weak."""
    labels = _labels(db, docs, a.docs.theme, a.docs.sub, concepts, lexicon, label_lang)
    weak = sum(1 for t, lab in labels.items() if lab.weak and t in set(placed.centroids.theme_ids.tolist()))
    for doc_key, seg_key in ((a.docs.theme, a.segments.theme), (a.docs.sub, a.segments.sub)):
        keywords = keywords_by_language(seg.texts, seg.langs, [int(t) for t in seg_key], stop_terms=set(stop_terms), table=terms)
        for t in sorted(set(int(x) for x in doc_key if x >= 0) | set(int(x) for x in seg_key if x >= 0)):
            drows, srows = np.flatnonzero(doc_key == t), np.flatnonzero(seg_key == t)
            lab = labels.get(t)
            db.execute(
                "UPDATE themes SET label = ?, label_lang = ?, label_confidence = ?, concept = ?, kind = ?, size = ?, documents = ?, "
                "languages = ?, keywords = ?, quotes = ?, last_run = ?, updated_at = ?, "
                "status = CASE WHEN status IN ('active', 'archived') THEN status ELSE 'active' END WHERE id = ?",
                [lab.label if lab else f"theme {t}", lab.lang if lab else label_lang, lab.confidence if lab else 0.0, lab.concept if lab else None,
                 lab.kind if lab else "complaint", len(srows), len(drows),
                 json.dumps(dict(Counter(docs.langs[i] for i in drows).most_common()), ensure_ascii=False),
                 json.dumps(keywords.get(t, {}), ensure_ascii=False), json.dumps(_quotes(seg, srows, a.segments.score)),
                 run_id, now, t],
            )
    return weak


def _labels(db: sqlite_utils.Database, docs: Documents, theme_of: np.ndarray, sub_of: np.ndarray,
            concepts: ConceptSpace | None, lexicon: Lexicon, label_lang: str) -> dict:
    """Labels of the themes, then of each theme's sub-themes (distinct from each other; the
    largest may share its theme's name: it is usually the theme's core)."""
    if concepts is None:
        return {}
    scores = concepts.scores(docs.vectors, docs.langs, {})
    sentiment = _sentiment_tallies(db, docs, theme_of, sub_of)
    labels = label_themes(scores, theme_of, lexicon, concepts.concepts, label_lang, sentiment)
    for theme in list(labels):
        rows = theme_of == theme
        labels.update(label_themes(scores[rows], sub_of[rows], lexicon, concepts.concepts, label_lang, sentiment))
    return labels


def _sentiment_tallies(db: sqlite_utils.Database, docs: Documents, *keys: np.ndarray) -> dict[int, tuple[int, int, int]]:
    """theme -> (negative, other, positive documents) for every theme id in `keys` (other:
    neutral, mixed or any other label)."""
    sentiment = {int(d): label for d, label in db.execute("SELECT document_id, label FROM document_sentiment WHERE label IS NOT NULL")}
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for i, doc in enumerate(docs.ids.tolist()):
        label = sentiment.get(doc)
        if label is None:
            continue
        slot = 0 if label == "neg" else 2 if label == "pos" else 1
        for key in keys:
            if key[i] >= 0:
                tallies[int(key[i])][slot] += 1
    return {t: (v[0], v[1], v[2]) for t, v in tallies.items()}


def _quotes(seg: Segments, rows: np.ndarray, scores: np.ndarray) -> dict[str, list[int]]:
    """Representative quotes per language: the sentences closest to the theme, preferring
    readable lengths (20-300 characters), one per distinct text."""
    by_lang: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for i in rows:
        n = len(seg.texts[i])
        penalty = 0.0 if 20 <= n <= 300 else 0.1
        by_lang[seg.langs[i]].append((-(float(scores[i]) - penalty), int(seg.ids[i]), seg.texts[i]))
    out = {}
    for lang, items in by_lang.items():
        seen, picked = set(), []
        for _, sid, text in sorted(items):
            if text in seen:
                continue
            seen.add(text)
            picked.append(sid)
            if len(picked) == QUOTES_PER_LANGUAGE:
                break
        out[lang] = picked
    return out


def _record_lineage(db: sqlite_utils.Database, m: Matching, of_cluster: dict[int, int], kept_protected: list[int], run_id: int,
                    now: str) -> Counter:
    """Lineage rows of the run, and the fate of unmatched themes (merged, retired); returns events counted."""
    lineage = []
    for c, t in sorted(of_cluster.items()):
        if c in m.split_from:
            lineage.append((run_id, t, "split", m.split_from[c], m.overlap.get((c, m.split_from[c]))))
        elif c in m.cluster_to_theme:
            lineage.append((run_id, t, "kept", None, m.overlap.get((c, t))))
        else:
            lineage.append((run_id, t, "new", None, None))
    for t in kept_protected:
        lineage.append((run_id, t, "kept", None, None))
    for t, into in sorted(m.merged.items()):
        db.execute("UPDATE themes SET status = 'merged', merged_into = ?, size = 0, documents = 0, updated_at = ? WHERE id = ?", [into, now, t])
        lineage.append((run_id, t, "merged", into, None))
    for t in m.retired:
        db.execute("UPDATE themes SET status = 'retired', size = 0, documents = 0, updated_at = ? WHERE id = ?", [now, t])
        lineage.append((run_id, t, "retired", None, None))
    db.conn.executemany(
        "INSERT INTO theme_lineage (run_id, theme_id, event, related_theme_id, overlap) VALUES (?, ?, ?, ?, ?)", lineage
    )
    return Counter(event for (_, _, event, _, _) in lineage)


def _save_state(db: sqlite_utils.Database, fit: _Fit, placed: _Placed, a: _Assigned, concepts: ConceptSpace | None,
                encoder: Encoder, params: ThemeParams, label_lang: str, run_id: int) -> None:
    c = placed.centroids
    ThemeState(
        debias=fit.result.debias, concepts=concepts, centroids=c.C, sub_ids=c.sub_ids, theme_ids=c.theme_ids,
        theme_centroids=c.T, theme_centroid_ids=c.T_ids, threshold=fit.result.threshold,
        core_threshold=fit.result.core_threshold, segment_threshold=a.segment_threshold, encoder=encoder.id,
        run_id=run_id, params=params.to_dict(), label_lang=label_lang, projected=fit.project is not None,
    ).save(db)


def _summary(run_id: int, docs: Documents, seg: Segments, fit: _Fit, placed: _Placed, a: _Assigned, events: Counter, weak: int,
             label_lang: str, dstats, sstats, seconds: dict, started: float) -> DiscoverSummary:
    outliers = int((a.docs.theme < 0).sum())
    return DiscoverSummary(
        run_id=run_id, documents=len(docs.ids), segments=len(seg.ids), fitted=fit.fitted,
        themes=len(set(placed.centroids.theme_ids.tolist())), subthemes=int((placed.centroids.sub_ids >= 0).sum()),
        outliers=outliers, outlier_share=round(outliers / max(len(docs.ids), 1), 4), low_confidence=int(a.docs.low.sum()),
        weak_labels=weak, label_lang=label_lang, events=events,
        embedded=(dstats.embedded if dstats else 0) + (sstats.embedded if sstats else 0),
        seconds=_since(started), stage_seconds=seconds,
    )
