"""The dashboard's month of a moment is cached per UTC hour; it must equal the UK calendar month
of the moment itself, across clock changes and month ends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from incidents.projections.figures import UK, month_key

ZONES = st.sampled_from([timezone.utc, UK, ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=30))])


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES))
def test_the_cached_month_is_the_uk_month_of_the_moment(moment):
    assert month_key(moment) == moment.astimezone(UK).strftime("%Y-%m")


def test_the_last_moments_of_a_month_around_the_clock_changes():
    # 31 March 2024, 23:59:59.999999 BST is still March; a microsecond later, April.
    last = datetime(2024, 3, 31, 22, 59, 59, 999999, tzinfo=timezone.utc)
    assert (month_key(last), month_key(last + timedelta(microseconds=1))) == ("2024-03", "2024-04")
    # 31 October 2024 23:59 GMT (after the clocks went back) is still October.
    assert (month_key(datetime(2024, 10, 31, 23, 59, tzinfo=timezone.utc)), month_key(datetime(2024, 11, 1, tzinfo=timezone.utc))) == (
        "2024-10", "2024-11",
    )
