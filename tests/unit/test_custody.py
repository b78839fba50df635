"""The access audit: every view of an incident's timeline and every export is recorded, beside the
incident (never conflicting with changes to it), and read back as its chain of custody."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from eventsourcing.persistence import IntegrityError

from incidents.application import commands as c
from incidents.application.disclosures import (
    ReceiveRequest,
    RecordExport,
    RecordLegalBasis,
    RequestNotFound,
    SetRequestScope,
)
from incidents.application.service import IncidentNotFound, NotPermitted
from incidents.domain.acting import acting_as
from incidents.domain.custody import IncidentAccessLog

from .conftest import PRACTICE_A, PRACTICE_B

BUNDLE = "0f" * 32


@pytest.fixture
def governance_a(sign_up):
    return sign_up("gill.governance", PRACTICE_A, "governance").actor


@pytest.fixture
def governance_b(sign_up):
    return sign_up("gus.governance", PRACTICE_B, "governance").actor


def report(log, actor) -> uuid.UUID:
    return log.report_filming(
        c.ReportFilming(
            submission_key=uuid.uuid4().hex,
            occurred_at=datetime.now(timezone.utc) - timedelta(hours=2),
            area="reception",
            filmer="visitor",
            people_captured="staff",
            children_present="no",
        ),
        actor,
    ).id


def receive(log, actor) -> uuid.UUID:
    return log.receive_request(
        ReceiveRequest(
            submission_key=uuid.uuid4().hex,
            requester_type="court",
            requester="County Court at Leeds",
            reference="K00LS123",
            received_on=date(2026, 1, 5),
            due_on=date(2026, 2, 5),
        ),
        actor,
    ).id


def chain(log, actor, incident_id) -> list[tuple[str, str, str]]:
    return [(a.action, a.actor, a.role) for a in log.custody_chain(actor, incident_id)]


def test_each_view_is_recorded_with_who_and_when_oldest_first(log, reception_a, manager_a):
    incident_id = report(log, reception_a)
    assert log.custody_chain(manager_a, incident_id) == []
    before = datetime.now(timezone.utc)
    first = log.record_view(reception_a, incident_id)
    log.record_view(manager_a, incident_id)
    log.record_view(reception_a, incident_id)
    assert chain(log, manager_a, incident_id) == [
        ("viewed", "rita.reception", "reception"),
        ("viewed", "mo.manager", "manager"),
        ("viewed", "rita.reception", "reception"),
    ]
    accesses = log.custody_chain(manager_a, incident_id)
    assert before <= accesses[0].at <= accesses[1].at <= accesses[2].at
    assert accesses[0].title == "Viewed the timeline" and accesses[0].actor_name == "Rita Reception"
    assert first.id == IncidentAccessLog.create_id(PRACTICE_A, incident_id) and first.notification_id > 0


def test_a_view_does_not_touch_the_incident_or_conflict_with_a_change_to_it(log, reception_a):
    incident_id = report(log, reception_a)
    stale = log.get_incident(reception_a, incident_id)
    log.record_view(reception_a, incident_id)
    log.record_view(reception_a, incident_id)
    assert log.get_incident(reception_a, incident_id).version == stale.version
    with acting_as("rita.reception", "Rita"):
        stale.add_note("Seen on the CCTV too", uuid.uuid4().hex)
    log.save(stale)  # loaded before the views, saved after them: no conflict


def test_another_practices_incident_cannot_be_viewed_and_nothing_is_written(log, reception_a, reception_b, manager_a, manager_b):
    incident_id = report(log, reception_a)
    log.record_view(reception_a, incident_id)
    position = log.recorder.max_notification_id()
    with pytest.raises(IncidentNotFound):
        log.record_view(reception_b, incident_id)
    with pytest.raises(IncidentNotFound):
        log.record_view(reception_a, uuid.uuid4())
    with pytest.raises(IncidentNotFound):
        log.custody_chain(manager_b, incident_id)
    assert log.recorder.max_notification_id() == position
    assert len(log.custody_chain(manager_a, incident_id)) == 1


def test_only_managers_and_governance_read_the_chain(log, reception_a, manager_a, governance_a):
    incident_id = report(log, reception_a)
    log.record_view(reception_a, incident_id)
    with pytest.raises(NotPermitted):
        log.custody_chain(reception_a, incident_id)
    assert chain(log, governance_a, incident_id) == chain(log, manager_a, incident_id)


def test_a_view_for_a_request_names_the_request_and_only_the_practices_own(log, reception_a, governance_a, governance_b):
    incident_id = report(log, reception_a)
    request_id = receive(log, governance_a)
    log.record_view(governance_a, incident_id, request_id)
    [access] = log.custody_chain(governance_a, incident_id)
    assert access.request_id == request_id
    theirs = receive(log, governance_b)
    with pytest.raises(RequestNotFound):
        log.record_view(governance_a, incident_id, theirs)
    assert len(log.custody_chain(governance_a, incident_id)) == 1


def test_an_export_is_in_the_chain_of_every_incident_it_carried_saved_with_the_request(log, reception_a, governance_a):
    viewed, fresh, left_out = report(log, reception_a), report(log, reception_a), report(log, reception_a)
    log.record_view(reception_a, viewed)
    request_id = receive(log, governance_a)
    log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=[viewed, fresh]), governance_a)
    log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis="court_direction", note="Order of 4 Jan"), governance_a)
    before = log.recorder.max_notification_id()
    saved = log.record_export(RecordExport(request_id=request_id, fingerprint=BUNDLE), governance_a)
    assert saved.id == request_id
    # One save: the request's event, the export on the viewed incident's log, and the fresh
    # incident's new log (started, then the export) are the next four notifications.
    assert saved.notification_id == before + 4
    assert chain(log, governance_a, viewed) == [("viewed", "rita.reception", "reception"), ("exported", "gill.governance", "governance")]
    [export] = log.custody_chain(governance_a, fresh)
    assert (export.action, export.request_id, export.fingerprint, export.title) == (
        "exported",
        request_id,
        BUNDLE,
        "Exported the timeline in a bundle",
    )
    assert log.custody_chain(governance_a, left_out) == []


def test_a_view_raced_by_another_is_retried_not_lost(log, reception_a, manager_a):
    incident_id = report(log, reception_a)
    log.record_view(reception_a, incident_id)  # versions 1 (started) and 2 (viewed)
    log_id = IncidentAccessLog.create_id(PRACTICE_A, incident_id)
    viewed = IncidentAccessLog.TimelineViewed
    with acting_as("x", "X"):
        log.save(IncidentAccessLog.following(viewed, log_id, 2, role="reception", request_id=None))
    with pytest.raises(IntegrityError), acting_as("y", "Y"):  # the same position cannot be written twice
        log.save(IncidentAccessLog.following(viewed, log_id, 2, role="reception", request_id=None))

    errors: list[BaseException] = []

    def view() -> None:
        try:
            for _ in range(5):
                log.record_view(reception_a, incident_id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=view) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = log.recorder.select_events(log_id)
    assert [e.originator_version for e in stored] == list(range(1, 3 + 30 + 1))
    assert len(log.custody_chain(manager_a, incident_id)) == 1 + 1 + 30


def test_the_latest_entries_are_read_from_the_end_of_the_chain(log, reception_a, manager_a):
    incident_id = report(log, reception_a)
    assert log.custody_count(manager_a, incident_id) == 0
    assert log.custody_chain(manager_a, incident_id, latest=3) == []
    for actor in (reception_a, manager_a, reception_a, manager_a, reception_a):
        log.record_view(actor, incident_id)
    everything = log.custody_chain(manager_a, incident_id)
    assert log.custody_chain(manager_a, incident_id, latest=3) == everything[-3:]
    assert log.custody_chain(manager_a, incident_id, latest=50) == everything
    assert log.custody_count(manager_a, incident_id) == 5
    with pytest.raises(NotPermitted):
        log.custody_count(reception_a, incident_id)
