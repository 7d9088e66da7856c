"""Content words of a text in its own language, for keywords and theme labels.

A default CountVectorizer makes a whole Chinese or Japanese sentence one "word", and a
Latin-script regex breaks accented words, so each language gets its own segmenter:
zh jieba, ja SudachiPy (mode C: compounds such as 配送料 stay one word), vi pyvi
(compounds joined with "_" by pyvi are kept as one token shown with a space:
"giảng viên"), everything else a spaCy blank tokenizer (rules only, nothing
downloaded; "xx" for languages spaCy lacks). Thai, Lao, Khmer and Myanmar runs are
skipped: no segmenter for them is installed and a space-split run is a phrase, not a word.

Removed: per-language stopwords (spaCy's lists plus a short measured list of complaint
filler), punctuation, numbers, single letters, the placeholders the pipeline writes
(`@user`, `http`, order numbers as `0`, PII markers such as `[EMAIL]`), and single
Chinese characters except a short list of content words measured on waimai and hotel
reviews (差 贵 慢 凉 ...): jieba leaves many function characters alone (的 了 是 说 去),
while these few carry the complaint.

Segmenters load lazily, once per process and language. Nothing here raises on a str.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = ["is_stopword", "make_tokenizer", "norm_lang", "spaced", "stream", "tokenize"]

NO_SPACE = frozenset({"zh", "ja", "th", "lo", "km", "my"})


def spaced(lang: str) -> bool:
    """True for a language written with spaces between words (bigrams read as phrases)."""
    return norm_lang(lang) not in NO_SPACE


# Complaint filler the spaCy lists miss, picked by eye from the most frequent tokens of
# the shared corpora (banking77, umsab tweets, waimai, hotel, amazon ja, SnappFood, UIT-VSFC).
_EXTRA_STOP: dict[str, str] = {
    "en": "also really just get got would could still even ever im ive dont cant didnt "
    "doesnt wont isnt thank thanks please hi hello hey ok okay yes yeah lol rt amp via "
    "u ur pls plz want need like know think thing things way lot bit able tell help wo ca "
    "going come thought says right nt ll ve re "
    # non-answers of surveys ("no idea", "not sure", "no comment", "n/a")
    "idea sure comment comments applicable na nope",
    "de": "mal schon halt ja bitte danke gibt einfach wirklich weiss ahnung",
    "fr": "très trop bien fait faire être avoir ça cest merci rien sais",
    "es": "muy bien hace hacer ser estar gracias q xq",
    "it": "molto bene fare essere grazie",
    "pt": "muito bem fazer ser estar obrigado q vc",
    "zh": "感觉 觉得 一下 还是 这个 那个 真的 非常 比较 就是 已经 然后 东西 而且 一点 有点 "
    "时候 还有 可以 没有 不是 知道 以后 一次 一个 下次 这次 这家 那家 我们 他们 什么 怎么 "
    "这么 那么 这样 那样 因为 所以 但是 不过 虽然 如果 其实 确实 应该 一直 一般 还会 "
    "不会 不能 可能 总体 总之 哈哈 哈哈哈 呵呵 一些 有些 还好 还行 特别 超级 稍微 实在 真心 每次 暂无",
    "ja": "こと もの よう ため 感じ 思う 言う 事 物 時 今回 とても 少し ちょっと 本当 やはり "
    "まだ もう ここ それ これ あれ どれ そこ 方 様 しれる 感ずる みたい あと 他 人 気 為 感 "
    "ヶ月 週間",
    "vi": "thì là mà rồi nhé nha ạ ko k dc đc được bị cũng nên hơi lắm tụi doubledot",
    "fa": "خیلی بود بودن هست است نیست شد شده کرد کردم کنید کردن داشت داره دارد میشه بسیار "
    "واقعا ولی اما هم رو را که تا با برای فقط همه بودم یه نداشت داشتم دادم باشه دیگه میداد بشه "
    "نشده شدم اون این توی چی کلا انگار میکنم میشد گرفتم سلام ممنون ممنونم تشکر مرسی لطفا "
    "امیدوارم العاده فوق خوبه اصلا یکم ای ها های تر ترین ندارم نمیدونم",
    "ar": "كان كانت يكون جدا فقط كل شي شيء مش انا انت هذا هذه",
    "ru": "очень просто это всё",
    "tr": "çok bir bu da de ama",
    "id": "yg dgn gak ga nya aja sih deh dong banget udah sudah",
}

# Single Chinese characters that are words of a complaint and not function words.
_ZH_SINGLE = frozenset("差贵慢快凉冷热咸淡辣甜酸苦油腻硬软脏臭吵旧破烂坏少远饿饭菜肉汤粥饼面米鸡房床楼门水钱价店餐车路味量洒催退")

_ZH_DEGREE = frozenset("太很挺超好真")

# spaCy list entries that are topic words in the measured corpora (vi "cô" = the teacher,
# "bài" = the lesson, "điểm" = the mark; zh 快 = fast).
_KEEP: dict[str, frozenset[str]] = {
    "vi": frozenset({"cô", "bài", "điểm", "thời gian", "nhanh", "chậm", "máy", "phòng"}),
    "zh": frozenset({"快", "臭", "应用"}),
}

# Removed before segmenting: PII placeholders (upper case, so before case folding), URLs,
# @handles (the pipeline's "@user" included), and the "http" a masked URL becomes.
_PLACEHOLDER = re.compile(
    r"\[[A-Z][A-Z0-9_]{0,30}\]|(?:https?://|www\.)\S+|(?<![\w.])[@＠]\w+|\bhttps?\b"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
_AR_DIACRITICS = re.compile(r"[\u0640\u064b-\u065f\u0670]")
_FA_LETTERS = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی", "ۀ": "ه"})
# Control and format characters (Unicode Cc, Cf) and lone surrogates break segmenters; ZWNJ (U+200C) stays,
# it is part of Persian words.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200d-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\ud800-\udfff]"  # lone surrogates: the Rust and C segmenters refuse them
)
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
# Thai, Lao, Myanmar, Khmer: no segmenter installed, skipped.
_UNSEGMENTED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_CJK_RUN = re.compile(r"[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DROP_WORDS = frozenset({"http", "https", "www", "com"})
_MAX_LEN = 40
_LANG_CODE = re.compile(r"[a-z]{2,3}")
_SUDACHI_CHUNK = 4000  # characters; SudachiPy refuses input over ~49 kB

Token = tuple[str, bool]


def norm_lang(lang: Any) -> str:
    """"zh-Hant", "ZH", None -> "zh", "zh", "xx" (the code a segmenter is chosen by)."""
    code = str(lang or "xx").strip().lower().replace("_", "-").split("-")[0]
    return code if _LANG_CODE.fullmatch(code) else "xx"


def _prepare(text: str, lang: str) -> str:
    text = _PLACEHOLDER.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    text = _FORMAT.sub("", _CONTROL.sub(" ", text))
    if lang in ("fa", "ar", "ur", "ps", "ckb"):
        text = _AR_DIACRITICS.sub("", text)
        if lang != "ar":
            text = text.translate(_FA_LETTERS)
    return text.casefold()


def _spacy_stop_words(lang: str) -> set[str]:
    """spaCy's stop words of `lang`. For French and Indonesian, read from their stop_words.py
    alone: importing `spacy.lang.fr.stop_words` first runs the language's package, which
    compiles its tokenizer's word list (see _LIGHT)."""
    import importlib.util

    import spacy.lang

    path = Path(spacy.lang.__file__).parent / lang / "stop_words.py"
    if lang in _LIGHT and path.is_file():
        spec = importlib.util.spec_from_file_location(f"miner_spacy_stop_words_{lang}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = __import__(f"spacy.lang.{lang}.stop_words", fromlist=["STOP_WORDS"])
    return set(getattr(module, "STOP_WORDS", ()))


@cache
def _stopwords(lang: str) -> frozenset[str]:
    words: set[str] = set()
    with suppress(Exception):  # a language without a spaCy list has only ours
        words.update(_spacy_stop_words(lang))
    # English turns up in every language's tweets and in Chinese and Japanese Latin runs.
    from spacy.lang.en.stop_words import STOP_WORDS

    words.update(STOP_WORDS)
    words.update(_EXTRA_STOP["en"].split())
    words.update(_EXTRA_STOP.get(lang, "").split())
    words = {unicodedata.normalize("NFKC", w).casefold().replace("_", " ") for w in words}
    if lang == "fa":
        words = {w.translate(_FA_LETTERS) for w in words}
    return frozenset(words - _KEEP.get(lang, frozenset()))


def is_stopword(word: str, lang: str) -> bool:
    """True for a word that is never a keyword in `lang` (after case folding)."""
    lang = norm_lang(lang)
    return unicodedata.normalize("NFKC", word).casefold() in _stopwords(lang)


def _is_content(tok: str, lang: str) -> bool:
    if not tok or len(tok) > _MAX_LEN or tok in _DROP_WORDS or tok in _stopwords(lang):
        return False
    letters = sum(c.isalpha() for c in tok)
    if letters == 0 or letters <= sum(c.isdigit() for c in tok):
        return False
    if _UNSEGMENTED.search(tok):
        return False
    if len(tok) == 1:
        return lang == "zh" and tok in _ZH_SINGLE or lang == "ja" and bool(_HAN.match(tok))
    return True


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it logs "Building prefix dict" on first use
    tk = jieba.Tokenizer()
    tk.initialize()
    return tk


@lru_cache(maxsize=1)
def _sudachi() -> Any:
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C, fields={"pos", "dictionary_form"})


# spaCy's French and Indonesian tokenizers compile, on first use in each process, a regex of
# thousands of hyphenated words to keep whole: 2.3 and 2.1 s of CPU (measured; English 0.1 s),
# paid by every process that reads such text (`themes discover` runs two). These languages get
# the generic tokenizer with their affix rules instead, keeping every letter-hyphen-letter
# compound whole (petits-enfants, pré-cochée, anak-anak) rather than only the listed ones.
_LIGHT = frozenset({"fr", "id"})
_FR_HYPHEN_PRONOUNS = "ce clés elle en il ils je là moi nous on t vous"  # pouvez-vous -> pouvez, -vous
_FR_KEEP = frozenset({"rendez-vous", "chez-moi", "chez-nous", "chez-vous"})  # nouns that end like a pronoun


def _light_tokenizer(lang: str) -> Callable[[str], Any]:
    import spacy
    from spacy.lang.char_classes import ALPHA, HYPHENS, merge_chars
    from spacy.lang.punctuation import TOKENIZER_INFIXES, TOKENIZER_PREFIXES, TOKENIZER_SUFFIXES
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

    tokenizer = spacy.blank("xx").tokenizer
    compound = re.compile(rf"[{ALPHA}]+(?:(?:{HYPHENS})[{ALPHA}]+)+")
    prefixes, suffixes, infixes = list(TOKENIZER_PREFIXES), list(TOKENIZER_SUFFIXES), list(TOKENIZER_INFIXES)
    pronoun_end = None
    if lang == "fr":  # spaCy's French rules: l'|d'|n' come off the word, and -il, -vous... off the verb
        elision = "'’"
        prefixes.append(rf"(?:({merge_chars('d l n D L N')})[{elision}])(?=[{ALPHA}])")
        infixes.append(rf"(?<=[{ALPHA}][{elision}])(?=[{ALPHA}])")
        pronouns = merge_chars(_FR_HYPHEN_PRONOUNS + " " + _FR_HYPHEN_PRONOUNS.upper())
        suffixes.append(rf"(?<=[{ALPHA}])(?:{HYPHENS})({pronouns})")
        pronoun_end = re.compile(rf"(?:{HYPHENS})(?:{pronouns})$")

    def keep_whole(text: str):
        m = compound.fullmatch(text)
        if m and pronoun_end is not None and pronoun_end.search(text) and text.casefold() not in _FR_KEEP:
            return None
        return m

    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    tokenizer.token_match = keep_whole
    return tokenizer


@cache
def _spacy(lang: str) -> Callable[[str], Any]:
    import spacy

    if lang in _LIGHT:
        return _light_tokenizer(lang)
    with suppress(Exception):  # unknown code, or one that wants an extra package
        return spacy.blank(lang).tokenizer
    try:  # ko, th need mecab-ko / pythainlp: spaCy's rule tokenizer still splits on spaces
        rules = {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}}
        return spacy.blank(lang, config=rules).tokenizer
    except Exception:  # noqa: BLE001
        return spacy.blank("xx").tokenizer


_JA_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞"})
_JA_SKIP = frozenset({"数詞", "非自立可能"})
_JA_SKIP_SINGLE = frozenset({"助数詞可能", "副詞可能"})


def _ja(text: str) -> list[Token]:
    out: list[Token] = []
    tk = _sudachi()
    for start in range(0, len(text), _SUDACHI_CHUNK):
        for m in tk.tokenize(text[start : start + _SUDACHI_CHUNK]):
            pos = m.part_of_speech()
            word = m.dictionary_form() if pos[0] in ("動詞", "形容詞") else m.surface()
            ok = pos[0] in _JA_POS and pos[1] not in _JA_SKIP
            # A lone kanji that counts or places (日 回 中 前) is not a topic; 音 箱 穴 are.
            ok = ok and not (len(word) == 1 and pos[2] in _JA_SKIP_SINGLE)
            out.append((word, ok))
    return out


def _by_segmenter(text: str, lang: str, generic: bool = False) -> list[Token]:
    if lang == "zh":
        return [(w, True) for w in _jieba().cut(text) if not w.isspace()]
    if lang == "ja":
        return _ja(text)
    if lang == "vi":
        from pyvi import ViTokenizer

        return [(w.replace("_", " "), True) for w in ViTokenizer.tokenize(text).split()]
    return [(t.text, True) for t in _spacy("xx" if generic else lang)(text) if not t.is_space]


def _segment(text: str, lang: str, generic: bool = False) -> list[tuple[str, bool, str]]:
    """(token, may be content, language whose rules apply) for every token.

    Text is cut into CJK and other runs: jieba breaks accented Latin words ("giảng" ->
    "gi", "ng") and a space tokenizer makes a Chinese sentence one word, so each run goes
    to the segmenter of its script. An empty non-content token marks each cut.
    """
    out: list[tuple[str, bool, str]] = []
    pos = 0
    runs: list[tuple[str, bool]] = []
    for m in _CJK_RUN.finditer(text):
        runs.append((text[pos : m.start()], False))
        runs.append((m.group(), True))
        pos = m.end()
    runs.append((text[pos:], False))
    for piece, cjk in runs:
        if not piece or piece.isspace():
            continue
        if cjk:
            seg = "ja" if lang == "ja" or _KANA.search(piece) else "zh"
        else:
            seg = "xx" if lang in ("zh", "ja") else lang
        if out:
            out.append(("", False, seg))
        out.extend((w, ok, seg) for w, ok in _by_segmenter(piece, seg, generic))
    return out


def stream(text: str, lang: str, generic: bool = False) -> list[Token]:
    """Every token of `text` in order, case folded, each with True where it is a content word.

    `generic`: split with spaCy's multi-language rules instead of the language's own tokenizer
    (building one costs 0.2-6 s: worth it for a language with many texts, not for a stray few);
    the language's stop words still apply. Chinese, Japanese and Vietnamese keep their segmenters.

    Keeps the non-content tokens (as False) so that bigrams are taken only between words
    that were adjacent in the text.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    lang = norm_lang(lang)
    try:
        raw = _segment(_prepare(text, lang), lang, generic)
    except Exception:  # noqa: BLE001 - a segmenter failing on odd input falls back to rules
        raw = [(t, True, "xx") for t, _ in _by_segmenter(_prepare(text, "xx"), "xx")]
    out: list[Token] = []
    for tok, ok, seg in raw:
        word = _EDGE.sub("", tok).strip()
        if seg == "zh" and len(word) == 2 and word[0] in _ZH_DEGREE and word[1] in _ZH_SINGLE:
            word = word[1]  # jieba keeps 太慢 很差 好贵 whole: count them with 慢 差 贵
        out.append((word, ok and _is_content(word, seg)))
    return out


def tokenize(text: str, lang: str) -> list[str]:
    """Content words of `text`, case folded, in order (duplicates kept)."""
    return [w for w, ok in stream(text, lang) if ok]


def make_tokenizer(lang_of: dict[str, str] | None = None) -> Callable[[str], list[str]]:
    """A one-argument tokenizer (e.g. `CountVectorizer(analyzer=...)`): the language of
    each text is looked up in `lang_of` ("xx", spaCy's multi-language rules, if absent)."""
    langs = lang_of or {}

    def analyzer(text: str) -> list[str]:
        return tokenize(text, langs.get(text, "xx"))

    return analyzer
