"""`miner crawl`: fetch a site politely and store its complaints through ingest's pipeline.

One request at a time (so never two at once to a host), each host waited for between requests
(the profile's or user's delay, never below robots.txt's Crawl-delay), robots.txt obeyed,
`Retry-After` honoured on 429/503 and exponential backoff on errors, page and byte budgets.

Each fetched page is one transaction: its documents (decoded, cleaned, PII-redacted, language,
segments and duplicates exactly as `miner ingest` does, `channel = complaint_site`), the links it
adds to the frontier and its URL's new state (ETag, Last-Modified, content hash). A crawl killed
at any point therefore resumes where it stopped: a page is fetched again only if it was in flight
when the process died. A run that finished makes the next one incremental: start pages are asked
again with conditional requests, and only pages linked from a changed page are checked again.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone

import sqlite_utils

from ..errors import InputError, UsageError
from ..ingest.dedupe import DEFAULT_MIN_CHARS
from ..ingest.mapping import parse_date
from ..ingest.pii import Redactor
from ..ingest.pipeline import IngestOptions, IngestSummary, InputReport, store_items
from ..ingest.prepare import prepare_batch
from ..store import transaction, utc_now
from . import extract
from .fetch import DEFAULT_USER_AGENT, Fetcher, Host, Response, host_delay, retry_after_seconds, robots_rules
from .frontier import Frontier, Url
from .profile import Profile
from ..ingest.lines import SiteLines
from .urls import host_of, normalise, path_and_query, shape, trap_reason

CHANNEL = "complaint_site"
HTML_TYPES = ("text/html", "application/xhtml+xml", "")
MAX_REDIRECTS_ROBOTS = 5
HANDLED_CACHE = 50_000

ProgressFn = Callable[[dict], None]


@dataclass
class CrawlOptions:
    """What the command line may set over the profile (None: the profile's value)."""

    delay: float | None = None
    user_agent: str | None = None
    max_pages: int | None = None  # pages fetched by this invocation (0: no limit)
    max_bytes: int | None = None
    since: str | None = None  # YYYY-MM-DD: records dated before are not stored
    timeout: float | None = None
    max_retries: int | None = None
    backoff: float | None = None
    max_retry_after: float | None = None


@dataclass
class Settings:
    delay: float
    user_agent: str
    timeout: float
    max_retries: int
    backoff: float
    max_retry_after: float
    max_pages: int
    max_bytes: int
    max_page_bytes: int
    max_fruitless: int
    max_depth: int
    since: str | None

    def public(self) -> dict:
        return asdict(self)


@dataclass
class CrawlSummary:
    site: str
    run_id: int = 0
    status: str = "running"  # done | paused | failed
    stop_reason: str | None = None
    resumed: bool = False
    incremental: bool = False
    pages: int = 0  # answers received by this invocation
    not_modified: int = 0
    unchanged: int = 0
    errors: int = 0
    bytes: int = 0
    wait_seconds: float = 0.0
    seconds: float = 0.0
    queued: int = 0  # URLs left in the frontier
    urls: Counter = field(default_factory=Counter)  # outcomes: done, failed, robots, trap:..., offsite...
    errors_by: Counter = field(default_factory=Counter)  # http_503, timeout...
    page_noise: Counter = field(default_factory=Counter)  # lines left out of pages at extraction, by reason
    ingest: IngestSummary | None = None

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("ingest", "urls", "errors_by", "page_noise")}
        out["urls"] = dict(self.urls.most_common())
        out["page_noise"] = dict(self.page_noise.most_common())
        out["errors_by"] = dict(self.errors_by.most_common())
        out["wait_seconds"] = round(self.wait_seconds, 3)
        out["seconds"] = round(self.seconds, 3)
        ingest = self.ingest.to_dict() if self.ingest else {}
        out["documents"] = ingest.get("totals", {})
        out["skipped"] = ingest.get("skipped", {})
        out["warnings"] = ingest.get("warnings", {})
        out["languages"] = ingest.get("languages", {})
        out["pii_redacted"] = ingest.get("pii_redacted", {})
        out["dropped_lines"] = ingest.get("dropped_lines", {})
        out["pages_per_second"] = round(self.pages / self.seconds, 2) if self.seconds else None
        return out


def settings_for(profile: Profile, options: CrawlOptions) -> Settings:
    """The profile's politeness, budget and trap settings with the options over them (E653 when out of range)."""
    pol, bud, trp = profile.politeness, profile.budget, profile.traps

    def pick(value, default, name: str, minimum: float = 0):
        value = default if value is None else value
        if value < minimum:
            raise UsageError("E463", f"{name} must be at least {minimum:g}, not {value}.", "Leave it out to use the profile's value.")
        return value

    since = None
    if options.since:
        try:
            since = parse_date(options.since)
        except (ValueError, OverflowError):
            raise UsageError("E463", f"--since {options.since!r} is not a date.", "Use YYYY-MM-DD, e.g. 2026-09-01.") from None
    user_agent = (options.user_agent or pol.get("user_agent") or DEFAULT_USER_AGENT).strip()
    if not user_agent or any(ord(c) < 32 for c in user_agent):
        raise UsageError("E463", "the User-Agent is empty or holds control characters.", "Give e.g. --user-agent 'acme-cx/1.0 (cx@acme.example)'.")
    return Settings(
        delay=float(pick(options.delay, pol["delay"], "--delay")),
        user_agent=user_agent,
        timeout=float(pick(options.timeout, pol["timeout"], "--timeout", 0.1)),
        max_retries=int(pick(options.max_retries, pol["max_retries"], "--max-retries")),
        backoff=float(pick(options.backoff, pol["backoff"], "--backoff")),
        max_retry_after=float(pick(options.max_retry_after, pol["max_retry_after"], "--max-retry-after")),
        max_pages=int(pick(options.max_pages, bud["max_pages"], "--max-pages")),
        max_bytes=int(pick(options.max_bytes, bud["max_bytes"], "--max-bytes")),
        max_page_bytes=int(bud["max_page_bytes"]),
        max_fruitless=int(trp["max_fruitless"]),
        max_depth=int(profile.depth if profile.depth is not None else trp["max_depth"]),
        since=since,
    )


class _Crawl:
    """One invocation's state: the frontier, the hosts met, the counters."""

    def __init__(self, db: sqlite_utils.Database, profile: Profile, settings: Settings, ingest_options: IngestOptions,
                 progress: ProgressFn | None, sleep: Callable[[float], None]):
        self.db, self.profile, self.s = db, profile, settings
        self.ingest_options, self.progress, self.sleep = ingest_options, progress, sleep
        self.frontier = Frontier(db, profile.site)
        self.hosts: dict[str, Host] = {}
        self.unavailable: set[str] = set()
        self.redactor = Redactor(dict(ingest_options.redact_patterns), frozenset(ingest_options.redact_disabled)) \
            if ingest_options.redact else None
        self.today = datetime.now(timezone.utc).date()
        self.summary = CrawlSummary(site=profile.site)
        self.fetcher: Fetcher | None = None
        self.due: dict[str, float] = {}
        self.queued = 0
        self.handled: dict[str, None] = {}  # URLs met in this run (bounded), to spare the store a query per link
        self.cleaner = extract.Cleaner(SiteLines(), self.summary.page_noise)

    # --- setup -------------------------------------------------------------------------------

    def open(self) -> None:
        p, s = self.profile, self.s
        mapping = {"channel_value": CHANNEL, "fields": sorted(p.fields), "replies": sorted(p.replies),
                   "listing": [r.pattern for r in p.listing], "item": [r.pattern for r in p.item]}
        options = {"delay": s.delay, "user_agent": s.user_agent, "max_pages": s.max_pages, "max_bytes": s.max_bytes,
                   "since": s.since}
        run = self.frontier.open_run(p.source, p.sha256, options, mapping, self.ingest_options.identity())
        self.summary.run_id, self.summary.resumed, self.summary.incremental = run.id, run.resumed, run.incremental
        row = self.db.execute("SELECT rows_read, already_stored, duplicates, near_duplicates, noninformative, "
                              "skipped_reasons, stored FROM sources WHERE id = ?", [run.source_id]).fetchone()
        self.report = InputReport(path=p.source, status="running", source_id=run.source_id, format="crawl")
        if row:
            import json

            self.report.rows_read, self.report.already_stored, self.report.duplicates = row[0] or 0, row[1] or 0, row[2] or 0
            self.report.near_duplicates, self.report.noninformative = row[3] or 0, row[4] or 0
            self.report.skipped.update(json.loads(row[5]) if row[5] else {})
            self.report.stored = row[6] or 0
        self.isummary = IngestSummary(inputs=[self.report])
        self.summary.ingest = self.isummary
        if not run.resumed:
            seeds = [(u, p.kind_of(path_and_query(u)) or "listing") for u in p.start]
            if p.sitemap:
                seeds.insert(0, (p.sitemap, "sitemap"))
            self.frontier.seed(seeds)
        self.due = self.frontier.hosts_due()
        self.queued = self.frontier.queued()
        self.fetcher = Fetcher(s.user_agent, s.timeout, s.max_page_bytes)

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> CrawlSummary:
        started = time.perf_counter()
        status, reason = "done", None
        try:
            while True:
                budget = self._budget_reason()
                if budget:
                    status, reason = "paused", budget
                    break
                url, wait = self._pick()
                if url is None and wait is None:
                    if self.unavailable:
                        status, reason = "paused", "host_unavailable"
                    break
                if url is None:
                    if wait > self.s.max_retry_after:  # nothing due before the limit: stop, resume later
                        status, reason = "paused", "retry_after"
                        break
                    self._wait(wait)
                    continue
                stop = self._visit(url)
                if stop:
                    status, reason = "paused", stop
                    break
                if self.progress:
                    self.progress(self._progress())
        except KeyboardInterrupt:
            self.summary.seconds = time.perf_counter() - started
            self._close("paused", "interrupted")
            raise
        except BaseException:
            self._close("paused", "error")
            raise
        self.summary.seconds = time.perf_counter() - started
        self._close(status, reason)
        return self.summary

    def _close(self, status: str, reason: str | None) -> None:
        if self.fetcher:
            self.fetcher.close()
        self.summary.status, self.summary.stop_reason = status, reason
        self.summary.queued = self.frontier.queued()
        self.frontier.close_run(status, reason)
        self.report.status = "done" if status == "done" else "running"

    def _progress(self) -> dict:
        return {"pages": self.summary.pages, "documents": self.report.stored, "errors": self.summary.errors,
                "wait_seconds": self.summary.wait_seconds, "queued": max(0, self.queued), "site": self.profile.site}

    def _budget_reason(self) -> str | None:
        if self.s.max_pages and self.summary.pages >= self.s.max_pages:
            return "max_pages"
        if self.s.max_bytes and self.summary.bytes >= self.s.max_bytes:
            return "max_bytes"
        return None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep(seconds)
            self.summary.wait_seconds += seconds
            self.frontier.run.counts["wait_seconds"] += seconds

    def _pick(self) -> tuple[Url | None, float | None]:
        """The next URL to fetch, or the seconds to wait for one, or (None, None) when none is left."""
        if not self.due:
            self.due = {h: t for h, t in self.frontier.hosts_due().items() if h not in self.unavailable}
            if not self.due:
                return None, None
        now, mono = time.time(), time.monotonic()
        best: float | None = None
        for h in list(self.due):
            state = self.hosts.get(h)
            ready_in = max(0.0, self.due[h] - now, (state.next_at - mono) if state else 0.0)
            if ready_in <= 0:
                url = self.frontier.next_url(h, now)
                if url is not None:
                    return url, None
                left = self.db.execute("SELECT MIN(next_at) FROM crawl_urls WHERE site = ? AND state = 'queued' AND host = ?",
                                       [self.profile.site, h]).fetchone()[0]
                if left is None:
                    del self.due[h]
                    continue
                self.due[h] = left
                ready_in = max(0.0, left - now)
            best = ready_in if best is None else min(best, ready_in)
        if best is None:
            return self._pick() if self.due else (None, None)
        return None, best

    # --- hosts and robots.txt ------------------------------------------------------------------

    def _host(self, host: str) -> Host | None:
        """The host's state with its robots rules (fetched once a day); None while robots.txt cannot be had."""
        state = self.hosts.get(host)
        if state is not None and state.robots is not None:
            return state
        if state is None:
            state = self.hosts[host] = Host(delay=self.s.delay)
        cached = self.frontier.robots(host)
        if cached is not None:
            rules = robots_rules(cached[0], cached[1].encode("utf-8"))
            if rules is not None:
                state.robots, state.robots_status = rules, cached[0]
                state.delay = host_delay(rules, self.s.user_agent, self.s.delay)
                return state
        for attempt in range(self.s.max_retries + 1):
            self._wait(state.next_at - time.monotonic())
            response = self._get_robots(host, state)
            rules = robots_rules(response.status, response.body)
            if rules is not None:
                state.robots, state.robots_status = rules, response.status
                state.delay = host_delay(rules, self.s.user_agent, self.s.delay)
                state.next_at = max(state.next_at, time.monotonic() + state.delay)  # Crawl-delay counts from robots.txt too
                self.frontier.save_robots(host, response.status, response.body.decode("utf-8", "replace") if response.status < 300 else "")
                return state
            self.summary.errors += 1
            self.summary.errors_by["robots_" + (f"http_{response.status}" if response.status else "unreachable")] += 1
            state.next_at = time.monotonic() + self._backoff(attempt + 1)
        # RFC 9309: an unreachable robots.txt means "disallow everything" for now; the URLs wait.
        self.unavailable.add(host)
        self.due.pop(host, None)
        return None

    def _get_robots(self, host: str, state: Host) -> Response:
        url = host + "/robots.txt"
        for _ in range(MAX_REDIRECTS_ROBOTS):
            response = self.fetcher.get(url)
            state.next_at = time.monotonic() + state.delay
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                url = normalise(response.headers["location"], url) or url
                self._wait(state.next_at - time.monotonic())
                continue
            return response
        return Response(url, 404)  # a redirect loop: RFC 9309 treats it as no robots.txt

    def _backoff(self, attempt: int) -> float:
        return self.s.backoff * (2 ** max(0, attempt - 1))

    # --- one URL -------------------------------------------------------------------------------

    def _visit(self, url: Url) -> str | None:
        """Fetch one URL and record what came of it; a reason to stop the run, or None."""
        host = self._host(url.host)
        if host is None:
            return None
        if not host.allowed(url.url, self.s.user_agent):
            with transaction(self.db):
                self.frontier.finish(url.id, "skipped", reason="robots")
            self.summary.urls["robots"] += 1
            self.queued -= 1
            return None
        self._wait(host.next_at - time.monotonic())
        response = self.fetcher.get(url.url, etag=url.etag if url.content_hash else None,
                                    last_modified=url.last_modified if url.content_hash else None)
        host.next_at = time.monotonic() + host.delay
        if response.status:
            self.summary.pages += 1
            self.frontier.run.counts["pages"] += 1
        self.summary.bytes += len(response.body)
        self.frontier.run.counts["bytes"] += len(response.body)
        status = response.status
        if status == 0 or status in (429, 503) or status >= 500:
            return self._failed_attempt(url, host, response)
        host.failures = 0
        if status in (301, 302, 303, 307, 308):
            return self._redirect(url, response)
        if status == 304:
            self.summary.not_modified += 1
            self.frontier.run.counts["not_modified"] += 1
            self._finish(url, "done", reason="not_modified", status=304, keep_validators=True)
            return None
        if status >= 400 or status < 200:
            self._error(f"http_{status}")
            self._finish(url, "failed", reason=f"http_{status}", status=status)
            return None
        return self._page(url, response)

    def _error(self, kind: str) -> None:
        self.summary.errors += 1
        self.summary.errors_by[kind] += 1
        self.frontier.run.counts["errors"] += 1

    def _finish(self, url: Url, state: str, **kw) -> None:
        with transaction(self.db):
            self.frontier.finish(url.id, state, **kw)
            self.frontier.save_counts()
        self.summary.urls[kw.get("reason") or state] += 1
        self.queued -= 1

    def _failed_attempt(self, url: Url, host: Host, response: Response) -> str | None:
        kind = response.error and ("timeout" if response.error == "timeout" else "network") or f"http_{response.status}"
        self._error(kind)
        attempt = url.attempts + 1
        wait = None
        if response.status in (429, 503):
            wait = retry_after_seconds(response.headers.get("retry-after"))
            host.failures += 1
            if wait is None:
                wait = self._backoff(host.failures)
            if wait > self.s.max_retry_after:
                with transaction(self.db):
                    self.frontier.retry_later(url.id, time.time() + wait, response.status, kind)
                    self.frontier.save_counts()
                return "retry_after"
            host.next_at = max(host.next_at, time.monotonic() + wait)
        if attempt > self.s.max_retries:
            self._finish(url, "failed", reason=kind, status=response.status or None)
            return None
        wait = wait if wait is not None else self._backoff(attempt)
        with transaction(self.db):
            self.frontier.retry_later(url.id, time.time() + wait, response.status or None, kind)
            self.frontier.save_counts()
        self.due[url.host] = min(self.due.get(url.host, float("inf")), time.time() + wait)
        return None

    def _redirect(self, url: Url, response: Response) -> str | None:
        target = normalise(response.headers.get("location", ""), url.url, drop_params=self.profile.drop_params,
                           keep_params=self.profile.keep_params)
        with transaction(self.db):
            self.frontier.finish(url.id, "done", reason="redirect", status=response.status)
            if target and target != url.url:
                kind = self.profile.kind_of(path_and_query(target)) or url.kind
                self._queue(target, kind, url, fruitful=True, count=Counter())
            self.frontier.save_counts()
        self.summary.urls["redirect"] += 1
        self.queued -= 1
        return None

    def _page(self, url: Url, response: Response) -> str | None:
        if response.truncated:
            self._finish(url, "failed", reason="too_large", status=response.status)
            return None
        digest = hashlib.sha256(response.body).hexdigest()
        if url.content_hash == digest:
            self.summary.unchanged += 1
            self.frontier.run.counts["unchanged"] += 1
            self._finish(url, "done", reason="unchanged", status=response.status, keep_validators=True)
            return None
        validators = {"status": response.status, "etag": response.headers.get("etag"),
                      "last_modified": response.headers.get("last-modified"), "content_hash": digest,
                      "size": len(response.body)}
        if url.kind == "sitemap":
            return self._sitemap(url, response, validators)
        if response.content_type not in HTML_TYPES:
            self._finish(url, "skipped", reason="not_html", **validators)
            return None
        twin = self.frontier.same_content(digest, url.id)
        if twin is not None:
            self._finish(url, "done", reason="duplicate_content", **validators)
            return None
        page = extract.decode_page(response.body, response.charset, self.profile.encoding)
        found_links = extract.links(page, url.url, self.profile)
        items, originals = [], 0
        if url.kind == "item":
            items = self._prepare(extract.records(page, url.url, self.profile, self.report.warnings, self.cleaner), url.url)
        before = (self.report.stored, self.report.duplicates, self.report.near_duplicates)
        with transaction(self.db):
            if items:
                store_items(self.db, self.frontier.run.source_id, items, self.ingest_options, self.report, self.isummary)
            stored = self.report.stored - before[0]
            originals = stored - (self.report.duplicates - before[1]) - (self.report.near_duplicates - before[2])
            # A page bears fruit when it stored a new text long enough to be compared for duplicates:
            # a calendar page's "October 2026" is new every time and says nothing.
            substantial = any(getattr(prep, "signature", None) is not None for _, prep in items)
            self._queue_links(url, found_links, fruitful=originals > 0 and substantial)
            self.frontier.finish(url.id, "done", documents=stored, changed=True, **validators)
            self.frontier.run.counts["documents"] += stored
            self.frontier.save_counts()
        self.summary.urls["done"] += 1
        self.queued -= 1
        return None

    def _sitemap(self, url: Url, response: Response, validators: dict) -> str | None:
        pages, nested = extract.sitemap_urls(response.body)
        with transaction(self.db):
            count: Counter = Counter()
            for raw in nested:
                target = normalise(raw, url.url)
                if target:
                    self._queue(target, "sitemap", url, fruitful=True, count=count)
            for raw in pages:
                target = normalise(raw, url.url, drop_params=self.profile.drop_params, keep_params=self.profile.keep_params)
                kind = self.profile.kind_of(path_and_query(target)) if target else None
                if target and kind:
                    self._queue(target, kind, url, fruitful=True, count=count)
            self.frontier.finish(url.id, "done", changed=True, **validators)
            self.frontier.save_counts()
        self.summary.urls["done"] += 1
        self.queued -= 1
        return None

    # --- records -------------------------------------------------------------------------------

    def _prepare(self, records: list[extract.Record], url: str) -> list[tuple[dict, object]]:
        """Records as (fields, prepared) for `store_items`: meta redacted here, text in `prepare_batch`."""
        crawled_at = utc_now()
        kept = []
        for r in records:
            if self.s.since and r.created_at and r.created_at[:10] < self.s.since[:10]:
                self.report.skipped["before_since"] += 1
                self.report.rows_read += 1
                continue
            kept.append(r)
        if not kept:
            return []
        prepared = prepare_batch([r.text for r in kept], self.redactor, self.ingest_options.dedupe_min_chars)
        out = []
        for r, prep in zip(kept, prepared):
            meta = {"url": url, "site": self.profile.site, "crawled_at": crawled_at, "kind": r.kind, **r.meta}
            pii: Counter = Counter()
            external_id = r.external_id
            if self.redactor is not None:
                for key in ("title", "company", "answer"):
                    if isinstance(meta.get(key), str):
                        meta[key], found = self.redactor.redact(meta[key])
                        pii.update(found)
                external_id, found = self.redactor.redact(external_id)
                pii.update(found)
            out.append(({"external_id": external_id, "created_at": r.created_at, "channel": CHANNEL,
                         "score": r.score, "meta": meta, "pii": dict(pii)}, prep))
        return out

    # --- links ---------------------------------------------------------------------------------

    def _queue_links(self, page: Url, found: list[str], *, fruitful: bool) -> None:
        """Queue the page's links that the profile follows; pages of the page's own shape are
        queued after the others, as traps when a chain of them brings nothing new."""
        own = shape(page.url)
        same, count = [], Counter()
        for target in found:
            kind = self.profile.kind_of(path_and_query(target))
            if kind is None:
                continue
            if shape(target) == own:
                same.append((target, kind))
            else:
                self._queue(target, kind, page, fruitful=True, count=count)
        brought = fruitful or count["new"] + count["requeued"] > 0
        for target, kind in same:
            self._queue(target, kind, page, fruitful=brought, count=count)

    def _queue(self, target: str, kind: str, page: Url, *, fruitful: bool, count: Counter) -> None:
        if target in self.handled:  # already queued, skipped or known in this run: no query needed
            count["known"] += 1
            return
        if len(self.handled) >= HANDLED_CACHE:
            self.handled.clear()  # bounded: the store stays the reference
        self.handled[target] = None
        host = host_of(target)
        if self.profile.same_host and host not in self._allowed_hosts():
            self.summary.urls["offsite"] += 1
            return
        depth = page.depth + 1
        if self.s.max_depth and depth > self.s.max_depth and kind != "sitemap":
            self.summary.urls["too_deep"] += 1
            return
        reason = trap_reason(target, self.today)
        fruitless = 0 if fruitful or shape(target) != shape(page.url) else page.fruitless + 1
        if reason is None and fruitless > self.s.max_fruitless:
            reason = "fruitless"
        state = self.hosts.get(host)
        if reason is not None:
            self.frontier.skip(target, kind, f"trap:{reason}", depth=depth, parent_id=page.id)
            self.summary.urls[f"trap:{reason}"] += 1
            return
        if state is not None and state.robots is not None and not state.allowed(target, self.s.user_agent):
            self.frontier.skip(target, kind, "robots", depth=depth, parent_id=page.id)
            self.summary.urls["robots"] += 1
            return
        result = self.frontier.add(target, kind, depth=depth, fruitless=fruitless, parent_id=page.id, recheck=True)
        count[result] += 1
        if result != "known":
            self.queued += 1
            if host not in self.due and host not in self.unavailable:
                self.due[host] = 0.0

    def _allowed_hosts(self) -> set[str]:
        hosts = getattr(self, "_hosts_cache", None)
        if hosts is None:
            hosts = self._hosts_cache = {host_of(u) for u in (*self.profile.start, *([self.profile.sitemap] if self.profile.sitemap else []))}
        return hosts


def crawl(
    db: sqlite_utils.Database,
    profile: Profile,
    options: CrawlOptions | None = None,
    ingest_options: IngestOptions | None = None,
    *,
    progress: ProgressFn | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CrawlSummary:
    """Crawl the profile's site into the store; resumes the site's unfinished run if there is one.

    Raises UsageError E653 for settings out of range, E654 when another process crawls the site;
    InputError E655 when not one page could be fetched (the host is down or forbids everything).
    """
    settings = settings_for(profile, options or CrawlOptions())
    ingest_options = ingest_options or IngestOptions()
    if ingest_options.dedupe_min_chars < 1:
        ingest_options.dedupe_min_chars = DEFAULT_MIN_CHARS
    job = _Crawl(db, profile, settings, ingest_options, progress, sleep)
    job.open()
    summary = job.run()
    if summary.pages == 0 and summary.status != "done" and (job.unavailable or summary.errors):
        raise InputError("E465", f"no page of {profile.site} could be fetched ({', '.join(sorted(summary.errors_by)) or summary.stop_reason}).",
                         "Check the URL and that the site is reachable; the crawl resumes where it stopped when run again.")
    return summary


def preview(profile: Profile, options: CrawlOptions | None = None, *, max_pages: int = 4,
            sleep: Callable[[float], None] = time.sleep) -> dict:
    """`--dry-run`: what a crawl would do, with nothing written: robots.txt and the delay per host,
    the start pages' links by what the profile makes of them, and the records (cleaned as ingest
    cleans them) of the first complaint page found. Fetches at most `max_pages` pages, politely."""
    from ..ingest.clean import clean_text

    s = settings_for(profile, options or CrawlOptions())
    fetcher = Fetcher(s.user_agent, s.timeout, s.max_page_bytes)
    today = datetime.now(timezone.utc).date()
    hosts: dict[str, Host] = {}
    out: dict = {"site": profile.site, "user_agent": s.user_agent, "hosts": {}, "pages": [], "records": []}

    def get(url: str) -> Response:
        host = host_of(url)
        state = hosts.get(host)
        if state is None:
            state = hosts[host] = Host(delay=s.delay)
            response = fetcher.get(host + "/robots.txt")
            state.robots = robots_rules(response.status, response.body)
            state.delay = host_delay(state.robots, s.user_agent, s.delay)
            state.next_at = time.monotonic() + state.delay
            out["hosts"][host] = {"robots_status": response.status or None, "delay": state.delay,
                                  "robots_unavailable": state.robots is None}
        if state.robots is None or not state.allowed(url, s.user_agent):
            return Response(url, 0, error="disallowed by robots.txt" if state.robots is not None else "robots.txt unavailable")
        sleep(max(0.0, state.next_at - time.monotonic()))
        response = fetcher.get(url)
        state.next_at = time.monotonic() + state.delay
        return response

    try:
        todo = [(u, profile.kind_of(path_and_query(u)) or "listing") for u in profile.start]
        item_found = False
        while todo and len(out["pages"]) < max_pages:
            url, kind = todo.pop(0)
            response = get(url)
            entry = {"url": url, "kind": kind, "status": response.status, "error": response.error, "links": Counter(), "examples": {}}
            out["pages"].append(entry)
            if response.status != 200 or response.content_type not in HTML_TYPES:
                continue
            page = extract.decode_page(response.body, response.charset, profile.encoding)
            entry["encoding"] = page.encoding
            for link in extract.links(page, url, profile):
                link_kind = profile.kind_of(path_and_query(link))
                host = hosts.get(host_of(link))
                if profile.same_host and host_of(link) not in {host_of(u) for u in profile.start}:
                    verdict = "offsite"
                elif link_kind is None:
                    verdict = "not_followed"
                elif trap_reason(link, today):
                    verdict = "trap"
                elif host is not None and host.robots is not None and not host.allowed(link, s.user_agent):
                    verdict = "robots"
                else:
                    verdict = link_kind
                entry["links"][verdict] += 1
                entry["examples"].setdefault(verdict, link)
                if verdict == "item" and not item_found:
                    item_found = True
                    todo.insert(0, (link, "item"))
            entry["links"] = dict(entry["links"])
            if kind == "item":
                warnings: Counter = Counter()
                for r in extract.records(page, url, profile, warnings, extract.Cleaner(SiteLines(), Counter())):
                    cleaned, dropped = clean_text(r.text)
                    out["records"].append({"kind": r.kind, "external_id": r.external_id, "created_at": r.created_at,
                                           "score": r.score, "meta": r.meta, "text": r.text, "clean_text": cleaned,
                                           "dropped_lines": {k: v for k, v in dropped.items() if v}})
                entry["warnings"] = dict(warnings)
    finally:
        fetcher.close()
    return out
