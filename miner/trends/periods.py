"""Calendar periods: UTC days, ISO weeks (Monday first, 2027-W01 may start in 2026) and months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..errors import UsageError

GRANULARITIES = ("day", "week", "month")


@dataclass(frozen=True, order=True)
class Period:
    start: date
    granularity: str

    @property
    def label(self) -> str:
        if self.granularity == "day":
            return self.start.isoformat()
        if self.granularity == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def end(self) -> date:
        """First day after the period."""
        return self.shift(1).start

    def shift(self, n: int) -> Period:
        if self.granularity == "day":
            return Period(self.start + timedelta(days=n), "day")
        if self.granularity == "week":
            return Period(self.start + timedelta(days=7 * n), "week")
        months = self.start.year * 12 + self.start.month - 1 + n
        return Period(date(months // 12, months % 12 + 1, 1), "month")


def check_granularity(granularity: str) -> str:
    if granularity not in GRANULARITIES:
        raise UsageError("E902", f"unknown period {granularity!r}.", f"Choose one of: {', '.join(GRANULARITIES)}.")
    return granularity


def period_of(day: date, granularity: str) -> Period:
    if granularity == "day":
        return Period(day, "day")
    if granularity == "week":
        return Period(day - timedelta(days=day.weekday()), "week")
    return Period(day.replace(day=1), "month")


def period_range(first: Period, last: Period) -> list[Period]:
    out, p = [], first
    while p <= last:
        out.append(p)
        p = p.shift(1)
    return out


def parse_day(value: str | None) -> date | None:
    """The UTC date of an ISO 8601 `created_at` (date or datetime), None if unreadable."""
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_date_option(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise UsageError("E903", f"{option} {value!r} is not a date.", "Use YYYY-MM-DD, e.g. 2026-09-14.") from None


TODAY = "today"


def utc_today() -> date:
    """The real date, UTC (what `--as-of today` means)."""
    return datetime.now(timezone.utc).date()


def parse_as_of_option(value: str, option: str = "--as-of") -> date:
    """`today` (the real date, UTC) or a YYYY-MM-DD date."""
    if value.strip().casefold() == TODAY:
        return utc_today()
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise UsageError("E903", f"{option} {value!r} is neither 'today' nor a date.",
                         "Use today or YYYY-MM-DD, e.g. 2026-09-14.") from None


def periods_between(first: date, last: date, granularity: str) -> int:
    """How many periods `last`'s period comes after `first`'s (0: the same period)."""
    a, b = period_of(first, granularity).start, period_of(last, granularity).start
    if granularity == "month":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month)
    return (b - a).days // (7 if granularity == "week" else 1)
