"""URLs as the crawler keeps them: one spelling per page, and the shapes that give traps away.

`normalise` makes the many spellings of one page one URL (scheme and host in lower case,
default port, dot segments, percent-escapes, fragment, sorted query, tracking parameters and
session ids removed), so a page is fetched once. `shape` replaces every run of digits by 0:
pages of one template share a shape (`/forum-0-0.html`), which trap cut-offs count on.
`trap_reason` names what makes a URL a trap before it is ever requested (too long, a path that
repeats itself, a date far in the future); chains of pages that bring nothing new are cut by
the crawler, which sees what each page brought.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

# Parameters that never change what a page says: campaign tracking and click ids.
TRACKING_PARAMS = frozenset({
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id", "utm_name",
    "utm_reader", "utm_place", "utm_pubreferrer", "utm_swu", "utm_viz_id", "gclid", "gclsrc", "dclid",
    "fbclid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
    "_hsenc", "_hsmi", "mkt_tok", "spm", "scm", "share_source", "share_medium", "share_plat",
    "share_from", "vd_source", "ref_src", "ref_url", "wt_mc", "wt.mc_id", "oly_enc_id", "oly_anon_id",
    "__twitter_impression", "rb_clickid", "s_cid", "cmpid", "trk", "trkcampaign", "sr_share",
})
# Session ids: a new one per visit would make every page new to the crawler.
SESSION_PARAMS = frozenset({
    "sid", "sessionid", "session_id", "session", "phpsessid", "jsessionid", "aspsessionid", "sessid",
    "sess", "cfid", "cftoken", "zenid", "oscsid", "osCsid", "s_id", "sesskey", "ssid",
})
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.I)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_DIGITS = re.compile(r"\d+")
_DEFAULT_PORTS = {"http": 80, "https": 443}

MAX_URL_LENGTH = 500
MAX_SEGMENT_REPEATS = 3  # /a/b/a/b/a/b/...: the same path segment more often than this
FUTURE_DAYS = 62  # a calendar page this far in the future holds nothing yet


def _pct_normalise(part: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what must be."""

    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(0)[1:], 16))
        return ch if ch in _UNRESERVED else m.group(0).upper()

    return quote(_PCT.sub(fix, part), safe=safe + "%")


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def host_of(url: str) -> str:
    """scheme://host[:port] of a normalised URL: what robots.txt and politeness apply to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def normalise(url: str, base: str | None = None, *, drop_params: frozenset[str] = frozenset(),
              keep_params: frozenset[str] = frozenset()) -> str | None:
    """The one spelling of `url` (resolved against `base`), or None for what is not an http(s) page."""
    url = url.strip()
    if base and url.startswith("/") and not url.startswith("//"):
        # Site-absolute links repeat on every page of a site (menus, sidebars): cached by origin.
        return _normalise_cached(url, host_of(base), drop_params, keep_params)
    return _normalise(url, base, drop_params, keep_params)


@lru_cache(maxsize=32768)
def _normalise_cached(url: str, origin: str, drop_params: frozenset[str], keep_params: frozenset[str]) -> str | None:
    return _normalise(url, origin + "/", drop_params, keep_params)


def _normalise(url: str, base: str | None, drop_params: frozenset[str], keep_params: frozenset[str]) -> str | None:
    if not url or url.startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
        return None
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname.rstrip(".").lower()
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        port = parts.port
    except (ValueError, UnicodeError):
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    path = _remove_dot_segments(_pct_normalise(path, safe="/:@!$&'()*+,;="))
    query = ""
    if parts.query:
        dropped = (TRACKING_PARAMS | SESSION_PARAMS | drop_params) - keep_params
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k.lower() not in dropped and not k.lower().startswith("utm_")]
        query = urlencode(sorted(pairs), quote_via=quote, safe="/:@!$'()*,;")
    return urlunsplit((scheme, netloc, path, query, ""))


def path_and_query(url: str) -> str:
    """/path?query of a URL: what profile patterns are matched against."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


@lru_cache(maxsize=32768)
def shape(url: str) -> str:
    """The URL's template: host, path and query keys with every run of digits as 0."""
    parts = urlsplit(url)
    keys = "&".join(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return _DIGITS.sub("0", parts.netloc + unquote(parts.path)) + ("?" + keys if keys else "")


_YMD = re.compile(r"(?<!\d)((?:19|20)\d\d)([-/_.])(0?[1-9]|1[0-2])(?:\2(0?[1-9]|[12]\d|3[01]))?(?!\d)")
_COMPACT = re.compile(r"((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])?")
_DATE_KEYS = frozenset({"date", "day", "d", "ymd", "ym", "month", "m", "time", "t"})


def dates_in(url: str) -> list[date]:
    """Dates a URL carries: 2026-10, 2026/10/01, date=20261001, or year=2026&month=10.

    Eight digits in a path are not read as a date: thread ids look like that too."""
    parts = urlsplit(url)
    found = []
    for m in _YMD.finditer(unquote(parts.path + "?" + parts.query)):
        try:
            found.append(date(int(m.group(1)), int(m.group(3)), int(m.group(4) or 1)))
        except ValueError:
            continue
    params = {k.lower(): v for k, v in parse_qsl(parts.query)}
    for key in _DATE_KEYS & params.keys():
        m = _COMPACT.fullmatch(params[key])
        if m:
            try:
                found.append(date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)))
            except ValueError:
                pass
    y, m = params.get("year") or params.get("y"), params.get("month") or params.get("m")
    if y and m and y.isdigit() and m.isdigit():
        try:
            found.append(date(int(y), int(m), 1))
        except ValueError:
            pass
    return found


def trap_reason(url: str, today: date) -> str | None:
    """Why `url` is a crawler trap on its face (None when nothing says so)."""
    if len(url) > MAX_URL_LENGTH:
        return "url_too_long"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if segments and max(segments.count(s) for s in set(segments)) > MAX_SEGMENT_REPEATS:
        return "repeating_path"
    horizon = today + timedelta(days=FUTURE_DAYS)
    if any(d > horizon for d in dates_in(url)):
        return "future_date"
    return None
