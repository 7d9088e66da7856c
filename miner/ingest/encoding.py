"""Turn the bytes of a file into text: BOMs, UTF-16 without BOM, strict UTF-8, then detection.

Complaint exports arrive as UTF-8, UTF-16 (Excel "Unicode text"), GB18030 (mainland sites),
Big5 (Taiwan/Hong Kong), Windows-1256 (Persian/Arabic) or Windows-1252 (Western Europe).
Strict UTF-8 is tried first because it almost never decodes other encodings by accident;
charset-normalizer decides among the legacy ones on a sample of the file.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import UsageError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Declared names that are subsets of a wider codec: decode with the superset.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SAMPLE = 256 * 1024


def normalise_codec(name: str) -> str:
    name = name.strip().lower()
    try:
        name = codecs.lookup(name).name
    except LookupError:
        raise UsageError(
            "E203", f"unknown encoding {name!r}.", "Use a Python codec name such as utf-8, gb18030, big5, cp1256, cp1252."
        ) from None
    return _SUPERSETS.get(name, name)


def looks_binary(data: bytes) -> bool:
    """NUL bytes in a file that is not UTF-16/32 mean it is not text (an image, a zip, an .xls...)."""
    head = data[:8192]
    if not head or any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if _utf16_without_bom(head):
        return False
    return b"\x00" in head


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without BOM: ASCII characters leave NULs on one byte parity only, and it decodes cleanly."""
    if len(head) < 4:
        return None
    head = head[: len(head) - len(head) % 2]
    even, odd = head[0::2], head[1::2]
    for nul_side, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if nul_side.count(0) >= max(0.05 * len(nul_side), 4 * other.count(0)) and other.count(0) <= 0.03 * len(other):
            try:
                head.decode(codec)
            except UnicodeDecodeError as exc:
                if exc.start < len(head) - 4:  # not just a surrogate pair cut at the sample's end
                    continue
            return codec
    return None


def html_declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        return normalise_codec(match.group(1).decode("ascii", "replace"))
    except UsageError:
        return None


def detect_encoding(data: bytes, declared: str | None = None) -> str:
    """The codec to decode `data` with."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    guess = _utf16_without_bom(data[:8192])
    if guess:
        return guess
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut-off multi-byte character at the sample's end is still UTF-8.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    if declared:
        try:
            data[:_SAMPLE].decode(declared)
            return declared
        except (UnicodeDecodeError, LookupError):
            pass
    return _detect_legacy(data[:_SAMPLE])


# Legacy codecs worth considering, most common first: ties go to the earlier one
# (Latin text often decodes equally well as cp1250 and cp1252, but cp1252 is far likelier).
_LEGACY = [
    "cp1252", "gb18030", "big5", "cp1256", "cp1251", "shift_jis", "euc_jp", "euc_kr",
    "cp1250", "cp1253", "cp1254", "cp1255", "cp874", "cp1258",
]


def _detect_legacy(sample: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample, cp_isolation=_LEGACY))
    if not matches:
        return "cp1252"  # decodes every byte; mojibake repair downstream fixes what it can

    def rank(m) -> tuple:
        name = normalise_codec(m.encoding)
        order = _LEGACY.index(name) if name in _LEGACY else len(_LEGACY)
        return (round(m.chaos, 2), -round(m.coherence, 2), order)

    return normalise_codec(min(matches, key=rank).encoding)


@dataclass
class Decoded:
    """A decoded input: its text, the codec of most of it, and what was done line by line."""

    text: str
    codec: str
    replaced: int = 0  # undecodable bytes replaced by U+FFFD
    other_lines: int = 0  # lines decoded with another codec than `codec` (a file of mixed encodings)
    line_codecs: dict[str, int] = field(default_factory=dict)  # codec -> lines with non-ASCII bytes
    repaired_lines: int = 0  # lines whose mojibake (UTF-8 read as cp1252/Latin-1) was repaired


def decode_bytes(data: bytes, encoding: str | None = None, declared: str | None = None) -> tuple[str, str, int]:
    """Decode to text. Returns (text, codec, number of undecodable bytes replaced)."""
    d = decode(data, encoding, declared)
    return d.text, d.codec, d.replaced


def decode(data: bytes, encoding: str | None = None, declared: str | None = None) -> Decoded:
    """Decode to text, line by line where the file mixes encodings, and repair mojibake.

    A forced `encoding`, a BOM, UTF-16/32 or clean UTF-8 decode the whole file with one codec.
    Otherwise each line with non-ASCII bytes is decoded on its own: as UTF-8 when it is valid
    UTF-8 (legacy text almost never is), else with the file's legacy codec unless another
    legacy codec reads it clearly better (a GBK line in a cp1252 export). Exports stitched
    from several systems mix UTF-8, cp1252 and GBK lines; one codec for all garbles some.
    """
    if encoding:
        codec = normalise_codec(encoding)
    else:
        codec = detect_encoding(data, declared)
    if codec.startswith("utf-8") and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif codec.startswith("utf-16") or codec.startswith("utf-32"):
        for bom, name in _BOMS:
            if data.startswith(bom) and name == codec:
                data = data[len(bom) :]
                break
    if encoding or codec.startswith(("utf-16", "utf-32")) or (codec == "utf-8" and _clean_utf8(data)):
        text = data.decode(codec, errors="replace")
        text, repaired = repair_mojibake(text)
        return Decoded(text, codec, text.count("\ufffd"), repaired_lines=repaired)
    return _decode_per_line(data, codec)


def _clean_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
    return True


def _decode_per_line(data: bytes, detected: str) -> Decoded:
    lines = data.split(b"\n")
    choices: list[str | None] = []  # None: ASCII only; "": not UTF-8
    legacy_bytes = []
    for line in lines:
        if line.isascii():
            choices.append(None)
            continue
        try:
            line.decode("utf-8")
            choices.append("utf-8")
        except UnicodeDecodeError:
            choices.append("")
            legacy_bytes.append(line)
    has_utf8 = "utf-8" in choices
    # With UTF-8 lines in the file, a detector's guess from a sample of mixed lines is unsafe:
    # each legacy line is then read with the codec that reads it best (cp1252 on ties).
    file_codec = "" if has_utf8 or detected == "utf-8" else detected
    if not has_utf8 and file_codec not in _SINGLE_BYTE:
        try:  # a plain GB18030/Big5/Shift-JIS file: one codec reads it all, no need to look closer
            text, repaired = repair_mojibake(data.decode(file_codec))
            return Decoded(text, file_codec, 0, 0, {file_codec: len(legacy_bytes)}, repaired)
        except UnicodeDecodeError:
            pass
    out: list[str] = []
    used: dict[str, int] = {}
    for line, choice in zip(lines, choices):
        if choice is None:
            out.append(line.decode("ascii"))
            continue
        if choice == "":
            if (file_codec or "cp1252") in _SINGLE_BYTE and not _HIGH_PAIR.search(line):
                choice = file_codec or "cp1252"  # lone accented letters: not a multi-byte encoding
            else:
                choice = _best_legacy(line, file_codec, sorted(used, key=used.__getitem__, reverse=True)[:3])
        used[choice] = used.get(choice, 0) + 1
        out.append(line.decode(choice, errors="replace"))
    main = max(used, key=lambda c: (used[c], c == file_codec)) if used else (file_codec or "utf-8")
    other = sum(n for c, n in used.items() if c != main)
    text, repaired = repair_mojibake("\n".join(out))
    return Decoded(text, main, text.count("\ufffd"), other, used, repaired)


_SINGLE_BYTE = frozenset({"cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp874", "cp1258"})
_HIGH_PAIR = re.compile(rb"[\x81-\xfe][\x80-\xfe]")  # two high bytes: what most double-byte characters look like
_CANDIDATES = ("cp1252", "gb18030", "big5hkscs", "cp1256", "cp1251", "shift_jis", "euc_kr", "cp1250")


def _best_legacy(line: bytes, file_codec: str, recent: list[str] = []) -> str:  # noqa: B006 (read only)
    """The codec that reads this line best: the file's own unless another reads it clearly better."""
    scores: dict[str, int] = {}
    for codec in recent:  # codecs this file's other lines used: most lines are settled here
        try:
            text = line.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        score = _plausibility(text)
        if score >= 2 and score >= 0.6 * sum(not ch.isascii() for ch in text):
            return codec
        scores[codec] = score
    for codec in dict.fromkeys((file_codec, *_CANDIDATES) if file_codec else _CANDIDATES):
        if codec in scores:
            continue
        try:
            scores[codec] = _plausibility(line.decode(codec))
        except (UnicodeDecodeError, LookupError):
            continue
    if not scores:
        return file_codec or "cp1252"
    order = list(scores)
    best = max(order, key=lambda c: (scores[c], c == file_codec, -order.index(c)))
    if file_codec in scores and scores[best] - scores[file_codec] < 2:
        return file_codec
    return best


@lru_cache(maxsize=1)
def _common_han() -> frozenset[str]:
    """Frequent Chinese characters: GB2312 level 1 and Big5's frequent block (wrong decodings
    of other encodings land mostly on rare ones)."""
    chars = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


_HAN = re.compile("[\u4e00-\u9fff]")
_GOOD_CJK = re.compile("[\u3000-\u303f\uff01-\uff5e\u3040-\u30ff]")  # CJK punctuation, fullwidth forms, kana
_ACCENTED = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_LATIN_NEAR_ASCII = re.compile(f"(?<=[A-Za-z])[{_ACCENTED}]|[{_ACCENTED}](?=[A-Za-z])")
_ACCENTED_RUN = re.compile(f"[{_ACCENTED}]{{2,}}")
_CASE_FLIP = re.compile(f"[a-z\u00df-\u00f6\u00f8-\u00ff\u0430-\u044f][\u00c0-\u00d6\u00d8-\u00de\u0410-\u042f]")
# Words of Arabic-script or Russian letters (a wrong decoding gives capitals in mid-word, and
# letters such as ј ї ў that Russian does not use).
_SCRIPT_WORD = re.compile(
    "[\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc\u0629\u0649]{2,}|[А-ЯЁ]?[а-яё]{2,}"
)
_OPENING_MARK = re.compile("[\u00a1\u00bf](?=[A-Za-z])")  # "¿Por", "¡Hola"
_BAD = re.compile(
    "[\u0080-\u00a0\u00a2-\u00be\u00d7\u00f7\u0100-\u017f\u2500-\u25ff\ue000-\uf8ff\uff61-\uff9f"
    "\u0250-\u02ff\u0370-\u03ff\u0500-\u05ff\u0700-\u1fff]"
)
_ALLOWED_SYMBOLS = frozenset("€£¥§°«»·\u00a0")


def _plausibility(text: str) -> int:
    """How much a decoded line reads like text: + for letters in a plausible place, - for the
    symbols, rare ideographs, accented runs and case flips ("ÂýÁË") that wrong decodings produce.
    (Counted with regular expressions: a loop over characters is 50 times slower.)"""
    score = 0
    han = _HAN.findall(text)
    if han:
        common = _common_han()
        good = sum(ch in common for ch in han)
        score += good - (len(han) - good)
    score += len(_GOOD_CJK.findall(text))
    score += len(_LATIN_NEAR_ASCII.findall(text)) + len(_OPENING_MARK.findall(text))
    score -= sum(len(m) for m in _ACCENTED_RUN.findall(text))
    score -= 2 * len(_CASE_FLIP.findall(text))
    score += sum(len(m) for m in _SCRIPT_WORD.findall(text))
    score -= 2 * sum(ch not in _ALLOWED_SYMBOLS and ch not in "\u0152\u0153\u0160\u0161\u017d\u017e" for ch in _BAD.findall(text))
    return score


def repair_mojibake(text: str) -> tuple[str, int]:
    """Repair UTF-8 read as cp1252/Latin-1 ("Ã©" for "é", "å®½" for "宽"), line by line.
    Returns (text, number of lines changed)."""
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return text, 0
    import ftfy

    lines = text.split("\n")
    changed = 0
    for i, line in enumerate(lines):
        if _MOJIBAKE_HINT.search(line):
            try:
                fixed = ftfy.fix_encoding(line)
            except (UnicodeError, ValueError):
                continue
            if fixed != line:
                lines[i] = fixed
                changed += 1
    return ("\n".join(lines), changed) if changed else (text, 0)


# The same hint as clean.py's: a UTF-8 lead byte read as cp1252 followed by a continuation byte.
_MOJIBAKE_HINT = re.compile(
    "[\xc2-\xf4][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
