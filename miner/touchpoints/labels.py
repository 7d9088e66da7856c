"""People's touchpoint labels: corrections that persist (`miner touchpoints correct`) and
labelled samples to measure the assignment against (`miner touchpoints evaluate`).

An item is named `doc:ID` (a document's id in the store), `seg:ID` (a segment's), or by the
document's own id from the input file (`documents.external_id`; a bare number that is no
external id is taken as a document id). A label is a touchpoint key of the stored taxonomy, or
`none` (the item has no touchpoint). A CSV of labels has the columns `id,touchpoint`.

A correction takes effect at once (the item's touchpoint is replaced, themes relinked) and on
every later `miner touchpoints assign`: corrected items keep their label, and the labels join
the few-shot examples. A document's correction applies to its segments; a segment's
correction to its document when it is the document's only segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ..csvfile import CsvErrors, read_csv_file
from ..errors import InputError, UsageError
from ..segments.links import link_themes_to_touchpoints
from ..store import transaction, utc_now
from .aspects import require_touchpoints

NONE_WORDS = {"none", "no touchpoint", "-"}
MAX_ROWS = 100_000
_ITEM = re.compile(r"^(doc|document|seg|segment):(\d+)$", re.I)

_ERRORS = CsvErrors(
    no_file=lambda path: InputError("E840", f"no labels file at {Path(path)}.", "Give a CSV with columns id,touchpoint."),
    not_utf8=lambda path: InputError("E840", f"{Path(path)}: not UTF-8 text.", "Save the labels CSV as UTF-8."),
    no_columns=lambda path, missing, found: InputError(
        "E840", f"{Path(path)}:1: the header must name the columns id and touchpoint (found: {', '.join(found) or 'none'}).",
        "Write a header line: id,touchpoint"),
)


@dataclass(frozen=True)
class Item:
    kind: str  # "document" or "segment"
    id: int
    name: str  # as the user wrote it


@dataclass(frozen=True)
class Label:
    item: Item
    touchpoint: str | None  # None: no touchpoint
    line: int | None = None  # in the CSV


class _Resolver:
    """Items by the names people give them, checked against the store."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def __call__(self, name: str) -> Item | str:
        """The item, or why there is none (a message)."""
        text = name.strip()
        m = _ITEM.match(text)
        if m:
            kind = "document" if m.group(1).lower().startswith("doc") else "segment"
            table = "documents" if kind == "document" else "segments"
            ok = self.db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [int(m.group(2))]).fetchone()
            return Item(kind, int(m.group(2)), text) if ok else f"no {kind} {m.group(2)} in this store"
        rows = self.db.execute("SELECT id FROM documents WHERE external_id = ? ORDER BY id LIMIT 2", [text]).fetchall()
        if len(rows) == 1:
            return Item("document", rows[0][0], text)
        if len(rows) > 1:
            return f"several documents have the id {text!r}; name one as doc:ID"
        if text.isdigit() and self.db.execute("SELECT 1 FROM documents WHERE id = ?", [int(text)]).fetchone():
            return Item("document", int(text), text)
        return f"no document or segment {text!r} in this store"


def _touchpoint(value: str, keys: list[str]) -> str | None | bool:
    """The key, None for "none", or False when unknown."""
    v = (value or "").strip()
    if v.lower() in NONE_WORDS:
        return None
    return v if v in keys else False


def stored_keys(db: sqlite_utils.Database) -> list[str]:
    require_touchpoints(db)
    return [k for (k,) in db.execute("SELECT key FROM touchpoints ORDER BY rowid")]


def read_labels(db: sqlite_utils.Database, path: str | Path, keys: list[str]) -> list[Label]:
    """Every row of an id,touchpoint CSV, resolved; the first bad row is an error with its line."""
    p = Path(path)
    _, rows = read_csv_file(path, ("id", "touchpoint"), _ERRORS)
    resolve = _Resolver(db)
    out, seen = [], {}
    for line, row in rows:
        name, value = (row.get("id") or "").strip(), (row.get("touchpoint") or "").strip()
        if not name and not value:
            continue
        if not name:
            raise InputError("E841", f"{p}:{line}: the id is empty.", "Give doc:ID, seg:ID or the document's id from your file.")
        if not value:
            raise InputError("E841", f"{p}:{line}: no touchpoint for {name!r}.", f"Give one of: {', '.join(keys)}, or none.")
        item = resolve(name)
        if isinstance(item, str):
            raise InputError("E841", f"{p}:{line}: {item}.", "Give doc:ID, seg:ID (see `miner export documents|segments`) or the document's id from your file.")
        key = _touchpoint(value, keys)
        if key is False:
            raise InputError("E841", f"{p}:{line}: unknown touchpoint {value!r}.", f"Use one of the stored taxonomy's keys: {', '.join(keys)}, or none.")
        if (item.kind, item.id) in seen:
            raise InputError("E841", f"{p}:{line}: {name!r} is labelled twice (first at line {seen[(item.kind, item.id)]}).", "Keep one label per item.")
        seen[(item.kind, item.id)] = line
        out.append(Label(item, key, line))
        if len(out) > MAX_ROWS:
            raise InputError("E841", f"{p}: more than {MAX_ROWS:,} labels.", "Split the file.")
    if not out:
        raise InputError("E841", f"{p}: no labels.", "Add lines of id,touchpoint.")
    return out


def one_label(db: sqlite_utils.Database, name: str, touchpoint: str, keys: list[str]) -> Label:
    item = _Resolver(db)(name)
    if isinstance(item, str):
        raise UsageError("E842", f"{item}.", "Name a document as doc:ID or by its id from your file, a segment as seg:ID (`miner export documents|segments`).")
    key = _touchpoint(touchpoint, keys)
    if key is False:
        raise UsageError("E839", f"no touchpoint {touchpoint!r} in the stored taxonomy.", f"Use one of: {', '.join(keys)}, or none.")
    return Label(item, key)


def _apply(db: sqlite_utils.Database, label: Label) -> None:
    """The label replaces the item's current touchpoints (and those it carries over to)."""
    key = label.touchpoint
    if label.item.kind == "document":
        doc = label.item.id
        segs = [s for (s,) in db.execute("SELECT id FROM segments WHERE document_id = ? AND informative = 1", [doc])]
        own = {s for (s,) in db.execute("SELECT segment_id FROM touchpoint_labels WHERE segment_id IN (SELECT id FROM segments WHERE document_id = ?)", [doc])}
        segs = [s for s in segs if s not in own]
    else:
        segs = [label.item.id]
        doc, n = db.execute("SELECT document_id, (SELECT COUNT(*) FROM segments x WHERE x.document_id = s.document_id AND x.informative = 1) "
                            "FROM segments s WHERE s.id = ?", [label.item.id]).fetchone()
        has_own = db.execute("SELECT 1 FROM touchpoint_labels WHERE document_id = ?", [doc]).fetchone()
        doc = doc if n == 1 and not has_own else None
    for sid in segs:
        db.execute("DELETE FROM segment_touchpoints WHERE segment_id = ?", [sid])
        db.execute("DELETE FROM touchpoint_abstentions WHERE segment_id = ?", [sid])
        if key is not None:
            db.execute("INSERT INTO segment_touchpoints (segment_id, touchpoint, confidence, rank, method) VALUES (?, ?, 1.0, 1, 'human')", [sid, key])
        else:
            db.execute("INSERT INTO touchpoint_abstentions (segment_id, reason, closest, confidence) VALUES (?, 'corrected_to_none', NULL, 1.0)", [sid])
    if doc is not None:
        db.execute(
            "INSERT OR REPLACE INTO document_touchpoints (document_id, touchpoint, confidence, method, reason, closest) VALUES (?, ?, 1.0, 'human', ?, NULL)",
            [doc, key, None if key is not None else "corrected_to_none"],
        )


def store_corrections(db: sqlite_utils.Database, labels: list[Label], source: str) -> dict:
    """Keep the labels (replacing earlier ones of the same items) and apply them now, in one transaction."""
    now = utc_now()
    replaced = 0
    with transaction(db):
        for label in labels:
            column = "document_id" if label.item.kind == "document" else "segment_id"
            replaced += db.execute(f"DELETE FROM touchpoint_labels WHERE {column} = ?", [label.item.id]).rowcount
            db.execute(f"INSERT INTO touchpoint_labels ({column}, touchpoint, source, created_at) VALUES (?, ?, ?, ?)",
                       [label.item.id, label.touchpoint, source, now])
        for label in labels:
            _apply(db, label)
        link_themes_to_touchpoints(db)
    total = db.execute("SELECT COUNT(*) FROM touchpoint_labels").fetchone()[0]
    return {
        "stored": len(labels), "replaced": replaced, "total": total,
        "documents": sum(1 for x in labels if x.item.kind == "document"), "segments": sum(1 for x in labels if x.item.kind == "segment"),
        "none": sum(1 for x in labels if x.touchpoint is None), "source": source,
    }


def correct_touchpoints(db: sqlite_utils.Database, *, item: str | None = None, touchpoint: str | None = None,
                        csv_path: str | Path | None = None) -> dict:
    """`miner touchpoints correct`: one item's touchpoint, or a CSV of them (all or nothing)."""
    keys = stored_keys(db)
    if csv_path is not None:
        if item is not None or touchpoint is not None:
            raise UsageError("E842", "give either ITEM TOUCHPOINT or --csv FILE, not both.", "One correction, or a file of them.")
        return store_corrections(db, read_labels(db, csv_path, keys), str(csv_path))
    if item is None or touchpoint is None:
        raise UsageError("E842", "name the item and its touchpoint (or give --csv FILE).", "Example: miner touchpoints correct doc:12 billing")
    return store_corrections(db, [one_label(db, item, touchpoint, keys)], "command line")
