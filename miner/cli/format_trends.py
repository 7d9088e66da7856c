"""Terminal text of `miner trends`, `miner trends emerging` and `miner trends fix`
(moved from miner/trends/render.py, which keeps the CSV layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from miner.display import percent, shown
from miner.errors import UsageError
from miner.sparkline import sparkline

if TYPE_CHECKING:  # importing miner.trends loads scipy
    from miner.trends.series import TrendTable

CHARTS = ("volume", "share", "sentiment")


def _share_cell(v: float | None) -> str:
    return percent(v, 1, width=5)


def _net_cell(v: float | None) -> str:
    return shown(v, "+.2f", width=5)


def trends_text(table: TrendTable, chart: str = "volume", top: int = 20) -> list[str]:
    """A header, the totals line, then one line per key (largest first): sparkline and the last period's figures."""
    if chart not in CHARTS:
        raise UsageError("E913", f"unknown chart {chart!r}.", f"Choose one of: {', '.join(CHARTS)}.")
    if not table.periods:
        return ["No dated documents to chart." + (f" {table.skipped_undated:,} without a date skipped." if table.skipped_undated else "")]
    d = table.to_dict()
    first, last = d["periods"][0], d["periods"][-1]
    out = [
        f"Documents per {table.granularity} by {table.dimension}, {first} to {last} ({len(d['periods'])} periods, "
        f"{d['documents']:,} documents" + (f"; {table.skipped_undated:,} without a date skipped" if table.skipped_undated else "") + ").",
        f"Chart: {chart}; figures for {last}: volume, share, net sentiment; then the total over all periods.",
        f"{'all documents':<34} {sparkline(table.totals)}  {table.totals[-1]:>6,}",
    ]
    width = max(34, min(48, max((len(s["label"]) for s in d["series"][:top]), default=0) + 2))
    for s in d["series"][:top]:
        if chart == "share":
            values = [v or 0.0 for v in s["share"]]
        elif chart == "sentiment":
            values = [0.0 if v is None else (v + 1) / 2 + 1e-9 for v in s["net_sentiment"]]
        else:
            values = s["volume"]
        name = f"{s['label']} [{s['key']}]" if table.dimension == "theme" else s["label"]
        if s["status"] and s["status"] != "active":
            name += f" ({s['status']})"
        name = name if len(name) <= width else name[: width - 1] + "…"
        out.append(
            f"{name:<{width}} {sparkline(values)}  {s['volume'][-1]:>6,} {_share_cell(s['share'][-1])} {_net_cell(s['net_sentiment'][-1])}  {s['total']:>7,}"
        )
    if len(d["series"]) > top:
        out.append(f"... and {len(d['series']) - top} more (--top N, or --json for all).")
    return out


def detect_text(result: dict, show_all: bool = False, top: int = 20) -> list[str]:
    if result["period"] is None:
        return [f"Nothing tested: {result['note']}."]
    s = result["settings"]
    out = [
        f"{result['period']} against {len(result['baseline_periods'])} earlier {result['granularity']}s "
        f"(share test, Benjamini-Hochberg q <= {s['alpha']}, at least {s['min_count']} mentions, growth >= {s['min_growth']:.0%})."
    ]
    if result["note"]:
        out.append(f"Note: {result['note']}.")
    rows = result["findings"] if show_all else result["flagged"]
    if not rows:
        out.append("No emerging or spiking " + result["dimension"] + "s.")
    for f in rows[:top]:
        growth = "new" if f["new"] else shown(f["growth"], "+.0%")
        q = shown(f["q_value"], ".2g")
        out.append(
            f"{(f['kind'] or ''):<6} {str(f['label'])[:40]:<40} [{f['key']}]  {f['volume']:>5} docs {_share_cell(f['share'])} "
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
    return out
