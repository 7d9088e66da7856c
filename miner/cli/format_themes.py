"""Terminal text of `miner themes` (also the demo's list of the largest themes)."""

from __future__ import annotations


def discover_lines(result: dict, db) -> list[str]:
    events = ", ".join(f"{k} {v}" for k, v in sorted(result["events"].items())) or "none"
    return [
        f"Run {result['run_id']}: {result['themes']} themes over {result['segments']:,} segments "
        f"({result['fitted']:,} fitted) in {result['seconds']:.1f}s; without a theme {result['outliers']:,} "
        f"({result['outlier_share']:.1%}); low-confidence {result['low_confidence']:,}. Themes: {events}.",
        f"See them with: miner themes list --db {db}",
    ]


def theme_line(t: dict) -> str:
    """id, flags, documents, share, negative share, label, top languages: one theme in a list."""
    langs = " ".join(f"{k}:{v}" for k, v in list(t["languages"].items())[:4])
    s = t["sentiment"]
    n = sum(s.values()) or 1
    mood = f"neg {s.get('neg', 0) / n:.0%}" if s else ""
    flags = ("*" if t["pinned"] else "") + ("(archived)" if t["status"] == "archived" else "")
    return f"{t['id']:>5}{flags:<2} {t['documents']:>6} docs {t['share']:>6.1%}  {mood:<8} {t['label'][:60]:<60}  {langs}"


def list_lines(result: dict) -> list[str]:
    return [
        f"{'id':>5}   {'docs':>11} {'share':>6}  {'mood':<8} {'label':<60}  languages",
        *(theme_line(t) for t in result["themes"]),
        f"{len(result['themes'])} themes; {result['outliers']:,} of {result['segments']:,} segments without a theme "
        f"({result['outlier_share']:.1%}). * pinned",
    ]


def show_lines(t: dict, period: str) -> list[str]:
    out = [f"Theme {t['id']}: {t['label']}  [{t['status']}{', pinned' if t['pinned'] else ''}]"]
    if t["label"] != t["auto_label"]:
        out.append(f"  automatic label: {t['auto_label']}")
    s = t["sentiment"]
    out.append(f"  {t['documents']:,} documents, {t['segments']:,} segments ({t['share']:.1%}), {t['low_confidence']:,} low-confidence")
    out.append("  languages: " + ", ".join(f"{k} {v}" for k, v in t["languages"].items()))
    out.append(f"  sentiment: neg {s.get('neg', 0)}, neu {s.get('neu', 0)}, pos {s.get('pos', 0)}")
    out.append(f"  seen: {t['first_seen'] or '?'} .. {t['last_seen'] or '?'}   by {period}: {t['sparkline']}")
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
