"""Who filmed, through the application on SQLite and PostgreSQL: a removal from the list relies on
a warning letter to the same patient on another incident, found by the patient's log (named by
the blind index, never the number); a correction that names the patient counts too."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from incidents.domain.filming import RemovalNotJustified
from incidents.settings import Settings
from tests import reports

PRACTICE = "A81001"
PATIENT = "943 476 5919"
OTHER_PATIENT = "401 023 2137"
MANAGER = Actor(uuid.uuid4(), "mo.manager", "Mo Manager", PRACTICE, ("manager",))
STORED_WARNED = uuid.UUID("ee268ce7-6b28-516c-9daa-fc5ca51de03e")  # the store-v1 fixture's filming incident with a warning letter
OTHER_PRACTICE = Actor(uuid.uuid4(), "other.manager", "Other Manager", "B82002", ("manager",))


@pytest.fixture(params=["sqlite", "postgres"])
def log(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    opened = open_log(Settings(data_dir=tmp_path, **({"database_url": url} if url else {})))
    yield opened.log
    opened.log.close()


def ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def report(log, actor=MANAGER, days=0.01, **facts) -> uuid.UUID:
    return log.report_filming(reports.filming(occurred_at=ago(days), **facts), actor).id


def respond(log, incident_id, response, days=0.005, reference="", actor=MANAGER):
    return log.respond(
        c.RecordResponse(
            incident_id=incident_id, submission_key=uuid.uuid4().hex, response=response,
            occurred_at=ago(days), reference=reference, note="",
        ),
        actor,
    )


def warned(log, nhs: str, days: float, actor=MANAGER) -> uuid.UUID:
    incident_id = report(log, actor, days=days + 1, filmer="patient", filmer_nhs_number=nhs)
    respond(log, incident_id, "WarningLetterSent", days=days, actor=actor)
    return incident_id


def test_a_removal_relies_on_the_same_patients_warning_on_another_incident(log):
    warned(log, PATIENT, days=300)
    again = report(log, filmer="patient", filmer_nhs_number="9434765919")
    respond(log, again, "RemovalRequested")
    assert log.get_incident(MANAGER, again).responses == ["RemovalRequested"]


def test_a_removal_is_refused_for_another_patients_warning_or_one_over_a_year_old(log):
    warned(log, OTHER_PATIENT, days=30)
    warned(log, PATIENT, days=400)
    again = report(log, filmer="patient", filmer_nhs_number=PATIENT)
    with pytest.raises(RemovalNotJustified, match="same person"):
        respond(log, again, "RemovalRequested")
    respond(log, again, "RemovalRequested", reference="CAD 4521 25/11/25")  # an immediate removal, reported to the police
    assert log.get_incident(MANAGER, again).responses == ["RemovalRequested"]


def test_another_practices_warning_to_the_same_patient_does_not_count(log):
    warned(log, PATIENT, days=30, actor=OTHER_PRACTICE)
    again = report(log, filmer="patient", filmer_nhs_number=PATIENT)
    with pytest.raises(RemovalNotJustified):
        respond(log, again, "RemovalRequested")


def test_a_correction_that_names_the_patient_links_the_earlier_warning(log):
    earlier = report(log, days=60, filmer="patient")
    respond(log, earlier, "WarningLetterSent", days=59)
    again = report(log, filmer="patient", filmer_nhs_number=PATIENT)
    with pytest.raises(RemovalNotJustified):
        respond(log, again, "RemovalRequested")
    log.correct(c.CorrectIncident(incident_id=earlier, field="filmer_nhs_number", new_value=PATIENT, reason="Identified from the letter"), MANAGER)
    respond(log, again, "RemovalRequested")
    assert log.get_incident(MANAGER, again).responses == ["RemovalRequested"]


def test_a_correction_away_from_the_patient_unlinks_the_warning(log):
    earlier = warned(log, PATIENT, days=30)
    log.correct(c.CorrectIncident(incident_id=earlier, field="filmer_nhs_number", new_value=OTHER_PATIENT, reason="Wrong number"), MANAGER)
    again = report(log, filmer="patient", filmer_nhs_number=PATIENT)
    with pytest.raises(RemovalNotJustified):
        respond(log, again, "RemovalRequested")


def test_the_stored_bytes_name_no_patient_log_by_the_number(log):
    warned(log, PATIENT, days=30)
    ids = {n.originator_id for n in log.recorder.select_notifications(start=1, limit=100)}
    plain_ids = {uuid.uuid5(uuid.UUID("c4d3a3f0-51a8-4c1e-9f6b-5a7d0f2e8b61"), f"{PRACTICE}/filming-patient/{n}") for n in ("9434765919", PATIENT)}
    assert not ids & plain_ids


def test_a_filming_incident_stored_before_names_nobody_and_a_correction_ties_its_warning_to_the_patient(tmp_path):
    """On the store-v1 fixture: its reports lack who filmed and read as not given; its warning
    letter counts for a removal once a correction names the patient."""
    from tests.integration.test_store_v1 import FIXTURE, STORE_FILES

    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    opened = open_log(Settings(data_dir=tmp_path))
    try:
        log = opened.log
        log.give_missing_references()
        warned_before = log.get_incident(MANAGER, STORED_WARNED)
        assert (warned_before.filmer, warned_before.filmer_nhs_number, warned_before.filmer_description) == ("patient", "", "")
        assert warned_before.person == "a patient" and "WarningLetterSent" in warned_before.responses
        # The new incident and the removal a day or two after the fixture's letter, whenever the test runs.
        letter_days_ago = (datetime.now(timezone.utc) - warned_before.response_times["WarningLetterSent"][0]) / timedelta(days=1)
        again = report(log, days=letter_days_ago - 1, filmer="patient", filmer_nhs_number=PATIENT)
        with pytest.raises(RemovalNotJustified):
            respond(log, again, "RemovalRequested", days=letter_days_ago - 2)
        log.correct(c.CorrectIncident(incident_id=STORED_WARNED, field="filmer_nhs_number", new_value=PATIENT, reason="Identified"), MANAGER)
        respond(log, again, "RemovalRequested", days=letter_days_ago - 2)
        assert log.get_incident(MANAGER, again).responses == ["RemovalRequested"]
    finally:
        opened.log.close()
