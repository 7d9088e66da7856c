"""Turn the bytes of a file into text: BOMs, UTF-16 without BOM, strict UTF-8, then detection.

Complaint exports arrive as UTF-8, UTF-16 (Excel "Unicode text"), GB18030 (mainland sites),
Big5 (Taiwan/Hong Kong), Windows-1256 (Persian/Arabic) or Windows-1252 (Western Europe).
Strict UTF-8 is tried first because it almost never decodes other encodings by accident;
charset-normalizer decides among the legacy ones on a sample of the file.
"""

from __future__ import annotations

import codecs
import re

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


def decode_bytes(data: bytes, encoding: str | None = None, declared: str | None = None) -> tuple[str, str, int]:
    """Decode to text. Returns (text, codec, number of undecodable bytes replaced)."""
    codec = normalise_codec(encoding) if encoding else detect_encoding(data, declared)
    if codec.startswith("utf-8") and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif codec.startswith("utf-16") or codec.startswith("utf-32"):
        for bom, name in _BOMS:
            if data.startswith(bom) and name == codec:
                data = data[len(bom) :]
                break
    text = data.decode(codec, errors="replace")
    bad = text.count("\ufffd")
    return text, codec, bad
