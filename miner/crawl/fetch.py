"""HTTP for the crawler: one request at a time, politely.

`Fetcher.get` makes one GET with the user's User-Agent, conditional headers when the page was
seen before (If-None-Match, If-Modified-Since), a timeout and a cap on the bytes read; it never
follows redirects itself (the crawler normalises the target, checks robots.txt and its budget,
and queues it like any link) and never raises for HTTP or network trouble: a `Response` says
what happened. `Hosts` keeps each host's robots.txt rules and the earliest time of its next
request: the delay (never below the robots Crawl-delay or request rate), `Retry-After` and
exponential backoff. Robots rules are parsed by protego (the parser Scrapy uses).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

import httpx
from protego import Protego

from .. import __version__

DEFAULT_USER_AGENT = f"miner/{__version__} (complaint miner; set a contact with --user-agent)"
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"


@dataclass
class Response:
    url: str
    status: int  # 0: no answer (network error, timeout)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    error: str | None = None
    truncated: bool = False  # the body was longer than the cap

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


class Fetcher:
    def __init__(self, user_agent: str, timeout: float, max_page_bytes: int):
        self.user_agent = user_agent
        self.max_page_bytes = max_page_bytes
        self.client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
        )

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self.client.stream("GET", url, headers=headers) as r:
                chunks, size, truncated = [], 0, False
                for chunk in r.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if self.max_page_bytes and size > self.max_page_bytes:
                        truncated = True
                        break
                return Response(url, r.status_code, {k.lower(): v for k, v in r.headers.items()}, b"".join(chunks),
                                truncated=truncated)
        except httpx.TimeoutException:
            return Response(url, 0, error="timeout")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            return Response(url, 0, error=f"{type(exc).__name__}: {str(exc)[:200]}")

    def close(self) -> None:
        self.client.close()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_dt = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
    return max(0.0, (when - now_dt).total_seconds())


@dataclass
class Host:
    """What the crawler knows about one host in this run."""

    robots: Protego | None = None
    robots_status: int | None = None
    delay: float = 2.0
    next_at: float = 0.0  # time.monotonic() before which no request is made
    failures: int = 0  # 429/503 answers in a row (exponential backoff)

    def allowed(self, url: str, user_agent: str) -> bool:
        return self.robots is None or self.robots.can_fetch(url, user_agent)


def robots_rules(status: int, body: bytes) -> Protego | None:
    """The rules of a robots.txt answer (RFC 9309): 2xx is parsed; 4xx means no rules (all
    allowed); None for 5xx or no answer (the caller treats the host as unavailable)."""
    if 200 <= status < 300:
        return Protego.parse(body.decode("utf-8", "replace"))
    if 400 <= status < 500:
        return Protego.parse("")
    return None


def host_delay(rules: Protego | None, user_agent: str, delay: float) -> float:
    """The delay between two requests to a host: the user's, never below robots.txt's Crawl-delay
    or request rate."""
    if rules is None:
        return delay
    out = delay
    crawl_delay = rules.crawl_delay(user_agent)
    if crawl_delay:
        out = max(out, float(crawl_delay))
    rate = rules.request_rate(user_agent)
    if rate and rate.requests:
        out = max(out, rate.seconds / rate.requests)
    return out
