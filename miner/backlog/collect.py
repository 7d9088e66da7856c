"""Read the store into backlog candidates: (theme, touchpoint) pairs with counts, trend and quotes.

Counting unit: documents that are originals and informative, as in miner.trends. A pair
(T, P) holds the informative segments whose theme ends in T (following `merged_into`) and
that sit at touchpoint P; a segment at two touchpoints counts for both; segments of T
without a touchpoint form the pair (T, none). Only active themes count: archived,
retired, split and merged-away themes never make items.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlite_utils

from ..fields import documents_clause
from ..measures.theme_targets import theme_targets
from ..sparkline import sparkline
from ..trends.detect import spike_pvalue
from ..trends.periods import Period, parse_day, period_of, period_range
from .priority import MIN_GROWTH_DOCUMENTS

TREND_WEEKS = 12  # the sparkline
RECENT_WEEKS = 4  # growth: these weeks (ending with the as-of week) ...
QUOTE_CHARS = 280

PAIRS_SQL = """
SELECT d.id, g.id, st.theme_id, tp.touchpoint, ss.label, ss.score, g.lang, substr(d.created_at, 1, 10), d.channel
FROM documents d JOIN segments g ON g.document_id = d.id
JOIN segment_themes st ON st.segment_id = g.id
LEFT JOIN segment_touchpoints tp ON tp.segment_id = g.id
LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id
WHERE st.theme_id IS NOT NULL AND d.duplicate_of IS NULL AND d.informative = 1 AND COALESCE(g.informative, 1) != 0
"""


def item_id(theme_id: int, touchpoint: str | None) -> str:
    """`BL-12-billing`; `BL-12` for a theme without touchpoint. Keys with other characters get a hash."""
    if touchpoint is None:
        return f"BL-{theme_id}"
    slug = re.sub(r"[^a-z0-9_]+", "-", touchpoint.casefold()).strip("-")[:40]
    if slug != touchpoint:
        slug = (slug + "-" if slug else "") + hashlib.sha1(touchpoint.encode("utf-8")).hexdigest()[:6]
    return f"BL-{theme_id}-{slug}"


@dataclass
class Pair:
    theme: int
    touchpoint: str | None
    docs: dict[int, str | None] = field(default_factory=dict)  # document -> day
    channels: dict[int, str | None] = field(default_factory=dict)
    segments: dict[int, tuple] = field(default_factory=dict)  # segment -> (document, label, score, lang)

    @property
    def id(self) -> str:
        return item_id(self.theme, self.touchpoint)


@dataclass
class Collected:
    pairs: dict[tuple, Pair]
    theme_docs: dict[int, set]
    touchpoint_docs: dict[str, set]
    themes: dict  # id -> ThemeInfo (label, status)
    targets: dict[int, int]
    day_totals: dict[date, int]


def collect(db: sqlite_utils.Database, fields: dict[str, list[str]] | None = None) -> Collected:
    """Every (theme, touchpoint) pair's documents and segments, and documents per day; `fields`
    (`{"airline": ["United"]}`) keeps only the documents with those values."""
    targets, info = theme_targets(db)
    pairs: dict[tuple, Pair] = {}
    theme_docs: dict[int, set] = defaultdict(set)
    tp_docs: dict[str, set] = defaultdict(set)
    restrict, params = documents_clause(db, fields or {}, "d.id")
    for doc, seg, theme, tp, label, score, lang, day, channel in db.execute(PAIRS_SQL + restrict, params):
        target = targets.get(theme, theme)
        if target not in info or info[target].status != "active":
            continue
        key = (target, tp)
        p = pairs.get(key)
        if p is None:
            p = pairs[key] = Pair(target, tp)
        p.docs[doc] = day
        p.channels[doc] = channel
        p.segments[seg] = (doc, label, score, lang)
        theme_docs[target].add(doc)
        if tp is not None:
            tp_docs[tp].add(doc)
    totals: dict[date, int] = {}
    restrict, params = documents_clause(db, fields or {}, "id")
    for day_text, n in db.execute(
        "SELECT substr(created_at, 1, 10), COUNT(*) FROM documents WHERE duplicate_of IS NULL AND informative = 1 "
        "AND created_at IS NOT NULL" + restrict + " GROUP BY 1", params
    ):
        day = parse_day(day_text)
        if day is not None:
            totals[day] = totals.get(day, 0) + n
    return Collected(pairs, theme_docs, tp_docs, info, targets, totals)


def by_theme(c: Collected) -> dict[int, list[Pair]]:
    """Each theme's (theme, touchpoint) pairs: an item is a theme, its touchpoints are facets of it."""
    out: dict[int, list[Pair]] = defaultdict(list)
    for (theme, _tp), pair in sorted(c.pairs.items(), key=lambda kv: (kv[0][0], kv[0][1] is None, kv[0][1] or "")):
        out[theme].append(pair)
    return out


def theme_pair(pairs: list[Pair]) -> Pair:
    """All of a theme's documents and segments as one pair without touchpoint (a segment at two
    touchpoints counts once)."""
    whole = Pair(pairs[0].theme, None)
    for p in pairs:
        whole.docs.update(p.docs)
        whole.channels.update(p.channels)
        whole.segments.update(p.segments)
    return whole


def facets(pairs: list[Pair], theme_docs: int, tp_info: dict[str, dict]) -> list[dict]:
    """Where in the journey a theme hurts: each touchpoint with its documents, share of the
    theme's documents and negative share, the most documents first."""
    out = []
    for p in pairs:
        if p.touchpoint is None:
            continue
        n = counts(p)
        info = tp_info.get(p.touchpoint, {})
        out.append({"touchpoint": p.touchpoint, "label": info.get("label") or p.touchpoint, "stage": info.get("stage"),
                    "owner": info.get("owner"), "documents": n["documents"],
                    "share": round(n["documents"] / theme_docs, 4) if theme_docs else None,
                    "negative_share": n["negative_share"], "neg_segments": n["neg_segments"]})
    return sorted(out, key=lambda f: (-f["documents"], -f["neg_segments"], f["touchpoint"]))


def default_as_of(c: Collected) -> date | None:
    """The last day with data: the backlog of an old export reads the same whenever it is built."""
    return max(c.day_totals, default=None)


def weeks_until(as_of: date, n: int = TREND_WEEKS) -> list[Period]:
    last = period_of(as_of, "week")
    return period_range(last.shift(-(n - 1)), last)


def trend(pair: Pair, weeks: list[Period], week_totals: list[int], recent: int = RECENT_WEEKS) -> dict:
    """Weekly documents of the pair, and growth of its share: the last `recent` weeks against the weeks before."""
    index = {p.start: i for i, p in enumerate(weeks)}
    volume = [0] * len(weeks)
    for day_text in pair.docs.values():
        day = parse_day(day_text)
        if day is None:
            continue
        i = index.get(period_of(day, "week").start)
        if i is not None:
            volume[i] += 1
    x, n = sum(volume[-recent:]), sum(week_totals[-recent:])
    xb, nb = sum(volume[:-recent]), sum(week_totals[:-recent])
    few = x + xb < MIN_GROWTH_DOCUMENTS  # "+700%" from a dozen documents is noise, not news
    growth = None
    if n and nb and xb and not few:
        growth = (x / n) / (xb / nb) - 1
    p_value = spike_pvalue(x, n, xb, nb) if n and nb else None
    return {
        "weeks": [p.label for p in weeks],
        "volume": volume,
        "sparkline": sparkline(volume),
        "recent_weeks": recent,
        "recent_documents": x,
        "recent_share": round(x / n, 6) if n else None,
        "baseline_documents": xb,
        "baseline_share": round(xb / nb, 6) if nb else None,
        "growth": None if growth is None else round(growth, 4),
        "few": few,
        "p_value": None if p_value is None else round(p_value, 6),
    }


def week_totals(c: Collected, weeks: list[Period]) -> list[int]:
    index = {p.start: i for i, p in enumerate(weeks)}
    out = [0] * len(weeks)
    for day, n in c.day_totals.items():
        i = index.get(period_of(day, "week").start)
        if i is not None:
            out[i] += n
    return out


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def pick_quotes(pair: Pair, theme_quotes: set[int], limit: int) -> list[int]:
    """Segment ids: the most negative first, one language at a time (most frequent language first)
    so that several languages speak; the theme's own representative quotes break ties."""
    by_lang: dict[str, list] = defaultdict(list)
    for seg, (_doc, label, score, lang) in pair.segments.items():
        by_lang[lang or "und"].append(((label != "neg"), seg not in theme_quotes, score if score is not None else 0.0, seg))
    order = sorted(by_lang, key=lambda lang: (-len(by_lang[lang]), lang))
    for lang in order:
        by_lang[lang].sort()
    picked: list[int] = []
    seen_docs: set[int] = set()
    pointer = dict.fromkeys(order, 0)
    while len(picked) < limit:
        progressed = False
        for lang in order:
            cands, i = by_lang[lang], pointer[lang]
            while i < len(cands) and pair.segments[cands[i][3]][0] in seen_docs:  # one quote per document
                i += 1
            if i < len(cands):
                picked.append(cands[i][3])
                seen_docs.add(pair.segments[cands[i][3]][0])
                i += 1
                progressed = True
            pointer[lang] = i
            if len(picked) == limit:
                break
        if not progressed:
            break
    return picked


def quote_rows(db: sqlite_utils.Database, segment_ids: list[int]) -> dict[int, dict]:
    if not segment_ids:
        return {}
    marks = ",".join("?" * len(segment_ids))
    rows = db.execute(
        f"SELECT g.id, g.document_id, g.text, g.lang, ss.label, d.channel, substr(d.created_at, 1, 10), d.external_id "
        f"FROM segments g JOIN documents d ON d.id = g.document_id LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id "
        f"WHERE g.id IN ({marks})",
        segment_ids,
    ).fetchall()
    return {
        r[0]: {"segment_id": r[0], "document_id": r[1], "text": _trim(r[2]), "lang": r[3], "sentiment": r[4],
               "channel": r[5], "date": r[6], "external_id": r[7]}
        for r in rows
    }


def theme_quote_ids(db: sqlite_utils.Database) -> dict[int, set[int]]:
    out = {}
    for tid, quotes in db.execute("SELECT id, quotes FROM themes WHERE quotes IS NOT NULL"):
        try:
            data = json.loads(quotes)
            out[tid] = {int(s) for ids in data.values() for s in ids}
        except (ValueError, TypeError, AttributeError):
            out[tid] = set()
    return out


def touchpoint_info(db: sqlite_utils.Database) -> dict[str, dict]:
    return {r[0]: {"label": r[1], "stage": r[2], "owner": r[3]} for r in db.execute("SELECT key, label, stage, owner FROM touchpoints")}


def counts(pair: Pair) -> dict:
    labels = Counter(v[1] for v in pair.segments.values())
    labelled = sum(n for lab, n in labels.items() if lab is not None)
    days = sorted(d for d in pair.docs.values() if d)
    return {
        "documents": len(pair.docs),
        "segments": len(pair.segments),
        "neg_segments": labels.get("neg", 0),
        "pos_segments": labels.get("pos", 0),
        "labelled_segments": labelled,
        "negative_share": round(labels.get("neg", 0) / labelled, 4) if labelled else None,
        "languages": dict(Counter(v[3] or "und" for v in pair.segments.values()).most_common()),
        "channels": dict(Counter(c or "(none)" for c in pair.channels.values()).most_common()),
        "first_seen": days[0] if days else None,
        "last_seen": days[-1] if days else None,
    }
