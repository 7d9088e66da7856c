"""Which documents a search may return: filters by theme, touchpoint, date, language, channel
and input field, as one SQL clause with parameters (never text pasted into SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlite_utils

from .. import fields
from ..errors import UsageError


@dataclass(frozen=True)
class Scope:
    theme: int | None = None  # a theme or sub-theme id: documents placed in it, or with a sentence in it
    touchpoint: str | None = None  # a touchpoint key: documents with a segment at it
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None  # YYYY-MM-DD, inclusive
    langs: tuple[str, ...] = ()  # language codes (de, zh) or language-script (zh-Hant)
    channels: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # meta.FIELD=VALUE (miner.fields)

    def is_empty(self) -> bool:
        return self == Scope()


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError("E503", f"{option} {value!r} is not a date.", "Write it as YYYY-MM-DD, e.g. 2026-03-31.") from None


def scope_clause(db: sqlite_utils.Database, scope: Scope) -> tuple[str, list]:
    """(" AND ...", params) restricting documents `d` to the scope; ("", []) for no filter.
    Errors name what is wrong (a bad date, an unknown theme or touchpoint, a bad field filter)."""
    sql, params = "", []
    since = parse_day(scope.since, "--since") if scope.since else None
    until = parse_day(scope.until, "--until") if scope.until else None
    if since and until and since > until:
        raise UsageError("E504", f"--since {since} is after --until {until}.", "Give --since on or before --until.")
    if since:
        sql, params = sql + " AND d.created_at >= ?", params + [since.isoformat()]
    if until:
        sql, params = sql + " AND d.created_at < ?", params + [(until + timedelta(days=1)).isoformat()]
    if scope.theme is not None:
        _check_theme(db, scope.theme)
        sql += (
            " AND (d.id IN (SELECT document_id FROM document_themes WHERE theme_id = ? OR subtheme_id = ?)"
            " OR d.id IN (SELECT s.document_id FROM segment_themes st JOIN segments s ON s.id = st.segment_id"
            " WHERE st.theme_id = ? OR st.subtheme_id = ?))"
        )
        params += [scope.theme] * 4
    if scope.touchpoint is not None:
        _check_touchpoint(db, scope.touchpoint)
        sql += (
            " AND d.id IN (SELECT s.document_id FROM segment_touchpoints tp JOIN segments s ON s.id = tp.segment_id"
            " WHERE tp.touchpoint = ?)"
        )
        params.append(scope.touchpoint)
    if scope.langs:
        parts = []
        for code in scope.langs:
            lang, _, script = code.strip().partition("-")
            if script:
                parts.append("(d.lang = ? AND d.script = ?)")
                params += [lang.lower(), script.capitalize()]
            else:
                parts.append("d.lang = ?")
                params.append(lang.lower())
        sql += " AND (" + " OR ".join(parts) + ")"
    if scope.channels:
        sql += " AND d.channel IN (" + ", ".join("?" for _ in scope.channels) + ")"
        params += list(scope.channels)
    if scope.fields:
        extra, extra_params = fields.documents_clause(db, fields.parse_filters(list(scope.fields)), "d.id")
        sql, params = sql + extra, params + extra_params
    return sql, params


def _check_theme(db: sqlite_utils.Database, theme: int) -> None:
    if db.execute("SELECT 1 FROM themes WHERE id = ?", [theme]).fetchone():
        return
    known = [str(r[0]) for r in db.execute("SELECT id FROM themes WHERE level = 1 AND status = 'active' ORDER BY id LIMIT 30")]
    raise UsageError(
        "E505", f"no theme {theme}.",
        f"Themes: {', '.join(known)} (miner themes list)." if known else "Run `miner themes discover` first.",
    )


def _check_touchpoint(db: sqlite_utils.Database, key: str) -> None:
    if db.execute("SELECT 1 FROM touchpoints WHERE key = ?", [key]).fetchone():
        return
    known = [r[0] for r in db.execute("SELECT key FROM touchpoints ORDER BY rowid")]
    raise UsageError(
        "E506", f"no touchpoint {key!r}.",
        f"Touchpoints: {', '.join(known)}." if known else "Run `miner touchpoints assign` first.",
    )
