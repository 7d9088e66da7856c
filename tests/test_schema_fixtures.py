"""A store made by every earlier schema version opens with today's code, migrates, and keeps its
data (tests/fixtures/schemas/schema_NN.sql, made by make_fixtures.py in that folder)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from miner.store import MIGRATIONS, open_db

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "schemas"
VERSIONS = sorted(int(m.group(1)) for p in FIXTURES.glob("schema_*.sql") if (m := re.fullmatch(r"schema_(\d+)\.sql", p.name)))
TEXTS = {
    "c1": "The parcel arrived broken and support never answered.",
    "c2": "Die Rechnung war doppelt so hoch wie vereinbart.",
    "c3": "快递员态度很差，包裹也被压坏了。",
    "c4": "الطلب وصل ناقصا وخدمة العملاء لم ترد",
}
# What each version added, as (the first version that has it, a query, its answer in the fixture).
KEPT = [
    (1, "SELECT COUNT(*) FROM segments", 4),
    (1, "SELECT status || ':' || stored FROM sources", "done:4"),
    (2, "SELECT COUNT(*) FROM segment_sentiment WHERE label = 'negative'", 4),
    (2, "SELECT COUNT(*) FROM embeddings", 4),
    (3, "SELECT label FROM themes", "Damaged parcels"),
    (3, "SELECT COUNT(*) FROM segment_themes WHERE theme_id = 1", 4),
    (4, "SELECT rule || ':' || delivery FROM alerts", "spikes:sent"),
    (5, "SELECT title FROM backlog_items", "Pack parcels so they arrive whole"),
    (5, "SELECT COUNT(*) FROM segment_touchpoints", 1),
    (7, "SELECT COUNT(*) FROM document_themes", 4),
    (7, "SELECT value FROM settings WHERE key = 'label_lang'", "en"),
    (8, "SELECT ROUND(SUM(p_neg), 2) FROM document_sentiment", 3.4),
    (9, "SELECT COUNT(*) FROM document_fields", 4),
    (10, "SELECT touchpoint FROM touchpoint_labels", "delivery"),
    (11, "SELECT site FROM crawl_runs", "zh-board"),
]


def test_there_is_a_fixture_for_every_earlier_schema_version():
    assert set(range(1, len(MIGRATIONS))) <= set(VERSIONS), "run tests/fixtures/schemas/make_fixtures.py"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_store_of_each_version_opens_migrates_and_keeps_its_data(version, tmp_path):
    path = tmp_path / f"v{version}.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / f"schema_{version:02d}.sql").read_text(encoding="utf-8"))
    conn.close()

    db = open_db(path)  # migrates
    migrated = [r[0] for r in db.execute("SELECT id FROM _miner_migrations ORDER BY id")]
    assert migrated == list(range(1, len(MIGRATIONS) + 1))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert dict(db.execute("SELECT external_id, text FROM documents")) == TEXTS
    fts = db.execute("SELECT d.external_id FROM documents_fts f JOIN documents d ON d.id = f.rowid WHERE documents_fts MATCH ?", ['"Rechnung"'])
    assert [r[0] for r in fts] == ["c2"]
    for since, sql, expected in KEPT:
        if version >= since:
            assert db.execute(sql).fetchone()[0] == expected, (version, sql)


@pytest.mark.parametrize("version", [v for v in VERSIONS if v in (1, 5, len(MIGRATIONS) - 1)])
def test_the_cli_works_on_a_migrated_store(version, tmp_path, runner, write):
    from miner.cli.main import app

    path = tmp_path / f"v{version}.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / f"schema_{version:02d}.sql").read_text(encoding="utf-8"))
    conn.close()
    new = write("more.jsonl", '{"id": "c5", "text": "The technician came two days late and left a mess."}\n')
    result = runner.invoke(app, ["ingest", str(new), "--db", str(path), "--workers", "0"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["export", "documents", "--db", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert {"c1", "c2", "c3", "c4", "c5"} <= {line.split('"external_id": "')[1].split('"')[0] for line in result.stdout.splitlines() if '"external_id": "' in line}
