"""Datasette's metadata for a miner store: a title, every table and column described (from
docs/schema.md), facets on language, channel, sentiment, theme and touchpoint, the label column
of themes and touchpoints (so foreign keys show names), internal tables hidden, and canned
queries people ask for first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .schema_docs import descriptions

FACETS = {
    "documents": ["lang", "channel", "informative"],
    "document_sentiment": ["label"],
    "segment_sentiment": ["label"],
    "document_themes": ["theme_id", "method"],
    "segment_themes": ["theme_id"],
    "segment_touchpoints": ["touchpoint"],
    "document_touchpoints": ["touchpoint"],
    "themes": ["kind", "status", "level"],
    "touchpoints": ["stage", "owner"],
    "backlog_items": ["status", "touchpoint"],
    "alerts": ["rule", "severity", "delivery"],
    "segments": ["lang"],
}
LABEL_COLUMNS = {"themes": "label", "touchpoints": "label", "sources": "name"}
SORT = {"backlog_items": ("sort", "rank"), "documents": ("sort_desc", "id"), "alerts": ("sort_desc", "raised_at")}
HIDDEN = ("embeddings", "dedupe_signatures", "dedupe_buckets", "theme_state", "_miner_migrations", "document_field_index")

_SCOPE = "d.duplicate_of IS NULL AND d.informative = 1"
QUERIES = {
    "top_themes_this_month": {
        "title": "Top themes this month",
        "description": "Themes by documents in the latest month with data (originals, informative), with their negative share.",
        "sql": (
            "WITH m AS (SELECT substr(MAX(created_at), 1, 7) AS month FROM documents d WHERE " + _SCOPE + ")\n"
            "SELECT t.id AS theme_id, COALESCE(t.custom_label, t.label) AS theme, t.kind, (SELECT month FROM m) AS month,\n"
            "  COUNT(DISTINCT d.id) AS documents,\n"
            "  ROUND(1.0 * COUNT(DISTINCT CASE WHEN ds.label = 'neg' THEN d.id END) / COUNT(DISTINCT d.id), 3) AS negative_share\n"
            "FROM document_themes dt JOIN documents d ON d.id = dt.document_id JOIN themes t ON t.id = dt.theme_id\n"
            "LEFT JOIN document_sentiment ds ON ds.document_id = d.id\n"
            "WHERE " + _SCOPE + " AND substr(d.created_at, 1, 7) = (SELECT month FROM m) AND t.status = 'active'\n"
            "GROUP BY t.id ORDER BY documents DESC LIMIT 50"
        ),
    },
    "documents_of_a_theme": {
        "title": "Documents of a theme",
        "description": "The documents whose main theme is :theme (a theme id), newest first.",
        "sql": (
            "SELECT d.id, d.created_at, d.lang, d.channel, ds.label AS sentiment, ROUND(dt.score, 3) AS score, d.clean_text\n"
            "FROM document_themes dt JOIN documents d ON d.id = dt.document_id LEFT JOIN document_sentiment ds ON ds.document_id = d.id\n"
            "WHERE dt.theme_id = :theme AND d.duplicate_of IS NULL ORDER BY d.created_at DESC, d.id DESC LIMIT 500"
        ),
    },
    "backlog": {
        "title": "Backlog",
        "description": "The ranked backlog as `miner backlog` last wrote it.",
        "sql": (
            "SELECT rank, id, status, ROUND(priority, 1) AS priority, title, touchpoint,\n"
            "  json_extract(details, '$.documents') AS documents, ROUND(json_extract(details, '$.negative_share'), 3) AS negative_share,\n"
            "  json_extract(details, '$.summary') AS summary\n"
            "FROM backlog_items WHERE rank IS NOT NULL ORDER BY rank"
        ),
    },
    "documents_by": {
        "title": "Documents by language, channel, sentiment, theme and touchpoint",
        "description": "Leave a box empty for any value. Theme: a theme id; touchpoint: a key of the touchpoints table.",
        "sql": (
            "SELECT d.id, d.created_at, d.lang, d.channel, ds.label AS sentiment, COALESCE(t.custom_label, t.label) AS theme, d.clean_text\n"
            "FROM documents d LEFT JOIN document_sentiment ds ON ds.document_id = d.id\n"
            "LEFT JOIN document_themes dt ON dt.document_id = d.id LEFT JOIN themes t ON t.id = dt.theme_id\n"
            "WHERE d.duplicate_of IS NULL AND (:lang = '' OR d.lang = :lang) AND (:channel = '' OR d.channel = :channel)\n"
            "  AND (:sentiment = '' OR ds.label = :sentiment) AND (:theme = '' OR dt.theme_id = :theme)\n"
            "  AND (:touchpoint = '' OR d.id IN (SELECT s.document_id FROM segment_touchpoints tp JOIN segments s ON s.id = tp.segment_id\n"
            "                                    WHERE tp.touchpoint = :touchpoint))\n"
            "ORDER BY d.id DESC LIMIT 500"
        ),
    },
    "journey": {
        "title": "Customer journey",
        "description": "Touchpoints in journey order: segments at each and their negative share.",
        "sql": (
            "SELECT tp.stage, tp.key, tp.label, tp.owner, COUNT(st.segment_id) AS segments,\n"
            "  ROUND(AVG(ss.label = 'neg'), 3) AS negative_share\n"
            "FROM touchpoints tp LEFT JOIN segment_touchpoints st ON st.touchpoint = tp.key\n"
            "LEFT JOIN segment_sentiment ss ON ss.segment_id = st.segment_id GROUP BY tp.key ORDER BY tp.rowid"
        ),
    },
}
# each query needs these tables
QUERY_TABLES = {
    "top_themes_this_month": ("document_themes", "themes", "document_sentiment"),
    "documents_of_a_theme": ("document_themes", "document_sentiment"),
    "backlog": ("backlog_items",),
    "documents_by": ("document_sentiment", "document_themes", "themes", "segment_touchpoints"),
    "journey": ("touchpoints", "segment_touchpoints", "segment_sentiment"),
}


def store_tables(path: str | Path) -> dict[str, list[str]]:
    """{table or view: [columns]} of the store, read without writing."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
        return {n: [r[1] for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}  # names from sqlite_master
    finally:
        conn.close()


def build_metadata(path: str | Path, tables: dict[str, list[str]] | None = None) -> dict:
    """Datasette metadata for the store at `path` (a dict, as metadata.json would hold it)."""
    tables = tables if tables is not None else store_tables(path)
    docs = descriptions()
    meta_tables = {}
    for name, columns in tables.items():
        entry: dict = {}
        d = docs.get(name)
        if d:
            if d["description"]:
                entry["description"] = d["description"]
            cols = {c: d["columns"][c] for c in columns if d["columns"].get(c)}
            if cols:
                entry["columns"] = cols
        facets = [c for c in FACETS.get(name, []) if c in columns]
        if facets:
            entry["facets"] = facets
        if name in LABEL_COLUMNS and LABEL_COLUMNS[name] in columns:
            entry["label_column"] = LABEL_COLUMNS[name]
        if name in SORT and SORT[name][1] in columns:
            entry[SORT[name][0]] = SORT[name][1]
        if name in HIDDEN or name.startswith("documents_fts_"):
            entry["hidden"] = True
        if name == "documents" and "documents_fts" in tables:
            entry["fts_table"] = "documents_fts"
        if entry:
            meta_tables[name] = entry
    queries = {k: q for k, q in QUERIES.items() if all(t in tables for t in QUERY_TABLES[k])}
    database = Path(path).stem
    return {
        "title": f"miner: {Path(path).name}",
        "description": "The miner store, read-only: documents, sentences, sentiment, themes, touchpoints, alerts and the backlog. "
                       "Tables and columns are described as in docs/schema.md.",
        "databases": {database: {"tables": meta_tables, "queries": queries}},
    }
