"""RecordingEpisode: a patient recorded a consultation. Every event and every rule of the aggregate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from incidents.domain.acting import acting_as
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
from incidents.domain.recording import GUIDANCE, MEDIA, OPENNESS, SETTINGS, RecordingEpisode
from incidents.domain.values import (
    InvalidNHSNumber,
    InvalidPractice,
    InvalidValue,
    OccurredInFuture,
    TextTooLong,
)

UK = ZoneInfo("Europe/London")
ACTOR, ACTOR_NAME = "rita.reception", "Rita Reception"
MANAGER, MANAGER_NAME = "mo.manager", "Mo Manager"


@pytest.fixture(autouse=True)
def acting_at_reception():
    """The receptionist acts unless a test says who else does."""
    with acting_as(ACTOR, ACTOR_NAME):
        yield


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def report(**overrides) -> RecordingEpisode:
    values = dict(
        practice="A81001",
        submission_key="report-form-0001",
        occurred_at=minutes_ago(30),
        clinician="Dr Patel",
        setting="consulting_room",
        openness="announced",
        media="audio",
        nhs_number="943 476 5919",
        note="The patient said at the start that they were recording.",
    )
    values.update(overrides)
    return RecordingEpisode.report(**values)


def reported(**overrides) -> RecordingEpisode:
    """A freshly reported episode whose Reported event has already been taken."""
    episode = report(**overrides)
    episode.collect_events()
    return episode


def respond(episode: Incident, response: str, key: str | None = None, occurred_at: datetime | None = None, **extra) -> None:
    episode.respond(
        response,
        occurred_at or minutes_ago(10),
        key or f"response-{response}-{len(episode.responses)}",
        **extra,
    )


def closed(**overrides) -> RecordingEpisode:
    episode = reported(**overrides)
    with acting_as(MANAGER, MANAGER_NAME):
        episode.close("no_further_action", "")
    episode.collect_events()
    return episode


# Reported -------------------------------------------------------------------------


def test_reporting_triggers_one_reported_event_with_every_fact():
    occurred = datetime(2025, 7, 1, 14, 5, tzinfo=UK)
    episode = report(occurred_at=occurred, setting="telephone", openness="discovered_later", media="video")

    [event] = episode.collect_events()

    assert type(event) is RecordingEpisode.Reported
    assert event.originator_id == episode.id
    assert event.originator_version == 1
    assert event.practice == "A81001"
    assert event.submission_key == "report-form-0001"
    assert event.occurred_at == datetime(2025, 7, 1, 13, 5, tzinfo=timezone.utc)
    assert event.occurred_at.tzinfo == timezone.utc
    assert event.clinician == "Dr Patel"
    assert event.setting == "telephone"
    assert event.openness == "discovered_later"
    assert event.media == "video"
    assert event.nhs_number == "9434765919"
    assert event.note == "The patient said at the start that they were recording."
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME


def test_a_reported_episode_is_open_unreviewed_and_has_no_responses():
    episode = report()
    assert episode.status == "open"
    assert episode.reviewed is False
    assert episode.outcome is None
    assert episode.responses == []
    assert episode.notes_count == 1
    assert episode.corrections_count == 0
    assert episode.nhs_number == "9434765919"


def test_the_patient_may_be_unidentified():
    episode = report(nhs_number="   ", note="")
    assert episode.nhs_number == ""
    assert episode.notes_count == 0


def test_the_note_and_clinician_are_trimmed():
    [event] = report(clinician="  Nurse Jones  ", note="  spoken aloud  \n").collect_events()
    assert event.clinician == "Nurse Jones"
    assert event.note == "spoken aloud"


def test_the_id_is_deterministic_from_practice_and_submission_key_and_practice_is_upper_cased():
    episode = report(practice="a81001", submission_key="form-key-123")
    assert episode.practice == "A81001"
    assert episode.id == RecordingEpisode.create_id("A81001", "form-key-123")
    assert episode.id == RecordingEpisode.create_id(" a81001 ", "form-key-123")
    assert report(practice="A81001", submission_key="form-key-123").id == episode.id
    assert report(practice="A81001", submission_key="form-key-124").id != episode.id
    assert report(practice="B82002", submission_key="form-key-123").id != episode.id


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"practice": "not a code"}, InvalidPractice),
        ({"clinician": "   "}, InvalidValue),
        ({"clinician": "x" * 201}, TextTooLong),
        ({"setting": "car_park"}, InvalidValue),
        ({"openness": "obvious"}, InvalidValue),
        ({"media": "photo"}, InvalidValue),
        ({"nhs_number": "9434765918"}, InvalidNHSNumber),
        ({"nhs_number": "94347659"}, InvalidNHSNumber),
        ({"note": "x" * 5001}, TextTooLong),
        ({"occurred_at": datetime(2024, 3, 1, 9, 30)}, InvalidValue),
    ],
)
def test_reporting_refuses_invalid_facts(overrides, error):
    with pytest.raises(error):
        report(**overrides)


def test_reporting_refuses_a_time_in_the_future():
    with pytest.raises(OccurredInFuture):
        report(occurred_at=datetime.now(timezone.utc) + timedelta(minutes=6))


def test_reporting_accepts_a_note_of_exactly_5000_characters():
    assert report(note="n" * 5000).notes_count == 1


def test_vocabularies_match_the_design():
    assert set(SETTINGS) == {"consulting_room", "telephone", "video", "home_visit"}
    assert set(OPENNESS) == {"announced", "noticed_during", "discovered_later"}
    assert set(MEDIA) == {"audio", "video", "unknown"}
    assert set(RecordingEpisode.RESPONSES) == {
        "AskedToRecordOpenly",
        "CopyRequested",
        "CopyReceived",
        "CopyAddedToMedicalRecord",
        "PatientDeclinedToShare",
        "FoundPublishedOnline",
        "DefenceOrganisationConsulted",
    }
    assert "not a data protection breach" in GUIDANCE


# Responses --------------------------------------------------------------------------


@pytest.mark.parametrize("response", sorted(RecordingEpisode.RESPONSES))
def test_every_response_triggers_its_own_event_with_who_when_and_what(response):
    episode = reported()
    if response == "CopyAddedToMedicalRecord":
        respond(episode, "CopyReceived", key="copy-received-1")
        episode.collect_events()
    when = datetime.now(UK).replace(second=0, microsecond=0) - timedelta(minutes=5)

    episode.respond(response, when, "response-key-1", reference=" REF-42 ", note=" what happened ")
    [event] = episode.collect_events()

    assert type(event) is RecordingEpisode.RESPONSES[response].event_class
    assert type(event).__name__ == response
    assert isinstance(event, Incident.Responded)
    assert event.originator_id == episode.id
    assert event.occurred_at == when.astimezone(timezone.utc)
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME
    assert event.reference == "REF-42"
    assert event.note == "what happened"
    assert event.submission_key == "response-key-1"
    assert episode.responses[-1] == response
    assert episode.response_times[response] == [event.occurred_at]
    assert episode.has_submission("response-key-1")


def test_responses_are_kept_in_order_and_may_repeat():
    episode = reported()
    respond(episode, "CopyRequested", key="k1")
    respond(episode, "CopyRequested", key="k2")
    respond(episode, "CopyReceived", key="k3")
    respond(episode, "CopyAddedToMedicalRecord", key="k4", reference="EMIS doc 991")
    assert episode.responses == ["CopyRequested", "CopyRequested", "CopyReceived", "CopyAddedToMedicalRecord"]
    assert len(episode.response_times["CopyRequested"]) == 2
    assert [type(e).__name__ for e in episode.collect_events()] == episode.responses


def test_copy_cannot_be_added_to_the_medical_record_before_it_is_received():
    episode = reported()
    respond(episode, "CopyRequested")
    with pytest.raises(ResponseOutOfOrder):
        respond(episode, "CopyAddedToMedicalRecord")
    respond(episode, "CopyReceived")
    respond(episode, "CopyAddedToMedicalRecord")
    assert episode.responses[-1] == "CopyAddedToMedicalRecord"


@pytest.mark.parametrize("unknown", ["AskedToStop", "RemovalRequested", "Shouted", "", "copyreceived"])
def test_an_unknown_response_is_refused(unknown):
    episode = reported()
    with pytest.raises(UnknownResponse):
        respond(episode, unknown)
    assert episode.collect_events() == []


def test_a_response_in_the_future_is_refused():
    episode = reported()
    with pytest.raises(OccurredInFuture):
        respond(episode, "CopyRequested", occurred_at=datetime.now(timezone.utc) + timedelta(hours=1))


def test_a_response_needs_a_time_zone():
    with pytest.raises(InvalidValue):
        respond(reported(), "CopyRequested", occurred_at=datetime(2025, 1, 1, 9, 0))


def test_a_response_reference_is_at_most_200_characters_and_its_note_5000():
    episode = reported()
    respond(episode, "CopyReceived", reference="r" * 200, note="n" * 5000)
    with pytest.raises(TextTooLong):
        respond(episode, "CopyReceived", reference="r" * 201)
    with pytest.raises(TextTooLong):
        respond(episode, "CopyReceived", note="n" * 5001)
    assert len(episode.collect_events()) == 1


# Notes ------------------------------------------------------------------------------


def test_adding_a_note_triggers_note_added():
    episode = reported()
    episode.add_note("  The patient emailed the file.  ", "note-key-1")
    [event] = episode.collect_events()
    assert isinstance(event, Incident.NoteAdded)
    assert type(event).__name__ == "NoteAdded"
    assert event.text == "The patient emailed the file."
    assert event.actor == ACTOR
    assert event.actor_name == ACTOR_NAME
    assert event.submission_key == "note-key-1"
    assert event.originator_version == 2
    assert episode.notes_count == 2
    assert episode.has_submission("note-key-1")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_an_empty_note_is_refused(blank):
    episode = reported()
    with pytest.raises(InvalidValue):
        episode.add_note(blank, "note-key-1")
    assert episode.collect_events() == []


def test_a_note_over_5000_characters_is_refused():
    episode = reported()
    episode.add_note("n" * 5000, "note-key-1")
    with pytest.raises(TextTooLong):
        episode.add_note("n" * 5001, "note-key-2")
    assert len(episode.collect_events()) == 1


# Corrections ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, new_value, state_value, shown_before, shown_after",
    [
        ("clinician", "Dr Okafor", "Dr Okafor", "Dr Patel", "Dr Okafor"),
        ("setting", "home_visit", "home_visit", "consulting_room", "home_visit"),
        ("openness", "noticed_during", "noticed_during", "announced", "noticed_during"),
        ("media", "unknown", "unknown", "audio", "unknown"),
        ("nhs_number", "943-476-5870", "9434765870", "943 476 5919", "943 476 5870"),
        ("nhs_number", "", "", "943 476 5919", ""),
        (
            "occurred_at",
            "2025-01-15T09:00:00+00:00",
            datetime(2025, 1, 15, 9, 0, tzinfo=timezone.utc),
            "2025-01-14T09:00:00+00:00",
            "2025-01-15T09:00:00+00:00",
        ),
    ],
)
def test_every_reported_fact_can_be_corrected_keeping_the_original(field, new_value, state_value, shown_before, shown_after):
    episode = reported(occurred_at=datetime(2025, 1, 14, 9, 0, tzinfo=timezone.utc))

    with acting_as(MANAGER, MANAGER_NAME):
        episode.correct(field, new_value, "  Typed in the wrong box  ")
    [event] = episode.collect_events()

    assert isinstance(event, Incident.Corrected)
    assert event.field == field
    assert event.previous_value == shown_before
    assert event.new_value == shown_after
    assert event.value == state_value
    assert event.reason == "Typed in the wrong box"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert getattr(episode, field) == state_value
    assert episode.corrections_count == 1


@pytest.mark.parametrize("given", ["2025-07-01T14:05:00+01:00", "2025-07-01 14:05"])
def test_a_corrected_time_given_in_uk_time_is_stored_in_utc(given):
    """With an offset, or as the UK clock showed it (the correction form's date and time fields)."""
    episode = reported()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.correct("occurred_at", given, "Wrong hour")
    assert episode.occurred_at == datetime(2025, 7, 1, 13, 5, tzinfo=timezone.utc)
    assert episode.occurred_at.tzinfo == timezone.utc


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_correction_needs_a_reason(reason):
    episode = reported()
    with pytest.raises(CorrectionNeedsReason):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.correct("clinician", "Dr Okafor", reason)
    assert episode.clinician == "Dr Patel"
    assert episode.collect_events() == []


def test_a_correction_reason_is_at_most_5000_characters():
    with pytest.raises(TextTooLong):
        with acting_as(MANAGER, MANAGER_NAME):
            reported().correct("clinician", "Dr Okafor", "r" * 5001)


@pytest.mark.parametrize("field", ["practice", "status", "reported_by", "outcome", "area", "bogus", "", "_id"])
def test_only_reported_facts_can_be_corrected(field):
    episode = reported()
    with pytest.raises(NotCorrectable):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.correct(field, "X", "Because")
    assert episode.practice == "A81001"
    assert episode.collect_events() == []


@pytest.mark.parametrize(
    "field, same_value",
    [
        ("clinician", "Dr Patel"),
        ("clinician", "  Dr Patel "),
        ("setting", "consulting_room"),
        ("media", "audio"),
        ("nhs_number", "9434765919"),
        ("nhs_number", "943 476 5919"),
        ("occurred_at", "2025-01-14T09:00:00+00:00"),
        ("occurred_at", "2025-01-14T10:00:00+01:00"),
    ],
)
def test_correcting_to_the_same_value_is_refused(field, same_value):
    episode = reported(occurred_at=datetime(2025, 1, 14, 9, 0, tzinfo=timezone.utc))
    with pytest.raises(NothingToCorrect):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.correct(field, same_value, "Because")
    assert episode.collect_events() == []


@pytest.mark.parametrize(
    "field, bad_value, error",
    [
        ("clinician", "   ", InvalidValue),
        ("clinician", "x" * 201, TextTooLong),
        ("setting", "garage", InvalidValue),
        ("openness", "loudly", InvalidValue),
        ("media", "photo", InvalidValue),
        ("nhs_number", "9434765918", InvalidNHSNumber),
        ("occurred_at", "yesterday", InvalidValue),
        ("occurred_at", "2025-03-30 01:30", InvalidValue),  # a UK clock time the spring change skips
    ],
)
def test_an_invalid_new_value_is_refused(field, bad_value, error):
    episode = reported()
    with pytest.raises(error):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.correct(field, bad_value, "Because")
    assert episode.collect_events() == []


def test_a_time_cannot_be_corrected_into_the_future():
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    with pytest.raises(OccurredInFuture):
        with acting_as(MANAGER, MANAGER_NAME):
            reported().correct("occurred_at", future, "Because")


# Review, close, reopen ------------------------------------------------------------


def test_reviewing_triggers_reviewed():
    episode = reported()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.review("  Seen; no action needed.  ")
    [event] = episode.collect_events()
    assert isinstance(event, Incident.Reviewed)
    assert event.comment == "Seen; no action needed."
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert episode.reviewed is True
    assert episode.status == "open"


def test_a_review_comment_is_optional_and_at_most_5000_characters():
    episode = reported()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.review("")
    with pytest.raises(TextTooLong):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.review("c" * 5001)
    assert len(episode.collect_events()) == 1


@pytest.mark.parametrize("outcome", sorted(RecordingEpisode.OUTCOMES))
def test_closing_triggers_closed_with_the_outcome(outcome):
    episode = reported()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.close(outcome, " Patient shared the file. ")
    [event] = episode.collect_events()
    assert isinstance(event, Incident.Closed)
    assert event.outcome == outcome
    assert event.note == "Patient shared the file."
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert episode.status == "closed"
    assert episode.outcome == outcome
    assert episode.reviewed is True


@pytest.mark.parametrize("outcome", ["resolved_at_desk", "police_involved", "", "Closed"])
def test_closing_with_an_unknown_outcome_is_refused(outcome):
    episode = reported()
    with pytest.raises(UnknownOutcome):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.close(outcome, "")
    assert episode.status == "open"
    assert episode.collect_events() == []


def test_a_closing_note_is_at_most_5000_characters():
    episode = reported()
    with pytest.raises(TextTooLong):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.close("no_further_action", "n" * 5001)
    assert episode.status == "open"


def test_closing_twice_is_refused():
    episode = closed()
    with pytest.raises(IncidentClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.close("referred", "")
    assert episode.outcome == "no_further_action"
    assert episode.collect_events() == []


def test_a_closed_episode_refuses_responses_and_corrections_until_reopened():
    episode = closed()
    with pytest.raises(IncidentClosed):
        respond(episode, "CopyRequested")
    with pytest.raises(IncidentClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.correct("clinician", "Dr Okafor", "Because")
    assert episode.collect_events() == []

    with acting_as(MANAGER, MANAGER_NAME):
        episode.reopen("The patient sent a copy after all")
    respond(episode, "CopyReceived")
    with acting_as(MANAGER, MANAGER_NAME):
        episode.correct("clinician", "Dr Okafor", "Because")
    assert [type(e).__name__ for e in episode.collect_events()] == ["Reopened", "CopyReceived", "Corrected"]


def test_a_closed_episode_says_it_is_closed_before_judging_the_response():
    with pytest.raises(IncidentClosed):
        respond(closed(), "NoSuchResponse")


def test_reopening_triggers_reopened_and_clears_the_outcome():
    episode = closed()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.reopen("  New information from the patient  ")
    [event] = episode.collect_events()
    assert isinstance(event, Incident.Reopened)
    assert event.reason == "New information from the patient"
    assert event.actor == MANAGER
    assert event.actor_name == MANAGER_NAME
    assert episode.status == "open"
    assert episode.outcome is None


def test_reopening_an_open_episode_is_refused():
    episode = reported()
    with pytest.raises(IncidentNotClosed):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.reopen("Why not")
    assert episode.collect_events() == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reopening_needs_a_reason(reason):
    episode = closed()
    with pytest.raises(ReasonRequired):
        with acting_as(MANAGER, MANAGER_NAME):
            episode.reopen(reason)
    assert episode.status == "closed"
    assert episode.collect_events() == []


def test_an_episode_can_be_closed_again_after_reopening():
    episode = closed()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.reopen("Copy arrived")
        episode.close("copy_added_to_record", "")
    assert episode.status == "closed"
    assert episode.outcome == "copy_added_to_record"


# Reconstruction from stored events ------------------------------------------------


def test_an_episode_rebuilt_from_its_stored_events_equals_the_live_one(log):
    episode = report(practice="a81001", occurred_at=datetime(2025, 1, 14, 9, 0, tzinfo=timezone.utc))
    respond(episode, "AskedToRecordOpenly", key="k1")
    respond(episode, "CopyRequested", key="k2", note="Asked at the desk")
    respond(episode, "CopyReceived", key="k3", reference="sha256:abc123")
    respond(episode, "CopyAddedToMedicalRecord", key="k4", reference="EMIS doc 991")
    episode.add_note("File was 12 minutes long", "k5")
    with acting_as(MANAGER, MANAGER_NAME):
        episode.correct("occurred_at", "2025-01-14T10:30:00+00:00", "Wrong time typed")
        episode.correct("nhs_number", "9434765870", "Wrong patient")
        episode.review("Fine")
        episode.close("copy_added_to_record", "")
        episode.reopen("Patient asked a question")

    log.save(episode)
    rebuilt = log.repository.get(episode.id)

    assert rebuilt == episode
    assert rebuilt is not episode
    assert rebuilt.version == episode.version == 11
    assert rebuilt.occurred_at == datetime(2025, 1, 14, 10, 30, tzinfo=timezone.utc)
    assert rebuilt.submission_keys == {"k1", "k2", "k3", "k4", "k5"}
    assert rebuilt.nhs_number == "9434765870"
    stored = list(log.events.get(episode.id))
    assert [type(e).__name__ for e in stored] == [
        "Reported",
        "AskedToRecordOpenly",
        "CopyRequested",
        "CopyReceived",
        "CopyAddedToMedicalRecord",
        "NoteAdded",
        "Corrected",
        "Corrected",
        "Reviewed",
        "Closed",
        "Reopened",
    ]
    assert stored[6].value == datetime(2025, 1, 14, 10, 30, tzinfo=timezone.utc)


def test_a_closed_episode_is_still_closed_after_reloading(log):
    episode = report()
    with acting_as(MANAGER, MANAGER_NAME):
        episode.close("referred", "Sent to the MDO")
    log.save(episode)

    rebuilt = log.repository.get(episode.id)

    assert rebuilt.status == "closed"
    assert rebuilt.outcome == "referred"
    with pytest.raises(IncidentClosed):
        respond(rebuilt, "CopyRequested")
