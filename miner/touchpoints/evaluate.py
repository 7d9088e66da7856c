"""`miner touchpoints evaluate --labels CSV`: the stored assignment against a sample a person
labelled (columns id,touchpoint, as for corrections), so a team knows how far to trust it
before sharing numbers.

Per labelled item, the prediction is the document's main touchpoint (`document_touchpoints`)
or the segment's first touchpoint; an item left without one counts as a miss. Reported:
top-1 (right / labelled), coverage (share given a touchpoint), top-1 among those covered,
macro-F1 over the labelled touchpoints, per-touchpoint precision, recall and F1, and the
confusion table (labelled touchpoint x assigned touchpoint, `none` included). Items people
already corrected carry their label and are left out (they would score 100%).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import sqlite_utils

from .labels import read_labels, stored_keys

NONE = "none"


def _predicted(db: sqlite_utils.Database, kind: str, item_id: int) -> str | None:
    if kind == "document":
        row = db.execute("SELECT touchpoint FROM document_touchpoints WHERE document_id = ?", [item_id]).fetchone()
        if row is None:  # assigned before documents had their own decision: the touchpoint of most segments
            row = db.execute(
                "SELECT tp.touchpoint FROM segment_touchpoints tp JOIN segments g ON g.id = tp.segment_id WHERE g.document_id = ? "
                "GROUP BY tp.touchpoint ORDER BY COUNT(*) DESC, MAX(tp.confidence) DESC LIMIT 1", [item_id]).fetchone()
    else:
        row = db.execute("SELECT touchpoint FROM segment_touchpoints WHERE segment_id = ? AND rank = 1", [item_id]).fetchone()
    return row[0] if row else None


def evaluate_touchpoints(db: sqlite_utils.Database, labels: str | Path) -> dict:
    keys = stored_keys(db)
    rows = read_labels(db, labels, keys)
    corrected = {("document", d) for (d,) in db.execute("SELECT document_id FROM touchpoint_labels WHERE document_id IS NOT NULL")}
    corrected |= {("segment", s) for (s,) in db.execute("SELECT segment_id FROM touchpoint_labels WHERE segment_id IS NOT NULL")}
    pairs, skipped = [], 0
    for label in rows:
        if (label.item.kind, label.item.id) in corrected:
            skipped += 1
            continue
        pairs.append((label.touchpoint or NONE, _predicted(db, label.item.kind, label.item.id) or NONE))
    n = len(pairs)
    confusion: dict[str, Counter] = {}
    for gold, pred in pairs:
        confusion.setdefault(gold, Counter())[pred] += 1
    gold_keys = [k for k in keys + [NONE] if k in confusion]
    per = {}
    for k in gold_keys:
        tp = confusion[k][k]
        fn = sum(confusion[k].values()) - tp
        fp = sum(c[k] for g, c in confusion.items() if g != k)
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        per[k] = {"labelled": tp + fn, "assigned": tp + fp, "right": tp, "precision": precision, "recall": recall, "f1": f1}
    right = sum(1 for g, p in pairs if g == p)
    labelled_tp = [(g, p) for g, p in pairs if g != NONE]
    covered = [(g, p) for g, p in labelled_tp if p != NONE]
    f1s = [per[k]["f1"] or 0.0 for k in gold_keys if k != NONE]
    columns = [k for k in keys if any(c[k] for c in confusion.values()) or k in confusion] + [NONE]
    return {
        "labels": str(labels),
        "rows": len(rows),
        "evaluated": n,
        "left_out_corrected": skipped,
        "top1": round(right / n, 4) if n else None,
        "coverage": round(len(covered) / len(labelled_tp), 4) if labelled_tp else None,
        "top1_covered": round(sum(1 for g, p in covered if g == p) / len(covered), 4) if covered else None,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else None,
        "per_touchpoint": per,
        "columns": columns,
        "confusion": {g: {p: confusion[g][p] for p in columns if confusion[g][p]} for g in gold_keys},
    }
