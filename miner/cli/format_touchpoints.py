"""Terminal text of `miner touchpoints` (also the demo's most negative touchpoints)."""

from __future__ import annotations

from miner.display import percent, shown


def pct(value) -> str:
    return percent(value, 0)


def net(value) -> str:
    return shown(value, "+.2f")


def assign_lines(r: dict, db) -> list[str]:
    return [
        f"Taxonomy {r['taxonomy']!r} ({r['touchpoints']} touchpoints, {r['method']}"
        + (f", {r['examples']} examples" if r["examples"] else "") + f"): {r['assigned']:,} of {r['segments']:,} segments "
        f"at a touchpoint ({r['none_share']:.1%} none, {r['two_touchpoints']:,} at two) in {r['seconds']:.1f}s.",
        f"See them with: miner touchpoints list --db {db}   miner touchpoints sentiment --by theme --db {db}",
    ]


def overview_lines(r: dict) -> list[str]:
    out = [f"{'stage':<10} {'touchpoint':<18} {'segs':>6} {'share':>6} {'neg':>5} {'net':>6}  {'owner':<14} top themes"]
    for t in r["touchpoints"]:
        top = "; ".join(f"{x['label'][:28]} ({x['segments']})" for x in t["top_themes"])
        out.append(f"{t['stage'][:10]:<10} {t['touchpoint'][:18]:<18} {t['segments']:>6} {t['share']:>6.1%} {pct(t['neg_share']):>5} "
                   f"{net(t['net']):>6}  {(t['owner'] or '-')[:14]:<14} {top}")
    out.append(f"Taxonomy {r['taxonomy']!r}: {r['with_touchpoint']:,} of {r['segments']:,} segments at a touchpoint ({r['none_share']:.1%} none).")
    return out


def most_negative_lines(overview: dict, n: int = 5, min_segments: int = 10) -> list[str]:
    """The `n` touchpoints with the highest negative share among those with at least `min_segments` segments."""
    worst = sorted((t for t in overview["touchpoints"] if t["segments"] >= min_segments), key=lambda t: -(t["neg_share"] or 0))[:n]
    return [f"  {t['label'][:34]:<34} {t['segments']:>5} segments  neg {t['neg_share']:.0%}  "
            + "; ".join(x["label"][:30] for x in t["top_themes"]) for t in worst]


def sentiment_lines(rows: list[dict], by: str) -> list[str]:
    head = f"{'touchpoint':<18} " + (f"{by:<32} " if by != "touchpoint" else "")
    out = [f"{head}{'segs':>6} {'docs':>6} {'neg':>5} {'neu':>5} {'pos':>5} {'net':>6}"]
    for r in rows:
        group = f"{str(r['label'])[:32]:<32} " if by != "touchpoint" else ""
        rated = r["neg"] + r["neu"] + r["pos"] or 1
        out.append(f"{r['touchpoint'][:18]:<18} {group}{r['segments']:>6} {r['documents']:>6} {r['neg'] / rated:>5.0%} "
                   f"{r['neu'] / rated:>5.0%} {r['pos'] / rated:>5.0%} {net(r['net']):>6}")
    return out


def taxonomy_check_line(path, tax) -> str:
    langs = sorted({lang for t in tax.touchpoints for lang, _ in t.examples if lang})
    n = sum(len(t.examples) for t in tax.touchpoints)
    return (f"{path}: taxonomy {tax.name!r} is valid: {len(tax.stages)} stages, {len(tax.touchpoints)} touchpoints, "
            f"{n} examples" + (f" in {', '.join(langs)}" if langs else "") + ".")
