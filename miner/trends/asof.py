"""The day a time-based report is as of: the end of the data unless told otherwise.

A store of last spring's export read in the autumn should report on last spring, not test
an empty month and say "nothing new". So every time-based command (trends, emerging,
fix, alerts, the backlog) is, by default, as of the end of the data: the last day with a
dated document (an original, informative one, as the trends count). `--as-of today` (the
real date, UTC) or `--as-of YYYY-MM-DD` gives cron its calendar instead.

The as-of day is the run's "today": a period is complete when it ended by that day (on a
Monday with weekly periods, last week). By default it is the day after the data ends, so
the period holding the last day of data is tested when the data reaches its last day.
When the data ends more than `STALE_PERIODS` periods before the real date (or before the
as-of day given), a one-line warning says so: reports then describe the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlite_utils

from .periods import Period, parse_day, period_of, periods_between, utc_today
from .queries import Scope, day_totals, last_dated_days
from .series import TrendTable, trends

STALE_PERIODS = 2  # the data is stale when it ends more periods than this before today
SOURCES = ("data", "today", "date")  # the end of the data; the real date; a date given


@dataclass(frozen=True)
class AsOf:
    day: date  # the run's "today": a period is complete when it ended by this day
    source: str  # one of SOURCES
    data_ends: date | None  # the last day with a dated document; None without any
    today: date  # the real date (UTC)
    given: date | None = None  # the --as-of date as given (None by default)

    def complete(self, p: Period) -> bool:
        return p.end <= self.day

    def open_period(self, granularity: str) -> str | None:
        """The period holding the last day of data when it is not over by the as-of day (a
        partial export month, a week whose weekend brought no document), else None."""
        if self.data_ends is None:
            return None
        p = period_of(self.data_ends, granularity)
        return None if self.complete(p) else p.label

    def stale_warning(self, granularity: str) -> str | None:
        """One line when the data ends more than STALE_PERIODS periods before today (the real
        date by default; the as-of day when one was given); None otherwise."""
        if self.data_ends is None:
            return None
        if self.source == "data":
            n = periods_between(self.data_ends, self.today, granularity)
            if n <= STALE_PERIODS:
                return None
            return (f"the data ends {self.data_ends}, {n} {granularity}s before today ({self.today}): figures are as of "
                    "the end of the data (--as-of today reports on the calendar's latest periods).")
        reference = self.day - timedelta(days=1)  # the last day that counts
        n = periods_between(self.data_ends, reference, granularity)
        if n <= STALE_PERIODS:
            return None
        when = f"today ({self.today})" if self.source == "today" else f"the as-of day ({self.given or self.day})"
        return (f"the data ends {self.data_ends}, {n} {granularity}s before {when}: the latest periods have no "
                "documents (is ingestion behind? leave --as-of out to report on the end of the data).")

    def fields(self, granularity: str) -> dict:
        """What a result says about its as-of day (flat keys, JSON-ready)."""
        return {
            "as_of": self.day.isoformat(),
            "as_of_source": self.source,
            "data_ends": self.data_ends.isoformat() if self.data_ends else None,
            "open_period": self.open_period(granularity),
            "stale_warning": self.stale_warning(granularity),
        }


def data_ends(db: sqlite_utils.Database) -> date | None:
    """The last day with a dated document (originals and informative ones); None without any."""
    for value in last_dated_days(db, 50):
        day = parse_day(value)
        if day is not None:
            return day
    # the latest values were unreadable (a hand-written created_at): read every day
    days = [parse_day(d) for d, _ in day_totals(db, Scope())]
    return max((d for d in days if d is not None), default=None)


def resolve_as_of(db: sqlite_utils.Database, as_of: date | None, *, today: date | None = None) -> AsOf:
    """The run's as-of day: `as_of` when given (a date; `today` passes the real date), else
    the day after the data ends (the real date when there is no dated document)."""
    today = today or utc_today()
    ends = data_ends(db)
    if as_of is not None:
        return AsOf(as_of, "today" if as_of == today else "date", ends, today, as_of)
    if ends is None:
        return AsOf(today, "today", None, today)
    return AsOf(ends + timedelta(days=1), "data", ends, today)


def resolve_last_day(db: sqlite_utils.Database, last_day: date | None, *, today: date | None = None) -> AsOf:
    """`resolve_as_of` for reports whose --as-of names the last day they count (the backlog's
    trend window): that day is included, so the run's "today" is the day after."""
    today = today or utc_today()
    if last_day is None:
        return resolve_as_of(db, None, today=today)
    return AsOf(last_day + timedelta(days=1), "today" if last_day == today else "date", data_ends(db), today, last_day)


def as_of_text(fields: dict, tested: str | None = None) -> str:
    """`data ends 2026-06-30; testing 2026-06`; as of a day given: `as of today (2026-11-30),
    testing 2026-10; the data ends 2026-06-30` (no final stop)."""
    ends = fields.get("data_ends")
    ends_text = f"data ends {ends}" if ends else "no dated document"
    testing = f"testing {tested}" if tested else None
    if fields.get("as_of_source") == "data":
        return "; ".join(x for x in (ends_text, testing) if x)
    day = fields.get("as_of")
    head = f"as of today ({day})" if fields.get("as_of_source") == "today" else f"as of {day}"
    return ", ".join(x for x in (head, testing) if x) + ("; the " if ends else "; ") + ends_text


def trends_as_of(
    db: sqlite_utils.Database,
    by: str = "theme",
    period: str = "week",
    *,
    as_of: date | None = None,
    until: date | None = None,
    today: date | None = None,
    **options,
) -> tuple[TrendTable, dict]:
    """`series.trends` up to the as-of day, and what the chart says about it: the as-of
    fields and `last_period_partial` (the last period charted runs past the last day counted).

    By default the chart ends with the data; `as_of` (the real date for `today`) extends or
    cuts it to that day's period (documents of that day included); `until` cuts it too.
    """
    when = resolve_as_of(db, as_of, today=today)
    end = min(d for d in (until, as_of) if d is not None) if (until or as_of) else None
    table = trends(db, by, period, until=end, **options)
    last_day = end or when.data_ends
    fields = when.fields(period) | {
        "last_period_partial": bool(table.periods) and last_day is not None and table.periods[-1].end > last_day + timedelta(days=1),
        "last_day": last_day.isoformat() if last_day else None,
    }
    return table, fields
