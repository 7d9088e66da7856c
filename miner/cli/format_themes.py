"""Terminal text of `miner themes` (also the demo's list of the largest themes)."""

from __future__ import annotations

from miner.display import fit_to

LABEL_WIDTH = 44
KIND_MARK = {"praise": "+", "request": "?", "venting": "~"}  # complaint: no mark


def discover_lines(result: dict, db) -> list[str]:
    if result["unchanged"]:
        return [
            f"Nothing changed since run {result['run_id']}: {result['themes']} themes ({result['subthemes']} sub-themes) over "
            f"{result['documents']:,} documents are kept as they are (--force refits).",
            f"See them with: miner themes list --db {db}",
        ]
    if result["relabelled"]:
        return [
            f"Named {result['relabelled']} themes and sub-themes in {result['label_lang']} without a refit (nothing else changed since "
            f"run {result['run_id']}) in {result['seconds']:.1f}s" + (f"; {result['weak_labels']} label(s) weak (marked ?)." if result["weak_labels"] else "."),
            f"See them with: miner themes list --db {db}",
        ]
    events = ", ".join(f"{k} {v}" for k, v in sorted(result["events"].items())) or "none"
    weak = f"; {result['weak_labels']} label(s) weak (marked ?)" if result["weak_labels"] else ""
    return [
        f"Run {result['run_id']}: {result['themes']} themes, {result['subthemes']} sub-themes over {result['documents']:,} documents "
        f"({result['segments']:,} segments, {result['fitted']:,} fitted) in {result['seconds']:.1f}s; without a theme "
        f"{result['outliers']:,} documents ({result['outlier_share']:.1%}); labels in {result['label_lang']}{weak}. Changes: {events}.",
        f"See them with: miner themes list --db {db}   (--tree for sub-themes)",
    ]


def label_text(t: dict) -> str:
    """The label, "?" after it when the lexicon could only guess (a label you gave is never weak)."""
    weak = t.get("label_confidence") is not None and t["label"] == t.get("auto_label") and t["label_confidence"] < 0.25
    return t["label"] + (" ?" if weak else "")


def theme_line(t: dict, indent: str = "") -> str:
    """id, flags, documents, share, negative share, kind, label, top languages: one theme in a list."""
    langs = " ".join(f"{k}:{v}" for k, v in list(t["languages"].items())[:4])
    s = t["sentiment"]
    n = sum(s.values()) or 1
    mood = f"neg {s.get('neg', 0) / n:.0%}" if s else ""
    flags = ("*" if t["pinned"] else "") + ("(archived)" if t["status"] == "archived" else "")
    kind = KIND_MARK.get(t.get("kind") or "complaint", " ")
    label = fit_to(indent + label_text(t), LABEL_WIDTH)
    return f"{t['id']:>5}{flags:<2} {t['documents']:>6} docs {t['share']:>6.1%}  {mood:<8} {kind} {label}  {langs}"


def list_lines(result: dict) -> list[str]:
    out = [f"{'id':>5}   {'docs':>11} {'share':>6}  {'mood':<8}   {fit_to('label', LABEL_WIDTH)}  languages"]
    for t in result["themes"]:
        out.append(theme_line(t))
        out.extend(theme_line(c, "  └ ") for c in t.get("children", []))
    out.append(
        f"{len(result['themes'])} themes; {result['outliers']:,} of {result['segments']:,} segments without a theme "
        f"({result['outlier_share']:.1%}). * pinned; kind: + praise, ? request, ~ venting; a label ending in ? is a guess."
    )
    return out


def show_lines(t: dict, period: str) -> list[str]:
    kind = t.get("kind") or "complaint"
    out = [f"Theme {t['id']}: {label_text(t)}  [{t['status']}{', pinned' if t['pinned'] else ''}; {kind}]"]
    if t["label"] != t["auto_label"]:
        out.append(f"  automatic label: {t['auto_label']}")
    if t.get("label_confidence") is not None:
        out.append(f"  label in {t['label_lang']}, confidence {t['label_confidence']:.0%} (documents that name it among their 3 best concepts)")
    if t.get("parent"):
        out.append(f"  sub-theme of theme {t['parent']}")
    s = t["sentiment"]
    out.append(f"  {t['documents']:,} documents, {t['segments']:,} segments ({t['share']:.1%}), {t['low_confidence']:,} low-confidence")
    out.append("  languages: " + ", ".join(f"{k} {v}" for k, v in t["languages"].items()))
    out.append(f"  sentiment: neg {s.get('neg', 0)}, neu {s.get('neu', 0)}, pos {s.get('pos', 0)}")
    out.append(f"  seen: {t['first_seen'] or '?'} .. {t['last_seen'] or '?'}   by {period}: {t['sparkline']}")
    for c in t.get("children", []):
        out.append(f"  sub-theme {c['id']}: {c['label']} ({c['documents']} documents)")
    for lang, words in t["keywords"].items():
        out.append(f"  keywords [{lang}]: " + ", ".join(words))
    for lang, quotes in t["quotes"].items():
        for q in quotes:
            out.append(f"  [{lang}] " + " ".join(q.split())[:200])
    return out


def lineage_lines(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        rel = f" (from/into {r['related_theme_id']})" if r["related_theme_id"] else ""
        out.append(f"{r['event']:<8} {r['theme_id']:>5}{rel}  {r['label']}")
    return out
