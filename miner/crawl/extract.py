"""What the crawler takes from a fetched page: its text (decoded as ingest decodes files), its
links, and its records: with a profile's selectors, the complaint (title, body, date, company,
rating, the company's answer) and each reply; without, the page's main content (trafilatura,
replies kept) as one record. Cleaning, redaction, language and the rest are ingest's, later.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from ..ingest.encoding import decode_bytes, html_declared_charset, normalise_codec
from ..ingest.clean import line_noise
from ..ingest.html import element_text
from ..ingest.lines import Line, SiteLines, page_lines
from ..ingest.mapping import parse_date, parse_score
from .profile import Profile
from .urls import normalise

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Record:
    kind: str  # complaint | reply | page
    external_id: str
    text: str
    created_at: str | None = None
    score: float | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class Page:
    text: str  # the decoded HTML
    encoding: str
    tree: lxml.html.HtmlElement | None


def decode_page(body: bytes, header_charset: str | None, forced: str | None) -> Page:
    """Bytes to text as ingest decodes an .html file: a forced codec, else BOM, strict UTF-8,
    the HTTP charset or <meta charset> (gb2312 read as GB18030), then detection."""
    declared = None
    for name in (header_charset, None):
        try:
            declared = normalise_codec(name) if name else html_declared_charset(body)
        except Exception:  # an unknown charset in a header: ignore it
            continue
        if declared:
            break
    text, codec, _ = decode_bytes(body, forced, declared)
    tree = None
    cleaned = _BAD_CHARS.sub("", _XML_DECL.sub("", text, count=1))
    if cleaned.strip():
        try:
            tree = lxml.html.document_fromstring(cleaned)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            tree = None
    return Page(text, codec, tree)


def links(page: Page, url: str, profile: Profile) -> list[str]:
    """Normalised http(s) links of the page (<a href>, <link rel=next|prev>), in page order, once each."""
    if page.tree is None:
        return []
    base = url
    base_el = page.tree.find(".//base[@href]")
    if base_el is not None:
        base = normalise(base_el.get("href", ""), url) or url
    out: dict[str, None] = {}
    for el in page.tree.iter("a", "link", "area"):
        if el.tag == "link" and (el.get("rel") or "").lower() not in ("next", "prev", "previous"):
            continue
        if "nofollow" in (el.get("rel") or "").lower().split():
            continue
        href = el.get("href")
        if not href:
            continue
        target = normalise(href, base, drop_params=profile.drop_params, keep_params=profile.keep_params)
        if target:
            out.setdefault(target, None)
    return list(out)


def sitemap_urls(body: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index; ([], []) when unreadable."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return [], []
    pages, nested = [], []
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "loc" or not (el.text or "").strip():
            continue
        parent_is_index = root.tag.rsplit("}", 1)[-1] == "sitemapindex"
        (nested if parent_is_index else pages).append(el.text.strip())
    return pages, nested


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _date(value: str | None, warnings: Counter, meta: dict, key: str) -> str | None:
    if not value:
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError, OSError):
        warnings["unreadable_date"] += 1
        meta[key] = value
        return None


class Cleaner:
    """Lines of an element with the page-noise ones left out (`miner.ingest.clean.line_noise`:
    the rules and the line model, which knows link density and, through `site`, the lines the
    site's other pages carry). `seen` collects a page's lines; `done` adds them to the site."""

    def __init__(self, site: SiteLines, dropped: Counter):
        self.site, self.dropped = site, dropped
        self.seen: list[Line] = []

    def __call__(self, el) -> str:
        lines = page_lines(el)
        reasons = line_noise(lines, site=self.site)
        self.seen.extend(lines)
        for r in reasons:
            if r:
                self.dropped[r] += 1
        return "\n".join(l.text for l, r in zip(lines, reasons) if r is None)

    def done(self) -> None:
        self.site.add(self.seen)
        self.seen = []


def records(page: Page, url: str, profile: Profile, warnings: Counter, cleaner: Cleaner) -> list[Record]:
    """The page's complaint and replies by the profile's selectors, or its main content as one
    record; text fields (body, replies, the answer) lose their page-noise lines here."""
    try:
        return _records(page, url, profile, warnings, cleaner)
    finally:
        cleaner.done()


def _records(page: Page, url: str, profile: Profile, warnings: Counter, cleaner: Cleaner) -> list[Record]:
    if page.tree is None:
        return []
    if not profile.fields:
        body = page.tree.find(".//body")
        text = cleaner(body if body is not None else page.tree)
        if not text.strip():
            return []
        title = page.tree.findtext(".//title")
        meta = {"title": " ".join(title.split())} if title and title.strip() else {}
        return [Record("page", url, text, None, None, meta)]
    tree, f = page.tree, profile.fields
    meta: dict = {}
    title = _first(f["title"].values(tree, element_text)) if "title" in f else None
    body = "\n".join(f["body"].values(tree, cleaner))
    out: list[Record] = []
    if body.strip():
        text = body if not title or body.startswith(title) else f"{title}\n{body}"
        if title:
            meta["title"] = title
        for key in ("company", "answer"):
            if key in f:
                value = "\n".join(f[key].values(tree, cleaner)) if key == "answer" else _first(f[key].values(tree, element_text))
                if value:
                    meta[key] = value
        created = _date(_first(f["date"].values(tree, element_text)), warnings, meta, "date") if "date" in f else None
        score = None
        if "rating" in f:
            raw = _first(f["rating"].values(tree, element_text))
            try:
                score = parse_score(raw) if raw else None
            except ValueError:
                warnings["unreadable_score"] += 1
                meta["rating"] = raw
        out.append(Record("complaint", url, text, created, score, meta))
    r = profile.replies
    if r:
        for el in r["each"].elements(tree):
            reply = "\n".join(r["body"].values(el, cleaner))
            if not reply.strip():
                continue
            reply_meta: dict = {"reply_to": url}
            anchor = _first(r["id"].values(el, element_text)) if "id" in r else None
            anchor = anchor or hashlib.sha256(reply.encode("utf-8")).hexdigest()[:16]
            created = _date(_first(r["date"].values(el, element_text)), warnings, reply_meta, "date") if "date" in r else None
            out.append(Record("reply", f"{url}#reply-{anchor}", reply, created, None, reply_meta))
    return out
