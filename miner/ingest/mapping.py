"""Which input column is the text, the id, the date, the score, the channel; and value parsing.

Named columns must exist (the error lists the available ones). Unnamed roles are
auto-detected from common export headers (Zendesk, app stores, Qualtrics, SurveyMonkey,
Trustpilot...), matched case- and punctuation-insensitively.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..errors import InputError

_CANDIDATES = {
    "text": [
        "text", "clean_text", "comment", "comments", "body", "content", "review", "reviewtext", "reviewbody", "message",
        "feedback", "answer", "response", "verbatim", "freetext", "opentext", "complaint", "description", "note",
        "notes", "transcript", "post", "tweet", "question", "whatcouldwedobetter", "reason",
        # complaint registers (CFPB...), helpdesks and survey tools
        "narrative", "consumercomplaintnarrative", "complainttext", "complaintdescription", "complaintdetails",
        "feedbacktext", "commenttext", "reviewcontent", "customercomment", "customerfeedback", "issuedescription",
        "problemdescription", "details", "openresponse", "openended", "kommentar", "commentaire", "comentario", "texto",
        "mensaje", "nachricht",
    ],
    "external_id": [
        "id", "externalid", "reviewid", "ticketid", "responseid", "respondentid", "recordid", "uuid", "docid",
        "commentid", "postid", "tweetid", "caseid", "messageid", "conversationid", "key",
        "complaintid", "complaintnumber", "complaintno", "feedbackid", "submissionid", "issueid", "incidentid",
        "incidentnumber", "ticketnumber", "ticketno", "casenumber", "caseno", "chatid", "callid", "interactionid", "entryid",
    ],
    "created_at": [
        "createdat", "created", "date", "timestamp", "time", "datetime", "submitted", "submittedat", "submitdate",
        "openedat", "reviewdate", "postedat", "publishedat", "at", "enddate", "recordeddate", "datecreated",
        "datereceived", "receiveddate", "receivedat", "complaintdate", "createddate", "createdon", "creationdate",
        "datesubmitted", "submissiondate", "responsedate", "tweetcreated", "tweetcreatedat", "commentdate", "postdate",
        "posteddate", "publisheddate", "openeddate", "opendate", "incidentdate", "startdate", "fecha", "datum",
    ],
    "score": ["score", "rating", "nps", "npsscore", "csat", "csatscore", "stars", "starrating", "grade", "ces"],
    "channel": ["channel", "medium", "platform", "via", "sourcechannel", "submittedvia", "contactchannel", "channeltype"],
}
ROLES = tuple(_CANDIDATES)


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


@dataclass
class Mapping:
    text: str
    external_id: str | None = None
    created_at: str | None = None
    score: str | None = None
    channel: str | None = None
    meta: list[str] = field(default_factory=list)
    channel_value: str | None = None  # a constant channel for every row of this input
    date_format: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _require(name: str, columns: list[str], option: str) -> str:
    if name in columns:
        return name
    by_key = {c.casefold(): c for c in columns}
    if name.casefold() in by_key:
        return by_key[name.casefold()]
    raise InputError(
        "E220",
        f"no column named {name!r} (from {option}).",
        f"Available columns: {', '.join(columns) if columns else '(none)'}.",
    )


def _auto(role: str, columns: list[str], taken: set[str]) -> str | None:
    by_key = {}
    for c in columns:
        by_key.setdefault(_key(c), c)
    for candidate in _CANDIDATES[role]:
        col = by_key.get(candidate)
        if col is not None and col not in taken:
            return col
    return None


def resolve_mapping(
    columns: list[str],
    *,
    text: str | None = None,
    external_id: str | None = None,
    created_at: str | None = None,
    score: str | None = None,
    channel: str | None = None,
    meta: list[str] | None = None,
    channel_value: str | None = None,
    date_format: str | None = None,
    sample_rows: list[dict] | None = None,
) -> Mapping:
    named = {"text": text, "external_id": external_id, "created_at": created_at, "score": score, "channel": channel}
    options = {"text": "--text", "external_id": "--id", "created_at": "--date", "score": "--score", "channel": "--channel"}
    chosen: dict[str, str | None] = {}
    for role, name in named.items():
        if name:
            chosen[role] = _require(name, columns, options[role])
    taken = {c for c in chosen.values() if c}
    for role in ROLES:
        if role not in chosen:
            chosen[role] = _auto(role, columns, taken)
            if chosen[role]:
                taken.add(chosen[role])
    if not chosen["text"] and sample_rows:
        chosen["text"] = _longest_text_column(columns, sample_rows, taken)
    if not chosen["text"]:
        raise InputError(
            "E221",
            "could not tell which column holds the text.",
            f"Name it with --text. Available columns: {', '.join(columns) if columns else '(none)'}.",
        )
    if meta is None:
        meta_cols = [c for c in columns if c not in set(chosen.values())]
    else:
        meta_cols = [_require(m, columns, "--meta") for m in meta if m]
    return Mapping(meta=meta_cols, channel_value=channel_value, date_format=date_format, **chosen)


def _longest_text_column(columns: list[str], rows: list[dict], taken: set[str]) -> str | None:
    best, best_len = None, 0.0
    for c in columns:
        if c in taken:
            continue
        values = [r.get(c) for r in rows if isinstance(r.get(c), str)]
        if len(values) < max(1, len(rows) // 2):
            continue
        mean = sum(len(v) for v in values) / len(values)
        letters = sum(ch.isalpha() for v in values for ch in v) / max(1, sum(len(v) for v in values))
        if letters > 0.5 and mean > best_len:
            best, best_len = c, mean
    return best


# --- values --------------------------------------------------------------------------------


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (dict, list)):
        return None
    return str(value)


_NUM = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_OUT_OF = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*/\s*\d+(?:[.,]\d+)?\s*$")  # "4/5", "8 / 10"


def parse_score(value: Any) -> float | None:
    """A numeric score or rating; None when empty. Raises ValueError when present but unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and not math.isfinite(value) else float(value)
    s = str(value).strip()
    if not s or s.casefold() in ("na", "n/a", "null", "none", "-"):
        return None
    if s and set(s) <= {"★", "☆"}:
        return float(s.count("★"))
    m = _OUT_OF.match(s)
    if m:
        s = m.group(1)
    if _NUM.match(s):
        result = float(s.replace(",", "."))
        if math.isfinite(result):
            return result
    raise ValueError(f"unreadable score {s[:40]!r}")


_CJK_DATE = re.compile(r"^(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _iso(dt: datetime) -> str:
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    if dt.hour == dt.minute == dt.second == 0 and dt.microsecond == 0:
        return dt.date().isoformat()
    return dt.replace(microsecond=0).isoformat()


def parse_date(value: Any, fmt: str | None = None) -> str | None:
    """An ISO 8601 date or datetime (UTC, naive) from the many forms exports use.

    Day-first is assumed for ambiguous 03/04/2026 unless the first number is > 12 only
    as a month could not be; pass --date-format for US-style month-first exports.
    Raises ValueError when a value is present but unreadable.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        return _from_epoch(float(value))
    s = str(value).strip()
    if not s:
        return None
    if fmt:
        return _iso(datetime.strptime(s, fmt))
    try:
        return _iso(datetime.fromisoformat(s.replace("Z", "+00:00").replace(" UTC", "+00:00")))
    except ValueError:
        pass
    if s.isdigit() and len(s) in (10, 13):
        return _from_epoch(float(s))
    m = _CJK_DATE.match(s)
    if m:
        y, mo, d, hh, mm, ss = m.groups()
        return _iso(datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0)))
    m = _DMY.match(s)
    if m:
        a, b, y, hh, mm, ss = m.groups()
        day, month = int(a), int(b)
        if month > 12 >= day:  # 10/23/2026 can only be month-first
            day, month = month, day
        return _iso(datetime(int(y), month, day, int(hh or 0), int(mm or 0), int(ss or 0)))
    try:
        return _iso(parsedate_to_datetime(s))  # RFC 2822, as in e-mail exports
    except (TypeError, ValueError, IndexError):
        pass
    raise ValueError(f"unreadable date {s[:40]!r}")


def _from_epoch(seconds: float) -> str:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    if not 0 <= seconds < 4102444800:  # before 2100
        raise ValueError(f"timestamp {seconds!r} out of range")
    return _iso(datetime.fromtimestamp(seconds, tz=timezone.utc))
