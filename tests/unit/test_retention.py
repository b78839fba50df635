"""Retention: the schedule's review dates, legal holds and the review's keep or dispose decisions,
through the application (governance only) and on the domain's own guards."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from incidents.application import commands as c
from incidents.application.disclosures import CloseRequest
from incidents.application.retention import DisposeOfRecord, KeepRecord, LiftHold, PlaceHold, RecordNotFound
from incidents.application.service import NotPermitted
from incidents.domain.acting import recorded_as_of
from incidents.domain.retention import (
    INCIDENT,
    SERIOUS_INCIDENT,
    SUBJECT_ACCESS,
    AlreadyOnHold,
    AwaitingDisposal,
    NotOnHold,
    NotYetDue,
    ReasonRequired,
    RecordOnHold,
    ReviewDateNotLater,
)

from tests.reports import filming, minutes_ago, report_filming

from .conftest import PRACTICE_A, receive

NOW = datetime.now(timezone.utc)
TODAY = NOW.date()


def old_incident(log, actor, years: int = 11, **overrides):
    """A filming incident that happened and was reported `years` years ago."""
    then = NOW - timedelta(days=365 * years + 10)
    with recorded_as_of(then + timedelta(minutes=5)):
        return log.report_filming(filming(occurred_at=then, **overrides), actor).id


def test_a_new_incident_is_reviewed_ten_years_from_the_incident(log, reception_a, governance_a):
    incident_id = report_filming(log, reception_a)
    state = log.retention_of(governance_a, incident_id)
    assert state.due.rule is INCIDENT
    assert state.review_on == INCIDENT.due_on(log.get_incident(governance_a, incident_id).occurred_at)
    assert state.review_on.year == TODAY.year + 10 or state.review_on.year == TODAY.year + 9  # the incident was 20 minutes ago (UK day)
    assert not state.is_due and state.hold is None and state.decisions == []


def test_police_involvement_makes_it_serious_twenty_years(log, reception_a, governance_a):
    incident_id = report_filming(log, reception_a)
    log.respond(c.RecordResponse(incident_id=incident_id, response="PoliceCalled", occurred_at=minutes_ago(5), submission_key="k" * 10, reference="CAD 1234/07DEC"), reception_a)
    state = log.retention_of(governance_a, incident_id)
    assert state.due.rule is SERIOUS_INCIDENT
    assert state.review_on == SERIOUS_INCIDENT.due_on(state.due.runs_from)


def test_coming_back_into_use_restarts_the_period(log, reception_a, manager_a, governance_a):
    incident_id = old_incident(log, reception_a)
    assert log.retention_of(governance_a, incident_id).is_due
    noted_from = datetime.now(timezone.utc)
    log.add_note(c.AddNote(incident_id=incident_id, text="The patient wrote to us", submission_key="n" * 10), reception_a)
    state = log.retention_of(governance_a, incident_id)
    assert not state.is_due
    assert state.review_on == INCIDENT.due_on(state.due.runs_from) and state.due.runs_from >= noted_from


def test_a_subject_access_request_runs_three_years_from_its_closure(log, governance_a):
    request_id = receive(log, governance_a)
    assert log.retention_of(governance_a, request_id).review_on is None  # open: not yet running
    log.close_request(CloseRequest(request_id=request_id, note="Withdrawn by the patient"), governance_a)
    state = log.retention_of(governance_a, request_id)
    assert state.due.rule is SUBJECT_ACCESS and state.review_on == SUBJECT_ACCESS.due_on(state.due.runs_from)
    assert state.review_on.year - TODAY.year in (2, 3)
    with pytest.raises(NotYetDue, match="not due for review until"):
        log.dispose_of_record(DisposeOfRecord(record_id=request_id, reason="Past its period", authorised_by="Dr Shah"), governance_a)


def test_the_29th_of_february_falls_on_the_28th():
    assert INCIDENT.due_on(datetime(2028, 2, 29, 12, tzinfo=timezone.utc)) == date(2038, 2, 28)


def test_a_hold_is_placed_and_lifted_with_reasons_by_governance_only(log, reception_a, manager_a, governance_a):
    incident_id = report_filming(log, reception_a)
    hold = PlaceHold(record_id=incident_id, reason="claim", text="Letter of claim from Smith & Co, 1 Dec")
    for someone in (reception_a, manager_a):
        with pytest.raises(NotPermitted):
            log.place_hold(hold, someone)
    log.place_hold(hold, governance_a)
    state = log.retention_of(reception_a, incident_id)  # the record's page shows it to whoever sees the record
    assert (state.hold.reason, state.hold.text, state.hold.placed_by) == ("claim", "Letter of claim from Smith & Co, 1 Dec", "Gill Governance")
    with pytest.raises(AlreadyOnHold):
        log.place_hold(hold, governance_a)
    with pytest.raises(NotPermitted):
        log.lift_hold(LiftHold(record_id=incident_id, reason="Claim settled"), manager_a)
    log.lift_hold(LiftHold(record_id=incident_id, reason="Claim settled"), governance_a)
    state = log.retention_of(governance_a, incident_id)
    assert state.hold is None and [(h.reason, why) for h, _, why in state.lifted] == [("claim", "Claim settled")]
    with pytest.raises(NotOnHold):
        log.lift_hold(LiftHold(record_id=incident_id, reason="Again"), governance_a)


def test_a_held_record_cannot_be_decided_for_disposal(log, reception_a, governance_a):
    incident_id = old_incident(log, reception_a)
    log.place_hold(PlaceHold(record_id=incident_id, reason="gmc", text="GMC case 123"), governance_a)
    dispose = DisposeOfRecord(record_id=incident_id, reason="Past its period", authorised_by="Dr Shah, Caldicott Guardian")
    with pytest.raises(RecordOnHold, match="under legal hold for a GMC case: lift the hold"):
        log.dispose_of_record(dispose, governance_a)
    log.lift_hold(LiftHold(record_id=incident_id, reason="Case closed"), governance_a)
    log.dispose_of_record(dispose, governance_a)
    state = log.retention_of(governance_a, incident_id)
    assert state.awaiting_disposal and not state.is_due
    assert [(d.decision, d.reason, d.authorised_by, d.decided_by) for d in state.decisions] == [
        ("dispose", "Past its period", "Dr Shah, Caldicott Guardian", "Gill Governance")
    ]
    with pytest.raises(AwaitingDisposal):
        log.keep_record(KeepRecord(record_id=incident_id, review_on=TODAY + timedelta(days=400), reason="Second thoughts"), governance_a)


def test_keeping_sets_a_later_review_date(log, reception_a, governance_a):
    incident_id = old_incident(log, reception_a)
    with pytest.raises(ReviewDateNotLater):
        log.keep_record(KeepRecord(record_id=incident_id, review_on=TODAY, reason="Still relevant"), governance_a)
    log.keep_record(KeepRecord(record_id=incident_id, review_on=TODAY + timedelta(days=400), reason="A complaint is expected"), governance_a)
    state = log.retention_of(governance_a, incident_id)
    assert state.review_on == TODAY + timedelta(days=400) and not state.is_due
    with pytest.raises(NotYetDue):
        log.keep_record(KeepRecord(record_id=incident_id, review_on=TODAY + timedelta(days=800), reason="Again"), governance_a)


def test_a_record_not_yet_due_cannot_be_decided(log, reception_a, governance_a):
    incident_id = report_filming(log, reception_a)
    with pytest.raises(NotYetDue):
        log.dispose_of_record(DisposeOfRecord(record_id=incident_id, reason="No longer needed", authorised_by="Dr Shah"), governance_a)


def test_another_practice_cannot_see_or_hold_the_record(log, reception_a, governance_b):
    incident_id = report_filming(log, reception_a)
    with pytest.raises(RecordNotFound):
        log.retention_of(governance_b, incident_id)
    with pytest.raises(RecordNotFound):
        log.place_hold(PlaceHold(record_id=incident_id, reason="claim", text="x"), governance_b)


def test_the_domain_needs_reasons(log, reception_a, governance_a):
    from incidents.domain.acting import acting_as
    from incidents.domain.retention import RecordRetention

    with acting_as("gill", "Gill"):
        retention = RecordRetention(practice=PRACTICE_A, record_id=report_filming(log, reception_a), record_kind="filming")
        with pytest.raises(ReasonRequired):
            retention.place_hold("claim", "   ")
        with pytest.raises(ReasonRequired):
            retention.decide_disposal("Past its period", "", date(2020, 1, 1), TODAY)
        with pytest.raises(ReasonRequired):
            retention.keep(TODAY + timedelta(days=1), "", date(2020, 1, 1), TODAY)


def test_a_hold_placed_after_the_decision_blocks_the_disposal_and_only_governance_carries_it_out(log, reception_a, manager_a, governance_a):
    """On the in-memory store: the domain refuses a disposal under hold, and one not decided; once
    carried out the record reads as disposed of, with its disposal, and nothing more can be done to it."""
    from eventsourcing.persistence import MapperDeserialisationError

    from incidents.application.retention import CarryOutDisposal
    from incidents.domain.retention import AlreadyDisposed, NotAwaitingDisposal

    incident_id = old_incident(log, reception_a)
    carry_out = CarryOutDisposal(record_id=incident_id)
    with pytest.raises(NotAwaitingDisposal, match="a review must decide it first"):
        log.carry_out_disposal(carry_out, governance_a)
    log.dispose_of_record(DisposeOfRecord(record_id=incident_id, reason="Past its period", authorised_by="Dr Shah"), governance_a)
    log.place_hold(PlaceHold(record_id=incident_id, reason="claim", text="Letter of claim"), governance_a)
    with pytest.raises(RecordOnHold, match="under legal hold for a claim: lift the hold before disposing of it"):
        log.carry_out_disposal(carry_out, governance_a)
    with pytest.raises(NotPermitted):
        log.carry_out_disposal(carry_out, manager_a)
    assert log.get_incident(governance_a, incident_id).id == incident_id  # nothing destroyed
    log.lift_hold(LiftHold(record_id=incident_id, reason="Claim withdrawn"), governance_a)
    log.carry_out_disposal(carry_out, governance_a)

    with pytest.raises(MapperDeserialisationError, match="disposed of"):
        log.get_incident(governance_a, incident_id)
    state = log.retention_of(governance_a, incident_id)
    assert state.disposal is not None and state.disposal.decision.authorised_by == "Dr Shah" and state.disposal.disposed_by == "Gill Governance"
    assert not state.is_due and not state.awaiting_disposal
    assert [d.record_id for d in log.disposals()] == [incident_id]
    with pytest.raises(AlreadyDisposed):
        log.place_hold(PlaceHold(record_id=incident_id, reason="claim", text="Too late"), governance_a)
    log.carry_out_disposal(carry_out, governance_a)  # again: nothing more to do, and no error


def test_a_disclosure_request_is_disposed_of_by_its_own_key_and_its_requester_goes_with_it(log, governance_a):
    """A request closed four years ago (subject access: three years): its key destroyed, it cannot
    be read, and the incidents and other requests are untouched."""
    from eventsourcing.persistence import MapperDeserialisationError

    from incidents.application.retention import CarryOutDisposal

    then = NOW - timedelta(days=365 * 4)
    with recorded_as_of(then):
        request_id = receive(log, governance_a, received_on=then.date())
        log.close_request(CloseRequest(request_id=request_id, note="Withdrawn by the patient"), governance_a)
    other = receive(log, governance_a, key="o" * 32)
    keys = log.mapper.cipher.record_keys
    assert keys.key_of(request_id) is not None and keys.key_of(other) is not None  # each request has its own
    log.dispose_of_record(DisposeOfRecord(record_id=request_id, reason="Three years after closure", authorised_by="Dr Shah"), governance_a)
    log.carry_out_disposal(CarryOutDisposal(record_id=request_id), governance_a)
    with pytest.raises(MapperDeserialisationError, match="disposed of"):
        log.get_request(governance_a, request_id)
    assert log.get_request(governance_a, other).requester == "Pat Example"
    [disposal] = log.disposals()
    assert disposal.kind == "Disclosure request: Patient (subject access request)" and disposal.ref.startswith("D-")
    assert log.retention_of(governance_a, request_id).disposal == disposal
