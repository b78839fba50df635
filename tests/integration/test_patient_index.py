"""The patient blind index: the summaries view finds a patient's incidents by the exact NHS
number (however it is typed), on a SQLite file and on PostgreSQL, and keeps no readable number:
every byte of the data folder is searched for it."""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from incidents.application import commands as c
from incidents.application.patient_index import PatientIndex
from incidents.bootstrap import open_log
from incidents.domain.values import InvalidNHSNumber
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views, start_projections
from incidents.projections.summaries import SummaryQuery
from incidents.settings import Settings
from tests.integration.test_summary_view_contract import actor_in

PATIENT = "9434765919"
OTHER = "9434765870"
SPELLINGS = ("9434765919", "943 476 5919", "943-476-5919")


def recorded(log, actor, nhs: str, clinician: str = "Dr Shah", days_ago: int = 1, note: str = "note"):
    return log.report_recording(
        c.ReportRecording(
            submission_key=uuid.uuid4().hex, occurred_at=datetime.now(timezone.utc) - timedelta(days=days_ago),
            clinician=clinician, setting="telephone", openness="announced", media="audio", nhs_number=nhs, note=note,
        ),
        actor,
    )


def filmed(log, actor, nhs: str, days_ago: int = 1):
    """A filming incident naming the patient filming."""
    return log.report_filming(
        c.ReportFilming(
            submission_key=uuid.uuid4().hex, occurred_at=datetime.now(timezone.utc) - timedelta(days=days_ago),
            area="reception", filmer="patient", filmer_nhs_number=nhs, people_captured="staff", children_present="no", note="note",
        ),
        actor,
    )


def found(views, number: str, practice: str = "A81001", **more) -> set:
    token = views.summaries.patient_token(number)
    return {row.incident_id for row in views.summaries.search(SummaryQuery(practice=practice, patient=token, **more)).rows}


def test_a_patients_incidents_are_found_by_their_nhs_number_and_no_one_elses(opened):
    log = opened.log
    manager = actor_in(log, "A81001")
    elsewhere = actor_in(log, "B82002")
    projections = start_projections(opened.store, opened.env)
    try:
        mine = {recorded(log, manager, PATIENT).id, recorded(log, manager, "943 476 5919", clinician="Nurse Lee", days_ago=3).id}
        theirs = recorded(log, manager, OTHER).id
        recorded(log, manager, "")
        other_practice = recorded(log, elsewhere, PATIENT).id
        corrected = recorded(log, manager, OTHER, days_ago=2).id
        mine.add(filmed(log, manager, PATIENT).id)  # the patient filming is found by the same index
        last = log.correct(c.CorrectIncident(incident_id=corrected, field="nhs_number", new_value=PATIENT, reason="wrong patient"), manager)
        assert projections.wait(last.notification_id, timeout=10)
        views = projections
        for spelling in SPELLINGS:
            assert found(views, spelling) == mine | {corrected}
        assert found(views, OTHER) == {theirs}
        assert found(views, PATIENT, practice="B82002") == {other_practice}
        assert {r.clinician for r in views.summaries.search(SummaryQuery(practice="A81001", patient=views.summaries.patient_token(PATIENT), clinician="LEE")).rows} == {"Nurse Lee"}
        # The text search (SQLite's FTS path) keeps the patient too.
        assert found(views, PATIENT, text="note") == found(views, PATIENT)
        with pytest.raises(InvalidNHSNumber):
            views.summaries.patient_token("9434765918")
        # A reader opened apart from the runner (another process) agrees: same key, same entries.
        assert found(open_views(opened.store, opened.env), "943-476-5919") == found(views, PATIENT)
    finally:
        projections.stop()
    rebuild(opened.store, opened.env, [], lambda position, last: None)
    rebuilt = open_views(opened.store, opened.env)
    assert found(rebuilt, PATIENT) == mine | {corrected} and found(rebuilt, OTHER) == {theirs}


def test_the_index_key_is_the_deployments_own_and_kept_beside_the_other_keys(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = open_log(settings)
    first.log.close()
    key_file = tmp_path / "patient-index.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    again = open_log(settings)
    again.log.close()
    assert again.env["PATIENT_INDEX_KEY"] == first.env["PATIENT_INDEX_KEY"] == key_file.read_text().strip()
    other = open_log(Settings(data_dir=tmp_path, patient_index_key=first.env["CIPHER_KEY"]))  # any 32-byte base64 key
    other.log.close()
    assert PatientIndex.from_env(first.env).token(PATIENT) != PatientIndex.from_env(other.env).token(PATIENT)
    assert first.env["PATIENT_INDEX_KEY"] not in repr(PatientIndex.from_env(first.env))


def every_file_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_no_file_of_the_data_folder_holds_the_number_in_any_spelling(tmp_path):
    settings = Settings(data_dir=tmp_path)
    opened = open_log(settings)
    log = opened.log
    manager = actor_in(log, "A81001")
    projections = start_projections(opened.store, opened.env)
    try:
        saved = recorded(log, manager, PATIENT, note="Patient 943 476 5919 asked; also 943-476-5919")
        last = recorded(log, manager, "943 476 5919")
        warned = filmed(log, manager, "943 476 5919").id  # who filmed: the summaries and the dashboard's warning letters
        log.respond(c.RecordResponse(incident_id=warned, submission_key=uuid.uuid4().hex, response="WarningLetterSent", occurred_at=datetime.now(timezone.utc)), manager)
        log.correct(c.CorrectIncident(incident_id=saved.id, field="nhs_number", new_value=OTHER, reason="typo"), manager)
        last = log.correct(c.CorrectIncident(incident_id=saved.id, field="nhs_number", new_value=PATIENT, reason="it was right"), manager)
        assert projections.wait(last.notification_id, timeout=10)
        assert len(found(projections, PATIENT)) == 3
    finally:
        projections.stop()
        log.close()
    # Before the files are closed for good: the WAL and any free pages as they are.
    wal_and_pages = every_file_bytes(tmp_path)
    for file in tmp_path.glob("*.sqlite"):
        with sqlite3.connect(file) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    everything = wal_and_pages + every_file_bytes(tmp_path)
    assert len(everything) > 100_000  # the events, the views and their journals were read
    for spelling in SPELLINGS + (OTHER, "943 476 5870"):
        assert spelling.encode() not in everything
        assert spelling.encode("utf-16-le") not in everything
    assert not re.search(rb"943\D{0,3}476\D{0,3}5919", everything)


def test_a_request_stored_before_requests_named_a_patient_names_none(tmp_path):
    from uuid import UUID

    from incidents.application.service import Actor
    from tests.integration.test_store_v1 import FIXTURE, STORE_FILES

    for name in STORE_FILES:
        (tmp_path / name).write_bytes((FIXTURE / name).read_bytes())
    opened = open_log(Settings(data_dir=tmp_path))
    try:
        governance = Actor(UUID(int=1), "fixture.governance", "Fixture Governance", "A81001", ("governance",))
        requests = opened.log.requests(governance)
        assert requests
        assert all(opened.log.get_request(governance, r.request_id).nhs_number == "" for r in requests)
    finally:
        opened.log.close()


def test_a_process_with_another_key_is_refused_until_the_views_are_rebuilt(opened):
    from incidents.application.patient_index import PatientIndexKeyError
    from incidents.bootstrap import application_env

    log = opened.log
    manager = actor_in(log, "A81001")
    projections = start_projections(opened.store, opened.env)
    try:
        last = recorded(log, manager, PATIENT)
        assert projections.wait(last.notification_id, timeout=10)
    finally:
        projections.stop()
    stranger = application_env(opened.store, opened.env["CIPHER_KEY"])  # a key of its own (its own key file, say)
    with pytest.raises(PatientIndexKeyError, match="INCIDENTS_PATIENT_INDEX_KEY"):
        open_views(opened.store, stranger)
    with pytest.raises(PatientIndexKeyError):
        start_projections(opened.store, stranger)
    rebuild(opened.store, stranger, [], lambda position, last: None)  # the key changed on purpose
    assert found(open_views(opened.store, stranger), PATIENT) == {last.id}
    with pytest.raises(PatientIndexKeyError):
        open_views(opened.store, opened.env)
