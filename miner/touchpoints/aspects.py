"""Aspect sentiment: the sentiment of the segments at each touchpoint, overall and per theme,
channel, language or period. Library functions returning rows (the CLI and the backlog
read them).

`by` may also be a field of the input, `meta.FIELD` (miner.fields: indexed once), and
`filters` keeps the documents with given field values only.

Counting rules: a segment at two touchpoints counts at both; duplicate documents (exact or
near copies) are left out unless asked; `net` = (pos - neg) / segments with a sentiment;
`neg_share` = neg / segments with a sentiment. Sentiment is the segment's own
(`segment_sentiment`), not its document's, so "great app, but billing is a mess" counts
negative at billing only.
"""

from __future__ import annotations

from datetime import date

import sqlite_utils

from ..errors import UsageError
from ..fields import documents_clause, ensure_indexed, field_name, is_field

BY = ("touchpoint", "theme", "channel", "lang", "period")
GRANULARITIES = ("day", "week", "month")


def taxonomy_stored(db: sqlite_utils.Database) -> bool:
    """True once an assignment run has stored its taxonomy's touchpoints."""
    return db.execute("SELECT COUNT(*) FROM touchpoints").fetchone()[0] > 0


def require_touchpoints(db: sqlite_utils.Database) -> None:
    if not taxonomy_stored(db):
        raise UsageError("E837", "this store has no touchpoints yet.", "Run `miner touchpoints assign` (after `miner analyze`).")


def _base(include_duplicates: bool, joins: str = "") -> str:
    """FROM ... WHERE of segments at a touchpoint; `joins`: one of this module's fixed joins."""
    dup = "" if include_duplicates else "AND d.duplicate_of IS NULL"
    return (
        "FROM segment_touchpoints tp JOIN segments g ON g.id = tp.segment_id JOIN documents d ON d.id = g.document_id "
        f"LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id {joins} WHERE 1 {dup}"
    )


_COUNTS = (
    "COUNT(*) AS segments, COUNT(DISTINCT d.id) AS documents, "
    "SUM(ss.label = 'neg') AS neg, SUM(ss.label = 'neu') AS neu, SUM(ss.label = 'pos') AS pos, "
    "ROUND(AVG(tp.confidence), 3) AS confidence"
)


def _finish(row: dict) -> dict:
    rated = (row["neg"] or 0) + (row["neu"] or 0) + (row["pos"] or 0)
    for k in ("neg", "neu", "pos"):
        row[k] = row[k] or 0
    row["neg_share"] = round(row["neg"] / rated, 4) if rated else None
    row["net"] = round((row["pos"] - row["neg"]) / rated, 4) if rated else None
    return row


def _week(day: str) -> str:
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def touchpoint_overview(db: sqlite_utils.Database, *, top_themes: int = 3, include_duplicates: bool = False) -> dict:
    """Every touchpoint in journey order: volume, share, sentiment, owner and its top themes."""
    require_touchpoints(db)
    tps = db.execute("SELECT key, stage, label, owner, taxonomy FROM touchpoints ORDER BY rowid").fetchall()
    stats = {
        r[0]: dict(zip(("segments", "documents", "neg", "neu", "pos", "confidence"), r[1:]))
        for r in db.execute(f"SELECT tp.touchpoint, {_COUNTS} {_base(include_duplicates)} GROUP BY tp.touchpoint")
    }
    dup = "" if include_duplicates else "AND d.duplicate_of IS NULL"
    informative = db.execute(
        f"SELECT COUNT(*) FROM segments g JOIN documents d ON d.id = g.document_id WHERE g.informative = 1 AND d.informative = 1 {dup}"
    ).fetchone()[0]
    with_tp = db.execute(f"SELECT COUNT(DISTINCT tp.segment_id) {_base(include_duplicates)}").fetchone()[0]
    themes: dict[str, list] = {}
    for key, tid, label, n in db.execute(
        "SELECT tt.touchpoint, t.id, COALESCE(t.custom_label, t.label), tt.segments FROM theme_touchpoints tt "
        "JOIN themes t ON t.id = tt.theme_id WHERE t.status = 'active' ORDER BY tt.touchpoint, tt.segments DESC, t.id"
    ):
        if len(themes.setdefault(key, [])) < top_themes:
            themes[key].append({"id": tid, "label": label, "segments": n})
    rows = []
    for key, stage, label, owner, _ in tps:
        s = stats.get(key, {"segments": 0, "documents": 0, "neg": 0, "neu": 0, "pos": 0, "confidence": None})
        row = _finish({"touchpoint": key, "stage": stage, "label": label, "owner": owner, **s})
        row["share"] = round(row["segments"] / with_tp, 4) if with_tp else 0.0
        row["top_themes"] = themes.get(key, [])
        rows.append(row)
    return {
        "taxonomy": tps[0][4],
        "segments": informative,
        "with_touchpoint": with_tp,
        "none_share": round(1 - with_tp / informative, 4) if informative else 0.0,
        "touchpoints": rows,
        **_abstentions(db, include_duplicates),
    }


def _abstentions(db: sqlite_utils.Database, include_duplicates: bool) -> dict:
    """Why segments and documents have no touchpoint, the touchpoints they came closest to, the
    assignment's settings and how many corrections people made."""
    import json

    dup = "" if include_duplicates else "AND d.duplicate_of IS NULL"
    reasons: dict[str, dict] = {}
    for reason, closest, n in db.execute(
        "SELECT a.reason, a.closest, COUNT(*) FROM touchpoint_abstentions a JOIN segments g ON g.id = a.segment_id "
        f"JOIN documents d ON d.id = g.document_id WHERE 1 {dup} GROUP BY a.reason, a.closest ORDER BY COUNT(*) DESC"
    ):
        r = reasons.setdefault(reason, {"segments": 0, "closest": {}})
        r["segments"] += n
        if closest:
            r["closest"][closest] = n
    docs = dict(db.execute(
        "SELECT dt.touchpoint IS NOT NULL, COUNT(*) FROM document_touchpoints dt JOIN documents d ON d.id = dt.document_id "
        f"WHERE 1 {dup} GROUP BY 1"
    ).fetchall())
    doc_reasons = dict(db.execute(
        "SELECT dt.reason, COUNT(*) FROM document_touchpoints dt JOIN documents d ON d.id = dt.document_id "
        f"WHERE dt.touchpoint IS NULL {dup} GROUP BY dt.reason"
    ).fetchall())
    row = db.execute("SELECT value FROM theme_state WHERE key = 'touchpoints.meta'").fetchone()
    meta = json.loads(row[0]) if row else {}
    params = meta.get("params", {})
    n_docs = (docs.get(1, 0) or 0) + (docs.get(0, 0) or 0)
    return {
        "method": meta.get("method"),
        "min_confidence": params.get("min_confidence"),
        "abstentions": reasons,
        "documents": n_docs,
        "documents_with_touchpoint": docs.get(1, 0) or 0,
        "documents_none_reasons": doc_reasons,
        "corrections": db.execute("SELECT COUNT(*) FROM touchpoint_labels").fetchone()[0],
    }


def aspect_sentiment(
    db: sqlite_utils.Database,
    *,
    by: str = "touchpoint",
    period: str = "month",
    touchpoints: list[str] | None = None,
    min_segments: int = 1,
    include_duplicates: bool = False,
    filters: dict[str, list[str]] | None = None,
) -> list[dict]:
    """Rows of (touchpoint, group) with segments, documents, neg/neu/pos, neg_share, net and mean
    confidence. `by`: touchpoint (one row each), theme, channel, lang, period (`period`:
    day, ISO week, month; documents without a date are left out) or a field, meta.FIELD
    (documents without it in the group ''). `filters`: {field: [values]} of
    miner.fields.parse_filters."""
    require_touchpoints(db)
    if by not in BY and not is_field(by):
        raise UsageError("E838", f"cannot group by {by!r}.", f"Choose one of: {', '.join(BY)}, or a field: meta.FIELD.")
    if period not in GRANULARITIES:
        raise UsageError("E838", f"unknown period {period!r}.", f"Choose one of: {', '.join(GRANULARITIES)}.")
    known = {r[0] for r in db.execute("SELECT key FROM touchpoints")}
    for key in touchpoints or []:
        if key not in known:
            raise UsageError("E839", f"no touchpoint {key!r}.", f"Choose among: {', '.join(sorted(known))}.")
    joins, group, label, join_params = "", "NULL", "NULL", []
    if is_field(by):
        field = field_name(by)
        ensure_indexed(db, [field])
        joins, join_params = "LEFT JOIN document_fields df ON df.document_id = d.id AND df.field = ?", [field]
        group = label = "COALESCE(df.value, '')"
    elif by == "theme":
        joins = "JOIN segment_themes st ON st.segment_id = g.id JOIN themes t ON t.id = st.theme_id"
        group, label = "t.id", "COALESCE(t.custom_label, t.label)"
    elif by == "channel":
        group = label = "COALESCE(d.channel, '')"
    elif by == "lang":
        group = label = "COALESCE(d.lang, 'und')"
    elif by == "period":
        day = "substr(d.created_at, 1, 10)"
        group = label = {"day": day, "month": "substr(d.created_at, 1, 7)",
                         "week": f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"}[period]
    base = _base(include_duplicates, joins)
    where, params = documents_clause(db, filters or {}, "d.id")
    params = [*join_params, *params]
    if by == "period":
        where += " AND d.created_at IS NOT NULL"
    if touchpoints:
        where += f" AND tp.touchpoint IN ({', '.join('?' for _ in touchpoints)})"
        params += touchpoints
    order = {r[0]: i for i, r in enumerate(db.execute("SELECT key FROM touchpoints ORDER BY rowid"))}
    rows = []
    for r in db.execute(
        f"SELECT tp.touchpoint, {group} AS grp, {label} AS lbl, {_COUNTS} {base} {where} GROUP BY tp.touchpoint, grp "
        "HAVING COUNT(*) >= ?",
        [*params, min_segments],
    ):
        row = dict(zip(("touchpoint", "group", "label", "segments", "documents", "neg", "neu", "pos", "confidence"), r))
        if by == "touchpoint":
            row.pop("group"), row.pop("label")
        elif by == "period" and period == "week" and row["group"]:
            row["group"] = row["label"] = _week(row["group"])
        rows.append(_finish(row))
    if by == "period":
        rows.sort(key=lambda x: (order.get(x["touchpoint"], 1e9), str(x["group"])))
    else:
        rows.sort(key=lambda x: (order.get(x["touchpoint"], 1e9), -x["segments"], str(x.get("group"))))
    return rows
