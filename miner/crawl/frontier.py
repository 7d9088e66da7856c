"""The crawl's state in the store: runs, the frontier (crawl_urls) and robots.txt per host.

Every change is made inside the caller's transaction (the crawler writes a page's documents,
its links and its URL's new state together), so a kill at any point leaves the frontier as it
was after the last page: the next run resumes from there and no page that was recorded is
fetched again. Tables: docs/schema.md ("Crawls").
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlite_utils

from .. import __version__
from ..errors import UsageError
from ..store import transaction, utc_now
from .urls import host_of

HEARTBEAT_STALE = timedelta(minutes=10)  # a "running" run silent this long is taken as dead


@dataclass
class Run:
    id: int
    source_id: int
    resumed: bool  # a run that was killed or paused goes on
    incremental: bool  # an earlier run of this site finished: pages seen then are checked conditionally
    counts: dict = field(default_factory=dict)  # the run's counters as stored


@dataclass
class Url:
    id: int
    url: str
    host: str
    kind: str
    depth: int
    fruitless: int
    attempts: int
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    documents: int


COUNTERS = ("pages", "not_modified", "unchanged", "documents", "errors", "bytes", "wait_seconds")


def _alive(pid: int | None, machine: str | None, heartbeat: str | None) -> bool:
    if not pid or machine != socket.gethostname() or pid == os.getpid():
        return False
    if heartbeat:
        try:
            if datetime.now(timezone.utc) - datetime.fromisoformat(heartbeat) > HEARTBEAT_STALE:
                return False
        except ValueError:
            pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Frontier:
    def __init__(self, db: sqlite_utils.Database, site: str):
        self.db, self.site = db, site
        self.run: Run | None = None

    # --- runs --------------------------------------------------------------------------------

    def open_run(self, profile_source: str, profile_sha: str, options: dict, mapping: dict, ingest_identity: dict) -> Run:
        """Resume the site's unfinished run, or start a new one (and its `sources` row)."""
        with transaction(self.db):
            row = self.db.execute(
                "SELECT id, source_id, status, pid, machine, heartbeat_at FROM crawl_runs "
                "WHERE site = ? AND status IN ('running', 'paused') ORDER BY id DESC LIMIT 1", [self.site]
            ).fetchone()
            if row and row[2] == "running" and _alive(row[3], row[4], row[5]):
                raise UsageError("E464", f"another miner crawl of {self.site} is running (process {row[3]}).",
                                 "Wait for it to finish, or stop it; a killed crawl is resumed by the next one.")
            now = utc_now()
            if row:
                self.db.execute(
                    "UPDATE crawl_runs SET status = 'running', stop_reason = NULL, pid = ?, machine = ?, heartbeat_at = ?, "
                    "options = ? WHERE id = ?", [os.getpid(), socket.gethostname(), now, json.dumps(options), row[0]])
                self.db.execute("UPDATE sources SET status = 'running' WHERE id = ?", [row[1]])
                counts = dict(zip(COUNTERS, self.db.execute(
                    f"SELECT {', '.join(COUNTERS)} FROM crawl_runs WHERE id = ?", [row[0]]).fetchone()))
                incremental = self._finished_before(row[0])
                self.run = Run(row[0], row[1], True, incremental, counts)
                return self.run
            source_id = self.db["sources"].insert({
                "path": profile_source, "name": self.site, "format": "crawl", "sha256": profile_sha,
                "encoding": None, "mapping": json.dumps(mapping, sort_keys=True, ensure_ascii=False),
                "options": json.dumps(ingest_identity, sort_keys=True), "status": "running", "started_at": now,
                "miner_version": __version__,
            }).last_pk
            run_id = self.db["crawl_runs"].insert({
                "site": self.site, "profile": profile_source, "profile_sha256": profile_sha, "source_id": source_id,
                "status": "running", "started_at": now, "pid": os.getpid(), "machine": socket.gethostname(),
                "heartbeat_at": now, "options": json.dumps(options),
            }).last_pk
            self.run = Run(run_id, source_id, False, self._finished_before(run_id), dict.fromkeys(COUNTERS, 0))
            return self.run

    def _finished_before(self, run_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM crawl_runs WHERE site = ? AND status = 'done' AND id < ? LIMIT 1",
                               [self.site, run_id]).fetchone() is not None

    def save_counts(self) -> None:
        """The run's counters and heartbeat (inside the caller's transaction)."""
        run = self.run
        self.db.execute(
            f"UPDATE crawl_runs SET {', '.join(f'{c} = ?' for c in COUNTERS)}, heartbeat_at = ? WHERE id = ?",
            [*(run.counts[c] for c in COUNTERS), utc_now(), run.id])

    def close_run(self, status: str, reason: str | None) -> None:
        with transaction(self.db):
            self.save_counts()
            finished = utc_now() if status in ("done", "failed") else None
            self.db.execute("UPDATE crawl_runs SET status = ?, stop_reason = ?, finished_at = ?, pid = NULL WHERE id = ?",
                            [status, reason, finished, self.run.id])
            self.db.execute("UPDATE sources SET status = ?, finished_at = ? WHERE id = ?",
                            ["done" if status == "done" else "failed" if status == "failed" else "running", utc_now(),
                             self.run.source_id])

    # --- URLs --------------------------------------------------------------------------------

    def seed(self, urls: list[tuple[str, str]]) -> None:
        """Queue the start URLs (url, kind) for this run, known or not (a re-crawl asks again, conditionally)."""
        with transaction(self.db):
            for url, kind in urls:
                self.add(url, kind, depth=0, fruitless=0, parent_id=None, recheck=True)

    def add(self, url: str, kind: str, *, depth: int, fruitless: int, parent_id: int | None, recheck: bool) -> str:
        """Queue one URL: 'new', 'requeued' (seen in an earlier run, asked again), or 'known'."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO crawl_urls (site, url, host, kind, depth, fruitless, parent_id, run_id, state, "
            "discovered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
            [self.site, url, host_of(url), kind, depth, fruitless, parent_id, self.run.id, utc_now()])
        if cur.rowcount:
            return "new"
        if recheck:
            cur = self.db.execute(
                "UPDATE crawl_urls SET state = 'queued', run_id = ?, attempts = 0, next_at = 0, reason = NULL, "
                "kind = ?, fruitless = MIN(fruitless, ?) WHERE site = ? AND url = ? AND run_id < ? "
                "AND state IN ('done', 'failed') AND (reason IS NULL OR reason NOT LIKE 'trap:%')",
                [self.run.id, kind, fruitless, self.site, url, self.run.id])
            if cur.rowcount:
                return "requeued"
        return "known"

    def skip(self, url: str, kind: str, reason: str, *, depth: int, parent_id: int | None) -> None:
        """Record a URL that will not be fetched (robots, a trap, another host) so it is counted once."""
        self.db.execute(
            "INSERT OR IGNORE INTO crawl_urls (site, url, host, kind, depth, parent_id, run_id, state, reason, "
            "discovered_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'skipped', ?, ?)",
            [self.site, url, host_of(url), kind, depth, parent_id, self.run.id, reason, utc_now()])

    def hosts_due(self) -> dict[str, float]:
        """{host: earliest next_at} of the queued URLs."""
        return dict(self.db.execute(
            "SELECT host, MIN(next_at) FROM crawl_urls WHERE site = ? AND state = 'queued' GROUP BY host", [self.site]
        ).fetchall())

    def next_url(self, host: str, now: float) -> Url | None:
        row = self.db.execute(
            "SELECT id, url, host, kind, depth, fruitless, attempts, etag, last_modified, content_hash, documents "
            "FROM crawl_urls WHERE site = ? AND state = 'queued' AND host = ? AND next_at <= ? ORDER BY id LIMIT 1",
            [self.site, host, now]).fetchone()
        return Url(*row) if row else None

    def queued(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM crawl_urls WHERE site = ? AND state = 'queued'", [self.site]).fetchone()[0]

    def finish(self, url_id: int, state: str, *, reason: str | None = None, status: int | None = None,
               etag: str | None = None, last_modified: str | None = None, content_hash: str | None = None,
               size: int | None = None, documents: int = 0, changed: bool = False, keep_validators: bool = False) -> None:
        """A URL's outcome in this run (inside the caller's transaction)."""
        now = utc_now()
        if keep_validators:  # 304 or an unchanged body: what we knew stays true
            self.db.execute(
                "UPDATE crawl_urls SET state = ?, reason = ?, http_status = ?, fetched_at = ?, attempts = attempts + 1, "
                "run_id = ? WHERE id = ?", [state, reason, status, now, self.run.id, url_id])
            return
        self.db.execute(
            "UPDATE crawl_urls SET state = ?, reason = ?, http_status = ?, etag = ?, last_modified = ?, "
            "content_hash = COALESCE(?, content_hash), bytes = COALESCE(?, bytes), documents = documents + ?, "
            "fetched_at = ?, changed_at = CASE WHEN ? THEN ? ELSE changed_at END, attempts = attempts + 1, run_id = ? "
            "WHERE id = ?",
            [state, reason, status, etag, last_modified, content_hash, size, documents, now, int(changed), now,
             self.run.id, url_id])

    def retry_later(self, url_id: int, at: float, status: int | None, error: str) -> None:
        self.db.execute(
            "UPDATE crawl_urls SET attempts = attempts + 1, next_at = ?, http_status = ?, reason = ? WHERE id = ?",
            [at, status, error[:200], url_id])

    def same_content(self, content_hash: str, url_id: int) -> str | None:
        """Another URL of the site whose last body had this hash (a duplicate the normalisation missed)."""
        row = self.db.execute(
            "SELECT url FROM crawl_urls WHERE site = ? AND content_hash = ? AND id != ? AND state = 'done' LIMIT 1",
            [self.site, content_hash, url_id]).fetchone()
        return row[0] if row else None

    # --- robots.txt --------------------------------------------------------------------------

    def robots(self, host: str, max_age: timedelta = timedelta(days=1)) -> tuple[int, str] | None:
        """(status, text) of the host's robots.txt fetched less than `max_age` ago, else None."""
        row = self.db.execute("SELECT robots_status, robots, fetched_at FROM crawl_hosts WHERE site = ? AND host = ?",
                              [self.site, host]).fetchone()
        if not row or not row[2]:
            return None
        try:
            if datetime.now(timezone.utc) - datetime.fromisoformat(row[2]) > max_age:
                return None
        except ValueError:
            return None
        return row[0], row[1] or ""

    def save_robots(self, host: str, status: int, text: str) -> None:
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO crawl_hosts (site, host, robots, robots_status, fetched_at) "
                            "VALUES (?, ?, ?, ?, ?)", [self.site, host, text, status, utc_now()])

