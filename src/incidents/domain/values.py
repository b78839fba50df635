"""Value types shared by the aggregates, each validated where it is made."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import nhs_number as nhs

NOTE_MAX_CHARS = 5000
SHORT_TEXT_MAX_CHARS = 200
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_DAY = date(1900, 1, 1)  # no record of this register is older; year 0026 is a slip for 2026
FUTURE_YEARS = 5  # how far ahead a date may be where the future means something (a due date)
UK = ZoneInfo("Europe/London")

# The ranges an NHS number is issued from (England, Wales and the Isle of Man; Scotland's CHI;
# Northern Ireland's H&C), and the range PDS keeps for test patients, which training and demos use.
NHS_NUMBER_REGIONS = (nhs.REGION_ENGLAND_WALES_IOM, nhs.REGION_SCOTLAND, nhs.REGION_NORTHERN_IRELAND, nhs.REGION_SYNTHETIC)

# Control characters other than tab and newline, bidirectional embeddings, overrides and isolates
# (which can make text read differently from what is stored), and lone UTF-16 surrogates.
UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


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


class ImplausibleDate(InvalidValue):
    """A date or time outside the range this register can hold (before 1900, or too far ahead)."""


class NonExistentLocalTime(InvalidValue):
    """A UK clock time skipped when the clocks go forward in spring."""


class UnsafeText(InvalidValue):
    """Text carrying control, bidirectional override or lone surrogate characters."""


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
    if not nhs.is_valid(digits):
        raise InvalidNHSNumber("That is not a valid NHS number: check the digits")
    if not any(region.contains_number(digits) for region in NHS_NUMBER_REGIONS):
        raise InvalidNHSNumber("That is not a valid NHS number: no NHS number starts like that, check the digits")
    return digits


def has_nhs_check_digit(digits: list[int]) -> bool:
    """Whether ten digits end with the modulus 11 check digit of the nine before them."""
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    return digits[9] == (0 if check == 11 else check)


def format_nhs_number(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if digits else ""


def past_time(value: datetime, now: datetime | None = None) -> datetime:
    """A moment that has already happened, since 1900, as an aware UTC datetime."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue("A time must carry its time zone")
    now = now or datetime.now(timezone.utc)
    # Compared on the clock face first: converting a time near year 1 or 9999 to UTC overflows.
    if value.date() < EARLIEST_DAY:
        raise ImplausibleDate(f"The date must be in 1900 or later: check the year ({value.year:04d})")
    if value.date() > now.date() + timedelta(days=2) or value > now + CLOCK_SKEW:
        raise OccurredInFuture("The time it happened cannot be in the future")
    return value.astimezone(timezone.utc)


def plausible_day(value: date, today: date | None = None) -> date:
    """A calendar day from 1 January 1900 to FUTURE_YEARS years after today."""
    today = today or date.today()
    latest = date(min(today.year + FUTURE_YEARS, 9999), 12, 31)
    if not EARLIEST_DAY <= value <= latest:
        raise ImplausibleDate(f"Enter a date between 1 January 1900 and 31 December {latest.year}: check the year ({value.year:04d})")
    return value


def uk_local_time(wall_clock: datetime) -> datetime:
    """A time on a UK clock as an aware datetime. A time the spring change skips (01:30 on the
    last Sunday of March) is refused; a time the autumn change repeats is taken the first time
    round, in British Summer Time."""
    if wall_clock.tzinfo is not None:
        raise InvalidValue("A time on a UK clock carries no time zone of its own")
    moment = wall_clock.replace(tzinfo=UK, fold=0)
    if moment.astimezone(timezone.utc).astimezone(UK).replace(tzinfo=None) != wall_clock.replace(fold=0):
        raise NonExistentLocalTime(
            f"There was no {wall_clock:%H:%M} on {wall_clock:%d/%m/%Y} in the UK: the clocks went forward "
            "from 01:00 to 02:00. Enter the time the clock showed"
        )
    return moment


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


def safe_text(value: str, what: str = "The text") -> str:
    """Text with its line ends made newlines, refused if it carries characters that could hide
    or disguise what it says (control characters but tab and newline, bidirectional overrides,
    lone surrogates)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    unsafe = UNSAFE_TEXT.search(text)
    if unsafe:
        raise UnsafeText(f"{what} contains a character that cannot be stored (U+{ord(unsafe.group()):04X}): remove it and try again")
    return text


def bounded_text(value: str | None, limit: int = NOTE_MAX_CHARS, what: str = "A note") -> str:
    text = safe_text((value or "").strip(), what)
    if len(text) > limit:
        raise TextTooLong(f"{what} can be at most {limit} characters (this one has {len(text)})")
    return text


def required_text(value: str | None, limit: int, what: str, missing: DomainError) -> str:
    """bounded_text that may not be blank: a blank one raises `missing`, which says what to enter."""
    text = bounded_text(value, limit, what)
    if not text:
        raise missing
    return text


def choice(value: str, allowed: dict[str, str], what: str) -> str:
    if value not in allowed:
        raise InvalidValue(f"{what} must be one of: {', '.join(allowed.values())}")
    return value
