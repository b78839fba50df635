"""IncidentLog: every command through the application on the in-memory event store.

Covers the ids and positions commands return, idempotent submissions, practice scoping (another
practice's incident does not exist), the role matrix, and validation of the command models.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from incidents.application import commands as c
from incidents.application.service import IncidentLog, IncidentNotFound, NotPermitted, Saved
from incidents.domain.filming import FilmingIncident, RemovalNotJustified
from incidents.domain.incident import Incident, IncidentClosed, NotCorrectable, UnknownResponse
from incidents.domain.recording import RecordingEpisode

from tests.reports import filming, minutes_ago, new_key, recording

from .conftest import PRACTICE_A, PRACTICE_B

UK = ZoneInfo("Europe/London")


def response(incident_id: uuid.UUID, name: str, **overrides) -> c.RecordResponse:
    values = dict(incident_id=incident_id, submission_key=new_key(), response=name, occurred_at=minutes_ago(5))
    values.update(overrides)
    return c.RecordResponse(**values)


def each_is_not_found(log: IncidentLog, incident_id: uuid.UUID, staff, manager) -> None:
    """Reading that id, and every command on it, is refused as not found."""
    attempts = [
        lambda: log.get_incident(staff, incident_id),
        lambda: log.history(staff, incident_id),
        lambda: log.respond(response(incident_id, "PolicyExplained"), staff),
        lambda: log.add_note(c.AddNote(incident_id=incident_id, submission_key=new_key(), text="Snooping"), staff),
        lambda: log.correct(c.CorrectIncident(incident_id=incident_id, field="area", new_value="reception", reason="x"), staff),
        lambda: log.review_incident(c.ReviewIncident(incident_id=incident_id), manager),
        lambda: log.close_incident(c.CloseIncident(incident_id=incident_id, outcome="no_further_action"), manager),
    ]
    for attempt in attempts:
        with pytest.raises(IncidentNotFound):
            attempt()


def event_names(log: IncidentLog, actor, incident_id) -> list[str]:
    return [type(e).__name__ for e in log.history(actor, incident_id)]


@pytest.fixture
def filming_id(log, reception_a) -> uuid.UUID:
    """A filming incident reported by practice A's receptionist."""
    return log.report_filming(filming(), reception_a).id


# Reporting -------------------------------------------------------------------------


def test_report_filming_returns_saved_with_the_new_incident_and_its_position(log, reception_a):
    before = log.recorder.max_notification_id()
    command = filming()

    saved = log.report_filming(command, reception_a)

    assert isinstance(saved, Saved)
    assert saved.created is True
    assert saved.id == FilmingIncident.create_id(PRACTICE_A, command.submission_key)
    # Two events: the entry that gives the incident its number, then the incident, whose position it is.
    assert saved.notification_id == before + 2 == log.recorder.max_notification_id()
    incident = log.get_incident(reception_a, saved.id)
    assert isinstance(incident, FilmingIncident)
    assert incident.practice == PRACTICE_A
    assert incident.ref == f"F-{datetime.now(UK).year}-0001"
    assert incident.area == "waiting_area"


def test_report_recording_returns_saved_with_the_new_episode(log, reception_a):
    command = recording()
    saved = log.report_recording(command, reception_a)
    assert saved.created is True
    assert saved.id == RecordingEpisode.create_id(PRACTICE_A, command.submission_key)
    episode = log.get_incident(reception_a, saved.id)
    assert isinstance(episode, RecordingEpisode)
    assert episode.nhs_number == "9434765919"


def test_notification_ids_increase_with_every_saved_command(log, reception_a, manager_a):
    first = log.report_filming(filming(), reception_a)
    second = log.report_recording(recording(), reception_a)
    third = log.respond(response(first.id, "PolicyExplained"), reception_a)
    fourth = log.add_note(c.AddNote(incident_id=second.id, submission_key=new_key(), text="Copy asked for"), reception_a)
    fifth = log.review_incident(c.ReviewIncident(incident_id=first.id), manager_a)
    ids = [s.notification_id for s in (first, second, third, fourth, fifth)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    assert ids[-1] == log.recorder.max_notification_id()


def test_the_reported_event_names_who_reported_it(log, reception_a):
    saved = log.report_filming(filming(), reception_a)
    [reported] = log.history(reception_a, saved.id)
    assert type(reported) is FilmingIncident.Reported
    assert reported.actor == reception_a.username == "rita.reception"
    assert reported.actor_name == reception_a.display_name == "Rita Reception"
    assert reported.practice == PRACTICE_A


def test_the_practice_comes_from_the_actor_never_from_the_command(log):
    with pytest.raises(ValidationError):
        c.ReportFilming(**filming().model_dump(), practice=PRACTICE_B)


def test_the_same_submission_twice_makes_one_incident(log, reception_a):
    command = filming()
    first = log.report_filming(command, reception_a)
    position = log.recorder.max_notification_id()

    again = log.report_filming(command, reception_a)

    assert again.id == first.id
    assert again.created is False
    assert again.notification_id == position
    assert log.recorder.max_notification_id() == position
    assert event_names(log, reception_a, first.id) == ["Reported"]


def test_a_resubmission_with_different_answers_still_finds_the_first_incident(log, reception_a):
    key = new_key()
    first = log.report_filming(filming(submission_key=key, area="reception"), reception_a)
    again = log.report_filming(filming(submission_key=key, area="corridor"), reception_a)
    assert again.id == first.id and again.created is False
    assert log.get_incident(reception_a, first.id).area == "reception"


def test_the_same_recording_submission_twice_makes_one_episode(log, reception_a):
    command = recording()
    first = log.report_recording(command, reception_a)
    again = log.report_recording(command, reception_a)
    assert (again.id, again.created) == (first.id, False)
    assert event_names(log, reception_a, first.id) == ["Reported"]


def test_the_same_submission_key_in_two_practices_makes_two_incidents(log, reception_a, reception_b):
    key = new_key()
    a = log.report_filming(filming(submission_key=key), reception_a)
    b = log.report_filming(filming(submission_key=key), reception_b)
    assert a.id != b.id
    assert a.created and b.created
    assert log.get_incident(reception_b, b.id).practice == PRACTICE_B


# Responses, notes and corrections ---------------------------------------------------


def test_a_response_is_recorded_with_who_did_it(log, reception_a, filming_id):
    saved = log.respond(response(filming_id, "AskedToStop", reference="", note="Asked politely"), reception_a)
    assert saved.id == filming_id
    assert saved.created is True
    last = log.history(reception_a, filming_id)[-1]
    assert type(last) is FilmingIncident.AskedToStop
    assert last.actor == reception_a.username
    assert last.note == "Asked politely"
    assert saved.notification_id == log.recorder.max_notification_id()


def test_the_same_response_submitted_twice_is_recorded_once(log, reception_a, filming_id):
    command = response(filming_id, "AskedToStop")
    first = log.respond(command, reception_a)
    again = log.respond(command, reception_a)
    assert again.created is False
    assert again.id == filming_id
    assert again.notification_id == first.notification_id
    assert event_names(log, reception_a, filming_id) == ["Reported", "AskedToStop"]


def test_the_same_note_submitted_twice_is_recorded_once(log, reception_a, filming_id):
    command = c.AddNote(incident_id=filming_id, submission_key=new_key(), text="They left at 10:05")
    log.add_note(command, reception_a)
    assert log.add_note(command, reception_a).created is False
    assert event_names(log, reception_a, filming_id) == ["Reported", "NoteAdded"]


def test_two_different_responses_of_the_same_kind_are_both_recorded(log, reception_a, filming_id):
    log.respond(response(filming_id, "AskedToStop"), reception_a)
    log.respond(response(filming_id, "AskedToStop"), reception_a)
    assert event_names(log, reception_a, filming_id) == ["Reported", "AskedToStop", "AskedToStop"]


def test_domain_rules_apply_through_the_application_and_nothing_is_saved(log, reception_a, filming_id):
    position = log.recorder.max_notification_id()
    with pytest.raises(UnknownResponse):
        log.respond(response(filming_id, "CopyReceived"), reception_a)
    with pytest.raises(RemovalNotJustified):
        log.respond(response(filming_id, "RemovalRequested"), reception_a)
    with pytest.raises(NotCorrectable):
        log.correct(c.CorrectIncident(incident_id=filming_id, field="practice", new_value=PRACTICE_B, reason="Moving it"), reception_a)
    assert log.recorder.max_notification_id() == position
    assert log.get_incident(reception_a, filming_id).practice == PRACTICE_A


def test_a_correction_is_saved_beside_the_original(log, reception_a, filming_id):
    saved = log.correct(
        c.CorrectIncident(incident_id=filming_id, field="area", new_value="reception", reason="Wrong box ticked"), reception_a
    )
    assert saved.created is True
    [reported, corrected] = log.history(reception_a, filming_id)
    assert reported.area == "waiting_area"
    assert isinstance(corrected, Incident.Corrected)
    assert (corrected.previous_value, corrected.new_value, corrected.reason) == ("waiting_area", "reception", "Wrong box ticked")
    assert log.get_incident(reception_a, filming_id).area == "reception"


# Practice scoping --------------------------------------------------------------------


def test_an_incident_of_another_practice_does_not_exist_for_the_user(log, reception_b, manager_b, filming_id):
    each_is_not_found(log, filming_id, reception_b, manager_b)


def test_another_practices_attempts_leave_the_incident_untouched(log, reception_a, reception_b, filming_id):
    for _ in range(2):
        with pytest.raises(IncidentNotFound):
            log.respond(response(filming_id, "PolicyExplained"), reception_b)
    assert event_names(log, reception_a, filming_id) == ["Reported"]


def test_a_repeated_submission_key_from_another_practice_is_not_found_either(log, reception_a, reception_b, filming_id):
    command = response(filming_id, "PolicyExplained")
    log.respond(command, reception_a)
    with pytest.raises(IncidentNotFound):
        log.respond(command, reception_b)


def test_an_unknown_id_is_not_found(log, reception_a, manager_a):
    each_is_not_found(log, uuid.uuid4(), reception_a, manager_a)


def test_a_staff_account_id_is_not_an_incident(log, reception_a, manager_a):
    for account_id in (reception_a.user_id, manager_a.user_id):
        each_is_not_found(log, account_id, reception_a, manager_a)
    assert [type(e).__name__ for e in log.events.get(reception_a.user_id)] == ["Registered"]


# Roles --------------------------------------------------------------------------------


def test_reception_cannot_review_close_or_reopen(log, reception_a, manager_a, filming_id):
    with pytest.raises(NotPermitted):
        log.review_incident(c.ReviewIncident(incident_id=filming_id, comment="Looks fine"), reception_a)
    with pytest.raises(NotPermitted):
        log.close_incident(c.CloseIncident(incident_id=filming_id, outcome="resolved_at_desk"), reception_a)
    log.close_incident(c.CloseIncident(incident_id=filming_id, outcome="resolved_at_desk"), manager_a)
    with pytest.raises(NotPermitted):
        log.reopen_incident(c.ReopenIncident(incident_id=filming_id, reason="More to add"), reception_a)
    assert event_names(log, reception_a, filming_id) == ["Reported", "Closed"]


def test_a_manager_can_review_close_and_reopen(log, reception_a, manager_a, filming_id):
    reviewed = log.review_incident(c.ReviewIncident(incident_id=filming_id, comment="Seen"), manager_a)
    closed = log.close_incident(c.CloseIncident(incident_id=filming_id, outcome="warning_letter", note="Letter sent"), manager_a)
    reopened = log.reopen_incident(c.ReopenIncident(incident_id=filming_id, reason="Filmed again"), manager_a)

    assert reviewed.notification_id < closed.notification_id < reopened.notification_id
    history = log.history(manager_a, filming_id)
    assert [type(e).__name__ for e in history] == ["Reported", "Reviewed", "Closed", "Reopened"]
    assert all(e.actor == manager_a.username for e in history[1:])
    assert history[2].outcome == "warning_letter"
    incident = log.get_incident(reception_a, filming_id)
    assert incident.status == "open"
    assert incident.reviewed is True


def test_a_closed_incident_refuses_a_response_through_the_application(log, reception_a, manager_a, filming_id):
    log.close_incident(c.CloseIncident(incident_id=filming_id, outcome="resolved_at_desk"), manager_a)
    with pytest.raises(IncidentClosed):
        log.respond(response(filming_id, "PolicyExplained"), reception_a)
    log.reopen_incident(c.ReopenIncident(incident_id=filming_id, reason="They returned"), manager_a)
    log.respond(response(filming_id, "PolicyExplained"), reception_a)
    assert event_names(log, reception_a, filming_id) == ["Reported", "Closed", "Reopened", "PolicyExplained"]


def test_a_manager_can_also_report_and_respond(log, manager_a):
    saved = log.report_recording(recording(), manager_a)
    log.respond(response(saved.id, "CopyRequested"), manager_a)
    assert event_names(log, manager_a, saved.id) == ["Reported", "CopyRequested"]


def test_governance_can_report_but_not_close(log, sign_up):
    governance = sign_up("gail.governance", PRACTICE_A, "governance").actor
    saved = log.report_filming(filming(), governance)
    with pytest.raises(NotPermitted):
        log.close_incident(c.CloseIncident(incident_id=saved.id, outcome="no_further_action"), governance)


def test_staff_of_the_same_practice_see_each_others_incidents(log, reception_a, manager_a, filming_id):
    assert log.get_incident(manager_a, filming_id).id == filming_id


# Command validation -------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["submission_key", "occurred_at", "area", "filmer", "people_captured", "children_present"])
def test_a_filming_report_without_a_required_answer_is_invalid(missing):
    values = filming().model_dump()
    del values[missing]
    with pytest.raises(ValidationError) as raised:
        c.ReportFilming(**values)
    assert raised.value.errors()[0]["loc"] == (missing,)


@pytest.mark.parametrize("missing", ["submission_key", "occurred_at", "clinician", "setting", "openness", "media"])
def test_a_recording_report_without_a_required_answer_is_invalid(missing):
    values = recording().model_dump()
    del values[missing]
    with pytest.raises(ValidationError):
        c.ReportRecording(**values)


@pytest.mark.parametrize(
    "field, value",
    [("area", "roof"), ("filmer", ""), ("people_captured", "Staff"), ("children_present", "true"), ("note", "n" * 5001)],
)
def test_a_filming_report_with_a_bad_answer_is_invalid(field, value):
    with pytest.raises(ValidationError) as raised:
        filming(**{field: value})
    assert raised.value.errors()[0]["loc"] == (field,)


def test_a_10_mb_note_is_invalid():
    huge = "x" * (10 * 1024 * 1024)
    with pytest.raises(ValidationError):
        filming(note=huge)
    with pytest.raises(ValidationError):
        c.AddNote(incident_id=uuid.uuid4(), submission_key=new_key(), text=huge)
    with pytest.raises(ValidationError):
        c.RecordResponse(incident_id=uuid.uuid4(), submission_key=new_key(), response="AskedToStop", occurred_at=minutes_ago(1), note=huge)


def test_a_note_of_exactly_5000_characters_is_valid():
    assert len(filming(note="n" * 5000).note) == 5000


@pytest.mark.parametrize("key", ["", "short", "       x", "k" * 65])
def test_a_bad_submission_key_is_invalid(key):
    with pytest.raises(ValidationError):
        filming(submission_key=key)
    with pytest.raises(ValidationError):
        c.AddNote(incident_id=uuid.uuid4(), submission_key=key, text="x")


def test_a_submission_key_of_8_to_64_characters_is_valid():
    assert filming(submission_key="k" * 8).submission_key == "k" * 8
    assert filming(submission_key="k" * 64).submission_key == "k" * 64


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "12345"])
def test_a_bad_incident_id_is_invalid(bad_id):
    with pytest.raises(ValidationError):
        c.RecordResponse(incident_id=bad_id, submission_key=new_key(), response="AskedToStop", occurred_at=minutes_ago(1))


def test_unexpected_fields_are_refused():
    with pytest.raises(ValidationError):
        c.AddNote(incident_id=uuid.uuid4(), submission_key=new_key(), text="x", actor="someone.else")


@pytest.mark.parametrize(
    "model, values",
    [
        (c.AddNote, {"text": "   "}),
        (c.CorrectIncident, {"field": "area", "new_value": "reception", "reason": " "}),
        (c.ReopenIncident, {"reason": ""}),
        (c.CloseIncident, {"outcome": ""}),
        (c.RecordResponse, {"response": "", "occurred_at": datetime(2025, 1, 1, tzinfo=timezone.utc)}),
    ],
)
def test_blank_required_text_is_invalid(model, values):
    common = {"incident_id": uuid.uuid4()}
    if "submission_key" in model.model_fields:
        common["submission_key"] = new_key()
    with pytest.raises(ValidationError):
        model(**common, **values)


def test_commands_are_frozen():
    command = filming()
    with pytest.raises(ValidationError):
        command.area = "reception"  # type: ignore[misc]


def test_an_occurred_at_string_with_an_offset_is_parsed_and_stored_in_utc():
    command = filming(occurred_at="2025-07-01T14:05:00+01:00")
    assert command.occurred_at == datetime(2025, 7, 1, 13, 5, tzinfo=timezone.utc)
    assert command.occurred_at.tzinfo == timezone.utc


def test_a_blank_nhs_number_means_not_identified():
    assert recording(nhs_number="").nhs_number == ""
    assert recording(nhs_number="   ").nhs_number == ""
    assert recording(nhs_number="943-476-5919").nhs_number == "9434765919"




@pytest.mark.parametrize("nhs", ["9434765918", "123", "943476591X"])
def test_an_invalid_nhs_number_is_a_validation_error(nhs):
    with pytest.raises(ValidationError) as raised:
        recording(nhs_number=nhs)
    assert raised.value.errors()[0]["loc"] == ("nhs_number",)


@pytest.mark.parametrize("model", ["filming", "recording", "response"])
def test_a_time_in_the_future_is_a_validation_error(model):
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    with pytest.raises(ValidationError) as raised:
        if model == "filming":
            filming(occurred_at=future)
        elif model == "recording":
            recording(occurred_at=future)
        else:
            response(uuid.uuid4(), "AskedToStop", occurred_at=future)
    assert raised.value.errors()[0]["loc"] == ("occurred_at",)


def test_a_time_without_a_time_zone_is_a_validation_error():
    with pytest.raises(ValidationError):
        filming(occurred_at=datetime(2025, 1, 1, 9, 0))


def test_every_problem_of_a_form_is_reported_at_once():
    with pytest.raises(ValidationError) as raised:
        c.ReportRecording(
            submission_key=new_key(),
            occurred_at=datetime.now(timezone.utc) + timedelta(hours=1),
            clinician="",
            setting="garage",
            openness="announced",
            media="audio",
            nhs_number="9434765918",
        )
    assert {e["loc"][0] for e in raised.value.errors()} == {"occurred_at", "clinician", "setting", "nhs_number"}
