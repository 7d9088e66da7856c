"""Terminal text of `miner touchpoints` (also the demo's most negative touchpoints)."""

from __future__ import annotations

from miner.display import fit_to, percent, shown


def pct(value) -> str:
    return percent(value, 0)


def net(value) -> str:
    return shown(value, "+.2f")


REASONS = {
    "ambiguous": "two touchpoints share it",
    "no_fit": "no touchpoint stands out",
    "corrected_to_none": "corrected to none",
}


def _closest(counts: dict, n: int = 4) -> str:
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v}" for k, v in top)


def assign_lines(r: dict, db) -> list[str]:
    method = r["method"] + (f", {r['examples']} examples" if r["examples"] else "") + (f", {r['corrections']} corrections" if r["corrections"] else "")
    out = [
        f"Taxonomy {r['taxonomy']!r} ({r['touchpoints']} touchpoints, {method}): {r['documents'] - r['documents_none']:,} of "
        f"{r['documents']:,} documents and {r['assigned']:,} of {r['segments']:,} segments at a touchpoint "
        f"({r['documents_none_share']:.1%} and {r['none_share']:.1%} none at --min-confidence {r['min_confidence']}; "
        f"{r['two_touchpoints']:,} segments at two) in {r['seconds']:.1f}s.",
    ]
    fs = r.get("few_shot")
    if fs:
        acc = fs["held_out_accuracy"]
        zero, chosen = acc.get("0.0"), acc.get("examples only" if fs["weight"] == "examples only" else str(float(fs["weight"])))
        out.append(f"Examples, on held-out folds ({fs['folds']}): zero-shot {percent(zero, 1)} right, with the examples "
                   f"{percent(chosen, 1)} (weight {fs['weight']}); probabilities calibrated on them (temperature {fs['temperature']}).")
        changed = [f"{k} {percent(v['zero_shot'], 0)}->{percent(v['chosen'], 0)}" for k, v in fs["per_touchpoint"].items()
                   if abs(v["chosen"] - v["zero_shot"]) >= 0.05]
        if changed:
            out.append("  What the examples changed (held-out recall): " + ", ".join(changed[:12]) + ("..." if len(changed) > 12 else ""))
    if r["corrections_ignored"]:
        out.append(f"{r['corrections_ignored']} corrections name touchpoints this taxonomy lacks: kept, not used.")
    out.append(f"See them with: miner touchpoints list --db {db}   miner touchpoints sentiment --by theme --db {db}")
    return out


def overview_lines(r: dict) -> list[str]:
    out = [f"{'stage':<10} {'touchpoint':<18} {'segs':>6} {'share':>6} {'neg':>5} {'net':>6}  {'owner':<14} top themes"]
    for t in r["touchpoints"]:
        top = "; ".join(f"{fit_to(x['label'], 28).rstrip()} ({x['segments']})" for x in t["top_themes"])
        out.append(f"{fit_to(t['stage'] or '', 10)} {fit_to(t['touchpoint'], 18)} {t['segments']:>6} {t['share']:>6.1%} {pct(t['neg_share']):>5} "
                   f"{net(t['net']):>6}  {fit_to(t['owner'] or '-', 14)} {top}")
    how = f", {r['method']}" if r.get("method") else ""
    out.append(f"Taxonomy {r['taxonomy']!r}{how}: {r['with_touchpoint']:,} of {r['segments']:,} segments at a touchpoint ({r['none_share']:.1%} none)"
               + (f"; {r['documents_with_touchpoint']:,} of {r['documents']:,} documents." if r.get("documents") else "."))
    reasons = r.get("abstentions") or {}
    if reasons:
        at = f" (--min-confidence {r['min_confidence']})" if r.get("min_confidence") is not None else ""
        out.append(f"Without a touchpoint{at}:")
        for reason, x in sorted(reasons.items(), key=lambda kv: -kv[1]["segments"]):
            closest = f"; closest: {_closest(x['closest'])}" if x["closest"] else ""
            out.append(f"  {x['segments']:>6} segments: {REASONS.get(reason, reason)}{closest}")
    if r.get("corrections"):
        out.append(f"Corrections kept: {r['corrections']:,} (miner touchpoints correct).")
    return out


def correct_lines(r: dict, db) -> list[str]:
    what = f"{r['documents']} document(s)" if r["documents"] else ""
    what += (" and " if what and r["segments"] else "") + (f"{r['segments']} segment(s)" if r["segments"] else "")
    return [
        f"Stored {r['stored']} correction(s) ({what}{', ' + str(r['replaced']) + ' replacing earlier ones' if r['replaced'] else ''}); "
        f"{r['total']} in all. Applied now; every later `miner touchpoints assign` keeps them and learns from them.",
        f"Check the assignment against a labelled sample: miner touchpoints evaluate --labels FILE.csv --db {db}",
    ]


def evaluate_lines(r: dict) -> list[str]:
    out = [
        f"{r['evaluated']:,} labelled items ({r['labels']})" + (f"; {r['left_out_corrected']} left out: you corrected them" if r["left_out_corrected"] else "")
        + ".",
        f"Top-1 {percent(r['top1'], 1)}   coverage {percent(r['coverage'], 1)}   top-1 where covered {percent(r['top1_covered'], 1)}   "
        f"macro-F1 {shown(r['macro_f1'] * 100 if r['macro_f1'] is not None else None, '.1f')}",
        "",
        f"{'touchpoint':<18} {'labelled':>8} {'assigned':>8} {'right':>6} {'prec':>6} {'recall':>6} {'F1':>6}",
    ]
    for k, v in r["per_touchpoint"].items():
        out.append(f"{k[:18]:<18} {v['labelled']:>8} {v['assigned']:>8} {v['right']:>6} {percent(v['precision'], 0):>6} "
                   f"{percent(v['recall'], 0):>6} {percent(v['f1'], 0):>6}")
    cols = r["columns"]
    out += ["", "Confusion (rows: your label; columns: assigned)", f"{'':<18} " + " ".join(f"{c[:7]:>7}" for c in cols)]
    for g, row in r["confusion"].items():
        out.append(f"{g[:18]:<18} " + " ".join(f"{row.get(c, 0) or '.':>7}" for c in cols))
    return out


def most_negative_lines(overview: dict, n: int = 5, min_segments: int = 10) -> list[str]:
    """The `n` touchpoints with the highest negative share among those with at least `min_segments` segments."""
    worst = sorted((t for t in overview["touchpoints"] if t["segments"] >= min_segments), key=lambda t: -(t["neg_share"] or 0))[:n]
    return [f"  {fit_to(t['label'], 34)} {t['segments']:>5} segments  neg {pct(t['neg_share'])}  "
            + "; ".join(fit_to(x["label"], 30).rstrip() for x in t["top_themes"]) for t in worst]


def sentiment_lines(rows: list[dict], by: str) -> list[str]:
    """One row per touchpoint (and group); with --by theme the theme's id comes first, since
    two themes may share a label."""
    ids = by == "theme"
    id_width = max([len(str(r.get("group"))) for r in rows] + [2]) if ids else 0
    head = f"{'touchpoint':<18} " + (f"{'id':>{id_width}} " if ids else "") + (f"{by:<32} " if by != "touchpoint" else "")
    out = [f"{head}{'segs':>6} {'docs':>6} {'neg':>5} {'neu':>5} {'pos':>5} {'net':>6}"]
    for r in rows:
        theme_id = f"{str(r.get('group')):>{id_width}} " if ids else ""
        group = f"{fit_to(str(r['label']) or '(not set)', 32)} " if by != "touchpoint" else ""
        rated = r["neg"] + r["neu"] + r["pos"] or 1
        out.append(f"{fit_to(r['touchpoint'], 18)} {theme_id}{group}{r['segments']:>6} {r['documents']:>6} {r['neg'] / rated:>5.0%} "
                   f"{r['neu'] / rated:>5.0%} {r['pos'] / rated:>5.0%} {net(r['net']):>6}")
    return out


def taxonomy_check_line(path, tax) -> str:
    langs = sorted({lang for t in tax.touchpoints for lang, _ in t.examples if lang})
    n = sum(len(t.examples) for t in tax.touchpoints)
    return (f"{path}: taxonomy {tax.name!r} is valid: {len(tax.stages)} stages, {len(tax.touchpoints)} touchpoints, "
            f"{n} examples" + (f" in {', '.join(langs)}" if langs else "") + ".")
