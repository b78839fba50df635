"""A subject access request naming a patient's NHS number finds the practice's recordings of that
patient (issue 19 point 5), and its bundle carries each: its consent beside its file's
fingerprint, and every event, uses among them; another patient's recording stays out; the bundle
verifies with `incidents verify` and with the standard tools VERIFY.txt names. On a SQLite file
and on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from datetime import timedelta

import pytest

from incidents.application.disclosures import ReceiveRequest, RecordLegalBasis, SetRequestScope
from incidents.application.practice_recordings import GiveConsent, MakeRecording, RecordUse, RegisterFile
from incidents.application.records import uk_today
from incidents.domain.disclosure import RIGHT_OF_ACCESS, ExportNotReady, ScopeEmpty
from incidents.evidence import verify_bundle

from .test_export_bundle_contract import GOVERNANCE, MANAGER, files, incident, key, log  # noqa: F401 (fixtures)
from .test_verify_with_standard_tools import stranger_checks

PATIENT, OTHER = "9434765919", "4010232137"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def recording(log, nhs_number: str, used: bool) -> uuid.UUID:
    today = uk_today()
    recording_id = log.make_recording(
        MakeRecording(submission_key=uuid.uuid4().hex, nhs_number=nhs_number, clinician="Dr Reg", recorded_on=today - timedelta(days=3), purpose="training", medium="video"),
        MANAGER,
    ).id
    log.give_consent(GiveConsent(recording_id=recording_id, form="oral", witness="Nurse Kay", given_on=today - timedelta(days=3), purposes=["training"],
                                 audiences=["trainer"], circumstances="Tutorials only", keep_until=today + timedelta(days=300)), MANAGER)
    log.register_file(RegisterFile(recording_id=recording_id, kept_at="Training drive", sha256=SHA, size=2048), MANAGER)
    if used:
        log.record_use(RecordUse(recording_id=recording_id, used_on=today, shown_to="trainer", shown_to_names="Dr Trainer", purpose="training"), MANAGER)
    return recording_id


def test_the_patients_recordings_are_found_and_carried_with_their_consent_beside_the_fingerprint(log, key, tmp_path):  # noqa: F811
    mine, theirs = recording(log, PATIENT, used=True), recording(log, OTHER, used=False)
    today = uk_today()
    request = log.receive_request(
        ReceiveRequest(submission_key=uuid.uuid4().hex, requester_type="subject_access", requester="The patient", reference="SAR/7",
                       received_on=today, nhs_number="943 476 5919"),
        GOVERNANCE,
    ).id
    assert [r.id for r in log.patient_recordings(GOVERNANCE, PATIENT)] == [mine]
    log.set_request_scope(SetRequestScope(request_id=request, incident_ids=[incident(log)]), GOVERNANCE)
    log.record_legal_basis(RecordLegalBasis(request_id=request, basis=RIGHT_OF_ACCESS), GOVERNANCE)
    exported = log.export_bundle(GOVERNANCE, request, key)
    path = tmp_path / exported.filename
    path.write_bytes(exported.zip_bytes)
    assert verify_bundle(path, expected_fingerprint=key.fingerprint()) == []
    cli = subprocess.run([str(Path(sys.executable).with_name("incidents")), "verify", str(path), "--fingerprint", key.fingerprint()], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr

    unpacked = files(exported.zip_bytes)
    document = json.loads(unpacked["events.json"])
    carried = {i["id"]: i for i in document["incidents"]}
    assert str(mine) in carried and str(theirs) not in carried and len(carried) == 2
    facts = [(f["label"], f["value"]) for f in carried[str(mine)]["facts"]]
    labels = [label for label, _ in facts]
    assert labels.index("Consent on record") == labels.index("File SHA-256") + 1  # the consent record beside the fingerprint
    assert dict(facts)["File SHA-256"].startswith(SHA) and "witnessed by Nurse Kay" in dict(facts)["Consent on record"]
    events = [e for e in document["events"] if e["incident_id"] == str(mine)]
    assert [e["event_type"] for e in events] == ["Made", "ConsentGiven", "FileRegistered", "Used"]
    assert {"label": "Shown to", "value": "Dr Trainer (The clinician's trainer or educational supervisor)"} in events[-1]["details"]
    assert carried[str(mine)]["event_count"] == 4

    checks = stranger_checks(unpacked, tmp_path / "unpacked")
    assert all(c.returncode == 0 for c in checks), [c.stdout + c.stderr for c in checks]


def test_a_patient_with_recordings_and_no_incidents_gets_a_bundle_of_the_recordings_alone(log, key, tmp_path):  # noqa: F811
    mine = recording(log, PATIENT, used=False)
    received = dict(requester_type="subject_access", requester="The patient", reference="SAR/8", received_on=uk_today())
    request = log.receive_request(ReceiveRequest(submission_key=uuid.uuid4().hex, nhs_number="943 476 5919", **received), GOVERNANCE).id
    log.set_request_scope(SetRequestScope(request_id=request), GOVERNANCE)
    assert log.get_request(GOVERNANCE, request).recording_ids == [mine]
    log.record_legal_basis(RecordLegalBasis(request_id=request, basis=RIGHT_OF_ACCESS), GOVERNANCE)
    exported = log.export_bundle(GOVERNANCE, request, key)
    path = tmp_path / exported.filename
    path.write_bytes(exported.zip_bytes)
    assert verify_bundle(path, expected_fingerprint=key.fingerprint()) == []
    cli = subprocess.run([str(Path(sys.executable).with_name("incidents")), "verify", str(path), "--fingerprint", key.fingerprint()], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    unpacked = files(exported.zip_bytes)
    document = json.loads(unpacked["events.json"])
    assert [i["id"] for i in document["incidents"]] == [str(mine)]
    assert [e["event_type"] for e in document["events"]] == ["Made", "ConsentGiven", "FileRegistered"]
    checks = stranger_checks(unpacked, tmp_path / "unpacked")
    assert all(c.returncode == 0 for c in checks), [c.stdout + c.stderr for c in checks]

    nobody = log.receive_request(ReceiveRequest(submission_key=uuid.uuid4().hex, nhs_number="401 023 2137", **received), GOVERNANCE).id
    with pytest.raises(ScopeEmpty, match="or a request whose patient has recordings"):
        log.set_request_scope(SetRequestScope(request_id=nobody), GOVERNANCE)
    assert not log.get_request(GOVERNANCE, nobody).has_scope


def test_a_recordings_only_request_whose_recordings_are_gone_is_not_exported_empty(log, key, monkeypatch):  # noqa: F811
    recording(log, PATIENT, used=False)
    request = log.receive_request(ReceiveRequest(submission_key=uuid.uuid4().hex, requester_type="subject_access", requester="The patient",
                                                 reference="SAR/9", received_on=uk_today(), nhs_number="943 476 5919"), GOVERNANCE).id
    log.set_request_scope(SetRequestScope(request_id=request), GOVERNANCE)
    log.record_legal_basis(RecordLegalBasis(request_id=request, basis=RIGHT_OF_ACCESS), GOVERNANCE)
    monkeypatch.setattr(log, "patient_recordings", lambda *args: [])  # as after the recording's disposal
    with pytest.raises(ExportNotReady, match="Nothing left to disclose"):
        log.export_bundle(GOVERNANCE, request, key)
    assert log.get_request(GOVERNANCE, request).exports == []
