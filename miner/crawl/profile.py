"""Site profiles: what to crawl on a site and what to take from its pages (YAML, user-written).

Validation walks the composed YAML nodes, so an error names the file and line of the bad value
(`zh-board.yaml:12: ...`), and compiles every pattern and selector before anything is fetched.
The format is in docs/crawl.md; examples in docs/sites/.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from lxml import etree

from ..errors import InputError, UsageError
from .urls import normalise

MAX_BYTES = 200_000
_STR = "tag:yaml.org,2002:str"
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")

TOP = {"site", "base", "start", "sitemap", "listing", "item", "same_host", "drop_params", "keep_params",
       "encoding", "fields", "replies", "politeness", "budget", "traps"}
FIELDS = ("title", "body", "date", "company", "rating", "answer")
REPLY_FIELDS = ("each", "body", "date", "id")
SELECTOR_KEYS = {"css", "xpath", "attr", "regex"}
POLITENESS = {"delay": 2.0, "user_agent": None, "timeout": 30.0, "max_retries": 3, "backoff": 2.0,
              "max_retry_after": 600.0}
BUDGET = {"max_pages": 0, "max_bytes": 0, "max_page_bytes": 5_000_000}
TRAPS = {"max_fruitless": 3, "max_depth": 0}


@dataclass(frozen=True)
class Selector:
    """A CSS or XPath expression, optionally the value of an attribute and a regex's match in it."""

    source: str
    find: etree.XPath
    attr: str | None = None
    regex: re.Pattern[str] | None = None

    def values(self, el, text_of) -> list[str]:
        """Each match under `el` as text (`text_of(element)` for elements)."""
        out = []
        for found in self.find(el):
            if isinstance(found, str):
                value = str(found)
            elif self.attr:
                value = found.get(self.attr) or ""
            else:
                value = text_of(found)
            value = value.strip()
            if self.regex is not None and value:
                m = self.regex.search(value)
                value = (m.group(1) if m and m.groups() else m.group(0)) if m else ""
            if value:
                out.append(value)
        return out

    def elements(self, el) -> list:
        return [found for found in self.find(el) if not isinstance(found, str)]


@dataclass(frozen=True)
class Profile:
    site: str
    start: tuple[str, ...]
    sitemap: str | None = None
    listing: tuple[re.Pattern[str], ...] = ()
    item: tuple[re.Pattern[str], ...] = ()
    same_host: bool = True
    drop_params: frozenset[str] = frozenset()
    keep_params: frozenset[str] = frozenset()
    encoding: str | None = None
    fields: dict[str, Selector] = field(default_factory=dict)
    replies: dict[str, Selector] = field(default_factory=dict)
    politeness: dict = field(default_factory=lambda: dict(POLITENESS))
    budget: dict = field(default_factory=lambda: dict(BUDGET))
    traps: dict = field(default_factory=lambda: dict(TRAPS))
    source: str = ""  # the file (or URL) it came from
    sha256: str = ""
    depth: int | None = None  # the no-profile mode's --depth

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(urlsplit(u).netloc for u in (*self.start, *([self.sitemap] if self.sitemap else [])))

    def kind_of(self, path_query: str) -> str | None:
        """item, listing, or None (not followed). Without patterns every page is an item."""
        if not self.listing and not self.item:
            return "item"
        if any(p.search(path_query) for p in self.item):
            return "item"
        if any(p.search(path_query) for p in self.listing):
            return "listing"
        return None


class _Where:
    def __init__(self, name: str):
        self.name = name

    def fail(self, node, message: str, hint: str = "See docs/crawl.md for the profile format.") -> InputError:
        line = node.start_mark.line + 1 if node is not None else 1
        return InputError("E461", f"{self.name}:{line}: {message}", hint)


def _mapping(node, w: _Where, what: str, allowed) -> dict:
    if not isinstance(node, yaml.MappingNode):
        raise w.fail(node, f"{what} must be a mapping ({', '.join(sorted(allowed))}).")
    out: dict = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise w.fail(k, f"{what} has a key that is not text.")
        if k.value in out:
            raise w.fail(k, f"{what} has the key {k.value!r} twice.")
        if k.value not in allowed:
            raise w.fail(k, f"unknown key {k.value!r} in {what}; allowed: {', '.join(sorted(allowed))}.")
        out[k.value] = (k, v)
    return out


def _text(node, w: _Where, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
        raise w.fail(node, f"{what} must be text.")
    value = node.value.strip()
    if not value:
        raise w.fail(node, f"{what} is empty.")
    return value


def _texts(node, w: _Where, what: str) -> list[tuple[str, object]]:
    """A string or a list of strings, each with its node."""
    if isinstance(node, yaml.ScalarNode):
        return [(_text(node, w, what), node)]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise w.fail(node, f"{what} must be text or a non-empty list of texts.")
    return [(_text(item, w, f"an entry of {what}"), item) for item in node.value]


def _number(node, w: _Where, what: str, *, integer: bool = False, minimum: float = 0.0) -> float | int:
    value = None
    if isinstance(node, yaml.ScalarNode):
        try:
            value = int(node.value) if integer else float(node.value)
        except ValueError:
            value = None
    if value is None or value < minimum or value != value:
        kind = "a whole number" if integer else "a number"
        raise w.fail(node, f"{what} must be {kind} of at least {minimum:g}, not {getattr(node, 'value', '?')!r}.")
    return value


def _regex(node, w: _Where, what: str) -> re.Pattern[str]:
    text = _text(node, w, what)
    try:
        return re.compile(text)
    except re.error as exc:
        raise w.fail(node, f"{what} {text!r} is not a valid regular expression ({exc}).",
                     "Python regular expression syntax; quote it in single quotes.") from None


def _selector(node, w: _Where, what: str, *, element: bool = False) -> Selector:
    """`h1.title` (CSS) or {css|xpath: ..., attr: ..., regex: ...}."""
    if isinstance(node, yaml.ScalarNode):
        spec = {"css": (node, node)}
    else:
        spec = _mapping(node, w, what, SELECTOR_KEYS)
    if ("css" in spec) == ("xpath" in spec):
        if not (element is False and "attr" in spec and len(spec) == 1):
            raise w.fail(node, f"{what} needs exactly one of css or xpath.")
    attr = _text(spec["attr"][1], w, f"{what}.attr") if "attr" in spec else None
    regex = _regex(spec["regex"][1], w, f"{what}.regex") if "regex" in spec else None
    if element and (attr or regex):
        raise w.fail(node, f"{what} selects elements: attr and regex do not apply.")
    if "css" in spec:
        source = _text(spec["css"][1], w, f"{what}.css")
        try:
            from lxml.cssselect import CSSSelector  # needs the cssselect package

            find = etree.XPath(CSSSelector(source).path)
        except Exception as exc:  # cssselect.SelectorError and its kin
            raise w.fail(spec["css"][1], f"{what}: {source!r} is not a valid CSS selector ({exc}).",
                         "Check the selector in a browser's developer tools.") from None
    elif "xpath" in spec:
        source = _text(spec["xpath"][1], w, f"{what}.xpath")
        try:
            find = etree.XPath(source)
        except etree.XPathError as exc:
            raise w.fail(spec["xpath"][1], f"{what}: {source!r} is not a valid XPath expression ({exc}).",
                         "Check the expression, e.g. //div[@class='post'].") from None
    else:  # only attr: the value of an attribute of the element itself (a reply's id)
        source, find = ".", etree.XPath(".")
    return Selector(source, find, attr, regex)


def _url(value: str, node, w: _Where, base: str | None, what: str) -> str:
    url = normalise(value, base)
    if url is None:
        raise w.fail(node, f"{what} {value!r} is not an http(s) URL" + ("" if base else " (relative URLs need base:)") + ".")
    return url


def parse_profile(text: str, name: str = "<profile>", *, base_override: str | None = None) -> Profile:
    """Validate profile YAML text; InputError E651 (with `name:line`) on the first problem."""
    w = _Where(name)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError("E461", f"{name}:{line}: not valid YAML ({exc.problem}).", "Check the indentation and quoting there.") from None
    except yaml.YAMLError as exc:
        raise InputError("E461", f"{name}: not valid YAML ({exc}).", "Check the file.") from None
    except RecursionError:
        raise InputError("E461", f"{name}: lists or mappings nested too deeply to be read.", "Check the brackets: a few levels of nesting are enough.") from None
    if root is None:
        raise InputError("E461", f"{name}:1: the profile is empty.", "See docs/crawl.md for the profile format.")
    top = _mapping(root, w, "the profile", TOP)
    if "site" not in top:
        raise w.fail(root, "the profile has no 'site' (a short name for the site).")
    site = _text(top["site"][1], w, "site")
    if not _SITE.match(site):
        raise w.fail(top["site"][1], f"site {site!r} must be letters, digits, '.', '_' or '-' (at most 64).")
    base = None
    if "base" in top:
        base = _url(_text(top["base"][1], w, "base"), top["base"][1], w, None, "base")
    if base_override:
        base = normalise(base_override)
        if base is None:
            raise UsageError("E463", f"--base {base_override!r} is not an http(s) URL.", "Give e.g. http://127.0.0.1:8080.")
    start = tuple(_url(v, n, w, base, "start URL") for v, n in _texts(top["start"][1], w, "start")) if "start" in top else ()
    sitemap = None
    if "sitemap" in top:
        sitemap = _url(_text(top["sitemap"][1], w, "sitemap"), top["sitemap"][1], w, base, "sitemap")
    if not start and not sitemap:
        raise w.fail(root, "the profile needs start URLs (start:) or a sitemap (sitemap:).")
    listing = tuple(_regex(n, w, "a listing pattern") for _, n in _texts(top["listing"][1], w, "listing")) if "listing" in top else ()
    item = tuple(_regex(n, w, "an item pattern") for _, n in _texts(top["item"][1], w, "item")) if "item" in top else ()
    if listing and not item:
        raise w.fail(top["listing"][1], "listing patterns without item patterns store nothing; add item:.")
    same_host = True
    if "same_host" in top:
        node = top["same_host"][1]
        if not isinstance(node, yaml.ScalarNode) or node.value.lower() not in ("true", "false", "yes", "no"):
            raise w.fail(node, "same_host must be true or false.")
        same_host = node.value.lower() in ("true", "yes")
    params = {}
    for key in ("drop_params", "keep_params"):
        params[key] = frozenset(v.lower() for v, _ in _texts(top[key][1], w, key)) if key in top else frozenset()
    encoding = None
    if "encoding" in top:
        import codecs

        encoding = _text(top["encoding"][1], w, "encoding")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise w.fail(top["encoding"][1], f"unknown encoding {encoding!r}.", "Use a codec name such as utf-8, gb18030, big5, cp1256.") from None
    fields: dict[str, Selector] = {}
    if "fields" in top:
        spec = _mapping(top["fields"][1], w, "fields", set(FIELDS))
        fields = {k: _selector(v, w, f"fields.{k}") for k, (_, v) in spec.items()}
        if "body" not in fields:
            raise w.fail(top["fields"][1], "fields needs a body selector (the complaint's text).")
    replies: dict[str, Selector] = {}
    if "replies" in top:
        spec = _mapping(top["replies"][1], w, "replies", set(REPLY_FIELDS))
        if "each" not in spec or "body" not in spec:
            raise w.fail(top["replies"][1], "replies needs each (one element per reply) and body.")
        replies = {k: _selector(v, w, f"replies.{k}", element=(k == "each")) for k, (_, v) in spec.items()}
    sections = {}
    for key, defaults in (("politeness", POLITENESS), ("budget", BUDGET), ("traps", TRAPS)):
        values = dict(defaults)
        if key in top:
            for k, (_, v) in _mapping(top[key][1], w, key, set(defaults)).items():
                if k == "user_agent":
                    values[k] = _text(v, w, f"{key}.{k}")
                else:
                    values[k] = _number(v, w, f"{key}.{k}", integer=isinstance(defaults[k], int))
        sections[key] = values
    return Profile(
        site=site, start=start, sitemap=sitemap, listing=listing, item=item, same_host=same_host,
        drop_params=params["drop_params"], keep_params=params["keep_params"], encoding=encoding, fields=fields,
        replies=replies, politeness=sections["politeness"], budget=sections["budget"], traps=sections["traps"],
        source=name, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_profile(path: str | Path, *, base_override: str | None = None) -> Profile:
    p = Path(path)
    if not p.is_file():
        raise InputError("E460", f"no site profile at {path}.", "Give a YAML profile (see docs/sites/ for examples) or a start URL.")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError("E460", f"cannot read {path} ({exc.strerror or exc}).", "Check its permissions.") from None
    if len(data) > MAX_BYTES:
        raise InputError("E461", f"{p.name}:1: the profile is larger than {MAX_BYTES // 1000} KB.", "A profile is a few dozen lines.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("E461", f"{p.name}:1: not UTF-8 text.", "Save the profile as UTF-8.") from None
    profile = parse_profile(text, p.name, base_override=base_override)
    return Profile(**{**profile.__dict__, "source": str(p.resolve())})


def url_profile(url: str, *, depth: int = 2, same_host: bool = True) -> Profile:
    """The profile of `miner crawl URL`: that page and links up to `depth` away, main content of each."""
    start = normalise(url)
    if start is None:
        raise UsageError("E462", f"{url!r} is neither a profile file nor an http(s) URL.",
                         "Give a site profile (.yaml) or a URL such as https://example.com/complaints.")
    if depth < 0:
        raise UsageError("E463", "--depth cannot be negative.", "Use 0 for the page alone, 2 by default.")
    host = urlsplit(start).netloc
    return Profile(site=host, start=(start,), same_host=same_host, source=start,
                   sha256=hashlib.sha256(start.encode()).hexdigest(), depth=depth)
