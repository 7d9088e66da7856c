"""PII redaction, applied to every text at ingestion before anything reaches the database.

Built-in kinds and their placeholders:

    url_secret   URL passwords, secret query values, JWTs   -> [SECRET] (the URL itself is kept)
    email                                                   -> [EMAIL]
    iban         ISO 13616 mod-97 + country length          -> [IBAN]
    national_id  SSN, NINO, CN ID, DNI/NIE, NIR, codice fiscale, Iranian code,
                 Vietnamese CCCD/CMND, CPF, Aadhaar (with their check digits)
                                                            -> [NATIONAL_ID]
    card         13-19 digits passing Luhn                  -> [CARD]
    phone        international and national formats         -> [PHONE]

Users add `NAME=REGEX` patterns, redacted as `[NAME]` and counted as kind `name`
(lower-cased; a name equal to a built-in kind adds to that kind).

Design notes:
- Detectors run on a *normalised view* of the text in which Persian, Arabic-Indic,
  fullwidth and other decimal digits become ASCII and odd spaces/dashes become
  ' '/'-'. Every mapping is one character to one character, so match offsets in the
  view are offsets in the original, which is what gets edited.
- Order matters: secrets and e-mails first (they contain digits and '@'), then IBANs,
  national IDs and cards (long, check-digit validated), phones last (the loosest).
- `redact` repeats its pass until nothing changes, so it is idempotent by construction
  (a placeholder never contains a digit, '@' or '=', so this ends after 1-2 passes).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from ..errors import UsageError

__all__ = ["BUILTIN_KINDS", "PLACEHOLDERS", "Redactor", "parse_pattern_option"]

PLACEHOLDERS: dict[str, str] = {
    "url_secret": "[SECRET]",
    "email": "[EMAIL]",
    "iban": "[IBAN]",
    "national_id": "[NATIONAL_ID]",
    "card": "[CARD]",
    "phone": "[PHONE]",
}
BUILTIN_KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)  # also the order they run in

_NAME_RE = re.compile(r"[A-Z][A-Z0-9_]{0,30}")
_MAX_PASSES = 4
_Edit = tuple[int, int, str]
_NON_DIGITS = re.compile(r"[^0-9]+")

# ---------------------------------------------------------------------------
# Normalised view


@lru_cache(maxsize=1)
def _norm_table() -> dict[int, str]:
    """One-to-one character map: any decimal digit -> ASCII, fullwidth ASCII -> ASCII, spaces/dashes."""
    table: dict[int, str] = {}
    for cp in range(0x80, 0x10000):
        d = unicodedata.decimal(chr(cp), None)
        if d is not None:
            table[cp] = str(d)
    # Fullwidth letters and the punctuation phones/e-mails/URLs use (not ？！：，, common in CJK prose).
    for cp in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]:
        table[cp] = chr(cp - 0xFEE0)
    for ch in "＋＠－（）．＝／＿":
        table[ord(ch)] = chr(ord(ch) - 0xFEE0)
    for cp in (0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000):
        table[cp] = " "
    for cp in (*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63, 0x30FC):
        table[cp] = "-"
    return table


def _char_class(codepoints: Iterable[int]) -> str:
    """A regex character class covering `codepoints`, as ranges."""
    cps = sorted(codepoints)
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(re.escape(chr(cps[i])) + ("-" + re.escape(chr(cps[j])) if j > i else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


_NEEDS_NORM = re.compile(_char_class(_norm_table()))


def _normalise(text: str) -> str:
    """The detection view of `text` (same length, same offsets)."""
    if text.isascii() or not _NEEDS_NORM.search(text):
        return text
    return text.translate(_norm_table())


# Cheap pre-checks. Without one of these characters no built-in detector can match ...
_TRIGGER_CHARS = re.compile(r"[\d@=＠＝]")
# ... and without six digits close together none of iban/national_id/card/phone can.
_DENSE_DIGITS = re.compile(r"[0-9](?:[^0-9]{0,2}[0-9]){5}")
_DIGIT_KINDS = frozenset({"iban", "national_id", "card", "phone"})


def _triggered(text: str) -> bool:
    return _TRIGGER_CHARS.search(text) is not None or "://" in text or "eyJ" in text


# ---------------------------------------------------------------------------
# Check digits


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mod97(chars: str) -> int:
    return int("".join(str(int(c, 36)) for c in chars)) % 97


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def _verhoeff(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][ord(ch) - 48]]
    return c == 0


def _cn_id_ok(s: str) -> bool:
    """PRC resident ID, ISO 7064 MOD 11-2."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(s[:17], weights))
    return "10X98765432"[total % 11] == s[17].upper()


def _dni_ok(s: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter)."""
    s = s.replace("-", "").replace(" ", "").upper()
    if s[0] in "XYZ":
        s = str("XYZ".index(s[0])) + s[1:]
    return "TRWAGMYFPDXBNJZSQVHLCKE"[int(s[:8]) % 23] == s[8]


def _nir_ok(s: str) -> bool:
    """French NIR: 13 characters (2A/2B for Corsica) + 2-digit key = 97 - n mod 97."""
    s = s.replace(" ", "").upper()
    body = s[:13].replace("2A", "19", 1) if s[5:7] == "2A" else s[:13]
    body = body.replace("2B", "18", 1) if s[5:7] == "2B" else body
    return body.isdigit() and 97 - int(body) % 97 == int(s[13:])


_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11,
                    3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23)))


def _cf_ok(s: str) -> bool:
    """Italian codice fiscale control character."""
    s = s.upper()
    total = 0
    for i, ch in enumerate(s[:15]):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += ord(ch) - 48 if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == s[15]


def _iran_ok(d: str) -> bool:
    if len(set(d)) == 1:
        return False
    r = sum(int(d[i]) * (10 - i) for i in range(9)) % 11
    return int(d[9]) == (r if r < 2 else 11 - r)


def _cpf_ok(d: str) -> bool:
    if len(set(d)) == 1:
        return False
    for n in (9, 10):
        total = sum(int(d[i]) * (n + 1 - i) for i in range(n))
        if (total * 10) % 11 % 10 != int(d[n]):
            return False
    return True


# ---------------------------------------------------------------------------
# Secrets in URLs and JWTs

_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@\[\]]*:([^\s/?#@\[\]]+)@")
_SECRET_NAMES = (
    r"access_token|refresh_token|id_token|auth_token|token|api[_\-]?key|apikey|key|client_secret|secret"
    r"|password|passwd|pwd|signature|sig|auth|session_?id|session|jsessionid|phpsessid|code"
)
# `name=value`: found from the '=' (a literal, so `re` skips to it fast), then the name is
# checked backwards. It counts in a query/fragment (after ? & ; #) or standing alone in prose.
_PARAM_VALUE = re.compile(r"=([^&#?;\s\"'<>]+)")
_SECRET_NAME = re.compile(r"(?:[A-Za-z0-9]+[_\-.])*(?:" + _SECRET_NAMES + r")", re.IGNORECASE)
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_NAME_OPENERS = frozenset("?&;#\"'(<")
_JWT = re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{10,}(?:\.[A-Za-z0-9_\-]+){0,2}")
_SECRET = PLACEHOLDERS["url_secret"]


def _find_url_secrets(norm: str) -> list[_Edit]:
    edits: list[_Edit] = []
    if "://" in norm:
        for m in _URL_USERINFO.finditer(norm):
            edits.append((m.start(1), m.end(1), _SECRET))
    if "=" in norm:
        for m in _PARAM_VALUE.finditer(norm):
            end = m.start()
            start = end
            while start > 0 and end - start < 60 and norm[start - 1] in _NAME_CHARS:
                start -= 1
            if start > 0 and norm[start - 1] not in _NAME_OPENERS and not norm[start - 1].isspace():
                continue  # glued to something else: not a parameter name
            name, value = norm[start:end], m.group(1)
            if not _SECRET_NAME.fullmatch(name) or value == _SECRET:
                continue
            if name.lower().endswith("code") and len(value) < 16:
                continue  # a promo or country code, not an OAuth code
            edits.append((m.start(1), m.end(1), _SECRET))
    if "eyJ" in norm:
        for m in _JWT.finditer(norm):
            edits.append((m.start(), m.end(), _SECRET))
    return _merge(edits)


# ---------------------------------------------------------------------------
# E-mail

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


def _find_emails(norm: str) -> list[_Edit]:
    if "@" not in norm:
        return []
    return [(m.start(), m.end(), "[EMAIL]") for m in _EMAIL.finditer(norm)]


# ---------------------------------------------------------------------------
# IBAN

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IR": 26, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
# Loose on purpose (it may run into the next word); _iban_span finds the valid prefix.
# (Like all detector regexes here it opens with a character class, and checks the character
# before it with a lookbehind after that: a leading lookbehind makes `re` try every position.)
_IBAN = re.compile(r"[A-Za-z](?<![A-Za-z0-9].)[A-Za-z][0-9]{2}(?:[ \-]?[A-Za-z0-9]){11,30}")
_IBAN_HEAD_BEFORE = re.compile(r"[A-Za-z]{2}[0-9]{2}[ \-]?$")  # cards/phones do not start inside one
_IBAN_GUARD = re.compile(r"[0-9]{2}[ \-]?[0-9A-Za-z]{4}[ \-]?[0-9A-Za-z]{4}")  # check digits + BBAN


def _iban_span(cand: str) -> int:
    """Length of the valid IBAN at the start of `cand` (0 if none); it must end at a token boundary."""
    ends: dict[int, int] = {}  # compact length -> end offset in cand
    n = 0
    for i, ch in enumerate(cand):
        if ch.isalnum():
            n += 1
            if i + 1 == len(cand) or not cand[i + 1].isalnum():
                ends[n] = i + 1
    compact = "".join(ch for ch in cand if ch.isalnum()).upper()
    known = _IBAN_LENGTHS.get(compact[:2])
    lengths = [known] if known else range(min(34, len(compact)), 14, -1)
    for length in lengths:
        if length in ends and _mod97(compact[4:length] + compact[:4]) == 1:
            return ends[length]
    return 0


def _find_ibans(norm: str) -> list[_Edit]:
    edits: list[_Edit] = []
    if not _IBAN_GUARD.search(norm):
        return edits
    for m in _IBAN.finditer(norm):
        end = _iban_span(m.group())
        if end:
            edits.append((m.start(), m.start() + end, "[IBAN]"))
    return edits


# ---------------------------------------------------------------------------
# National IDs

# Two regexes (digit-led and letter-led IDs). Each opens with a plain character class so that
# `re` can skip quickly to candidate characters (a lookbehind first makes it try every position,
# several times slower); each alternative then re-checks its own first character with a lookbehind.
_NATIONAL_PARTS = (  # (kind, first character, rest)
    ("cn", "[1-9]", r"[0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"),
    ("nir", "[12378]", r" ?[0-9]{2} ?(?:0[1-9]|1[0-2]|[2-9][0-9]) ?(?:[0-9]{2}|2[ABab]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"),
    ("cf", "[A-Z]", r"[A-Z]{5}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"),
    ("d12", "[0-9]", r"(?:[0-9]{11}|[0-9]{3} [0-9]{4} [0-9]{4}|[0-9]{3}-[0-9]{4}-[0-9]{4})"),
    ("cpf", "[0-9]", r"(?:[0-9]{2}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}|[0-9]{10})"),
    ("iran", "[0-9]", r"(?:[0-9]{2}-[0-9]{6}-[0-9]|[0-9]{9})"),
    ("ssn", "[0-8]", r"[0-9]{2}-[0-9]{2}-[0-9]{4}"),
    ("nino", "[A-CEGHJ-PR-TW-Z]", r"[A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]"),
    ("nie", "[XYZ]", r"[ \-]?[0-9]{7}[ \-]?[A-HJ-NP-TV-Z]"),
    ("dni", "[0-9]", r"[0-9]{7}[ \-]?[A-HJ-NP-TV-Z]"),
    ("d9", "[0-9]", r"[0-9]{8}"),
)
_NATIONAL = tuple(
    re.compile(
        lead + r"(?<![0-9A-Za-z].)(?:"
        + "|".join(f"(?P<{kind}>(?<={first}){rest})" for kind, first, rest in _NATIONAL_PARTS if first[1] in digits)
        + r")(?![0-9A-Za-z])"
    )
    for lead, digits in (("[0-9]", "0123456789"), ("[A-Z]", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
)
# Cheap guards, one per regex above: every digit-led ID has 7 digits/separators in a row,
# every letter-led one an upper-case letter then two digits.
_NATIONAL_GUARDS = (re.compile(r"[0-9][0-9 .\-]{6}"), re.compile(r"[A-Z][ \-]?[0-9]{2}"))
_NINO_BAD_PREFIXES = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
_VN_ID_KW = re.compile(r"cccd|cmnd|cmt\b|căn cước|can cuoc|chứng minh|chung minh|định danh|dinh danh", re.IGNORECASE)
_IR_ID_KW = re.compile(r"کد\s?ملی|كد\s?ملي|شماره\s?ملی|national\s?(?:code|id)|code\s?melli|melli", re.IGNORECASE)
_IN_ID_KW = re.compile(r"aadh?aar|आधार|uidai|\buid\b", re.IGNORECASE)
_BR_ID_KW = re.compile(r"\bcpf\b", re.IGNORECASE)


def _near(pattern: re.Pattern, norm: str, start: int, end: int, before: int = 40, after: int = 25) -> bool:
    """Does a keyword occur just before or after norm[start:end]?"""
    window = norm[max(0, start - before) : start] + " " + norm[end : end + after]
    if not window.isascii():
        window = unicodedata.normalize("NFC", window)  # Vietnamese may arrive decomposed
    return pattern.search(window) is not None


_NINO_KW = re.compile(r"national\s?insurance|\bnino\b|\bn\.?i\.?\s?(?:no\b|num|number|#)", re.IGNORECASE)
# Product codes share the NINO's shape (two letters, six digits, A-D): "PN 320008A" is a part number.
_PART_KW = re.compile(
    r"(?<![a-z])(?:part|parts|model|serial|sku|item|product|article|artikel|pi[eè]ce|pieza|referencia|mpn|pn|p/n|sn|s/n)(?![a-z])",
    re.IGNORECASE,
)
_PART_PREFIXES = {"PN", "SN"}  # "part number", "serial number"
_NINO_LAYOUTS = (re.compile(r"[A-Z]{2}[0-9]{6}[A-D]"), re.compile(r"[A-Z]{2} [0-9]{2} [0-9]{2} [0-9]{2} [A-D]"),
                 re.compile(r"[A-Z]{2} [0-9]{6} [A-D]"))


def _nino_ok(s: str, norm: str, start: int, end: int) -> bool:
    """A UK National Insurance number has no check digit, so its shape and its context decide:
    next to its name (NI number, NINO, national insurance) any spacing goes; otherwise it must be
    written as NINOs are (AB123456C, AB 12 34 56 C, AB 123456 C), not start like a part or
    serial number (PN, SN) and not follow a product word (part, model, serial, SKU...)."""
    if s[:2] in _NINO_BAD_PREFIXES:
        return False
    if _near(_NINO_KW, norm, start, end):
        return True
    if not any(layout.fullmatch(s) for layout in _NINO_LAYOUTS):
        return False
    return s[:2] not in _PART_PREFIXES and not _near(_PART_KW, norm, start, end, after=0)


def _national_ok(kind: str, s: str, norm: str, text: str, start: int, end: int) -> bool:
    d = _NON_DIGITS.sub("", s)
    if kind == "cn":
        return _cn_id_ok(s)
    if kind == "nir":
        return _nir_ok(s)
    if kind == "cf":
        return _cf_ok(s)
    if kind == "d12":
        if d[0] == "0" and _near(_VN_ID_KW, norm, start, end):
            return True  # Vietnamese CCCD: only with a keyword, 12 bare digits are too common
        # Aadhaar: written 4-4-4, or next to its name
        return d[0] not in "01" and (" " in s or "-" in s or _near(_IN_ID_KW, norm, start, end)) and _verhoeff(d)
    if kind == "cpf":
        return ("." in s or _near(_BR_ID_KW, norm, start, end)) and _cpf_ok(d)
    if kind == "iran":
        # Written in Persian/Arabic digits it is Iranian; in ASCII digits it needs a keyword.
        if text[start:end].isascii():
            return _near(_IR_ID_KW, norm, start, end) and _iran_ok(d)
        return not _ORDER_KW.search(norm[max(0, start - 30) : start].lower()) and _iran_ok(d)
    if kind == "ssn":
        return not (s.startswith(("000", "666")) or s[4:6] == "00" or s.endswith("0000"))
    if kind == "nino":
        return _nino_ok(s, norm, start, end)
    if kind in ("dni", "nie"):
        return _dni_ok(s)
    if kind == "d9":
        return _near(_VN_ID_KW, norm, start, end)  # old Vietnamese CMND
    return False


def _find_national_ids(norm: str, text: str) -> list[_Edit]:
    edits = []
    for guard, rx in zip(_NATIONAL_GUARDS, _NATIONAL):
        if not guard.search(norm):
            continue
        for m in rx.finditer(norm):
            if _national_ok(m.lastgroup or "", m.group(), norm, text, m.start(), m.end()):
                edits.append((m.start(), m.end(), "[NATIONAL_ID]"))
    return _merge(edits)


# ---------------------------------------------------------------------------
# Payment cards

_CARD = re.compile(r"[2-6](?<![0-9A-Za-z+\-.,/].)[0-9]{3}(?:[ \-]?[0-9]){9,15}(?![0-9])")
_CARD_GROUPS = {(4, 6, 5), (4, 6, 4)}


def _iin_ok(d: str) -> bool:
    """Length fits the issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir).

    Keeps 13-digit product barcodes (EAN-13) and most other long numbers out: Luhn alone passes 1 in 10.
    """
    n, p2, p4 = len(d), int(d[:2]), int(d[:4])
    if d[0] == "4":
        return n in (16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p2 in (30, 36, 38, 39):
        return 14 <= n <= 19
    if 2200 <= p4 <= 2204 or 3528 <= p4 <= 3589 or d[0] == "6" or p2 == 50 or 56 <= p2 <= 58:
        return 16 <= n <= 19
    return False


def _card_ok(s: str) -> bool:
    d = s.replace(" ", "").replace("-", "")
    if not 13 <= len(d) <= 19 or not _iin_ok(d) or not _luhn(d):
        return False
    if len(d) == len(s):
        return True
    if " " in s and "-" in s:
        return False
    groups = tuple(len(g) for g in re.split(r"[ \-]", s))
    return groups in _CARD_GROUPS or (all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4)


def _find_cards(norm: str) -> list[_Edit]:
    return [
        (m.start(), m.end(), "[CARD]")
        for m in _CARD.finditer(norm)
        if _card_ok(m.group()) and not _IBAN_HEAD_BEFORE.search(norm, max(0, m.start() - 6), m.start())
    ]


# ---------------------------------------------------------------------------
# Phones
#
# A *run* is a sequence of digit chunks separated by single spaces (a chunk is digits
# joined by . - / and parentheses). Runs are cut into phones greedily: from each chunk,
# the longest sequence of chunks that is a phone wins. That way a date or a quantity
# next to a phone number does not hide it, and a phone is never cut out of the middle
# of a longer number by the weak formats.

_LETTERS = r"A-Za-z_\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF\u1E00-\u1EFF"
_PHONE_RUN = re.compile(
    rf"[+(0-9](?<![0-9{_LETTERS}#@$€£¥₫₩₹\\/+].)(?<![0-9A-Za-z_][\-.,/].)"
    r"(?=[0-9 ().\-/+]{7})"  # cheap: at least 8 characters, else no phone
    r"(?:(?<=\()(?:\+ ?)?[0-9]+|(?<=\+) ?[0-9]+|(?<=[0-9])[0-9]*)"
    r"(?:(?:\)[ .\-/]?\(?|[ .\-/]\(?|\()[0-9]+)*\)?"
)
_PHONE_KW = re.compile(
    r"(?<![a-z])(?:tel|tél|phone|mobile|cell|call|fax|sms|whats ?app|hotline|telefon|handy|mobil|rufnummer|anruf"
    r"|téléphone|portable|appel|joindre|teléfono|telefono|móvil|movil|celular|llam|cellulare|chiam|zalo|sđt|sdt"
    r"|điện thoại|dien thoai|gọi|goi)"
    r"|电话|電話|手机|手機|联系|聯繫|聯絡|致电|致電|拨打|撥打|微信|热线|熱線|携帯|連絡|ケータイ"
    r"|تلفن|تماس|موبایل|همراه|هاتف|جوال|اتصل|واتساب|موبايل",
    # matched against lower-cased text: case-sensitive literals let `re` skip faster
)
_ORDER_KW = re.compile(
    r"(?<![a-z])(?:order|invoice|tracking|ticket|ref(?![a-z])|customer|account|bestell|rechnung|kunden|konto|sendung"
    r"|pedido|factura|cuenta|commande|facture|compte|ordine|fattura|đơn|don hang|mã|iban|bic)"
    r"|订单|訂單|单号|單號|运单|運單|注文|伝票|سفارش|فاکتور|طلب|فاتورة|رقم الطلب",
    # matched against lower-cased text: case-sensitive literals let `re` skip faster
)
_UNIT_AFTER = re.compile(
    r" ?(?:[%‰€$£¥₫₩₹₽元円원万萬亿億千块塊件个個人次倍]|đ|đồng|ドル|ریال|تومان|درهم|دينار|جنيه|ريال|ليرة"
    r"|(?:vnd|eur|usd|rmb|cny|jpy|krw|chf|gbp|mbps|gbps|kbps|km|kg|mb|gb|tb|kb|ms|mm|cm|ml|mah|kwh|ghz|mhz)(?![a-z]))",
    re.IGNORECASE,
)
_GLUED_AFTER = re.compile(rf"[0-9{_LETTERS}@%]")  # "0612345678abc" is a code (CJK text may touch a phone)
_CURRENCY_BEFORE = re.compile(r"(?:[€$£¥₫₩₹]|usd|eur|vnd|rmb|cny|jpy|rs\.?|r\$|rp) ?$", re.IGNORECASE)
_DATE_IN = re.compile(
    r"(?<![0-9])(?:(?:0?[1-9]|[12][0-9]|3[01])[./\-](?:0?[1-9]|1[0-2])[./\-](?:19|20)[0-9]{2}"
    r"|(?:0?[1-9]|1[0-2])[./\-](?:0?[1-9]|[12][0-9]|3[01])[./\-](?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}[./\-](?:0?[1-9]|1[0-2])[./\-](?:0?[1-9]|[12][0-9]|3[01]))(?![0-9])"
)
_GROUP_SPLIT = re.compile(r"[ .\-/()]+")
_NANP = re.compile(r"(?:1[ .\-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .\-])[0-9]{3}[ .\-][0-9]{4}")
_CN_MOBILE = re.compile(r"1[3-9][0-9](?:[0-9]{8}|[ \-][0-9]{4}[ \-][0-9]{4})")
_ES = re.compile(  # 612 345 678 (no dots: 699.999.999 is a price), 612 34 56 78, 91 123 45 67
    r"[6789][0-9]{2}[ \-][0-9]{3}[ \-][0-9]{3}"
    r"|[6789][0-9]{2}(?:[ .\-][0-9]{2}){3}"
    r"|[89][0-9][ .\-][0-9]{3}(?:[ .\-][0-9]{2}){2}"
)
_IT_MOBILE = re.compile(r"3[0-9]{2}(?:[ .\-][0-9]{6,7}|[ .\-][0-9]{3}[ .\-][0-9]{3,4})")
_HK = re.compile(r"([2-9][0-9]{3})[ \-]([0-9]{4})")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
_CHUNK = re.compile(r"[^ ]+")


def _trunk0_ok(w: str, d: str) -> bool:
    """National numbers with a trunk 0 (UK, DE, FR, IT, JP, TW, VN, IR, CN landlines, Arab countries...)."""
    if d[0] != "0" or d[1] == "0" or not 9 <= len(d) <= 12:
        return False
    groups = [g for g in _GROUP_SPLIT.split(w) if g]
    if len(groups) == 1:
        return 10 <= len(d) <= 11
    if len(groups) > 6 or w.count("/") > 1 or ("/" in w and not w.split("/")[0].strip("( )").isdigit()):
        return False
    return all(len(g) >= 2 for g in groups)


_STRONG, _WEAK = 2, 1
_NUMBERISH = "0123456789 .,-/()+[]PHONE"


@lru_cache(maxsize=4096)  # pathological inputs repeat the same windows
def _phone_shape(w: str, d: str) -> int:
    """How much window `w` (digits `d`, no date inside) looks like a phone number: _STRONG, _WEAK or 0."""
    core = w.lstrip("(")
    if core.startswith("+"):
        return _STRONG if 8 <= len(d) <= 15 and d[0] != "0" else 0
    if core.startswith("00"):
        return _STRONG if 10 <= len(d) <= 17 and d[2] != "0" and not core.isdigit() else 0
    if _trunk0_ok(w, d) or _NANP.fullmatch(w) or _CN_MOBILE.fullmatch(w):
        return _STRONG
    if _ES.fullmatch(w) or _IT_MOBILE.fullmatch(w):
        return _WEAK
    hk = _HK.fullmatch(w)
    if hk:
        a, b = hk.groups()
        if not ((_YEAR.fullmatch(a) and _YEAR.fullmatch(b)) or (a.endswith("00") and b.endswith("00"))):
            return _WEAK
    return 0


def _last_end(pattern: re.Pattern, text: str) -> int:
    end = -1
    for m in pattern.finditer(text):
        end = m.end()
    return end


def _phone_level(norm: str, start: int, end: int, d: str) -> int:
    """_STRONG, _WEAK or 0 for norm[start:end] (digits `d`) as a phone number, in its context."""
    if len(d) < 8 or len(d) > 17:
        return 0
    w = norm[start:end]
    level = _phone_shape(w, d)
    if not level:  # only a plainly grouped 8-13 digit number right after a phone keyword remains
        if len(d) > 13:
            return 0
        groups = [g for g in _GROUP_SPLIT.split(w) if g]
        if len(groups) > 4 or any(len(g) < 2 for g in groups):
            return 0
    before = norm[max(0, start - 30) : start]
    # (inside a long table of numbers there is no keyword to look for)
    phone_kw, order_kw = _keywords_before(before.lower()) if before.strip(_NUMBERISH) else (False, False)
    if order_kw and not w.lstrip("(").startswith("+"):
        return 0  # "order 0612345678" is an order number
    if not level and not phone_kw:
        return 0
    if _DATE_IN.search(w) or _CURRENCY_BEFORE.search(norm[max(0, start - 4) : start]):
        return 0
    after = norm[end : end + 12]
    if after and (_GLUED_AFTER.match(after) or _UNIT_AFTER.match(after)):
        return 0
    return level or _WEAK


@lru_cache(maxsize=4096)
def _keywords_before(before: str) -> tuple[bool, bool]:
    """(phone keyword wins, order keyword wins): of the two kinds of keyword, the closer one counts."""
    phone_at = _last_end(_PHONE_KW, before) if _PHONE_KW.search(before) else -1
    order_at = _last_end(_ORDER_KW, before) if _ORDER_KW.search(before) else -1
    return phone_at > order_at, order_at > phone_at


def _find_phones(norm: str) -> list[_Edit]:
    edits: list[_Edit] = []
    for m in _PHONE_RUN.finditer(norm):
        run = m.group()
        run_digits = _NON_DIGITS.sub("", run)
        base = m.start()
        if len(run_digits) < 8 or _IBAN_HEAD_BEFORE.search(norm, max(0, base - 6), base):
            continue  # too short, or the rest of an IBAN that failed its check
        if " " not in run:  # one chunk: the whole run or nothing
            if _phone_level(norm, base, m.end(), run_digits):
                edits.append((base, m.end(), "[PHONE]"))
            continue
        # Several chunks: from each chunk take the longest strong match, else the longest weak
        # one if it is the whole run (weak formats must not be cut out of a longer number).
        chunks = [(base + c.start(), base + c.end()) for c in _CHUNK.finditer(run)]
        digits = [len(_NON_DIGITS.sub("", norm[s:e])) for s, e in chunks]
        n, i = len(chunks), 0
        while i < n:
            best = 0
            for j in range(min(n, i + 6), i, -1):  # longest first, at most 6 chunks
                nd = sum(digits[i:j])
                s, e = chunks[i][0], chunks[j - 1][1]
                if nd < 8 or nd > 17 or norm[e - 1] == "(":
                    continue
                level = _phone_level(norm, s, e, _NON_DIGITS.sub("", norm[s:e]))
                if level == _STRONG or (level == _WEAK and i == 0 and j == n and not best):
                    best = j
                    if level == _STRONG:
                        break
            if best:
                edits.append((chunks[i][0], chunks[best - 1][1], "[PHONE]"))
            i = best or i + 1
    return edits


# ---------------------------------------------------------------------------
# Assembly


def _merge(edits: list[_Edit]) -> list[_Edit]:
    """Sort edits (the longer first at one start) and drop any that overlap an earlier one."""
    edits.sort(key=lambda ed: (ed[0], -ed[1]))
    out: list[_Edit] = []
    last = -1
    for s, e, r in edits:
        if s >= last:
            out.append((s, e, r))
            last = e
    return out


def _apply(text: str, norm: str, edits: list[_Edit]) -> tuple[str, str]:
    """Apply sorted, non-overlapping edits to the text and its normalised view alike."""
    parts, nparts, pos = [], [], 0
    same = norm is text
    for s, e, r in edits:
        parts += (text[pos:s], r)
        if not same:
            nparts += (norm[pos:s], r)
        pos = e
    parts.append(text[pos:])
    new = "".join(parts)
    if same:
        return new, new
    nparts.append(norm[pos:])
    return new, "".join(nparts)


_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]{0,30}\]")


def _check_name(name: object) -> str:
    upper = name.upper() if isinstance(name, str) else ""
    if not _NAME_RE.fullmatch(upper):
        raise UsageError(
            "E301",
            f"invalid PII pattern name {name!r}.",
            "Use a name of letters, digits and '_' starting with a letter, at most 31 characters, e.g. ORDER_ID=ORD-\\d{8}.",
        )
    return upper


def _compile_user(name: str, regex: object) -> re.Pattern:
    if not isinstance(regex, str) or not regex:
        raise UsageError("E302", f"PII pattern {name} has no regular expression.", "Write it as NAME=REGEX.")
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise UsageError(
            "E302", f"PII pattern {name} is not a valid regular expression: {exc}.",
            "Check brackets and escapes; quote the option in the shell, e.g. --redact-pattern 'ORDER_ID=ORD-\\d{8}'.",
        ) from None
    if compiled.fullmatch(""):
        raise UsageError(
            "E302", f"PII pattern {name} matches empty text, so it would redact between every character.",
            "Use + instead of * so that it needs at least one character, e.g. ORD-\\d+.",
        )
    return compiled


def parse_pattern_option(value: str) -> tuple[str, str]:
    """Parse a CLI `NAME=REGEX` option into (NAME upper-cased, REGEX); UsageError E301/E302 if malformed."""
    name, sep, regex = value.partition("=")
    if not sep:
        raise UsageError("E301", f"PII pattern {value!r} has no '='.", "Write it as NAME=REGEX, e.g. ORDER_ID=ORD-\\d{8}.")
    name = _check_name(name.strip())
    _compile_user(name, regex)
    return name, regex


class Redactor:
    """Replaces PII in text with placeholders such as [EMAIL]; build once, call `redact` per text."""

    def __init__(
        self,
        extra_patterns: Mapping[str, str] | None = None,
        disabled: set[str] | frozenset = frozenset(),
    ):
        users: list[tuple[str, str, re.Pattern]] = []
        for raw_name, regex in (extra_patterns or {}).items():
            name = _check_name(raw_name)
            users.append((name.lower(), f"[{name}]", _compile_user(name, regex)))
        known = list(BUILTIN_KINDS) + [k for k, _, _ in users if k not in BUILTIN_KINDS]
        unknown = sorted(k for k in disabled if k not in known)
        if unknown:
            raise UsageError(
                "E303", f"unknown PII kind(s) to keep: {', '.join(map(repr, unknown))}.",
                f"Valid kinds: {', '.join(known)}.",
            )
        self._builtins: list[tuple[str, Callable[[str, str], list[_Edit]]]] = [
            (kind, fn) for kind, fn in (
                ("url_secret", lambda n, t: _find_url_secrets(n)),
                ("email", lambda n, t: _find_emails(n)),
                ("iban", lambda n, t: _find_ibans(n)),
                ("national_id", _find_national_ids),
                ("card", lambda n, t: _find_cards(n)),
                ("phone", lambda n, t: _find_phones(n)),
            ) if kind not in disabled
        ]
        self._users = [(k, p, rx) for k, p, rx in users if k not in disabled]
        self.kinds: tuple[str, ...] = tuple(dict.fromkeys([k for k, _ in self._builtins] + [k for k, _, _ in self._users]))

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """Return (redacted text, {kind: count}) with only the kinds found; idempotent."""
        counts: dict[str, int] = {}
        if not text or (not self._users and not _triggered(text)):
            return text, counts
        for _ in range(_MAX_PASSES):
            new = self._pass(text, counts)
            if new == text:
                break
            text = new
        return text, counts

    def _pass(self, text: str, counts: dict[str, int]) -> str:
        if self._builtins and _triggered(text):
            norm = _normalise(text)
            dense = _DENSE_DIGITS.search(norm) is not None
            for kind, find in self._builtins:
                if not dense and kind in _DIGIT_KINDS:
                    continue
                edits = find(norm, text)
                if edits:
                    text, norm = _apply(text, norm, edits)
                    counts[kind] = counts.get(kind, 0) + len(edits)
        for kind, placeholder, rx in self._users:
            edits = self._user_edits(text, placeholder, rx)
            if edits:
                text, _ = _apply(text, text, edits)
                counts[kind] = counts.get(kind, 0) + len(edits)
        return text

    @staticmethod
    def _user_edits(text: str, placeholder: str, rx: re.Pattern) -> list[_Edit]:
        # Never match inside an earlier placeholder: "[EMAIL]" must survive a pattern like EMAIL.
        protected = [m.span() for m in _PLACEHOLDER.finditer(text)] if "[" in text else []
        starts = [ps for ps, _ in protected]
        edits = []
        for m in rx.finditer(text):
            s, e = m.span()
            if s == e:
                continue
            if protected:
                k = bisect_right(starts, s) - 1  # the placeholder at or before s, then the next one
                if (k >= 0 and protected[k][1] > s) or (k + 1 < len(protected) and protected[k + 1][0] < e):
                    continue
            edits.append((s, e, placeholder))
        return edits
