"""A store written before who acted came from one place, and before a practice's lists were logs,
still opens: its events are written here with exactly the topics and fields the earlier code
stored, and every record loads, names who acted, and every list goes on from where it was."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from incidents.application import commands as c
from incidents.application.service import IncidentLog
from incidents.domain.custody import IncidentAccessLog
from incidents.domain.disclosure import DisclosureRequest
from incidents.domain.filming import FilmingIncident
from incidents.domain.notice import Notice
from incidents.domain.practice_lists import list_id

from .conftest import PASSWORD, PRACTICE_A

NOW = datetime.now(timezone.utc)


class _Stored:
    """Any object: the application's mapper stores its attributes as an event's state."""

    def __init__(self, **state: Any) -> None:
        self.__dict__.update(state)


def write(log: IncidentLog, topic: str, originator_id: uuid.UUID, version: int, **state: Any) -> None:
    """One event as the earlier code stored it: its topic and its fields, encrypted as the app does."""
    event = _Stored(originator_id=originator_id, originator_version=version, timestamp=NOW, **state)
    log.recorder.insert_events([replace(log.mapper.to_stored_event(event), topic=topic)])


def old_account(log: IncidentLog, username: str, role: str) -> uuid.UUID:
    """An account registered by the CLI: its events named the actor by username only."""
    account_id = IncidentLog.account_id(username)
    write(
        log, "incidents.domain.accounts:StaffAccount.Registered", account_id, 1,
        originator_topic="incidents.domain.accounts:StaffAccount", username=username, display_name=username.title(),
        practice=PRACTICE_A, role=role, password_hash=log.password_hasher.hash(PASSWORD), actor="cli",
    )
    write(log, "incidents.domain.accounts:StaffAccount.SignedOut", account_id, 2)
    return account_id


def test_old_lists_keep_their_records_and_go_on_where_they_were(log):
    staff = list_id(PRACTICE_A, "staff")
    write(log, "incidents.domain.practice_index:PracticeIndex.Started", staff, 1,
          originator_topic="incidents.domain.practice_index:PracticeIndex", practice=PRACTICE_A, listing="staff")
    gill = old_account(log, "gill.governance", "governance")
    write(log, "incidents.domain.practice_index:PracticeIndex.Listed", staff, 2, entry=gill)
    signed_in = log.authenticate("gill.governance", PASSWORD)
    assert signed_in is not None
    governance, _ = signed_in
    assert [a.username for a in log.staff(governance)] == ["gill.governance"]

    added = log.add_staff(c.AddStaff(username="nell.nurse", display_name="Nell", roles=("reception",)), governance)  # type: ignore[call-arg]
    assert log.listed(PRACTICE_A, "staff") == [gill, added.account_id]
    assert [e.originator_version for e in log.recorder.select_events(staff)] == [1, 2, 3]
    assert log.actor_for_session(staff, 1) is None  # a list is no account
    every = log.recorder.select_notifications(start=1, limit=100)
    assert len([log.mapper.to_domain_event(n) for n in every]) == len(every)  # as the projections read them


def test_old_events_load_and_name_who_acted(log, sign_up):
    account_id = old_account(log, "old.reception", "reception")
    incident_id = uuid.uuid4()
    write(
        log, "incidents.domain.filming:FilmingIncident.Reported", incident_id, 1,
        originator_topic="incidents.domain.filming:FilmingIncident", practice=PRACTICE_A, submission_key="k" * 10,
        occurred_at=NOW - timedelta(hours=1), area="reception", filmer="patient", people_captured="staff",
        children_present="no", note="", actor="rita", actor_name="Rita",
    )
    write(log, "incidents.domain.incident:Incident.NoteAdded", incident_id, 2,
          text="Seen again", actor="mo", actor_name="Mo", submission_key="s" * 10)
    access_log = IncidentAccessLog.create_id(PRACTICE_A, incident_id)
    write(log, "incidents.domain.custody:IncidentAccessLog.Started", access_log, 1,
          originator_topic="incidents.domain.custody:IncidentAccessLog", practice=PRACTICE_A, incident_id=incident_id)
    write(log, "incidents.domain.custody:IncidentAccessLog.TimelineViewed", access_log, 2,
          actor="rita", actor_name="Rita", role="reception", request_id=None)
    notice_id = uuid.uuid4()
    write(
        log, "incidents.domain.notice:Notice.Published", notice_id, 1,
        originator_topic="incidents.domain.notice:Notice", practice=PRACTICE_A, submission_key="n" * 10,
        channel="website", wording="Calls are recorded", in_service_from=date(2026, 1, 1), actor="mo", actor_name="Mo",
    )
    write(log, "incidents.domain.notice:Notice.Revised", notice_id, 2,
          wording="Calls are recorded and kept", in_service_from=date(2026, 2, 1), actor="sam", actor_name="Sam")
    request_id = uuid.uuid4()
    write(
        log, "incidents.domain.disclosure:DisclosureRequest.Received", request_id, 1,
        originator_topic="incidents.domain.disclosure:DisclosureRequest", practice=PRACTICE_A, submission_key="r" * 10,
        requester_type="gmc", requester="GMC", reference="GMC-1", received_on=date(2026, 1, 2), due_on=date(2026, 2, 2),
        actor="gill", actor_name="Gill",
    )
    write(log, "incidents.domain.disclosure:DisclosureRequest.LegalBasisRecorded", request_id, 2,
          basis="required_by_law", note="", actor="gill", actor_name="Gill")
    manager = sign_up("mo.manager", PRACTICE_A, "manager").actor
    governance = sign_up("gill.governance", PRACTICE_A, "governance").actor

    incident = log.get_incident(manager, incident_id)
    assert isinstance(incident, FilmingIncident) and incident.notes_count == 1
    assert [(e.actor, e.actor_name) for e in log.history(manager, incident_id)] == [("rita", "Rita"), ("mo", "Mo")]
    [viewed] = log.custody_chain(manager, incident_id)
    assert (viewed.actor, viewed.actor_name, viewed.role) == ("rita", "Rita", "reception")
    notice = log.get_notice(manager, notice_id)
    assert isinstance(notice, Notice)
    assert [(w.text, w.actor_name) for w in notice.wordings] == [("Calls are recorded", "Mo"), ("Calls are recorded and kept", "Sam")]
    request = log.get_request(governance, request_id)
    assert isinstance(request, DisclosureRequest) and request.basis_decided_by == ("gill", "Gill")
    assert request.redactions == {}  # a request stored before redactions has none
    history = log.account_history(governance, account_id)
    assert [(type(e).__name__, getattr(e, "actor", None)) for e in history] == [("Registered", "cli"), ("SignedOut", None)]

    # What is added now names the person as before, beside what was stored then.
    log.add_note(c.AddNote(incident_id=incident_id, submission_key="t" * 10, text="Letter sent"), manager)  # type: ignore[call-arg]
    assert [e.actor_name for e in log.history(manager, incident_id)] == ["Rita", "Mo", "Mo Manager"]


def test_an_account_registered_with_one_role_holds_it_as_its_only_role(log):
    """Registered events before accounts held several roles named one `role` (class version 1)."""
    account_id = old_account(log, "mo.manager", "manager")
    assert log.repository.get(account_id).roles == ("manager",)
    actor, version = log.authenticate("mo.manager", PASSWORD)
    assert actor.roles == ("manager",) and actor.holds("manager") and not actor.holds("governance")
    assert log.actor_for_session(account_id, version) == actor
    registered = log.account_history(governance_of(log), account_id)[0]
    assert registered.roles == ["manager"] and not hasattr(registered, "role")


def governance_of(log: IncidentLog):
    log.register_account(c.RegisterAccount(username="gill.governance", display_name="Gill", practice=PRACTICE_A, roles=("governance",), password=PASSWORD), actor="test")
    return log.authenticate("gill.governance", PASSWORD)[0]
