"""Values at the edge: dates and times in a realistic range, UK clock changes, text without
hidden characters, NHS numbers in the issued ranges; refused by the value types, so by the
aggregates and the command models too."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import nhs_number as nhs
import pytest
from pydantic import ValidationError

from incidents.application import commands as c
from incidents.application.disclosures import ExtendRequest, SetRequestScope
from incidents.application.notices import PublishNotice
from incidents.domain.acting import acting_as
from incidents.domain.dates import calendar_day
from incidents.domain.filming import FilmingIncident
from incidents.domain.values import (
    UK,
    ImplausibleDate,
    InvalidNHSNumber,
    NonExistentLocalTime,
    OccurredInFuture,
    UnsafeText,
    bounded_text,
    nhs_number,
    past_time,
    plausible_day,
    safe_text,
    uk_local_time,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


# Times and days ----------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(26, 11, 25, 14, 5, tzinfo=UK),  # 0026 typed for 2026
        datetime(1, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))),  # overflows in UTC
        datetime(1899, 12, 31, 23, 59, tzinfo=timezone.utc),
    ],
)
def test_past_time_refuses_a_time_before_1900_and_names_the_year(moment):
    with pytest.raises(ImplausibleDate, match=f"1900 or later: check the year \\({moment.year:04d}\\)"):
        past_time(moment, now=NOW)


def test_past_time_takes_1900_onwards():
    assert past_time(datetime(1900, 1, 1, tzinfo=timezone.utc), now=NOW) == datetime(1900, 1, 1, tzinfo=timezone.utc)


def test_past_time_refuses_the_last_moment_representable_as_the_future_not_an_overflow():
    with pytest.raises(OccurredInFuture):
        past_time(datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))), now=NOW)


def test_plausible_day_runs_from_1900_to_five_years_ahead():
    today = date(2026, 6, 1)
    assert plausible_day(date(1900, 1, 1), today) == date(1900, 1, 1)
    assert plausible_day(date(2031, 12, 31), today) == date(2031, 12, 31)
    for outside in (date(1, 1, 1), date(1899, 12, 31), date(2032, 1, 1), date(9999, 12, 31)):
        with pytest.raises(ImplausibleDate, match="between 1 January 1900 and 31 December 2031"):
            plausible_day(outside, today)


def test_a_register_day_is_a_plausible_day():
    with pytest.raises(ImplausibleDate):
        calendar_day(date(9999, 12, 31))
    with pytest.raises(ImplausibleDate):
        calendar_day(date(26, 1, 1))


def test_a_uk_time_the_spring_change_skips_is_refused():
    with pytest.raises(NonExistentLocalTime, match="no 01:30 on 29/03/2026 .* clocks went forward"):
        uk_local_time(datetime(2026, 3, 29, 1, 30))
    assert uk_local_time(datetime(2026, 3, 29, 2, 0)).utcoffset() == timedelta(hours=1)
    assert uk_local_time(datetime(2026, 3, 29, 0, 59)).utcoffset() == timedelta(0)


def test_a_uk_time_the_autumn_change_repeats_is_taken_the_first_time_in_bst():
    moment = uk_local_time(datetime(2026, 10, 25, 1, 30))
    assert moment.astimezone(timezone.utc) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


# Text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hidden", ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\u202a", "\u202e", "\u2066", "\u2069", "\ud800", "\udfff"]
)
def test_text_with_a_control_override_or_surrogate_character_is_refused(hidden):
    with pytest.raises(UnsafeText, match=f"U\\+{ord(hidden):04X}"):
        bounded_text(f"hello{hidden}world")


def test_text_keeps_tabs_and_newlines_and_makes_line_ends_newlines():
    assert safe_text("one\ttwo\r\nthree\rfour\nfive") == "one\ttwo\nthree\nfour\nfive"
    assert bounded_text("Zoë, Ω, 中文, عربى") == "Zoë, Ω, 中文, عربى"


def test_an_aggregate_refuses_a_note_with_a_nul_and_a_time_before_1900():
    base = dict(practice="A81001", submission_key="form-00001", area="waiting_area", filmer="patient",
                people_captured="staff_and_patients", children_present="no")
    with pytest.raises(UnsafeText):
        FilmingIncident.report(occurred_at=NOW - timedelta(days=400), note="hello\x00world", **base)
    with pytest.raises(ImplausibleDate):
        FilmingIncident.report(occurred_at=datetime(1, 1, 1, tzinfo=timezone.utc), note="", **base)
    with acting_as("rita", "Rita"):
        incident = FilmingIncident.report(occurred_at=datetime.now(timezone.utc) - timedelta(hours=1), note="", **base)
    with pytest.raises(ImplausibleDate):
        incident.correct("occurred_at", "0001-01-01T00:01+23:59", "typo")
    with pytest.raises(UnsafeText):
        incident.add_note("a\u202egnp.exe", "note-00001")


# NHS numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "unissued",
    [
        "0000000000",  # the check digit works out, but no number starts 00
        "5000000005",  # 5...: never to be issued
        "8600000009",  # 86...: unallocated
        "8000000008",  # 80...: Ireland's health identifiers, not NHS numbers
        "3113000009",  # between Scotland's and Northern Ireland's ranges
    ],
)
def test_an_nhs_number_outside_the_issued_ranges_is_refused(unissued):
    assert nhs.is_valid(unissued)  # the check digit alone would take it
    with pytest.raises(InvalidNHSNumber, match="not a valid NHS number"):
        nhs_number(unissued)


@pytest.mark.parametrize("issued", ["4010232137", "4000000020", "6000000006", "9434765919"])
def test_an_nhs_number_in_an_issued_range_or_the_test_range_is_taken(issued):
    assert nhs_number(issued) == issued


# Command models give a field error ---------------------------------------------------


def errors_of(model, **values) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(values)
    return {str(e["loc"][0]): e["msg"] for e in raised.value.errors()}


def test_command_models_refuse_hidden_characters_and_implausible_dates_by_field():
    assert "U+0000" in errors_of(c.AddNote, incident_id=uuid4(), submission_key="note-00001", text="hello\x00world")["text"]
    assert "U+202E" in errors_of(c.CorrectIncident, incident_id=uuid4(), field="clinician", new_value="Dr \u202eX", reason="typo")["new_value"]
    early = errors_of(c.ReportFilming, submission_key="form-00001", occurred_at=datetime(26, 11, 25, tzinfo=UK), area="waiting_area",
                      filmer="patient", people_captured="staff_and_patients", children_present="no")
    assert "1900 or later" in early["occurred_at"]
    assert "not a valid NHS number" in errors_of(c.ReportRecording, submission_key="form-00001", occurred_at=NOW, clinician="Dr A",
                                                  setting="consulting_room", openness="announced", media="audio", nhs_number="0000000000")["nhs_number"]
    assert "between 1 January 1900" in errors_of(ExtendRequest, request_id=uuid4(), due_on="9999-12-31", reason="more time")["due_on"]
    assert "between 1 January 1900" in errors_of(SetRequestScope, request_id=uuid4(), incident_ids=[uuid4()], period_to="9999-12-31")["period_to"]
    assert "between 1 January 1900" in errors_of(PublishNotice, submission_key="form-00001", channel="website", wording="We may record", in_service_from="0001-01-01")["in_service_from"]
    assert "submission_key" in errors_of(c.AddNote, incident_id=uuid4(), submission_key="note\x00\x00\x00\x00\x00", text="hi")
