"""The embedding cache: every text is embedded at most once per encoder.

Vectors are keyed by (encoder id, xxh3-128 of the exact text embedded) in an `embeddings`
table: in the store (so `miner analyze` never embeds a duplicate or a re-run twice) or in a
sidecar SQLite file (training data). Layout (docs/schema.md; defined once, in `miner.store`):

    embeddings(encoder TEXT, text_hash TEXT, vector BLOB float32 little-endian, L2-normalised)

`embed_texts` looks texts up, embeds only the missing ones (each distinct text once, in
batches of similar length so that padding is not wasted), writes them to the cache and
returns the full matrix in input order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils
import xxhash

from ..store import create_embeddings_table
from .encoders.base import Encoder


def text_hash(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))


@dataclass
class EmbedStats:
    texts: int = 0
    unique: int = 0
    cached: int = 0
    embedded: int = 0
    encoder_calls: int = 0
    encoder_seconds: float = 0.0  # time inside the model itself
    load_seconds: float = 0.0  # loading a lazy encoder's model on first use (not in encoder_seconds)

    def add(self, other: "EmbedStats") -> None:
        for name in ("texts", "unique", "cached", "embedded", "encoder_calls", "encoder_seconds", "load_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class EmbeddingCache:
    """The `embeddings` table of a database; writes join the caller's transaction, if any."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        # a store has it from its migrations; a sidecar file gets the same table here (one made
        # before migration 006 keeps its WITHOUT ROWID layout: same columns, same queries)
        create_embeddings_table(db)

    @classmethod
    def open_file(cls, path: str | Path) -> "EmbeddingCache":
        import sqlite3

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        return cls(sqlite_utils.Database(conn))

    def get(self, encoder_id: str, hashes: list[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 900):
            chunk = hashes[i : i + 900]
            marks = ",".join("?" * len(chunk))
            for h, blob in self.db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE encoder = ? AND text_hash IN ({marks})",
                [encoder_id, *chunk],
            ):
                vec = np.frombuffer(blob, dtype="<f4")
                if vec.shape[0] == dim:
                    found[h] = vec
        return found

    def put(self, encoder_id: str, items: list[tuple[str, np.ndarray]]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO embeddings (encoder, text_hash, vector) VALUES (?, ?, ?)",
            [(encoder_id, h, np.asarray(v, dtype="<f4").tobytes()) for h, v in items],
        )

    def count(self, encoder_id: str | None = None) -> int:
        if encoder_id is None:
            return self.db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM embeddings WHERE encoder = ?", [encoder_id]).fetchone()[0]


def embed_texts(
    encoder: Encoder,
    texts: list[str],
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """Embeddings of `texts` (input order), computing only what the cache lacks.

    `progress(embedded, to_embed)` is called after each encoder call: the texts embedded so far
    and all the texts the cache lacked.
    """
    stats = EmbedStats(texts=len(texts))
    hashes = [text_hash(t) for t in texts]
    first: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first.setdefault(h, i)
    stats.unique = len(first)
    vectors = cache.get(encoder.id, list(first), encoder.dim) if cache else {}
    stats.cached = len(vectors)
    missing = sorted((h for h in first if h not in vectors), key=lambda h: (len(texts[first[h]]), h))
    for start in range(0, len(missing), batch_size):
        chunk = missing[start : start + batch_size]
        started, loaded = time.perf_counter(), getattr(encoder, "load_seconds", 0.0)
        out = encoder.embed_batch([texts[first[h]] for h in chunk])
        load = getattr(encoder, "load_seconds", 0.0) - loaded
        stats.load_seconds += load
        stats.encoder_seconds += time.perf_counter() - started - load
        stats.encoder_calls += 1
        stats.embedded += len(chunk)
        new = list(zip(chunk, out))
        vectors.update(new)
        if cache:
            cache.put(encoder.id, new)
        if progress:
            progress(stats.embedded, len(missing))
    matrix = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        matrix[i] = vectors[h]
    return matrix, stats
