"""FilmingIncident: someone filmed in reception or a waiting area. Its own facts and rules; what it
shares with every kind is tested in test_incident_kinds."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

import pytest

from incidents.domain.acting import acting_as
from incidents.domain.filming import (
    AREAS,
    CHILDREN_PRESENT,
    FILMERS,
    PEOPLE_CAPTURED,
    REMOVAL_GUIDANCE,
    FilmingIncident,
    RemovalNotJustified,
)
from incidents.domain.incident import ResponseOutOfOrder
from incidents.domain.values import DomainError
from tests.unit.kinds import FILMING, MANAGER, MANAGER_NAME, POLICE_INCIDENT_NUMBER, minutes_ago, respond

report, reported = FILMING.report, FILMING.reported
pytestmark = pytest.mark.usefixtures("acting_at_reception")


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


# Reported -------------------------------------------------------------------------


def test_vocabularies_match_the_design():
    assert set(AREAS) >= {"reception", "waiting_area"}
    assert set(FILMERS) == {"patient", "visitor", "unknown"}
    assert set(PEOPLE_CAPTURED) >= {"staff", "patients", "staff_and_patients"}
    assert set(CHILDREN_PRESENT) == {"yes", "no", "unknown"}


# Removal from the list ------------------------------------------------------------


def test_removal_without_a_warning_or_police_incident_number_is_refused():
    incident = reported()
    respond(incident, "AskedToStop")
    respond(incident, "RefusedToStop")
    with pytest.raises(RemovalNotJustified, match="12 months"):
        respond(incident, "RemovalRequested")
    assert "RemovalRequested" not in incident.responses


def test_removal_is_allowed_with_a_warning_letter_sent_11_months_earlier():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    warned = months_before(now, 11)
    incident = reported(occurred_at=warned - timedelta(days=1))
    respond(incident, "WarningLetterSent", occurred_at=warned, reference="Letter 2025/17")
    respond(incident, "RemovalRequested", occurred_at=now)
    assert incident.responses == ["WarningLetterSent", "RemovalRequested"]


def test_removal_is_refused_when_the_only_warning_was_13_months_earlier():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    warned = months_before(now, 13)
    incident = reported(occurred_at=warned - timedelta(days=1))
    respond(incident, "WarningLetterSent", occurred_at=warned)
    with pytest.raises(RemovalNotJustified):
        respond(incident, "RemovalRequested", occurred_at=now)


def test_any_warning_within_the_year_is_enough_even_if_an_older_one_expired():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    incident = reported(occurred_at=months_before(now, 14))
    respond(incident, "WarningLetterSent", occurred_at=months_before(now, 13), key="old-letter")
    respond(incident, "WarningLetterSent", occurred_at=months_before(now, 2), key="new-letter")
    respond(incident, "RemovalRequested", occurred_at=now)
    assert incident.responses[-1] == "RemovalRequested"


def test_a_warning_sent_after_the_removal_request_does_not_justify_it():
    incident = reported(occurred_at=minutes_ago(60 * 24 * 10))
    respond(incident, "WarningLetterSent", occurred_at=minutes_ago(60))
    with pytest.raises(RemovalNotJustified):
        respond(incident, "RemovalRequested", occurred_at=minutes_ago(60 * 24 * 5))


def test_a_warning_exactly_365_days_earlier_still_counts():
    removal = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    incident = reported(occurred_at=removal - timedelta(days=400))
    respond(incident, "WarningLetterSent", occurred_at=removal - timedelta(days=365))
    respond(incident, "RemovalRequested", occurred_at=removal)
    assert incident.responses[-1] == "RemovalRequested"


def test_a_warning_within_12_calendar_months_counts_across_a_leap_day():
    warned = datetime(2023, 3, 5, 9, 0, tzinfo=timezone.utc)
    removal = datetime(2024, 3, 4, 12, 0, tzinfo=timezone.utc)  # 12 months earlier is 2023-03-04 12:00
    assert months_before(removal, 12) < warned
    incident = reported(occurred_at=warned - timedelta(days=1))
    respond(incident, "WarningLetterSent", occurred_at=warned)
    respond(incident, "RemovalRequested", occurred_at=removal)
    assert incident.responses[-1] == "RemovalRequested"


def test_removal_is_allowed_at_once_with_a_police_incident_number():
    incident = reported()
    respond(incident, "PoliceCalled", reference="999 call")
    respond(incident, "RemovalRequested", reference=POLICE_INCIDENT_NUMBER)
    [_, removal] = incident.collect_events()
    assert type(removal) is FilmingIncident.RemovalRequested
    assert removal.reference == POLICE_INCIDENT_NUMBER


def test_a_blank_police_incident_number_does_not_justify_removal():
    with pytest.raises(RemovalNotJustified):
        respond(reported(), "RemovalRequested", reference="    ")


# Reconstruction from stored events ------------------------------------------------


def test_an_incident_rebuilt_from_its_stored_events_equals_the_live_one(log):
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    incident = report(occurred_at=months_before(now, 3), children_present="unknown")
    respond(incident, "PolicyExplained", key="k1", occurred_at=months_before(now, 3))
    respond(incident, "AskedToStop", key="k2", occurred_at=months_before(now, 3))
    respond(incident, "RefusedToStop", key="k3", occurred_at=months_before(now, 3))
    respond(incident, "PoliceCalled", key="k4", reference="Ref 77", occurred_at=months_before(now, 3))
    respond(incident, "WarningLetterSent", key="k5", occurred_at=months_before(now, 2))
    respond(incident, "RemovalRequested", key="k6", occurred_at=now)
    incident.add_note("The patient has been told by letter", "k7")
    with acting_as(MANAGER, MANAGER_NAME):
        incident.correct("children_present", "yes", "CCTV showed a child")
        incident.review("")
        incident.close("removal_from_list", "")

    log.save(incident)
    rebuilt = log.repository.get(incident.id)

    assert rebuilt == incident
    assert rebuilt is not incident
    assert rebuilt.version == 11
    assert rebuilt.children_present == "yes"
    assert rebuilt.response_times == incident.response_times
    assert all(t.tzinfo is not None for times in rebuilt.response_times.values() for t in times)
    assert rebuilt.status == "closed"
    assert [type(e).__name__ for e in log.events.get(incident.id)] == [
        "Reported",
        "PolicyExplained",
        "AskedToStop",
        "RefusedToStop",
        "PoliceCalled",
        "WarningLetterSent",
        "RemovalRequested",
        "NoteAdded",
        "Corrected",
        "Reviewed",
        "Closed",
    ]


def test_rules_still_hold_on_a_reloaded_incident(log):
    incident = report()
    respond(incident, "PolicyExplained")
    log.save(incident)
    rebuilt = log.repository.get(incident.id)
    with pytest.raises(ResponseOutOfOrder):
        respond(rebuilt, "RefusedToStop")
    with pytest.raises(RemovalNotJustified):
        respond(rebuilt, "RemovalRequested")


# Who filmed: warnings and removals tied to the person --------------------------------

PATIENT = "943 476 5919"
OTHER_PATIENT = "401 023 2137"


def test_a_report_may_name_the_patient_filming_by_nhs_number_or_describe_a_visitor():
    patient = reported(filmer="patient", filmer_nhs_number=PATIENT)
    assert (patient.filmer_nhs_number, patient.patient_filming) == ("9434765919", "9434765919")
    assert patient.person == "a patient (NHS number ending 919)"
    visitor = reported(filmer="visitor", filmer_description="Man in a grey hoodie")
    assert (visitor.person, visitor.patient_filming) == ("a visitor (Man in a grey hoodie)", "")
    assert reported(filmer="unknown").person == "not known"


@pytest.mark.parametrize(
    "facts, message",
    [
        (dict(filmer="visitor", filmer_nhs_number=PATIENT), "only for a patient"),
        (dict(filmer="patient", filmer_description="Tall man"), "only for a visitor"),
        (dict(filmer="patient", filmer_nhs_number="943 476 5918"), "not a valid NHS number"),
        (dict(filmer="visitor", filmer_description="x" * 81), "at most 80"),
    ],
)
def test_who_filmed_is_checked(facts, message):
    with pytest.raises(DomainError, match=message):
        report(**facts)


def _warned(nhs: str, sent: datetime, key: str = "warned") -> FilmingIncident:
    earlier = FILMING.report(filmer="patient", filmer_nhs_number=nhs, occurred_at=sent - timedelta(hours=1), submission_key=key)
    respond(earlier, "WarningLetterSent", occurred_at=sent)
    return earlier


def test_removal_relies_on_a_warning_to_the_same_patient_on_another_incident_within_12_months():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    earlier = _warned(PATIENT, months_before(now, 11))
    incident = reported(filmer="patient", filmer_nhs_number=PATIENT, occurred_at=now - timedelta(minutes=5))
    respond(incident, "RemovalRequested", occurred_at=now, related=[earlier])
    assert incident.responses == ["RemovalRequested"]


def test_removal_is_refused_when_the_warning_went_to_another_patient():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    earlier = _warned(OTHER_PATIENT, months_before(now, 1))
    incident = reported(filmer="patient", filmer_nhs_number=PATIENT, occurred_at=now - timedelta(minutes=5))
    with pytest.raises(RemovalNotJustified, match="same person"):
        respond(incident, "RemovalRequested", occurred_at=now, related=[earlier])


def test_removal_is_refused_when_the_same_patients_warning_is_over_12_months_old():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    earlier = _warned(PATIENT, months_before(now, 13))
    incident = reported(filmer="patient", filmer_nhs_number=PATIENT, occurred_at=now - timedelta(minutes=5))
    with pytest.raises(RemovalNotJustified):
        respond(incident, "RemovalRequested", occurred_at=now, related=[earlier])


def test_a_visitors_warning_on_another_incident_does_not_count():
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    earlier = FILMING.report(filmer="visitor", filmer_description="Tall man", occurred_at=months_before(now, 2), submission_key="v1")
    respond(earlier, "WarningLetterSent", occurred_at=months_before(now, 1))
    incident = reported(filmer="visitor", filmer_description="Tall man", occurred_at=now - timedelta(minutes=5))
    with pytest.raises(RemovalNotJustified):
        respond(incident, "RemovalRequested", occurred_at=now, related=[earlier])


def test_removal_with_a_police_incident_number_needs_no_warning():
    incident = reported(filmer="patient", filmer_nhs_number=PATIENT)
    respond(incident, "RemovalRequested", reference=POLICE_INCIDENT_NUMBER, related=[])
    assert incident.responses == ["RemovalRequested"]


def test_the_removal_guidance_names_the_rule():
    assert "12 months" in REMOVAL_GUIDANCE and "police incident number" in REMOVAL_GUIDANCE
