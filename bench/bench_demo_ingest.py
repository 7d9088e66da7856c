"""Ingest quality on the demo corpus, against its labels (corpora/demo/labels.csv).

    .venv/bin/python bench/bench_demo_ingest.py

Language and script per document, duplicates found against the pairs the writers planted,
non-informative answers flagged against the `noninformative` topic.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.report import write_section  # noqa: E402
from miner.demo import run_demo  # noqa: E402
from miner.paths import demo_corpus_dir  # noqa: E402
from miner.store import open_db  # noqa: E402


def main() -> None:
    with (demo_corpus_dir() / "labels.csv").open(encoding="utf-8") as fh:
        labels = {row["id"]: row for row in csv.DictReader(fh)}
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(Path(tmp) / "demo.db", analyze=False)
        db = open_db(Path(tmp) / "demo.db")
        docs = list(db.query("SELECT * FROM documents"))
        by_id = {d["id"]: d for d in docs}
    per_lang: dict[str, Counter] = {}
    for d in docs:
        expected = labels[d["external_id"]]
        lang, _, script = expected["lang"].partition("-")
        c = per_lang.setdefault(expected["lang"], Counter())
        if expected["topics"] == "noninformative":
            continue  # "ok", "-": no language to find
        c["n"] += 1
        c["right"] += d["lang"] == lang and (not script or d["script"] == script)
    found = {(d["external_id"], by_id[d["duplicate_of"]]["external_id"], d["duplicate_kind"]) for d in docs if d["duplicate_of"]}
    same_topic = sum(labels[a]["topics"] == labels[b]["topics"] for a, b, _ in found)
    flagged = {d["external_id"] for d in docs if not d["informative"]}
    expected_ni = {i for i, l in labels.items() if l["topics"] == "noninformative"}
    rows = "\n".join(
        f"| {lang} | {c['n']} | {100 * c['right'] / c['n']:.1f}% |" for lang, c in sorted(per_lang.items()) if c["n"]
    )
    total = sum(c["n"] for c in per_lang.values())
    right = sum(c["right"] for c in per_lang.values())
    body = f"""## Ingest quality on the demo corpus (`bench/bench_demo_ingest.py`)

{len(docs)} documents of `corpora/demo` against `labels.csv`.

| labelled language | informative texts | language (and Hans/Hant script) right |
|---|---|---|
{rows}
| **all** | {total} | **{100 * right / total:.1f}%** |

- Duplicates found: {len(found)} ({sum(k == 'exact' for *_, k in found)} exact, {sum(k == 'near' for *_, k in found)} near); the writers planted 2 pairs per language file (18); {same_topic} of the found pairs carry the same topic labels.
- Non-informative answers: {len(flagged & expected_ni)} of {len(expected_ni)} labelled ones flagged (recall {100 * len(flagged & expected_ni) / len(expected_ni):.0f}%), {len(flagged - expected_ni)} other texts flagged.
"""
    write_section("demo-ingest", body)
    print(body)


if __name__ == "__main__":
    main()
