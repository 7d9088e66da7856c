"""Terminal text of `miner trends`, `miner trends emerging` and `miner trends fix`
(moved from miner/trends/render.py, which keeps the CSV layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from miner.display import columns, fit_to, percent, shown
from miner.errors import UsageError
from miner.sparkline import sparkline

if TYPE_CHECKING:  # importing miner.trends loads scipy
    from miner.trends.series import TrendTable

CHARTS = ("volume", "share", "sentiment")


def _share_cell(v: float | None) -> str:
    return percent(v, 1, width=5)


def _net_cell(v: float | None) -> str:
    return shown(v, "+.2f", width=5)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _as_of_text(result: dict, tested: str | None = None) -> str:
    """`data ends 2026-06-30; testing 2026-06` (the wording lives with the as-of rules)."""
    from miner.trends.asof import as_of_text

    return as_of_text(result, tested)


def _as_of_line(result: dict, tested: str | None) -> str:
    return _sentence(_as_of_text(result, tested))


def trends_text(table: TrendTable, chart: str = "volume", top: int = 20, when: dict | None = None) -> list[str]:
    """A header, the totals line, then one line per key (largest first): sparkline and the last period's figures."""
    if chart not in CHARTS:
        raise UsageError("E913", f"unknown chart {chart!r}.", f"Choose one of: {', '.join(CHARTS)}.")
    if not table.periods:
        return ["No dated documents to chart." + (f" {table.skipped_undated:,} without a date skipped." if table.skipped_undated else "")]
    when = when or {}
    d = table.to_dict()
    first, last = d["periods"][0], d["periods"][-1]
    so_far = f" (so far: counted to {when['last_day']})" if when.get("last_period_partial") else ""
    out = [
        f"Documents per {table.granularity} by {table.dimension}, {first} to {last} ({len(d['periods'])} periods, "
        f"{d['documents']:,} documents" + (f"; {table.skipped_undated:,} without a date skipped" if table.skipped_undated else "") + ")"
        + (f"; {_as_of_text(when)}." if when.get("as_of_source") else "."),
        f"Chart: {chart}; figures for {last}{so_far}: volume, share, net sentiment; then the total over all periods.",
    ]
    rows = d["series"][:top]
    tails = []
    for s in rows:
        tail = f" [{s['key']}]" if table.dimension == "theme" else ""
        if s["status"] and s["status"] != "active":
            tail += f" ({s['status']})"
        tails.append(tail)
    width = max(34, min(48, max((columns(str(s["label"]) + t) for s, t in zip(rows, tails)), default=0) + 2))
    out.append(f"{fit_to('all documents', width)} {sparkline(table.totals)}  {table.totals[-1]:>6,}")
    for s, tail in zip(rows, tails):
        label = str(s["label"])
        if columns(label + tail) > width:  # cut the label, never the id
            label = fit_to(label, width - columns(tail)).rstrip()
        name = fit_to(label + tail, width)
        if chart == "share":
            values = [v or 0.0 for v in s["share"]]
        elif chart == "sentiment":
            values = [0.0 if v is None else (v + 1) / 2 + 1e-9 for v in s["net_sentiment"]]
        else:
            values = s["volume"]
        out.append(
            f"{name} {sparkline(values)}  {s['volume'][-1]:>6,} {_share_cell(s['share'][-1])} {_net_cell(s['net_sentiment'][-1])}  {s['total']:>7,}"
        )
    if len(d["series"]) > top:
        out.append(f"... and {len(d['series']) - top} more (--top N, or --json for all).")
    return out


def detect_text(result: dict, show_all: bool = False, top: int = 20) -> list[str]:
    tested = result["period"]
    when = _as_of_line(result, tested) if result.get("as_of_source") else None
    if tested and result.get("as_of_source") == "data" and result.get("open_period") and result["open_period"] != tested:
        when = when[:-1] + f" ({result['open_period']} is not over in the data; --at {result['open_period']} tests it so far)."
    if tested is None:
        return [f"Nothing tested: {result['note']}."] + ([when] if when else [])
    s = result["settings"]
    out = ([when] if when else []) + [
        f"{tested} against {len(result['baseline_periods'])} earlier {result['granularity']}s "
        f"(share test, Benjamini-Hochberg q <= {s['alpha']}, at least {s['min_count']} mentions, growth >= {s['min_growth']:.0%})."
    ]
    if result["note"]:
        out.append(f"Note: {result['note']}.")
    rows = result["findings"] if show_all else result["flagged"]
    if not rows:
        out.append("No emerging or spiking " + result["dimension"] + "s.")
    key_width = max((len(f"[{f['key']}]") for f in rows[:top]), default=0)
    for f in rows[:top]:
        growth = "new" if f["new"] else shown(f["growth"], "+.0%")
        q = shown(f["q_value"], ".2g")
        key = f"[{f['key']}]"
        out.append(
            f"{(f['kind'] or ''):<6} {fit_to(str(f['label']), 40)} {key:<{key_width}} {f['volume']:>5} docs {_share_cell(f['share'])} "
            f"(baseline {_share_cell(f['baseline_share'])})  growth {growth:>6}  q {q:>7}  net {_net_cell(f['net_sentiment'])}"
        )
    if len(rows) > top:
        out.append(f"... and {len(rows) - top} more (--json for all).")
    return out


def fix_text(result: dict) -> list[str]:
    b, a, t = result["before"], result["after"], result["share_test"]
    out = [result["summary"], ""]
    out.append(f"{'':14}{'before':>24}{'after':>24}")
    out.append(f"{'window':14}{b['from'] + '..' + b['to']:>24}{a['from'] + '..' + a['to']:>24}")
    out.append(f"{'documents':14}{b['documents']:>24,}{a['documents']:>24,}")
    out.append(f"{'mentions':14}{b['mentions']:>24,}{a['mentions']:>24,}")
    out.append(f"{'share':14}{_share_cell(b['share']):>24}{_share_cell(a['share']):>24}")
    out.append(f"{'negative share':14}{_share_cell(b['negative_share']):>24}{_share_cell(a['negative_share']):>24}")
    out.append(f"{'net sentiment':14}{_net_cell(b['net_sentiment']):>24}{_net_cell(a['net_sentiment']):>24}")
    if t["ci95"]:
        out.append(f"Share difference {t['difference'] * 100:+.2f} points (95% CI {t['ci95'][0] * 100:+.2f} to {t['ci95'][1] * 100:+.2f}).")
    for note in result["notes"]:
        out.append(f"Note: {note}.")
    if result.get("as_of_source"):
        out.append(_as_of_line(result, None))
    return out
