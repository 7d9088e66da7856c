"""Sentence and clause segmentation, so one long complaint can carry several themes.

Rules, in order:

1. Split after line breaks and sentence-final punctuation: . ! ? … and runs of
   them ("!!!", "?!"), CJK 。！？；(also ASCII . ! ? right before or after a CJK
   character, as in "不对.建议"), Arabic/Persian ؟ ۔ ؛ and Devanagari । ॥.
   A period splits only when followed by whitespace, which keeps decimals (1.5),
   versions (5.0.1), URLs and e-mails whole. No split after abbreviations
   (Mr., Dr., z.B., p.ex., i.e., U.S., initials, "No. 5"), German-style ordinals
   ("am 3. Mai"), after "etc." unless an uppercase word follows, nor after an
   ellipsis unless an uppercase word follows.
2. Sentences over MAX_CHARS are cut at clause boundaries before a contrastive
   conjunction (", but", "，但是", "، اما", ", nhưng", ...), then, if still too
   long, at any clause punctuation, then at whitespace, then hard.
3. Fragments too short to carry meaning (< 12 characters and < 4 CJK
   characters: "Hi.", "1.", "OK!") join the previous segment, or the next one
   when they open the text, are a list marker ("1.", "a)") or end with ":".

Offsets are exact: segment.text == input[segment.start:segment.end]; ends are
stripped of whitespace (and zero-width spaces / BOMs). Empty or
whitespace-only input gives [].
`lang` (ISO 639-1, optional) only turns on ordinals written with a period
("3. Mai") for the languages that use them; everything else works on any script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Segment", "segment", "MAX_CHARS", "MIN_CHARS", "MIN_CJK"]

MAX_CHARS = 300  # longer sentences are cut at clause boundaries
MIN_CHARS = 12  # shorter fragments are merged into a neighbour ...
MIN_CJK = 4  # ... unless they hold at least this many CJK characters


@dataclass(frozen=True)
class Segment:
    """One sentence or clause: text == input[start:end]."""

    index: int
    text: str
    start: int
    end: int


_CJK_CLASS = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK = re.compile(f"[{_CJK_CLASS}]")
_STRONG = frozenset("。！？；｡︒؟۔؛।॥")  # always end a sentence
_ANY_TERM = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c.!?…。！？；｡︒؟۔؛।॥]")
_TERM = re.compile(
    r"(?P<nl>[\r\n\u2028\u2029\x85\x0b\x0c]+)"
    r"|(?P<p>[.!?…。！？；｡︒؟۔؛।॥]+)[\"'”’»)\]）」』】》〕〉]*"
)
_WORD_BEFORE = re.compile(r"(\S+)$")
_DOTTED = re.compile(r"\w{1,3}(?:\.\w{1,3})+")  # z.B, p.ex, i.e, U.S, a.m

# Abbreviations (lowercase, without the final period).
_ABBR_NEVER_END = frozenset(
    """mr mrs ms mx dr prof sr sra srta jr st mt vs e.g eg i.e ie cf approx appt dept
    ca vgl z.b zb u.a d.h bzw ggf evtl inkl hr fr str tel resp p.ex mme mlle cie av bd
    ud uds dña dra ing lic sto sta dott sig geb gebr abs abt u.s u.k u.s.a e.u a.m p.m
    т.е т.к т.д ул пр др""".split()
)
_ABBR_BEFORE_DIGIT = frozenset("no nr nos núm num nº art p pp vol fig ext tel".split())
# Languages that write ordinals with a period ("am 3. Mai", "3. května").
_ORDINAL_DOT_LANGS = frozenset("de da nb no nn fi is et lv lt pl cs sk sl hr sr bs hu tr".split())
_MONTHS = frozenset("jan feb mär mar apr mai may jun jul aug sep okt oct nov dez dec".split())
_ABBR_MAY_END = frozenset("etc ecc usw usf inc ltd co corp llc bros".split())

_CONTRAST_WORDS = (
    r"but|however|although|though|whereas|nevertheless|nonetheless|yet|"
    r"pero|sin embargo|aunque|aber|jedoch|allerdings|doch|sondern|"
    r"mais|cependant|pourtant|toutefois|néanmoins|ma|però|tuttavia|invece|"
    r"porém|contudo|todavia|entretanto|mas|maar|echter|но|однако|зато|хотя|"
    r"ama|fakat|ancak|lakin|tapi|tetapi|namun|ale|jednak|lecz|nhưng|tuy nhiên|"
    r"اما|ولی|ولیکن|لیکن|لكن|ولكن|مگر|بل"
)
_CONTRAST_CJK = r"但是|但|可是|不过|不過|然而|却|卻|只是|しかし|でも|だが|けれど|けど|ところが|하지만|그러나|그런데|근데"
# ", but" / "，但是" / "، اما": split right before the conjunction
_CONTRAST_AFTER_PUNCT = re.compile(
    rf"(?:[,;:，；：、،]|\s[-–—])\s*(?=(?:{_CONTRAST_WORDS})\b|{_CONTRAST_CJK})", re.IGNORECASE
)
# "... ولی ..." / "很好但是太贵": the conjunction alone, for sentences still too long
_CONTRAST_BARE = re.compile(
    rf"(?:\s+|(?<=[{_CJK_CLASS}]))(?=(?:but|however|nhưng|اما|ولی|لكن|ولكن|pero|aber|mais|porém)\b"
    r"|但是|可是|不过|不過|しかし|하지만|그러나)",
    re.IGNORECASE,
)
_CLAUSE_PUNCT = re.compile(r"[,;:，；：、،]\s*")
_SPACE_RUN = re.compile(r"\s+")
_LIST_MARKER = re.compile(r"\W*(?:\d{1,3}|[A-Za-z]|[ivxIVX]{1,4})[.)]\W*")
_INVISIBLE = frozenset("\u200b\ufeff")


def _is_boundary(text: str, start: int, end: int, pend: int, ordinal_dot: bool) -> bool:
    """Does the punctuation run text[start:pend] (closers up to `end`) end a sentence?"""
    run = text[start:pend]
    if not _STRONG.isdisjoint(run):
        return True
    if end >= len(text):
        return True
    nxt = text[end]
    if not nxt.isspace():
        # Chinese and Japanese often use ASCII . ! ? with no space after them.
        prev = text[start - 1] if start else ""
        return not nxt.isdigit() and bool(_CJK.match(nxt) or _CJK.match(prev))
    # Followed by whitespace: the first visible character after it decides some cases.
    after = text[end:end + 40].lstrip()
    first = after[:1]
    if set(run) <= {".", "…"} and (len(run) > 1 or run == "…"):
        # Ellipsis: a sentence break only before an uppercase word.
        return first.isupper()
    if run != ".":
        return True  # ! ? ?! !!! and the like
    m = _WORD_BEFORE.search(text, max(0, start - 30), start)
    if m is None:
        return True  # " ." as in tokenised text
    word = m.group(1).lstrip("\"'“‘«([{¿¡").lower()
    if not word:
        return True
    if word in _ABBR_NEVER_END:
        return False
    if word in _ABBR_BEFORE_DIGIT:
        return not first.isdigit()
    if word in _ABBR_MAY_END:
        return first.isupper()
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "J. Smith"
    if len(word) <= 2 and word.isdigit() and (
        first.islower() or ordinal_dot or after[:3].lower() in _MONTHS
    ):
        # "am 3. Mai" is an ordinal; "... app. 2. Crashes" is a list item.
        before = text[max(0, m.start() - 10):m.start()].rstrip()
        return not before or before[-1] in ".!?:;。！？\n"
    if _DOTTED.fullmatch(word) and any(ch.isalpha() for ch in word):
        return False
    return True


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in _INVISIBLE):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in _INVISIBLE):
        e -= 1
    return s, e


def _pack(s: int, e: int, cuts: list[int], limit: int) -> list[tuple[int, int]]:
    """Greedy: pieces as long as possible but within `limit`, cut only at `cuts`."""
    pieces: list[tuple[int, int]] = []
    start, prev = s, s
    for p in cuts + [e]:
        if p - start > limit and prev > start:
            pieces.append((start, prev))
            start = prev
        prev = p
    pieces.append((start, e))
    return pieces


def _cut_at(text: str, s: int, e: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Split text[s:e] before every match end of `pattern`."""
    points = [m.end() for m in pattern.finditer(text, s, e) if s < m.end() < e]
    bounds = [s, *points, e]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _limit(text: str, s: int, e: int, level: int = 0) -> list[tuple[int, int]]:
    """Bring pieces under MAX_CHARS: clause punctuation, then whitespace, then hard cuts."""
    if e - s <= MAX_CHARS or level > 2:
        return [(s, e)]
    if level == 0:
        cuts = [m.end() for m in _CLAUSE_PUNCT.finditer(text, s, e) if m.end() < e]
    elif level == 1:
        cuts = [m.end() for m in _SPACE_RUN.finditer(text, s, e) if m.end() < e]
    else:
        cuts = list(range(s + MAX_CHARS, e, MAX_CHARS))
    out: list[tuple[int, int]] = []
    for a, b in _pack(s, e, cuts, MAX_CHARS):
        out.extend(_limit(text, a, b, level + 1))
    return out


def _split_long(text: str, s: int, e: int) -> list[tuple[int, int]]:
    pieces = _cut_at(text, s, e, _CONTRAST_AFTER_PUNCT)
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        if b - a <= MAX_CHARS:
            out.append((a, b))
            continue
        for c, d in _cut_at(text, a, b, _CONTRAST_BARE):
            out.extend(_limit(text, c, d))
    return out


def _is_short(text: str, s: int, e: int) -> bool:
    return e - s < MIN_CHARS and len(_CJK.findall(text, s, e)) < MIN_CJK


def _leads_forward(piece: str) -> bool:
    """Fragments that introduce what follows: list markers and "Problem:"."""
    return piece.endswith((":", "：")) or bool(_LIST_MARKER.fullmatch(piece))


def _merge_short(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pending: int | None = None  # start of short fragments waiting for the next span
    for s, e in spans:
        carried = pending is not None
        if pending is not None:
            s, pending = pending, None
        if _is_short(text, s, e):
            if out and not carried and not _leads_forward(text[s:e]):
                out[-1] = (out[-1][0], e)
            else:
                pending = s
            continue
        out.append((s, e))
    if pending is not None:
        end = spans[-1][1]
        if out:
            out[-1] = (out[-1][0], end)
        else:
            out.append((pending, end))
    return out


def segment(text: str, lang: str = "und") -> list[Segment]:
    """Split `text` into sentences/clauses with exact character offsets."""
    if not text or text.isspace():
        return []
    n = len(text)
    if n <= MAX_CHARS and _ANY_TERM.search(text) is None:
        s, e = _strip(text, 0, n)  # fast path: one sentence
        return [Segment(0, text[s:e], s, e)] if e > s else []

    ordinal_dot = lang.split("-")[0].lower() in _ORDINAL_DOT_LANGS
    spans: list[tuple[int, int]] = []
    prev = 0
    for m in _TERM.finditer(text):
        if m.lastgroup == "nl":
            cut = m.start()
        elif _is_boundary(text, m.start(), m.end(), m.end("p"), ordinal_dot):
            cut = m.end()
        else:
            continue
        s, e = _strip(text, prev, cut)
        if e > s:
            spans.append((s, e))
        prev = m.end()
    s, e = _strip(text, prev, n)
    if e > s:
        spans.append((s, e))

    sized: list[tuple[int, int]] = []
    for s, e in spans:
        if e - s > MAX_CHARS:
            for a, b in _split_long(text, s, e):
                a, b = _strip(text, a, b)
                if b > a:
                    sized.append((a, b))
        else:
            sized.append((s, e))

    merged = _merge_short(text, sized) if len(sized) > 1 else sized
    return [Segment(i, text[s:e], s, e) for i, (s, e) in enumerate(merged)]
