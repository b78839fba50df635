"""Exporting a disclosure request's bundle in the application, on a SQLite file and on PostgreSQL:
the bundle verifies, the fingerprint recorded on the request and in each incident's chain of
custody is the SHA-256 of the manifest handed out, the next bundle's chain of custody names the
earlier one, and a request that is not ready, refused or closed gets a named error with nothing
recorded."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest

from incidents.application import commands as c
from incidents.application.disclosures import CloseRequest, ReceiveRequest, RecordLegalBasis, RefuseRequest, SetRequestScope
from incidents.application.service import Actor, NotPermitted
from incidents.bootstrap import open_log
from incidents.domain.disclosure import ExportNotReady, RequestClosed, RequestDecided
from incidents.evidence import signing, verify_bundle
from incidents.settings import Settings

PRACTICE = "A81001"
GOVERNANCE = Actor(uuid.uuid4(), "gill.governance", "Gill Governance", PRACTICE, ("governance",))
MANAGER = Actor(uuid.uuid4(), "mo.manager", "Mo Manager", PRACTICE, ("manager",))
RECEPTION = Actor(uuid.uuid4(), "li.lei", "李雷", PRACTICE, ("reception",))


@pytest.fixture(params=["sqlite", "postgres"])
def log(request, tmp_path: Path):
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path)
    else:
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
    opened = open_log(settings)
    yield opened.log
    opened.log.close()


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return signing.generate()


def incident(log) -> uuid.UUID:
    return log.report_filming(
        c.ReportFilming(
            submission_key=uuid.uuid4().hex, occurred_at=datetime.now(timezone.utc) - timedelta(hours=1), area="waiting_area",
            filmer="patient", people_captured="staff_and_patients", children_present="no", note="محمد saw it",
        ),  # type: ignore[call-arg]
        RECEPTION,
    ).id


def request_for(log, *incidents: uuid.UUID, basis: bool = True) -> uuid.UUID:
    request = log.receive_request(
        ReceiveRequest(submission_key=uuid.uuid4().hex, requester_type="gmc", requester="GMC", reference="FTP/1", received_on=date(2026, 1, 5), due_on=date(2026, 2, 5)),
        GOVERNANCE,
    ).id
    if incidents:
        log.set_request_scope(SetRequestScope(request_id=request, incident_ids=list(incidents)), GOVERNANCE)
    if basis:
        log.record_legal_basis(RecordLegalBasis(request_id=request, basis="court_direction"), GOVERNANCE)
    return request


def files(zip_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(zip_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_recorded_fingerprint_is_the_manifest_handed_out(log, key, tmp_path):
    first_incident, second_incident = incident(log), incident(log)
    request = request_for(log, first_incident, second_incident)
    first = log.export_bundle(GOVERNANCE, request, key)
    path = tmp_path / first.filename
    path.write_bytes(first.zip_bytes)
    assert verify_bundle(path, expected_fingerprint=key.fingerprint()) == []
    assert first.fingerprint == hashlib.sha256(files(first.zip_bytes)["manifest.json"]).hexdigest()
    assert first.filename.startswith("disclosure-D-") and first.warnings == []
    assert log.get_request(GOVERNANCE, request).exports == [first.fingerprint]
    for incident_id in (first_incident, second_incident):
        assert [(a.action, a.fingerprint) for a in log.custody_chain(GOVERNANCE, incident_id)] == [("exported", first.fingerprint)]

    second = log.export_bundle(GOVERNANCE, request, key)
    custody = json.loads(files(second.zip_bytes)["events.json"])["custody"]
    earlier = [c["action"] for c in custody if first.fingerprint in c["action"].replace(" ", "")]
    assert len(earlier) == 2  # the first bundle, once per incident it carried
    assert custody[-1]["action"] == "Exported the timeline in this bundle"
    assert log.get_request(GOVERNANCE, request).exports == [first.fingerprint, second.fingerprint]


def test_only_a_ready_open_request_is_exported_and_a_refusal_records_nothing(log, key):
    incident_id = incident(log)
    with pytest.raises(NotPermitted):
        log.export_bundle(MANAGER, request_for(log, incident_id), key)
    with pytest.raises(ExportNotReady, match="Set the scope"):
        log.export_bundle(GOVERNANCE, request_for(log), key)
    no_basis = request_for(log, incident_id, basis=False)
    with pytest.raises(ExportNotReady, match="legal basis"):
        log.export_bundle(GOVERNANCE, no_basis, key)
    refused = request_for(log, incident_id)
    log.refuse_request(RefuseRequest(request_id=refused, reason="Not the practice's records"), GOVERNANCE)
    with pytest.raises(RequestDecided):
        log.export_bundle(GOVERNANCE, refused, key)
    log.close_request(CloseRequest(request_id=refused), GOVERNANCE)
    with pytest.raises(RequestClosed):
        log.export_bundle(GOVERNANCE, refused, key)
    assert log.custody_chain(GOVERNANCE, incident_id) == []
    assert not any(e.name == "BundleExported" for r in (no_basis, refused) for e in log.request_history(GOVERNANCE, r))
