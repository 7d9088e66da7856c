"""Posting one alert as JSON to a webhook, with retries and exponential backoff (urllib only).

A post succeeds on any 2xx answer. Connection errors, timeouts, 408, 425, 429 and 5xx are
retried (backoff, 2 x backoff, 4 x backoff... seconds); other 4xx answers mean the
receiver refuses this payload and are not retried within the run. Either way the caller
keeps the alert pending, so nothing is lost. The `Idempotency-Key` header carries the
alert id: a receiver can drop a repeat if a crash came between its answer and our record.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

RETRYABLE = {408, 425, 429}


@dataclass
class PostResult:
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def post_json(
    url: str,
    payload: dict,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 10.0,
    idempotency_key: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PostResult:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "miner-alerts/1"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    status, error = None, None
    for attempt in range(1, retries + 2):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
            if 200 <= status < 300:
                return PostResult(True, attempt, status)
            error = f"HTTP {status}"
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            if 400 <= exc.code < 500 and exc.code not in RETRYABLE:
                return PostResult(False, attempt, status, error)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status, error = None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt <= retries:
            sleep(backoff * 2 ** (attempt - 1))
    return PostResult(False, retries + 1, status, error)
