"""The report as one HTML page: tables and text rendered here (every data string through `esc`),
charts drawn in the browser by plotly.js from specs in a JSON block. A Content-Security-Policy
lets only the page's own scripts run (by their hashes) and forbids every network request."""

from __future__ import annotations

from ..display import MISSING
from . import charts as C
from .assets import CSS, JS, csp_hash, plotly_js
from .safety import esc, path_part, safe_url, script_json

KIND_MARK = {"praise": "praise", "request": "request", "venting": "venting"}
SECTIONS = (("overview", "Overview"), ("themes", "Themes"), ("journey", "Customer journey"), ("trends", "Trends"),
            ("impact", "Impact"), ("backlog", "Backlog"))


def pct(x, digits: int = 0) -> str:
    return MISSING if x is None else f"{100 * x:.{digits}f}%"


def num(x, spec: str = ",") -> str:
    return MISSING if x is None else format(x, spec)


def sort_value(x) -> str:
    """A cell's data-v: numbers sort as numbers, missing values last."""
    return "" if x is None else f"{x:.6g}" if isinstance(x, float) else str(x)


class Links:
    """Links to the matching rows of a running `miner browse` (Datasette), when a base URL is given."""

    def __init__(self, base: str | None, database: str):
        self.base, self.database = safe_url(base), database

    def row(self, table: str, key, text: str) -> str:
        if not self.base:
            return text
        href = f"{self.base}/{path_part(self.database)}/{path_part(table)}/{path_part(key)}"
        return f'<a href="{esc(href)}" rel="noopener noreferrer" target="_blank">{text}</a>'


def chart(charts: dict, key: str, spec: dict | None, cls: str = "") -> str:
    if spec is None:
        return ""
    charts[key] = spec
    return f'<div class="chart {cls}" data-chart="{esc(key)}" role="img" aria-label="{esc(key.replace("_", " "))}"></div>'


def card(value: str, label: str, small: bool = False) -> str:
    return f'<div class="card"><div class="v{" s" if small else ""}">{value}</div><div class="k">{label}</div></div>'


def quote_html(text: str, lang: str | None, source: str = "") -> str:
    src = f'<span class="src">{esc(lang or "")}{(" · " + source) if source else ""}</span>'
    return f'<blockquote dir="auto" lang="{esc(lang or "")}"><bdi>{esc(text)}</bdi>{src}</blockquote>'


def lang_bar(langs: dict[str, int]) -> str:
    total = sum(langs.values()) or 1
    spans = "".join(
        f'<span style="width:{100 * n / total:.1f}%;background:{C.SERIES[i % len(C.SERIES)]}" title="{esc(lang)}: {n}"></span>'
        for i, (lang, n) in enumerate(list(langs.items())[:10])
    )
    top = ", ".join(f"{esc(lang)} {n}" for lang, n in list(langs.items())[:4])
    return f'<div class="langbar" aria-hidden="true">{spans}</div><div class="meta">{top}</div>'


def score_name(kind: str) -> str:
    return {"nps": "NPS", "csat": "CSAT", "stars": "stars", "mean": "mean score"}.get(kind, kind)


def score_text(kind: str, value) -> str:
    if value is None:
        return MISSING
    return f"{value:+.1f}" if kind == "nps" else f"{value:.1f}%" if kind == "csat" else f"{value:.2f}"


def overview_html(d: dict, charts: dict) -> str:
    ov, meta = d["overview"], d["meta"]
    period = f"{esc(ov['first_day'] or MISSING)} – {esc(ov['last_day'] or MISSING)}"
    cards = [card(num(ov["documents"]), "documents (originals, informative)"),
             card(str(len(ov["languages"])), "languages"), card(str(len(ov["channels"])), "channels"),
             card(period, "period covered", small=True)]
    for kind, s in ov["scores"].items():
        cards.append(card(score_text(kind, s["figure"]), f"{score_name(kind)} over {s['responses']:,} responses"))
    sent = ov["sentiment"]
    rated = sent["neg"] + sent["neu"] + sent["pos"]
    cards.append(card(pct(sent["neg"] / rated if rated else None), "negative documents"))
    changed = changes_html(ov)
    return (
        f'<section id="overview"><h2>Overview</h2>'
        f'<p class="meta">{esc(meta["store"])}: {num(ov["stored"])} documents stored, {num(ov["copies"])} copies left out'
        f'{", " + num(ov["undated"]) + " without a date" if ov["undated"] else ""}. {esc(meta["label_note"])}'
        f'{" From " + esc(meta["since"]) + " on (--since)." if meta["since"] else ""}</p>'
        f'<div class="cards">{"".join(cards)}</div>{changed}'
        f'<div class="grid2"><div><h3>Documents per week</h3>{chart(charts, "weekly_volume", C.weekly_volume(ov))}</div>'
        f'<div><h3>Sentiment mix</h3>{chart(charts, "sentiment_mix", C.sentiment_mix(ov))}</div>'
        f'<div><h3>Languages</h3>{chart(charts, "languages", C.counts_bar(ov["languages"], C.SERIES[0]))}</div>'
        f'<div><h3>Channels</h3>{chart(charts, "channels", C.counts_bar(ov["channels"], C.SERIES[4]))}</div></div></section>'
    )


def changes_html(ov: dict) -> str:
    ch = ov.get("changes")
    if not ch:
        return ""
    (b0, b1), (a0, a1) = ch["windows"]["before"], ch["windows"]["after"]
    docs, neg = ch["documents"], ch["negative_share"]
    items = [f'<li>Documents: {num(docs["before"])} → <b>{num(docs["after"])}</b></li>',
             f'<li>Negative share: {pct(neg["before"])} → <b>{pct(neg["after"])}</b></li>']
    for kind, s in ov["scores"].items():
        if "before" in s:
            items.append(f'<li>{score_name(kind)}: {score_text(kind, s["before"])} ({s["before_responses"]} responses) → '
                         f'<b>{score_text(kind, s["after"])}</b> ({s["after_responses"]} responses)</li>')
    return (f'<h3>What changed</h3><p class="meta">The 4 weeks from {esc(a0)} against the 4 weeks before ({esc(b0)} to {esc(b1)}); '
            f'a figure from fewer than 5 responses shows as {MISSING}.</p><ul>{"".join(items)}</ul>')


def themes_html(d: dict, charts: dict, links: Links) -> str:
    th = d["themes"]
    head = ("<tr><th></th><th><button class=sort>Theme</button></th><th class=n><button class=sort>Documents</button></th>"
            "<th class=n><button class=sort>Share</button></th><th class=n><button class=sort>Negative</button></th>"
            "<th class=n><button class=sort>Growth</button></th><th class=n><button class=sort>Impact [95% CI]</button></th>"
            "<th class=hide-s><button class=sort>Languages</button></th></tr>")
    bodies = []
    for t in th["themes"]:
        bodies.append(theme_rows(t, th, charts, links))
    note = f"Showing {th['shown']} of {th['total']} themes." if th["total"] > th["shown"] else f"{th['total']} themes."
    the_map = chart(charts, "theme_map", C.theme_map(th["map"]))
    return (
        '<section id="themes"><h2>Themes</h2>'
        f'<p class="meta">{note} Click a column to sort, ▸ to open a theme. Growth: the last 4 weeks\' share of documents '
        'against the 8 weeks before (few: under 10 documents). Impact: the whole store, the score kind with the most responses.</p>'
        f'<div class="tablewrap"><table class="sortable" id="themes-table"><thead>{head}</thead>{"".join(bodies)}</table></div>'
        + (f'<h3>Map of themes</h3><p class="meta">Theme centroids projected on their two main directions; size: documents; '
           f'colour: negative share. Near themes say similar things. Click a theme to open it.</p>{the_map}' if the_map else "")
        + "</section>"
    )


def growth_text(t: dict) -> tuple[str, float | None]:
    if t["few"]:
        return "few", None
    if t["growth"] is None:
        return MISSING, None
    return f"{100 * t['growth']:+.0f}%", t["growth"]


def theme_rows(t: dict, th: dict, charts: dict, links: Links) -> str:
    tid = t["id"]
    kind = f' <span class="pill {esc(t["kind"])}">{esc(t["kind"])}</span>' if t["kind"] in KIND_MARK else ""
    weak = ' <span class="pill" title="label confidence under 25%">?</span>' if (t["label_confidence"] or 0) < 0.25 else ""
    g_text, g_val = growth_text(t)
    imp = t["impact"]
    if imp and imp.get("impact") is not None:
        ci = imp.get("ci95") or [None, None]
        digits = "+.1f" if imp["kind"] in ("nps", "csat") else "+.2f"
        imp_text = f'{score_name(imp["kind"])} {imp["impact"]:{digits}}' + (f' [{ci[0]:{digits}}, {ci[1]:{digits}}]' if ci[0] is not None else "")
        imp_val = imp["impact"]
    else:
        imp_text, imp_val = MISSING, None
    neg = t["negative_share"]
    negbar = f'<span class="negbar" style="width:{round(30 * (neg or 0))}px"></span>' if neg is not None else ""
    row = (
        f'<tr><td><button class="open" aria-expanded="false" aria-controls="theme-{tid}" data-theme-id="{tid}" '
        f'aria-label="open theme {tid}">▸</button></td>'
        f'<td data-v="{esc(t["label"].casefold())}"><bdi>{links.row("themes", tid, esc(t["label"]))}</bdi>{kind}{weak}</td>'
        f'<td class=n data-v="{t["documents"]}">{num(t["documents"])}</td>'
        f'<td class=n data-v="{sort_value(t["share"])}">{pct(t["share"], 1)}</td>'
        f'<td class=n data-v="{sort_value(neg)}">{negbar}{pct(neg)}</td>'
        f'<td class=n data-v="{sort_value(g_val)}">{g_text}</td>'
        f'<td class=n data-v="{sort_value(imp_val)}">{esc(imp_text)}</td>'
        f'<td class=hide-s data-v="{len(t["languages"])}">{lang_bar(t["languages"])}</td></tr>'
    )
    keywords = "".join(f'<li><b>{esc(lang)}</b>: <span class="kw" dir="auto">{esc(", ".join(words))}</span></li>'
                       for lang, words in t["keywords"].items() if words)
    quotes = "".join(quote_html(q["text"], q["lang"]) for q in t["quotes"]) or f'<p class="meta">{MISSING}</p>'
    tps = "".join(f'<li><bdi>{esc(p["label"])}</bdi>: {pct(p["weight"])} ({num(p["segments"])} sentences)</li>' for p in t["touchpoints"])
    subs = "".join(f'<li><bdi>{links.row("themes", c["id"], esc(c["label"]))}</bdi> ({num(c["documents"])} documents)</li>' for c in t["children"])
    conf = f'{pct(t["label_confidence"])}' if t["label_confidence"] is not None else MISSING
    spec = C.theme_trend(th["starts"], th["periods"], t["volume"], th["totals"])
    detail = (
        f'<tr class="detail" id="theme-{tid}" hidden><td colspan="8"><div class="detailgrid">'
        f'<div><h3><bdi>{esc(t["label"])}</bdi></h3><p class="meta">Theme {tid}, {esc(t["kind"])}; concept {esc(t["concept"] or MISSING)}, '
        f'label confidence {conf}.</p>{chart(charts, f"theme_trend_{tid}", spec)}'
        + (f'<h3>Touchpoints</h3><ul>{tps}</ul>' if tps else "")
        + (f'<h3>Sub-themes (whole store)</h3><ul>{subs}</ul>' if subs else "")
        + f'</div><div><h3>Keywords per language</h3><ul>{keywords or "<li>" + MISSING + "</li>"}</ul>'
        f'<h3>Quotes</h3>{quotes}</div></div></td></tr>'
    )
    return f'<tbody id="theme-row-{tid}">{row}{detail}</tbody>'


def heat_colour(share) -> str:
    if share is None:
        return "#d9d9d9"
    s = max(0.0, min(1.0, share))
    # from #fde8e4 (0) through #f08a6c (0.5) to #c0392b (1)
    stops = [(0.0, (253, 232, 228)), (0.5, (240, 138, 108)), (1.0, (192, 57, 43))]
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if s <= b:
            f = (s - a) / (b - a)
            return "#%02x%02x%02x" % tuple(round(x + (y - x) * f) for x, y in zip(ca, cb))
    return "#c0392b"


def journey_html(d: dict, charts: dict) -> str:
    j = d["journey"]
    if not j:
        return ('<section id="journey"><h2>Customer journey</h2><p class="note">No touchpoints in this store: run '
                '<code>miner touchpoints assign</code>.</p></section>')
    by_key = {t["key"]: t for t in j["touchpoints"]}
    labels = {t["id"]: t["label"] for t in d["themes"]["themes"]}
    stages = []
    for st in j["stages"]:
        tps = []
        for key in st["touchpoints"]:
            t = by_key[key]
            top = ", ".join(labels.get(i, str(i)) for i in t["top_themes"] if i in labels)
            tps.append(f'<div class="tp" style="background:{heat_colour(t["negative_share"])}" title="{esc(top)}">'
                       f'<span><bdi>{esc(t["label"] or key)}</bdi></span><span>{num(t["documents"])} · {pct(t["negative_share"])}</span></div>')
        stages.append(f'<div class="stage"><h4>{esc(st["stage"] or "")}</h4>{"".join(tps)}</div>')
    rows = "".join(
        f'<tbody><tr><td>{esc(t["stage"] or "")}</td><td><bdi>{esc(t["label"] or t["key"])}</bdi></td><td class=n data-v="{t["documents"]}">{num(t["documents"])}</td>'
        f'<td class=n data-v="{sort_value(t["negative_share"])}">{pct(t["negative_share"])}</td><td>{esc(t["owner"] or MISSING)}</td>'
        f'<td class=hide-s>{esc(", ".join(labels.get(i, str(i)) for i in t["top_themes"] if i in labels))}</td></tr></tbody>'
        for t in j["touchpoints"]
    )
    head = ("<tr><th><button class=sort>Stage</button></th><th><button class=sort>Touchpoint</button></th>"
            "<th class=n><button class=sort>Documents</button></th><th class=n><button class=sort>Negative</button></th>"
            "<th><button class=sort>Owner</button></th><th class=hide-s>Top themes</th></tr>")
    return (
        '<section id="journey"><h2>Customer journey</h2><p class="meta">The taxonomy\'s stages and touchpoints in journey order: '
        'documents that mention each, and the negative share of those mentions (colour).</p>'
        f'<div class="heat">{"".join(stages)}</div>{chart(charts, "journey", C.journey(j))}'
        f'<div class="tablewrap"><table class="sortable" id="journey-table"><thead>{head}</thead>{rows}</table></div></section>'
    )


def trends_html(d: dict, charts: dict) -> str:
    tr, th = d["trends"], d["themes"]
    flagged = {f["id"]: f for f in tr["flagged"]}
    labels = {t["id"]: t["label"] for t in th["themes"]}
    parts = ['<section id="trends"><h2>Trends</h2>']
    if tr["lines"]:
        parts.append(f'<h3>Volume of the top themes</h3>{chart(charts, "trend_volume", C.theme_lines(tr, th["starts"], th["periods"], "volume", flagged))}')
        parts.append(f'<h3>Share of documents</h3>{chart(charts, "trend_share", C.theme_lines(tr, th["starts"], th["periods"], "share", flagged))}')
    tested = esc(tr["tested_period"] or MISSING)
    if tr["flagged"]:
        items = "".join(
            f'<li><span class="pill {esc(f["kind"])}">{esc(f["kind"])}</span> <bdi>{esc(labels.get(f["id"], str(f["id"])))}</bdi>: '
            f'{num(f["volume"])} documents, {pct(f["share"], 1)} of the week against {pct(f["baseline_share"], 1)} before '
            f'(q = {f["q_value"]:.2g})</li>' for f in tr["flagged"])
        parts.append(f'<h3>Emerging and spiking themes in {tested}</h3><ul>{items}</ul>')
    else:
        parts.append(f'<h3>Emerging and spiking themes</h3><p class="meta">None flagged in {tested}'
                     f'{" (" + esc(tr["detect_note"]) + ")" if tr["detect_note"] else ""}.</p>')
    if tr["alerts"]:
        rows = "".join(
            f'<tr><td>{esc(a["raised_at"][:10])}</td><td>{esc(a["rule"])}</td><td>{esc(a["period"])}</td><td><bdi>{esc(a["label"] or a["key"])}</bdi></td>'
            f'<td>{esc(a["kind"] or "")}</td><td>{esc(a["severity"] or "")}</td><td>{esc(a["owner"] or MISSING)}</td><td>{esc(a["delivery"])}</td></tr>'
            for a in tr["alerts"])
        parts.append('<h3>Alerts raised</h3><div class="tablewrap"><table><thead><tr><th>Raised</th><th>Rule</th><th>Period</th>'
                     f'<th>Key</th><th>Kind</th><th>Severity</th><th>Owner</th><th>Delivery</th></tr></thead><tbody>{rows}</tbody></table></div>')
    else:
        parts.append('<h3>Alerts raised</h3><p class="meta">No alerts in the period (<code>miner alerts</code> raises them).</p>')
    fixes = d["backlog"]["fixes"]
    if fixes:
        items = "".join(f'<li><b>{esc(f["id"])}</b> <bdi>{esc(f["title"])}</bdi>, shipped {esc(f["status_date"] or MISSING)}: '
                        f'{esc(f["fix_check"].get("summary") or f["fix_check"].get("verdict"))}</li>' for f in fixes)
        parts.append(f'<h3>Did the fix work?</h3><ul>{items}</ul>')
    else:
        parts.append('<h3>Did the fix work?</h3><p class="meta">No shipped backlog items (<code>miner backlog status ID shipped</code>).</p>')
    return "".join(parts) + "</section>"


def impact_html(d: dict, charts: dict) -> str:
    imp = d["impact"]
    parts = ['<section id="impact"><h2>Impact on scores</h2><p class="meta">Each theme\'s effect on the score: the figure of all '
             'responses minus the figure without the theme\'s responses, with its 95% interval '
             f'({esc(imp["ci_method"])} method; whole store). Negative: the theme drags the score down.</p>']
    drawn = False
    for kind, entry in imp["kinds"].items():
        spec = C.impact(kind, entry)
        if spec:
            drawn = True
            parts.append(f'<h3>{score_name(kind)}: {score_text(kind, entry["figure"])} over {entry["responses"]:,} responses</h3>'
                         + chart(charts, f"impact_{kind}", spec))
    if not drawn:
        parts.append('<p class="note">No theme has an impact to show: the store has no scores, or too few scored responses per theme.</p>')
    a = imp["accounts"]
    if a:
        parts.append('<h3>Accounts by revenue and satisfaction</h3>'
                     f'<p class="meta">{a["accounts"]:,} accounts ({esc(a["fields"]["account"])}); thresholds: the medians unless given'
                     f'{"; a sample of the points is drawn" if a["sampled"] else ""}. '
                     + ", ".join(f'{esc(g.replace("_", " "))} {n}' for g, n in a["counts"].items()) + '.</p>'
                     + chart(charts, "accounts", C.accounts(a)))
        if a["at_risk"]:
            rows = "".join(f'<tr><td><bdi>{esc(x["account"])}</bdi></td><td class=n>{num(x["revenue"])}</td><td class=n>{x["satisfaction"]:.2f}</td>'
                           f'<td>{esc(", ".join(x["themes"]))}</td></tr>' for x in a["at_risk"])
            parts.append('<h3>At risk</h3><div class="tablewrap"><table><thead><tr><th>Account</th><th class=n>Revenue</th>'
                         f'<th class=n>Satisfaction</th><th>Themes</th></tr></thead><tbody>{rows}</tbody></table></div>')
    else:
        parts.append('<p class="meta">Accounts: give <code>--account-field</code> (and <code>--revenue-field</code> or '
                     '<code>--accounts FILE.csv</code>) to place accounts in the four quadrants.</p>')
    return "".join(parts) + "</section>"


def backlog_html(d: dict, charts: dict, links: Links) -> str:
    bl = d["backlog"]
    head = ("<tr><th></th><th class=n><button class=sort>#</button></th><th><button class=sort>Item</button></th>"
            "<th class=n><button class=sort>Priority</button></th><th class=n><button class=sort>Docs</button></th>"
            "<th class=n><button class=sort>Negative</button></th><th class=n><button class=sort>Growth</button></th>"
            "<th><button class=sort>Status</button></th><th class=hide-s>Where</th></tr>")
    bodies = []
    for it in bl["items"]:
        key = esc(it["id"])
        growth = "few" if (it.get("trend") or {}).get("few") else (MISSING if it["growth"] is None else f'{100 * it["growth"]:+.0f}%')
        status = esc(it["status"].replace("_", " ")) + (f' {esc(it["status_date"])}' if it.get("status_date") else "")
        row = (f'<tr><td><button class="open" aria-expanded="false" aria-controls="item-{key}" aria-label="open item {key}">▸</button></td>'
               f'<td class=n data-v="{it["rank"]}">{it["rank"]}</td>'
               f'<td data-v="{esc(it["title"].casefold())}"><b>{links.row("backlog_items", it["id"], key)}</b> <bdi>{esc(it["title"])}</bdi></td>'
               f'<td class=n data-v="{sort_value(it["priority"])}">{num(it["priority"], ".1f")}</td>'
               f'<td class=n data-v="{it["documents"]}">{num(it["documents"])}</td>'
               f'<td class=n data-v="{sort_value(it["negative_share"])}">{pct(it["negative_share"])}</td>'
               f'<td class=n data-v="{sort_value(it["growth"])}">{growth}</td><td>{status}</td>'
               f'<td class=hide-s><bdi>{esc(it["where"] or MISSING)}</bdi></td></tr>')
        quotes = "".join(quote_html(q["text"], q["lang"], " · ".join(esc(x) for x in (q.get("channel"), q.get("date")) if x)
                                    + (" · " + links.row("documents", q["document_id"], f'document {q["document_id"]}') if links.base and q.get("document_id") else ""))
                         for q in it["quotes"])
        facets = "".join(f'<li><bdi>{esc(f["label"])}</bdi>: {num(f["documents"])} documents ({pct(f["share"])}), '
                         f'{pct(f["negative_share"])} negative, owner {esc(f["owner"] or MISSING)}</li>' for f in it["facets"])
        fix = f'<p><b>Did the fix work?</b> {esc(it["fix_check"].get("summary"))}</p>' if it.get("fix_check") else ""
        note = f'<p class="meta">Note: {esc(it["status_note"])}</p>' if it.get("status_note") else ""
        detail = (f'<tr class="detail" id="item-{key}" hidden><td colspan="9"><div class="detailgrid"><div>'
                  f'<p dir="auto"><bdi>{esc(it["summary"])}</bdi></p><p class="meta">Priority: {esc(it["explanation"] or MISSING)}</p>{note}{fix}'
                  f'<h3>Where</h3><ul>{facets or "<li>" + MISSING + "</li>"}</ul></div>'
                  f'<div><h3>Evidence</h3>{quotes or MISSING}</div></div></td></tr>')
        bodies.append(f'<tbody>{row}{detail}</tbody>')
    aside = []
    for name, rows in bl["set_aside"].items():
        if rows:
            aside.append(f'<h3>Set aside: {esc(name)}</h3><ul>' + "".join(
                f'<li><bdi>{esc(a["theme"])}</bdi>: {num(a["documents"])} documents, {pct(a["negative_share"])} negative</li>' for a in rows) + "</ul>")
    shown = f"The first {len(bl['items'])} of {bl['total']} items." if bl["total"] > len(bl["items"]) else f"{bl['total']} items."
    return (
        '<section id="backlog"><h2>Backlog</h2>'
        f'<p class="meta">{shown} Ranked as <code>miner backlog</code> ranks them (whole store, trend window ending {esc(bl["as_of"] or MISSING)}); '
        'won\'t-fix items hidden. Priority = volume + negativity + growth + impact points.</p>'
        + chart(charts, "priority_parts", C.priority_parts(bl["items"]))
        + f'<div class="tablewrap"><table class="sortable" id="backlog-table"><thead>{head}</thead>{"".join(bodies)}</table></div>'
        + "".join(aside) + "</section>"
    )


def render(d: dict, *, browse_url: str | None = None, database: str = "miner") -> str:
    """The whole page."""
    charts: dict[str, dict] = {}
    links = Links(browse_url, database)
    body = (overview_html(d, charts) + themes_html(d, charts, links) + journey_html(d, charts) + trends_html(d, charts)
            + impact_html(d, charts) + backlog_html(d, charts, links))
    data = script_json({"charts": charts})
    plotly = plotly_js()
    csp = ("default-src 'none'; " f"script-src {csp_hash(plotly)} {csp_hash(JS)}; style-src 'unsafe-inline'; "
           "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")
    meta = d["meta"]
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}"><meta name="referrer" content="no-referrer">'
        f'<meta name="generator" content="miner {esc(meta["version"])}">'
        f'<title>miner report: {esc(meta["store"])}</title><style>{CSS}</style></head><body>'
        f'<header><h1>miner report</h1><nav aria-label="sections">{nav}</nav>'
        '<button id="theme-toggle" type="button" aria-label="switch light or dark">◐ light / dark</button>'
        f'<div class="meta" style="flex-basis:100%">{esc(meta["store"])} · data {esc(meta["first_day"] or MISSING)} to '
        f'{esc(meta["last_day"] or MISSING)} · labels in {esc(meta["label_lang"])} · made {esc(meta["generated_at"][:16].replace("T", " "))} UTC '
        f'by miner {esc(meta["version"])}</div></header><main>{body}</main>'
        f'<script type="application/json" id="report-data">{data}</script>'
        f'<script>{plotly}</script><script>{JS}</script></body></html>\n'
    )
