"""The retention side of the action queue, on a SQLite file and on PostgreSQL: each record's
review appears for governance on the day its period ends (moved by use, a serious turn, a keep
decision; ended by a disposal decision), and the records under legal hold are listed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from incidents.application.disclosures import CloseRequest
from incidents.application.retention import DisposeOfRecord, KeepRecord, LiftHold, PlaceHold
from incidents.application.records import uk_today
from incidents.domain.acting import recorded_as_of
from incidents.domain.retention import years_after
from incidents.projections.action_queue import ActionQueue, uk_day_start
from incidents.projections.action_queue.postgres import PostgresActionQueueView
from incidents.projections.action_queue.sqlite import SQLiteActionQueueView

from .view_histories import governors, managers, receive, report, respond, runner_of

VIEWS = {"sqlite": SQLiteActionQueueView, "postgres": PostgresActionQueueView}
runner = runner_of(ActionQueue, VIEWS)
GOVERNANCE = ("governance",)


def reviews(view, at, roles=GOVERNANCE):
    return {i.incident_id: i for i in view.due("A81001", at, limit=100, roles=roles) if i.action == "retention_review"}


def test_reviews_appear_when_due_and_holds_are_listed(opened, runner):
    log = opened.log
    manager, governance = managers(log)["A81001"], governors(log)["A81001"]
    view = runner.view
    now = datetime.now(timezone.utc)
    happened = now - timedelta(days=3)
    plain = report(log, manager, "filming", happened)
    serious = report(log, manager, "filming", happened)
    police = respond(log, manager, serious.id, "PoliceCalled", now - timedelta(days=2), reference="CAD 1")
    request = receive(log, governance, "subject_access", uk_today())
    closed = log.close_request(CloseRequest(request_id=request.id, note="Withdrawn"), governance)
    log.place_hold(PlaceHold(record_id=plain.id, reason="claim", text="Letter of claim"), governance)
    held = log.place_hold(PlaceHold(record_id=request.id, reason="complaint", text="Complaint 12"), governance)
    runner.wait(held.notification_id, timeout=10)

    # Nothing is due now, nor for a manager ever; governance sees each from its own day.
    assert reviews(view, now) == {} and reviews(view, now + timedelta(days=365 * 30), roles=("manager",)) == {}
    due_plain = uk_day_start(years_after(happened, 10))
    police_at = log.repository.get(serious.id).modified_on
    due_serious = uk_day_start(years_after(police_at, 20))
    closed_at = log.repository.get(request.id).modified_on
    due_request = uk_day_start(years_after(closed_at, 3))
    assert set(reviews(view, due_request)) == {request.id}
    assert set(reviews(view, due_plain)) == {request.id, plain.id}
    assert set(reviews(view, due_serious - timedelta(seconds=1))) == {request.id, plain.id}
    every = reviews(view, due_serious)
    assert {i: (r.due_at, r.kind) for i, r in every.items()} == {
        plain.id: (due_plain, "filming"), serious.id: (due_serious, "filming"), request.id: (due_request, "disclosure")
    }
    assert every[plain.id].detail == "Under legal hold: a claim" and every[serious.id].detail == ""
    assert [(h.record_id, h.reason, h.reason_label, h.ref) for h in view.held("A81001")] == [
        (plain.id, "claim", "A claim", log.repository.get(plain.id).ref), (request.id, "complaint", "A complaint", log.repository.get(request.id).ref)
    ]
    assert all(h.ref for h in view.held("A81001"))
    # The review queue: by review day, with references and holds.
    assert [(r.record_id, r.ref, r.due_at, r.hold_reason) for r in view.reviews_due("A81001", due_serious)] == [
        (request.id, log.repository.get(request.id).ref, due_request, "complaint"),
        (plain.id, log.repository.get(plain.id).ref, due_plain, "claim"),
        (serious.id, log.repository.get(serious.id).ref, due_serious, ""),
    ]
    assert view.held("B82002") == [] and police and closed

    lifted = log.lift_hold(LiftHold(record_id=plain.id, reason="Claim withdrawn"), governance)
    runner.wait(lifted.notification_id, timeout=10)
    assert [h.record_id for h in view.held("A81001")] == [request.id]
    assert reviews(view, due_serious)[plain.id].detail == ""


def test_decisions_move_or_end_the_review(opened, runner):
    log = opened.log
    manager, governance = managers(log)["A81001"], governors(log)["A81001"]
    view = runner.view
    then = datetime.now(timezone.utc) - timedelta(days=365 * 11)
    with recorded_as_of(then + timedelta(hours=1)):
        kept = report(log, manager, "recording", then)
        disposed = report(log, manager, "filming", then)
    now = datetime.now(timezone.utc)
    runner.wait(log.recorder.max_notification_id(), timeout=10)
    assert set(reviews(view, now)) == {kept.id, disposed.id}

    review_on = uk_today() + timedelta(days=400)
    log.keep_record(KeepRecord(record_id=kept.id, review_on=review_on, reason="A complaint is expected"), governance)
    done = log.dispose_of_record(DisposeOfRecord(record_id=disposed.id, reason="Past its period", authorised_by="Dr Shah"), governance)
    runner.wait(done.notification_id, timeout=10)
    assert reviews(view, now) == {}
    later = reviews(view, now + timedelta(days=401))
    assert set(later) == {kept.id} and later[kept.id].due_at == uk_day_start(review_on)
    assert reviews(view, now + timedelta(days=365 * 30)).keys() == {kept.id}


def test_a_record_given_its_reference_later_is_listed_by_it(opened, runner):
    """Incidents logged before there were short references get theirs when the service starts."""
    from incidents.domain.acting import acting_as
    from incidents.domain.filming import FilmingIncident

    log = opened.log
    governance = governors(log)["A81001"]
    with acting_as("old.process", "Old process"):
        old = FilmingIncident.report(
            practice="A81001", submission_key="before-references", note="", ref="",
            occurred_at=datetime.now(timezone.utc) - timedelta(days=1), area="waiting_area", filmer="patient", people_captured="staff", children_present="no",
        )
    log.save(old)
    held = log.place_hold(PlaceHold(record_id=old.id, reason="police", text="Police request 77"), governance)
    runner.wait(held.notification_id, timeout=10)
    assert [h.ref for h in runner.view.held("A81001")] == [""]
    assert log.give_missing_references() == 1
    runner.wait(log.recorder.max_notification_id(), timeout=10)
    assert [h.ref for h in runner.view.held("A81001")] == [log.repository.get(old.id).ref] and log.repository.get(old.id).ref.startswith("F-")
