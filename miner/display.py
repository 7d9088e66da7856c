"""How reports show numbers, and the one way they show a value that does not exist."""

from __future__ import annotations

MISSING = "n/a"  # every report, text or Markdown, shows a missing figure this way


def shown(value: float | None, spec: str, width: int = 0) -> str:
    """`value` in format()'s `spec` (e.g. "+.2f"), or MISSING; right-aligned to `width`."""
    return (MISSING if value is None else format(value, spec)).rjust(width)


def percent(share: float | None, digits: int = 1, width: int = 0) -> str:
    """A share (0..1) as a percentage: 0.123 -> "12.3%"."""
    return shown(share, f".{digits}%", width)


def columns(text: str) -> int:
    """Terminal columns `text` takes: CJK and other wide characters take two."""
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else len(text)


def fit_to(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns (with "…") and padded to exactly that many."""
    if columns(text) > width:
        out, used = "", 0
        for ch in text:
            w = columns(ch)
            if used + w > width - 1:
                break
            out, used = out + ch, used + w
        text = out + "…"
    return text + " " * max(0, width - columns(text))


def date_span(first: str | None, last: str | None, undated: str = "no dated document") -> str:
    """`2026-06-01 to 2026-08-23`; one day once; `undated` when neither is known (never "None")."""
    if first is None and last is None:
        return undated
    if first is None or last is None or first == last:
        return str(first or last)
    return f"{first} to {last}"


def pad_to(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns, never cut (for ids, which must stay whole)."""
    return text + " " * max(0, width - columns(text))
