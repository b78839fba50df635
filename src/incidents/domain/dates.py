"""Calendar days, as registers and deadlines count them (UK local dates, no time of day)."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from .values import InvalidValue, plausible_day


def calendar_day(value: date) -> date:
    """A date that is not a datetime (a register counts whole days), from 1900 to a few years ahead."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidValue("Give a date, like 2026-11-25")
    return plausible_day(value)


def months_after(day: date, months: int) -> date:
    """The corresponding calendar date that many months later; where that month is shorter and
    has no such date, its last day (31 Jan + 1 month is 28 or 29 Feb), as the ICO counts a month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
