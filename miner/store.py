"""The SQLite store: the product's interface, documented in docs/schema.md.

The schema is built by numbered migrations (`MIGRATIONS`), each applied once, in
order, inside a transaction, and recorded in `_miner_migrations`. Later stages add
migrations at the end of the list; they never edit an applied one.

Connections run in autocommit mode (`isolation_level=None`) so that writers open
explicit transactions with `transaction()`: sqlite3's implicit transactions commit
early when sqlite-utils nests `with conn:` blocks, which would break the "nothing
half-written" guarantee of ingest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .errors import StoreError

DEFAULT_DB = "miner.db"


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _m001_foundation(db: sqlite_utils.Database) -> None:
    db["sources"].create(
        {
            "id": int,
            "path": str,
            "name": str,
            "format": str,
            "sha256": str,
            "size_bytes": int,
            "encoding": str,
            "mapping": str,  # JSON: which input column became which field
            "options": str,  # JSON: cleaning / redaction options in force
            "status": str,  # running | done | failed
            "rows_read": int,
            "stored": int,
            "already_stored": int,
            "duplicates": int,
            "near_duplicates": int,
            "noninformative": int,
            "skipped": int,
            "skipped_reasons": str,  # JSON {reason: count}
            "started_at": str,
            "finished_at": str,
            "miner_version": str,
        },
        pk="id",
        not_null={"path", "format", "status"},
        defaults={
            "rows_read": 0,
            "stored": 0,
            "already_stored": 0,
            "duplicates": 0,
            "near_duplicates": 0,
            "noninformative": 0,
            "skipped": 0,
        },
    )
    db["sources"].create_index(["sha256"])
    db["documents"].create(
        {
            "id": int,
            "source_id": int,
            "external_id": str,
            "record_key": str,  # identity of the input record: re-ingesting it adds nothing
            "text": str,  # original text, after PII redaction when redaction is on
            "clean_text": str,
            "lang": str,
            "script": str,
            "lang_confidence": float,
            "created_at": str,
            "channel": str,
            "score": float,
            "meta": str,  # JSON of the other input columns
            "content_hash": str,
            "duplicate_of": int,
            "duplicate_kind": str,  # exact | near | NULL
            "informative": int,
            "n_segments": int,
            "pii": str,  # JSON {kind: count} of redactions
            "ingested_at": str,
        },
        pk="id",
        foreign_keys=[("source_id", "sources", "id"), ("duplicate_of", "documents", "id")],
        not_null={"source_id", "record_key", "text", "clean_text", "content_hash", "informative"},
    )
    db["documents"].create_index(["record_key"], unique=True)
    db["documents"].create_index(["content_hash"])
    db["documents"].create_index(["source_id"])
    db["documents"].create_index(["created_at"])
    db["documents"].create_index(["duplicate_of"])
    db["documents"].create_index(["external_id"])
    db["segments"].create(
        {
            "id": int,
            "document_id": int,
            "seg_index": int,
            "text": str,
            "lang": str,
            "script": str,
            "char_start": int,
            "char_end": int,
            "informative": int,
        },
        pk="id",
        foreign_keys=[("document_id", "documents", "id")],
        not_null={"document_id", "seg_index", "text", "char_start", "char_end"},
    )
    db["segments"].create_index(["document_id", "seg_index"], unique=True)
    # Near-duplicate index: MinHash signatures and their LSH band buckets.
    db["dedupe_signatures"].create(
        {"document_id": int, "signature": bytes},
        pk="document_id",
        foreign_keys=[("document_id", "documents", "id")],
    )
    db.execute(
        "CREATE TABLE dedupe_buckets (bucket INTEGER NOT NULL, "
        "document_id INTEGER NOT NULL REFERENCES documents(id), "
        "PRIMARY KEY (bucket, document_id)) WITHOUT ROWID"
    )
    # Trigram FTS works in every language, CJK included (no word boundaries needed). New rows
    # are indexed in bulk by `index_fts` (2.5x faster than a per-row insert trigger); the
    # triggers keep the index right when a row's clean_text changes or a row is deleted.
    db["documents"].enable_fts(["clean_text"], tokenize="trigram", create_triggers=False)
    # Merge index segments in larger steps: measured 23k -> 31k documents/s indexed in 2,000-row batches.
    db.execute("INSERT INTO documents_fts (documents_fts, rank) VALUES ('automerge', 8)")
    db.execute(
        "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
        "INSERT INTO documents_fts (documents_fts, rowid, clean_text) VALUES ('delete', old.id, old.clean_text); END"
    )
    db.execute(
        "CREATE TRIGGER documents_fts_au AFTER UPDATE OF clean_text ON documents BEGIN "
        "INSERT INTO documents_fts (documents_fts, rowid, clean_text) VALUES ('delete', old.id, old.clean_text); "
        "INSERT INTO documents_fts (rowid, clean_text) VALUES (new.id, new.clean_text); END"
    )


def index_fts(db: sqlite_utils.Database, first_id: int, last_id: int) -> None:
    """Add documents first_id..last_id (just inserted, in the caller's transaction) to the FTS index."""
    db.execute(
        "INSERT INTO documents_fts (rowid, clean_text) SELECT id, clean_text FROM documents WHERE id BETWEEN ? AND ?",
        [first_id, last_id],
    )


def _m002_sentiment(db: sqlite_utils.Database) -> None:
    # The embedding cache, as first laid out (migration 006 gives it its present layout).
    db.execute(
        "CREATE TABLE embeddings (encoder TEXT NOT NULL, text_hash TEXT NOT NULL, "
        "vector BLOB NOT NULL, PRIMARY KEY (encoder, text_hash)) WITHOUT ROWID"
    )
    db["segment_sentiment"].create(
        {"segment_id": int, "head": str, "label": str, "score": float, "p_neg": float, "p_neu": float, "p_pos": float},
        pk="segment_id",
        foreign_keys=[("segment_id", "segments", "id")],
        not_null={"head", "label", "score"},
    )
    db["document_sentiment"].create(
        {"document_id": int, "head": str, "label": str, "score": float, "n_segments": int, "analyzed_at": str},
        pk="document_id",
        foreign_keys=[("document_id", "documents", "id")],
        not_null={"head"},
    )
    db["document_sentiment"].create_index(["label"])


def _m003_themes(db: sqlite_utils.Database) -> None:
    # Theme discovery runs, the themes (stable ids across runs), one theme per segment,
    # lineage between runs, the human edits that every run re-applies, and the fitted state
    # (arrays as npz bytes, loaded with allow_pickle=False).
    db.execute(
        "CREATE TABLE theme_runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, "
        "status TEXT NOT NULL, encoder TEXT NOT NULL, params TEXT NOT NULL, n_segments INTEGER, "
        "n_fit INTEGER, n_themes INTEGER, outlier_share REAL, seconds REAL)"
    )
    db.execute(
        "CREATE TABLE themes (id INTEGER PRIMARY KEY, label TEXT NOT NULL, custom_label TEXT, "
        "status TEXT NOT NULL DEFAULT 'active', pinned INTEGER NOT NULL DEFAULT 0, "
        "merged_into INTEGER REFERENCES themes(id), parent_id INTEGER REFERENCES themes(id), "
        "size INTEGER NOT NULL DEFAULT 0, languages TEXT, keywords TEXT, quotes TEXT, "
        "threshold REAL, centroid BLOB, first_run INTEGER, last_run INTEGER, "
        "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE segment_themes (segment_id INTEGER PRIMARY KEY REFERENCES segments(id), "
        "theme_id INTEGER REFERENCES themes(id), score REAL, method TEXT NOT NULL, "
        "low_confidence INTEGER NOT NULL DEFAULT 0, run_id INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX segment_themes_theme ON segment_themes (theme_id)")
    db.execute(
        "CREATE TABLE theme_lineage (run_id INTEGER NOT NULL REFERENCES theme_runs(id), "
        "theme_id INTEGER NOT NULL REFERENCES themes(id), event TEXT NOT NULL, "
        "related_theme_id INTEGER, overlap REAL)"
    )
    db.execute(
        "CREATE TABLE theme_edits (id INTEGER PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL, "
        "theme_id INTEGER NOT NULL, payload TEXT)"
    )
    db.execute("CREATE TABLE theme_state (key TEXT PRIMARY KEY, value BLOB NOT NULL, run_id INTEGER)")


def _m004_alerts(db: sqlite_utils.Database) -> None:
    # Every alert raised by `miner alerts`, once per (rule, key, period): the dedupe across
    # runs, and the webhook outbox (pending posts are retried on the next run).
    db.execute(
        "CREATE TABLE alerts (id TEXT PRIMARY KEY, rule TEXT NOT NULL, dimension TEXT NOT NULL, key TEXT, "
        "label TEXT, granularity TEXT NOT NULL, period TEXT NOT NULL, kind TEXT, severity TEXT, owner TEXT, "
        "payload TEXT NOT NULL, raised_at TEXT NOT NULL, delivery TEXT NOT NULL, webhook_url TEXT, "
        "attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_attempt_at TEXT, sent_at TEXT)"
    )
    db.execute("CREATE INDEX alerts_delivery ON alerts (delivery)")
    db.execute("CREATE INDEX alerts_period ON alerts (period, rule)")


def _m005_touchpoints_backlog(db: sqlite_utils.Database) -> None:
    # The customer-journey taxonomy in use, touchpoints per segment (several allowed) and per
    # theme, and the backlog items whose ids and human statuses persist across runs.
    db.execute(
        "CREATE TABLE touchpoints (key TEXT PRIMARY KEY, stage TEXT NOT NULL, label TEXT NOT NULL, "
        "description TEXT, owner TEXT, taxonomy TEXT NOT NULL, taxonomy_sha256 TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE segment_touchpoints (segment_id INTEGER NOT NULL REFERENCES segments(id), "
        "touchpoint TEXT NOT NULL, confidence REAL NOT NULL, rank INTEGER NOT NULL, method TEXT NOT NULL, "
        "PRIMARY KEY (segment_id, touchpoint))"
    )
    db.execute("CREATE INDEX segment_touchpoints_touchpoint ON segment_touchpoints (touchpoint)")
    db.execute(
        "CREATE TABLE theme_touchpoints (theme_id INTEGER NOT NULL REFERENCES themes(id), touchpoint TEXT NOT NULL, "
        "weight REAL NOT NULL, segments INTEGER NOT NULL, PRIMARY KEY (theme_id, touchpoint))"
    )
    db.execute(
        "CREATE TABLE backlog_items (id TEXT PRIMARY KEY, theme_id INTEGER NOT NULL REFERENCES themes(id), "
        "touchpoint TEXT, title TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', status_date TEXT, "
        "status_note TEXT, priority REAL, rank INTEGER, details TEXT, first_seen TEXT, last_seen TEXT, "
        "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )


# The embedding cache's columns as they are now (migration 006): the one definition, used by
# the migration and, through `create_embeddings_table`, by sidecar cache files (miner.nlp.cache).
EMBEDDINGS_COLUMNS = "(encoder TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL, UNIQUE (encoder, text_hash))"


def create_embeddings_table(db: sqlite_utils.Database) -> None:
    """The `embeddings` table (encoder, text_hash, vector), unless the database has it already."""
    db.execute("CREATE TABLE IF NOT EXISTS embeddings " + EMBEDDINGS_COLUMNS)


def _m006_embeddings_rowid(db: sqlite_utils.Database) -> None:
    # WITHOUT ROWID suits small rows; with 1.5 KB vectors every insert at a random hash split
    # B-tree pages (measured: 34k vectors written in 2.6 s, 0.6 s as a rowid table with a
    # unique index). Same columns and key, so every query stays as it was.
    db.execute("CREATE TABLE embeddings_new " + EMBEDDINGS_COLUMNS)
    db.execute("INSERT INTO embeddings_new (encoder, text_hash, vector) SELECT encoder, text_hash, vector FROM embeddings")
    db.execute("DROP TABLE embeddings")
    db.execute("ALTER TABLE embeddings_new RENAME TO embeddings")


def _m007_document_themes(db: sqlite_utils.Database) -> None:
    # Themes are found among documents (a document's whole text says what the complaint is far
    # better than its sentences do) in two levels: themes (level 1) and their sub-themes (level 2,
    # parent_id = the theme). A document's main theme and sub-theme; a segment's theme (its
    # document's, or another theme it raises on its own) and sub-theme. Labels in the reader's
    # language, their confidence, the lexicon concept they name, and the theme's kind
    # (complaint, praise, request, venting). The input fingerprint of a run (an unchanged store is
    # not refitted) and the store's settings (the label language).
    db.execute("ALTER TABLE themes ADD COLUMN level INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE themes ADD COLUMN label_lang TEXT")
    db.execute("ALTER TABLE themes ADD COLUMN label_confidence REAL")
    db.execute("ALTER TABLE themes ADD COLUMN concept TEXT")
    db.execute("ALTER TABLE themes ADD COLUMN kind TEXT")
    db.execute("ALTER TABLE themes ADD COLUMN documents INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE segment_themes ADD COLUMN subtheme_id INTEGER REFERENCES themes(id)")
    db.execute("CREATE INDEX segment_themes_subtheme ON segment_themes (subtheme_id)")
    db.execute("ALTER TABLE theme_runs ADD COLUMN fingerprint TEXT")
    db.execute(
        "CREATE TABLE document_themes (document_id INTEGER PRIMARY KEY REFERENCES documents(id), "
        "theme_id INTEGER REFERENCES themes(id), subtheme_id INTEGER REFERENCES themes(id), score REAL, "
        "method TEXT NOT NULL, low_confidence INTEGER NOT NULL DEFAULT 0, run_id INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX document_themes_theme ON document_themes (theme_id)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m008_document_sentiment_probabilities(db: sqlite_utils.Database) -> None:
    # A document's sentiment is learned from its segments (issue 16): its calibrated class
    # probabilities are kept beside its label (`mixed` when it clearly holds both) and score.
    for column in ("p_neg", "p_neu", "p_pos"):
        db.execute(f"ALTER TABLE document_sentiment ADD COLUMN {column} REAL")


def _m009_document_fields(db: sqlite_utils.Database) -> None:
    # The values of the input's other columns (`documents.meta`), indexed once per field when a
    # command first slices or filters by it (`--by meta.FIELD`, `--filter meta.FIELD=VALUE`),
    # then kept up to date: a large store answers from the index instead of parsing JSON.
    db.execute(
        "CREATE TABLE document_fields (field TEXT NOT NULL, document_id INTEGER NOT NULL REFERENCES documents(id), "
        "value TEXT, PRIMARY KEY (field, document_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX document_fields_value ON document_fields (field, value)")
    db.execute("CREATE TABLE document_field_index (field TEXT PRIMARY KEY, last_document_id INTEGER NOT NULL)")


def _m010_touchpoint_documents_labels(db: sqlite_utils.Database) -> None:
    # Touchpoints per document (issue 14): a document's main touchpoint is decided on its whole
    # text (NULL: none, with the reason and the closest touchpoint); segments left without a
    # touchpoint keep why; people's corrections (a document's or a segment's touchpoint, NULL for
    # "none") persist across runs, which keep them and learn from them.
    db.execute(
        "CREATE TABLE document_touchpoints (document_id INTEGER PRIMARY KEY REFERENCES documents(id), touchpoint TEXT, "
        "confidence REAL NOT NULL, method TEXT NOT NULL, reason TEXT, closest TEXT)"
    )
    db.execute("CREATE INDEX document_touchpoints_touchpoint ON document_touchpoints (touchpoint)")
    db.execute(
        "CREATE TABLE touchpoint_abstentions (segment_id INTEGER PRIMARY KEY REFERENCES segments(id), reason TEXT NOT NULL, "
        "closest TEXT, confidence REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE touchpoint_labels (id INTEGER PRIMARY KEY, document_id INTEGER REFERENCES documents(id), "
        "segment_id INTEGER REFERENCES segments(id), touchpoint TEXT, source TEXT NOT NULL, created_at TEXT NOT NULL, "
        "CHECK ((document_id IS NULL) <> (segment_id IS NULL)))"
    )
    db.execute("CREATE UNIQUE INDEX touchpoint_labels_document ON touchpoint_labels (document_id) WHERE document_id IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX touchpoint_labels_segment ON touchpoint_labels (segment_id) WHERE segment_id IS NOT NULL")


def _m011_crawl(db: sqlite_utils.Database) -> None:
    # `miner crawl` (issue 19): each run of a site (resumed after a kill, incremental after a
    # finished one), the frontier and every URL seen with what its last fetch said (ETag,
    # Last-Modified, content hash: re-crawls ask conditionally and skip unchanged pages), and
    # each host's robots.txt. Documents of a run belong to its `sources` row (format 'crawl').
    db.execute(
        "CREATE TABLE crawl_runs (id INTEGER PRIMARY KEY, site TEXT NOT NULL, profile TEXT NOT NULL, "
        "profile_sha256 TEXT, source_id INTEGER REFERENCES sources(id), status TEXT NOT NULL, stop_reason TEXT, "
        "started_at TEXT NOT NULL, finished_at TEXT, pid INTEGER, machine TEXT, heartbeat_at TEXT, options TEXT, "
        "pages INTEGER NOT NULL DEFAULT 0, not_modified INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0, "
        "documents INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, "
        "wait_seconds REAL NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX crawl_runs_site ON crawl_runs (site, status)")
    db.execute(
        "CREATE TABLE crawl_urls (id INTEGER PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL, host TEXT NOT NULL, "
        "kind TEXT NOT NULL, depth INTEGER NOT NULL DEFAULT 0, fruitless INTEGER NOT NULL DEFAULT 0, "
        "parent_id INTEGER REFERENCES crawl_urls(id), run_id INTEGER NOT NULL REFERENCES crawl_runs(id), "
        "state TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL DEFAULT 0, "
        "http_status INTEGER, etag TEXT, last_modified TEXT, content_hash TEXT, bytes INTEGER, "
        "documents INTEGER NOT NULL DEFAULT 0, discovered_at TEXT NOT NULL, fetched_at TEXT, changed_at TEXT, "
        "UNIQUE (site, url))"
    )
    db.execute("CREATE INDEX crawl_urls_queue ON crawl_urls (site, state, host)")
    db.execute("CREATE INDEX crawl_urls_content ON crawl_urls (site, content_hash)")
    db.execute(
        "CREATE TABLE crawl_hosts (site TEXT NOT NULL, host TEXT NOT NULL, robots TEXT, robots_status INTEGER, "
        "fetched_at TEXT, PRIMARY KEY (site, host)) WITHOUT ROWID"
    )


def get_setting(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_setting(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_foundation", _m001_foundation),
    ("002_sentiment", _m002_sentiment),
    ("003_themes", _m003_themes),
    ("004_alerts", _m004_alerts),
    ("005_touchpoints_backlog", _m005_touchpoints_backlog),
    ("006_embeddings_rowid", _m006_embeddings_rowid),
    ("007_document_themes", _m007_document_themes),
    ("008_document_sentiment_probabilities", _m008_document_sentiment_probabilities),
    ("009_document_fields", _m009_document_fields),
    ("010_touchpoint_documents_labels", _m010_touchpoint_documents_labels),
    ("011_crawl", _m011_crawl),
]


def store_fault(exc: BaseException, path: str | Path | None = None) -> StoreError | None:
    """The coded error for SQLite failing because of where the store lives (a full disk, a
    read-only file or file system, an I/O error), None for any other exception."""
    if not isinstance(exc, sqlite3.Error):
        return None
    text = str(exc).lower()
    where = f" ({path})" if path else ""
    if "database or disk is full" in text:
        return StoreError("E106", f"the disk holding the store{where} is full; the write in progress was rolled back.",
                          "Free some space (or move the store with --db) and run the command again.")
    if "readonly database" in text or "read-only file system" in text:
        return StoreError("E107", f"the store{where} is read-only; nothing was written.",
                          "Make it writable (chmod u+w on the file and its folder, or remount read-write), or copy it elsewhere.")
    if "disk i/o error" in text:
        return StoreError("E108", f"the disk failed while writing the store{where} ({exc}); the write in progress was rolled back.",
                          "Check the disk and its free space (a file size limit, ulimit -f, counts too), then run the command again.")
    return None


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One atomic write: everything inside commits together or not at all. A full disk, a
    read-only store or an I/O error rolls it back and raises StoreError E106-E108."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            _rollback(db)
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error:
            _rollback(db)
            raise
    except sqlite3.Error as exc:
        fault = store_fault(exc)
        if fault is None:
            raise
        raise fault from None


def _rollback(db: sqlite_utils.Database) -> None:
    """ROLLBACK when a transaction is still open (SQLite ends some itself on a full disk)."""
    if db.conn.in_transaction:
        db.execute("ROLLBACK")


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _miner_migrations "
        "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT id FROM _miner_migrations").fetchall()}
    newest = max(done, default=0)
    if newest > len(MIGRATIONS):
        raise StoreError(
            "E101",
            f"the database was written by a newer miner (schema {newest}, this one knows {len(MIGRATIONS)}).",
            "Upgrade miner (pip install -U miner) or use another --db file.",
        )
    applied = []
    for number, (name, step) in enumerate(MIGRATIONS, start=1):
        if number in done:
            continue
        with transaction(db):
            step(db)
            db.execute(
                "INSERT INTO _miner_migrations (id, name, applied_at) VALUES (?, ?, ?)",
                [number, name, utc_now()],
            )
        applied.append(name)
    return applied


def open_db(path: str | Path = DEFAULT_DB, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the store. `:memory:` gives a throwaway database for tests."""
    path = str(path)
    if path != ":memory:":
        p = Path(path)
        if not create and not p.exists():
            raise StoreError("E102", f"no database at {path}.", "Run `miner ingest FILE --db PATH` first.")
        if p.exists() and p.is_dir():
            raise StoreError("E103", f"{path} is a folder, not a database file.", "Give a file path with --db.")
        if not p.parent.exists():
            raise StoreError("E104", f"the folder of {path} does not exist.", "Create it or choose another --db path.")
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MB: index inserts of large stores stay in memory
        db = sqlite_utils.Database(conn)
        migrate(db)
    except StoreError:
        raise
    except sqlite3.DatabaseError as exc:
        fault = store_fault(exc, path) or (_read_only(path) if "unable to open" in str(exc) else None)
        if fault:
            raise fault from None
        raise StoreError(
            "E105", f"{path} is not a usable SQLite database ({exc}).", "Point --db at a miner database or a new file name."
        ) from None
    return db


def _read_only(path: str) -> StoreError | None:
    """E107 when the store exists but cannot be opened because its file or folder is read-only
    (SQLite says only "unable to open database file")."""
    import os

    p = Path(path)
    if p.exists() and not (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)):
        return store_fault(sqlite3.OperationalError("attempt to write a readonly database"), path)
    try:
        with open(p, "r+b"):
            pass
    except OSError as exc:
        if exc.errno == 30:  # EROFS: a read-only file system, even for root
            return store_fault(sqlite3.OperationalError("read-only file system"), path)
    return None


@contextmanager
def new_or_existing(path: str | Path) -> Iterator[sqlite_utils.Database]:
    """`open_db(path)`, creating the store if need be; a store this block created is removed
    again when it ends with no document in it (every input failed, or a bad option stopped the
    run), so a failed first ingest leaves nothing behind. An existing store is never removed."""
    p = Path(path)
    existed = str(path) == ":memory:" or p.exists()
    db = open_db(path, create=True)
    try:
        yield db
    finally:
        if not existed and db.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is None:
            db.conn.close()
            for extra in ("", "-wal", "-shm", "-journal"):
                Path(f"{p}{extra}").unlink(missing_ok=True)
