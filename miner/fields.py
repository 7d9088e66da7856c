"""The fields teams slice by: the input's other columns kept in `documents.meta` (airline,
product, plan, region, app version...), as `meta.FIELD` in `--by` and `--filter`.

A field is indexed once, when a command first needs it: its value in every document goes to
`document_fields` (field, document, value as text), and later documents are added as they
arrive (`document_field_index` remembers the last document indexed). A store of a million
documents then answers a breakdown from the index instead of parsing a million JSON texts.
"""

from __future__ import annotations

import re

import sqlite_utils

from .errors import UsageError
from .store import transaction

PREFIX = "meta."
_NAME = re.compile(r"^[^\"\\\x00-\x1f]{1,100}$")


def is_field(name: str | None) -> bool:
    return bool(name) and str(name).startswith(PREFIX)


def field_name(spec: str) -> str:
    """`meta.airline` -> `airline` (a column name of the input), or a one-line error."""
    name = str(spec)[len(PREFIX):] if is_field(spec) else ""
    if not _NAME.match(name):
        raise UsageError("E960", f"{spec!r} is not a field.", "Name an input column kept in meta, e.g. meta.airline (no quotes or backslashes).")
    return name


def parse_filters(specs: list[str] | None) -> dict[str, list[str]]:
    """`["meta.airline=United", "meta.airline=Delta", "meta.plan=pro"]` -> {"airline": ["United", "Delta"], "plan": ["pro"]}."""
    out: dict[str, list[str]] = {}
    for spec in specs or []:
        if "=" not in spec:
            raise UsageError("E961", f"filter {spec!r} has no '='.", "Write --filter meta.FIELD=VALUE, e.g. --filter meta.airline=United.")
        key, value = spec.split("=", 1)
        out.setdefault(field_name(key.strip()), []).append(value.strip())
    return out


def ensure_indexed(db: sqlite_utils.Database, fields: list[str]) -> None:
    """Index these fields' values in every document not indexed yet (once per field, then
    incrementally); an error names the fields the documents do have when one is unknown."""
    for field in dict.fromkeys(fields):
        row = db.execute("SELECT last_document_id FROM document_field_index WHERE field = ?", [field]).fetchone()
        last = row[0] if row else 0
        newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
        if row and newest <= last:
            continue
        if not row and not _seen(db, field):
            known = sample_fields(db)
            raise UsageError(
                "E962", f"no document has a field {field!r}.",
                f"Fields seen in the documents' meta: {', '.join(PREFIX + k for k in known) or 'none (ingest with the columns kept: --meta)'}.",
            )
        path = f'$."{field}"'
        with transaction(db):  # the index and its high-water mark move together
            db.execute(
                "INSERT OR REPLACE INTO document_fields (field, document_id, value) "
                "SELECT ?, id, CASE WHEN json_valid(meta) THEN CAST(json_extract(meta, ?) AS TEXT) END FROM documents "
                "WHERE id > ? AND id <= ?",
                [field, path, last, newest],
            )
            db.execute("INSERT OR REPLACE INTO document_field_index (field, last_document_id) VALUES (?, ?)", [field, newest])


def _seen(db: sqlite_utils.Database, field: str) -> bool:
    return db.execute(
        "SELECT 1 FROM documents WHERE json_valid(meta) AND json_type(meta, ?) IS NOT NULL LIMIT 1", [f'$."{field}"']
    ).fetchone() is not None


def sample_fields(db: sqlite_utils.Database, sample: int = 2000) -> list[str]:
    """Field names found in the meta of the latest documents."""
    rows = db.execute(
        "SELECT DISTINCT j.key FROM (SELECT meta FROM documents WHERE json_valid(meta) ORDER BY id DESC LIMIT ?) d, json_each(d.meta) j "
        "ORDER BY j.key LIMIT 50",
        [sample],
    )
    return [r[0] for r in rows]


def field_values(db: sqlite_utils.Database, field: str, limit: int = 100) -> list[tuple[str | None, int]]:
    """(value, documents) of a field, the most frequent first."""
    ensure_indexed(db, [field])
    return db.execute(
        "SELECT value, COUNT(*) FROM document_fields WHERE field = ? GROUP BY value ORDER BY COUNT(*) DESC, value LIMIT ?",
        [field, limit],
    ).fetchall()


_COLUMNS = ("d.id", "id", "g.document_id")  # the document-id columns callers restrict


def documents_clause(db: sqlite_utils.Database, filters: dict[str, list[str]], column: str = "d.id") -> tuple[str, list]:
    """` AND <column> IN (...)` for each field filter (fields AND-ed, values OR-ed), indexing the
    fields first; ('', []) without filters. `column` is one of the fixed document-id columns."""
    if filters:
        ensure_indexed(db, list(filters))
    return fields_sql(filters, column)


def fields_sql(filters: dict[str, list[str]], column: str = "d.id") -> tuple[str, list]:
    """The SQL of `documents_clause` for fields already indexed."""
    if column not in _COLUMNS:
        raise ValueError(f"unknown document column {column!r}")
    sql, params = "", []
    for field, values in (filters or {}).items():
        marks = ", ".join("?" for _ in values)
        sql += f" AND {column} IN (SELECT document_id FROM document_fields WHERE field = ? AND value IN ({marks}))"
        params += [field, *values]
    return sql, params


# A document's value of a field, as a column of `documents d` (the field is its one parameter).
VALUE_SQL = "(SELECT value FROM document_fields WHERE field = ? AND document_id = d.id)"


def documents_by_value(db: sqlite_utils.Database, field: str) -> dict[str | None, set[int]]:
    """value -> the informative original documents carrying it."""
    ensure_indexed(db, [field])
    out: dict[str | None, set[int]] = {}
    for value, doc in db.execute(
        "SELECT f.value, f.document_id FROM document_fields f JOIN documents d ON d.id = f.document_id "
        "WHERE f.field = ? AND d.duplicate_of IS NULL AND d.informative = 1",
        [field],
    ):
        out.setdefault(value, set()).add(doc)
    return out
