"""Build the backlog in the store: rank items, keep their ids and the statuses people set.

- An item is a theme (`BL-12`), what a team would put in a sprint; the touchpoints where it
  hurts are its facets (documents, share, negative share, owner), and the touchpoint owner
  where it hurts most owns the item. Re-runs find the same row by its id. When theme 12 is
  merged into 7, its documents count for 7: the old row points at `BL-7`
  (`details.moved_to`), and a status set on the old item is carried over once to the new one
  if that one has none of its own. Rows of earlier versions, one per (theme, touchpoint)
  (`BL-12-billing`), point at their theme's item the same way.
- Themes of kind praise (thanks) and venting (dissatisfaction with no cause, "worst company
  ever") are set aside in lists of their own, never ranked as problems (docs/themes.md).
- Statuses: open, planned, shipped (with its date), wont_fix. They live in the row and no
  rebuild touches them. Items no longer found keep their row (rank NULL) and their status
  comes back with them.
- Ranking: open and planned items by priority, then shipped ones, then wont_fix ones.
  Shipped items carry "did the fix work?" (miner.trends.fixcheck) for their theme, at
  their touchpoint, from the shipped date.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import sqlite_utils

from ..display import MISSING
from ..errors import UsageError
from ..fields import documents_by_value, field_name, is_field
from ..measures.impact import UNITS, figure, impact
from ..measures.scores import load_scores
from ..store import transaction, utc_now
from ..trends.asof import resolve_last_day
from ..trends.fixcheck import fix_check
from ..trends.periods import parse_date_option
from . import collect as C
from .priority import DEFAULT_WEIGHTS, score_items

STATUSES = ("open", "planned", "shipped", "wont_fix")
TIER = {"open": 0, "planned": 0, "shipped": 1, "wont_fix": 2}
MIN_DOCUMENTS = 3
MIN_NEGATIVE_SHARE = 0.2  # below it a pair is praise, not something to fix
QUOTES = 5


def normalise_status(value: str) -> str:
    s = str(value).strip().casefold().replace("-", "_").replace(" ", "_").replace("'", "")
    if s in ("wontfix", "won_t_fix"):
        s = "wont_fix"
    if s not in STATUSES:
        raise UsageError("E976", f"unknown status {value!r}.", "Choose one of: open, planned, shipped, wont-fix.")
    return s


def _stored(db: sqlite_utils.Database) -> dict[str, dict]:
    return {r["id"]: r for r in db.query("SELECT * FROM backlog_items")}


def _user_set(row: dict) -> bool:
    return row["status"] != "open" or bool(row["status_note"]) or bool(row["status_date"])


def _details(row: dict) -> dict:
    try:
        return json.loads(row["details"]) if row.get("details") else {}
    except ValueError:
        return {}


def _impacts(score_sets: dict, docs, min_with: int, method: str) -> dict:
    return {kind: impact(kind, s.scores, s.mask(docs), min_with=min_with, method=method).to_dict() for kind, s in score_sets.items()}


def _fix(db: sqlite_utils.Database, theme: int, shipped: str | None) -> dict | None:
    """"Did the fix work?" for the item's theme from the shipped day: the very figures of
    `miner trends fix --theme` (one fix-check figure everywhere)."""
    if not shipped:
        return None
    try:
        r = fix_check(db, theme, date.fromisoformat(shipped))
    except (UsageError, ValueError) as exc:
        return {"verdict": "not checked", "summary": str(exc)}
    return {k: r[k] for k in ("verdict", "negative_verdict", "summary", "window", "period", "notes")} | {
        "share_before": r["before"]["share"], "share_after": r["after"]["share"],
        "negative_share_before": r["before"]["negative_share"], "negative_share_after": r["after"]["negative_share"],
    }


def build_backlog(
    db: sqlite_utils.Database,
    *,
    weights: dict | None = None,
    score_kind: str | None = None,
    as_of: date | None = None,
    min_documents: int = MIN_DOCUMENTS,
    min_negative_share: float = MIN_NEGATIVE_SHARE,
    quotes: int = QUOTES,
    min_responses: int = 5,
    ci_method: str = "delta",
    write: bool = True,
    fields: dict[str, list[str]] | None = None,
) -> dict:
    """Compute every item, rank, store (unless `write=False`), and return the ranked items.
    `fields` (`{"airline": ["United"]}`): a backlog of those documents only, never stored (the
    stored backlog is the whole store's)."""
    if min_documents < 1 or quotes < 0 or min_responses < 2 or not 0 <= min_negative_share <= 1:
        raise UsageError("E977", "--min-documents must be at least 1, --quotes 0 or more, --min-responses 2 or more, "
                         "--min-negative between 0 and 1.", "The defaults are 3, 5, 5 and 0.2.")
    weights = weights or dict(DEFAULT_WEIGHTS)
    c = C.collect(db, fields)
    write = write and not fields
    when = resolve_last_day(db, as_of)  # the end of the data, and a warning when it is long past
    as_of = as_of or C.default_as_of(c)
    weeks = C.weeks_until(as_of) if as_of else []
    totals = C.week_totals(c, weeks) if weeks else []
    score_sets = load_scores(db, score_kind)
    tp_info = C.touchpoint_info(db)
    items, set_aside = [], {"venting": [], "thanks": []}
    for theme, pairs in C.by_theme(c).items():
        whole = C.theme_pair(pairs)
        n = C.counts(whole)
        if n["documents"] < min_documents:
            continue
        kind = c.themes[theme].kind
        if kind in ("praise", "venting"):  # kept, measured and shown, never ranked as a thing to fix
            set_aside["thanks" if kind == "praise" else "venting"].append(_aside(theme, c.themes[theme].label, n))
            continue
        if n["negative_share"] is not None and n["negative_share"] < min_negative_share:
            continue
        t = C.trend(whole, weeks, totals) if weeks else {"recent_documents": 0, "baseline_documents": 0, "growth": None}
        items.append(_item(whole, c.themes[theme].label, kind, C.facets(pairs, n["documents"], tp_info), n, t,
                           _impacts(score_sets, whole.docs, min_responses, ci_method)))
    score_items(items, weights)
    stored = _stored(db)
    now = utc_now()
    _keep_statuses(items, stored, now)
    by_id = {it["id"]: it for it in items}
    moves = _follow_merges(stored, c.targets, by_id)
    _add_evidence(db, items, C.theme_quote_ids(db), quotes)
    items.sort(key=lambda i: (TIER[i["status"]], -i["priority"], i["id"]))
    for rank, it in enumerate(items, start=1):
        it["rank"] = rank
    result = {
        "as_of": as_of.isoformat() if as_of else None,
        "data_ends": when.data_ends.isoformat() if when.data_ends else None,
        "stale_warning": when.stale_warning("week"),
        "weights": weights,
        "scores": {k: {"responses": int(s.scores.size), "sources": s.sources,
                       "figure": figure(k, s.scores)}
                   for k, s in score_sets.items()},
        "min_documents": min_documents,
        "min_negative_share": min_negative_share,
        "fields": fields or {},
        "items": items,
        "set_aside": set_aside,
        "moved": moves,
        "stale": sorted(i for i in stored if i not in by_id),
    }
    if write:
        _write(db, items, stored, moves, now)
    return result


def _aside(theme: int, label: str, n: dict) -> dict:
    return {"theme_id": theme, "theme": label, "documents": n["documents"], "negative_share": n["negative_share"],
            "languages": n["languages"], "first_seen": n["first_seen"], "last_seen": n["last_seen"]}


def _item(pair: C.Pair, theme_label: str, kind: str, facets: list[dict], counts: dict, trend: dict, impacts: dict) -> dict:
    """A candidate item (a theme), before its priority, status and evidence."""
    top = max(facets, key=lambda f: (f["neg_segments"], f["documents"]), default={})  # where it hurts most owns it
    item = {
        "id": pair.id,
        "theme_id": pair.theme,
        "theme": theme_label,
        "kind": kind,
        "touchpoint": top.get("touchpoint"),
        "touchpoint_label": top.get("label"),
        "stage": top.get("stage"),
        "owner": top.get("owner"),
        "facets": facets,
        "where": ", ".join(f"{f['label']} {f['share']:.0%}" for f in facets[:3]),
        "title": theme_label,
        **counts,
        "trend": trend,
        "growth": trend["growth"],
        "recent_documents": trend["recent_documents"],
        "baseline_documents": trend["baseline_documents"],
        "growth_p_value": trend.get("p_value"),
        "impacts": impacts,
        "_pair": pair,
    }
    item["summary"] = summary_line(item)
    return item


def summary_line(it: dict) -> str:
    """What customers report, how many, since when, where in the journey, the measured impact."""
    langs = len(it["languages"])
    neg = f", {it['negative_share']:.0%} negative" if it.get("negative_share") is not None else ""
    text = (f"Customers report \"{it['theme']}\": {it['documents']} documents{neg}, in {langs} language{'s' if langs != 1 else ''}, "
            f"since {it['first_seen'] or 'an unknown date'}")
    if it["where"]:
        text += f"; where: {it['where']}"
    measured = [(k, v) for k, v in sorted(it["impacts"].items()) if v["impact"] is not None and v["ci95"] and v["ci95"][1] < 0]
    if measured:
        kind, imp = measured[0]
        digits = "{:+.2f}" if kind in ("stars", "mean") else "{:+.1f}"
        text += f"; lowers {kind.upper() if kind in ('nps', 'csat') else kind} by {digits.format(imp['impact'])} (95% CI {digits.format(imp['ci95'][0])} to {digits.format(imp['ci95'][1])})"
    return text + "."


def _keep_statuses(items: list[dict], stored: dict[str, dict], now: str) -> None:
    """Each item takes the status people set on its stored row, and keeps its creation time."""
    for it in items:
        row = stored.get(it["id"])
        it["status"], it["status_date"], it["status_note"] = (row["status"], row["status_date"], row["status_note"]) if row else ("open", None, None)
        it["created_at"] = row["created_at"] if row else now


def _add_evidence(db: sqlite_utils.Database, items: list[dict], theme_quotes: dict[int, set[int]], quotes: int) -> None:
    """Quotes for every item, and "did the fix work?" for shipped ones."""
    for it in items:
        pair = it.pop("_pair")
        segs = C.pick_quotes(pair, theme_quotes.get(pair.theme, set()), quotes)
        rows = C.quote_rows(db, segs)
        it["quotes"] = [rows[s] for s in segs if s in rows]
        it["fix_check"] = _fix(db, it["theme_id"], it["status_date"]) if it["status"] == "shipped" else None


def _follow_merges(stored: dict[str, dict], targets: dict[int, int], by_id: dict[str, dict]) -> dict[str, str]:
    """Old ids -> the ids of their themes' items now (a theme merged away, or a (theme,
    touchpoint) item of an earlier version); carry a person's status over once."""
    moves = {}
    for old_id, row in stored.items():
        target = targets.get(row["theme_id"], row["theme_id"])
        new_id = C.item_id(target, None)
        if new_id == old_id:
            continue
        moves[old_id] = new_id
        details = _details(row)
        new = by_id.get(new_id)
        if new is None or details.get("status_carried") or not _user_set(row):
            continue
        if new["status"] == "open" and not new["status_note"] and not new["status_date"]:
            new["status"], new["status_date"] = row["status"], row["status_date"]
            why = f"theme {row['theme_id']} merged into {target}" if target != row["theme_id"] else "one item per theme now"
            new["status_note"] = row["status_note"] or f"carried over from {old_id} ({why})"
        new.setdefault("moved_from", []).append(old_id)
    return moves


def _write(db, items, stored, moves, now) -> None:
    keep = ("id", "theme", "kind", "touchpoint_label", "stage", "owner", "facets", "summary", "documents", "segments",
            "neg_segments", "pos_segments", "labelled_segments", "negative_share", "languages", "channels", "trend",
            "impacts", "breakdown", "explanation", "quotes", "fix_check", "moved_from")
    with transaction(db):
        for it in items:
            details = {k: it.get(k) for k in keep if k != "id"}
            db.execute(
                "INSERT INTO backlog_items (id, theme_id, touchpoint, title, status, status_date, status_note, priority, rank, "
                "details, first_seen, last_seen, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET theme_id = excluded.theme_id, touchpoint = excluded.touchpoint, "
                "title = excluded.title, status = excluded.status, status_date = excluded.status_date, "
                "status_note = excluded.status_note, priority = excluded.priority, rank = excluded.rank, "
                "details = excluded.details, first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
                "updated_at = excluded.updated_at",
                [it["id"], it["theme_id"], it["touchpoint"], it["title"], it["status"], it["status_date"], it["status_note"],
                 it["priority"], it["rank"], json.dumps(details, ensure_ascii=False), it["first_seen"], it["last_seen"],
                 it["created_at"], now],
            )
        live = {it["id"] for it in items}
        for old_id, row in stored.items():
            if old_id in live:
                continue
            details = _details(row)
            details["stale"] = True
            if old_id in moves:
                details["moved_to"] = moves[old_id]
                if moves[old_id] in live and _user_set(row):
                    details["status_carried"] = True
            db.execute(
                "UPDATE backlog_items SET priority = NULL, rank = NULL, details = ?, updated_at = ? WHERE id = ?",
                [json.dumps(details, ensure_ascii=False), now, old_id],
            )


def resolve_item(db: sqlite_utils.Database, item: str) -> dict:
    """The stored row for an id (case-insensitive), following `moved_to` after theme merges."""
    wanted = item.strip()
    seen = set()
    while True:
        rows = list(db.query("SELECT * FROM backlog_items WHERE id = ? COLLATE NOCASE", [wanted]))
        if not rows:
            raise UsageError("E978", f"no backlog item {item!r}.", "Run `miner backlog` to build it; ids look like BL-12-billing.")
        row = rows[0]
        moved = _details(row).get("moved_to")
        if not moved or moved in seen or not list(db.query("SELECT id FROM backlog_items WHERE id = ?", [moved])):
            return row
        seen.add(row["id"])
        wanted = moved


def set_status(db: sqlite_utils.Database, item: str, status: str, *, on: str | None = None, note: str | None = None,
               today: date | None = None) -> dict:
    """Set an item's status. `on`: the shipped date (default today) or a planned date; never in the future for shipped."""
    status = normalise_status(status)
    day = parse_date_option(on, "--date") if on else None
    today = today or datetime.now(timezone.utc).date()
    if status == "shipped":
        day = day or today
        if day > today:
            raise UsageError("E979", f"shipped date {day.isoformat()} is in the future.", "Mark it planned with that date instead.")
    if status in ("open", "wont_fix") and day is not None:
        raise UsageError("E980", f"--date means nothing for status {status}.", "Dates go with planned (target) or shipped.")
    if note is not None and len(note) > 2000:
        raise UsageError("E981", "the note is longer than 2,000 characters.", "Keep it short; link to a document instead.")
    row = resolve_item(db, item)
    with transaction(db):
        db.execute(
            "UPDATE backlog_items SET status = ?, status_date = ?, status_note = ?, updated_at = ? WHERE id = ?",
            [status, day.isoformat() if day else None, note, utc_now(), row["id"]],
        )
    out = {"id": row["id"], "asked": item, "title": row["title"], "status": status,
           "status_date": day.isoformat() if day else None, "status_note": note}
    if status == "shipped":
        out["fix_check"] = _fix(db, row["theme_id"], out["status_date"])
    return out


def _impact_groups(db: sqlite_utils.Database, by: str) -> list[tuple]:
    """(key, label, documents) of each theme, touchpoint or field value."""
    if is_field(by):
        return [(value, value if value is not None else MISSING, docs) for value, docs in documents_by_value(db, field_name(by)).items()]
    c = C.collect(db)
    if by == "theme":
        return [(key, c.themes[key].label, docs) for key, docs in c.theme_docs.items()]
    tp_info = C.touchpoint_info(db)
    return [(key, tp_info.get(key, {}).get("label") or key, docs) for key, docs in c.touchpoint_docs.items()]


def impact_report(
    db: sqlite_utils.Database,
    by: str = "theme",
    *,
    score_kind: str | None = None,
    min_responses: int = 5,
    ci_method: str = "delta",
) -> dict:
    """Impact of every active theme (or touchpoint, or value of a field `meta.FIELD`) on each
    score kind, the largest drag first."""
    if by not in ("theme", "touchpoint") and not is_field(by):
        raise UsageError("E982", f"cannot compute impact by {by!r}.", "Choose theme, touchpoint or a field: meta.FIELD.")
    if min_responses < 2:
        raise UsageError("E977", "--min-responses must be at least 2.", "The default is 5.")
    score_sets = load_scores(db, score_kind)
    rows = []
    for key, label, docs in _impact_groups(db, by):
        rows.append({"key": key, "label": label, "documents": len(docs),
                     "impacts": _impacts(score_sets, docs, min_responses, ci_method)})

    def order(r):
        vals = [v["impact"] for v in r["impacts"].values() if v["impact"] is not None]
        return (min(vals) if vals else float("inf"), -r["documents"], str(r["key"]))

    rows.sort(key=order)
    return {
        "by": by,
        "scores": {k: {"responses": int(s.scores.size), "sources": s.sources, "figure": figure(k, s.scores), "unit": UNITS[k]}
                   for k, s in score_sets.items()},
        "ci_method": ci_method,
        "min_responses": min_responses,
        "rows": rows,
    }
