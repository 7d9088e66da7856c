"""Schema migrations keep what was stored."""

import sqlite3

import numpy as np
import sqlite_utils

from miner.nlp.cache import EmbeddingCache
from miner.store import MIGRATIONS, migrate, transaction, utc_now


def test_006_moves_the_embeddings_into_a_rowid_table_and_keeps_every_vector():
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))  # as open_db: autocommit
    db.execute("CREATE TABLE _miner_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for number, (name, step) in enumerate(MIGRATIONS[:5], start=1):  # a store written before 006
        with transaction(db):
            step(db)
            db.execute("INSERT INTO _miner_migrations VALUES (?, ?, ?)", [number, name, utc_now()])
    assert "WITHOUT ROWID" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'embeddings'").fetchone()[0]
    vectors = {f"h{i}": np.full(384, i, dtype=np.float32) for i in range(50)}
    EmbeddingCache(db).put("enc", list(vectors.items()))

    assert migrate(db) == ["006_embeddings_rowid", "007_document_themes", "008_document_sentiment_probabilities", "009_document_fields", "010_touchpoint_documents_labels", "011_crawl"]
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'embeddings'").fetchone()[0]
    assert "WITHOUT ROWID" not in sql and "UNIQUE (encoder, text_hash)" in sql
    got = EmbeddingCache(db).get("enc", list(vectors), 384)
    assert set(got) == set(vectors) and all((got[h] == v).all() for h, v in vectors.items())
    EmbeddingCache(db).put("enc", [("h1", np.zeros(384, dtype=np.float32))])  # the key still holds
    assert (EmbeddingCache(db).get("enc", ["h1"], 384)["h1"] == 1).all()
    assert migrate(db) == []
