from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from incidents.projections.working_days import end_of_day, is_working_day, working_days_after, working_days_deadline

UK = ZoneInfo("Europe/London")


def test_weekends_and_bank_holidays_are_not_working_days():
    assert is_working_day(date(2026, 11, 25))  # a Wednesday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day, observed on the Monday
    assert not is_working_day(date(2026, 8, 31))  # Late Summer Bank Holiday (England and Wales)
    assert is_working_day(date(2026, 8, 3))  # Summer bank holiday in Scotland only


def test_two_working_days_after():
    assert working_days_after(date(2026, 11, 23), 2) == date(2026, 11, 25)  # Monday → Wednesday
    assert working_days_after(date(2026, 11, 27), 2) == date(2026, 12, 1)  # Friday → Tuesday
    assert working_days_after(date(2026, 11, 28), 2) == date(2026, 12, 1)  # Saturday → Tuesday
    assert working_days_after(date(2026, 12, 24), 2) == date(2026, 12, 30)  # over Christmas
    assert working_days_after(date(2026, 4, 2), 2) == date(2026, 4, 8)  # over Easter


def test_a_deadline_is_the_end_of_the_uk_day():
    # 23:30 UTC on Friday 26 June 2026 is already Saturday in London (BST).
    reported = datetime(2026, 6, 26, 23, 30, tzinfo=timezone.utc)
    deadline = working_days_deadline(reported, 2)
    assert deadline.astimezone(UK).date() == date(2026, 6, 30)
    assert deadline.tzinfo is not None and deadline.astimezone(UK).hour == 23
    assert end_of_day(date(2026, 1, 5)) == datetime(2026, 1, 5, 23, 59, 59, tzinfo=timezone.utc)
