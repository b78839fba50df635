"""Disclosure requests through the application on the in-memory store: due dates by requester
type (a subject access request: one calendar month, as the ICO counts it), extensions, scope,
legal basis, export, disclosure, refusal and closing, with the roles and practices allowed."""

from __future__ import annotations

import calendar
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from incidents.application.disclosures import (
    CloseRequest,
    ExtendRequest,
    ReceiveRequest,
    RecordDisclosure,
    RecordExport,
    RecordLegalBasis,
    RefuseRequest,
    RequestNotFound,
    SetRequestScope,
)
from incidents.application.service import IncidentNotFound, NotPermitted
from incidents.domain.dates import months_after
from incidents.domain.acting import acting_as
from incidents.domain.disclosure import (
    BasisNotForRequester,
    DisclosureRequest,
    DueBeforeReceipt,
    Extension,
    ExtensionTooLate,
    ToldOnInvalid,
    DueDateFixed,
    DueDateRequired,
    ExportNotReady,
    ExtensionNotLater,
    ExtensionTooLong,
    InvalidPeriod,
    JustificationRequired,
    NothingExported,
    ReasonRequired,
    ReceivedInFuture,
    RequestClosed,
    RequestDecided,
    ScopeEmpty,
    UnknownBundle,
    due_date,
)

from tests.reports import report_filming

from .conftest import receive

BUNDLE = "ab" * 32
OTHER_BUNDLE = "cd" * 32


def ready(log, actor, reporter, basis="required_by_law") -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A request with a scope of two incidents and a legal basis: ready to export."""
    incidents = [report_filming(log, reporter), report_filming(log, reporter)]
    request_id = receive(log, actor)
    log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=incidents), actor)
    log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis=basis), actor)
    return request_id, incidents


# Due dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "received, due",
    [
        (date(2026, 1, 3), date(2026, 2, 3)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2024, 1, 30), date(2024, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2025, 12, 31), date(2026, 1, 31)),
        (date(2026, 2, 28), date(2026, 3, 28)),
    ],
)
def test_a_subject_access_request_is_due_on_the_corresponding_day_of_the_next_month(log, governance_a, received, due):
    request = log.get_request(governance_a, receive(log, governance_a, received_on=received))
    assert (request.received_on, request.due_on, request.first_due_on) == (received, due, due)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)), st.integers(min_value=0, max_value=36))
def test_a_calendar_month_later_is_the_same_day_or_that_months_last_day(day, months):
    later = months_after(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == min(day.day, calendar.monthrange(later.year, later.month)[1])
    if months == 1:
        assert 28 <= (later - day).days <= 31


def test_each_requester_type_has_its_due_date_rule(log, governance_a):
    received = date(2026, 1, 31)
    assert due_date("solicitor", received) == due_date("police", received) == date(2026, 2, 28)
    assert due_date("complaint", received, date(2026, 4, 1)) == date(2026, 4, 1)
    assert due_date("defence_organisation", received) == date(2026, 2, 28)
    for entered_by_user in ("gmc", "court", "ico"):
        with pytest.raises(DueDateRequired):
            due_date(entered_by_user, received)
        assert due_date(entered_by_user, received, date(2026, 2, 14)) == date(2026, 2, 14)
    with pytest.raises(DueDateFixed):
        due_date("subject_access", received, date(2026, 5, 1))
    with pytest.raises(DueBeforeReceipt):
        due_date("court", received, date(2026, 1, 30))
    court = log.get_request(governance_a, receive(log, governance_a, "court", received, due_on=date(2026, 2, 14)))
    assert court.due_on == date(2026, 2, 14) and court.requester_type_label == "Court"


def test_a_request_cannot_be_received_in_the_future_or_without_a_requester(log, governance_a):
    with pytest.raises(ReceivedInFuture):
        log.receive_request(
            ReceiveRequest(submission_key="k" * 10, requester_type="police", requester="PC Jones", reference="R1", received_on=date(2026, 6, 2)),
            governance_a,
            today=date(2026, 6, 1),
        )
    with pytest.raises(ValidationError) as invalid:
        ReceiveRequest(submission_key="k" * 10, requester_type="neighbour", requester=" ", reference="", received_on="31/01/2026")
    assert {e["loc"][0] for e in invalid.value.errors()} == {"requester_type", "requester", "reference", "received_on"}


def test_the_same_form_twice_receives_one_request(log, governance_a):
    first = receive(log, governance_a, key="the-same-key")
    assert receive(log, governance_a, key="the-same-key") == first
    assert [s.request_id for s in log.requests(governance_a)] == [first]


# Extensions ------------------------------------------------------------------------


def test_a_subject_access_request_extends_by_up_to_two_further_months(log, governance_a):
    request_id = receive(log, governance_a, received_on=date(2024, 1, 31))  # due 29 Feb 2024
    extend = lambda day, reason="Complex: records from three sites": log.extend_request(  # noqa: E731
        ExtendRequest(request_id=request_id, due_on=day, reason=reason, told_on=date(2024, 2, 10)), governance_a, today=date(2024, 2, 20)
    )
    with pytest.raises(ExtensionTooLong, match="2024-04-30"):
        extend(date(2024, 5, 1))
    with pytest.raises(ExtensionNotLater):
        extend(date(2024, 2, 29))
    extend(date(2024, 3, 31))
    extend(date(2024, 4, 30))
    request = log.get_request(governance_a, request_id)
    assert (request.due_on, request.first_due_on) == (date(2024, 4, 30), date(2024, 2, 29))
    with pytest.raises(ExtensionNotLater):
        extend(date(2024, 4, 1))
    with pytest.raises(ValidationError, match="reason"):
        ExtendRequest(request_id=request_id, due_on=date(2024, 4, 30), reason="")
    with pytest.raises(ReasonRequired):
        request.extend(date(2024, 4, 30), "", date(2024, 2, 10), today=date(2024, 2, 20))


def test_a_subject_access_request_extends_only_within_its_first_month_with_the_requester_told(log, governance_a):
    request_id = receive(log, governance_a, received_on=date(2024, 1, 31))  # the first month ends 29 Feb 2024
    extend = lambda told_on, today: log.extend_request(  # noqa: E731
        ExtendRequest(request_id=request_id, due_on=date(2024, 4, 30), reason="Complex: records from three sites", told_on=told_on),
        governance_a,
        today=today,
    )
    with pytest.raises(ExtensionTooLate, match="first month ended on 29 Feb 2024.*ICO"):
        extend(date(2024, 2, 20), date(2024, 3, 1))  # a day late, even if the requester was told in time
    with pytest.raises(ToldOnInvalid, match="Enter the day the requester was told"):
        extend(None, date(2024, 2, 20))
    with pytest.raises(ToldOnInvalid, match="future"):
        extend(date(2024, 2, 21), date(2024, 2, 20))
    with pytest.raises(ToldOnInvalid, match="before the request was received"):
        extend(date(2024, 1, 30), date(2024, 2, 20))
    request = log.get_request(governance_a, request_id)
    assert request.may_extend_on(date(2024, 2, 29)) and not request.may_extend_on(date(2024, 3, 1))
    assert request.extensions == []
    extend(date(2024, 2, 29), date(2024, 2, 29))  # the month's last day still counts
    request = log.get_request(governance_a, request_id)
    assert request.extensions == [Extension(date(2024, 2, 29), date(2024, 4, 30), "Complex: records from three sites", date(2024, 2, 29))]
    history = log.request_history(governance_a, request_id)
    assert ("Requester told", "29 Feb 2024") in history[-1].details


def test_a_subject_access_request_is_disclosed_under_the_right_of_access_and_no_other_kind_is(log, governance_a):
    sar = receive(log, governance_a)
    court = receive(log, governance_a, "court", date(2026, 1, 5), due_on=date(2026, 2, 1))
    assert list(log.get_request(governance_a, sar).legal_bases())[0] == "right_of_access"
    assert "right_of_access" not in log.get_request(governance_a, court).legal_bases()
    log.record_legal_basis(RecordLegalBasis(request_id=sar, basis="right_of_access"), governance_a)
    assert log.get_request(governance_a, sar).legal_basis_label == "Right of access (UK GDPR Article 15)"
    with pytest.raises(BasisNotForRequester, match="Article 15"):
        log.record_legal_basis(RecordLegalBasis(request_id=court, basis="right_of_access"), governance_a)


def test_a_court_date_can_move_later_without_a_fixed_limit(log, governance_a):
    request_id = receive(log, governance_a, "court", date(2026, 1, 5), due_on=date(2026, 2, 1))
    log.extend_request(ExtendRequest(request_id=request_id, due_on=date(2027, 2, 1), reason="New order of the court"), governance_a)
    assert log.get_request(governance_a, request_id).due_on == date(2027, 2, 1)
    # Nor a first month: the court moves its own date, even after it.
    log.extend_request(ExtendRequest(request_id=request_id, due_on=date(2027, 3, 1), reason="Adjourned"), governance_a, today=date(2027, 2, 20))
    assert log.get_request(governance_a, request_id).extensions[-1].told_on is None


# Scope, legal basis, export --------------------------------------------------------


def test_no_export_without_a_scope_and_a_legal_basis(log, governance_a, reception_a):
    request_id = receive(log, governance_a)
    export = lambda: log.record_export(RecordExport(request_id=request_id, fingerprint=BUNDLE), governance_a)  # noqa: E731
    with pytest.raises(ExportNotReady, match="scope"):
        export()
    log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=[report_filming(log, reception_a)]), governance_a)
    with pytest.raises(ExportNotReady, match="legal basis"):
        export()
    log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis="consent", note="Signed consent on file"), governance_a)
    export()
    request = log.get_request(governance_a, request_id)
    assert request.exports == [BUNDLE]
    assert (request.legal_basis_label, request.basis_decided_by, request.basis_note) == (
        "Consent",
        ("gill.governance", "Gill Governance"),
        "Signed consent on file",
    )


def test_a_scope_needs_incidents_of_the_practice_and_a_period_in_order(log, governance_a, reception_a, reception_b):
    request_id = receive(log, governance_a)
    ours, theirs = report_filming(log, reception_a), report_filming(log, reception_b)
    with pytest.raises(ScopeEmpty, match="or a request whose patient has recordings"):  # no incident, and no patient's recordings
        log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=[]), governance_a)
    with pytest.raises(IncidentNotFound):
        log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=[ours, theirs]), governance_a)
    with pytest.raises(InvalidPeriod):
        log.set_request_scope(
            SetRequestScope(request_id=request_id, incident_ids=[ours], period_from="2026-03-01", period_to="2026-02-01"),
            governance_a,
        )
    log.set_request_scope(
        SetRequestScope(request_id=request_id, incident_ids=[ours, ours], period_from="2026-01-01", period_to=""), governance_a
    )
    request = log.get_request(governance_a, request_id)
    assert (request.incident_ids, request.period_from, request.period_to) == ([ours], date(2026, 1, 1), None)
    with pytest.raises(ScopeEmpty):
        request.set_scope([], None, None)
    recording_id = uuid.uuid4()
    with acting_as("gill.governance"):
        request.set_scope([], None, None, [recording_id, recording_id])  # the patient's recordings alone
    assert (request.incident_ids, request.recording_ids, request.has_scope) == ([], [recording_id], True)


def test_public_interest_needs_a_justification(log, governance_a):
    request_id = receive(log, governance_a, "police", date(2026, 1, 5))
    with pytest.raises(JustificationRequired):
        log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis="public_interest"), governance_a)
    with pytest.raises(ValidationError, match="legal basis"):
        RecordLegalBasis(request_id=request_id, basis="curiosity")
    log.record_legal_basis(
        RecordLegalBasis(request_id=request_id, basis="public_interest", note="Serious crime: assault at reception"), governance_a
    )


def test_a_fingerprint_is_a_sha256_in_hex(log, governance_a):
    for bad in ("", "abc", "g" * 64, "ab" * 33):
        with pytest.raises(ValidationError, match="64 hexadecimal"):
            RecordExport(request_id=uuid.uuid4(), fingerprint=bad)
    assert RecordExport(request_id=uuid.uuid4(), fingerprint=BUNDLE.upper()).fingerprint == BUNDLE


# Disclosed, refused, closed --------------------------------------------------------


def test_disclosure_needs_an_exported_bundle_and_then_nothing_but_closing(log, governance_a, reception_a):
    request_id, incidents = ready(log, governance_a, reception_a)
    with pytest.raises(NothingExported):
        log.record_disclosure(RecordDisclosure(request_id=request_id), governance_a)
    log.record_export(RecordExport(request_id=request_id, fingerprint=BUNDLE), governance_a)
    with pytest.raises(UnknownBundle):
        log.record_disclosure(RecordDisclosure(request_id=request_id, fingerprint=OTHER_BUNDLE), governance_a)
    log.record_disclosure(RecordDisclosure(request_id=request_id, note="Sent by secure email"), governance_a)
    request = log.get_request(governance_a, request_id)
    assert (request.status, request.disclosed_fingerprint) == ("disclosed", BUNDLE)
    for change in (
        lambda: log.set_request_scope(SetRequestScope(request_id=request_id, incident_ids=incidents[:1]), governance_a),
        lambda: log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis="consent"), governance_a),
        lambda: log.record_export(RecordExport(request_id=request_id, fingerprint=OTHER_BUNDLE), governance_a),
        lambda: log.extend_request(ExtendRequest(request_id=request_id, due_on=date(2026, 3, 1), reason="x"), governance_a),
        lambda: log.refuse_request(RefuseRequest(request_id=request_id, reason="x"), governance_a),
    ):
        with pytest.raises(RequestDecided):
            change()
    log.close_request(CloseRequest(request_id=request_id), governance_a)
    assert log.get_request(governance_a, request_id).status == "closed"


def test_a_refusal_needs_a_reason_and_closes_the_door_to_exports(log, governance_a, reception_a):
    request_id, _ = ready(log, governance_a, reception_a)
    with pytest.raises(ValidationError):
        RefuseRequest(request_id=request_id, reason=" ")
    log.refuse_request(RefuseRequest(request_id=request_id, reason="Not the requester's own data"), governance_a)
    with pytest.raises(RequestDecided):
        log.record_export(RecordExport(request_id=request_id, fingerprint=BUNDLE), governance_a)


def test_closing_an_undecided_request_needs_a_reason_and_nothing_follows_a_close(log, governance_a):
    request_id = receive(log, governance_a)
    with pytest.raises(ReasonRequired):
        log.close_request(CloseRequest(request_id=request_id), governance_a)
    log.close_request(CloseRequest(request_id=request_id, note="Withdrawn by the patient"), governance_a)
    for change in (
        lambda: log.close_request(CloseRequest(request_id=request_id, note="again"), governance_a),
        lambda: log.refuse_request(RefuseRequest(request_id=request_id, reason="x"), governance_a),
        lambda: log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis="consent"), governance_a),
    ):
        with pytest.raises(RequestClosed):
            change()


# Lists, history, roles, practices --------------------------------------------------


def test_the_list_shows_open_requests_soonest_due_first_then_the_rest(log, governance_a):
    later = receive(log, governance_a, received_on=date(2026, 3, 1))  # due 1 Apr
    sooner = receive(log, governance_a, received_on=date(2026, 2, 1))  # due 1 Mar
    done = receive(log, governance_a, received_on=date(2026, 2, 15))
    log.close_request(CloseRequest(request_id=done, note="Withdrawn"), governance_a)
    rows = log.requests(governance_a, today=date(2026, 3, 5))
    assert [r.request_id for r in rows] == [sooner, later, done]
    assert (rows[0].days_left, rows[0].overdue, rows[1].days_left, rows[1].overdue) == (-4, True, 27, False)
    assert (rows[2].status_label, rows[2].overdue) == ("Closed", False)


def test_a_requests_history_reads_as_what_happened_in_order(log, governance_a, reception_a):
    request_id, _ = ready(log, governance_a, reception_a)
    log.record_export(RecordExport(request_id=request_id, fingerprint=BUNDLE), governance_a)
    history = log.request_history(governance_a, request_id)
    assert [e.title for e in history] == ["Request received", "Scope set", "Legal basis recorded", "Bundle exported"]
    assert dict(history[0].details)["Due"] == "03 Feb 2026"
    assert dict(history[-1].details)["Fingerprint (manifest SHA-256)"].replace(" ", "") == BUNDLE
    assert {e.actor for e in history} == {"gill.governance"}


def test_only_governance_handles_requests(log, governance_a, manager_a, reception_a):
    request_id = receive(log, governance_a)
    for actor in (manager_a, reception_a):
        with pytest.raises(NotPermitted):
            receive(log, actor)
        with pytest.raises(NotPermitted):
            log.requests(actor)
        with pytest.raises(NotPermitted):
            log.get_request(actor, request_id)
        with pytest.raises(NotPermitted):
            log.close_request(CloseRequest(request_id=request_id, note="x"), actor)


def test_another_practices_request_does_not_exist(log, governance_a, governance_b):
    request_id = receive(log, governance_a)
    assert log.requests(governance_b) == []
    for attempt in (
        lambda: log.get_request(governance_b, request_id),
        lambda: log.request_history(governance_b, request_id),
        lambda: log.record_legal_basis(RecordLegalBasis(request_id=request_id, basis="consent"), governance_b),
        lambda: log.close_request(CloseRequest(request_id=request_id, note="x"), governance_b),
        lambda: log.get_request(governance_a, uuid.uuid4()),
    ):
        with pytest.raises(RequestNotFound):
            attempt()
    assert log.get_request(governance_a, request_id).version == 1
    assert isinstance(log.repository.get(request_id), DisclosureRequest)
