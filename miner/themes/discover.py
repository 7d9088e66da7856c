"""Theme discovery against the store (`miner themes discover`).

discover: read informative segments and their cached embeddings (embedding only what the
cache lacks) -> `fit_themes` -> match clusters to existing themes (`identity`) -> keep ids,
labels and human edits -> write themes, assignments, lineage and state in one transaction
(a failed or interrupted run leaves the previous themes untouched).

Segments added later get a theme without a refit: `miner.themes.assign`.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from ..errors import UsageError
from ..nlp.encoders.base import Encoder
from ..nlp.encoders.registry import get_encoder
from ..segments.links import link_themes_to_touchpoints
from ..segments.vectors import Segments, load_segments
from ..store import transaction, utc_now
from .background import TermsInBackground
from .fit import FitResult, ThemeParams, centroids_of, fit_themes, nearest
from .identity import Matching, match_clusters
from .keywords import TermTable, keywords_by_language, theme_label
from .state import ThemeState

QUOTES_PER_LANGUAGE = 3
LIVE = ("active", "archived")  # statuses that take part in matching and assignment


def _edit_constraints(db: sqlite_utils.Database) -> tuple[set[int], set[int]]:
    """(protected, no_split): pinned themes and children of a user split are never merged
    away or retired; a theme the user merged others into never splits off again."""
    protected = {r[0] for r in db.execute("SELECT id FROM themes WHERE pinned = 1 AND status IN ('active', 'archived')")}
    protected |= {r[0] for r in db.execute("SELECT id FROM themes WHERE parent_id IS NOT NULL AND status IN ('active', 'archived') AND id IN (SELECT theme_id FROM theme_edits WHERE action = 'split-child')")}
    no_split = {r[0] for r in db.execute("SELECT json_extract(payload, '$.into') FROM theme_edits WHERE action = 'merge'")}
    return protected, no_split


def _quotes(seg: Segments, rows: np.ndarray, scores: np.ndarray) -> dict[str, list[int]]:
    """Representative quotes per language: the segments closest to the centroid, preferring
    readable lengths (20-300 characters), one per distinct text."""
    by_lang: dict[str, list[tuple[float, int]]] = defaultdict(list)
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


@dataclass
class DiscoverSummary:
    run_id: int = 0
    segments: int = 0
    fitted: int = 0
    themes: int = 0
    outliers: int = 0
    outlier_share: float = 0.0
    low_confidence: int = 0
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
    progress: Callable[[str], None] | None = None,
) -> DiscoverSummary:
    started = time.perf_counter()
    stage = lambda name: progress(name) if progress else None  # noqa: E731
    stop_terms = stop_terms or _last_stop_terms(db)  # stop terms given once hold for later runs
    t0 = time.perf_counter()
    encoder = encoder or get_encoder(None, lazy=True)
    stage("embeddings")
    seg, stats = load_segments(db, encoder)
    seconds = {"embeddings": _since(t0)}
    if len(seg.ids) == 0:
        raise UsageError("E801", "there are no informative segments to find themes in.", "Ingest documents first (`miner ingest FILE`).")
    # Keyword tokenising needs no themes: a second process does it while this one clusters.
    with TermsInBackground(seg.texts, seg.langs, stop_terms) as background:
        t0 = time.perf_counter()
        stage("clustering")
        fit = _cluster(seg, params)
        seconds["clustering"] = _since(t0)
        t0 = time.perf_counter()
        match = _match_previous_run(db, seg, fit)
        now = utc_now()
        with transaction(db):
            run_id = _start_run(db, encoder, params, stop_terms, len(seg.ids), fit.fitted, now)
            placed = _place_clusters(db, seg, fit, match, run_id, now)
            assigned = _assign_segments(db, seg, fit, placed, run_id)
            seconds["identity_and_assignment"] = _since(t0)
            t0 = time.perf_counter()
            stage("keywords")
            live_ids = _label_themes(db, seg, assigned, placed, background.result(), stop_terms, fit.result.threshold, run_id, now)
            seconds["keywords"] = _since(t0)
            events = _record_lineage(db, match.clusters, placed, run_id, now)
            link_themes_to_touchpoints(db)  # theme <-> touchpoint weights follow the new assignment
            ThemeState(
                debias=fit.result.debias, centroids=placed.centroids, theme_ids=placed.theme_ids,
                threshold=fit.result.threshold, core_threshold=fit.result.core_threshold,
                encoder=encoder.id, run_id=run_id, params=params.to_dict(),
            ).save(db)
            outliers = int((assigned.theme_of < 0).sum())
            summary = DiscoverSummary(
                run_id=run_id, segments=len(seg.ids), fitted=fit.fitted, themes=len(live_ids), outliers=outliers,
                outlier_share=round(outliers / len(seg.ids), 4),
                low_confidence=int((assigned.low & (assigned.theme_of >= 0)).sum()), events=events,
                embedded=stats.embedded if stats else 0, seconds=_since(started), stage_seconds=seconds,
            )
            db.execute(
                "UPDATE theme_runs SET status = 'done', finished_at = ?, n_themes = ?, outlier_share = ?, seconds = ? WHERE id = ?",
                [utc_now(), summary.themes, summary.outlier_share, summary.seconds, run_id],
            )
    return summary


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 2)


def _last_stop_terms(db: sqlite_utils.Database) -> set[str]:
    last = db.execute("SELECT params FROM theme_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1").fetchone()
    return set(json.loads(last[0]).get("stop_terms", [])) if last else set()


@dataclass
class _Fit:
    result: FitResult
    fit_idx: np.ndarray  # rows of the segments that were fitted (originals)
    fitted: int  # how many of them the fit used (at most max_fit)
    debiased: np.ndarray  # every segment's vector, language-debiased as the fit was


def _cluster(seg: Segments, params: ThemeParams) -> _Fit:
    fit_idx = np.flatnonzero(seg.original)
    res = fit_themes(seg.vectors[fit_idx], [seg.langs[i] for i in fit_idx], [seg.keys[i] for i in fit_idx], params)
    return _Fit(res, fit_idx, int(min(len(fit_idx), params.max_fit)), res.debias.transform(seg.vectors, seg.langs))


@dataclass
class _Match:
    clusters: Matching  # new clusters -> themes of the previous run
    old: dict[int, int]  # segment -> its live theme in the previous run
    protected: set[int]  # themes no run may merge away or retire


def _match_previous_run(db: sqlite_utils.Database, seg: Segments, fit: _Fit) -> _Match:
    """Identity: the new clusters against the themes of the previous run, honouring human edits."""
    old = {int(s): int(t) for s, t in db.execute("SELECT segment_id, theme_id FROM segment_themes WHERE theme_id IS NOT NULL")}
    old_live = {r[0]: r[1] for r in db.execute("SELECT id, status FROM themes WHERE status IN (?, ?)", list(LIVE))}
    old = {s: t for s, t in old.items() if t in old_live}
    k = fit.result.centroids.shape[0]
    new_map = {int(seg.ids[fit.fit_idx[i]]): int(c) for i, c in enumerate(fit.result.labels) if c >= 0}
    protected, no_split = _edit_constraints(db)
    m = match_clusters(old, new_map, sorted(old_live), list(range(k)), protected=protected)
    for c, parent in list(m.split_from.items()):
        if parent in no_split:  # the user merged these: keep them together
            m.cluster_to_theme[c] = parent
            del m.split_from[c]
    return _Match(m, old, protected)


def _start_run(db: sqlite_utils.Database, encoder: Encoder, params: ThemeParams, stop_terms: set[str], segments: int,
               fitted: int, now: str) -> int:
    return db.execute(
        "INSERT INTO theme_runs (started_at, status, encoder, params, n_segments, n_fit) VALUES (?, 'running', ?, ?, ?, ?)",
        [now, encoder.id, json.dumps({**params.to_dict(), "stop_terms": sorted(stop_terms)}, ensure_ascii=False), segments, fitted],
    ).lastrowid


@dataclass
class _Placed:
    cluster_theme: dict[int, int]  # cluster -> theme id (kept, split off or new)
    kept_protected: list[int]  # protected themes no cluster matched, kept on their own centroid
    centroids: np.ndarray  # one row per entry of theme_ids
    theme_ids: np.ndarray


def _place_clusters(db: sqlite_utils.Database, seg: Segments, fit: _Fit, match: _Match, run_id: int, now: str) -> _Placed:
    """Every cluster's theme (creating new and split-off themes), and the centroids to assign by."""
    m, k = match.clusters, fit.result.centroids.shape[0]

    def new_theme(parent: int | None = None) -> int:
        return db.execute(
            "INSERT INTO themes (label, status, parent_id, first_run, last_run, created_at, updated_at) VALUES ('', 'active', ?, ?, ?, ?, ?)",
            [parent, run_id, run_id, now, now],
        ).lastrowid

    cluster_theme: dict[int, int] = {}
    for c in range(k):
        if c in m.cluster_to_theme:
            cluster_theme[c] = m.cluster_to_theme[c]
        elif c in m.split_from:
            cluster_theme[c] = new_theme(m.split_from[c])
        else:
            cluster_theme[c] = new_theme()
    # Protected themes no cluster matched stay alive on the centroid of their segments.
    kept = set(cluster_theme.values())
    extra_C, extra_ids = [], []
    seg_pos = {int(s): i for i, s in enumerate(seg.ids)}
    for t in sorted(match.protected - kept):
        rows = [seg_pos[s] for s, tt in match.old.items() if tt == t and s in seg_pos]
        if rows:
            extra_C.append(centroids_of(fit.debiased[rows], np.zeros(len(rows), dtype=np.int64), 1)[0])
            extra_ids.append(t)
    C = np.vstack([fit.result.centroids, *([np.array(extra_C)] if extra_C else [])]).astype(np.float32)
    ids = np.array([cluster_theme[c] for c in range(k)] + extra_ids, dtype=np.int64)
    return _Placed(cluster_theme, extra_ids, C, ids)


@dataclass
class _Assigned:
    theme_of: np.ndarray  # per segment: its theme id, or -1 (outlier)
    score: np.ndarray  # cosine to the nearest centroid
    low: np.ndarray  # bool: outlier of the fit or under the core threshold


def _assign_segments(db: sqlite_utils.Database, seg: Segments, fit: _Fit, placed: _Placed, run_id: int) -> _Assigned:
    """Final assignment of every segment (fitted, duplicates and beyond the sample alike)."""
    res = fit.result
    idx, score = nearest(fit.debiased, placed.centroids)
    ids = placed.theme_ids
    theme_of = np.where(score >= res.threshold, ids[idx] if len(ids) else -1, -1)
    method = np.full(len(seg.ids), "assigned", dtype=object)
    method[fit.fit_idx] = res.method
    low = (method == "outlier") | (score < res.core_threshold)
    db.execute("DELETE FROM segment_themes")
    db.conn.executemany(
        "INSERT INTO segment_themes (segment_id, theme_id, score, method, low_confidence, run_id) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (int(s), int(t) if t >= 0 else None, round(float(sc), 4), str(me), int(lo and t >= 0), run_id)
            for s, t, sc, me, lo in zip(seg.ids, theme_of, score, method, low)
        ],
    )
    return _Assigned(theme_of, score, low)


def _label_themes(db: sqlite_utils.Database, seg: Segments, assigned: _Assigned, placed: _Placed, terms: TermTable | None,
                  stop_terms: set[str], threshold: float, run_id: int, now: str) -> list[int]:
    """Keywords, label, languages and quotes of every live theme; returns their ids."""
    theme_of = assigned.theme_of
    kw = keywords_by_language(seg.texts, seg.langs, [int(t) for t in theme_of], stop_terms=set(stop_terms), table=terms)
    live_ids = sorted(set(int(t) for t in placed.theme_ids))
    for t in live_ids:
        rows = np.flatnonzero(theme_of == t)
        langs = Counter(seg.langs[i] for i in rows)
        keywords = kw.get(t, {})
        db.execute(
            "UPDATE themes SET label = ?, size = ?, languages = ?, keywords = ?, quotes = ?, threshold = ?, "
            "last_run = ?, updated_at = ?, status = CASE WHEN status IN ('active', 'archived') THEN status ELSE 'active' END "
            "WHERE id = ?",
            [
                theme_label(keywords, dict(langs)),
                len(rows),
                json.dumps(dict(langs.most_common()), ensure_ascii=False),
                json.dumps(keywords, ensure_ascii=False),
                json.dumps(_quotes(seg, rows, assigned.score)),
                threshold,
                run_id,
                now,
                t,
            ],
        )
    return live_ids


def _record_lineage(db: sqlite_utils.Database, m: Matching, placed: _Placed, run_id: int, now: str) -> Counter:
    """Lineage rows of the run, and the fate of unmatched themes (merged, retired); returns events counted."""
    lineage = []
    for c, t in sorted(placed.cluster_theme.items()):
        if c in m.split_from:
            lineage.append((run_id, t, "split", m.split_from[c], m.overlap.get((c, m.split_from[c]))))
        elif c in m.cluster_to_theme:
            lineage.append((run_id, t, "kept", None, m.overlap.get((c, t))))
        else:
            lineage.append((run_id, t, "new", None, None))
    for t in placed.kept_protected:
        lineage.append((run_id, t, "kept", None, None))
    for t, into in sorted(m.merged.items()):
        db.execute("UPDATE themes SET status = 'merged', merged_into = ?, size = 0, updated_at = ? WHERE id = ?", [into, now, t])
        lineage.append((run_id, t, "merged", into, None))
    for t in m.retired:
        db.execute("UPDATE themes SET status = 'retired', size = 0, updated_at = ? WHERE id = ?", [now, t])
        lineage.append((run_id, t, "retired", None, None))
    db.conn.executemany(
        "INSERT INTO theme_lineage (run_id, theme_id, event, related_theme_id, overlap) VALUES (?, ?, ?, ?, ?)", lineage
    )
    return Counter(event for (_, _, event, _, _) in lineage)
