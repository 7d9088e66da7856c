"""Is the backlog's top 10 actionable? Its items against labelled complaint kinds (issue 15).

    .venv/bin/python bench/bench_backlog_quality.py [--workdir bench/_work/themes]

The check, written before the first run: an item of the top 10 "is a labelled complaint kind"
when at least half of its documents carry one kind as their main label and that kind is not
praise; a kind counts once (a second item of the same kind is a duplicate, not a second hit).
Also: where the largest kinds first appear, and what was set aside as venting or thanks.

Sets (stores built through the product: `miner ingest`, `analyze`, `themes discover`, `backlog`):
- xling_dev: 640 complaints, 16 topics (15 complaints + praise), 10 languages (the store of
  bench_themes.py, WORKDIR/xling.db);
- the demo corpus: 348 labelled documents, first written topic (WORKDIR/demo.db of bench_themes.py);
- banking77 test split: 3,079 support requests, 77 intents, English (built here; no dates, so no growth).
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_themes import CACHE, banking_test, gold, md_table, xling_store  # noqa: E402
from bench.measure import run_cli  # noqa: E402
from bench.report import write_section  # noqa: E402

PRAISE = {"praise_fast_fix", "praise"}


def backlog(db: Path) -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "backlog", "--db", str(db), "--format", "json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def item_documents(db: Path, theme_id: int) -> list[int]:
    con = sqlite3.connect(str(db))
    rows = [r[0] for r in con.execute(
        "SELECT DISTINCT s.document_id FROM segment_themes st JOIN segments s ON s.id = st.segment_id "
        "JOIN documents d ON d.id = s.document_id WHERE st.theme_id = ? AND d.duplicate_of IS NULL", [theme_id])]
    con.close()
    return rows


def judge(db: Path, result: dict, kind_of: dict[int, str], top: int = 10) -> dict:
    """Top-`top` items against the documents' labelled kinds."""
    seen, rows, hits = set(), [], 0
    first_rank: dict[str, int] = {}
    for it in result["items"]:
        docs = [d for d in item_documents(db, it["theme_id"]) if d in kind_of]
        kind, n = Counter(kind_of[d] for d in docs).most_common(1)[0] if docs else (None, 0)
        share = n / len(docs) if docs else 0.0
        match = kind is not None and share >= 0.5 and kind not in PRAISE
        if match and kind not in first_rank:
            first_rank[kind] = it["rank"]
        if it["rank"] <= top:
            hit = match and kind not in seen
            hits += hit
            if match:
                seen.add(kind)
            rows.append([it["rank"], it["id"], it["title"], it["documents"], f"{kind} {share:.0%}" if kind else "-", "yes" if hit else ("duplicate" if match else "no")])
    sizes = Counter(kind_of.values())
    largest = [k for k, _ in sizes.most_common() if k not in PRAISE][:5]
    return {"hits": hits, "rows": rows, "items": len(result["items"]), "largest": {k: first_rank.get(k) for k in largest},
            "venting": [(t["theme"], t["documents"]) for t in result["set_aside"]["venting"]],
            "thanks": [(t["theme"], t["documents"]) for t in result["set_aside"]["thanks"]]}


def kinds_xling(db: Path) -> dict[int, str]:
    g = gold()
    con = sqlite3.connect(str(db))
    out = {i: g[e]["topics"][0] for i, e in con.execute("SELECT id, external_id FROM documents") if e in g}
    con.close()
    return out


def kinds_demo(db: Path) -> dict[int, str]:
    labels = {r["id"]: r["topics"].split("|")[0] for r in csv.DictReader(open(ROOT / "corpora" / "demo" / "labels.csv", encoding="utf-8"))}
    con = sqlite3.connect(str(db))
    out = {i: labels[e] for i, e in con.execute("SELECT id, external_id FROM documents") if e in labels}
    con.close()
    return out


def banking_store(workdir: Path) -> tuple[Path, dict[int, str]]:
    db, src = workdir / "banking77.db", workdir / "banking77.jsonl"
    texts, cats = banking_test()
    if not db.exists():
        with open(src, "w", encoding="utf-8") as fh:
            for i, t in enumerate(texts):
                fh.write(json.dumps({"id": f"b{i}", "text": t}) + "\n")
        run_cli("ingest", str(src), "--db", str(db), "--id", "id", "--quiet")
        if CACHE.exists():
            con = sqlite3.connect(str(db))
            con.execute("ATTACH DATABASE ? AS cache", [str(CACHE)])
            con.execute("INSERT OR IGNORE INTO embeddings (encoder, text_hash, vector) SELECT encoder, text_hash, vector FROM cache.embeddings")
            con.commit()
            con.close()
        run_cli("analyze", "--db", str(db), "--quiet")
    run_cli("themes", "discover", "--db", str(db))
    con = sqlite3.connect(str(db))
    out = {i: cats[int(e[1:])] for i, e in con.execute("SELECT id, external_id FROM documents")}
    con.close()
    return db, out


def section(name: str, r: dict) -> str:
    largest = ", ".join(f"{k} #{v}" if v else f"{k} (not an item)" for k, v in r["largest"].items())
    aside = f"venting: {r['venting'] or 'none'}; thanks: {r['thanks'] or 'none'}"
    return f"""**{name}**: **{r['hits']} of 10** top items are a labelled complaint kind ({r['items']} items in all). The largest
kinds first appear at: {largest}. Set aside: {aside}.

{md_table(["#", "id", "title", "documents", "main labelled kind", "counts"], r["rows"])}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "_work" / "themes")
    args = ap.parse_args()
    xdb = xling_store(args.workdir, "xling")
    run_cli("themes", "discover", "--db", str(xdb))
    parts = [section("xling_dev", judge(xdb, backlog(xdb), kinds_xling(xdb)))]
    ddb = args.workdir / "demo.db"
    if not ddb.exists():
        run_cli("demo", "--db", str(ddb))
    parts.append(section("Demo corpus", judge(ddb, backlog(ddb), kinds_demo(ddb))))
    bdb, kinds = banking_store(args.workdir)
    parts.append(section("banking77 test split", judge(bdb, backlog(bdb), kinds)))
    body = f"""## Is the backlog actionable? (`bench/bench_backlog_quality.py`)

An item of the top 10 is a labelled complaint kind when at least half of its documents carry one kind as their
main label and the kind is not praise; each kind counts once (a second item of the same kind is a duplicate).
Target: at least 8 of 10 on every set. Items are themes (their touchpoints are facets); venting and thanks are
set aside. Product defaults throughout.

{chr(10).join(parts)}"""
    print(body)
    write_section("backlog-quality", body)


if __name__ == "__main__":
    main()
