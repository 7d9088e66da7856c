"""Stop terms: brand, shop and product names that must never label a theme."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def read_stop_terms(path: Path) -> set[str]:
    """One term per line (several words allowed); blank lines and `#` comments ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("E805", f"cannot read the stop-terms file {path} ({exc}).", "Give a UTF-8 text file, one term per line.") from None
    terms = set()
    for number, line in enumerate(text.splitlines(), start=1):
        term = line.split("#", 1)[0].strip()
        if not term:
            continue
        if len(term) > 100:
            raise InputError("E806", f"{path}:{number}: a stop term of {len(term)} characters.", "One name per line, at most 100 characters.")
        terms.add(term.casefold())
    return terms
