"""FilmingIncident: someone filmed in reception or a waiting area. Every event and every rule."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from incidents.domain.acting import acting_as
from incidents.domain.filming import (
    AREAS,
    CHILDREN_PRESENT,
    FILMERS,
    GUIDANCE,
    PEOPLE_CAPTURED,
    FilmingIncident,
    RemovalNotJustified,
)
from incidents.domain.incident import (
    CorrectionNeedsReason,
    Incident,
    IncidentClosed,
    IncidentNotClosed,
    NotCorrectable,
    NothingToCorrect,
    ReasonRequired,
    ResponseOutOfOrder,
    UnknownOutcome,
    UnknownResponse,
)
from incidents.domain.recording import RecordingEpisode
from incidents.domain.values import InvalidPractice, InvalidValue, OccurredInFuture, TextTooLong

UK = ZoneInfo("Europe/London")
ACTOR, ACTOR_NAME = "rita.reception", "Rita Reception"
MANAGER, MANAGER_NAME = "mo.manager", "Mo Manager"

POLICE_INCIDENT_NUMBER = "CAD 4521 25/11/25"


@pytest.fixture(autouse=True)
def acting_at_reception():
    """The receptionist acts unless a test says who else does."""
    with acting_as(ACTOR, ACTOR_NAME):
        yield


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def report(**overrides) -> FilmingIncident:
    values = dict(
        practice="A81001",
        submission_key="filming-form-0001",
        occurred_at=minutes_ago(30),
        area="waiting_area",
        filmer="patient",
        people_captured="staff_and_patients",
        children_present="no",
        note="Filming the queue on a phone.",
    )
    values.update(overrides)
    return FilmingIncident.report(**values)


def reported(**overrides) -> FilmingIncident:
    """A freshly reported incident whose Reported event has already been taken."""
    incident = report(**overrides)
    incident.collect_events()
    return incident


def respond(incident: Incident, response: str, key: str | None = None, occurred_at: datetime | None = None, **extra) -> None:
    incident.respond(
        response,
        occurred_at or minutes_ago(10),
        key or f"response-{response}-{len(incident.responses)}",
        **extra,
    )


def closed(**overrides) -> FilmingIncident:
    incident = reported(**overrides)
    with acting_as(MANAGER, MANAGER_NAME):
        incident.close("resolved_at_desk", "")
    incident.collect_events()
    return incident


# Reported -------------------------------------------------------------------------


def test_reporting_triggers_one_reported_event_with_every_fact():
    occurred = datetime(2025, 7, 1, 9, 15, tzinfo=UK)
    incident = report(occurred_at=occurred, area="reception", filmer="visitor", people_captured="staff", children_present="yes")

    [event] = incident.collect_events()

    assert type(event) is FilmingIncident.Reported
    assert event.originator_id == incident.id
    assert event.originator_version == 1
    assert event.practice == "A81001"
    assert event.submission_key == "filming-form-0001"
    assert event.occurred_at == datetime(2025, 7, 1, 8, 15, tzinfo=timezone.utc)
    assert event.occurred_at.tzinfo == timezone.utc
    assert event.area == "reception"
    assert event.filmer == "visitor"
    assert event.people_captured == "staff"
    assert event.children_present == "yes"
    assert event.note == "Filming the queue on a phone."
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME


def test_a_reported_incident_is_open_unreviewed_and_has_no_responses():
    incident = report(note="")
    assert incident.status == "open"
    assert incident.reviewed is False
    assert incident.outcome is None
    assert incident.responses == []
    assert incident.response_times == {}
    assert incident.notes_count == 0
    assert incident.corrections_count == 0


def test_the_id_is_deterministic_from_practice_and_submission_key_and_practice_is_upper_cased():
    incident = report(practice="a81001", submission_key="form-key-123")
    assert incident.practice == "A81001"
    assert incident.id == FilmingIncident.create_id("A81001", "form-key-123")
    assert incident.id == FilmingIncident.create_id("a81001", "form-key-123")
    assert report(submission_key="form-key-123").id == incident.id
    assert report(submission_key="form-key-124").id != incident.id
    assert report(practice="B82002", submission_key="form-key-123").id != incident.id


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"practice": ""}, InvalidPractice),
        ({"area": "roof"}, InvalidValue),
        ({"filmer": "journalist"}, InvalidValue),
        ({"people_captured": "everyone"}, InvalidValue),
        ({"children_present": "maybe"}, InvalidValue),
        ({"note": "x" * 5001}, TextTooLong),
        ({"occurred_at": datetime(2024, 3, 1, 9, 30)}, InvalidValue),
    ],
)
def test_reporting_refuses_invalid_facts(overrides, error):
    with pytest.raises(error):
        report(**overrides)


def test_reporting_refuses_a_time_in_the_future():
    with pytest.raises(OccurredInFuture):
        report(occurred_at=datetime.now(timezone.utc) + timedelta(minutes=30))


def test_vocabularies_match_the_design():
    assert set(AREAS) >= {"reception", "waiting_area"}
    assert set(FILMERS) == {"patient", "visitor", "unknown"}
    assert set(PEOPLE_CAPTURED) >= {"staff", "patients", "staff_and_patients"}
    assert set(CHILDREN_PRESENT) == {"yes", "no", "unknown"}
    assert set(FilmingIncident.RESPONSES) == {
        "PolicyExplained",
        "NoticePointedOut",
        "AskedToStop",
        "Stopped",
        "RefusedToStop",
        "AskedToDeleteFootage",
        "ManagerAttended",
        "PoliceCalled",
        "LeftPremises",
        "WarningLetterSent",
        "RemovalRequested",
    }
    assert "not of data protection law" in GUIDANCE


# Responses --------------------------------------------------------------------------

PREREQUISITES = {"RefusedToStop": ["AskedToStop"]}


@pytest.mark.parametrize("response", sorted(FilmingIncident.RESPONSES))
def test_every_response_triggers_its_own_event_with_who_when_and_what(response):
    incident = reported()
    for earlier in PREREQUISITES.get(response, []):
        respond(incident, earlier, key=f"earlier-{earlier}")
    incident.collect_events()
    when = datetime.now(UK).replace(second=0, microsecond=0) - timedelta(minutes=5)
    # A police incident number justifies a removal on its own; for the others it is just a reference.
    reference = POLICE_INCIDENT_NUMBER if response == "RemovalRequested" else " REF-42 "

    incident.respond(response, when, "response-key-1", reference=reference, note=" what happened ")
    [event] = incident.collect_events()

    assert type(event) is FilmingIncident.RESPONSES[response].event_class
    assert type(event).__name__ == response
    assert isinstance(event, Incident.Responded)
    assert event.originator_id == incident.id
    assert event.occurred_at == when.astimezone(timezone.utc)
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME
    assert event.reference == reference.strip()
    assert event.note == "what happened"
    assert event.submission_key == "response-key-1"
    assert incident.responses[-1] == response
    assert incident.response_times[response] == [event.occurred_at]
    assert incident.has_submission("response-key-1")


def test_a_typical_desk_sequence_is_recorded_in_order():
    incident = reported()
    for response in ["PolicyExplained", "NoticePointedOut", "AskedToStop", "RefusedToStop", "ManagerAttended", "AskedToStop", "Stopped", "AskedToDeleteFootage", "LeftPremises"]:
        respond(incident, response)
    events = incident.collect_events()
    assert [type(e).__name__ for e in events] == incident.responses
    assert incident.responses.count("AskedToStop") == 2
    assert [e.originator_version for e in events] == list(range(2, 2 + len(events)))


def test_a_refusal_to_stop_needs_a_request_to_stop_first():
    incident = reported()
    respond(incident, "PolicyExplained")
    with pytest.raises(ResponseOutOfOrder):
        respond(incident, "RefusedToStop")
    respond(incident, "AskedToStop")
    respond(incident, "RefusedToStop")
    assert incident.responses == ["PolicyExplained", "AskedToStop", "RefusedToStop"]


@pytest.mark.parametrize("unknown", ["CopyReceived", "AskedToRecordOpenly", "Arrested", "", "askedtostop"])
def test_an_unknown_response_is_refused(unknown):
    incident = reported()
    with pytest.raises(UnknownResponse):
        respond(incident, unknown)
    assert incident.collect_events() == []


def test_a_response_in_the_future_is_refused():
    with pytest.raises(OccurredInFuture):
        respond(reported(), "AskedToStop", occurred_at=datetime.now(timezone.utc) + timedelta(minutes=10))


def test_a_response_note_over_5000_characters_is_refused():
    incident = reported()
    with pytest.raises(TextTooLong):
        respond(incident, "PolicyExplained", note="n" * 5001)
    with pytest.raises(TextTooLong):
        respond(incident, "PoliceCalled", reference="r" * 201)
    assert incident.collect_events() == []


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


# Notes ------------------------------------------------------------------------------


def test_adding_a_note_triggers_note_added():
    incident = reported()
    incident.add_note(" Two children were in the waiting room. ", "note-key-1")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.NoteAdded)
    assert type(event).__name__ == "NoteAdded"
    assert event.text == "Two children were in the waiting room."
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME
    assert event.submission_key == "note-key-1"
    assert incident.notes_count == 2
    assert incident.has_submission("note-key-1")


def test_a_note_over_5000_characters_is_refused_and_an_empty_one_too():
    incident = reported()
    with pytest.raises(TextTooLong):
        incident.add_note("n" * 5001, "note-key-1")
    with pytest.raises(InvalidValue):
        incident.add_note("  ", "note-key-2")
    assert incident.collect_events() == []
    assert incident.notes_count == 1


# Corrections ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, new_value, state_value, shown_before",
    [
        ("area", "reception", "reception", "waiting_area"),
        ("filmer", "unknown", "unknown", "patient"),
        ("people_captured", "patients", "patients", "staff_and_patients"),
        ("children_present", "unknown", "unknown", "no"),
        ("occurred_at", "2025-02-01T08:00:00+00:00", datetime(2025, 2, 1, 8, 0, tzinfo=timezone.utc), "2025-02-01T09:00:00+00:00"),
    ],
)
def test_every_reported_fact_can_be_corrected_keeping_the_original(field, new_value, state_value, shown_before):
    incident = reported(occurred_at=datetime(2025, 2, 1, 9, 0, tzinfo=timezone.utc))
    with acting_as(MANAGER, MANAGER_NAME):
        incident.correct(field, new_value, "Misheard at the desk")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.Corrected)
    assert event.field == field
    assert event.previous_value == shown_before
    assert event.new_value == new_value
    assert event.value == state_value
    assert event.reason == "Misheard at the desk"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert getattr(incident, field) == state_value
    assert incident.corrections_count == 1


def test_a_correction_needs_a_reason():
    incident = reported()
    with pytest.raises(CorrectionNeedsReason):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct("area", "reception", "  ")
    assert incident.area == "waiting_area"


@pytest.mark.parametrize("field", ["practice", "clinician", "nhs_number", "status", "responses", "nope"])
def test_only_this_kinds_reported_facts_can_be_corrected(field):
    with pytest.raises(NotCorrectable):
        with acting_as(MANAGER, MANAGER_NAME):
            reported().correct(field, "X", "Because")


@pytest.mark.parametrize("field, same", [("area", "waiting_area"), ("filmer", "patient"), ("children_present", "no")])
def test_correcting_to_the_same_value_is_refused(field, same):
    incident = reported()
    with pytest.raises(NothingToCorrect):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, same, "Because")
    assert incident.collect_events() == []


@pytest.mark.parametrize(
    "field, bad",
    [("area", "roof"), ("filmer", "Patient"), ("people_captured", ""), ("children_present", "2"), ("occurred_at", "last Tuesday")],
)
def test_an_invalid_new_value_is_refused(field, bad):
    incident = reported()
    with pytest.raises(InvalidValue):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, bad, "Because")
    assert incident.collect_events() == []


def test_a_time_cannot_be_corrected_into_the_future():
    future = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    with pytest.raises(OccurredInFuture):
        with acting_as(MANAGER, MANAGER_NAME):
            reported().correct("occurred_at", future, "Because")


# Review, close, reopen ------------------------------------------------------------


def test_reviewing_triggers_reviewed():
    incident = reported()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.review("Spoke to the patient by phone")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.Reviewed)
    assert event.comment == "Spoke to the patient by phone"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert incident.reviewed is True


@pytest.mark.parametrize("outcome", sorted(FilmingIncident.OUTCOMES))
def test_closing_triggers_closed_with_the_outcome(outcome):
    incident = reported()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.close(outcome, "Done")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.Closed)
    assert event.outcome == outcome
    assert event.note == "Done"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert incident.status == "closed"
    assert incident.outcome == outcome


@pytest.mark.parametrize("outcome", ["copy_added_to_record", "recorded_openly", "banned", ""])
def test_closing_with_an_unknown_outcome_is_refused(outcome):
    incident = reported()
    with pytest.raises(UnknownOutcome):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.close(outcome, "")
    assert incident.status == "open"


def test_closing_twice_is_refused():
    incident = closed()
    with pytest.raises(IncidentClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.close("no_further_action", "")
    assert incident.outcome == "resolved_at_desk"
    assert incident.collect_events() == []


def test_a_closed_incident_refuses_responses_and_corrections_until_reopened():
    incident = closed()
    with pytest.raises(IncidentClosed):
        respond(incident, "WarningLetterSent")
    with pytest.raises(IncidentClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct("area", "reception", "Because")
    assert incident.collect_events() == []

    with acting_as(MANAGER, MANAGER_NAME):
        incident.reopen("They came back and filmed again")
    respond(incident, "WarningLetterSent")
    with acting_as(MANAGER, MANAGER_NAME):
        incident.correct("area", "reception", "Because")
    assert [type(e).__name__ for e in incident.collect_events()] == ["Reopened", "WarningLetterSent", "Corrected"]


def test_reopening_triggers_reopened_and_clears_the_outcome():
    incident = closed()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.reopen("Complaint received")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.Reopened)
    assert event.reason == "Complaint received"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert incident.status == "open"
    assert incident.outcome is None


def test_reopening_an_open_incident_is_refused():
    with pytest.raises(IncidentNotClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            reported().reopen("Why not")


@pytest.mark.parametrize("reason", ["", " \n "])
def test_reopening_needs_a_reason(reason):
    incident = closed()
    with pytest.raises(ReasonRequired):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.reopen(reason)
    assert incident.status == "closed"


# The two kinds share their base but not their vocabularies ------------------------


def test_the_kinds_keep_separate_vocabularies():
    assert not set(FilmingIncident.RESPONSES) & set(RecordingEpisode.RESPONSES)
    assert FilmingIncident.KIND == "filming" and RecordingEpisode.KIND == "recording"


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
