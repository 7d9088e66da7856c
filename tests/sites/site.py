"""Generated complaint sites: every page of a site is a pure function of (site settings, path,
version), so a test or a benchmark can serve 10 or 100,000 pages without storing any.

Two layouts:
- `board`: a Discuz-style forum (`/forum-1-P.html` listings, `/thread-T-1-1.html` threads whose
  first post is the complaint and the rest are replies, an official answer).
- `reviews`: a complaint site (`/complaints?page=P`, `/complaint/T` with the shop's answer and
  comments, `/sitemap.xml`).

Traps and troubles a polite crawler must handle, each switchable per site: tracking-parameter
and session-id duplicates of links, `#fragment` links, redirecting aliases (`/t/T`, `/c/T`), a
calendar that links to the previous and next month forever, robots.txt rules (and Crawl-delay),
slow pages, 429 with Retry-After, 503 once, 500 always, a thread that gains a reply and a new
thread when `version` goes to 2, spam comments and page noise (navigation, share buttons,
comment policies, machine-translation placeholders, related lists, copyright).
"""

from __future__ import annotations

import hashlib
import html
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .content import LANGS

_FA_1256 = str.maketrans({"ی": "ي", "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6",
                          "۷": "7", "۸": "8", "۹": "9"})


@dataclass
class Page:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Site:
    name: str
    lang: str
    layout: str  # board | reviews
    encoding: str  # the bytes' codec
    declared: str | None = None  # <meta charset>; None = the codec's name
    header_charset: bool = True  # charset in the Content-Type header
    n_items: int = 30
    per_page: int = 10
    version: int = 1
    crawl_delay: float | None = None
    slow_items: dict[int, float] = field(default_factory=dict)
    busy_listing: int | None = None  # this listing page answers 429 (Retry-After) the first time
    retry_after: str = "1"
    flaky_items: set[int] = field(default_factory=set)  # 503 the first time
    broken_items: set[int] = field(default_factory=set)  # 500 always
    changed_item: int = 3  # gains a reply in version 2 (and a new item n+1 appears)
    spam: bool = True
    padding: int = 0  # KB of page weight (scripts, a sidebar of links) added to every page, as real sites carry
    base_date: datetime = datetime(2026, 9, 1, 9, 0)
    hits: dict[str, int] = field(default_factory=dict)
    base: str = ""  # http://127.0.0.1:PORT, set by the server

    # --- what a test checks against ---------------------------------------------------------

    @property
    def content(self) -> dict:
        return LANGS[self.lang]

    def top(self) -> int:
        return self.n_items + (1 if self.version >= 2 else 0)

    def item_path(self, tid: int) -> str:
        return f"/thread-{tid}-1-1.html" if self.layout == "board" else f"/complaint/{tid}"

    def listing_path(self, p: int) -> str:
        return f"/forum-1-{p}.html" if self.layout == "board" else f"/complaints?page={p}"

    def n_listings(self) -> int:
        return max(1, -(-self.top() // self.per_page))

    def item(self, tid: int) -> dict:
        """The complaint, its replies (spam marked) and the shop's answer, as generated."""
        c, rng = self.content, random.Random(f"{self.name}:{tid}")
        title = c["titles"][tid % len(c["titles"])] + f" #{tid}"
        body = rng.sample(c["sentences"], k=min(len(c["sentences"]), rng.randint(3, 5)))
        n_replies = rng.randint(0, 3) + (1 if tid == self.changed_item and self.version >= 2 else 0)
        replies = []
        for k in range(1, n_replies + 1):
            spam = self.spam and (tid + k) % 4 == 0
            if spam:
                text = c["spam"][(tid + k) % len(c["spam"])]
            else:
                picked = rng.sample(c["replies"], k=rng.randint(1, 2))
                text = "".join(picked) if self.lang.startswith("zh") else " ".join(picked)
            if tid == self.changed_item and k == n_replies and self.version >= 2:
                text, spam = c["replies"][0] + f" (#{tid}-{k})", False
            replies.append({"id": f"post-{tid}-{k}", "text": text, "spam": spam,
                            "date": self.date(tid, k)})
        answer = c["answers"][tid % len(c["answers"])] if tid % 3 == 0 else None
        return {"tid": tid, "title": title, "body": body, "replies": replies, "answer": answer,
                "date": self.date(tid, 0), "rating": 1 + tid % 3, "mt": tid % 5 == 1}

    def date(self, tid: int, k: int) -> datetime:
        return self.base_date + timedelta(hours=7 * tid + k)

    def noise(self) -> list[str]:
        """Every noise line the pages carry (none may reach a document's clean text)."""
        c = self.content
        return [*c["spam"], *c["mt"], *c["policy"], c["share"], c["nav"], c["footer"]]

    # --- serving -----------------------------------------------------------------------------

    def respond(self, path: str, if_none_match: str | None = None) -> Page:
        self.hits[path] = self.hits.get(path, 0) + 1
        first = self.hits[path] == 1
        route = path.split("#", 1)[0]
        page = self._route(route, first)
        if page.status == 200 and "ETag" in page.headers and if_none_match == page.headers["ETag"]:
            return Page(304, b"", {"ETag": page.headers["ETag"]}, page.delay)
        return page

    def _route(self, route: str, first: bool) -> Page:
        path, _, query = route.partition("?")
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        if path == "/robots.txt":
            return self._text(self._robots())
        if path == "/":
            return self._html(self._home())
        if path in ("/calendar.php", "/events"):
            return self._html(self._calendar(params.get("month") or params.get("date") or "2026-09"))
        tid = _int_after(path, "/t/") or _int_after(path, "/c/")
        if tid:
            return Page(301, b"", {"Location": self.item_path(tid)})
        page_no = self._listing_number(path, params)
        if page_no:
            if page_no > self.n_listings():
                return Page(404, b"not found")
            if page_no == self.busy_listing and first:
                return Page(429, b"slow down", {"Retry-After": self.retry_after})
            return self._html(self._listing(page_no))
        tid = self._item_number(path)
        if tid and 1 <= tid <= self.top():
            if tid in self.broken_items:
                return Page(500, b"internal error")
            if tid in self.flaky_items and first:
                return Page(503, b"try later")
            page = self._html(self._item(tid))
            page.delay = self.slow_items.get(tid, 0.0)
            return page
        if path == "/sitemap.xml" and self.layout == "reviews":
            urls = "".join(f"<url><loc>{self.base}{self.item_path(t)}</loc></url>" for t in range(1, self.top() + 1))
            return Page(200, f'<?xml version="1.0"?><urlset>{urls}</urlset>'.encode(), {"Content-Type": "application/xml"})
        return Page(404, b"not found")

    def _listing_number(self, path: str, params: dict) -> int | None:
        if self.layout == "board" and path.startswith("/forum-1-") and path.endswith(".html"):
            return _int(path[len("/forum-1-"):-5])
        if self.layout == "reviews" and path == "/complaints":
            return _int(params.get("page", "1"))
        return None

    def _item_number(self, path: str) -> int | None:
        if self.layout == "board" and path.startswith("/thread-") and path.endswith("-1-1.html"):
            return _int(path[len("/thread-"):-len("-1-1.html")])
        if self.layout == "reviews":
            return _int_after(path, "/complaint/")
        return None

    # --- pages -------------------------------------------------------------------------------

    def _robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search", "Disallow: /member.php",
                 "Disallow: /account/"]
        if self.crawl_delay is not None:
            lines.append(f"Crawl-delay: {self.crawl_delay}")
        lines += ["", "User-agent: BadBot", "Disallow: /"]
        if self.layout == "reviews":
            lines += ["", f"Sitemap: {self.base}/sitemap.xml"]
        return "\n".join(lines) + "\n"

    def _chrome(self, title: str, main: str) -> str:
        c = self.content
        charset = self.declared or self.encoding
        nav_links = " | ".join(
            f'<a href="{href}">{html.escape(word)}</a>'
            for href, word in zip(["/", self.listing_path(1), "/search?q=novalink", "/member.php?mod=login", "/account/"],
                                  [w.strip() for w in c["nav"].split("|")])
        )
        direction = ' dir="rtl"' if self.lang == "fa" else ""
        return (
            f'<!DOCTYPE html><html lang="{self.lang}"{direction}><head>'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{html.escape(title)}</title></head><body>"
            f'<div id="hd"><div class="nav">{nav_links}</div>'
            f'<a href="/admin/">admin</a> <a href="{self._calendar_link("2026-09")}">calendar</a></div>'
            f"{main}{self._padding()}"
            f'<div id="ft"><p>{html.escape(c["footer"])}</p></div></body></html>'
        )

    def _padding(self) -> str:
        if not self.padding:
            return ""
        links = "".join(f'<li><a href="{self.item_path(1 + (7 * k) % self.top())}?utm_source=side">#{k}</a></li>' for k in range(40))
        script = "var x=1;" * max(0, (self.padding * 1024 - len(links)) // 8)
        return f'<div class="sidebar"><ul>{links}</ul></div><script>{script}</script>'

    def _calendar_link(self, value: str) -> str:
        return f"/calendar.php?month={value}" if self.layout == "board" else f"/events?date={value}-01"

    def _home(self) -> str:
        links = "".join(f'<li><a href="{self.item_path(t)}">{html.escape(self.item(t)["title"])}</a></li>'
                        for t in range(self.top(), max(0, self.top() - 5), -1))
        return self._chrome(self.name, f'<ul class="latest">{links}</ul><a href="{self.listing_path(1)}">all</a>')

    def _calendar(self, value: str) -> str:
        y, m = int(value[:4]), int(value[5:7])
        prev = f"{y - (m == 1)}-{12 if m == 1 else m - 1:02d}"
        nxt = f"{y + (m == 12)}-{1 if m == 12 else m + 1:02d}"
        return self._chrome(f"{value}", f'<p>{value}</p><a href="{self._calendar_link(prev)}">&lt;</a> '
                                        f'<a href="{self._calendar_link(nxt)}">&gt;</a>')

    def _listing(self, p: int) -> str:
        c, top = self.content, self.top()
        rows = []
        for tid in range(top - (p - 1) * self.per_page, max(0, top - p * self.per_page), -1):
            it = self.item(tid)
            href = self.item_path(tid)
            variant = tid % 5
            if variant == 1:
                href += "?utm_source=weibo&utm_medium=social"
            elif variant == 2:
                href += "#lastpost"
            elif variant == 3:
                href = f"/t/{tid}" if self.layout == "board" else f"/c/{tid}"
            elif variant == 4:
                href += ("&" if "?" in href else "?") + f"sid={hashlib.md5(str(tid).encode()).hexdigest()[:16]}"
            rows.append(f'<li><a href="{href}">{html.escape(it["title"])}</a> '
                        f'<span class="n">{c["reply_word"]} {len(it["replies"])}</span> '
                        f'<a href="{self.item_path(tid)}?spm=list.{p}">#</a></li>')
        pager = []
        if p > 1:
            pager.append(f'<a href="{self.listing_path(p - 1)}">&lt;</a>')
        for q in range(max(1, p - 2), min(self.n_listings(), p + 2) + 1):
            pager.append(f'<a href="{self.listing_path(q)}">{q}</a>')
        if p < self.n_listings():
            pager.append(f'<a href="{self.listing_path(p + 1)}">{html.escape(c["next"])}</a>')
        return self._chrome(f"{c['nav'].split('|')[1].strip()} {p}",
                            f'<ul class="threads">{"".join(rows)}</ul><div class="pg">{" ".join(pager)}</div>')

    def _item(self, tid: int) -> str:
        it, c = self.item(tid), self.content
        body = "".join(f"<p>{html.escape(s)}</p>" for s in it["body"])
        if it["mt"]:
            body = f'<p class="mt">{html.escape(c["mt"][tid % len(c["mt"])])}</p>' + body
        related = "".join(
            f'<li><a href="{self.item_path(r)}?from=related&amp;spm=a2.b{r}&amp;utm_campaign=rel">'
            f'{html.escape(self.item(r)["title"])}</a></li>'
            for r in (tid - 1, tid + 1, tid + 7) if 1 <= r <= self.top()
        )
        policy = html.escape(c["policy"][tid % len(c["policy"])])
        if self.layout == "board":
            posts = "".join(
                f'<div class="post reply" id="{r["id"]}"><em class="date">发表于 {r["date"]:%Y-%m-%d %H:%M}</em>'
                f'<div class="t_f">{html.escape(r["text"])}</div></div>'
                for r in it["replies"]
            )
            answer = (f'<div class="official"><b>{c["answer_word"]}</b><div class="t_f">{html.escape(it["answer"])}</div></div>'
                      if it["answer"] else "")
            main = (
                f'<div class="breadcrumb"><a href="/">{c["nav"].split("|")[0].strip()}</a> &gt; '
                f'<a href="{self.listing_path(1)}">{c["nav"].split("|")[1].strip()}</a> &gt; {html.escape(it["title"])}</div>'
                f'<div id="postlist"><h1 class="subject">{html.escape(it["title"])}</h1>'
                f'<div class="post first" id="post-{tid}-0"><em class="date">发表于 {it["date"]:%Y-%m-%d %H:%M}</em>'
                f'<div class="company">{c["company"]}</div><div class="t_f">{body}</div>'
                f'<div class="share">{html.escape(c["share"])}</div></div>'
                f'<div class="policy">{policy}</div>{answer}{posts}</div>'
                f'<div class="related"><h3>{c["related"]}</h3><ul>{related}</ul></div>'
            )
        else:
            comments = "".join(
                f'<div class="comment" id="{r["id"]}"><time datetime="{r["date"]:%Y-%m-%dT%H:%M}">{r["date"]:%Y-%m-%d}</time>'
                f'<p>{html.escape(r["text"])}</p></div>'
                for r in it["replies"]
            )
            answer = (f'<section class="store-answer"><h3>{c["answer_word"]}</h3><p>{html.escape(it["answer"])}</p></section>'
                      if it["answer"] else "")
            main = (
                f'<main><article class="complaint" data-id="{tid}"><h1>{html.escape(it["title"])}</h1>'
                f'<div class="meta"><span class="shop">{c["company"]}</span> '
                f'<time datetime="{it["date"]:%Y-%m-%dT%H:%M}">{it["date"]:%Y-%m-%d}</time> '
                f'<span class="rating" data-score="{it["rating"]}">{"★" * it["rating"]}</span></div>'
                f'<div class="text">{body}</div><div class="share">{html.escape(c["share"])}</div></article>'
                f'{answer}<section class="comments"><div class="rules">{policy}</div>{comments}</section>'
                f'<aside class="related"><h3>{c["related"]}</h3><ul>{related}</ul></aside></main>'
            )
        return self._chrome(it["title"], main)

    # --- bytes -------------------------------------------------------------------------------

    def _html(self, text: str) -> Page:
        if self.encoding in ("cp1256", "windows-1256"):
            text = text.translate(_FA_1256)
        body = text.encode(self.encoding, errors="xmlcharrefreplace")
        ctype = f"text/html; charset={self.declared or self.encoding}" if self.header_charset else "text/html"
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        return Page(200, body, {"Content-Type": ctype, "ETag": etag,
                                "Last-Modified": f"Mon, 0{self.version} Sep 2026 10:00:00 GMT"})

    def _text(self, text: str) -> Page:
        return Page(200, text.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8"})


def _int(s: str) -> int | None:
    return int(s) if s.isdigit() else None


def _int_after(path: str, prefix: str) -> int | None:
    return _int(path[len(prefix):]) if path.startswith(prefix) else None


def zh_board(**kw) -> Site:
    """Simplified Chinese board in GB18030, declared as gb2312 in <meta> only."""
    return Site(**{"name": "zh-board", "lang": "zh-Hans", "layout": "board", "encoding": "gb18030",
                   "declared": "gb2312", "header_charset": False} | kw)


def tw_board(**kw) -> Site:
    """Traditional Chinese board in Big5."""
    return Site(**{"name": "tw-board", "lang": "zh-Hant", "layout": "board", "encoding": "big5"} | kw)


def fa_site(**kw) -> Site:
    """Persian complaint site in Windows-1256."""
    return Site(**{"name": "fa-site", "lang": "fa", "layout": "reviews", "encoding": "cp1256",
                   "declared": "windows-1256"} | kw)


def vi_site(**kw) -> Site:
    """Vietnamese complaint site in UTF-8."""
    return Site(**{"name": "vi-site", "lang": "vi", "layout": "reviews", "encoding": "utf-8"} | kw)
