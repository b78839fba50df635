"""What every incident kind inherits from Incident (report, respond, note, correct, review, close,
reopen), run on each kind; a kind's own facts and rules are tested in its own module."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from incidents.domain.acting import acting_as
from incidents.domain import filming, recording
from incidents.domain.filming import FilmingIncident
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
from incidents.domain.values import InvalidNHSNumber, InvalidPractice, InvalidValue, OccurredInFuture, TextTooLong
from tests.unit.kinds import (
    ACTOR,
    ACTOR_NAME,
    FILMING,
    KINDS,
    MANAGER,
    MANAGER_NAME,
    POLICE_INCIDENT_NUMBER,
    RECORDING,
    Kind,
    respond,
)

UK = ZoneInfo("Europe/London")
REPORTED_AT = datetime(2025, 1, 14, 9, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.usefixtures("acting_at_reception")


def named(value: Any) -> str:
    text = str(value)
    return "blank" if not text.strip() else text if len(text) <= 32 else f"{len(text)}-characters"


def each_kind(table: dict[Kind, list[tuple[Any, ...]]]) -> list[Any]:
    """pytest parameters: each kind with each of its rows, named by the kind and the row's first two values."""
    return [
        pytest.param(kind, *row, id="-".join([str(kind), *map(named, row[:2])]))
        for kind, rows in table.items()
        for row in rows
    ]


@pytest.fixture(params=KINDS, ids=str)
def kind(request) -> Kind:
    return request.param


# Reported -------------------------------------------------------------------------


def test_reporting_triggers_one_reported_event_with_every_fact(kind):
    incident = kind.report(occurred_at=datetime(2025, 7, 1, 14, 5, tzinfo=UK), note="  Seen at the front desk.  \n")

    [event] = incident.collect_events()

    assert type(event) is kind.cls.Reported
    assert event.originator_id == incident.id
    assert event.originator_version == 1
    assert event.practice == "A81001"
    assert event.submission_key == f"{kind}-form-0001"
    assert event.occurred_at == datetime(2025, 7, 1, 13, 5, tzinfo=timezone.utc)
    assert event.occurred_at.tzinfo == timezone.utc
    assert {name: getattr(event, name) for name in kind.stored} == kind.stored
    assert event.note == "Seen at the front desk."
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME


def test_a_reported_incident_is_open_unreviewed_and_has_no_responses(kind):
    incident = kind.report()
    assert incident.status == "open"
    assert incident.reviewed is False
    assert incident.outcome is None
    assert incident.responses == []
    assert incident.response_times == {}
    assert incident.notes_count == 1
    assert incident.corrections_count == 0
    assert kind.report(note="").notes_count == 0
    assert kind.report(note="n" * 5000).notes_count == 1


def test_the_id_is_deterministic_from_practice_and_submission_key_and_practice_is_upper_cased(kind):
    incident = kind.report(practice="a81001", submission_key="form-key-123")
    assert incident.practice == "A81001"
    assert incident.id == kind.cls.create_id("A81001", "form-key-123")
    assert incident.id == kind.cls.create_id("a81001", "form-key-123")
    assert incident.id == kind.cls.create_id(" a81001 ", "form-key-123")
    assert kind.report(submission_key="form-key-123").id == incident.id
    assert kind.report(submission_key="form-key-124").id != incident.id
    assert kind.report(practice="B82002", submission_key="form-key-123").id != incident.id


# A kind's own facts given a value it refuses, when reported and when corrected alike.
INVALID_VALUES = {
    FILMING: [
        ("area", "roof", InvalidValue),
        ("filmer", "journalist", InvalidValue),
        ("filmer", "Patient", InvalidValue),
        ("people_captured", "everyone", InvalidValue),
        ("people_captured", "", InvalidValue),
        ("children_present", "maybe", InvalidValue),
        ("children_present", "2", InvalidValue),
    ],
    RECORDING: [
        ("clinician", "   ", InvalidValue),
        ("clinician", "x" * 201, TextTooLong),
        ("setting", "car_park", InvalidValue),
        ("openness", "obvious", InvalidValue),
        ("media", "photo", InvalidValue),
        ("nhs_number", "9434765918", InvalidNHSNumber),
        ("nhs_number", "94347659", InvalidNHSNumber),
    ],
}
INVALID_FACTS = {
    kind: rows + [
        ("practice", "", InvalidPractice),
        ("practice", "not a code", InvalidPractice),
        ("note", "x" * 5001, TextTooLong),
        ("occurred_at", datetime(2024, 3, 1, 9, 30), InvalidValue),  # no time zone
    ]
    for kind, rows in INVALID_VALUES.items()
}
INVALID_CORRECTIONS = {
    kind: rows + [
        ("occurred_at", "yesterday", InvalidValue),
        ("occurred_at", "2025-03-30 01:30", InvalidValue),  # a UK clock time the spring change skips
    ]
    for kind, rows in INVALID_VALUES.items()
}


@pytest.mark.parametrize("kind, fact, value, error", each_kind(INVALID_FACTS))
def test_reporting_refuses_invalid_facts(kind, fact, value, error):
    with pytest.raises(error):
        kind.report(**{fact: value})


def test_reporting_refuses_a_time_in_the_future(kind):
    with pytest.raises(OccurredInFuture):
        kind.report(occurred_at=datetime.now(timezone.utc) + timedelta(minutes=6))


RESPONSES = {
    FILMING: {
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
    },
    RECORDING: {
        "AskedToRecordOpenly",
        "CopyRequested",
        "CopyReceived",
        "CopyAddedToMedicalRecord",
        "PatientDeclinedToShare",
        "FoundPublishedOnline",
        "DefenceOrganisationConsulted",
    },
}
GUIDANCE = {FILMING: (filming.GUIDANCE, "not of data protection law"), RECORDING: (recording.GUIDANCE, "not a data protection breach")}


def test_the_responses_and_guidance_match_the_design(kind):
    assert set(kind.cls.RESPONSES) == RESPONSES[kind]
    text, says = GUIDANCE[kind]
    assert says in text


def test_the_kinds_keep_separate_vocabularies():
    assert not set(FilmingIncident.RESPONSES) & set(RecordingEpisode.RESPONSES)
    assert FilmingIncident.KIND == "filming" and RecordingEpisode.KIND == "recording"


# Responses --------------------------------------------------------------------------


@pytest.mark.parametrize("kind, response", each_kind({kind: [(r,) for r in sorted(kind.cls.RESPONSES)] for kind in KINDS}))
def test_every_response_triggers_its_own_event_with_who_when_and_what(kind, response):
    incident = kind.reported()
    if response in kind.prerequisites:
        respond(incident, kind.prerequisites[response], key="earlier")
        incident.collect_events()
    when = datetime.now(UK).replace(second=0, microsecond=0) - timedelta(minutes=5)
    # A police incident number justifies a removal on its own; for the others it is just a reference.
    reference = POLICE_INCIDENT_NUMBER if response == "RemovalRequested" else " REF-42 "

    incident.respond(response, when, "response-key-1", reference=reference, note=" what happened ")
    [event] = incident.collect_events()

    assert type(event) is kind.cls.RESPONSES[response].event_class
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


SEQUENCES = {
    FILMING: ["PolicyExplained", "NoticePointedOut", "AskedToStop", "RefusedToStop", "ManagerAttended", "AskedToStop", "Stopped", "AskedToDeleteFootage", "LeftPremises"],
    RECORDING: ["CopyRequested", "CopyRequested", "CopyReceived", "CopyAddedToMedicalRecord"],
}


def test_responses_are_kept_in_order_and_may_repeat(kind):
    incident = kind.reported()
    for response in SEQUENCES[kind]:
        respond(incident, response)
    events = incident.collect_events()
    assert incident.responses == SEQUENCES[kind]
    assert [type(e).__name__ for e in events] == incident.responses
    assert [e.originator_version for e in events] == list(range(2, 2 + len(events)))
    [repeated] = {r for r in SEQUENCES[kind] if SEQUENCES[kind].count(r) == 2}
    assert len(incident.response_times[repeated]) == 2


# a response that needs an earlier one, that earlier one, and one that is no substitute for it
OUT_OF_ORDER = {
    FILMING: [("RefusedToStop", "AskedToStop", "PolicyExplained")],
    RECORDING: [("CopyAddedToMedicalRecord", "CopyReceived", "CopyRequested")],
}


@pytest.mark.parametrize("kind, later, earlier, unrelated", each_kind(OUT_OF_ORDER))
def test_a_response_needing_an_earlier_one_is_refused_until_that_one_is_given(kind, later, earlier, unrelated):
    incident = kind.reported()
    respond(incident, unrelated)
    with pytest.raises(ResponseOutOfOrder):
        respond(incident, later)
    respond(incident, earlier)
    respond(incident, later)
    assert incident.responses == [unrelated, earlier, later]


UNKNOWN_RESPONSES = {
    FILMING: [("CopyReceived",), ("AskedToRecordOpenly",), ("Arrested",), ("",), ("askedtostop",)],
    RECORDING: [("AskedToStop",), ("RemovalRequested",), ("Shouted",), ("",), ("copyreceived",)],
}


@pytest.mark.parametrize("kind, unknown", each_kind(UNKNOWN_RESPONSES))
def test_an_unknown_response_is_refused(kind, unknown):
    incident = kind.reported()
    with pytest.raises(UnknownResponse):
        respond(incident, unknown)
    assert incident.collect_events() == []


def test_a_response_in_the_future_is_refused(kind):
    with pytest.raises(OccurredInFuture):
        respond(kind.reported(), kind.response, occurred_at=datetime.now(timezone.utc) + timedelta(minutes=10))


def test_a_response_needs_a_time_zone(kind):
    with pytest.raises(InvalidValue):
        respond(kind.reported(), kind.response, occurred_at=datetime(2025, 1, 1, 9, 0))


def test_a_response_reference_is_at_most_200_characters_and_its_note_5000(kind):
    incident = kind.reported()
    respond(incident, kind.response, reference="r" * 200, note="n" * 5000)
    with pytest.raises(TextTooLong):
        respond(incident, kind.response, reference="r" * 201)
    with pytest.raises(TextTooLong):
        respond(incident, kind.response, note="n" * 5001)
    assert len(incident.collect_events()) == 1


# Notes ------------------------------------------------------------------------------


def test_adding_a_note_triggers_note_added(kind):
    incident = kind.reported()
    incident.add_note("  They came back the next day.  ", "note-key-1")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.NoteAdded)
    assert type(event).__name__ == "NoteAdded"
    assert event.text == "They came back the next day."
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME
    assert event.submission_key == "note-key-1"
    assert event.originator_version == 2
    assert incident.notes_count == 2
    assert incident.has_submission("note-key-1")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"], ids=["empty", "spaces", "tab-and-newline"])
def test_an_empty_note_is_refused(kind, blank):
    incident = kind.reported()
    with pytest.raises(InvalidValue):
        incident.add_note(blank, "note-key-1")
    assert incident.collect_events() == []
    assert incident.notes_count == 1


def test_a_note_over_5000_characters_is_refused(kind):
    incident = kind.reported()
    incident.add_note("n" * 5000, "note-key-1")
    with pytest.raises(TextTooLong):
        incident.add_note("n" * 5001, "note-key-2")
    assert len(incident.collect_events()) == 1


# Corrections ------------------------------------------------------------------------

CORRECTIONS = {
    FILMING: [
        ("area", "reception", "reception", "waiting_area", "reception"),
        ("filmer", "unknown", "unknown", "patient", "unknown"),
        ("people_captured", "patients", "patients", "staff_and_patients", "patients"),
        ("children_present", "unknown", "unknown", "no", "unknown"),
    ],
    RECORDING: [
        ("clinician", "Dr Okafor", "Dr Okafor", "Dr Patel", "Dr Okafor"),
        ("setting", "home_visit", "home_visit", "consulting_room", "home_visit"),
        ("openness", "noticed_during", "noticed_during", "announced", "noticed_during"),
        ("media", "unknown", "unknown", "audio", "unknown"),
        ("nhs_number", "943-476-5870", "9434765870", "943 476 5919", "943 476 5870"),
        ("nhs_number", "", "", "943 476 5919", ""),
    ],
}
for _kind in KINDS:
    CORRECTIONS[_kind].append(
        ("occurred_at", "2025-01-15T09:00:00+00:00", datetime(2025, 1, 15, 9, 0, tzinfo=timezone.utc),
         "2025-01-14T09:00:00+00:00", "2025-01-15T09:00:00+00:00")
    )


@pytest.mark.parametrize("kind, field, new_value, state_value, shown_before, shown_after", each_kind(CORRECTIONS))
def test_every_reported_fact_can_be_corrected_keeping_the_original(kind, field, new_value, state_value, shown_before, shown_after):
    incident = kind.reported(occurred_at=REPORTED_AT)

    with acting_as(MANAGER, MANAGER_NAME):
        incident.correct(field, new_value, "  Typed in the wrong box  ")
    [event] = incident.collect_events()

    assert isinstance(event, Incident.Corrected)
    assert event.field == field
    assert event.previous_value == shown_before
    assert event.new_value == shown_after
    assert event.value == state_value
    assert event.reason == "Typed in the wrong box"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert getattr(incident, field) == state_value
    assert incident.corrections_count == 1


@pytest.mark.parametrize("given", ["2025-07-01T14:05:00+01:00", "2025-07-01 14:05"])
def test_a_corrected_time_given_in_uk_time_is_stored_in_utc(kind, given):
    """With an offset, or as the UK clock showed it (the correction form's date and time fields)."""
    incident = kind.reported()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.correct("occurred_at", given, "Wrong hour")
    assert incident.occurred_at == datetime(2025, 7, 1, 13, 5, tzinfo=timezone.utc)
    assert incident.occurred_at.tzinfo == timezone.utc


@pytest.mark.parametrize("reason", ["", "   ", None], ids=["empty", "spaces", "none"])
def test_a_correction_needs_a_reason(kind, reason):
    field, reported_value, other = kind.correction
    incident = kind.reported()
    with pytest.raises(CorrectionNeedsReason):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, other, reason)
    assert getattr(incident, field) == reported_value
    assert incident.collect_events() == []


def test_a_correction_reason_is_at_most_5000_characters(kind):
    field, _, other = kind.correction
    with pytest.raises(TextTooLong):
        with acting_as(MANAGER, MANAGER_NAME):
            kind.reported().correct(field, other, "r" * 5001)


NOT_FACTS = ["practice", "status", "reported_by", "outcome", "responses", "bogus", "", "_id"]


@pytest.mark.parametrize("kind, field", each_kind({kind: [(f,) for f in NOT_FACTS + list(kind.foreign_facts)] for kind in KINDS}))
def test_only_this_kinds_reported_facts_can_be_corrected(kind, field):
    incident = kind.reported()
    with pytest.raises(NotCorrectable):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, "X", "Because")
    assert incident.practice == "A81001"
    assert incident.collect_events() == []


SAME_VALUES = {
    FILMING: [("area", "waiting_area"), ("filmer", "patient"), ("children_present", "no")],
    RECORDING: [
        ("clinician", "Dr Patel"),
        ("clinician", "  Dr Patel "),
        ("setting", "consulting_room"),
        ("media", "audio"),
        ("nhs_number", "9434765919"),
        ("nhs_number", "943 476 5919"),
    ],
}
for _kind in KINDS:
    SAME_VALUES[_kind] += [("occurred_at", "2025-01-14T09:00:00+00:00"), ("occurred_at", "2025-01-14T10:00:00+01:00")]


@pytest.mark.parametrize("kind, field, same_value", each_kind(SAME_VALUES))
def test_correcting_to_the_same_value_is_refused(kind, field, same_value):
    incident = kind.reported(occurred_at=REPORTED_AT)
    with pytest.raises(NothingToCorrect):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, same_value, "Because")
    assert incident.collect_events() == []


@pytest.mark.parametrize("kind, field, bad_value, error", each_kind(INVALID_CORRECTIONS))
def test_an_invalid_new_value_is_refused(kind, field, bad_value, error):
    incident = kind.reported()
    with pytest.raises(error):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, bad_value, "Because")
    assert incident.collect_events() == []


def test_a_time_cannot_be_corrected_into_the_future(kind):
    future = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    with pytest.raises(OccurredInFuture):
        with acting_as(MANAGER, MANAGER_NAME):
            kind.reported().correct("occurred_at", future, "Because")


# Review, close, reopen ------------------------------------------------------------


@pytest.mark.parametrize(
    "action, from_closed, event_class, said_as, after",
    [
        ("review", False, Incident.Reviewed, "comment", {"reviewed": True, "status": "open"}),
        ("reopen", True, Incident.Reopened, "reason", {"status": "open", "outcome": None}),
    ],
    ids=["review", "reopen"],
)
def test_reviewing_or_reopening_triggers_its_event_with_who_and_why(kind, action, from_closed, event_class, said_as, after):
    incident = kind.closed() if from_closed else kind.reported()
    with acting_as(MANAGER, MANAGER_NAME):
        getattr(incident, action)("  New information from the patient  ")
    [event] = incident.collect_events()
    assert isinstance(event, event_class)
    assert getattr(event, said_as) == "New information from the patient"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert {name: getattr(incident, name) for name in after} == after


def test_a_review_comment_is_optional_and_at_most_5000_characters(kind):
    incident = kind.reported()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.review("")
    with pytest.raises(TextTooLong):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.review("c" * 5001)
    assert len(incident.collect_events()) == 1


@pytest.mark.parametrize("kind, outcome", each_kind({kind: [(o,) for o in sorted(kind.cls.OUTCOMES)] for kind in KINDS}))
def test_closing_triggers_closed_with_the_outcome(kind, outcome):
    incident = kind.reported()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.close(outcome, " Nothing more to do. ")
    [event] = incident.collect_events()
    assert isinstance(event, Incident.Closed)
    assert event.outcome == outcome
    assert event.note == "Nothing more to do."
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert incident.status == "closed"
    assert incident.outcome == outcome
    assert incident.reviewed is True


UNKNOWN_OUTCOMES = {
    FILMING: [("copy_added_to_record",), ("recorded_openly",), ("banned",), ("",)],
    RECORDING: [("resolved_at_desk",), ("police_involved",), ("",), ("Closed",)],
}


@pytest.mark.parametrize("kind, outcome", each_kind(UNKNOWN_OUTCOMES))
def test_closing_with_an_unknown_outcome_is_refused(kind, outcome):
    incident = kind.reported()
    with pytest.raises(UnknownOutcome):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.close(outcome, "")
    assert incident.status == "open"
    assert incident.collect_events() == []


def test_a_closing_note_is_at_most_5000_characters(kind):
    incident = kind.reported()
    with pytest.raises(TextTooLong):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.close(kind.outcome, "n" * 5001)
    assert incident.status == "open"


def test_closing_twice_is_refused(kind):
    incident = kind.closed()
    other = next(o for o in kind.cls.OUTCOMES if o != kind.outcome)
    with pytest.raises(IncidentClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.close(other, "")
    assert incident.outcome == kind.outcome
    assert incident.collect_events() == []


def test_a_closed_incident_refuses_responses_and_corrections_until_reopened(kind):
    field, _, other = kind.correction
    incident = kind.closed()
    with pytest.raises(IncidentClosed):
        respond(incident, kind.response)
    with pytest.raises(IncidentClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.correct(field, other, "Because")
    with pytest.raises(IncidentClosed):  # said before the response is judged
        respond(incident, "NoSuchResponse")
    assert incident.collect_events() == []

    with acting_as(MANAGER, MANAGER_NAME):
        incident.reopen("More happened after all")
    respond(incident, kind.response)
    with acting_as(MANAGER, MANAGER_NAME):
        incident.correct(field, other, "Because")
    assert [type(e).__name__ for e in incident.collect_events()] == ["Reopened", kind.response, "Corrected"]


def test_reopening_an_open_incident_is_refused(kind):
    incident = kind.reported()
    with pytest.raises(IncidentNotClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.reopen("Why not")
    assert incident.collect_events() == []


@pytest.mark.parametrize("reason", ["", "   ", None], ids=["empty", "spaces", "none"])
def test_reopening_needs_a_reason(kind, reason):
    incident = kind.closed()
    with pytest.raises(ReasonRequired):
        with acting_as(MANAGER, MANAGER_NAME):
            incident.reopen(reason)
    assert incident.status == "closed"
    assert incident.collect_events() == []


def test_an_incident_can_be_closed_again_after_reopening(kind):
    other = next(o for o in kind.cls.OUTCOMES if o != kind.outcome)
    incident = kind.closed()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.reopen("More happened")
        incident.close(other, "")
    assert incident.status == "closed"
    assert incident.outcome == other


def test_a_closed_incident_is_still_closed_after_reloading(kind, log):
    incident = kind.report()
    with acting_as(MANAGER, MANAGER_NAME):
        incident.close(kind.outcome, "Done")
    log.save(incident)

    rebuilt = log.repository.get(incident.id)

    assert rebuilt.status == "closed"
    assert rebuilt.outcome == kind.outcome
    with pytest.raises(IncidentClosed):
        respond(rebuilt, kind.response)
