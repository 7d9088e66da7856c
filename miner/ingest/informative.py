"""Flag survey non-answers ("n/a", "nothing", "不知道", "特になし", "không có", "هیچی"...).

`is_informative(text)` is False for:
- empty text, or text with no letters (only punctuation, digits, emoji, spaces);
- one character repeated ("aaaa", "ㅋㅋㅋ", "ههههه"), a short unit repeated
  ("hahaha", "asdasdasd"), a repeated non-answer ("no no no");
- keyboard mashing: one token of neighbouring keys ("asdf", "sdfghjkl", "jkjk");
- a listed non-answer phrase, in any language, possibly wrapped in fillers
  ("Nothing, thanks!", "没有了", "特にないです"). The list is
  models/noninformative.yaml; see its header for the matching rules.

It is conservative: only whole answers match, so "nothing works",
"no signal for three days" and "不知道为什么扣费" stay informative. A single
Chinese/Japanese/Korean character ("贵") counts as informative unless listed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import yaml

from miner.errors import UsageError
from miner.paths import model_file

__all__ = ["is_informative", "normalize_key"]

_NON_LETTER = re.compile(r"[\W\d_]+")
_REPEATS = re.compile(r"(.)\1+")
_ARABIC_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "أ": "ا", "إ": "ا", "آ": "ا"})
_IDEOGRAPHIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f]")
_LONG = 400  # longer texts only need the cheap checks

# Keyboard rows (QWERTY, QWERTZ, AZERTY) for mashing detection.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn")
_ROW_TEXT = " ".join(_ROWS + tuple(r[::-1] for r in _ROWS))
_REAL_WORDS = frozenset({"wert", "ytre"})  # row runs that are words (de "Wert", no "ytre")
_NEIGHBOURS = frozenset(a + b for r in _ROWS for a, b in zip(r, r[1:])) | frozenset(
    b + a for r in _ROWS for a, b in zip(r, r[1:])
)


def normalize_key(text: str) -> str:
    """NFKC, casefold, Arabic letter folding, letters only, repeated letters collapsed."""
    t = unicodedata.normalize("NFKC", text).casefold()
    if not t.isascii():
        t = t.translate(_ARABIC_FOLD)
    return _REPEATS.sub(r"\1", _NON_LETTER.sub("", t))


def _without_accents(key: str) -> str:
    """Accents off ("khôngcó" -> "khongco"); "" when the result is not plain ASCII."""
    t = "".join(ch for ch in unicodedata.normalize("NFD", key.replace("đ", "d")) if not unicodedata.combining(ch))
    return t if t.isascii() else ""


@dataclass(frozen=True)
class _Lists:
    phrases: frozenset[str]
    ends: dict[str, tuple[str, ...]]  # last char -> fillers, longest first
    starts: dict[str, tuple[str, ...]]  # first char -> fillers, longest first
    max_len: int


def _strings(data: object, where: str) -> list[str]:
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise UsageError(
            "E270",
            f"noninformative.yaml: '{where}' must be a list of quoted strings.",
            'Quote every phrase, e.g.  - "no"  (YAML reads bare no/yes/on/off as booleans).',
        )
    return data


def _index(fillers: list[str], first: bool) -> dict[str, tuple[str, ...]]:
    keys = sorted({k for k in map(normalize_key, fillers) if k}, key=len, reverse=True)
    out: dict[str, list[str]] = {}
    for k in keys:
        out.setdefault(k[0] if first else k[-1], []).append(k)
    return {c: tuple(v) for c, v in out.items()}


@lru_cache(maxsize=1)
def _lists() -> _Lists:
    path = model_file("noninformative.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError("E270", f"Cannot read {path}: {exc}", "Fix or restore models/noninformative.yaml.") from exc
    by_lang = data.get("phrases") or {}
    if not isinstance(by_lang, dict):
        raise UsageError("E270", "noninformative.yaml: 'phrases' must map language codes to lists.", None)
    phrases: set[str] = set()
    for lang, items in by_lang.items():
        for item in _strings(items, f"phrases.{lang}"):
            key = normalize_key(item)
            if key:
                phrases.add(key)
                plain = _without_accents(key)
                if plain:
                    phrases.add(_REPEATS.sub(r"\1", plain))
    ends = _index(_strings(data.get("strip_end"), "strip_end"), first=False)
    starts = _index(_strings(data.get("strip_start"), "strip_start"), first=True)
    longest_filler = max((len(k) for v in (*ends.values(), *starts.values()) for k in v), default=0)
    max_len = max(map(len, phrases), default=0) + 2 * longest_filler
    return _Lists(frozenset(phrases), ends, starts, max_len)


def _is_listed(key: str, lists: _Lists) -> bool:
    """A listed phrase, possibly wrapped in fillers, or fillers only."""
    phrases = lists.phrases
    if key in phrases:
        return True
    for _ in range(4):  # "nothing else really thanks"
        before = key
        for filler in lists.ends.get(key[-1], ()):
            if key.endswith(filler):
                key = key[: -len(filler)]
                break
        if key:
            for filler in lists.starts.get(key[0], ()):
                if key.startswith(filler):
                    key = key[len(filler):]
                    break
        if not key or key in phrases:
            return True
        if key == before:
            return False
    return False


def _repeated_unit(key: str, lists: _Lists) -> bool:
    """"hahaha", "asdasd", "nonono", "ㅋㅋㅋ": a short unit or a non-answer, repeated."""
    n = len(key)
    for size in range(1, n // 2 + 1):
        if n % size:
            continue
        unit = key[:size]
        if unit * (n // size) == key:
            if unit in lists.phrases:
                return True
            # a short non-CJK unit repeated 3+ times; CJK repeats ("好好好") can be real
            return size <= 3 and n // size >= 3 and not _IDEOGRAPHIC.search(unit)
    return False


def _is_mash(text: str, raw: str) -> bool:
    """One token of neighbouring keys: "asdf", "sdfghjkl", "jkjkjk", "asdasd"."""
    if len(raw) < 4 or not raw.isascii() or len(text.split()) != 1 or raw in _REAL_WORDS:
        return False
    for size in (3, 4):  # a run of neighbours typed again and again: asdasd, sdfgsdfg
        unit = raw[:size]
        if len(raw) >= 2 * size and (unit * (len(raw) // size + 1)).startswith(raw):
            return all(a + b in _NEIGHBOURS for a, b in zip(unit, unit[1:]))
    if not all(a == b or a + b in _NEIGHBOURS for a, b in zip(raw, raw[1:])):
        return False
    collapsed = _REPEATS.sub(r"\1", raw)
    # a run along one keyboard row (asdf, qwerty, hjkl, fdsa) or two neighbouring keys (jkjk, kkjj)
    return (len(collapsed) >= 4 and collapsed in _ROW_TEXT) or len(set(raw)) == 2


def is_informative(text: str, lang: str | None = None) -> bool:
    """False for survey non-answers, empty/symbol-only text, repeats and keyboard mashing.

    `lang` is a hint only: phrases of every language are checked, because
    language detection on one- or two-word answers is unreliable.
    """
    if not text or text.isspace():
        return False
    lists = _lists()
    if len(text) > _LONG:
        # Far longer than any listed phrase: only having (almost) no letters disqualifies it.
        # A real text uses more than three different letters ("hahaha...", "aaaa...").
        return len(set(_NON_LETTER.sub("", text))) > 3

    t = unicodedata.normalize("NFKC", text).casefold()
    if not t.isascii():
        t = t.translate(_ARABIC_FOLD)
    raw = _NON_LETTER.sub("", t)
    if not raw:
        return False  # punctuation, digits, emoji, whitespace only
    key = _REPEATS.sub(r"\1", raw)
    if len(key) == 1:
        # one character, maybe repeated ("a", "????" has none, "kkkk", "ههههه");
        # a single CJK character ("贵") can be a real answer unless listed.
        return bool(_IDEOGRAPHIC.match(key)) and not _is_listed(key, lists)
    if len(key) <= lists.max_len:
        if _is_listed(key, lists):
            return False
        if not key.isascii():
            plain = _without_accents(key)
            if plain and _is_listed(_REPEATS.sub(r"\1", plain), lists):
                return False
    if len(raw) <= 40 and (_repeated_unit(raw, lists) or _repeated_unit(key, lists)):
        return False
    return not _is_mash(text, raw)
