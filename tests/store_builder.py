"""Build small stores row by row (tests, benchmarks): themes, documents, segments, sentiment.

Writes straight to the tables in the layout the themes and touchpoints stages use, so
trends and alerts can be exercised without running any model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import sqlite_utils

from miner.store import utc_now

RUN_ID = 1


class StoreBuilder:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.n = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
        row = db.execute("SELECT id FROM sources WHERE path = '<synthetic>'").fetchone()
        if row:
            self.source = row[0]
        else:
            self.source = db.execute(
                "INSERT INTO sources (path, name, format, status) VALUES ('<synthetic>', 'synthetic', 'jsonl', 'done')"
            ).lastrowid

    def theme(self, label: str, *, id: int | None = None, status: str = "active", merged_into: int | None = None,
              custom_label: str | None = None) -> int:
        now = utc_now()
        return self.db.execute(
            "INSERT INTO themes (id, label, custom_label, status, merged_into, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [id, label, custom_label, status, merged_into, now, now],
        ).lastrowid

    def ensure_touchpoints(self) -> None:
        if not self.db["segment_touchpoints"].exists():  # the layout issue 6 will create
            self.db.execute("CREATE TABLE segment_touchpoints (segment_id INTEGER NOT NULL, touchpoint TEXT NOT NULL, confidence REAL)")

    def doc(
        self,
        created_at: str | None,
        segments: Iterable = (),
        *,
        channel: str | None = None,
        lang: str = "en",
        sentiment: str | None = None,
        duplicate_of: int | None = None,
        informative: int = 1,
        score: float | None = None,
        text: str | None = None,
        meta: dict | None = None,
    ) -> int:
        """Add a document; `segments` items are a theme id (or None), or a dict with keys
        theme, sentiment ('neg'|'neu'|'pos'), touchpoint, text. Returns the document id."""
        self.n += 1
        segs = [s if isinstance(s, dict) else {"theme": s} for s in segments]
        body = text or " ".join(s.get("text") or f"segment {i} of document {self.n}." for i, s in enumerate(segs)) or f"document {self.n}"
        doc_id = self.db.execute(
            "INSERT INTO documents (source_id, record_key, text, clean_text, lang, created_at, channel, score, content_hash, "
            "duplicate_of, informative, n_segments, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.source, f"k{self.n}", body, body, lang, created_at, channel, score,
             hashlib.sha1(f"{self.n}".encode()).hexdigest(), duplicate_of, informative, len(segs),
             json.dumps(meta, ensure_ascii=False) if meta is not None else None],
        ).lastrowid
        pos = 0
        for i, s in enumerate(segs):
            seg_text = s.get("text") or f"segment {i} of document {self.n}."
            seg_id = self.db.execute(
                "INSERT INTO segments (document_id, seg_index, text, lang, char_start, char_end, informative) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [doc_id, i, seg_text, lang, pos, pos + len(seg_text)],
            ).lastrowid
            pos += len(seg_text) + 1
            if "theme" in s:
                self.db.execute(
                    "INSERT INTO segment_themes (segment_id, theme_id, score, method, run_id) VALUES (?, ?, 0.9, ?, ?)",
                    [seg_id, s["theme"], "cluster" if s["theme"] is not None else "outlier", RUN_ID],
                )
            if s.get("sentiment"):
                self.db.execute(
                    "INSERT INTO segment_sentiment (segment_id, head, label, score) VALUES (?, 'synthetic', ?, 0)",
                    [seg_id, s["sentiment"]],
                )
            if s.get("touchpoint"):
                self.ensure_touchpoints()
                row = {"segment_id": seg_id, "touchpoint": s["touchpoint"], "confidence": 0.9, "rank": 0, "method": "synthetic"}
                cols = [c for c in row if c in self.db["segment_touchpoints"].columns_dict]  # layouts before and after schema 005
                self.db.execute(
                    f"INSERT INTO segment_touchpoints ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols]
                )
        label = sentiment or next((x for x in ("neg", "pos", "neu") if any(s.get("sentiment") == x for s in segs)), None)
        if label:
            self.db.execute(
                "INSERT INTO document_sentiment (document_id, head, label, score, n_segments) VALUES (?, 'synthetic', ?, 0, ?)",
                [doc_id, label, len(segs)],
            )
        return doc_id
