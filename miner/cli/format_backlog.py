"""Terminal text of `miner backlog show`, `impact`, `accounts` and `status` (moved from cli.py and
miner/backlog/exports.py; the table, Markdown, CSV, JSON and Jira exports stay in the library).

Importing this module imports miner.backlog, and with it scipy: the commands import it when they run.
"""

from __future__ import annotations

import json

from miner.backlog.formats import KIND_NAMES, growth_text, impact_text, negative_share_text, status_text
from miner.display import MISSING, date_span, fit_to, pad_to, percent
from miner.measures.accounts import GROUP_LABELS
from miner.measures.impact import UNITS


def item_lines(item: dict) -> list[str]:
    """Everything about one item, for `miner backlog show`."""
    t = item["trend"]
    out = [f"{item['id']}  #{item['rank']}  priority {item['priority']:.1f}  status {status_text(item)}", item["title"], item["summary"]]
    if item.get("status_note"):
        out.append(f"Note: {item['status_note']}")
    for f in item.get("facets") or []:
        owner = f", owner {f['owner']}" if f.get("owner") else ""
        out.append(f"  at {f['label']}: {f['documents']} documents ({percent(f['share'], 0)} of the item's), "
                   f"{percent(f['negative_share'], 0)} negative{owner}")
    out.append(f"Why it ranks here: {item['explanation']}")
    for name, b in item["breakdown"].items():
        used = "" if b["used"] else " (not used)"
        out.append(f"  {name:<10} value {json.dumps(b['value'], ensure_ascii=False)}  component {b['component']:.2f}  "
                   f"weight {b['weight']:g}  points {b['points']:.1f}{used}")
    out.append(f"Documents {item['documents']}, segments {item['segments']}, negative {negative_share_text(item)} of those with a sentiment; "
               f"seen {date_span(item['first_seen'], item['last_seen'])}")
    out.append("Languages: " + ", ".join(f"{k} {v}" for k, v in item["languages"].items()))
    out.append("Channels: " + ", ".join(f"{k} {v}" for k, v in item["channels"].items()))
    if t.get("weeks"):
        out.append(f"Trend ({t['weeks'][0]} to {t['weeks'][-1]}): {t['sparkline']}  growth {growth_text(item)} "
                   f"(last {t['recent_weeks']} weeks {t['recent_documents']} documents vs {t['baseline_documents']} before)")
    for kind, imp in item["impacts"].items():
        if imp["impact"] is None:
            out.append(f"Impact on {KIND_NAMES[kind]}: {MISSING} ({imp['note']})")
        else:
            out.append(f"Impact on {KIND_NAMES[kind]}: {impact_text(item, kind)} {UNITS[kind]} (95% CI, {imp['ci_method']}); "
                       f"{imp['figure_all']:.1f} with all {imp['responses']} responses, {imp['figure_without']:.1f} without its "
                       f"{imp['responses_with']}")
    if item.get("fix_check"):
        out.append(f"Did the fix work? {item['fix_check']['summary']}")
    if item.get("moved_from"):
        out.append("Follows: " + ", ".join(item["moved_from"]))
    out.append("Evidence:")
    for q in item["quotes"]:
        out.append(f"  [{q['lang']}] {q['text']}  ({q['channel'] or 'no channel'}, {q['date'] or 'undated'}, document {q['document_id']})")
    return out


def status_lines(r: dict) -> list[str]:
    out = [f"{r['id']} is now {r['status'].replace('_', '-')}" + (f" ({r['status_date']})" if r["status_date"] else "") + f": {r['title']}"]
    if r.get("fix_check"):
        out.append(f"Did the fix work? {r['fix_check']['summary']}")
    return out


def impact_lines(r: dict, by: str, top: int) -> list[str]:
    if not r["scores"]:
        return ["No document carries a score: ingest a survey or reviews with a score column (--score)."]
    out = [f"{KIND_NAMES[kind]}: {s['figure']:.1f} over {s['responses']:,} responses ({', '.join(s['sources'])})" for kind, s in r["scores"].items()]
    kinds = list(r["scores"])
    rows = r["rows"][:top]
    ids = by == "theme"  # two themes may share a label: the id tells them apart
    id_width = max([len(str(row["key"])) for row in rows] + [2]) if ids else 0
    id_head = f"{'id':>{id_width}} " if ids else ""
    out.append(f"{id_head}{fit_to(by, 28)} {'docs':>5}  " + "  ".join(f"{'impact on ' + KIND_NAMES[k] + ' [95% CI]':<30}" for k in kinds))
    for row in rows:
        cells = []
        for k in kinds:
            imp = row["impacts"][k]
            text = MISSING if imp["impact"] is None else "{:+.1f} [{:+.1f}, {:+.1f}]".format(imp["impact"], *imp["ci95"])
            cells.append(f"{text} ({imp['responses_with']})".ljust(30))
        row_id = f"{str(row['key']):>{id_width}} " if ids else ""
        out.append(f"{row_id}{fit_to(str(row['label']), 28)} {row['documents']:>5}  " + "  ".join(cells).rstrip())
    return out


def accounts_lines(r: dict) -> list[str]:
    out = [f"Thresholds: revenue {r['revenue_threshold']:,.2f} ({r['threshold_source']['revenue']}), "
           f"satisfaction {r['satisfaction_threshold']:.2f} ({r['threshold_source']['satisfaction']})."]
    for g, n in r["counts"].items():
        out.append(f"  {GROUP_LABELS[g]:<40} {n:>5}")
    if r["unplaced"]:
        out.append(f"  {'without revenue or satisfaction':<40} {r['unplaced']:>5}")
    out.append("At risk (highest revenue first):" if r["at_risk"] else "No account at risk.")
    for a in r["at_risk"]:
        themes = "; ".join(f"{t['label']} ({t['negative_documents']}/{t['documents']} negative)" for t in a["themes"]) or "no theme"
        out.append(f"  {pad_to(str(a['account']), 16)} revenue {a['revenue']:>12,.0f}  satisfaction {a['satisfaction']:.2f}  {themes}")
    return out
