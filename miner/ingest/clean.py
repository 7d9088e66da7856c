"""Cleaning of noisy web and complaint text.

`clean_text` repairs mojibake, normalises Unicode (NFKC), removes invisible characters and
inline pinyin, drops page boilerplate, spam and machine-translation placeholder lines, and
normalises whitespace. The phrase lists live in models/cleaning.yaml (user-editable).

Line filters are conservative: a line is dropped only when it is (nearly) all noise, when
it carries a decisive marker (©, "we use cookies", "请文明发言") and is short, or when it
matches a spam signature. Navigation-only rules (menus, breadcrumbs, "Share on Facebook")
apply to multi-line texts only: a one-line tweet or survey answer is someone's message.

Short single-line texts take a fast path: cheap checks (ASCII? printable? already NFKC?
mojibake markers? a character pre-check before the CJK phrase scan) skip every expensive
step that has nothing to do; a typical tweet costs 5-30 microseconds.

Not done here: Arabic-to-Persian letter normalisation (ي -> ی) and language-specific
folding; matching folds them internally, the output keeps the text's own letters.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import ftfy
import yaml

from miner.errors import UsageError
from miner.paths import model_file

REASONS = ("boilerplate", "spam", "mt_placeholder")
PAGE_REASONS = (*REASONS, "noise")  # noise: lines of a page the line model drops that no rule names

# ---------------------------------------------------------------------------------------
# Character level
# ---------------------------------------------------------------------------------------

_SURROGATES = re.compile("[\ud800-\udfff]")
# A UTF-8 lead byte read as Latin-1/cp1252 followed by a continuation byte read the same way:
# "Ã©", "â€™", "å®½", "Ð¿", "Ø§". Only then is ftfy worth running.
_MOJIBAKE_HINT = re.compile(
    "[\xc2-\xf4][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_NEWLINES = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Controls and invisible format characters. ZWNJ/ZWJ (U+200C/D) are kept: Persian and
# Indic spelling and emoji sequences need them. Tabs and newlines are handled separately.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffc\ufffe\uffff]"
)
_HSPACE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# ---------------------------------------------------------------------------------------
# Inline pinyin: 細(xì)節(jié) -> 細節, 细 (xì) 节 (jié) -> 细节
# ---------------------------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN}]")
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_TONE_BASE = str.maketrans(_TONED, "aaaaeeeeiiiioooouuuuüüüünnnm")
_SYL = f"[a-zü{_TONED}]{{1,6}}[1-5]?"
_PINYIN_ANN = re.compile(
    rf"(?<=[{_HAN}])[ \t]?\(({_SYL}(?:[ '\-]{_SYL})*)\)"
    rf"(?:[ \t](?=[{_HAN}、。,.!?;:」』)]))?"
)
_VALID_SYLLABLE = re.compile(
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|üan|van|ai|an|ao|ei|en|er|ia|ie|in|iu"
    r"|ou|ua|ue|üe|ve|ui|un|ün|vn|uo|a|e|i|o|u|ü|v)r?|ng|n|m)"
)


def _is_pinyin(annotation: str, require_tone: bool) -> bool:
    """True when every syllable is valid pinyin (and, if asked, one carries a tone)."""
    toned = False
    for syl in re.split(r"[ '\-]", annotation):
        if syl[-1].isdigit():
            toned = True
            syl = syl[:-1]
        base = syl.translate(_TONE_BASE)
        if base != syl:
            toned = True
        if not syl or not _VALID_SYLLABLE.fullmatch(base):
            return False
    return toned or not require_tone


def _strip_pinyin(text: str) -> str:
    # Toneless annotations like 的(de) are removed only when the text clearly carries
    # pinyin annotations elsewhere, so "我(me)" in an ordinary text survives.
    toned = sum(1 for m in _PINYIN_ANN.finditer(text) if _is_pinyin(m.group(1), True))
    if not toned:
        return text
    require_tone = toned < 2

    def repl(m: re.Match[str]) -> str:
        return "" if _is_pinyin(m.group(1), require_tone) else m.group(0)

    return _PINYIN_ANN.sub(repl, text)


# ---------------------------------------------------------------------------------------
# Line rules, compiled from models/cleaning.yaml
# ---------------------------------------------------------------------------------------

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_NONLETTER = re.compile(r"[\W\d_]+")
# Folding used for matching only (never for output): Arabic yeh/kaf to Persian, no
# diacritics, tatweel or ZWNJ, straight apostrophes.
_FOLD = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": None, "\u200d": None, "\u0640": None,
     "\u2019": "'", "\u2018": "'", "\u0670": None, **{chr(c): None for c in range(0x064B, 0x0660)}}
)
_SENTENCE_END = re.compile(r"[.!?。！？]")
_CJK_RUN = re.compile(f"[{_CJK}]{{2,}}")
_WORD4 = re.compile(f"[^\\W\\d_{_CJK}]{{4,}}")
_LIST_SEP = re.compile(r"[、,;/]")
_MENU_SEP = re.compile(r"[|·•]")
_SEG_STRIP = " \t.:：-–—*•·\"'()[]【】«»"
_CRUMB_SEP = re.compile(r"[>»›→/]")
_FOLD_SPACES = re.compile(r"\s+")
_NONLETTER_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_FOLD_NEEDED = re.compile("[يىك\u200c\u200d\u0640\u2018\u2019\u064b-\u065f\u0670]")


MAX_CHECKED_LINE = 3000  # longer lines are content, not noise
MAX_NAV_LINE = 300  # longest line that navigation / placeholder / weak-spam rules may drop


def _fold(s: str) -> str:
    s = s.lower()
    return s.translate(_FOLD) if not s.isascii() and _FOLD_NEEDED.search(s) else s


def _letters(s: str) -> int:
    return len(_NONLETTER.sub("", s))


def _prep_phrases(items: Iterable[Any], where: str) -> list[str]:
    out = []
    for item in items or []:
        if not isinstance(item, str):
            raise UsageError("E261", f"cleaning.yaml: {where} must list strings, found {item!r}.",
                             "Quote the entry or remove it.")
        p = _fold(unicodedata.normalize("NFKC", item)).strip()
        p = _FOLD_SPACES.sub(" ", p)
        if p:
            out.append(p)
    return out



def _trie(words: Iterable[str]) -> str:
    """A regex alternation factored as a trie: fast with hundreds of phrases."""
    root: dict[str, dict] = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        keys = sorted(k for k in node if k)
        if not keys:
            return ""
        alts = [re.escape(k) + emit(node[k]) for k in keys]
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node else body

    return emit(root)


def _is_wordy(p: str) -> bool:
    """Phrases of spaced scripts match whole words; CJK phrases and symbols match anywhere."""
    return not _CJK_CHAR.search(p) and bool(re.match(r"\w", p)) and bool(re.search(r"\w$", p))


def _phrase_regexes(phrases: Iterable[str]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]:
    """(word regex, free regex, charset of the free phrases' first characters).

    Two separate tries rather than one alternation: sre skips impossible start positions
    only for a pattern that starts with a known character set, which keeps each scan at a
    few microseconds for a tweet.
    """
    phrases = sorted(set(phrases))
    wordy = [p for p in phrases if _is_wordy(p)]
    free = [p for p in phrases if not _is_wordy(p)]
    words = re.compile(r"\b(?:" + _trie(wordy) + r")\b") if wordy else None
    anywhere = re.compile(_trie(free)) if free else None
    # Pre-check on a character every free phrase must contain: its first CJK/symbol character
    # (so "qq空间" does not send every line with a "q" through the full scan).
    firsts = {next((c for c in p if not ("a" <= c <= "z")), p[0]) for p in free}
    first = re.compile("[" + "".join(sorted(re.escape(c) for c in firsts)) + "]") if free else None
    return words, anywhere, first


@dataclass(frozen=True)
class _Rules:
    words: re.Pattern[str] | None  # all phrases of spaced scripts, whole words
    anywhere: re.Pattern[str] | None  # CJK phrases and symbols
    anywhere_first: re.Pattern[str] | None  # cheap pre-check for `anywhere`
    marker_re: re.Pattern[str] | None  # boilerplate.marker_patterns
    group_of: dict[str, str]  # phrase -> marker | mt | fill | strong | weak | nav
    nav_words: re.Pattern[str] | None
    nav_anywhere: re.Pattern[str] | None
    breadcrumb: re.Pattern[str] | None
    ad_label: re.Pattern[str] | None
    places: frozenset[str]
    max_marker_chars: int
    residue_ratio: float
    min_weak: int
    min_places_pipe: int
    min_places_list: int
    min_items_pipe: int
    min_items_enum: int


def _section(data: dict, name: str) -> dict:
    sec = data.get(name) or {}
    if not isinstance(sec, dict):
        raise UsageError("E261", f"cleaning.yaml: section '{name}' must be a mapping.",
                         "See the comments in models/cleaning.yaml for the expected layout.")
    return sec


def _compile_rules(data: Any) -> _Rules:
    if not isinstance(data, dict):
        raise UsageError("E261", "cleaning.yaml must be a mapping with sections boilerplate, spam, mt_placeholder.",
                         "Restore models/cleaning.yaml from the repository.")
    bp, sp, mt = _section(data, "boilerplate"), _section(data, "spam"), _section(data, "mt_placeholder")
    patterns = []
    for p in bp.get("marker_patterns") or []:
        try:
            re.compile(p)
        except (re.error, TypeError) as exc:
            raise UsageError("E261", f"cleaning.yaml: bad marker_patterns entry {p!r}: {exc}.",
                             "Fix the regular expression (Python syntax).") from None
        patterns.append(p)
    # Later groups win when a phrase is listed twice: marker > mt > fill > strong > weak > nav.
    groups = [
        ("nav", _prep_phrases(bp.get("nav_phrases"), "boilerplate.nav_phrases")),
        ("weak", _prep_phrases(sp.get("weak"), "spam.weak")),
        ("strong", _prep_phrases(sp.get("strong"), "spam.strong")),
        ("fill", _prep_phrases(mt.get("fillers"), "mt_placeholder.fillers")),
        ("mt", _prep_phrases(mt.get("phrases"), "mt_placeholder.phrases")),
        ("marker", _prep_phrases(bp.get("markers"), "boilerplate.markers")),
    ]
    group_of = {p: g for g, phrases in groups for p in phrases}
    words, anywhere, first = _phrase_regexes(group_of)
    nav_words, nav_anywhere, _ = _phrase_regexes(groups[0][1])
    heads = _prep_phrases(bp.get("breadcrumb_heads"), "boilerplate.breadcrumb_heads")
    prefixes = _prep_phrases(bp.get("breadcrumb_prefixes"), "boilerplate.breadcrumb_prefixes")
    labels = _prep_phrases(bp.get("ad_labels"), "boilerplate.ad_labels")
    crumb = None
    if heads:
        pre = f"(?:(?:{_trie(prefixes)})\\s*:?\\s*)?" if prefixes else ""
        crumb = re.compile(f"^{pre}(?:{_trie(heads)})\\s*[>»›→/]")
    ad = re.compile(rf"^[\[【(]?\s*(?:{_trie(labels)})\s*(?:[\]】):|\-–—]|$)") if labels else None
    try:
        return _Rules(
            words=words,
            anywhere=anywhere,
            anywhere_first=first,
            marker_re=re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None,
            group_of=group_of,
            nav_words=nav_words,
            nav_anywhere=nav_anywhere,
            breadcrumb=crumb,
            ad_label=ad,
            places=frozenset(_prep_phrases(sp.get("places"), "spam.places")),
            max_marker_chars=int(bp.get("max_marker_chars", 220)),
            residue_ratio=float(bp.get("max_residue_ratio", 0.2)),
            min_weak=int(sp.get("min_weak", 3)),
            min_places_pipe=int(sp.get("min_places_pipe", 5)),
            min_places_list=int(sp.get("min_places_list", 8)),
            min_items_pipe=int(sp.get("min_items_pipe", 8)),
            min_items_enum=int(sp.get("min_items_enum", 12)),
        )
    except (TypeError, ValueError) as exc:
        raise UsageError("E261", f"cleaning.yaml: a numeric setting is not a number ({exc}).",
                         "Use plain numbers for max_marker_chars, max_residue_ratio, min_*.") from None


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    path = model_file("cleaning.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError("E260", f"Cannot read the cleaning rules {path}: {exc.strerror or exc}.",
                         "Restore models/cleaning.yaml from the repository.") from None
    except yaml.YAMLError as exc:
        raise UsageError("E260", f"{path} is not valid YAML: {exc}.",
                         "Fix the YAML syntax (check quotes and indentation).") from None
    return _compile_rules(data)


def reload_rules() -> None:
    """Forget the compiled rules so the next call re-reads models/cleaning.yaml."""
    _rules.cache_clear()


# ---------------------------------------------------------------------------------------
# Line classification
# ---------------------------------------------------------------------------------------


def _edge_place(seg: str, places: frozenset[str], at_end: bool) -> bool:
    """"dépannage box internet paris" ends with a place; "台北市 ..." starts with one."""
    words = seg.split()
    for n in (1, 2, 3):
        if len(words) >= n and " ".join(words[-n:] if at_end else words[:n]) in places:
            return True
    if _CJK_CHAR.search(seg):  # no spaces: "novalink寬頻安裝:台北"
        tail = words[-1] if at_end and words else words[0] if words else ""
        for n in (2, 3, 4):
            if len(tail) >= n and (tail[-n:] if at_end else tail[:n]) in places:
                return True
    return False


def _segment_places(segs: list[str], places: frozenset[str]) -> int:
    n = 0
    last = len(segs) - 1
    for i, seg in enumerate(segs):
        s = seg.strip(_SEG_STRIP)
        if s in places:
            n += 1
        elif (i == 0 and _edge_place(s, places, True)) or (i == last and _edge_place(s, places, False)):
            n += 1
    return n


def _is_list_spam(key: str, r: _Rules) -> bool:
    """SEO lists: "北京|上海|广州|...", "Berlin | Hamburg | ...", long keyword lists."""
    if "|" in key:
        segs = [s for s in key.split("|") if s.strip(_SEG_STRIP)]
        if len(segs) >= r.min_places_pipe:
            places = _segment_places(segs, r.places)
            if places >= r.min_places_pipe and places >= 0.6 * len(segs):
                return True
        if len(segs) >= r.min_items_pipe and sum(len(s.strip()) <= 30 for s in segs) >= 0.8 * len(segs):
            return True
    # Writers who use 、 as a comma end sentences (。？); keyword lists do not.
    if key.count("、") + 1 >= r.min_items_enum and not re.search(r"[。？！?!]", key):
        segs = [s for s in key.split("、") if s.strip()]
        if len(segs) >= r.min_items_enum and sum(len(s.strip()) <= 12 for s in segs) >= 0.8 * len(segs):
            return True
    if len(_LIST_SEP.findall(key)) + 1 >= r.min_places_list:
        segs = [s for s in _LIST_SEP.split(key) if s.strip(_SEG_STRIP)]
    elif (len(key) < 400 and key.count(" ") + 1 >= r.min_places_list
          and len(r.places.intersection(key.split())) >= r.min_places_list):
        segs = key.split()  # "北京 上海 广州 ..." separated by spaces only
    else:
        return False
    places = _segment_places(segs, r.places)
    return places >= r.min_places_list and places >= 0.6 * len(segs)


def _is_stuffing(key: str) -> bool:
    """Keyword stuffing: many tokens, few distinct, no sentences."""
    if len(key) < 30 or len(key) > 1000 or _SENTENCE_END.search(key.rstrip(".!?。！？ ")):
        return False
    if not _CJK_CHAR.search(key):  # cheap pre-check for spaced scripts: repeated words at all?
        words = key.split()
        if len(words) < 8 or len(set(words)) > 0.8 * len(words):
            return False
    tokens = _WORD4.findall(key)
    for run in _CJK_RUN.findall(key):
        tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
    if len(tokens) < 8:
        return False
    counts = Counter(tokens)
    repeated = sum(1 for c in counts.values() if c >= 2)
    return len(counts) <= 0.6 * len(tokens) and repeated >= 3


def _is_menu(key: str, r: _Rules) -> bool:
    """"Accueil | Forums | Actualités | Connexion | S'inscrire": short items, several nav words."""
    if not _MENU_SEP.search(key):
        return False
    segs = [s.strip(_SEG_STRIP) for s in _MENU_SEP.split(key)]
    segs = [s for s in segs if s]
    if len(segs) < 4 or any(len(s) > 25 for s in segs):
        return False
    nav = sum(1 for s in segs if _is_nav(_NONLETTER_EDGES.sub("", s), r))
    return nav >= 2 and nav >= len(segs) / 3



def _is_nav(seg: str, r: _Rules) -> bool:
    return bool((r.nav_words and r.nav_words.fullmatch(seg)) or (r.nav_anywhere and r.nav_anywhere.fullmatch(seg)))


def _scan(key: str, r: _Rules) -> tuple[dict[str, set[str]], Counter[str]]:
    """Phrases found in the folded line, by group, and the letters each group covers."""
    found: dict[str, set[str]] = {}
    covered: Counter[str] = Counter()
    hits: list[str] = []
    if r.words is not None:
        hits.extend(r.words.findall(key))
    if r.anywhere is not None and r.anywhere_first is not None and r.anywhere_first.search(key):
        hits.extend(r.anywhere.findall(key))
    for hit in hits:
        g = r.group_of.get(hit)
        if g is None:  # cannot happen with folded phrases; be safe with odd casings
            continue
        found.setdefault(g, set()).add(hit)
        covered[g] += _letters(hit)
    if r.marker_re is not None and r.marker_re.search(key):
        found.setdefault("marker", set()).add("<pattern>")
    return found, covered


def _classify(line: str, multi: bool, r: _Rules) -> str | None:
    """The reason to drop this (whitespace-normalised, non-empty) line, or None to keep it."""
    n = len(line)
    if n > MAX_CHECKED_LINE:
        return None
    key = _fold(line)
    found, covered = _scan(key, r)

    if found:
        if "marker" in found and n <= r.max_marker_chars and multi:
            return "boilerplate"
        if "mt" in found and n <= MAX_NAV_LINE:
            letters = _letters(key)
            if letters - covered["mt"] - covered["fill"] - covered["nav"] <= r.residue_ratio * letters:
                return "mt_placeholder"
        # A one-line text is someone's whole message: one spam word ("porn", "casino") in a
        # review or tweet is more often a complaint about it than spam, so it takes two.
        if "strong" in found and (multi or len(found["strong"]) >= 2):
            return "spam"
        if len(found.get("weak", ())) >= r.min_weak and n <= MAX_NAV_LINE:
            return "spam"
    if ("|" in key or "、" in key or "," in key or "/" in key or ";" in key or " " in key) and _is_list_spam(key, r):
        return "spam"
    if multi and " " in key and _is_stuffing(key):  # a lone line repeating itself is emphasis
        return "spam"
    if not multi or n > MAX_NAV_LINE:
        return None
    if r.breadcrumb is not None and len(_CRUMB_SEP.findall(key)) >= 2 and r.breadcrumb.search(key):
        return "boilerplate"
    if r.ad_label is not None and r.ad_label.search(key):
        return "boilerplate"
    if "nav" in found and key[-1] not in "?!？！":  # buttons don't ask or shout: "Reply?" is a message
        letters = _letters(key)
        if letters - covered["nav"] <= r.residue_ratio * letters:
            return "boilerplate"
        if _is_menu(key, r):
            return "boilerplate"
    return None


def _rule_detail(line: str, r: _Rules) -> dict:
    """What the rules saw in a line, as numbers for the line model."""
    key = _fold(line)
    found, covered = _scan(key, r)
    letters = _letters(key) or 1
    words = key.split()
    places = sum(1 for w in words if w in r.places) + sum(1 for s in _LIST_SEP.split(key) if s.strip() in r.places)
    return {"nav_cover": min(1.0, covered["nav"] / letters), "weak": len(found.get("weak", ())),
            "strong": len(found.get("strong", ())), "places": places}


def rule_verdicts(texts: list[str]) -> tuple[list[str | None], list[dict]]:
    """Each line's reason to drop by the rules (as lines of a page) and what the rules saw in it."""
    r = _rules()
    texts = [unicodedata.normalize("NFKC", t) if not t.isascii() else t for t in texts]
    return [_classify(t, True, r) if t else None for t in texts], [_rule_detail(t, r) for t in texts]


def line_noise(lines: list, *, site=None, variant: str = "page") -> list[str | None]:
    """The reason to drop each line of a page (`miner.ingest.lines.Line`s), or None to keep it:
    the rules' reason, else "noise" when the line model says so. `site` (a SiteLines of the
    pages seen so far on the same site) adds how common each line is there."""
    from .lines import features, load_model

    verdicts, details = rule_verdicts([l.text for l in lines])
    model = load_model()
    if model is None or not lines:
        return verdicts
    share = site.share(lines) if site is not None else None
    x = features(lines, verdicts, details, share, site.pages if site is not None else 0)
    p = model.noise_probability(x, variant)
    threshold = model.threshold[variant]
    return [v or ("noise" if p[i] >= threshold else None) for i, v in enumerate(verdicts)]


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def _normalise_chars(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        if _SURROGATES.search(text):  # lone surrogates (from bad JSON / decoding)
            text = _SURROGATES.sub("", text)
        if _MOJIBAKE_HINT.search(text):  # before NEL (\x85) handling: it is a mojibake byte too
            try:
                text = ftfy.fix_encoding(text)
            except (UnicodeError, ValueError):  # keep the text as it is rather than fail
                pass
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = _NEWLINES.sub("\n", text)
    elif _NEWLINES.search(text):
        text = _NEWLINES.sub("\n", text)
    if not text.isprintable():
        text = _INVISIBLE.sub("", text)
    if "(" in text and _HAN_RE.search(text):
        text = _strip_pinyin(text)
    return text


def clean_text(text: str) -> tuple[str, dict[str, int]]:
    """Clean one noisy text.

    Returns the cleaned text (lines stripped, spaces collapsed, at most one blank line in a
    row, paragraphs separated by "\\n") and how many lines were dropped per reason:
    {"boilerplate": n, "spam": n, "mt_placeholder": n}.
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_text expects str, got {type(text).__name__}")
    counts = dict.fromkeys(REASONS, 0)
    if not text:
        return "", counts
    r = _rules()
    text = _normalise_chars(text)

    if "\n" not in text:  # fast path: tweets, reviews, survey answers
        line = _HSPACE.sub(" ", text).strip() if not text.isalnum() else text
        if not line:
            return "", counts
        reason = _classify(line, False, r)
        if reason:
            counts[reason] += 1
            return "", counts
        return line, counts

    lines = [_HSPACE.sub(" ", ln).strip() for ln in text.split("\n")]
    multi = sum(1 for ln in lines if ln) > 1
    kept: list[str] = []
    for line in lines:
        if line:
            reason = _classify(line, multi, r)
            if reason:
                counts[reason] += 1
                continue
        kept.append(line)
    out = _MANY_NEWLINES.sub("\n\n", "\n".join(kept)).strip("\n")
    return out, counts
