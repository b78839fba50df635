"""Working days in England and Wales: Monday to Friday, except bank holidays (the `holidays` package)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UK = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_after(day: date, count: int) -> date:
    """The count-th working day after the given day (which itself does not count)."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def end_of_day(day: date) -> datetime:
    """The last moment of a UK calendar day: a task due that day is late from the next."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UK).astimezone(ZoneInfo("UTC"))


def working_days_deadline(moment: datetime, count: int) -> datetime:
    """By the end of the count-th working day after the UK day the moment falls on (Friday + 2: Tuesday)."""
    return _deadline(moment.astimezone(UK).date(), count)


@lru_cache(maxsize=4096)
def _deadline(day: date, count: int) -> datetime:
    return end_of_day(working_days_after(day, count))
