"""The backlog as a terminal table, Markdown, CSV, JSON, and a CSV that Jira's importer reads.

Complaint text is data: CSV cells that a spreadsheet would run as a formula get a leading
apostrophe (miner.files.neutralise_formula), in the Jira CSV too; Markdown table cells
escape `|`; nothing is HTML-escaped because nothing here is HTML.

Jira CSV columns: Summary, Issue Type, Priority, Description, one `Labels` column per label
(Jira's importer reads repeated columns as several values of a multi-value field; labels
cannot hold spaces), and `Backlog ID` (map it to a custom field or leave it as text; the
id is also a label). Priority follows the rank: the top 10% Highest, the next 20% High,
the next 40% Medium, the next 20% Low, the rest Lowest.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import IO

from ..display import MISSING, date_span, percent, shown
from ..errors import UsageError
from ..files import neutralise_formula, replacing, write_csv_rows
from ..measures.impact import UNITS

FORMATS = ("table", "md", "csv", "json", "jira")
JIRA_PRIORITIES = ((0.10, "Highest"), (0.30, "High"), (0.70, "Medium"), (0.90, "Low"), (1.01, "Lowest"))
FIX_WORDS = {"significant drop": "fix worked", "no significant change": "no change yet", "significant rise": "got worse",
             "not enough data": "too early", "not checked": "not checked"}
KIND_NAMES = {"nps": "NPS", "csat": "CSAT", "stars": "stars", "mean": "score"}
SUMMARY_CHARS = 250


def visible(result: dict, show_all: bool = False, top: int | None = None) -> list[dict]:
    """Items to show: won't-fix ones only with show_all (they rank last anyway)."""
    items = [i for i in result["items"] if show_all or i["status"] != "wont_fix"]
    return items[:top] if top else items


def primary_kind(result: dict) -> str | None:
    scores = result.get("scores") or {}
    return max(scores, key=lambda k: (scores[k]["responses"], k)) if scores else None


def impact_text(item: dict, kind: str | None, ci: bool = True, named: bool = False) -> str:
    """`-6.2 [-11.5, -0.9]`; with `named`, the kind first, falling back to another kind when `kind` has none."""
    impacts = item.get("impacts") or {}
    if named and (kind not in impacts or impacts[kind]["impact"] is None):
        kind = next((k for k in sorted(impacts) if impacts[k]["impact"] is not None), kind)
    imp = impacts.get(kind) if kind else None
    if not imp or imp["impact"] is None:
        return MISSING
    digits = "{:+.2f}" if kind in ("stars", "mean") else "{:+.1f}"
    text = digits.format(imp["impact"])
    if ci and imp["ci95"]:
        text += " [" + ", ".join(digits.format(v) for v in imp["ci95"]) + "]"
    return f"{KIND_NAMES[kind]} {text}" if named else text


def growth_text(item: dict) -> str:
    g = item.get("growth")
    if g is None:
        if (item.get("trend") or {}).get("few"):
            return "few"  # too few documents to tell (MIN_GROWTH_DOCUMENTS)
        return "new" if item.get("recent_documents") and not item.get("baseline_documents") else MISSING
    return shown(g, "+.0%")


def status_text(item: dict, short: bool = False) -> str:
    s = item["status"].replace("_", "-")
    if item["status"] == "shipped" and item.get("fix_check"):
        verdict = item["fix_check"]["verdict"]
        return f"{s}: {FIX_WORDS.get(verdict, verdict)}" if short else f"{s} {item['status_date']}: {verdict}"
    return f"{s} {item['status_date']}" if item.get("status_date") else s


def negative_share_text(item: dict) -> str:
    return percent(item.get("negative_share"), 0)


def table_lines(result: dict, show_all: bool = False, top: int | None = None) -> list[str]:
    items = visible(result, show_all, top)
    kind = primary_kind(result)
    if not result["items"]:
        return ["No backlog items: run `miner analyze` and `miner themes discover` first, or lower --min-documents."]
    w = max([len(i["id"]) for i in items] + [8])
    lines = [f"{'#':>3}  {'ID':<{w}} {'Prio':>5} {'Docs':>5} {'Neg':>4} {'Growth':>6}  {'Impact [95% CI]':<26}  {'Trend':<12}  {'Status':<14}  Title  (where)"]
    for it in items:
        where = f"  ({it['where']})" if it.get("where") else ""
        lines.append(
            f"{it['rank']:>3}  {it['id']:<{w}} {it['priority']:>5.1f} {it['documents']:>5} {negative_share_text(it):>4} {growth_text(it):>6}  "
            f"{impact_text(it, kind, named=True):<26}  {it['trend'].get('sparkline', ''):<12}  {status_text(it, True):<14}  {it['title']}{where}"
        )
    hidden = len([i for i in result["items"] if i["status"] == "wont_fix"]) if not show_all else 0
    shown = f"{len(items)} of {len(result['items']) - hidden} item(s)"
    extra = f"; {hidden} won't-fix hidden (--all)" if hidden else ""
    scores = "; ".join(f"{KIND_NAMES[k]} {v['figure']:.1f} over {v['responses']:,} responses" for k, v in result["scores"].items())
    lines.append(f"{shown}{extra}. {as_of_text(result)}." + (f" Scores: {scores}." if scores else ""))
    lines.extend(set_aside_lines(result))
    return lines


def set_aside_lines(result: dict) -> list[str]:
    """The themes kept out of the ranking: venting without a cause, and thanks."""
    out = []
    for key, name in (("venting", "Venting without a cause"), ("thanks", "Thanks and praise")):
        themes = (result.get("set_aside") or {}).get(key) or []
        if themes:
            docs = sum(t["documents"] for t in themes)
            out.append(f"{name}, not ranked ({len(themes)} theme(s), {docs:,} documents): "
                       + "; ".join(f"{t['theme']} [{t['theme_id']}] {t['documents']}" for t in themes[:6])
                       + ("; ..." if len(themes) > 6 else ""))
    return out


def as_of_text(result: dict) -> str:
    """`Data ends 2026-06-30`, or `Trends to 2026-11-30 (--as-of); the data ends 2026-06-30`."""
    ends = result.get("data_ends", result["as_of"])
    if not result["as_of"]:
        return "No dated documents (no trend)"
    if ends and result["as_of"] != ends:
        return f"Trends to {result['as_of']} (--as-of); the data ends {ends}"
    return f"Data ends {ends}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(result: dict, show_all: bool = False, top: int | None = None) -> str:
    items = visible(result, show_all, top)
    kind = primary_kind(result)
    lines = [f"# Product backlog ({as_of_text(result)[0].lower()}{as_of_text(result)[1:]})", ""]
    lines.append(f"| # | ID | Priority | Documents | Negative | Growth | Impact on {KIND_NAMES.get(kind, 'score')} | Trend | Status | Title |")
    lines.append("|---:|---|---:|---:|---:|---:|---|---|---|---|")
    for it in items:
        lines.append(f"| {it['rank']} | {it['id']} | {it['priority']:.1f} | {it['documents']} | {negative_share_text(it)} | {growth_text(it)} | "
                     f"{_cell(impact_text(it, kind))} | {it['trend'].get('sparkline', '')} | {_cell(status_text(it))} | {_cell(it['title'])} |")
    for it in items:
        lines += ["", f"## {it['rank']}. {_cell(it['title'])} (`{it['id']}`)", ""]
        lines.append(f"- {_cell(it['summary'])}")
        lines.append(f"- **Priority {it['priority']:.1f}**: {it['explanation']}")
        if it.get("facets"):
            lines.append("- **Where**: " + ", ".join(f"{_cell(f['label'])} {f['documents']} ({percent(f['negative_share'], 0)} negative)"
                                                    + (f", owner {_cell(f['owner'])}" if f.get("owner") else "") for f in it["facets"]))
        lines.append(f"- **Status**: {_cell(status_text(it))}" + (f" — {_cell(it['status_note'])}" if it.get("status_note") else ""))
        lines.append(f"- **Documents** {it['documents']}, segments {it['segments']}, negative {negative_share_text(it)}; "
                     f"seen {date_span(it['first_seen'], it['last_seen'])}")
        lines.append("- **Languages**: " + ", ".join(f"{k} {v}" for k, v in it["languages"].items()))
        if it["trend"].get("weeks"):
            lines.append(f"- **Trend** ({it['trend']['weeks'][0]} to {it['trend']['weeks'][-1]}): {it['trend']['sparkline']} "
                         f"growth {growth_text(it)}")
        for k, imp in it["impacts"].items():
            lines.append(f"- **Impact on {KIND_NAMES[k]}**: " + (f"{impact_text(it, k)} {UNITS[k]} (95% CI)" if imp["impact"] is not None
                                                                   else f"{MISSING} ({imp['note']})"))
        if it.get("fix_check"):
            lines.append(f"- **Did the fix work?** {it['fix_check']['summary']}")
        if it["quotes"]:
            lines.append("")
            for q in it["quotes"]:
                lines.append(f"> [{q['lang']}] {q['text']}")
                lines.append(">")
            lines.pop()
    aside = set_aside_lines(result)
    if aside:
        lines += ["", "## Set aside", ""] + [f"- {_cell(x)}" for x in aside]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ["rank", "id", "status", "status_date", "status_note", "priority", "title", "theme_id", "theme", "touchpoint",
               "owner", "documents", "segments", "negative_share", "growth", "recent_documents", "baseline_documents",
               "first_seen", "last_seen", "trend", "explanation", "kind", "where", "summary"]


def _csv_rows(result: dict, show_all: bool, top: int | None) -> tuple[list[str], list[list]]:
    items = visible(result, show_all, top)
    kinds = sorted(result.get("scores") or {})
    columns = CSV_COLUMNS + [f"impact_{k}{s}" for k in kinds for s in ("", "_ci_low", "_ci_high")] + ["fix_verdict", "quotes"]
    rows = []
    for it in items:
        row = [it["rank"], it["id"], it["status"], it["status_date"], it["status_note"], it["priority"], it["title"],
               it["theme_id"], it["theme"], it["touchpoint"], it.get("owner"), it["documents"], it["segments"],
               it["negative_share"], it["growth"], it["recent_documents"], it["baseline_documents"], it["first_seen"],
               it["last_seen"], it["trend"].get("sparkline", ""), it["explanation"], it.get("kind"), it.get("where"), it.get("summary")]
        for k in kinds:
            imp = it["impacts"].get(k) or {}
            ci = imp.get("ci95") or [None, None]
            row += [imp.get("impact"), ci[0], ci[1]]
        row += [(it.get("fix_check") or {}).get("verdict"), "\n".join(f"[{q['lang']}] {q['text']}" for q in it["quotes"])]
        rows.append(row)
    return columns, rows


def write_backlog_csv(result: dict, out: IO[str], show_all: bool = False, top: int | None = None) -> int:
    return write_csv_rows(*_csv_rows(result, show_all, top), out)


def jira_priority(position: int, count: int) -> str:
    """Position 0-based among `count` items: the share of items ranked above decides."""
    q = position / count if count else 0.0
    return next(name for cut, name in JIRA_PRIORITIES if q < cut)


def _label(text: str) -> str:
    return re.sub(r"\s+", "_", str(text).strip())[:255]


def jira_description(it: dict, kind: str | None) -> str:
    lines = [it.get("summary") or it["title"],
             f"Backlog item {it['id']} from miner (priority {it['priority']:.1f}, rank {it['rank']}).",
             f"Why it ranks here: {it['explanation']}.",
             f"Documents: {it['documents']}; segments: {it['segments']}; negative: {negative_share_text(it)}; seen {date_span(it['first_seen'], it['last_seen'])}.",
             "Languages: " + ", ".join(f"{k} {v}" for k, v in it["languages"].items()) + "."]
    if it["trend"].get("weeks"):
        lines.append(f"Trend, weekly {it['trend']['weeks'][0]} to {it['trend']['weeks'][-1]}: {it['trend']['sparkline']} (growth {growth_text(it)}).")
    for k, imp in it["impacts"].items():
        if imp["impact"] is not None:
            lines.append(f"Impact on {KIND_NAMES[k]}: {impact_text(it, k)} {UNITS[k]} (95% CI).")
    if it.get("facets"):
        lines.append("Where: " + ", ".join(f"{f['label']} {f['documents']}" + (f" (owner {f['owner']})" if f.get("owner") else "")
                                          for f in it["facets"]) + ".")
    if it.get("fix_check"):
        lines.append(f"Did the fix work? {it['fix_check']['summary']}")
    if it["quotes"]:
        lines.append("")
        lines.append("Evidence (original languages):")
        lines += [f"- [{q['lang']}] {q['text']}" for q in it["quotes"]]
    return "\n".join(lines)


def write_jira(result: dict, out: IO[str], show_all: bool = False, top: int | None = None, issue_type: str = "Task") -> int:
    items = visible(result, show_all, top)
    kind = primary_kind(result)
    labels = [["miner", _label(it["id"])] + [_label(f"touchpoint-{f['touchpoint']}") for f in (it.get("facets") or [])[:3]] for it in items]
    width = max((len(x) for x in labels), default=2)
    w = csv.writer(out)
    w.writerow(["Summary", "Issue Type", "Priority", "Description"] + ["Labels"] * width + ["Backlog ID"])
    for pos, (it, labs) in enumerate(zip(items, labels)):
        summary = it["title"] if len(it["title"]) <= SUMMARY_CHARS else it["title"][: SUMMARY_CHARS - 1] + "…"
        row = [summary, issue_type, jira_priority(pos, len(items)), jira_description(it, kind)] + labs + [""] * (width - len(labs)) + [it["id"]]
        w.writerow([neutralise_formula(v) for v in row])
    return len(items)


def to_json(result: dict, show_all: bool = False, top: int | None = None) -> str:
    return json.dumps(result | {"items": visible(result, show_all, top)}, ensure_ascii=False, indent=2) + "\n"


def render_backlog(result: dict, fmt: str, out: IO[str], *, show_all: bool = False, top: int | None = None,
                   issue_type: str = "Task") -> int:
    """The backlog in `fmt` (table, md, csv, jira, json) written to `out`; returns the items written."""
    if fmt == "table":
        lines = table_lines(result, show_all, top)
        out.write("\n".join(lines) + "\n")
    elif fmt == "md":
        out.write(markdown(result, show_all, top))
    elif fmt == "csv":
        write_backlog_csv(result, out, show_all, top)
    elif fmt == "jira":
        write_jira(result, out, show_all, top, issue_type)
    elif fmt == "json":
        out.write(to_json(result, show_all, top))
    else:
        raise UsageError("E987", f"unknown backlog format {fmt!r}.", f"Choose one of: {', '.join(FORMATS)}.")
    return len(visible(result, show_all, top))


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError("E987", f"unknown backlog format {fmt!r}.", f"Choose one of: {', '.join(FORMATS)}.")
    return fmt


def write_backlog_file(result: dict, fmt: str, path: str | Path, **kw) -> int:
    """Write to `path` through a temporary file, so a failure never leaves half a file."""
    check_format(fmt)
    with replacing(path, ("E988", "E988")) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        n = render_backlog(result, fmt, fh, **kw)
    return n


def render_text(result: dict, fmt: str, **kw) -> str:
    buf = io.StringIO()
    render_backlog(result, check_format(fmt), buf, **kw)
    return buf.getvalue()
