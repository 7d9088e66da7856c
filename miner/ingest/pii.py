"""PII redaction, applied to every text at ingestion before anything reaches the database.

Built-in kinds and their placeholders:

    url_secret   URL passwords, secret query values, JWTs,
                 tokens in URL paths and fragments          -> [SECRET] (the URL itself is kept)
    email        also written out ("ana [at] x [dot] com")  -> [EMAIL]
    iban         ISO 13616 mod-97 + country length          -> [IBAN]
    national_id  SSN, NINO, CN ID, DNI/NIE, NIR, codice fiscale, Iranian code,
                 Vietnamese CCCD/CMND, CPF, Aadhaar, Korean RRN, Emirates ID,
                 SNILS (with their check digits)            -> [NATIONAL_ID]
    card         13-19 digits passing Luhn                  -> [CARD]
    phone        international and national formats         -> [PHONE]
    person       names in signatures and introductions,
                 opt-in (`enabled={"person"}`)              -> [PERSON]

Evidence, not checksums alone: a value shaped like a card, an IBAN or a national id next to
its keyword (13 languages: "card", "carte", "卡号", "IBAN", "شبا", "身份证", "SSN", "DNI",
"マイナンバー", "주민등록번호", "کد ملی", "СНИЛС"...; before it, just after it, or as a label on
the line above) is redacted even when its check fails: customers mistype them. Without a
keyword the check is required, and an order-like keyword before the value wins ("order
4539 1488 0343 6467" is an order number even if it passes Luhn). After its keyword a value may be
grouped by hand (dots, slashes, groups of 2-5, double spaces), wrapped onto the next line, or open
the next message of a chat transcript ("[10:24] Kunde: DE18 ..."). A masked card ("**** 1234",
"4539 14** **** 6467") is no longer a card number and stays.

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

__all__ = ["BUILTIN_KINDS", "OPT_IN_KINDS", "PLACEHOLDERS", "Redactor", "parse_pattern_option"]

PLACEHOLDERS: dict[str, str] = {
    "url_secret": "[SECRET]",
    "email": "[EMAIL]",
    "iban": "[IBAN]",
    "national_id": "[NATIONAL_ID]",
    "card": "[CARD]",
    "phone": "[PHONE]",
    "person": "[PERSON]",
}
BUILTIN_KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)  # also the order they run in
OPT_IN_KINDS: frozenset[str] = frozenset({"person"})  # off unless asked for (`enabled`)

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
    return (_TRIGGER_CHARS.search(text) is not None or "://" in text or "eyJ" in text
            or (_written_hint(text) and _WRITTEN_GUARD.search(text) is not None))


# ---------------------------------------------------------------------------
# Check digits


# Check digits come from python-stdnum where it measured as well as the hand-written checks it
# replaced (Luhn, Verhoeff, DNI/NIE, NIR, codice fiscale, CPF: docs/benchmarks.md, "PII
# redaction"). Two stay hand-written because stdnum measured worse on valid numbers: IBANs
# (stdnum has no table entry for Iran, whose IBANs customers write) and Chinese resident ids
# (stdnum checks the district against a table that lacks current districts, e.g. 440106).


def _luhn(digits: str) -> bool:
    from stdnum import luhn

    return luhn.is_valid(digits)


def _mod97(chars: str) -> int:
    return int("".join(str(int(c, 36)) for c in chars)) % 97


def _verhoeff(digits: str) -> bool:
    from stdnum import verhoeff

    return verhoeff.is_valid(digits)


def _cn_id_ok(s: str) -> bool:
    """PRC resident ID, ISO 7064 MOD 11-2."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(s[:17], weights))
    return "10X98765432"[total % 11] == s[17].upper()


def _dni_ok(s: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter)."""
    from stdnum.es import dni, nie

    s = s.replace("-", "").replace(" ", "").upper()
    return (nie if s[0] in "XYZ" else dni).is_valid(s)


def _nir_ok(s: str) -> bool:
    """French NIR: 13 characters (2A/2B for Corsica) + 2-digit key = 97 - n mod 97."""
    from stdnum.fr import nir

    return nir.is_valid(s.replace(" ", "").upper())


def _cf_ok(s: str) -> bool:
    """Italian codice fiscale control character."""
    from stdnum.it import codicefiscale

    return codicefiscale.is_valid(s.upper())


def _iran_ok(d: str) -> bool:
    if len(set(d)) == 1:
        return False
    r = sum(int(d[i]) * (10 - i) for i in range(9)) % 11
    return int(d[9]) == (r if r < 2 else 11 - r)


def _cpf_ok(d: str) -> bool:
    from stdnum.br import cpf

    return cpf.is_valid(d)


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
    if "://" in norm:
        edits += _url_tokens(norm)
    return _merge(edits)


# A token in a URL's path, query or fragment, whatever its parameter's name ("/password/reset/9f86d0...",
# "magic?t=Ngipc1LAS...", "#access_token=..."): a run of 16+ letters and digits with at least 2 digits
# and 4 letters. Words, slugs ("refund-policy-2024"), UUID pieces, numeric order ids and short codes
# ("B08N5WRWNW", "1Z999AA10123456784") stay.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/<>\"'`]+(/[^\s<>\"'`]*|[?#][^\s<>\"'`]*)")
_URL_PIECE = re.compile(r"[A-Za-z0-9_\-]{16,}")
_TOKEN_RUN = re.compile(r"[A-Za-z0-9]{16,}")


def _token_like(piece: str) -> bool:
    for run in _TOKEN_RUN.finditer(piece):
        r = run.group()
        digits = sum(ch.isdigit() for ch in r)
        if digits >= 2 and len(r) - digits >= 4:
            return True
    return False


def _url_tokens(norm: str) -> list[_Edit]:
    edits: list[_Edit] = []
    for m in _URL.finditer(norm):
        for p in _URL_PIECE.finditer(norm, m.start(1), m.end(1)):
            if norm[p.start() - 1] in "/=#;&?" and _token_like(p.group()):
                edits.append((p.start(), p.end(), _SECRET))
    return edits


# ---------------------------------------------------------------------------
# E-mail

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


# Written out so that robots miss them: "maria.lopez [at] gmail [dot] com", "k.mueller(at)web.de",
# "jean arobase orange point fr", "ivan собака yandex точка ru". A bracketed "at" is enough; a bare
# word needs an unambiguous one (arobase, arroba, собака) or an address-like local part (. _ - or a
# digit) and a spelled-out dot.
_AT_WORDS = r"at|arroba|arobase|chiocciola|собака|@"
_DOT_WORDS = r"dot|punto|point|ponto|punkt|точка"
_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
_LOCAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})"


def _br(words: str) -> str:
    """One of `words` in brackets: "[at]", "(dot)", "{at}"."""
    return r"\s?[\[({<]\s?(?:" + words + r")\s?[\])}>]\s?"


_EMAIL_WRITTEN = re.compile(
    rf"(?<![A-Za-z0-9._%+\-])(?:"
    rf"{_LOCAL}{_br(_AT_WORDS)}{_LABEL}(?:(?:{_br(_DOT_WORDS)}|\s?\.\s?|\s(?:{_DOT_WORDS})\s){_LABEL})*"
    rf"(?:{_br(_DOT_WORDS)}|\s?\.\s?|\s(?:{_DOT_WORDS})\s)[A-Za-z]{{2,24}}"
    rf"|{_LOCAL}\s(?:arroba|arobase|chiocciola|собака)\s{_LABEL}(?:(?:\s?\.\s?|\s(?:{_DOT_WORDS})\s){_LABEL})*"
    rf"(?:\s?\.\s?|\s(?:{_DOT_WORDS})\s)[A-Za-z]{{2,24}}"
    # English words alone ("name at domain dot com"): lower case, and a local part that looks like one
    # ("j.doe", "tom_h", "anna82"), so that prose ("...coming. At this point just") is left alone
    rf"|(?:[A-Za-z0-9]+(?:[._\-][A-Za-z0-9]+)+|[A-Za-z]+[0-9]+)\s(?-i:at)\s{_LABEL}(?:\s(?-i:dot)\s{_LABEL})*\s(?-i:dot)\s[a-z]{{2,24}}"
    rf")(?![A-Za-z0-9\-])",
    re.IGNORECASE,
)
_WRITTEN_GUARD = re.compile(r"[\[({<]\s?(?:" + _AT_WORDS + r")\s?[\])}>]|\s(?:at|arroba|arobase|chiocciola|собака)\s", re.IGNORECASE)


# Substrings one of which every written-out address holds: `in` tests are far cheaper than a regex.
_WRITTEN_HINTS = (" at ", "(at)", "[at]", "{at}", "<at>", "(@)", "[@]", " AT ", "(AT)", "[AT]", "(At)", "[At]",
                  "arroba", "arobase", "chiocciola", "собака", "(ARROBA)")


_WRITTEN_HINT = re.compile("|".join(map(re.escape, _WRITTEN_HINTS)))


def _written_hint(text: str) -> bool:
    return _WRITTEN_HINT.search(text) is not None


def _find_emails(norm: str) -> list[_Edit]:
    edits = [(m.start(), m.end(), "[EMAIL]") for m in _EMAIL.finditer(norm)] if "@" in norm else []
    if _written_hint(norm):
        for g in _WRITTEN_GUARD.finditer(norm):  # the local part ends right before its "at": back up over it
            i = g.start() - (g.start() > 0 and norm[g.start() - 1] == " ")
            stop = max(0, i - 64)
            while i > stop and norm[i - 1] in _LOCAL_CHARS:
                i -= 1
            m = _EMAIL_WRITTEN.match(norm, i)
            if m and m.end() > g.end():
                edits.append((m.start(), m.end(), "[EMAIL]"))
    return _merge(edits)


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
# Between any two characters: nothing, one or two spaces or dashes, or a line break (an IBAN copied
# in groups of 2-5, with double spaces, or wrapped onto the next line).
_IBAN_SEP = r"(?:[ \-]{1,2}|[ ]?\r?\n[ ]?)?"
_IBAN = re.compile(rf"[A-Za-z](?<![A-Za-z0-9].)[A-Za-z]{_IBAN_SEP}[0-9]{_IBAN_SEP}[0-9](?:{_IBAN_SEP}[A-Za-z0-9]){{11,30}}")
_IBAN_HEAD_BEFORE = re.compile(r"[A-Za-z]{2}[0-9]{2}[ \-]?$")  # cards/phones do not start inside one
_IBAN_GUARD = re.compile(r"[A-Za-z][ \-]{0,2}[0-9]{2}(?:[\s\-]{0,2}[0-9A-Za-z]){8}")  # country, check digits, BBAN


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
    if not known:
        return 0  # "YT52 9474 ..." is a tracking number: 1 in 97 of them pass mod 97
    for length in (known,):
        if length in ends and _mod97(compact[4:length] + compact[:4]) == 1:
            return ends[length]
    return 0


def _find_ibans(norm: str, text: str) -> list[_Edit]:
    edits: list[_Edit] = []
    if not _IBAN_GUARD.search(norm):
        return edits
    for m in _IBAN.finditer(norm):
        end = _iban_span(m.group())
        if end:
            edits.append((m.start(), m.start() + end, "[IBAN]"))
    return _merge(edits + _iban_evidence(norm, text))


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
_IR_ID_KW = re.compile(r"[کك]د\s?مل[یي]|شماره\s?مل[یي]|national\s?(?:code|id)|code\s?melli|melli", re.IGNORECASE)
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


# Formatted ids whose check digits make them safe to redact without a keyword.
_RRN = re.compile(r"[0-9](?<![0-9A-Za-z\-].)[0-9]{5}-[1-8][0-9]{6}(?![0-9A-Za-z\-])")
_EID = re.compile(r"7(?<![0-9A-Za-z\-].)84-[0-9]{4}-[0-9]{7}-[0-9](?![0-9A-Za-z\-])")
_SNILS = re.compile(r"[0-9](?<![0-9A-Za-z\-].)[0-9]{2}-[0-9]{3}-[0-9]{3}[ \-][0-9]{2}(?![0-9A-Za-z\-])")


_CHECKED_GUARD = re.compile(r"[0-9]{6}-[0-9]{7}|784-|[0-9]{3}-[0-9]{3}-[0-9]{3}")


def _snils_ok(d: str) -> bool:
    """Russian SNILS: the last two digits are the weighted sum of the first nine mod 101 (100 -> 00)."""
    c = sum(int(ch) * (9 - i) for i, ch in enumerate(d[:9])) % 101
    return int(d[9:]) == (0 if c == 100 else c) and int(d[:9]) > 1001998


def _checked_ids(norm: str) -> list[_Edit]:
    edits: list[_Edit] = []
    if "-" not in norm or not _CHECKED_GUARD.search(norm):
        return edits
    from stdnum import luhn
    from stdnum.kr import rrn

    for rx, ok in ((_RRN, rrn.is_valid), (_EID, lambda s: luhn.is_valid(s.replace("-", ""))),
                   (_SNILS, lambda s: _snils_ok(_NON_DIGITS.sub("", s)))):
        for m in rx.finditer(norm):
            if ok(m.group()):
                edits.append((m.start(), m.end(), "[NATIONAL_ID]"))
    return edits


_MORE_GROUPS = re.compile(r"[ \-][0-9]")


def _find_national_ids(norm: str, text: str) -> list[_Edit]:
    edits = []
    for guard, rx in zip(_NATIONAL_GUARDS, _NATIONAL):
        if not guard.search(norm):
            continue
        for m in rx.finditer(norm):
            if (" " in m.group() or "-" in m.group()) and _MORE_GROUPS.match(norm, m.end()):
                continue  # grouped digits that go on: part of a longer number (a 22-digit tracking number)
            if _national_ok(m.lastgroup or "", m.group(), norm, text, m.start(), m.end()) and not _order_number(text, m.start()):
                edits.append((m.start(), m.end(), "[NATIONAL_ID]"))
    return _merge(edits + _id_evidence(norm, text) + _checked_ids(norm))


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


def _find_cards(norm: str, text: str) -> list[_Edit]:
    edits = [
        (m.start(), m.end(), "[CARD]")
        for m in _CARD.finditer(norm)
        if _card_ok(m.group()) and not _IBAN_HEAD_BEFORE.search(norm, max(0, m.start() - 6), m.start())
        and not _order_number(text, m.start())
    ]
    return _merge(edits + _card_evidence(norm, text))


def _order_number(text: str, start: int) -> bool:
    """Does an order-like keyword stand right before text[start] ("order no. 4539 ...")? Then a
    number that passes the card check by chance (1 in 10 do) is taken for what it says it is."""
    before = text[max(0, start - _EVIDENCE_GAP) : start].lower()
    m = None
    for m in _keywords(_ORDER_GAP, before):
        pass
    return m is not None and not any(ch.isdigit() for ch in before[m.end() :]) and not next(_keywords(_CARD_KW, before, m.end()), None)


# ---------------------------------------------------------------------------
# Evidence: a number shaped like a card, an IBAN or a national id right after its keyword is
# redacted even when its check fails (customers mistype them; a reader still sees a card
# number). Without a keyword the check digits above decide. The keyword must come before the
# value, at most _EVIDENCE_GAP characters away, with no digit, sentence end or order-like
# keyword ("card order number 123...") between them.

_EVIDENCE_GAP = 24
_ORDER_GAP = re.compile(
    r"(?:order|invoice|tracking|ticket|transaction|reference|ref|customer|account|member|loyalty|gift|voucher"
    r"|pedido|factura|commande|facture|client|ordine|fattura|cliente|fatura|đơn|hóa đơn|vận đơn"
    r"|billet|billete|bilhete|biglietto|fahrkarte|fahrschein|vé|imei|serial)(?![a-z])"
    r"|(?:bestell|rechnung|kunden|sendung|auftrag|заказ|счёт-фактур|счет-фактур|билет)"
    r"|订单|訂單|单号|單號|票号|票號|运单|運單|会员|會員|礼品|禮品|注文|伝票|会員|ポイント|チケット|주문|송장|회원|티켓|سفارش|فاکتور"
    r"|فاتورة|رهگیری|التتبع|بلیت|بلیط|تذكرة|التذكرة"
    r"|طلب(?:ي|ية)?(?![\u0621-\u064A])",  # "طلب" (order), not "طلبوا" (they asked)
    # matched against lower-cased text: case-sensitive literals let `re` skip faster
)

_CARD_KW = re.compile(
    r"(?:(?:credit|debit|bank|payment)\s?card|card|visa|master\s?card|amex|american express|maestro|cb"
    r"|carte(?:\s(?:bancaire|bleue|de\scr[ée]dit))?|tarjeta|(?:kredit|debit|ec-|bank|giro|geld)?karten?(?:-?nummer|-?nr)?"
    r"|girocard|cart[ãa]o|carta|cc|kk|kk-?nr|tarj|tarjeta de cr[ée]dito"
    r"|kártya|karty?|kart[ęy]|карт[аыуеой]*|thẻ|the tin dung|so the)(?![a-z])"
    r"|卡号|卡號|银行卡|銀行卡|信用卡|借记卡|储蓄卡|卡|カード|ｶｰﾄﾞ|クレカ|카드|[کك]ارت|بطاق[ةته]|البطاق[ةه]|كرت|فيزا",
    # matched against lower-cased text: case-sensitive literals let `re` skip faster
)
_CARD_SHAPE_ANY = re.compile(r"[1-9][0-9]{3}(?:[ \-]?[0-9]){8,15}(?![0-9])")

_IBAN_KW = re.compile(
    r"(?:iban|rib|bank\s?account|account|acct|acc|kontonummer|konto|kto|bankverbindung|bankverb|compte|cpte|cuenta|cta"
    r"|conta|nib|conto|c/c|счёт|счет|р/с|tài khoản|tai khoan|stk|số tk|so tk|sheba|shaba)(?![a-z])"
    r"|شبا|شماره\s?حساب|آيبان|الآيبان|ايبان|الحساب|账户|帳戶|账号|帳號|口座|계좌",
    # matched against lower-cased text: case-sensitive literals let `re` skip faster
)
_IBAN_SHAPE_ANY = re.compile(rf"[A-Z]{{2}}{_IBAN_SEP}[0-9]{_IBAN_SEP}[0-9](?:{_IBAN_SEP}[A-Z0-9]){{10,32}}")

# (family, keywords, shape): the shape is searched right after the keyword.
_ID_FAMILIES = (
    ("cn", r"身份证|身份證|公民身份号码|居民身份证|证件号|證件號|(?:chinese|resident)\s?id(?![a-z])",
     r"[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14}|[1-9][0-9]{5}[ \-][0-9]{8}[ \-][0-9]{3}[0-9Xx]"),
    ("ssn", r"(?:ssn|s\.s\.n\.?|ss#|soc\.?\s?sec(?:urity)?\.?(?:\s?(?:number|no|#))?|social\s?security(?:\s?(?:number|no|#))?|itin)(?![a-z])",
     r"[0-9]{3}[ \-]?[0-9]{2}[ \-]?[0-9]{4}"),
    ("dni", r"(?:dni|nie|nif|d\.\s?n\.\s?i\.?|n\.\s?i\.\s?[ef]\.?|documento nacional de identidad|n[úu]mero de identidad)(?![a-z])",
     r"[0-9]{7,8}[ \-]?[A-Za-z]|[XYZxyz][ \-]?[0-9]{7}[ \-]?[A-Za-z]"),
    ("cpf", r"(?:cpf|c\.\s?p\.\s?f\.?|rg|identidade)(?![a-z])",
     r"[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}[\-\.]?[0-9]{2}|[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}-?[0-9Xx]"),
    ("nir", r"(?:s[ée]curit[ée] sociale|s[ée]cu|insee|nir|n\.\s?i\.\s?r\.?|n°\s?ss|carte vitale|num[ée]ro de s[ée]cu)(?![a-z])",
     r"[12378](?: ?[0-9]){12}(?: ?[0-9]{2})?|[12] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[ABab]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"),
    ("de", r"(?:steuer-?id|steuer-?idnr|steuer-?identifikationsnummer|steueridentifikationsnummer|idnr"
           r"|identifikationsnummer|steuernummer|st\.?-?nr)(?![a-z])",
     r"[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}|[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}|[0-9]{10,13}"),
    ("de_ausweis", r"(?:personalausweis(?:nummer)?|ausweisnummer|ausweis-?nr)(?![a-z])",
     r"[CFGHJKLMNPRTVWXYZ0-9]{9}[0-9]?"),
    ("cf", r"(?:codice fiscale|c\.\s?f\.|cf|tessera sanitaria)(?![a-z])",
     r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]"),
    ("nino", r"(?:national\s?insurance(?:\s?(?:number|no))?|nino|n\.?i\.?\s?(?:no|num|number|#))(?![a-z])",
     r"[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]?"),
    ("aadhaar", r"(?:aadh?aar|uidai)(?![a-z])|आधार", r"[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{4}"),
    ("iran", r"[کك]د\s?مل[یي]|شماره\s?مل[یي]|شماره\s?شناسنامه|(?:code\s?melli|melli\s?code|national\s?code)(?![a-z])",
     r"[0-9]{3}-?[0-9]{6}-?[0-9]|[0-9]{8,10}"),
    ("arab", r"رقم\s?(?:ال)?هوي[ةته]|(?:ال)?هوي[ةه]\s?(?:ال)?وطني[ةه]|بطاق[ةه]\s?(?:ال)?هوي[ةه]|هوي[ةه]\s?رقم|هويتي"
             r"|رقم\s?(?:ال)?إقام[ةه]|رقم\s?الاقام[ةه]|(?:رقم\s?)?السجل\s?المدني"
             r"|(?:emirates\s?id|iqama)(?![a-z])",
     r"784[ \-]?[0-9]{4}[ \-]?[0-9]{7}[ \-]?[0-9]|[12][0-9]{9}|[0-9]{9,15}"),
    ("vn", r"(?:cccd|cmnd|cmt|căn cước|can cuoc|chứng minh(?: nhân dân)?|chung minh|định danh|dinh danh)(?![a-z])",
     r"[0-9]{9,12}"),
    ("jp", r"マイナンバー|ﾏｲﾅﾝﾊﾞｰ|個人番号|my\s?number(?![a-z])", r"[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{4}"),
    ("kr", r"주민\s?등록\s?번호|주민번호|rrn(?![a-z])", r"[0-9]{6}[ \-]?[0-9]{7}"),
    ("ru", r"(?:снилс|инн|паспорт(?:\s?(?:серия|серии)(?:\s?и\s?номер)?)?|серия\s?и\s?номер|серия)(?![a-zа-я])",
     r"[0-9]{3}[ \-][0-9]{3}[ \-][0-9]{3}[ \-]?[0-9]{2}|[0-9]{2} ?[0-9]{2} ?(?:№ ?)?[0-9]{6}|[0-9]{10,12}"),
    ("passport", r"(?:passport(?:\s?(?:number|no))?|reisepass(?:nummer)?|passeport|pasaporte|passaporte|passaporto"
                 r"|hộ chiếu|ho chieu|national\s?id(?:\s?(?:number|card))?|id\s?card(?:\s?number)?|identity\s?(?:card|number)"
                 r"|carte d'identit[ée]|carta d'identit[àa]|documento de identidad)(?![a-z])"
                 r"|护照|護照|パスポート|여권|신분증|گذرنامه|پاسپورت|جواز\s?(?:ال)?سفر|загранпаспорт",
     r"[A-Za-z]{0,2}[0-9]{6,12}[A-Za-z]?"),
)
_ID_KW = re.compile("|".join(f"(?P<{name}>{kw})" for name, kw, _ in _ID_FAMILIES))  # on lower-cased text
# Plain substrings, one of which every keyword of a family contains: `in` tests on the lower-cased
# text skip the regexes for texts with no keyword at all, the common case.
_STEMS = {
    "cn": ("身份", "证件", "證件", "chinese", "resident"),
    "ssn": ("ssn", "s.s.n", "ss#", "soc.", "soc sec", "socsec", "social", "itin"),
    "dni": ("dni", "nie", "nif", "d.n", "d. n", "n.i", "n. i", "documento", "identidad"),
    "cpf": ("cpf", "c.p", "c. p", "rg", "identidade"),
    "nir": ("curit", "sécu", "secu", "insee", "nir", "n.i.r", "n. i. r", "n°ss", "n° ss", "vitale"),
    "de": ("steuer", "idnr", "identifikation", "st.", "st-", "stnr"), "de_ausweis": ("ausweis",),
    "cf": ("codice", "c.", "cf", "tessera"), "nino": ("insurance", "nino", "n.i", "ni"),
    "aadhaar": ("aadh", "uidai", "आधार"), "iran": ("ملی", "ملي", "شناسنامه", "melli", "national"),
    "arab": ("هوي", "إقام", "الاقام", "السجل", "emirates", "iqama"),
    "vn": ("cccd", "cmnd", "cmt", "căn", "can cuoc", "chứng", "chung minh", "định", "dinh danh"),
    "jp": ("マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "個人番号", "my"), "kr": ("주민", "rrn"), "ru": ("снилс", "инн", "паспорт", "серия"),
    "passport": ("pass", "pasaporte", "hộ chiếu", "ho chieu", "national", "id card", "idcard", "identit", "d'identit",
                 "documento", "护照", "護照", "パスポート", "여권", "신분증", "گذرنامه", "پاسپورت", "جواز"),
}
_ID_KW_PARTS = tuple((_STEMS[name], re.compile(kw)) for name, kw, _ in _ID_FAMILIES)
_ID_SHAPES = {name: re.compile(shape) for name, _, shape in _ID_FAMILIES}


# Values are found first (runs of six digits or more, with the letters that lead them), then
# a keyword is looked for just before each: far cheaper than scanning every text for keywords.
_IBAN_HEAD = re.compile(r"[A-Z](?<![0-9A-Za-z].)[A-Z](?:[ \-]{1,2})?[0-9]{2}")
_CF_HEAD = re.compile(r"[A-Za-z](?<![0-9A-Za-z].)[A-Za-z]{5}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z]")
_VALUE_RUN = re.compile(r"[0-9](?:[ \-./]?[0-9]){5,}")
_SENTENCE_END = re.compile(r"[。！？!?\n]|[.;](?=\s)")


def _sentence_ends(s: str, pos: int) -> bool:
    """Does a sentence end in s[pos:]? A dot after a word of at most three letters is an
    abbreviation ("Nr.", "no.", "C.F."), not an end; after a longer word ("my card.") it is."""
    for m in _SENTENCE_END.finditer(s, pos):
        if m.group() != ".":
            return True
        j = m.start()
        while j > 0 and (s[j - 1].isalpha() or s[j - 1] in ".º°"):
            j -= 1
        if not 1 <= m.start() - j <= 3:
            return True
    return False


def _keywords(kw: re.Pattern, s: str, pos: int = 0):
    """Matches of a keyword regex that do not start inside a word (checked here rather than
    with a leading lookbehind, which would stop `re` from skipping to the keywords' first letters)."""
    for m in kw.finditer(s, pos):
        i = m.start()
        if i == 0 or not ("a" <= s[i - 1] <= "z" or "а" <= s[i - 1] <= "я" or s[i - 1] == "ё"):
            yield m


def _any_keyword(kw: re.Pattern, lower: str) -> bool:
    """Is there a keyword of `kw` in the text? (The national-id families are searched one by one:
    `re` skips to each one's first letters; their union has no common first letters to skip to.)"""
    if kw is not _ID_KW:
        return next(_keywords(kw, lower), None) is not None
    return any(any(stem in lower for stem in stems) and next(_keywords(rx, lower), None) for stems, rx in _ID_KW_PARTS)


# The head of a chat transcript's line: a time (with or without a date, in brackets or not), then the
# speaker ("14/03/2026, 10:24 - Kunde: ", "[10:24] Client: ", "10:24:13 <Customer> ").
_CHAT_PREFIX = re.compile(
    r"[ \t]*[\[(]?(?:[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{1,4},?[ \t]+)?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[ \t]?[AaPp][Mm])?[\])]?"
    r"[ \t]*[\-–]?[ \t]*(?:<[^<>\n]{1,40}>|[^:\n]{1,40}:)[ \t]*"
)


_ABBREVIATED = re.compile(r"(?:nr|no|num|nro|nbr|tarj|kto|cta|cpte|acct|acc|idnr|sec|soc|cred|fisc|corr)$")


def _keyword_before(text: str, start: int, kw: re.Pattern) -> re.Match | None:
    """The keyword that ends at most _EVIDENCE_GAP characters before `start`, with only words
    between ("number", "is", ":"): no digit, no sentence end, no order-like keyword."""
    lo = max(0, start - _EVIDENCE_GAP - 80)
    before = text[lo:start].lower()
    last = None
    for m in _keywords(kw, before):
        last = m
    if last is None:
        return None
    gap = before[last.end() :]
    label_rest, _, after_break = gap.partition("\n")
    chat = "\n" in gap and "\n" not in after_break and _CHAT_PREFIX.fullmatch(after_break)
    if chat:  # the value opens the next message of a chat transcript ("[10:24] Kunde: DE18 ...")
        gap, after_break = label_rest + "\n", ""
    if len(gap) > _EVIDENCE_GAP or any(ch.isdigit() for ch in gap) or next(_keywords(_ORDER_GAP, gap), None):
        return None
    if "\n" in gap and "\n" not in after_break and not after_break.strip() and len(label_rest) <= 12 and not _sentence_ends(label_rest, 0):
        return last  # a label ending its line, the value starting the next ("Card no\n4111 ...")
    # A dot right after an abbreviated keyword ("Steuer-IdNr. 40 ...", "tarj. 4111 ...") ends no sentence.
    abbrev = before[last.end() : last.end() + 1] == "." and _ABBREVIATED.search(before, 0, last.end()) is not None
    if _sentence_ends(before, last.end() + abbrev):
        return None
    return last


def _token_start(norm: str, start: int) -> int:
    """Back up over the ASCII letters that lead a value ("IT60X054...", "X1234567L", "AB123456C")."""
    i = start
    while i > 0 and start - i < 6 and norm[i - 1].isascii() and norm[i - 1].isalpha():
        i -= 1
    return i


def _whole_token(norm: str, start: int, end: int) -> bool:
    before_ok = start == 0 or not (norm[start - 1].isascii() and norm[start - 1].isalnum())
    after_ok = end == len(norm) or not (norm[end].isascii() and norm[end].isalnum())
    return before_ok and after_ok


def _candidate_starts(norm: str, heads: re.Pattern | None) -> list[int]:
    starts = [
        p for run in _VALUE_RUN.finditer(norm) if not _DATE_IN.fullmatch(run.group())  # dates are the commonest runs
        for p in (_token_start(norm, run.start()), run.start())
    ]
    if heads is not None:
        starts += [m.start() for m in heads.finditer(norm)]
    return sorted(set(starts))


def _evidence(norm: str, text: str, kw: re.Pattern, shape_for: Callable[[re.Match], re.Pattern | None],
              accept: Callable[[str], bool] | None = None, heads: re.Pattern | None = None) -> list[_Edit]:
    """Spans of values right after their keyword: shape_for(keyword match) gives the shape.
    Candidates start at digit runs (and the letters leading them) and at matches of `heads`."""
    edits: list[_Edit] = []
    starts = _candidate_starts(norm, heads)
    if not starts or not _any_keyword(kw, text.lower()):  # one scan of the text is cheaper than one per value
        return edits
    last_end = -1
    for start in starts:
        if start < last_end:
            continue
        v = None
        m = _keyword_before(text, start, kw)
        shape = shape_for(m) if m else None
        if shape is not None:
            v = shape.match(norm, start)
            if not (v and _whole_token(norm, v.start(), v.end()) and (accept is None or accept(v.group()))):
                v = None
        if v is None:
            v = _value_before_keyword(norm, text, start, kw, shape_for, accept)
        if v is not None:
            edits.append((v.start(), v.end(), ""))
            last_end = v.end()
    return edits


_AFTER_GAP = _EVIDENCE_GAP


def _value_before_keyword(norm: str, text: str, start: int, kw: re.Pattern, shape_for, accept) -> re.Match | None:
    """A value followed closely by its keyword ("4111 ... - that's my card number", "...这是我的卡号"):
    at most _AFTER_GAP characters between them, no digit, no sentence end, and no order-like keyword
    before the value ("order 4111 ... paid by card" is an order number)."""
    lower = text[start : start + 80].lower()
    for m in _keywords(kw, lower):
        shape = shape_for(m)
        v = shape.match(norm, start) if shape is not None else None
        if not (v and _whole_token(norm, v.start(), v.end()) and (accept is None or accept(v.group()))):
            continue
        between = text[v.end() : start + m.start()]
        if (start + m.start() < v.end() or len(between) > _AFTER_GAP or any(ch.isdigit() for ch in between)
                or _sentence_ends(between, 0) or "\n" in between or next(_keywords(_ORDER_GAP, between.lower()), None)
                or _order_number(text, start)):
            return None
        return v
    return None


def _card_grouping_ok(s: str) -> bool:
    """Written as card numbers are: in one block, in groups of four (the last one shorter), or 4-6-5."""
    if " " in s and "-" in s:
        return False
    groups = tuple(len(g) for g in re.split(r"[ \-]", s))
    if not 12 <= sum(groups) <= 19:
        return False
    return len(groups) == 1 or groups in {(4, 6, 5), (4, 6, 4), (4, 6, 6)} or (
        all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 5)


class _Span:
    """What _evidence needs of a match: start(), end(), group()."""

    def __init__(self, norm: str, start: int, end: int):
        self._norm, self._start, self._end = norm, start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self) -> str:
        return self._norm[self._start : self._end]


# After a card keyword, digits as people copy them by hand: groups of 1-6 digits split by spaces,
# dots, dashes or slashes (one to three of them), or wrapped onto the next line.
_CARD_GROUPS_ANY = re.compile(r"[1-9][0-9]{0,5}(?:(?:[ .\-/]{1,3}|[ ]?\r?\n[ ]?)[0-9]{1,6})+")
_DIGIT_GROUP = re.compile(r"[0-9]+")


class _CardShapeByHand:
    """The card number at the start of a run of digit groups: the longest prefix of whole groups
    (13-19 digits) that passes the card check, else the one of a usual card length (16, 15, 19,
    14, 13 digits), so that a date or a CVV after it is not taken in."""

    @staticmethod
    def match(norm: str, pos: int) -> _Span | None:
        m = _CARD_GROUPS_ANY.match(norm, pos)
        if not m:
            return None
        ends: dict[int, int] = {}
        n = 0
        for g in _DIGIT_GROUP.finditer(m.group()):
            n += len(g.group())
            if n > 19:
                break
            ends[n] = m.start() + g.end()
        if not any(12 <= k <= 19 for k in ends):
            return None
        for k in sorted(ends, reverse=True):
            if 13 <= k <= 19:
                d = _NON_DIGITS.sub("", norm[pos : ends[k]])
                if _iin_ok(d) and _luhn(d):
                    return _Span(norm, pos, ends[k])
        k = next((k for k in (16, 15, 19, 14, 13, 12, 17, 18) if k in ends), None)
        return _Span(norm, pos, ends[k]) if k else None


class _CardShape:
    """A card number after its keyword: written as cards are (one block, fours, 4-6-5), else grouped by hand."""

    @staticmethod
    def match(norm: str, pos: int) -> re.Match | _Span | None:
        m = _CARD_SHAPE_ANY.match(norm, pos)
        if m and _whole_token(norm, m.start(), m.end()) and _card_grouping_ok(m.group()):
            return m
        return _CardShapeByHand.match(norm, pos)


def _card_evidence(norm: str, text: str) -> list[_Edit]:
    return [(s, e, "[CARD]") for s, e, _ in _evidence(norm, text, _CARD_KW, lambda m: _CardShape)]


class _IbanShape:
    """_IBAN_SHAPE_ANY cut back to the end of its last whole token: a value wrapped onto the next
    line goes on, the label that opens the next line ("...99\nDate: ...") does not."""

    @staticmethod
    def match(norm: str, pos: int) -> _Span | None:
        m = _IBAN_SHAPE_ANY.match(norm, pos)
        if not m:
            return None
        end = m.end()
        word = lambda ch: ch.isascii() and ch.isalnum()  # noqa: E731  (CJK text may touch the value: "...224를")
        while end > pos and end < len(norm) and word(norm[end]):
            end -= 1
            while end > pos and word(norm[end - 1]):
                end -= 1
            while end > pos and not word(norm[end - 1]):
                end -= 1
        return _Span(norm, pos, end) if end - pos >= 14 else None


def _iban_evidence(norm: str, text: str) -> list[_Edit]:
    edits = []
    for s, e, _ in _evidence(norm, text, _IBAN_KW, lambda m: _IbanShape, heads=_IBAN_HEAD):
        end = _iban_cut(norm[s:e])
        if end:
            edits.append((s, s + end, "[IBAN]"))
    return edits


def _iban_cut(cand: str) -> int:
    """Where an IBAN-shaped value ends: at the token end whose compact length is nearest the
    country's (a word in capitals may follow it); 0 for an unknown country."""
    want = _IBAN_LENGTHS.get(cand[:2])
    if not want:
        return 0
    best, n = None, 0
    for i, ch in enumerate(cand):
        if ch.isalnum():
            n += 1
            if (i + 1 == len(cand) or not cand[i + 1].isalnum()) and abs(n - want) <= 2:
                if best is None or abs(n - want) < best[1]:
                    best = (i + 1, abs(n - want))
    return best[0] if best else 0


def _id_evidence(norm: str, text: str) -> list[_Edit]:
    return [(s, e, "[NATIONAL_ID]")
            for s, e, _ in _evidence(norm, text, _ID_KW, lambda m: _ID_SHAPES[m.lastgroup or ""], heads=_CF_HEAD)]


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
    r"|téléphone|portable|appel|joindre|teléfono|telefono|móvil|movil|celular|llam|cellulare|chiam|zalo|sđt|sdt|đt(?![a-zà-ỹ])"
    r"|điện thoại|dien thoai|gọi|goi|телефон|тел|моб|сотов|звон|позвон)"
    r"|电话|電話|手机|手機|联系|聯繫|聯絡|致电|致電|拨打|撥打|微信|热线|熱線|携帯|連絡|ケータイ|전화|연락처|휴대폰|핸드폰"
    r"|تلفن|تماس|موبایل|همراه|هاتف|جوال|اتصل|واتساب|موبايل",
    # matched against lower-cased text: case-sensitive literals let `re` skip faster
)
_ORDER_KW = re.compile(
    r"(?<![a-z])(?:order|invoice|tracking|ticket|ref(?![a-z])|customer|account|bestell|rechnung|kunden|konto|sendung"
    r"|pedido|factura|cuenta|commande|facture|compte|ordine|fattura|đơn|don hang|mã|iban|bic|заказ|счёт|счет|трек"
    r"|billet|billete|bilhete|biglietto|fahrkarte|fahrschein|билет|imei)"
    r"|订单|訂單|单号|單號|票号|票號|运单|運單|注文|伝票|チケット|주문|송장|티켓|سفارش|فاکتور|طلب|فاتورة|رقم الطلب|بلیت|بلیط|تذكرة",
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
    before = norm[max(0, start - 30) : start]
    # (inside a long table of numbers there is no keyword to look for)
    phone_kw, order_kw = _keywords_before(before.lower()) if before.strip(_NUMBERISH) else (False, False)
    if not level:  # only a plainly grouped 8-13 digit number right after a phone keyword remains
        if len(d) > 13 or not phone_kw:
            return 0
        groups = [g for g in _GROUP_SPLIT.split(w) if g]
        if (len(groups) > 4 or any(len(g) < 2 for g in groups)) and not _valid_for_script(w, norm):
            return 0
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


# Regions whose numbering plans decide a number after a phone keyword that the shapes above
# do not know ("8 (916) 212-26-67"): guessed from the script of the text.
_SCRIPT_REGIONS = (
    (re.compile(r"[\u0400-\u04FF]"), ("RU", "UA", "KZ", "BY")),
    (re.compile(r"[\u3040-\u30FF]"), ("JP",)),
    (re.compile(r"[\uAC00-\uD7A3]"), ("KR",)),
    (re.compile(r"[\u4E00-\u9FFF]"), ("CN", "TW", "HK")),
    (re.compile(r"[پچژگکی]"), ("IR",)),
    (re.compile(r"[\u0600-\u06FF]"), ("SA", "AE", "EG", "MA", "IR")),
    (re.compile(r"[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE), ("VN",)),
)
_LATIN_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "PT", "BR", "NL", "PL", "TR")


def _valid_for_script(w: str, norm: str) -> bool:
    """Is `w` a valid phone number (phonenumbers' metadata) in a region the text's script suggests?"""
    import phonenumbers

    regions = next((rs for rx, rs in _SCRIPT_REGIONS if rx.search(norm)), _LATIN_REGIONS)
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(w, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


@lru_cache(maxsize=4096)
def _keywords_before(before: str) -> tuple[bool, bool]:
    """(phone keyword wins, order keyword wins): of the two kinds of keyword, the closer one counts."""
    phone_at = _last_end(_PHONE_KW, before) if _PHONE_KW.search(before) else -1
    order_at = _last_end(_ORDER_KW, before) if _ORDER_KW.search(before) else -1
    return phone_at > order_at, order_at > phone_at


_FOURS = re.compile(r"(?:[0-9]{4} )+[0-9]{1,4}")


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
        if len(run_digits) >= 13 and _FOURS.fullmatch(run):
            continue  # 13+ digits in fours: a card, ticket or tracking number's layout, no phone's
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
# Names of people (opt-in)


# A name is looked for only where people write their own: after a closing ("Regards,",
# "Mit freundlichen Grüßen", "此致", "با تشکر") on the same or the next line, and in
# self-introductions ("my name is", "我是", "と申します", "저는 ...입니다", "меня зовут").
_UP = "A-ZÀ-ÖØ-ÞĀ-ŽƠƯĐА-ЯЁ"
_LOW = "a-zß-öø-ÿā-žơưđạ-ỹа-яё"
_CAP = rf"[{_UP}](?:[{_LOW}]+(?:['’\-][{_UP}]?[{_LOW}]+)*|['’][{_UP}][{_LOW}]+)"  # Maria, Jean-Luc, O'Brien
_LATIN_NAME = rf"{_CAP}(?:[ \t]+(?:(?:de|da|do|dos|das|del|della|di|van|von|der|den|la|le|bin|al|el)[ \t]+)?{_CAP}){{0,3}}"
_ARABIC_WORD = r"[\u0621-\u064A\u066E-\u06D3\u06FA-\u06FF\u200c]{2,}"
_ARABIC_NAME = rf"{_ARABIC_WORD}(?:[ \t]+{_ARABIC_WORD}){{0,2}}"
_HAN_SURNAMES = (
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹彭曾肖萧蕭田董袁潘于蒋蔣蔡余杜叶葉程苏蘇"
    "魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范金石廖贾賈夏韦韋付方白邹鄒孟熊秦邱江尹薛闫閻段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢严嚴"
    "覃武戴莫孔向汤湯欧阳歐陽司马馬上官诸葛諸葛"
)
_HAN_NAME = rf"[{_HAN_SURNAMES}][\u4e00-\u9fff]{{1,2}}"
_KANJI_NAME = r"[\u4e00-\u9fff\u3005]{2,5}"
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL_SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용"
_HANGUL_NAME = rf"[{_HANGUL_SURNAMES}][\uac00-\ud7a3]{{1,3}}"
_CLOSINGS = (
    r"(?:best |kind |warm |many )?regards|sincerely|yours (?:truly|faithfully|sincerely)|thanks|thank you|cheers|best wishes"
    r"|mit freundlichen gr(?:ü|ue)(?:ß|ss)en|freundliche gr(?:ü|ue)(?:ß|ss)e|viele gr(?:ü|ue)(?:ß|ss)e|beste gr(?:ü|ue)(?:ß|ss)e"
    r"|liebe gr(?:ü|ue)(?:ß|ss)e|gru(?:ß|ss)|mfg|vielen dank|danke"
    r"|cordialement|bien (?:à|a) vous|salutations(?: distinguées)?|bien cordialement|merci(?: d'avance)?"
    r"|saludos(?: cordiales)?|atentamente|un saludo|gracias|atenciosamente|obrigad[oa]|abraços|cumprimentos"
    r"|cordiali saluti|distinti saluti|saluti|grazie|с уважением|спасибо|с наилучшими пожеланиями"
    r"|trân trọng|cảm ơn|xin cảm ơn|thân ái|با تشکر|با سپاس|ارادتمند|مع (?:خالص )?التحية|مع التحيات|تحياتي|شكرا(?: لكم)?"
    r"|よろしくお願い(?:します|いたします|致します)|以上|감사합니다|고맙습니다|此致敬礼|此致|谢谢|謝謝"
)
_CLOSING_RE = re.compile(rf"(?<![^\W\d_])(?:{_CLOSINGS})[ \t]*[,.!:，。、،]?[ \t]*(?:\r?\n[ \t]*)?", re.IGNORECASE)
_INTRO_LATIN = re.compile(
    r"(?<![^\W\d_])(?:my name is|this is|i am|i'm|mein name ist|ich hei(?:ß|ss)e|je m'appelle|je suis|mon nom est"
    r"|me llamo|mi nombre es|soy|meu nome é|me chamo|eu sou|mi chiamo|sono|меня зовут|я\s—?|tôi là|tên tôi là|tôi tên là|tôi tên)"
    r"[ \t]+",
    re.IGNORECASE,
)
_NAME_AT = {  # what a name looks like right after a closing or an introduction
    "latin": re.compile(_LATIN_NAME),
    "arabic": re.compile(_ARABIC_NAME),
    "han": re.compile(_HAN_NAME),
    "kanji": re.compile(_KANJI_NAME),
    "hangul": re.compile(_HANGUL_NAME),
}
_INTRO_CJK = (
    (re.compile(rf"(?:我是|我叫|本人|我的名字是|联系人[:：]?|聯絡人[:：]?)[ \t]*({_HAN_NAME})(?![\u4e00-\u9fff]{{2}})"), 1),
    (re.compile(rf"(?:^|\n|[。、！\s])({_KANJI_NAME})(?:と申します|と言います|です。?$)"), 1),
    (re.compile(rf"(?:저는|제 이름은|나는)[ \t]*({_HANGUL_NAME})(?:입니다|이에요|예요|라고 합니다|이라고 합니다)"), 1),
    (re.compile(rf"(?:^|\n)[ \t]*({_HANGUL_NAME})[ \t]*(?:드림|올림)"), 1),
    # Persian and Arabic have no capitals: "من ناراضی هستم" (I am unhappy) reads like a name,
    # so only "my name is" counts there.
    (re.compile(rf"(?:اسم من|نام من)[ \t]+({_ARABIC_NAME})[ \t]+(?:هستم|است)"), 1),
    (re.compile(rf"(?:اسمي)[ \t]+({_ARABIC_NAME})"), 1),
)
# Words that end a signature without being a name: teams, companies, roles.
_NOT_NAMES = frozenset(
    "team support service services customer customers client clients care department company shop store the your our"
    " kundenservice kundendienst kundensupport service-team equipe équipe sav soporte atención atendimento cliente"
    " assistenza servizio clienti служба поддержки поддержка команда خدمة العملاء فريق الدعم الإدارة پشتیبانی تیم واحد مشتریان"
    " قسم إدارة ادارة شركة مؤسسة فروشگاه شرکت".split()
)


def _name_ok(name: str) -> bool:
    words = name.lower().split()
    return bool(words) and not any(w.strip(",.") in _NOT_NAMES for w in words)


# The signature separator ("-- " alone on its line, RFC 3676): the next line is the writer's name
# when it is a name alone. A form field of a name ("Name: ...", "Nom=...", "| Nombre | ... |",
# "姓名：...", "ФИО: ..."): its value, when it is a name alone.
_SIG_DASH = re.compile(r"(?:^|\n)--[ \t]?\r?\n[ \t]*")
_NAME_LABEL = re.compile(
    r"(?:^|\n|[/;|,][ \t]*)[ \t|]*(?:(?:full |first and last |customer |contact )?name|nom(?: complet)?|nombre(?: completo)?|nome(?: completo)?"
    r"|vorname und nachname|имя|фио|họ tên|họ và tên|họ và tên khách hàng|姓名|氏名|お名前|이름|성명|نام(?: و نام خانوادگی)?|الاسم|الإسم)"
    r"[ \t]*(?:[:=：]|\|)[ \t]*",
    re.IGNORECASE,
)
_FIELD_END = re.compile(r"[ \t]*(?:$|\r?\n|[/;|,])")


def _name_after(text: str, pos: int, kana: bool, own_line: bool, ends: Callable[[str, int], bool]) -> _Edit | None:
    for kind in ("latin", "arabic", "han", "kanji", "hangul"):
        if (kind == "kanji" and not kana) or (kind == "arabic" and not own_line):
            continue  # Japanese names only in Japanese text; Arabic-script ones only on their own line
        n = _NAME_AT[kind].match(text, pos)
        if n and _name_ok(n.group()) and ends(text, n.end()):
            return (n.start(), n.end(), "[PERSON]")
    return None


def _find_people(text: str) -> list[_Edit]:
    edits: list[_Edit] = []
    kana = _KANA.search(text) is not None
    for m in _CLOSING_RE.finditer(text):
        found = _name_after(text, m.end(), kana, "\n" in m.group(), _line_ends_after)
        if found:
            edits.append(found)
    if "--" in text:
        for m in _SIG_DASH.finditer(text):
            found = _name_after(text, m.end(), kana, True, _line_ends_after)
            if found:
                edits.append(found)
    for m in _NAME_LABEL.finditer(text):
        # (under a name label, a name in kanji is a name even in a text with no kana)
        found = _name_after(text, m.end(), True, True, lambda t, e: _FIELD_END.match(t, e) is not None)
        if found:
            edits.append(found)
    for m in _INTRO_LATIN.finditer(text):
        n = _NAME_AT["latin"].match(text, m.end())
        if n and _name_ok(n.group()):
            edits.append((n.start(), n.end(), "[PERSON]"))
    for rx, group in _INTRO_CJK:
        for m in rx.finditer(text):
            if _name_ok(m.group(group)):
                edits.append((m.start(group), m.end(group), "[PERSON]"))
    return _merge(edits)


def _line_ends_after(text: str, end: int) -> bool:
    """A signature's name ends its line (or the text), maybe with a full stop or a comma."""
    rest = text[end : end + 3].lstrip(" \t.,!，。")
    return not rest or rest[0] in "\r\n"


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
        enabled: set[str] | frozenset = frozenset(),
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
        unknown = sorted(k for k in enabled if k not in OPT_IN_KINDS)
        if unknown:
            raise UsageError(
                "E303", f"unknown opt-in PII kind(s): {', '.join(map(repr, unknown))}.",
                f"Opt-in kinds: {', '.join(sorted(OPT_IN_KINDS))}; the others are on by default.",
            )
        disabled = frozenset(disabled) | (OPT_IN_KINDS - frozenset(enabled))
        self._builtins: list[tuple[str, Callable[[str, str], list[_Edit]]]] = [
            (kind, fn) for kind, fn in (
                ("url_secret", lambda n, t: _find_url_secrets(n)),
                ("email", lambda n, t: _find_emails(n)),
                ("iban", _find_ibans),
                ("national_id", _find_national_ids),
                ("card", _find_cards),
                ("phone", lambda n, t: _find_phones(n)),
                ("person", lambda n, t: _find_people(t)),
            ) if kind not in disabled
        ]
        self._users = [(k, p, rx) for k, p, rx in users if k not in disabled]
        self._people = "person" not in disabled
        self.kinds: tuple[str, ...] = tuple(dict.fromkeys([k for k, _ in self._builtins] + [k for k, _, _ in self._users]))

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """Return (redacted text, {kind: count}) with only the kinds found; idempotent."""
        counts: dict[str, int] = {}
        if not text or (not self._users and not self._people and not _triggered(text)):
            return text, counts
        for _ in range(_MAX_PASSES):
            new = self._pass(text, counts)
            if new == text:
                break
            text = new
        return text, counts

    def _pass(self, text: str, counts: dict[str, int]) -> str:
        if self._builtins and (self._people or _triggered(text)):
            norm = _normalise(text)
            dense = _DENSE_DIGITS.search(norm) is not None
            for kind, find in self._builtins:
                if (not dense and kind in _DIGIT_KINDS) or (kind != "person" and kind not in _DIGIT_KINDS and not _triggered(text)):
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
