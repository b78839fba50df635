"""Value types shared by the aggregates, each validated where it is made."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

NOTE_MAX_CHARS = 5000
SHORT_TEXT_MAX_CHARS = 200
CLOCK_SKEW = timedelta(minutes=5)


class DomainError(Exception):
    """A command broke a rule of the domain; the message says which, for a person to read."""


class InvalidValue(DomainError):
    pass


class InvalidNHSNumber(InvalidValue):
    pass


class InvalidPractice(InvalidValue):
    pass


class OccurredInFuture(InvalidValue):
    pass


class TextTooLong(InvalidValue):
    pass


_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


def practice_code(value: str) -> str:
    """An ODS organisation code such as A81001 (upper case letters and digits)."""
    code = (value or "").strip().upper()
    if not _ODS_CODE.match(code):
        raise InvalidPractice(f"{value!r} is not an ODS code (for example A81001)")
    return code


def nhs_number(value: str) -> str:
    """A ten-digit NHS number whose last digit is its modulus 11 check digit."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise InvalidNHSNumber("An NHS number has 10 digits, like 943 476 5919")
    if not has_nhs_check_digit([int(d) for d in digits]):
        raise InvalidNHSNumber("That is not a valid NHS number: check the digits")
    return digits


def has_nhs_check_digit(digits: list[int]) -> bool:
    """Whether ten digits end with the modulus 11 check digit of the nine before them."""
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    return digits[9] == (0 if check == 11 else check)


def format_nhs_number(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if digits else ""


def past_time(value: datetime, now: datetime | None = None) -> datetime:
    """A moment that has already happened, as an aware UTC datetime."""
    if value.tzinfo is None:
        raise InvalidValue("A time must carry its time zone")
    now = now or datetime.now(timezone.utc)
    if value > now + CLOCK_SKEW:
        raise OccurredInFuture("The time it happened cannot be in the future")
    return value.astimezone(timezone.utc)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time the given number of calendar months earlier (29 Feb → 28 Feb)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=min(moment.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def bounded_text(value: str | None, limit: int = NOTE_MAX_CHARS, what: str = "A note") -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise TextTooLong(f"{what} can be at most {limit} characters (this one has {len(text)})")
    return text


def choice(value: str, allowed: dict[str, str], what: str) -> str:
    if value not in allowed:
        raise InvalidValue(f"{what} must be one of: {', '.join(allowed.values())}")
    return value
