"""`miner browse`: metadata from docs/schema.md, facets and canned queries that run, a read-only
Datasette, one-line errors. The server in a real browser: tests/test_report_browser.py."""

from __future__ import annotations

import asyncio
import socket
import sqlite3

import pytest

from miner.browse import build_metadata, make_datasette
from miner.browse.metadata import FACETS, QUERIES, store_tables
from miner.browse.schema_docs import descriptions, parse
from miner.cli.main import app
from miner.store import open_db
from tests.test_report import make_report_store

# tables people read; the rest are caches, indexes and bookkeeping
DESCRIBED = ("sources", "documents", "segments", "segment_sentiment", "document_sentiment", "themes", "document_themes",
             "segment_themes", "touchpoints", "segment_touchpoints", "alerts", "backlog_items", "embeddings")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("browse") / "store.db"
    make_report_store(path)
    return path


def test_schema_md_describes_the_tables_people_read(tmp_path):
    fresh = tmp_path / "fresh.db"
    open_db(fresh).conn.close()
    meta = build_metadata(fresh)["databases"]["fresh"]["tables"]
    for table in DESCRIBED:
        assert meta[table].get("description"), table
    cols = store_tables(fresh)
    documents = meta["documents"]["columns"]
    assert set(documents) == set(cols["documents"]) - {c for c in cols["documents"] if c not in descriptions()["documents"]["columns"]}
    assert len(documents) >= 18 and "after PII redaction" in documents["text"]
    assert meta["themes"]["label_column"] == "label" and meta["embeddings"]["hidden"]
    assert meta["documents"]["fts_table"] == "documents_fts" and meta["documents"]["facets"] == ["lang", "channel", "informative"]
    for table, facets in FACETS.items():
        for f in meta.get(table, {}).get("facets", []):
            assert f in cols[table] and f in facets


def test_parser_reads_headings_paragraphs_and_rows():
    text = ("## `a` and `b` (written by x)\n\n| column | type | meaning |\n|---|---|---|\n| `id`, `n` | integer | the [key](k.md) |\n\n"
            "`c`: one row per thing,\nkept forever.\n\n| `x` | text | an x |\n")
    d = parse(text)
    assert d["a"]["columns"] == {"id": "the key (integer)", "n": "the key (integer)"} == d["b"]["columns"]
    assert d["a"]["description"] == "(written by x)"
    assert d["c"] == {"description": "one row per thing, kept forever.", "columns": {"x": "an x (text)"}}


def test_canned_queries_run_on_a_store(store):
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    params = {"theme": "1", "lang": "", "channel": "", "sentiment": "neg", "touchpoint": "billing"}
    results = {name: conn.execute(q["sql"], params).fetchall() for name, q in QUERIES.items()}
    assert results["top_themes_this_month"][0][1] in ("Refund not received", "App crashes")
    assert len(results["documents_of_a_theme"]) == 112
    assert results["backlog"][0][0] == 1
    assert results["documents_by"] and all(r[4] == "neg" for r in results["documents_by"])
    assert [r[1] for r in results["journey"]] == ["pricing", "app", "billing"]


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_datasette_serves_the_store_read_only(store):
    ds = make_datasette(store)
    asyncio.run(ds.invoke_startup())
    before = store.read_bytes()
    for path in ("/", "/store", "/store/documents", "/store/documents?_search=refund", "/store/themes/1", "/store/backlog",
                 "/store/top_themes_this_month", "/store/documents_by?lang=&channel=&sentiment=neg&theme=&touchpoint="):
        r = get(ds, path)
        assert r.status_code == 200, path
    body = get(ds, "/store/documents.json?_facet=lang&_size=1").json()
    assert {f["name"] for f in body["facet_results"].values()} >= {"lang", "channel"}
    r = get(ds, "/store.json?sql=delete+from+documents")
    assert r.status_code == 400
    db = ds.get_database("store")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(db.execute_fn(lambda conn: conn.execute("DELETE FROM documents")))
    assert store.read_bytes() == before


def test_cli_errors_are_one_line(runner, tmp_path, store):
    r = runner.invoke(app, ["browse", "--db", str(tmp_path / "missing.db")])
    assert r.exit_code == 1 and "[E102]" in r.output and len(r.output.strip().splitlines()) == 1
    (tmp_path / "notes.db").write_text("not a database " * 100)
    r = runner.invoke(app, ["browse", "--db", str(tmp_path / "notes.db"), "--port", "0"])
    assert r.exit_code == 2 and "[E662]" in r.output
    r = runner.invoke(app, ["browse", "--db", str(tmp_path / "notes.db"), "--port", "8999"])
    assert r.exit_code == 1 and "[E105]" in r.output, r.output
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = runner.invoke(app, ["browse", "--db", str(store), "--port", str(port)])
    assert r.exit_code == 1 and "[E661]" in r.output and len(r.output.strip().splitlines()) == 1, r.output
