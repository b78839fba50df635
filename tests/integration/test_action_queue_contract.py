"""One contract for the action queue view, run on a SQLite file and on PostgreSQL, with the
library's ProjectionRunner and our subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone

import pytest

from incidents.application import commands as c
from incidents.application.disclosures import ExtendRequest
from incidents.application.records import UK
from incidents.domain.dates import months_after
from incidents.domain.disclosure import ExtensionTooLate
from incidents.domain.filming import FILMERS
from incidents.domain.values import months_before
from incidents.projections.action_queue import ActionQueue, Requester
from incidents.projections.action_queue.postgres import PostgresActionQueueView
from incidents.projections.action_queue.sqlite import SQLiteActionQueueView
from incidents.projections.working_days import end_of_day, working_days_deadline

from .view_histories import (
    an_ignored_event_advances_tracking,
    PRACTICES,
    governors,
    history_with_requests,
    managers,
    play,
    live_equals_rebuilt_on_both,
    rebuilt_view,
    receive,
    report,
    respond,
    run_projection,
    runner_of,
    settle,
    stop,
)

VIEWS = {"sqlite": SQLiteActionQueueView, "postgres": PostgresActionQueueView}
runner = runner_of(ActionQueue, VIEWS)


def queue(view, now, practice="A81001"):
    return [(item.incident_id, item.action, item.overdue) for item in view.due(practice, now, limit=50)]


def test_items_come_and_go_with_the_work(opened, runner):
    log = opened.log
    manager = managers(log)["A81001"]
    view = runner.view
    now = datetime.now(timezone.utc)
    recording = report(log, manager, "recording", now - timedelta(days=30))
    filming = report(log, manager, "filming", now - timedelta(days=30))
    asked = now - timedelta(days=20)
    respond(log, manager, recording.id, "CopyRequested", asked)
    sent = now - timedelta(days=10)
    done = respond(log, manager, filming.id, "WarningLetterSent", sent)
    runner.wait(done.notification_id, timeout=10)

    items = {(i.incident_id, i.action): i for i in view.due("A81001", now)}
    review = items[(recording.id, "review")]
    assert review.kind == "recording" and not review.overdue and not review.is_window
    assert review.due_at == working_days_deadline(review.since, 2) and review.due_at > now
    copy = items[(recording.id, "copy")]
    assert (copy.since, copy.due_at, copy.overdue) == (asked, asked + timedelta(days=14), True)
    window = items[(filming.id, "warning_window")]
    assert window.is_window and not window.overdue and window.due_wording == "Window ends on"
    assert window.due_at == months_before(sent, -12) and window.since == sent
    # Overdue first, then by due date; the window (months away) last.
    assert queue(view, now)[0] == (recording.id, "copy", True)
    assert queue(view, now)[-1] == (filming.id, "warning_window", False)
    # Days later the reviews are overdue too; a year later the window has ended: not shown.
    later = now + timedelta(days=400)
    assert {(i, a) for i, a, overdue in queue(view, later) if overdue} == {
        (recording.id, "review"), (filming.id, "review"), (recording.id, "copy")
    }
    assert (filming.id, "warning_window", False) not in queue(view, later)
    assert view.due("B82002", now) == []  # another practice sees none of it

    log.review_incident(c.ReviewIncident(incident_id=recording.id), manager)
    log.close_incident(c.CloseIncident(incident_id=recording.id, outcome="no_further_action"), manager)
    log.close_incident(c.CloseIncident(incident_id=filming.id, outcome="warning_letter"), manager)
    done = log.reopen_incident(c.ReopenIncident(incident_id=recording.id, reason="the patient rang"), manager)
    runner.wait(done.notification_id, timeout=10)
    # Closing ended the reviews and the chase; reopening brought the chase back, as it was.
    # The warning still stands after the close.
    assert queue(view, now) == [(recording.id, "copy", True), (filming.id, "warning_window", False)]
    assert view.due("A81001", now)[0].due_at == asked + timedelta(days=14)

    respond(log, manager, recording.id, "CopyReceived", now)
    log.reopen_incident(c.ReopenIncident(incident_id=filming.id, reason="filming again"), manager)
    done = respond(log, manager, filming.id, "RemovalRequested", now)
    runner.wait(done.notification_id, timeout=10)
    assert queue(view, now) == []


def test_an_open_incident_is_quiet_from_its_last_activity_until_it_is_closed(opened, runner):
    log = opened.log
    manager = managers(log)["A81001"]
    view = runner.view
    now = datetime.now(timezone.utc)
    first = report(log, manager, "filming", now - timedelta(days=3))
    second = report(log, manager, "recording", now - timedelta(days=2))
    done = log.add_note(c.AddNote(incident_id=first.id, submission_key=uuid.uuid4().hex, text="Rang the patient back"), manager)
    runner.wait(done.notification_id, timeout=10)
    later = datetime.now(timezone.utc) + timedelta(seconds=1)
    quiet = view.idle("A81001", later)
    # Quietest first: the second incident was reported after the first, but the note touched the first since.
    assert [i.incident_id for i in quiet] == [second.id, first.id]
    assert quiet[1].idle_since == log.repository.get(first.id).modified_on and quiet[1].kind == "filming"
    assert view.idle("A81001", quiet[0].idle_since - timedelta(microseconds=1)) == []
    assert view.idle("B82002", later) == []

    log.close_incident(c.CloseIncident(incident_id=first.id, outcome="no_further_action"), manager)
    done = log.add_note(c.AddNote(incident_id=first.id, submission_key=uuid.uuid4().hex, text="A note after closing"), manager)
    runner.wait(done.notification_id, timeout=10)
    assert [i.incident_id for i in view.idle("A81001", later + timedelta(days=1))] == [second.id]

    done = log.reopen_incident(c.ReopenIncident(incident_id=first.id, reason="the patient rang"), manager)
    runner.wait(done.notification_id, timeout=10)
    reopened = view.idle("A81001", later + timedelta(days=1))
    assert [i.incident_id for i in reopened] == [second.id, first.id]
    assert reopened[1].idle_since == log.repository.get(first.id).modified_on


def test_a_warning_letter_says_when_and_to_whom_it_was_given(opened, runner):
    log = opened.log
    manager = managers(log)["A81001"]
    now = datetime.now(timezone.utc)
    filming = report(log, manager, "filming", now - timedelta(days=9))
    sent = now - timedelta(days=8)
    done = respond(log, manager, filming.id, "WarningLetterSent", sent, reference="WL/7")
    runner.wait(done.notification_id, timeout=10)
    window = next(i for i in runner.view.due("A81001", now) if i.is_window)
    filmer = FILMERS[log.repository.get(filming.id).filmer].lower()
    assert (window.since, window.detail) == (sent, f"Given to: {filmer}, letter reference WL/7")


def test_asking_again_restarts_the_chase_and_a_refusal_ends_it(opened, runner):
    log = opened.log
    manager = managers(log)["A81001"]
    now = datetime.now(timezone.utc)
    recording = report(log, manager, "recording", now - timedelta(days=30))
    first = now - timedelta(days=20)
    respond(log, manager, recording.id, "CopyRequested", first)
    again = now - timedelta(days=2)
    done = respond(log, manager, recording.id, "CopyRequested", again)
    runner.wait(done.notification_id, timeout=10)
    copy = [i for i in runner.view.due("A81001", now) if i.action == "copy"]
    assert [(i.since, i.due_at, i.overdue) for i in copy] == [(first, again + timedelta(days=14), False)]
    done = respond(log, manager, recording.id, "PatientDeclinedToShare", now)
    runner.wait(done.notification_id, timeout=10)
    assert [i.action for i in runner.view.due("A81001", now)] == ["review"]


test_an_ignored_event_advances_tracking = an_ignored_event_advances_tracking


def test_a_restart_in_the_middle_resumes_without_double_counting(opened):
    log = opened.log
    manager = managers(log)["A81001"]
    now = datetime.now(timezone.utc)
    first = run_projection(opened, ActionQueue, VIEWS)
    one = report(log, manager, "recording", now - timedelta(days=3))
    done = respond(log, manager, one.id, "CopyRequested", now - timedelta(days=1))
    first.wait(done.notification_id, timeout=10)
    stop(first)
    two = report(log, manager, "filming", now - timedelta(days=1))
    log.review_incident(c.ReviewIncident(incident_id=one.id), manager)
    done = respond(log, manager, one.id, "CopyRequested", now)
    second = run_projection(opened, ActionQueue, VIEWS)
    try:
        second.wait(done.notification_id, timeout=10)
        items = sorted((i.incident_id == one.id, i.action) for i in second.view.due("A81001", now))
        assert items == [(False, "review"), (True, "copy")]
        assert second.view.due("A81001", now)[-1].due_at == now + timedelta(days=14)
        assert two.id in {i.incident_id for i in second.view.due("A81001", now)}
    finally:
        stop(second)


def test_a_disclosure_request_is_due_by_the_end_of_its_due_day_until_it_is_answered(opened, runner):
    log = opened.log
    governance, manager = governors(log), managers(log)["A81001"]
    view = runner.view
    today = datetime.now(UK).date()
    incident = report(log, manager, "recording", datetime.now(timezone.utc) - timedelta(days=2))
    late_received = today - timedelta(days=40)
    late = receive(log, governance["A81001"], "subject_access", late_received, reference="SAR/7")
    gmc = receive(log, governance["A81001"], "gmc", today - timedelta(days=3), today + timedelta(days=5), reference="FTP/12")
    withdrawn = receive(log, governance["A81001"], "solicitor", today, reference="LAW/3")
    court = receive(log, governance["B82002"], "court", today, today + timedelta(days=1), reference="CO/9")
    runner.wait(court.notification_id, timeout=10)

    now = datetime.now(timezone.utc)
    requests = {i.incident_id: i for i in view.due("A81001", now) if i.action == "disclosure_due"}
    assert set(requests) == {late.id, gmc.id, withdrawn.id}  # B82002's court order is not here
    item = requests[gmc.id]
    assert (item.kind, item.requester, item.label, item.due_wording) == (
        "disclosure", Requester("gmc", "FTP/12"), "Respond to the disclosure request", "Respond by"
    )
    assert item.due_at == end_of_day(today + timedelta(days=5)) and not item.overdue
    assert item.since == datetime.combine(today - timedelta(days=3), time(0), tzinfo=UK)
    # One calendar month from receipt, 40 days ago: overdue, so first in the queue.
    assert requests[late.id].due_at == end_of_day(months_after(late_received, 1))
    assert queue(view, now)[0] == (late.id, "disclosure_due", True)
    # Due by the end of the day: overdue only from the next day, UK time.
    last_moment = end_of_day(today + timedelta(days=5))
    assert not [i for i in view.due("A81001", last_moment) if i.incident_id == gmc.id][0].overdue
    assert [i for i in view.due("A81001", last_moment + timedelta(seconds=1)) if i.incident_id == gmc.id][0].overdue
    # Only governance sees requests; a manager sees the incident's review, and reception nothing.
    assert {i.action for i in view.due("A81001", now, roles=("governance",))} == {"review", "disclosure_due"}
    assert {i.action for i in view.due("A81001", now, roles=("manager",))} == {"review"}
    assert {i.action for i in view.due("A81001", now, roles=("manager", "governance"))} == {"review", "disclosure_due"}
    assert view.due("A81001", now, roles=("reception",)) == []
    assert [i.incident_id for i in view.due("B82002", now)] == [court.id]

    # Extended: moved; it still arose when the request was received. A subject access request
    # past its first month can no longer be extended (the ICO's rule), so it stays overdue.
    with pytest.raises(ExtensionTooLate):
        log.extend_request(ExtendRequest(request_id=late.id, due_on=today + timedelta(days=10), reason="Complex"), governance["A81001"])
    done = log.extend_request(ExtendRequest(request_id=gmc.id, due_on=today + timedelta(days=20), reason="Agreed"), governance["A81001"])
    runner.wait(done.notification_id, timeout=10)
    requests = {i.incident_id: i for i in view.due("A81001", now) if i.action == "disclosure_due"}
    assert requests[late.id].overdue
    assert requests[gmc.id].due_at == end_of_day(today + timedelta(days=20)) and requests[gmc.id].since == item.since
    assert queue(view, now)[-2:] == [(gmc.id, "disclosure_due", False), (withdrawn.id, "disclosure_due", False)]

    # Disclosed, refused or closed: gone (and closing a refused request changes nothing).
    settle(log, governance["A81001"], late.id, "disclose", incident.id)
    settle(log, governance["A81001"], gmc.id, "refuse")
    settle(log, governance["A81001"], gmc.id, "close")
    done = settle(log, governance["A81001"], withdrawn.id, "close")
    runner.wait(done.notification_id, timeout=10)
    assert queue(view, now) == [(incident.id, "review", False)]
    assert [i.incident_id for i in view.due("B82002", now)] == [court.id]


def every_item(view, now: datetime):
    return [
        (view.due(practice, at, limit=1000), view.idle(practice, at, limit=1000), view.held(practice))
        # 25 years on, every record's retention review is due (a serious incident's too).
        for practice in PRACTICES for at in (now, now + timedelta(days=20), now + timedelta(days=400), now + timedelta(days=365 * 25))
    ]


def live_equals_rebuilt(opened, steps, rebuilt_database: str) -> None:
    log = opened.log
    runner = run_projection(opened, ActionQueue, VIEWS)
    governance = governors(log)
    try:
        incidents = play(log, managers(log), steps, governance)
        last = log.recorder.max_notification_id()
        runner.wait(last, timeout=20)
        now = datetime.now(timezone.utc)
        live = every_item(runner.view, now)
        items = [i for practice in PRACTICES for i in runner.view.due(practice, now, 1000)]
    finally:
        stop(runner)
    rebuilt = rebuilt_view(opened, ActionQueue, VIEWS, rebuilt_database)
    assert every_item(rebuilt, now) == live
    assert rebuilt.max_tracking_id(log.name) == last
    # Both agree with the aggregates on what is still to be reviewed, and on each open request's due date.
    assert {i.incident_id for i in items if i.action == "review"} == {i for i in incidents if not log.repository.get(i).reviewed}
    open_requests = {
        (r.request_id, end_of_day(r.due_on))
        for practice in PRACTICES
        for r in log.requests(governance[practice])
        if r.status == "open"
    }
    assert {(i.incident_id, i.due_at) for i in items if i.action == "disclosure_due"} == open_requests
    # And on which incidents are open, each quiet since its last event.
    quiet = {i.incident_id: i.idle_since for practice in PRACTICES for i in rebuilt.idle(practice, now, 1000)}
    assert set(quiet) == {i for i in incidents if log.repository.get(i).status == "open"}
    assert all(quiet[i] == log.repository.get(i).modified_on for i in quiet)


test_a_view_built_live_equals_the_same_view_rebuilt = live_equals_rebuilt_on_both(history_with_requests, live_equals_rebuilt)


def test_a_warning_letter_names_the_patient_by_the_end_of_the_nhs_number_only_and_follows_corrections(opened, runner):
    log = opened.log
    manager = managers(log)["A81001"]
    now = datetime.now(timezone.utc)
    filming = log.report_filming(
        c.ReportFilming(
            submission_key=uuid.uuid4().hex, occurred_at=now - timedelta(days=9), area="waiting_area", filmer="patient",
            filmer_nhs_number="943 476 5919", people_captured="staff", children_present="no",
        ),
        manager,
    )
    done = respond(log, manager, filming.id, "WarningLetterSent", now - timedelta(days=8), reference="WL/7")
    runner.wait(done.notification_id, timeout=10)
    window = next(i for i in runner.view.due("A81001", now) if i.is_window)
    assert window.detail == "Given to: a patient (NHS number ending 919), letter reference WL/7"
    for field, value in (("filmer", "visitor"), ("filmer_description", "Man in a grey hoodie, 943 476 5919")):
        done = log.correct(c.CorrectIncident(incident_id=filming.id, field=field, new_value=value, reason="It was a visitor"), manager)
    runner.wait(done.notification_id, timeout=10)
    window = next(i for i in runner.view.due("A81001", now) if i.is_window)
    assert window.detail == "Given to: a visitor (Man in a grey hoodie), letter reference WL/7"
