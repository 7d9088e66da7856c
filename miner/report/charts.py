"""Chart specifications for plotly.js (data and layout as plain dicts): the report draws them with
the plotly.js bundled in the installed `plotly` package, inlined in the page.

Every string taken from the data is escaped with `chart_text`: plotly.js reads a subset of HTML
in labels, hover texts and tick labels (`<b>`, `<a href>`, `<br>`) and decodes entities, so an
escaped label shows exactly as written and never becomes markup or a link.
"""

from __future__ import annotations

import html

from .safety import neutralise

NEG, NEU, POS, NONE = "#d1495b", "#8d99ae", "#2a9d8f", "#c9c9c9"
SERIES = ["#3b6fb6", "#e07a1f", "#2a9d8f", "#d1495b", "#7b5ea7", "#8c6d31", "#d4679b", "#5c946e", "#b0a000", "#4aa3c9"]
HEAT = [[0.0, "#fde8e4"], [0.5, "#f08a6c"], [1.0, "#a4161a"]]


def chart_text(value) -> str:
    """A data string for plotly.js: bidi controls made visible, then HTML-escaped."""
    return html.escape(neutralise(str(value)), quote=False)


def _pct(x) -> float | None:
    return None if x is None else round(100 * x, 1)


def weekly_volume(ov: dict) -> dict:
    return {
        "data": [{"type": "bar", "x": ov["weekly"]["starts"], "y": ov["weekly"]["totals"], "marker": {"color": SERIES[0]},
                  "customdata": ov["weekly"]["periods"], "hovertemplate": "%{customdata}: %{y} documents<extra></extra>"}],
        "layout": {"height": 220, "xaxis": {"type": "date"}, "yaxis": {"title": {"text": "documents"}}, "bargap": 0.1},
    }


def sentiment_mix(ov: dict) -> dict:
    names = {"neg": "negative", "neu": "neutral", "pos": "positive", "none": "no sentiment"}
    keys = [k for k in ("neg", "neu", "pos", "none") if ov["sentiment"].get(k)]
    return {
        "data": [{"type": "pie", "hole": 0.55, "sort": False, "labels": [names[k] for k in keys],
                  "values": [ov["sentiment"][k] for k in keys],
                  "marker": {"colors": [{"neg": NEG, "neu": NEU, "pos": POS, "none": NONE}[k] for k in keys]},
                  "textinfo": "percent", "hovertemplate": "%{label}: %{value} documents<extra></extra>"}],
        "layout": {"height": 220, "showlegend": True, "legend": {"orientation": "h", "y": -0.1}},
    }


def counts_bar(counts: dict[str, int], colour: str, limit: int = 12) -> dict:
    items = list(counts.items())[:limit]
    return {
        "data": [{"type": "bar", "orientation": "h", "y": [chart_text(k) for k, _ in items][::-1], "x": [v for _, v in items][::-1],
                  "marker": {"color": colour}, "hovertemplate": "%{y}: %{x} documents<extra></extra>"}],
        "layout": {"height": max(160, 24 * len(items) + 60), "yaxis": {"automargin": True, "type": "category"},
                   "xaxis": {"title": {"text": "documents"}}},
    }


def theme_map(points: list[dict]) -> dict | None:
    if not points:
        return None
    biggest = max(p["documents"] for p in points) or 1
    return {
        "data": [{
            "type": "scatter", "mode": "markers+text", "x": [p["x"] for p in points], "y": [p["y"] for p in points],
            "text": [chart_text(p["label"]) for p in points], "textposition": "top center", "textfont": {"size": 11},
            "customdata": [[p["id"], p["documents"], _pct(p["negative_share"])] for p in points],
            "marker": {"size": [max(10, 60 * (p["documents"] / biggest) ** 0.5) for p in points],
                       "color": [_pct(p["negative_share"]) for p in points], "cmin": 0, "cmax": 100, "colorscale": HEAT,
                       "line": {"width": 1, "color": "#555"}, "opacity": 0.85,
                       "colorbar": {"title": {"text": "% negative"}, "thickness": 10}},
            "hovertemplate": "%{text}<br>%{customdata[1]} documents, %{customdata[2]}% negative<extra></extra>",
        }],
        "layout": {"height": 420, "xaxis": {"showticklabels": False, "zeroline": False, "title": {"text": "component 1"}},
                   "yaxis": {"showticklabels": False, "zeroline": False, "title": {"text": "component 2"}}},
    }


def theme_trend(starts: list[str], periods: list[str], volume: list[int], totals: list[int]) -> dict:
    share = [_pct(v / n) if n else None for v, n in zip(volume, totals)]
    return {
        "data": [
            {"type": "bar", "x": starts, "y": volume, "name": "documents", "marker": {"color": SERIES[0]}, "customdata": periods,
             "hovertemplate": "%{customdata}: %{y} documents<extra></extra>"},
            {"type": "scatter", "mode": "lines", "x": starts, "y": share, "name": "% of documents", "yaxis": "y2",
             "line": {"color": SERIES[1]}, "hovertemplate": "%{y}% of the week's documents<extra></extra>"},
        ],
        "layout": {"height": 200, "xaxis": {"type": "date"}, "yaxis": {"title": {"text": "documents"}},
                   "yaxis2": {"overlaying": "y", "side": "right", "title": {"text": "%"}, "rangemode": "tozero", "showgrid": False},
                   "showlegend": False, "margin": {"t": 10, "r": 60}},
    }


def journey(j: dict) -> dict:
    tps = j["touchpoints"]
    x = [[chart_text(t["stage"] or "") for t in tps], [chart_text(t["label"] or t["key"]) for t in tps]]
    return {
        "data": [{
            "type": "bar", "x": x, "y": [t["documents"] for t in tps],
            "marker": {"color": [_pct(t["negative_share"]) for t in tps], "cmin": 0, "cmax": 100, "colorscale": HEAT,
                       "colorbar": {"title": {"text": "% negative"}, "thickness": 10}, "line": {"width": 0}},
            "customdata": [[_pct(t["negative_share"]), chart_text(t["owner"] or "n/a")] for t in tps],
            "hovertemplate": "%{x}: %{y} documents, %{customdata[0]}% negative, owner %{customdata[1]}<extra></extra>",
        }],
        "layout": {"height": 380, "yaxis": {"title": {"text": "documents"}}, "xaxis": {"tickangle": -40, "automargin": True}},
    }


def theme_lines(tr: dict, starts: list[str], periods: list[str], measure: str, flagged: dict[int, dict]) -> dict:
    data = []
    for i, line in enumerate(tr["lines"]):
        ys = line[measure] if measure == "volume" else [_pct(v) for v in line[measure]]
        data.append({"type": "scatter", "mode": "lines", "x": starts, "y": ys, "name": chart_text(line["label"]),
                     "line": {"color": SERIES[i % len(SERIES)], "width": 2}, "customdata": periods,
                     "hovertemplate": "%{fullData.name}<br>%{customdata}: %{y}" + ("" if measure == "volume" else "%") + "<extra></extra>"})
        f = flagged.get(line["id"])
        if f and f["period"] in periods:
            j = periods.index(f["period"])
            data.append({"type": "scatter", "mode": "markers", "x": [starts[j]], "y": [ys[j]], "showlegend": False,
                         "marker": {"symbol": "star", "size": 16, "color": SERIES[i % len(SERIES)], "line": {"width": 1, "color": "#000"}},
                         "hovertemplate": chart_text(f"{line['label']}: {f['kind']} in {f['period']}") + "<extra></extra>"})
    title = "documents" if measure == "volume" else "% of the week's documents"
    return {"data": data, "layout": {"height": 340, "xaxis": {"type": "date"}, "yaxis": {"title": {"text": title}, "rangemode": "tozero"},
                                     "legend": {"orientation": "h", "y": -0.25}}}


def impact(kind: str, entry: dict) -> dict | None:
    rows = entry["rows"]
    if not rows:
        return None
    lo = [r["impact"] - r["low"] if r["low"] is not None else None for r in rows]
    hi = [r["high"] - r["impact"] if r["high"] is not None else None for r in rows]
    return {
        "data": [{
            "type": "scatter", "mode": "markers", "x": [r["impact"] for r in rows], "y": [chart_text(r["label"]) for r in rows],
            "error_x": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "thickness": 1.5, "width": 4},
            "marker": {"size": 9, "color": [NEG if (r["high"] is not None and r["high"] < 0) else (POS if (r["low"] is not None and r["low"] > 0) else NEU)
                                            for r in rows]},
            "customdata": [[r["low"], r["high"], r["responses_with"]] for r in rows],
            "hovertemplate": "%{y}: %{x:+.2f} [%{customdata[0]:+.2f}, %{customdata[1]:+.2f}], %{customdata[2]} responses with it<extra></extra>",
        }],
        "layout": {"height": max(200, 28 * len(rows) + 80), "xaxis": {"title": {"text": f"impact on {kind.upper() if kind in ('nps', 'csat') else kind} ({entry['unit']})"},
                                                                      "zeroline": True, "zerolinewidth": 2},
                   "yaxis": {"automargin": True, "type": "category", "autorange": "reversed"}},
    }


def accounts(a: dict) -> dict | None:
    if not a or not a["points"]:
        return None
    colours = {"model": POS, "at_risk": NEG, "growth": SERIES[0], "dangling": NEU}
    data = []
    for group, colour in colours.items():
        pts = [p for p in a["points"] if p["group"] == group]
        if pts:
            data.append({"type": "scatter", "mode": "markers", "name": group.replace("_", " "), "x": [p["revenue"] for p in pts],
                         "y": [round(p["satisfaction"], 3) for p in pts], "text": [chart_text(p["account"]) for p in pts],
                         "marker": {"color": colour, "size": 8, "opacity": 0.8},
                         "hovertemplate": "%{text}: revenue %{x}, satisfaction %{y}<extra></extra>"})
    shapes = []
    if a["revenue_threshold"] is not None:
        shapes.append({"type": "line", "x0": a["revenue_threshold"], "x1": a["revenue_threshold"], "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"dash": "dot", "width": 1, "color": "#888"}})
    if a["satisfaction_threshold"] is not None:
        shapes.append({"type": "line", "y0": a["satisfaction_threshold"], "y1": a["satisfaction_threshold"], "xref": "paper", "x0": 0, "x1": 1,
                       "line": {"dash": "dot", "width": 1, "color": "#888"}})
    return {"data": data, "layout": {"height": 380, "shapes": shapes, "xaxis": {"type": "log", "title": {"text": "revenue"}},
                                     "yaxis": {"title": {"text": "satisfaction (0-1)"}, "range": [-0.05, 1.05]}}}


def priority_parts(items: list[dict], limit: int = 15) -> dict | None:
    items = [it for it in items if it.get("breakdown")][:limit]
    if not items:
        return None
    parts = ["volume", "negativity", "growth", "impact"]
    colours = {"volume": SERIES[0], "negativity": NEG, "growth": SERIES[1], "impact": SERIES[4]}
    names = [chart_text(f"{it['id']} {it['title']}") for it in items]
    data = []
    for part in parts:
        pts = [round(((it["breakdown"] or {}).get(part) or {}).get("points") or 0, 2) for it in items]
        if any(pts):
            data.append({"type": "bar", "orientation": "h", "name": part, "y": names, "x": pts, "marker": {"color": colours[part]},
                         "hovertemplate": "%{y}<br>" + part + ": %{x:.1f} points<extra></extra>"})
    return {"data": data, "layout": {"barmode": "stack", "height": max(220, 26 * len(items) + 90),
                                     "xaxis": {"title": {"text": "priority (points of 100)"}},
                                     "yaxis": {"automargin": True, "type": "category", "autorange": "reversed"},
                                     "legend": {"orientation": "h", "y": -0.2, "traceorder": "normal"}}}
