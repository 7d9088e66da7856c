"""Text from the data, made safe to show: complaints are written by anyone, so a text holding
`<script>`, `<img onerror>`, a `javascript:` link or bidi tricks must show as the characters it
is, and change nothing around it.

- `esc`: HTML-escaped (quotes too, for attributes), after `neutralise`.
- `neutralise`: bidi embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069),
  which can reorder the text *around* a quote (`‮exe.txt` shown as `txt.exe`), are shown as
  visible marks (`⟨U+202E⟩`). Zero-width joiners and non-joiners stay: Persian, Indic scripts and
  emoji need them (ingest's cleaning already removes other invisible characters). Shown texts
  are also wrapped in `<bdi>` by the page, so a right-to-left quote cannot flip its neighbours.
- `script_json`: JSON for a `<script type="application/json">` block that no string can close.
- `safe_url`: only http(s) URLs become links; anything else (javascript:, data:) is refused.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, urlsplit

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def neutralise(text: str) -> str:
    return _BIDI.sub(lambda m: f"⟨U+{ord(m.group(0)):04X}⟩", text)


def esc(value) -> str:
    if value is None:
        return ""
    return html.escape(neutralise(str(value)), quote=True)


def script_json(data) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL with a host, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip().rstrip("/")


def path_part(value) -> str:
    """One URL path segment (a table name, a row id), percent-encoded."""
    return quote(str(value), safe="")
