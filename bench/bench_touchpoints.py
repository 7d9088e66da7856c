"""Touchpoints (issue 14): the default journey and users' own taxonomies, zero-shot and with 10
examples per touchpoint, through the product (`miner touchpoints assign`), on sets no one on
the team wrote, plus what each part of the method adds, off-topic texts and scale.

    nice -n 10 .venv/bin/python bench/bench_touchpoints.py [--parts product,ablation,offtopic,scale] [--no-write] [--write-only]

The sets and their stores: bench/touchpoint_sets.py. The user taxonomies (bench/taxonomies/) and
the default journey's map of lexicon concepts were written on 2026-12-06 before any assignment
with them was looked at. How each figure is counted, decided before measuring:

- A document's touchpoint is its main one (`document_touchpoints`, what `miner export documents`
  gives); a document left without one counts as a miss. xling_dev: a close sibling counts
  (../shared/tools/xling_dev_eval.py's rule; the default-journey headline is that tool's own
  figure); demo: right when it is one of the document's labelled touchpoints (mapped onto the
  default journey's keys by DEMO_TO_DEFAULT for the default taxonomy).
- With examples: 10 per touchpoint (fewer where the pool has fewer), 3 seeded draws, scored on
  documents that are not examples; the mean over draws is reported, and "never lower" is
  checked per draw against zero-shot on the same documents.
- Targets (issue 14): default journey on xling_dev >= 75% top-1; each user taxonomy zero-shot
  >= 65%, with examples >= 80%, <= 15% of documents without a touchpoint, examples never
  lower top-1; 100k cached segments assigned in < 10 s.

What was tuned on what: the method's choices (document vectors, mean prototypes, k = 5
neighbours, the fusion weights, C = 10) were made on xling_dev, the demo, banking77's test split
and UIT-VSFC's dev split, both halves in view; the zero-shot temperature (0.6) and the default
--min-confidence (0.25) on their halves marked in touchpoint_sets.py. The held-out samples of
banking77 and UIT-VSFC `train` were never looked at before this script's first run.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_cli  # noqa: E402
from bench.report import write_section  # noqa: E402
from bench.touchpoint_sets import DRAWS, WORK, LabelledSet, banking, demo, read, uit, xling  # noqa: E402

EVAL = ROOT.parent / "shared" / "tools" / "xling_dev_eval.py"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(x, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# --- the product path -------------------------------------------------------------------------

def assign(s: LabelledSet, examples: list | None = None) -> tuple[float, dict]:
    args = ["touchpoints", "assign", "--db", str(s.store)]
    if s.taxonomy is not None:
        args += ["--taxonomy", str(s.taxonomy)]
    if examples:
        path = Path(tempfile.mkstemp(suffix=".csv", dir=WORK)[1])
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "touchpoint"])
            w.writerows([(t, k) for _, t, k in examples])
        args += ["--examples", str(path)]
    secs, _, out = run_cli(*args)
    if examples:
        path.unlink()
    return secs, out


def predictions(s: LabelledSet) -> dict[str, str | None]:
    con = sqlite3.connect(str(s.store))
    rows = con.execute("SELECT d.external_id, t.touchpoint FROM document_touchpoints t JOIN documents d ON d.id = t.document_id").fetchall()
    con.close()
    return dict(rows)


def score(s: LabelledSet, pred: dict, skip: set[str] = frozenset()) -> dict:
    ids = [e for e in s.gold if e not in skip and e in pred]
    right = [pred[e] is not None and pred[e] in s.gold[e] for e in ids]
    covered = [pred[e] is not None for e in ids]
    return {"n": len(ids), "top1": float(np.mean(right)), "none": 1 - float(np.mean(covered)),
            "top1_covered": float(np.mean([r for r, c in zip(right, covered) if c])) if any(covered) else None,
            "ids": ids, "right": dict(zip(ids, right))}


def recall_by_touchpoint(s: LabelledSet, pred: dict, ids: list[str]) -> dict[str, float]:
    """Per gold touchpoint (documents with one acceptable main touchpoint), the share right."""
    by = defaultdict(list)
    for e in ids:
        main = sorted(s.gold[e])[0] if len(s.gold[e]) == 1 else None
        if main:
            by[main].append(pred.get(e) in s.gold[e])
    return {k: float(np.mean(v)) for k, v in by.items()}


def run_set(s: LabelledSet, few: bool = True) -> dict:
    log(f"{s.name}: zero-shot")
    secs, out = assign(s)
    zero_pred = predictions(s)
    zero = score(s, zero_pred)
    res = {"name": s.name, "held_out": s.held_out, "zero": {k: v for k, v in zero.items() if k not in ("ids", "right")},
           "zero_seconds": round(secs, 1), "documents": out["documents"], "method": out["method"]}
    if not few:
        return res
    draws, per_tp_zero, per_tp_few = [], defaultdict(list), defaultdict(list)
    for seed in DRAWS:
        ex = s.draw(seed)
        log(f"{s.name}: {len(ex)} examples, draw {seed}")
        _, out = assign(s, ex)
        pred = predictions(s)
        skip = {e for e, _, _ in ex if e is not None}
        f = score(s, pred, skip)
        z = score(s, zero_pred, skip)
        draws.append({"seed": seed, "examples": len(ex), "few": f["top1"], "zero": z["top1"], "none": f["none"],
                      "weight": (out.get("few_shot") or {}).get("weight"), "held_out_accuracy": (out.get("few_shot") or {}).get("held_out_accuracy")})
        for k, v in recall_by_touchpoint(s, zero_pred, f["ids"]).items():
            per_tp_zero[k].append(v)
        for k, v in recall_by_touchpoint(s, pred, f["ids"]).items():
            per_tp_few[k].append(v)
    res["few"] = {"top1": float(np.mean([d["few"] for d in draws])), "zero_same_docs": float(np.mean([d["zero"] for d in draws])),
                  "none": float(np.mean([d["none"] for d in draws])), "min": min(d["few"] for d in draws), "max": max(d["few"] for d in draws),
                  "never_lower": all(d["few"] >= d["zero"] - 1e-9 for d in draws), "draws": draws}
    res["per_touchpoint"] = {k: (float(np.mean(per_tp_zero[k])), float(np.mean(per_tp_few[k]))) for k in per_tp_few}
    return res


def xling_tool(store: Path) -> dict:
    out = subprocess.run([sys.executable, str(EVAL), str(store), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def first_map() -> Path:
    """The default journey as first written (its concept map made before any measurement,
    commit fcdfc1e), to report beside the revised one."""
    path = WORK / "touchpoints_first_map.yaml"
    text = subprocess.run(["git", "show", "fcdfc1e:models/touchpoints.yaml"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    path.write_text(text.replace("taxonomy: customer-journey", "taxonomy: customer-journey-first-map"), encoding="utf-8")
    return path


def part_product(args) -> tuple[str, dict]:
    from dataclasses import replace

    results = {}
    first = first_map()
    for key, s in (("xling-default-first", replace(xling(True), name="xling_dev, default journey as first mapped", taxonomy=first)),
                   ("demo-default-first", replace(demo(True), name="demo, default journey as first mapped", taxonomy=first))):
        results[key] = run_set(s, few=False)
        if key.startswith("xling"):
            results[key]["tool"] = xling_tool(s.store)["touchpoint_top1"]
    xd = xling(True)
    results["xling-default"] = run_set(xd, few=False)
    results["xling-default"]["tool"] = xling_tool(xd.store)["touchpoint_top1"]
    results["demo-default"] = run_set(demo(True), few=False)
    for key, make in (("xling-user", lambda: xling(False)), ("demo-user", lambda: demo(False)),
                      ("banking-test", lambda: banking(False)), ("uit-dev", lambda: uit(False)),
                      ("banking-heldout", lambda: banking(True)), ("uit-heldout", lambda: uit(True))):
        results[key] = run_set(make())
    rows = []
    for key in ("xling-default-first", "xling-default", "demo-default-first", "demo-default"):
        r = results[key]
        head = r.get("tool")
        rows.append([r["name"], r["documents"], f"**{pct(head if head is not None else r['zero']['top1'])}**", pct(r["zero"]["none"]),
                     pct(r["zero"]["top1_covered"]), "", "", "", ""])
    verdicts = []
    for key in ("xling-user", "demo-user", "banking-test", "uit-dev", "banking-heldout", "uit-heldout"):
        r = results[key]
        z, f = r["zero"], r["few"]
        name = r["name"] + (" (held out)" if r["held_out"] else "")
        rows.append([name, r["documents"], f"**{pct(z['top1'])}**", pct(z["none"]), pct(z["top1_covered"]),
                     f"**{pct(f['top1'])}** ({pct(f['min'], 0)}-{pct(f['max'], 0)})", pct(f["zero_same_docs"]), pct(f["none"]),
                     "yes" if f["never_lower"] else "**no**"])
        verdicts.append((name, z["top1"] >= 0.65, f["top1"] >= 0.80, max(z["none"], f["none"]) <= 0.15, f["never_lower"]))
    xd_top = results["xling-default"]["tool"]
    lines = [
        "### Through the product (`miner touchpoints assign`, defaults: --min-confidence 0.25)",
        "",
        md_table(["set", "documents", "top-1 zero-shot", "none", "top-1 where given", "top-1 with 10 examples (range of 3 draws)",
                  "zero-shot, same documents", "none with examples", "examples never lower"], rows),
        "",
        f"Targets: xling_dev default journey >= 75%: **{'met' if xd_top >= 0.75 else 'missed'}** ({pct(xd_top)}, "
        f"../shared/tools/xling_dev_eval.py; 34.2% before issue 14; {pct(results['xling-default-first']['tool'])} with the concept map as first "
        "written, before measuring: the revision moved six concepts to the moment of the journey xling_dev's annotators chose, so "
        "the revised figure is tuned on xling_dev; the demo, not used for that choice, moved "
        f"{pct(results['demo-default-first']['zero']['top1'])} -> {pct(results['demo-default']['zero']['top1'])}). User taxonomies, each set:",
        "",
        md_table(["set", "zero-shot >= 65%", "examples >= 80%", "<= 15% none", "never lower"],
                 [[n] + ["met" if v else "**missed**" for v in vs] for n, *vs in verdicts]),
        "",
        "What the examples changed, per touchpoint (recall of documents whose main touchpoint it is, zero-shot -> with examples,"
        " mean of 3 draws; changes of 5 points or more):",
        "",
    ]
    for key in ("xling-user", "demo-user", "banking-test", "uit-dev", "banking-heldout", "uit-heldout"):
        r = results[key]
        moved = [f"{k} {pct(a, 0)}->{pct(b, 0)}" for k, (a, b) in sorted(r["per_touchpoint"].items()) if abs(b - a) >= 0.05]
        lines.append(f"- {r['name']}: " + (", ".join(moved) if moved else "no touchpoint moved by 5 points"))
    lines.append("")
    lines.append("Weights the held-out folds of the examples chose (0 = zero-shot only, -1 = the examples alone), per draw: "
                 + "; ".join(f"{results[k]['name']} {[d['weight'] for d in results[k]['few']['draws']]}"
                             for k in ("xling-user", "demo-user", "banking-test", "uit-dev", "banking-heldout", "uit-heldout")) + ".")
    return "\n".join(lines), results


# --- what each part adds (in process, the product's functions) ---------------------------------------

def _load(s: LabelledSet):
    from miner.nlp.encoders.registry import get_encoder
    from miner.segments.vectors import load_segments
    from miner.store import open_db
    from miner.touchpoints.model import documents_of_segments

    db = open_db(str(s.store))
    enc = get_encoder(None, lazy=True)
    segs, _ = load_segments(db, enc)
    docs, _ = documents_of_segments(db, enc, segs)
    ext = dict(db.execute("SELECT id, external_id FROM documents").fetchall())
    return db, enc, docs, [ext[int(d)] for d in docs.ids]


def part_ablation(args) -> tuple[str, dict]:
    from miner.concepts.lexicon import load_lexicon
    from miner.concepts.space import concept_space
    from miner.nlp.cache import EmbeddingCache, embed_texts
    from miner.nlp.encoders.registry import get_encoder
    from miner.nlp.textprep import encoder_input
    from miner.touchpoints import assign as A
    from miner.touchpoints.model import concept_evidence
    from miner.touchpoints.taxonomy import load_taxonomy

    sets = [xling(True), xling(False), demo(True), demo(False), banking(False), uit(False), banking(True), uit(True)]
    variants = ["description only", "examples only", "description + examples", "description + examples, passage: form",
                "+ neighbours, raw vectors", "+ neighbours, languages centred", "+ neighbours, centred + projection",
                "+ lexicon concepts (default journey)", "shipped (all of the above)"]
    table, out = [], {}
    for s in sets:
        log(f"ablation: {s.name}")
        db, enc, docs, ext = _load(s)
        cache = EmbeddingCache(db)
        tax = load_taxonomy(s.taxonomy)
        texts, owner, kind = [], [], []
        for k, tp in enumerate(tax.touchpoints):
            for i, t in enumerate(tp.prototype_texts()):
                texts.append(t), owner.append(k), kind.append("desc" if i == 0 else "ex")
        owner, kind = np.array(owner), np.array(kind)
        Xq, _ = embed_texts(enc, [encoder_input(t) for t in texts], cache)
        Xp, _ = embed_texts(get_encoder("e5-small-passage", lazy=True), [encoder_input(t) for t in texts], cache)
        space = concept_space(load_lexicon(), enc, cache)
        proj_align = A.Alignment.fit(docs.vectors, docs.langs, space.proj)
        centred = A.Alignment.fit(docs.vectors, docs.langs, None)
        evidence = concept_evidence(tax, space)
        k = len(tax.keys)
        P = A.AssignParams()

        def zero(X, sel=None, ev=None):
            rows = np.ones(len(owner), bool) if sel is None else kind == sel
            protos = A.prototypes(X[rows], owner[rows], k)
            return A.zero_shot_scores(docs.vectors, protos, evidence=ev, langs=docs.langs, data_means=proj_align.data_means())

        base = zero(Xq)
        raw_nb = A.normalise(docs.vectors)
        got = {
            "description only": zero(Xq, "desc"), "examples only": zero(Xq, "ex"), "description + examples": base,
            "description + examples, passage: form": zero(Xp),
            "+ neighbours, raw vectors": A.smooth(base, raw_nb, P),
            "+ neighbours, languages centred": A.smooth(base, centred.apply(docs.vectors, docs.langs), P),
            "+ neighbours, centred + projection": A.smooth(base, proj_align.for_neighbours(proj_align.apply(docs.vectors, docs.langs)), P),
        }
        if evidence is not None:
            got["+ lexicon concepts (default journey)"] = zero(Xq, ev=evidence)
            got["shipped (all of the above)"] = A.smooth(zero(Xq, ev=evidence), proj_align.for_neighbours(proj_align.apply(docs.vectors, docs.langs)), P)
        else:
            got["shipped (all of the above)"] = got["+ neighbours, centred + projection"]
        res = {}
        for v in variants:
            if v not in got:
                res[v] = None
                continue
            p = got[v].argmax(1)
            res[v] = float(np.mean([tax.keys[i] in s.gold.get(e, set()) for i, e in zip(p, ext) if e in s.gold]))
        out[s.name] = res
        table.append([s.name] + [pct(res[v]) if res[v] is not None else "" for v in variants])
    body = f"""### What each part adds (zero-shot, every document given its best touchpoint, in process)

{md_table(["set"] + variants, table)}

Texts and phrases in e5's `query:` form unless said; "passage: form" embeds the taxonomy's phrases as e5 passages.
Neighbours: each document's scores blended with its 5 nearest documents' (half and half, 3 rounds), found in
raw vectors, with each language's mean removed, or centred and projected with the concept lexicon's discriminant.
"""
    return body, out


# --- off-topic texts ------------------------------------------------------------------------------

def part_offtopic(args) -> tuple[str, dict]:
    """Tweets about anything (UMSAB test, en/fr/de/es, 500) assigned as a store of their own: how
    many get a touchpoint, against in-domain stores, at the default --min-confidence."""
    from bench.touchpoint_sets import build_store

    rows = [r for r in read("umsab_tweets") if r["lang"] in ("en", "fr", "de", "es") and r["split"] == "test"][:500]
    store = build_store("tweets", [{"id": f"t{i}", "text": r["text"]} for i, r in enumerate(rows)])
    out, table = {}, []
    for name, tax in (("default journey", None), ("banking77 user taxonomy", ROOT / "bench" / "taxonomies" / "banking77.yaml")):
        args_ = ["touchpoints", "assign", "--db", str(store)] + (["--taxonomy", str(tax)] if tax else [])
        _, _, r = run_cli(*args_)
        out[name] = r["documents_none_share"]
        table.append([name, r["documents"], pct(1 - r["documents_none_share"]), pct(1 - r["none_share"])])
    body = f"""### Off-topic texts (500 tweets about anything, UMSAB test en/fr/de/es, a store of their own)

{md_table(["taxonomy", "documents", "documents given a touchpoint", "segments given a touchpoint"], table)}
"""
    return body, out


# --- scale ------------------------------------------------------------------------------------------

def part_scale(args) -> tuple[str, dict]:
    """100k cached segments: the 20,000 texts of bench_themes' scale run ingested three times
    under other ids (60,000 documents, 102,786 informative segments), vectors cached."""
    import shutil

    src = WORK / "scale100k.db"
    if not src.exists():
        jsonl = WORK / "scale100k.jsonl"
        rows = [json.loads(line) for line in open(ROOT / "bench" / "_work" / "themes" / "scale20k.jsonl", encoding="utf-8")]
        with open(jsonl, "w", encoding="utf-8") as fh:
            for k in range(3):
                for r in rows:
                    fh.write(json.dumps({**r, "id": f"c{k}-{r['id']}"}, ensure_ascii=False) + "\n")
        run_cli("ingest", str(jsonl), "--db", str(src), "--text", "text", "--id", "id", "--date", "date", "--quiet")
        con = sqlite3.connect(str(src))
        con.execute("ATTACH DATABASE ? AS s", [str(ROOT / "bench" / "_work" / "themes" / "scale20k.db")])
        con.execute("INSERT OR IGNORE INTO embeddings (encoder, text_hash, vector) SELECT encoder, text_hash, vector FROM s.embeddings")
        con.commit()
        con.close()
    db = WORK / "scale100k.run.db"
    shutil.copy(src, db)
    run_cli("touchpoints", "assign", "--db", str(db))  # the taxonomy's phrases embedded once
    runs = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        secs, peak, r = run_cli("touchpoints", "assign", "--db", str(db))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs.append({"wall": secs, "library": r["seconds"], "cpu": cpu, "peak_mb": peak, "segments": r["segments"], "documents": r["documents"]})
    # the incremental path (`miner analyze` hands new segments to the saved model): all of them new
    from miner.nlp.encoders.registry import get_encoder
    from miner.store import open_db
    from miner.touchpoints.model import assign_touchpoints_to_new_segments

    store = open_db(str(db))
    meta = json.loads(store.execute("SELECT value FROM theme_state WHERE key = 'touchpoints.meta'").fetchone()[0])
    meta["last_segment_id"] = 0
    store.execute("UPDATE theme_state SET value = ? WHERE key = 'touchpoints.meta'", [json.dumps(meta).encode()])
    started = time.perf_counter()
    inc = assign_touchpoints_to_new_segments(store, get_encoder(None, lazy=True))
    inc_secs = time.perf_counter() - started
    db.unlink()
    best = min(runs, key=lambda x: x["wall"])
    load = " ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    body = f"""### Scale: 100k cached segments

{best['segments']:,} informative segments in {best['documents']:,} documents (bench_themes' 20,000 scale texts, three times),
vectors cached, default journey: `miner touchpoints assign` took **{best['wall']:.1f} s** wall (best of 3: {", ".join(f"{x['wall']:.1f}" for x in runs)};
{best['library']:.1f} s inside the library; {best['cpu']:.1f} s of CPU; peak {best['peak_mb']:.0f} MB). Target < 10 s:
**{'met' if best['wall'] < 10 else 'missed'}**. Load average while measuring: {load} (other work shared the 2 cores).
The incremental path (`miner analyze` giving new segments touchpoints from the saved model, no neighbours), all
{inc['assigned'] + inc['none']:,} segments new: {inc_secs:.1f} s in process.
"""
    return body, {"runs": runs, "incremental_seconds": inc_secs}


PARTS = {"product": part_product, "ablation": part_ablation, "offtopic": part_offtopic, "scale": part_scale}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--write-only", action="store_true", help="Rewrite the section from the saved results, running nothing.")
    args = ap.parse_args()
    results_path = WORK / "results.json"
    saved = json.loads(results_path.read_text()) if results_path.exists() else {}
    bodies = dict(saved.get("bodies", {}))
    for name in ([] if args.write_only else args.parts.split(",")):
        body, res = PARTS[name](args)
        bodies[name] = body
        saved.setdefault("results", {})[name] = res
        print(body, flush=True)
    saved["bodies"] = bodies
    results_path.write_text(json.dumps(saved, indent=1, default=str))
    head = """## Touchpoint accuracy (`bench/bench_touchpoints.py`, issue 14)

A document's main touchpoint (the one `miner export documents` gives) against labels nobody on the team wrote
(xling_dev, banking77, UIT-VSFC) and the demo corpus. User taxonomies are the ones in `bench/taxonomies/`, written
before any assignment was seen (descriptions and 2-3 English examples per touchpoint, as a CX team writes them);
examples are drawn from labelled texts apart from those scored. The method's settings were chosen on these sets
(see the script's docstring); the held-out samples of banking77 and UIT-VSFC `train` were never looked at before.
"""
    body = head + "\n" + "\n\n".join(bodies[p] for p in PARTS if p in bodies)
    if not args.no_write:
        write_section("touchpoints", body)


if __name__ == "__main__":
    main()
