"""Accounts by revenue and satisfaction: model, at risk, growth, dangling.

- model: high revenue, satisfied; at risk: high revenue, dissatisfied (alert these first);
  growth: low revenue, satisfied; dangling: low revenue, dissatisfied.
- High revenue: revenue >= the revenue threshold; satisfied: satisfaction >= the
  satisfaction threshold. Both thresholds default to the medians over the accounts that
  have both figures.
- Satisfaction of an account: the mean over its original documents of a 0..1 value: the
  document's score rescaled (NPS 0-10: /10; 1-5 scales: (s - 1) / 4; other scales:
  min-max over their source kind) when it has one, else its sentiment ((score + 1) / 2).
- Revenue: a document field (`--revenue-field`, the largest value seen for the account) or
  an accounts CSV with columns `account_id` and `revenue`, which wins over the field.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import sqlite_utils

from ..csvfile import CsvErrors, read_csv_file
from ..errors import InputError, UsageError
from .scores import load_scores, normalised_score
from .theme_targets import theme_targets

GROUPS = ("model", "at_risk", "growth", "dangling")
GROUP_LABELS = {"model": "model (high revenue, satisfied)", "at_risk": "at risk (high revenue, dissatisfied)",
                "growth": "growth (low revenue, satisfied)", "dangling": "dangling (low revenue, dissatisfied)"}
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "b": 1e9}


def parse_revenue(value) -> float | None:
    """12000, "12,000", "$12k", "1.2M" -> a number; None when unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = re.sub(r"[\s,$€£¥₫﷼]", "", str(value)).casefold()
    mult = 1.0
    if text and text[-1] in _MULTIPLIERS:
        mult, text = _MULTIPLIERS[text[-1]], text[:-1]
    try:
        out = float(text) * mult
    except ValueError:
        return None
    return out if out == out and abs(out) != float("inf") else None


def group_of(revenue: float, satisfaction: float, revenue_threshold: float, satisfaction_threshold: float) -> str:
    high, satisfied = revenue >= revenue_threshold, satisfaction >= satisfaction_threshold
    return ("model" if satisfied else "at_risk") if high else ("growth" if satisfied else "dangling")


def account_groups(accounts: list[dict], revenue_threshold: float | None = None,
                   satisfaction_threshold: float | None = None) -> dict:
    """Put each account ({account, revenue, satisfaction, ...}) in its group. Pure."""
    placed = lambda a: a.get("revenue") is not None and a.get("satisfaction") is not None  # noqa: E731
    full = [a for a in accounts if placed(a)]
    rt = revenue_threshold if revenue_threshold is not None else (statistics.median(a["revenue"] for a in full) if full else None)
    st = satisfaction_threshold if satisfaction_threshold is not None else (
        statistics.median(a["satisfaction"] for a in full) if full else None)
    out = []
    for a in accounts:
        a = dict(a)
        a["group"] = group_of(a["revenue"], a["satisfaction"], rt, st) if placed(a) else None
        out.append(a)
    counts = Counter(a["group"] for a in out if a["group"])
    return {
        "revenue_threshold": rt,
        "satisfaction_threshold": st,
        "threshold_source": {"revenue": "given" if revenue_threshold is not None else "median",
                             "satisfaction": "given" if satisfaction_threshold is not None else "median"},
        "counts": {g: counts.get(g, 0) for g in GROUPS},
        "unplaced": len(out) - len(full),
        "accounts": out,
    }


_ACCOUNTS_CSV_ERRORS = CsvErrors(
    no_file=lambda path: InputError("E983", f"no accounts file {path}.", "Give a CSV with columns account_id and revenue."),
    not_utf8=lambda path: InputError("E983", f"{path} is not UTF-8 text.", "Save the accounts CSV as UTF-8."),
    no_columns=lambda path, missing, found: InputError(
        "E983", f"{path} needs columns account_id and revenue (found: {', '.join(found) or 'none'}).", "Rename the header row."),
)


def read_accounts_csv(path: str | Path) -> dict[str, float]:
    """account id -> revenue, from a CSV with columns account_id and revenue (unreadable revenues skipped)."""
    _, rows = read_csv_file(path, ("account_id", "revenue"), _ACCOUNTS_CSV_ERRORS)
    out = {}
    for _, row in rows:
        acc = (row.get("account_id") or "").strip()
        rev = parse_revenue(row.get("revenue"))
        if acc and rev is not None:
            out[acc] = rev
    return out


def _meta_path(field: str) -> str:
    return '$."' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _meta_keys(db: sqlite_utils.Database) -> list[str]:
    keys = Counter()
    for (k,) in db.execute("SELECT j.key FROM (SELECT meta FROM documents WHERE meta IS NOT NULL LIMIT 2000) d, json_each(d.meta) j"):
        keys[k] += 1
    return [k for k, _ in keys.most_common(20)]


def accounts_report(
    db: sqlite_utils.Database,
    account_field: str,
    *,
    revenue_field: str | None = None,
    accounts_csv: str | Path | None = None,
    score_kind: str | None = None,
    revenue_threshold: float | None = None,
    satisfaction_threshold: float | None = None,
    top_themes: int = 3,
) -> dict:
    """The four groups of accounts found in the documents, and the at-risk accounts with their themes."""
    if not revenue_field and not accounts_csv:
        raise UsageError("E984", "accounts need a revenue.", "Give --revenue-field FIELD or --accounts FILE.csv.")
    if satisfaction_threshold is not None and not 0 <= satisfaction_threshold <= 1:
        raise UsageError("E985", "--satisfaction-threshold is on a 0..1 scale.", "E.g. 0.6; the default is the median.")
    rows = _account_documents(db, account_field, revenue_field)
    kinds, ranges = _score_scales(db, score_kind)
    csv_revenue = read_accounts_csv(accounts_csv) if accounts_csv else {}
    docs_of, accounts = _accounts(rows, kinds, ranges, csv_revenue)
    result = account_groups(accounts, revenue_threshold, satisfaction_threshold)
    at_risk = sorted((a for a in result["accounts"] if a["group"] == "at_risk"), key=lambda a: (-a["revenue"], a["account"]))
    themes = _account_themes(db, {a["account"]: docs_of[a["account"]] for a in at_risk}, top_themes)
    for a in at_risk:
        a["themes"] = themes.get(a["account"], [])
    result["at_risk"] = at_risk
    result["accounts"].sort(key=lambda a: (GROUPS.index(a["group"]) if a["group"] else 9, -(a["revenue"] or 0), a["account"]))
    result["fields"] = {"account": account_field, "revenue": revenue_field, "accounts_csv": str(accounts_csv) if accounts_csv else None}
    result["csv_accounts_without_documents"] = len(set(csv_revenue) - set(docs_of))
    return result


def _account_documents(db: sqlite_utils.Database, account_field: str, revenue_field: str | None) -> list[tuple]:
    """(document, account, revenue, score, sentiment score) of the original documents that name an account."""
    rows = db.execute(
        "SELECT d.id, CAST(json_extract(d.meta, ?) AS TEXT), json_extract(d.meta, ?), d.score, ds.score "
        "FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id "
        "WHERE d.duplicate_of IS NULL AND d.meta IS NOT NULL AND json_valid(d.meta) AND json_extract(d.meta, ?) IS NOT NULL",
        [_meta_path(account_field), _meta_path(revenue_field or ""), _meta_path(account_field)],
    ).fetchall()
    if not rows:
        keys = _meta_keys(db)
        raise UsageError("E986", f"no document has the field {account_field!r}.",
                         f"Fields found: {', '.join(keys)}." if keys else "No document has extra fields (ingest with --meta).")
    return rows


def _score_scales(db: sqlite_utils.Database, score_kind: str | None) -> tuple[dict[int, str], dict[str, tuple[float, float]]]:
    """Each scored document's kind, and each kind's range (for rescaling `mean` scores)."""
    kinds, ranges = {}, {}
    for kind, s in load_scores(db, score_kind).items():
        for doc in s.doc_ids.tolist():
            kinds[doc] = kind
        ranges[kind] = (float(s.scores.min()), float(s.scores.max())) if s.scores.size else (0.0, 1.0)
    return kinds, ranges


def _accounts(rows: list[tuple], kinds: dict[int, str], ranges: dict[str, tuple[float, float]],
              csv_revenue: dict[str, float]) -> tuple[dict[str, list[int]], list[dict]]:
    """(account -> its documents, the accounts with revenue and satisfaction): satisfaction is
    the mean of each document's rescaled score, or its sentiment where it has no score."""
    docs_of: dict[str, list[int]] = defaultdict(list)
    values: dict[str, list[float]] = defaultdict(list)
    basis: dict[str, Counter] = defaultdict(Counter)
    revenue: dict[str, float] = {}
    for doc, acc, rev, score, sentiment in rows:
        acc = str(acc).strip()
        if not acc:
            continue
        docs_of[acc].append(doc)
        r = parse_revenue(rev)
        if r is not None:
            revenue[acc] = max(revenue.get(acc, r), r)
        if score is not None and doc in kinds:
            kind = kinds[doc]
            if kind == "mean":
                lo, hi = ranges[kind]
                values[acc].append((score - lo) / (hi - lo) if hi > lo else 0.5)
            else:
                values[acc].append(normalised_score(kind, score))
            basis[acc]["score"] += 1
        elif sentiment is not None:
            values[acc].append((sentiment + 1) / 2)
            basis[acc]["sentiment"] += 1
    revenue.update({a: v for a, v in csv_revenue.items() if a in docs_of})
    accounts = [
        {"account": a, "revenue": revenue.get(a), "satisfaction": round(sum(v) / len(v), 4) if (v := values.get(a)) else None,
         "documents": len(docs), "scored": basis[a]["score"], "by_sentiment": basis[a]["sentiment"]}
        for a, docs in docs_of.items()
    ]
    return docs_of, accounts


def _account_themes(db: sqlite_utils.Database, docs_of: dict[str, list[int]], top: int) -> dict[str, list[dict]]:
    """Per account: its themes by documents mentioning them negatively, then by documents."""
    if not docs_of:
        return {}
    targets, info = theme_targets(db)
    owner = {d: a for a, docs in docs_of.items() for d in docs}
    marks = ",".join("?" * len(owner))
    counts: dict[str, dict[int, list[set]]] = defaultdict(lambda: defaultdict(lambda: [set(), set()]))
    for doc, theme, label in db.execute(
        f"SELECT g.document_id, st.theme_id, ss.label FROM segments g JOIN segment_themes st ON st.segment_id = g.id "
        f"LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id WHERE st.theme_id IS NOT NULL AND g.document_id IN ({marks})",
        list(owner),
    ):
        t = targets.get(theme, theme)
        if t not in info or info[t].status != "active":
            continue
        cell = counts[owner[doc]][t]
        cell[0].add(doc)
        if label == "neg":
            cell[1].add(doc)
    out = {}
    for acc, by_theme in counts.items():
        ranked = sorted(by_theme.items(), key=lambda kv: (-len(kv[1][1]), -len(kv[1][0]), kv[0]))[:top]
        out[acc] = [{"theme_id": t, "label": info[t].label, "documents": len(c[0]), "negative_documents": len(c[1])} for t, c in ranked]
    return out


def document_groups(db: sqlite_utils.Database, account_field: str, **options) -> tuple[dict[int, str], dict]:
    """Each document whose account is in a group -> that group, and the accounts report.

    `options` as for `accounts_report` (revenue_field, accounts_csv, thresholds, score_kind).
    Used by alert rules filtered by account group.
    """
    report = accounts_report(db, account_field, top_themes=0, **options)
    group = {a["account"]: a["group"] for a in report["accounts"] if a["group"]}
    path = _meta_path(account_field)
    rows = db.execute(
        "SELECT d.id, CAST(json_extract(d.meta, ?) AS TEXT) FROM documents d "
        "WHERE d.meta IS NOT NULL AND json_valid(d.meta) AND json_extract(d.meta, ?) IS NOT NULL",
        [path, path],
    )
    return {doc: g for doc, acc in rows if (g := group.get(str(acc).strip()))}, report
