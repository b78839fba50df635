"""Calendar dates in commands: as a date input posts them (2026-11-25), with errors people read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from ..domain.values import DomainError, plausible_day


def _day(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("Enter a date without a time")
    if isinstance(value, date):
        return _plausible(value)
    text = str(value or "").strip()
    if not text:
        raise ValueError("Enter a date")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError("Enter a real date, like 2026-11-25") from None
    return _plausible(day)


def _plausible(day: date) -> date:
    try:
        return plausible_day(day)
    except DomainError as error:
        raise ValueError(str(error)) from None


def _day_or_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _day(value)


Day = Annotated[date, BeforeValidator(_day)]
OptionalDay = Annotated[date | None, BeforeValidator(_day_or_none)]
