"""Main-text extraction from one HTML page (complaint boards, forums, review sites).

`extract_main_text` uses trafilatura (comments included, so forum replies are kept) and
falls back to a plain lxml walk over <body> when trafilatura finds nothing. It never
fetches anything and never raises on broken HTML. Decoding bytes and cleaning the text
(`miner.ingest.clean.clean_text`) are the caller's business.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

# trafilatura drops non-printable characters, among them ZWNJ/ZWJ that Persian spelling
# (می‌کنم) and emoji sequences need: carry them through as rare printable stand-ins.
_KEEP = {"\u200c": "\U00011ff0", "\u200d": "\U00011ff1"}
_RESTORE = str.maketrans({v: k for k, v in _KEEP.items()})

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPACES = re.compile(r"[^\S\n]+")

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul", "caption",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas", "select", "option"}
_LAYOUT_INNER = ("p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                 "section", "article")
_TABLE_PARTS = {"tbody", "thead", "tfoot", "tr", "td", "th", "caption"}


def _empty_meta() -> dict[str, Any]:
    return {"title": None, "date": None}


def _parse(html: str) -> lxml.html.HtmlElement | None:
    html = _XML_DECL.sub("", html, count=1)  # lxml refuses str input with an encoding declaration
    html = _BAD_CHARS.sub("", html)
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        try:
            return lxml.html.fromstring(html)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None


def _protect_joiners(tree: lxml.html.HtmlElement) -> None:
    for el in tree.iter():
        if el.text and ("\u200c" in el.text or "\u200d" in el.text):
            el.text = el.text.replace("\u200c", _KEEP["\u200c"]).replace("\u200d", _KEEP["\u200d"])
        if el.tail and ("\u200c" in el.tail or "\u200d" in el.tail):
            el.tail = el.tail.replace("\u200c", _KEEP["\u200c"]).replace("\u200d", _KEEP["\u200d"])


def _unwrap_layout_tables(tree: lxml.html.HtmlElement) -> None:
    """Turn layout tables (cells holding paragraphs or divs, as on Discuz/phpBB boards) into
    divs: trafilatura would otherwise flatten a whole thread into one "| cell | cell |" row."""

    def unwrap(el: etree._Element) -> None:
        el.tag = "div"
        for child in el:
            if isinstance(child.tag, str) and child.tag in _TABLE_PARTS:
                if child.tag in ("td", "th", "caption"):
                    child.tag = "div"
                else:
                    unwrap(child)

    for table in list(tree.iter("table")):
        if table.tag != "table":  # already unwrapped as part of an outer table
            continue
        if any(d is not table and isinstance(d.tag, str) and d.tag in _LAYOUT_INNER for d in table.iterdescendants()):
            unwrap(table)


def element_text(el: etree._Element) -> str:
    """Text of one element (a post, a reply found by a selector) with block elements and <br> on
    their own lines; scripts, styles and forms left out; spaces collapsed."""
    parts: list[str] = []

    def walk(node: etree._Element, top: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP_TAGS or not tag:  # comments, processing instructions
            if node.tail and not top:
                parts.append(node.tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if tag == "br":
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child, False)
        if block:
            parts.append("\n")
        if node.tail and not top:
            parts.append(node.tail)

    walk(el, True)
    lines = (_SPACES.sub(" ", ln).strip() for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln).translate(_RESTORE)


def _fallback_text(tree: lxml.html.HtmlElement) -> str:
    """Text of <body> with block elements on their own lines."""
    body = tree.find(".//body")
    return element_text(body if body is not None else tree)


def _fallback_title(tree: lxml.html.HtmlElement) -> str | None:
    for path in (".//title", ".//h1"):
        el = tree.find(path)
        if el is not None:
            text = _SPACES.sub(" ", el.text_content()).strip()
            if text:
                return text
    return None


def _join(*chunks: str | None) -> str:
    lines = []
    for chunk in chunks:
        if chunk:
            lines.extend(ln.strip() for ln in chunk.split("\n"))
    return "\n".join(ln for ln in lines if ln)


def extract_main_text(html: str) -> tuple[str, dict[str, Any]]:
    """Main content of one HTML page as plain text, and {"title": ..., "date": "YYYY-MM-DD" or None}.

    Paragraphs (and forum replies, which are kept) are separated by "\\n". Returns ("", meta)
    for input that holds no text; never raises on broken HTML.
    """
    meta = _empty_meta()
    if not isinstance(html, str) or not html.strip():
        return "", meta
    try:
        tree = _parse(html)
        if tree is None:
            return "", meta
        _protect_joiners(tree)
        _unwrap_layout_tables(tree)
        spare = copy.deepcopy(tree)  # trafilatura prunes the tree it is given
        text = ""
        try:
            # favor_recall keeps every post of a forum thread; clean_text removes what is noise
            doc = trafilatura.bare_extraction(
                tree, include_comments=True, with_metadata=True, favor_recall=True,
                include_tables=True, include_images=False, include_links=False,
                date_extraction_params={"original_date": True, "extensive_search": True},
            )
        except Exception:  # trafilatura has many internal failure modes; fall back below
            doc = None
        if doc is not None:
            text = _join(getattr(doc, "text", None), getattr(doc, "comments", None))
            meta["title"] = getattr(doc, "title", None) or None
            date = getattr(doc, "date", None)
            meta["date"] = date if isinstance(date, str) and _DATE.match(date) else None
        if not text:
            text = _fallback_text(spare)
        if meta["title"] is None:
            meta["title"] = _fallback_title(spare)
        if meta["title"]:
            meta["title"] = meta["title"].translate(_RESTORE)
        return text.translate(_RESTORE), meta
    except Exception:  # last resort: the contract is "never raise on broken HTML"
        return "", _empty_meta()
