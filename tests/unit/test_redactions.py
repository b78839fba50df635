"""Redactions on a disclosure request: a fact or words in an entry of an incident in scope, each with
a reason, listed on the request, removable while it is open, and checked against the incident."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from incidents.application import commands as c
from incidents.application.disclosures import Redact, RemoveRedaction, SetRequestScope
from incidents.domain.disclosure import AlreadyRedacted, NothingToRedact, NotInScope, ReasonRequired, RedactionNotFound, RequestClosed, WordsNotInEntry
from incidents.domain.values import TextTooLong

from tests.reports import report_filming

from .test_disclosure_requests import ready

NOTE = "Filmed the queue; Mrs Jones in the queue asked them to stop"


def redact(log, actor, request_id, target, reason="Another patient", text=""):
    return log.redact(Redact(request_id=request_id, target=target, text=text, reason=reason), actor)


@pytest.fixture
def request_and_incident(log, governance_a, reception_a):
    request_id, incidents = ready(log, governance_a, reception_a)
    incident_id = incidents[0]
    log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text=NOTE), reception_a)
    return request_id, incident_id


def test_a_fact_and_words_in_an_entry_are_redacted_with_their_reasons(log, governance_a, request_and_incident):
    request_id, incident_id = request_and_incident
    redact(log, governance_a, request_id, f"fact:{incident_id}:filmer", reason="Names the person filming")
    redact(log, governance_a, request_id, f"entry:{incident_id}:2", text="Mrs Jones", reason="Another patient")
    request = log.get_request(governance_a, request_id)
    rows = log.redaction_rows(governance_a, request)
    assert rows[0].incident.startswith("Someone filmed in the practice, ")
    assert [(r.what, r.reason) for r in rows] == [
        ("Fact: Who was filming", "Names the person filming"),
        ("Entry #2: “Mrs Jones”", "Another patient"),
    ]
    history = log.request_history(governance_a, request_id)
    assert [e.title for e in history][-2:] == ["Redaction added", "Redaction added"]
    assert dict(history[-2].details)["Fact"] == "Who was filming"
    assert dict(history[-1].details)["Words in entry #2"] == "Mrs Jones"


def test_the_form_offers_the_facts_and_the_entries_that_say_something(log, governance_a, request_and_incident):
    request_id, incident_id = request_and_incident
    groups = log.redaction_targets(governance_a, log.get_request(governance_a, request_id))
    assert len(groups) == 2 and groups[0][0].startswith("Someone filmed in the practice, ")
    offered = {t.value: t.text for t in groups[0][1]}
    assert offered[f"fact:{incident_id}:filmer"] == "Fact: Who was filming"
    assert offered[f"entry:{incident_id}:2"] == f"Entry #2, Note added: {NOTE}"


def test_a_redaction_is_removed_while_the_request_is_open(log, governance_a, request_and_incident):
    request_id, incident_id = request_and_incident
    redact(log, governance_a, request_id, f"fact:{incident_id}:filmer")
    (redaction_id,) = log.get_request(governance_a, request_id).redactions
    log.remove_redaction(RemoveRedaction(request_id=request_id, redaction_id=redaction_id), governance_a)
    assert log.get_request(governance_a, request_id).redactions == {}
    assert log.request_history(governance_a, request_id)[-1].title == "Redaction removed"
    with pytest.raises(RedactionNotFound):
        log.remove_redaction(RemoveRedaction(request_id=request_id, redaction_id=redaction_id), governance_a)


@pytest.mark.parametrize(
    "target, text, reason, error",
    [
        ("entry:{incident}:2", "Mr Smith", "Another patient", WordsNotInEntry),  # not in that entry
        ("entry:{incident}:2", "", "Another patient", WordsNotInEntry),
        ("fact:{incident}:filmer", "A patient", "Another patient", WordsNotInEntry),  # a fact is hidden whole
        ("entry:{incident}:99", "Mrs Jones", "Another patient", NothingToRedact),
        ("fact:{incident}:no_such_fact", "", "Another patient", NothingToRedact),
        ("fact:{incident}:filmer", "", "   ", ReasonRequired),
        ("fact:{other}:filmer", "", "Another patient", NotInScope),
        ("entry:{incident}:2", "Mrs Jones " * 30, "Another patient", TextTooLong),
    ],
)
def test_what_cannot_be_redacted_is_refused_with_its_reason(log, governance_a, reception_a, request_and_incident, target, text, reason, error):
    request_id, incident_id = request_and_incident
    other = report_filming(log, reception_a)
    with pytest.raises((error, ValidationError)) as raised:
        redact(log, governance_a, request_id, target.format(incident=incident_id, other=other), reason=reason, text=text)
    assert issubclass(raised.type, error) or error in (ReasonRequired, TextTooLong)  # pydantic may refuse first
    assert log.get_request(governance_a, request_id).redactions == {}


def test_a_target_that_is_not_one_is_refused_by_the_command(log, governance_a, request_and_incident):
    request_id, _ = request_and_incident
    for target in ("", "fact", f"entry:{uuid.uuid4()}:two", "note:x:y", "fact:not-a-uuid:filmer"):
        with pytest.raises(ValidationError, match="Choose what to redact|at least 1"):
            Redact(request_id=request_id, target=target, reason="Why")


def test_the_same_thing_is_not_redacted_twice(log, governance_a, request_and_incident):
    request_id, incident_id = request_and_incident
    redact(log, governance_a, request_id, f"entry:{incident_id}:2", text="Mrs Jones")
    with pytest.raises(AlreadyRedacted):
        redact(log, governance_a, request_id, f"entry:{incident_id}:2", text="Mrs Jones", reason="Again")


def test_a_closed_request_takes_no_redaction(log, governance_a, request_and_incident):
    from incidents.application.disclosures import CloseRequest

    request_id, incident_id = request_and_incident
    log.close_request(CloseRequest(request_id=request_id, note="Withdrawn"), governance_a)
    with pytest.raises(RequestClosed):
        redact(log, governance_a, request_id, f"fact:{incident_id}:filmer")


def test_a_redaction_of_an_incident_taken_out_of_scope_no_longer_applies(log, governance_a, request_and_incident):
    request_id, incident_id = request_and_incident
    redact(log, governance_a, request_id, f"fact:{incident_id}:filmer")
    others = [i for i in log.get_request(governance_a, request_id).incident_ids if i != incident_id]
    log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=others), governance_a)
    request = log.get_request(governance_a, request_id)
    assert request.redactions_in_scope() == [] and log.redaction_rows(governance_a, request) == []
