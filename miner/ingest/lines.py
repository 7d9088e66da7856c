"""Which lines of a page are the complaint: line features and a small trained line model.

A page (or a selected element of it) becomes lines with what the DOM says about each (how
much of it is link text); each line gets features that hold across languages and sites:
length, letters, digits and symbols, sentence ends, separators (`|`, `_`, `·`, `›`),
repetition of its words, function words (jusText's stop lists for ~100 languages and a
list of CJK particles), script mix, the verdicts and phrase coverage of the cleaning rules
(models/cleaning.yaml), its place on the page and its neighbours, how many other pages of
the same site carry it, and its link density. A logistic regression over them (plain arrays
in models/cleaning-lines.npz, loaded with allow_pickle=False; how it was trained and measured:
models/cleaning-lines.md) gives each line the probability that it is noise.

Two weight vectors: `page` (with the DOM's link density and, in a crawl, the site's other
pages) and `text` (a plain text's lines, where neither is known), used by `clean_text` for
multi-line texts on top of the rules.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from lxml import etree

from ..paths import model_file

MODEL_FILE = "cleaning-lines.npz"

_BLOCK = {"address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption", "footer",
          "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
          "summary", "table", "td", "th", "tr", "ul", "caption", "center", "body"}
_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas", "select", "option",
         "button", "input", "textarea"}
_SPACES = re.compile(r"[^\S\n]+")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_SENT_END = re.compile(r"[.!?。！？؟](?=\s|$|[\"'”’」』)])")
_SEPS = re.compile(r"[|_·•›»/\\]|(?<=\s)[>-](?=\s)")
_LIST_SEPS = re.compile(r"[,，、;；]")
_DATE_TIME = re.compile(r"\d{1,4}[-/.:年月]\d{1,2}")
_COUNT_PAREN = re.compile(r"[(（]\s*\d+\s*[)）]")
_WORD = re.compile(r"[^\W\d_]+", re.U)
_ELLIPSIS = re.compile(r"(\.\.\.|…|……)\s*$")
_CJK_PARTICLES = frozenset("的了是我不在也就都还還和没沒有说說这這那吗嗎呢把被给給让讓很到会會要你他她们們着著过過啊吧呀")
_KANA_PARTICLES = frozenset("のはがをにでともたすいるかなれてだ")

FEATURES = (
    "log_chars", "letters", "digits", "symbols", "sentence_ends", "ends_sentence", "separators", "list_separators",
    "log_tokens", "function_words", "unique_tokens", "cjk", "latin", "mixed_script", "date_time", "count_paren",
    "ellipsis", "rule_boilerplate", "rule_spam", "rule_mt", "nav_cover", "weak_spam", "strong_spam", "places",
    "position", "head", "tail", "repeats_in_page", "prev_short", "next_short", "prev_rule", "next_rule",
    "link_ratio", "has_dom", "site_share", "has_site", "short_line",
)


@dataclass
class Line:
    text: str
    link_chars: int = 0
    dom: bool = False  # link_chars is known

    @property
    def link_ratio(self) -> float:
        return min(1.0, self.link_chars / max(1, len(self.text)))


def page_lines(el: etree._Element) -> list[Line]:
    """The element's text as lines (block elements and <br> end a line), each with the number
    of its characters inside links."""
    lines: list[Line] = []
    buf: list[str] = []
    link = [0]

    def flush() -> None:
        raw = "".join(buf)
        text = _SPACES.sub(" ", raw).strip()
        if text:
            # link characters, scaled to the stripped text
            lines.append(Line(text, min(len(text), link[0]), True))
        buf.clear()
        link[0] = 0

    def walk(node: etree._Element, in_link: bool, top: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or tag in _SKIP:
            if node.tail and not top:
                buf.append(node.tail)
                if in_link:
                    link[0] += len(node.tail.strip())
            return
        tag = tag.lower()
        block = tag in _BLOCK
        if block or tag == "br":
            flush()
        here = in_link or tag == "a"
        if node.text:
            buf.append(node.text)
            if here:
                link[0] += len(_SPACES.sub(" ", node.text).strip())
        for child in node:
            walk(child, here, False)
        if block:
            flush()
        if node.tail and not top:
            buf.append(node.tail)
            if in_link:
                link[0] += len(_SPACES.sub(" ", node.tail).strip())

    walk(el, False, True)
    flush()
    return lines


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    """Function words of many languages (jusText's stop lists), lower case."""
    try:
        import justext
    except ImportError:  # a soft dependency (trafilatura's): the feature is then 0
        return frozenset()
    words: set[str] = set()
    for name in justext.get_stoplists():
        try:
            words.update(w.lower() for w in justext.get_stoplist(name))
        except Exception:  # an unreadable list: skip it
            continue
    return frozenset(words)


def _function_ratio(text: str) -> float:
    cjk = _CJK.findall(text)
    words = [w.lower() for w in _WORD.findall(text)]
    if len(cjk) > len(words):
        if not cjk:
            return 0.0
        return sum(1 for c in cjk if c in _CJK_PARTICLES or c in _KANA_PARTICLES) / len(cjk)
    if not words:
        return 0.0
    stop = _stopwords()
    return sum(1 for w in words if w in stop) / len(words)


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text)
    out: list[str] = []
    for w in words:
        if _CJK.search(w):
            out.extend(w[i:i + 2] for i in range(0, max(1, len(w) - 1), 2))
        else:
            out.append(w.lower())
    return out


def _key(text: str) -> str:
    return hashlib.blake2b(unicodedata.normalize("NFKC", text).casefold().encode("utf-8"), digest_size=8).hexdigest()


class SiteLines:
    """How many pages of one site carry each line: menus, footers and comment policies are on
    every page. Bounded: past `limit` distinct lines, those seen once are forgotten."""

    def __init__(self, limit: int = 50_000):
        self.pages = 0
        self.counts: dict[str, int] = {}
        self.limit = limit

    def share(self, lines: list[Line]) -> list[float]:
        """The share of earlier pages carrying each line (call before `add` for the same page)."""
        if self.pages == 0:
            return [0.0] * len(lines)
        return [self.counts.get(_key(l.text), 0) / self.pages for l in lines]

    def add(self, lines: list[Line]) -> None:
        self.pages += 1
        for key in {_key(l.text) for l in lines}:
            self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.counts) > self.limit:
            self.counts = {k: v for k, v in self.counts.items() if v > 1}


def features(lines: list[Line], rule_verdicts: list[str | None], rule_detail: list[dict],
             site_share: list[float] | None = None, site_pages: int = 0) -> np.ndarray:
    """One row of FEATURES per line."""
    n = len(lines)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    keys = [_key(l.text) for l in lines]
    repeats: dict[str, int] = {}
    for k in keys:
        repeats[k] = repeats.get(k, 0) + 1
    lengths = [len(l.text) for l in lines]
    for i, line in enumerate(lines):
        t = line.text
        chars = max(1, len(t))
        letters = len(_LETTER.findall(t))
        digits = len(_DIGIT.findall(t))
        cjk = len(_CJK.findall(t))
        latin = len(_LATIN.findall(t))
        tokens = _tokens(t)
        seps = len(_SEPS.findall(t))
        detail = rule_detail[i]
        verdict = rule_verdicts[i]
        row = out[i]
        row[0] = math.log1p(len(t))
        row[1] = letters / chars
        row[2] = digits / chars
        row[3] = (chars - letters - digits - t.count(" ")) / chars
        row[4] = min(3, len(_SENT_END.findall(t)))
        row[5] = 1.0 if t[-1:] in ".!?。！？؟)」』\"”" else 0.0
        row[6] = min(1.0, seps / max(1, len(tokens)))
        row[7] = min(1.0, len(_LIST_SEPS.findall(t)) / max(1, len(tokens)))
        row[8] = math.log1p(len(tokens))
        row[9] = _function_ratio(t)
        row[10] = len(set(tokens)) / len(tokens) if tokens else 1.0
        row[11] = cjk / max(1, letters)
        row[12] = latin / max(1, letters)
        row[13] = 1.0 if min(cjk, latin) >= 3 or (latin >= 3 and letters - latin - cjk >= 3) else 0.0
        row[14] = 1.0 if _DATE_TIME.search(t) else 0.0
        row[15] = min(3, len(_COUNT_PAREN.findall(t)))
        row[16] = 1.0 if _ELLIPSIS.search(t) else 0.0
        row[17] = 1.0 if verdict == "boilerplate" else 0.0
        row[18] = 1.0 if verdict == "spam" else 0.0
        row[19] = 1.0 if verdict == "mt_placeholder" else 0.0
        row[20] = detail.get("nav_cover", 0.0)
        row[21] = min(3, detail.get("weak", 0))
        row[22] = min(2, detail.get("strong", 0))
        row[23] = min(5, detail.get("places", 0))
        if line.dom:  # a page's layout; in a plain text (a ticket, an e-mail) the last line is no footer
            row[24] = i / max(1, n - 1)
            row[25] = 1.0 if i < max(1, n * 0.15) else 0.0
            row[26] = 1.0 if i >= n - max(1, n * 0.15) else 0.0
        row[27] = min(3, repeats[keys[i]] - 1)
        row[28] = 1.0 if i > 0 and lengths[i - 1] < 40 else 0.0
        row[29] = 1.0 if i < n - 1 and lengths[i + 1] < 40 else 0.0
        row[30] = 1.0 if i > 0 and rule_verdicts[i - 1] else 0.0
        row[31] = 1.0 if i < n - 1 and rule_verdicts[i + 1] else 0.0
        row[32] = line.link_ratio if line.dom else 0.0
        row[33] = 1.0 if line.dom else 0.0
        known = site_share is not None and site_pages >= 3
        row[34] = site_share[i] if known else 0.0
        row[35] = 1.0 if known else 0.0
        row[36] = 1.0 if len(t) < 25 else 0.0
    return out


@dataclass(frozen=True)
class LineModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: dict[str, np.ndarray]  # "page", "text"
    intercept: dict[str, float]
    threshold: dict[str, float]

    def noise_probability(self, x: np.ndarray, variant: str) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.coef[variant] + self.intercept[variant])))


@lru_cache(maxsize=1)
def load_model() -> LineModel | None:
    """The shipped line model, or None when the file is absent (the rules alone then clean)."""
    path = model_file(MODEL_FILE)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        names = [str(n) for n in z["features"]]
        if tuple(names) != FEATURES:
            return None  # trained on other features: not usable by this version
        return LineModel(
            mean=z["mean"], scale=z["scale"],
            coef={"page": z["coef_page"], "text": z["coef_text"]},
            intercept={"page": float(z["intercept_page"]), "text": float(z["intercept_text"])},
            threshold={"page": float(z["threshold_page"]), "text": float(z["threshold_text"])},
        )
