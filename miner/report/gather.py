"""Everything the report shows, gathered from the library as plain data (no HTML here).

Counting follows `miner trends`: original, informative documents; a document counts once per
theme or touchpoint it mentions; `since` narrows every count, chart and list to documents from
that day on, except three whole-store figures the library computes over all documents, which
the report marks as such: impact on scores (`miner backlog impact`), the backlog (`miner
backlog`) and the sub-themes' sizes. Sizes are bounded for large stores: quotes, backlog items
and chart points are samples (the first N by a fixed order), never every row.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import sqlite_utils

from .. import __version__
from ..arrays import unpack_arrays
from ..backlog import build_backlog, impact_report
from ..backlog.build import summary_line
from ..backlog.formats import primary_kind
from ..errors import InputError
from ..measures.impact import figure
from ..measures.scores import load_scores
from ..measures.theme_targets import theme_targets
from ..store import get_setting, utc_now
from ..trends.detect import detect
from ..trends.periods import period_of
from ..trends.series import trends
from . import queries as Q

RECENT_WEEKS = 4  # "what changed": these weeks against the same number before (as the backlog's growth)
BASELINE_WEEKS = 8  # theme growth: the last 4 weeks' share against the 8 weeks before, as the backlog
MIN_GROWTH_DOCUMENTS = 10  # under this many documents in both windows, growth is "few" (as the backlog)
LIMITS = {
    "themes": 200,  # rows of the themes table
    "quotes_per_language": 2,  # quotes per language in a theme's drill-down ...
    "quotes_per_theme": 8,  # ... and in all
    "keywords": 8,  # keywords per language
    "trend_themes": 8,  # lines in the trend charts
    "backlog": 50,  # backlog items
    "quotes_per_item": 3,
    "alerts": 50,
    "accounts": 2000,  # points in the accounts chart
    "quote_chars": 400,
}


def _trim(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _need_themes(db: sqlite_utils.Database) -> None:
    if not db["themes"].exists() or not db.execute("SELECT 1 FROM themes WHERE level = 1 AND status = 'active' LIMIT 1").fetchone():
        raise InputError("E650", "this store has no themes yet.", "Run `miner analyze` and `miner themes discover` first (or `miner demo`).")


# --- labels in the reader's language -------------------------------------------------


def reader_labels(db: sqlite_utils.Database, rows: list[dict], label_lang: str | None) -> tuple[dict[int, str], str, str]:
    """{theme id: label} in `label_lang`, the language code, and a note saying where labels come from.

    Labels are read, never written: a theme's stored concept named in `label_lang` from the
    concept lexicon (English where the lexicon lacks that language for a concept), with the
    stored number suffix ("Slow internet speed (2)") kept, which is what `miner themes
    discover --label-lang` stores without refitting. A person's label (`themes rename`) wins.
    """
    stored_lang = get_setting(db, "label_lang") or "en"
    stored = {r["id"]: r["custom_label"] or r["label"] or f"theme {r['id']}" for r in rows}
    if not label_lang:
        return stored, stored_lang, f"Theme labels as stored ({stored_lang})."
    from ..concepts.lexicon import label_language, load_lexicon

    extra = Q.last_run_lexicon(db)
    lexicon = load_lexicon(Path(extra) if extra and Path(extra).exists() else None)
    lang = label_language(label_lang, lexicon)  # E816 names the languages there are
    if lang == stored_lang:
        return stored, lang, f"Theme labels as stored ({lang})."
    out, fallback = {}, 0
    for r in rows:
        if r["custom_label"] or not r["concept"]:
            out[r["id"]] = stored[r["id"]]
            continue
        suffix = m.group(0) if (m := re.search(r" \(\d+\)$", r["label"] or "")) else ""
        text = lexicon.label(r["concept"], lang)
        if text is None:
            fallback += 1
            text = lexicon.label(r["concept"], "en") or r["label"]
        out[r["id"]] = text + suffix
    note = f"Theme labels in {lang}, from each theme's concept (the store's own labels are in {stored_lang})"
    note += f"; {fallback} concept(s) have no {lang} label and stay in English." if fallback else "."
    return out, lang, note


# --- the sections ---------------------------------------------------------------------


def _week_windows(last_day: date) -> tuple[date, date, date]:
    """(start of the previous window, start of the recent window, end): 4 ISO weeks each, the recent
    one ending with the week of the last day with data."""
    end = period_of(last_day, "week").shift(1).start
    recent = end - timedelta(weeks=RECENT_WEEKS)
    return recent - timedelta(weeks=RECENT_WEEKS), recent, end


def _score_figures(db: sqlite_utils.Database, in_scope: set[int], windows: tuple[date, date, date] | None) -> dict:
    """NPS / CSAT / stars over the documents in scope, and over the two windows of "what changed"."""
    out = {}
    dates = {}
    if windows:
        dates = {i: d for i, d in db.execute("SELECT id, substr(created_at, 1, 10) FROM documents WHERE score IS NOT NULL")}
    for kind, s in load_scores(db).items():
        keep = np.fromiter((int(d) in in_scope for d in s.doc_ids), dtype=bool, count=s.doc_ids.size)
        entry = {"responses": int(keep.sum()), "figure": figure(kind, s.scores[keep]) if keep.any() else None,
                 "sources": s.sources}
        if windows:
            lo, mid, hi = (x.isoformat() for x in windows)
            day = np.array([dates.get(int(d)) or "" for d in s.doc_ids])
            before = keep & (day >= lo) & (day < mid)
            after = keep & (day >= mid) & (day < hi)
            entry["before"] = figure(kind, s.scores[before]) if before.sum() >= 5 else None
            entry["after"] = figure(kind, s.scores[after]) if after.sum() >= 5 else None
            entry["before_responses"], entry["after_responses"] = int(before.sum()), int(after.sum())
        out[kind] = entry
    return out


def overview(db: sqlite_utils.Database, since: date | None, table_week) -> dict:
    docs = Q.documents(db, since)
    last = date.fromisoformat(docs["last_day"]) if docs["last_day"] else None
    windows = _week_windows(last) if last else None
    out = {
        **docs,
        "languages": Q.languages(db, since),
        "channels": Q.channels(db, since),
        "sentiment": Q.sentiment_mix(db, since),
        "scores": _score_figures(db, Q.document_ids(db, since), windows),
        "weekly": {"periods": [p.label for p in table_week.periods], "starts": [p.start.isoformat() for p in table_week.periods],
                   "totals": table_week.totals},
        "changes": None,
    }
    if windows:
        lo, mid, hi = (x.isoformat() for x in windows)
        before, after = Q.sentiment_mix(db, since, lo, mid), Q.sentiment_mix(db, since, mid, hi)
        rated = lambda m: m["neg"] + m["neu"] + m["pos"]  # noqa: E731
        out["changes"] = {
            "windows": {"before": [lo, mid], "after": [mid, hi]},
            "documents": {"before": sum(before.values()), "after": sum(after.values())},
            "negative_share": {"before": before["neg"] / rated(before) if rated(before) else None,
                               "after": after["neg"] / rated(after) if rated(after) else None},
        }
    return out


def _growth(volume: list[int], totals: list[int]) -> dict:
    """The last 4 weeks' share against the 8 weeks before, as the backlog computes growth."""
    x, n = sum(volume[-RECENT_WEEKS:]), sum(totals[-RECENT_WEEKS:])
    base = slice(max(0, len(volume) - RECENT_WEEKS - BASELINE_WEEKS), max(0, len(volume) - RECENT_WEEKS))
    xb, nb = sum(volume[base]), sum(totals[base])
    few = x + xb < MIN_GROWTH_DOCUMENTS
    growth = None if few or not n or not nb or not xb else (x / n) / (xb / nb) - 1
    return {"growth": growth, "few": few, "recent": x, "baseline": xb}


def themes_section(db: sqlite_utils.Database, since: date | None, labels: dict[int, str], rows: list[dict], table,
                   report: dict) -> dict:
    """Level-1 active themes with their figures in scope, drill-down details and the map.
    `report`: `impact_report` (whole store)."""
    targets, _ = theme_targets(db)
    by_id = {r["id"]: r for r in rows}
    langs = Q.theme_languages(db, since, targets)
    tps = Q.theme_touchpoints(db)
    total = sum(table.totals) or 1
    impacts = {r["key"]: r["impacts"] for r in report["rows"]}
    kinds_seen = sorted(report["scores"], key=lambda k: -report["scores"][k]["responses"])
    children: dict[int, list[dict]] = {}
    for r in rows:
        if r["level"] == 2 and r["status"] == "active" and r["parent_id"] is not None:
            children.setdefault(r["parent_id"], []).append({"id": r["id"], "label": labels[r["id"]], "documents": r["documents"] or 0})
    quote_ids = {}
    for r in rows:
        q = _json(r["quotes"]) or {}
        quote_ids[r["id"]] = {lang: ids[: LIMITS["quotes_per_language"]] for lang, ids in q.items() if ids}
    texts = Q.segment_texts(db, sorted({i for q in quote_ids.values() for ids in q.values() for i in ids}))
    out = []
    for key, s in table.series.items():
        r = by_id.get(key)
        if r is None or r["level"] != 1 or r["status"] != "active":
            continue
        labelled = sum(s.labelled)
        quotes = []
        for lang, ids in quote_ids.get(key, {}).items():
            for i in ids:
                if i in texts and len(quotes) < LIMITS["quotes_per_theme"]:
                    quotes.append({"lang": texts[i][1] or lang, "text": _trim(texts[i][0], LIMITS["quote_chars"])})
        keywords = {lang: [w for w, _ in words[: LIMITS["keywords"]]] for lang, words in (_json(r["keywords"]) or {}).items()}
        imp = impacts.get(key, {})
        kind = next((k for k in kinds_seen if imp.get(k, {}).get("impact") is not None), None)
        out.append({
            "id": key, "label": labels[key], "kind": r["kind"] or "complaint", "concept": r["concept"],
            "label_confidence": r["label_confidence"], "stored_label": r["custom_label"] or r["label"],
            "documents": sum(s.volume), "share": sum(s.volume) / total,
            "negative_share": sum(s.neg) / labelled if labelled else None,
            "positive_share": sum(s.pos) / labelled if labelled else None,
            **_growth(s.volume, table.totals),
            "impact": {"kind": kind, **imp[kind]} if kind else None,
            "impacts": imp,
            "languages": langs.get(key, {}),
            "keywords": keywords,
            "quotes": quotes,
            "volume": s.volume,
            "touchpoints": [{"label": t["label"], "weight": t["weight"], "segments": t["segments"]} for t in tps.get(key, [])[:6]],
            "children": sorted(children.get(key, []), key=lambda c: -c["documents"]),
        })
    out.sort(key=lambda t: (-t["documents"], t["id"]))
    return {"themes": out[: LIMITS["themes"]], "shown": min(len(out), LIMITS["themes"]), "total": len(out),
            "periods": [p.label for p in table.periods], "starts": [p.start.isoformat() for p in table.periods],
            "totals": table.totals, "map": theme_map(db, {t["id"]: t for t in out}, targets)}


def _json(text):
    import json

    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def theme_map(db: sqlite_utils.Database, themes: dict[int, dict], targets: dict[int, int]) -> list[dict]:
    """Themes placed in 2-D: the first two principal components of their centroids (cosine space);
    like BERTopic's intertopic map, near themes say similar things."""
    blob = Q.centroids(db)
    if not blob:
        return []
    arrays = unpack_arrays(blob)
    T, ids = arrays.get("T"), arrays.get("T_ids")
    if T is None or ids is None or len(ids) == 0:
        return []
    keep = [i for i, t in enumerate(ids.tolist()) if targets.get(int(t), int(t)) in themes and targets.get(int(t), int(t)) == int(t)]
    if len(keep) < 2:
        return []
    X = T[keep].astype(np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
    X -= X.mean(axis=0)
    u, sv, _ = np.linalg.svd(X, full_matrices=False)
    xy = u[:, :2] * sv[:2]
    xy = xy * np.sign(xy.sum(axis=0) + 1e-12)  # a fixed orientation
    out = []
    for (x, y), i in zip(xy.tolist(), keep):
        t = themes[int(ids[i])]
        out.append({"id": t["id"], "label": t["label"], "x": round(x, 4), "y": round(y, 4), "documents": t["documents"],
                    "negative_share": t["negative_share"], "kind": t["kind"]})
    return out


def journey_section(db: sqlite_utils.Database, since: date | None) -> dict | None:
    """Touchpoints in journey order with documents and negative share in scope."""
    tps = Q.touchpoints(db) if db["touchpoints"].exists() else []
    if not tps:
        return None
    table = trends(db, "touchpoint", "week", since=since)
    total = sum(table.totals) or 1
    rows = []
    for tp in tps:
        s = table.series.get(tp["key"])
        docs = sum(s.volume) if s else 0
        labelled = sum(s.labelled) if s else 0
        rows.append({**tp, "documents": docs, "share": docs / total,
                     "negative_share": (sum(s.neg) / labelled) if s and labelled else None})
    top: dict[str, list[tuple[int, int]]] = {}  # touchpoint -> (sentences, theme), from the stored theme <-> touchpoint links
    for theme, links in Q.theme_touchpoints(db).items():
        for link in links:
            top.setdefault(link["touchpoint"], []).append((-link["segments"], theme))
    for r in rows:
        r["top_themes"] = [theme for _, theme in sorted(top.get(r["key"], []))[:3]]
    stages = []
    for r in rows:
        if not stages or stages[-1]["stage"] != r["stage"]:
            stages.append({"stage": r["stage"], "touchpoints": []})
        stages[-1]["touchpoints"].append(r["key"])
    return {"touchpoints": rows, "stages": stages}


def trends_section(db: sqlite_utils.Database, since: date | None, themes: dict, table, last_day: date | None) -> dict:
    shown = [t["id"] for t in themes["themes"][: LIMITS["trend_themes"]]]
    found = detect(table, as_of=last_day) if last_day else {"flagged": [], "period": None, "note": "no dated documents"}
    flagged = [{"id": f["key"], "kind": f["kind"], "period": f["period"], "volume": f["volume"], "share": f["share"],
                "baseline_share": f["baseline_share"], "q_value": f["q_value"]} for f in found["flagged"]]
    return {
        "lines": [{"id": t["id"], "label": t["label"], "volume": t["volume"],
                   "share": [v / n if n else None for v, n in zip(t["volume"], themes["totals"])]}
                  for t in themes["themes"] if t["id"] in shown],
        "tested_period": found.get("period"), "detect_note": found.get("note"),
        "flagged": flagged,
        "alerts": Q.alerts(db, since, LIMITS["alerts"]),
    }


def backlog_section(db: sqlite_utils.Database, labels: dict[int, str]) -> dict:
    result = build_backlog(db, write=False, quotes=LIMITS["quotes_per_item"])
    items = []
    for it in result["items"]:
        if it["status"] == "wont_fix":
            continue
        label = labels.get(it["theme_id"], it["theme"])
        if label != it["theme"]:
            it = {**it, "theme": label, "title": label}
            it["summary"] = summary_line(it)
        items.append(it)
    kind = primary_kind(result)
    keep = ("rank", "id", "theme_id", "title", "kind", "status", "status_date", "status_note", "priority", "breakdown", "explanation",
            "documents", "negative_share", "growth", "trend", "impacts", "where", "summary", "owner", "touchpoint_label",
            "facets", "fix_check", "first_seen", "last_seen", "languages")
    out = []
    for it in items[: LIMITS["backlog"]]:
        row = {k: it.get(k) for k in keep}
        row["quotes"] = [{"lang": q.get("lang"), "text": _trim(q.get("text") or "", LIMITS["quote_chars"]), "date": q.get("date"),
                          "channel": q.get("channel"), "document_id": q.get("document_id")} for q in it.get("quotes", [])]
        row["facets"] = (row["facets"] or [])[:6]
        out.append(row)
    aside = {k: [{**a, "theme": labels.get(a["theme_id"], a["theme"])} for a in v] for k, v in result["set_aside"].items()}
    fixes = [{"id": it["id"], "title": it["title"], "status_date": it["status_date"], "fix_check": it["fix_check"]}
             for it in items if it["status"] == "shipped" and it.get("fix_check")]
    return {"items": out, "total": len(items), "kind": kind, "as_of": result["as_of"], "set_aside": aside, "fixes": fixes,
            "scores": result["scores"]}


def impact_section(report: dict, labels: dict[int, str], theme_ids: set[int], accounts: dict | None) -> dict:
    kinds = {}
    for kind, s in sorted(report["scores"].items(), key=lambda kv: -kv[1]["responses"]):
        rows = []
        for r in report["rows"]:
            v = r["impacts"].get(kind)
            if r["key"] in theme_ids and v and v.get("impact") is not None:
                rows.append({"id": r["key"], "label": labels.get(r["key"], r["label"]), "impact": v["impact"],
                             "low": v["ci95"][0] if v.get("ci95") else None, "high": v["ci95"][1] if v.get("ci95") else None,
                             "responses_with": v.get("responses_with")})
        rows.sort(key=lambda r: r["impact"])
        kinds[kind] = {"unit": s["unit"], "figure": s["figure"], "responses": s["responses"], "rows": rows}
    return {"kinds": kinds, "ci_method": report["ci_method"], "accounts": accounts}


def accounts_section(db: sqlite_utils.Database, account_field: str | None, revenue_field: str | None,
                     accounts_csv: str | Path | None) -> dict | None:
    if not account_field:
        return None
    from ..measures.accounts import accounts_report

    r = accounts_report(db, account_field, revenue_field=revenue_field, accounts_csv=accounts_csv)
    points = [{"account": a["account"], "revenue": a["revenue"], "satisfaction": a["satisfaction"], "group": a["group"],
               "documents": a.get("documents")} for a in r["accounts"] if a.get("group")]
    step = max(1, len(points) // LIMITS["accounts"])
    return {"counts": r["counts"], "revenue_threshold": r["revenue_threshold"], "satisfaction_threshold": r["satisfaction_threshold"],
            "points": points[::step], "sampled": step > 1, "accounts": len(points),
            "at_risk": [{"account": a["account"], "revenue": a["revenue"], "satisfaction": a["satisfaction"],
                         "themes": [labels_of(t) for t in a.get("themes", [])]} for a in r["at_risk"][:20]],
            "fields": r["fields"]}


def labels_of(t: dict) -> str:
    return t.get("label") or str(t.get("id"))


def gather(
    db: sqlite_utils.Database,
    *,
    since: date | None = None,
    label_lang: str | None = None,
    account_field: str | None = None,
    revenue_field: str | None = None,
    accounts_csv: str | Path | None = None,
    store_name: str = "miner.db",
) -> dict:
    """The report's data: meta, overview, themes (with map), journey, trends, impact, backlog."""
    _need_themes(db)
    rows = Q.theme_rows(db)
    labels, lang, note = reader_labels(db, rows, label_lang)
    table = trends(db, "theme", "week", since=since)
    for key, s in table.series.items():
        s.label = labels.get(key, s.label)
    ov = overview(db, since, table)
    last_day = date.fromisoformat(ov["last_day"]) if ov["last_day"] else None
    impacts = impact_report(db)
    themes = themes_section(db, since, labels, rows, table, impacts)
    accounts = accounts_section(db, account_field, revenue_field, accounts_csv)
    return {
        "meta": {"store": store_name, "generated_at": utc_now(), "version": __version__, "label_lang": lang, "label_note": note,
                 "since": since.isoformat() if since else None, "first_day": ov["first_day"], "last_day": ov["last_day"],
                 "limits": dict(LIMITS)},
        "overview": ov,
        "themes": themes,
        "journey": journey_section(db, since),
        "trends": trends_section(db, since, themes, table, last_day),
        "impact": impact_section(impacts, labels, {t["id"] for t in themes["themes"]}, accounts),
        "backlog": backlog_section(db, labels),
    }
