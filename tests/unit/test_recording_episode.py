"""RecordingEpisode: a patient recorded a consultation. Its own facts and rules; what it shares with
every kind is tested in test_incident_kinds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from incidents.domain.acting import acting_as
from incidents.domain.incident import ResponseOutOfOrder
from incidents.domain.recording import MEDIA, OPENNESS, SETTINGS
from tests.unit.kinds import MANAGER, MANAGER_NAME, RECORDING, respond

report, reported = RECORDING.report, RECORDING.reported
pytestmark = pytest.mark.usefixtures("acting_at_reception")


# Reported -------------------------------------------------------------------------


def test_the_patient_may_be_unidentified():
    episode = report(nhs_number="   ", note="")
    assert episode.nhs_number == ""
    assert episode.notes_count == 0


def test_the_note_and_clinician_are_trimmed():
    [event] = report(clinician="  Nurse Jones  ", note="  spoken aloud  \n").collect_events()
    assert event.clinician == "Nurse Jones"
    assert event.note == "spoken aloud"


def test_vocabularies_match_the_design():
    assert set(SETTINGS) == {"consulting_room", "telephone", "video", "home_visit"}
    assert set(OPENNESS) == {"announced", "noticed_during", "discovered_later"}
    assert set(MEDIA) == {"audio", "video", "unknown"}


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


