"""Exports of stored tables (`miner export`) as JSON Lines, CSV or Parquet.

Files are written to a temporary name and renamed at the end, so a failed export never
leaves half a file where a good one was; CSV cells that a spreadsheet would run as a formula
get a leading apostrophe (both in `miner.files`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import sqlite_utils

from .errors import UsageError
from .fields import documents_clause
from .files import replacing, write_csv_rows

EXPORT_FORMATS = ("jsonl", "csv", "parquet")
_JSON_COLUMNS = {"meta", "pii", "themes", "touchpoints"}

# Later stages append columns to these queries (sentiment, themes, touchpoints). A document's
# `touchpoint` is its main one as `miner touchpoints assign` decided it on the whole text
# (document_touchpoints); stores assigned before migration 010 fall back to the touchpoint of most segments.
QUERIES = {
    "documents": """
        SELECT d.id, d.source_id, s.name AS source_name, d.external_id, d.record_key, d.text, d.clean_text,
               d.lang, d.script, d.lang_confidence, d.created_at, d.channel, d.score, d.meta, d.content_hash,
               d.duplicate_of, d.duplicate_kind, d.informative, d.n_segments, d.pii, d.ingested_at,
               ds.label AS sentiment, ds.score AS sentiment_score, ds.p_neg, ds.p_neu, ds.p_pos,
               (SELECT json_group_array(json_object('id', x.theme_id, 'label', x.label, 'score', x.score,
                                                    'segments', x.n, 'low_confidence', x.low))
                FROM (SELECT st.theme_id, COALESCE(t.custom_label, t.label) AS label, ROUND(MAX(st.score), 4) AS score,
                             COUNT(*) AS n, MIN(st.low_confidence) AS low
                      FROM segments g JOIN segment_themes st ON st.segment_id = g.id JOIN themes t ON t.id = st.theme_id
                      LEFT JOIN document_themes m ON m.document_id = g.document_id
                      WHERE g.document_id = d.id GROUP BY st.theme_id
                      ORDER BY MAX(st.theme_id IS m.theme_id) DESC, n DESC, score DESC) x) AS themes,
               (SELECT subtheme_id FROM document_themes WHERE document_id = d.id) AS subtheme_id,
               CASE WHEN dt.document_id IS NOT NULL THEN dt.touchpoint ELSE
               (SELECT x.touchpoint FROM (SELECT tp.touchpoint, COUNT(*) AS n, MAX(tp.confidence) AS c
                      FROM segments g JOIN segment_touchpoints tp ON tp.segment_id = g.id
                      WHERE g.document_id = d.id GROUP BY tp.touchpoint ORDER BY n DESC, c DESC, tp.touchpoint LIMIT 1) x) END AS touchpoint,
               CASE WHEN dt.touchpoint IS NOT NULL THEN dt.confidence END AS touchpoint_confidence,
               (SELECT json_group_array(json_object('key', x.touchpoint, 'stage', x.stage, 'segments', x.n, 'confidence', x.c))
                FROM (SELECT tp.touchpoint, t.stage, COUNT(*) AS n, ROUND(MAX(tp.confidence), 4) AS c
                      FROM segments g JOIN segment_touchpoints tp ON tp.segment_id = g.id LEFT JOIN touchpoints t ON t.key = tp.touchpoint
                      WHERE g.document_id = d.id GROUP BY tp.touchpoint ORDER BY n DESC, c DESC, tp.touchpoint) x) AS touchpoints
        FROM documents d JOIN sources s ON s.id = d.source_id
        LEFT JOIN document_sentiment ds ON ds.document_id = d.id
        LEFT JOIN document_touchpoints dt ON dt.document_id = d.id
        ORDER BY d.id
    """,
    "segments": """
        SELECT g.id, g.document_id, g.seg_index, g.text, g.lang, g.script, g.char_start, g.char_end, g.informative,
               ss.label AS sentiment, ss.score AS sentiment_score, ss.p_neg, ss.p_neu, ss.p_pos,
               st.theme_id, COALESCE(t.custom_label, t.label) AS theme_label, st.subtheme_id, st.score AS theme_score,
               st.method AS theme_method, st.low_confidence AS theme_low_confidence,
               tp1.touchpoint AS touchpoint, tp1.confidence AS touchpoint_confidence,
               tp2.touchpoint AS touchpoint_2, tp2.confidence AS touchpoint_2_confidence
        FROM segments g LEFT JOIN segment_sentiment ss ON ss.segment_id = g.id
        LEFT JOIN segment_themes st ON st.segment_id = g.id LEFT JOIN themes t ON t.id = st.theme_id
        LEFT JOIN segment_touchpoints tp1 ON tp1.segment_id = g.id AND tp1.rank = 1
        LEFT JOIN segment_touchpoints tp2 ON tp2.segment_id = g.id AND tp2.rank = 2
        ORDER BY g.document_id, g.seg_index
    """,
}

_DOCUMENT_COLUMN = {"documents": "d.id", "segments": "g.document_id"}


def _rows(db: sqlite_utils.Database, table: str, fields: dict[str, list[str]] | None = None) -> tuple[list[str], Iterator[tuple]]:
    if table not in QUERIES:
        raise UsageError("E401", f"cannot export {table!r}.", f"Choose one of: {', '.join(QUERIES)}.")
    head, order = QUERIES[table].rsplit("ORDER BY", 1)  # the outer ORDER BY: filters go before it
    restrict, params = documents_clause(db, fields or {}, _DOCUMENT_COLUMN[table])
    cursor = db.execute(f"{head} WHERE 1{restrict} ORDER BY {order}", params)
    columns = [c[0] for c in cursor.description]
    return columns, iter(cursor)


def _as_record(columns: list[str], row: tuple) -> dict:
    record = dict(zip(columns, row))
    for name in _JSON_COLUMNS & record.keys():
        if record[name]:
            record[name] = json.loads(record[name])
    return record


def write_jsonl(columns: list[str], rows: Iterator[tuple], out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(_as_record(columns, row), ensure_ascii=False) + "\n")
        n += 1
    return n


def write_parquet(columns: list[str], rows: Iterator[tuple], path: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, n = None, 0
    while True:
        chunk = [r for _, r in zip(range(10000), rows)]
        if not chunk and writer is not None:
            break
        batch = pa.Table.from_pylist([dict(zip(columns, r)) for r in chunk]) if chunk else None
        if writer is None:
            schema = batch.schema if batch is not None else pa.schema([(c, pa.string()) for c in columns])
            writer = pq.ParquetWriter(path, schema)
        if batch is None:
            break
        writer.write_table(batch.cast(writer.schema))
        n += len(chunk)
    writer.close()
    return n


def export_table(db: sqlite_utils.Database, table: str, fmt: str, out: str | Path | IO[str],
                 fields: dict[str, list[str]] | None = None) -> dict:
    """Export `table` to the file `out`, or to an open text stream (jsonl/csv only); `fields`
    (`{"airline": ["United"]}`) keeps the documents with those values (and their segments).

    Returns {"rows": n, "path": out-or-None}.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError("E402", f"unknown export format {fmt!r}.", f"Choose one of: {', '.join(EXPORT_FORMATS)}.")
    columns, rows = _rows(db, table, fields)
    if not isinstance(out, (str, Path)):
        if fmt == "parquet":
            raise UsageError("E403", "Parquet is binary and needs a file.", "Add --out FILE.parquet.")
        n = (write_jsonl if fmt == "jsonl" else write_csv_rows)(columns, rows, out)
        return {"rows": n, "path": None}
    with replacing(out) as tmp:
        if fmt == "parquet":
            n = write_parquet(columns, rows, tmp)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                n = (write_jsonl if fmt == "jsonl" else write_csv_rows)(columns, rows, fh)
    return {"rows": n, "path": str(Path(out))}
