"""Descriptions of the store's tables and columns, read from docs/schema.md (the one place they are
written; the wheel carries it as `miner/_docs/schema.md`).

What is read: a heading or a paragraph that starts with a table name in backticks names the
table(s) the next lines describe ("## `documents`: one row per stored record", "`themes`: one row
per theme..."); its text is the table's description. A Markdown table row whose first cell holds
column names in backticks ("| `created_at`, `updated_at` | text | UTC ISO 8601 |") describes
those columns of the current table(s).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"`([a-z_][a-z0-9_]*)`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def schema_file() -> Path | None:
    for path in (_PKG / "_docs" / "schema.md", _PKG.parent / "docs" / "schema.md"):
        if path.is_file():
            return path
    return None


def plain(text: str) -> str:
    """Markdown to plain text: links to their words, backticks and emphasis dropped."""
    text = _LINK.sub(r"\1", text)
    return " ".join(text.replace("`", "").replace("**", "").split())


def parse(text: str) -> dict[str, dict]:
    """{table: {"description": str, "columns": {column: description}}}."""
    out: dict[str, dict] = {}
    current: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            head = line.lstrip("#").strip()
            names = _NAME.findall(head.split(":")[0]) if head.startswith("`") else []
            current = names
            desc = plain(head.split(":", 1)[1] if ":" in head else _NAME.sub("", head).replace(" and ", " ")) if names else ""
            for name in names:
                out.setdefault(name, {"description": "", "columns": {}})["description"] = desc
        elif line.startswith("`") and (m := re.match(r"`([a-z_][a-z0-9_]*)`(:| \()", line)):
            para = [line]
            while i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].startswith(("|", "#", "```")):
                i += 1
                para.append(lines[i])
            current = [m.group(1)]
            entry = out.setdefault(m.group(1), {"description": "", "columns": {}})
            body = " ".join(para)[len(m.group(0)):].strip()
            entry["description"] = entry["description"] or plain(body.rstrip(")"))[:400]
        elif line.startswith("|") and current:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 2 and cells[0].startswith("`"):
                meaning = plain(cells[-1])
                kind = plain(cells[1]) if len(cells) >= 3 else ""
                for col in _NAME.findall(cells[0]):
                    for table in current:
                        out.setdefault(table, {"description": "", "columns": {}})["columns"][col] = (
                            f"{meaning} ({kind})" if kind and meaning else meaning or kind)
        i += 1
    return out


@lru_cache(maxsize=1)
def descriptions() -> dict[str, dict]:
    path = schema_file()
    return parse(path.read_text(encoding="utf-8")) if path else {}
