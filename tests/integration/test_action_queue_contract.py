"""One contract for the action queue view, run on a SQLite file and on PostgreSQL, with the
library's ProjectionRunner and our subscriptions."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.domain.values import months_before
from incidents.projections.action_queue import ActionQueue
from incidents.projections.action_queue_postgres import PostgresActionQueueView
from incidents.projections.action_queue_sqlite import SQLiteActionQueueView
from incidents.projections.working_days import working_days_deadline
from incidents.settings import Settings

from .view_histories import (
    PRACTICES,
    history,
    managers,
    play,
    postgres_database,
    postgres_url,
    rebuilt_view,
    report,
    respond,
    run_projection,
    stop,
)

VIEWS = {"sqlite": SQLiteActionQueueView, "postgres": PostgresActionQueueView}


@pytest.fixture(params=["sqlite", "postgres"])
def opened(request, tmp_path):
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path)
    else:
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
    opened = open_log(settings)
    yield opened
    opened.log.close()


def queue(view, now, practice="A81001"):
    return [(item.incident_id, item.action, item.overdue) for item in view.due(practice, now, limit=50)]


def test_items_come_and_go_with_the_work(opened):
    log = opened.log
    manager = managers(log)["A81001"]
    runner = run_projection(opened, ActionQueue, VIEWS)
    view = runner.view
    try:
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
    finally:
        stop(runner)


def test_asking_again_restarts_the_chase_and_a_refusal_ends_it(opened):
    log = opened.log
    manager = managers(log)["A81001"]
    runner = run_projection(opened, ActionQueue, VIEWS)
    try:
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
    finally:
        stop(runner)


def test_an_ignored_event_advances_tracking(opened):
    log = opened.log
    runner = run_projection(opened, ActionQueue, VIEWS)
    try:
        managers(log)  # staff account events: not incidents, still tracked
        last = log.recorder.max_notification_id()
        runner.wait(last, timeout=10)
        assert runner.view.max_tracking_id(log.name) == last
    finally:
        stop(runner)


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


def every_item(view, now: datetime):
    return [view.due(practice, at, limit=1000) for practice in PRACTICES for at in (now, now + timedelta(days=20), now + timedelta(days=400))]


def live_equals_rebuilt(opened, steps, rebuilt_database: str) -> None:
    log = opened.log
    runner = run_projection(opened, ActionQueue, VIEWS)
    try:
        incidents = play(log, managers(log), steps)
        last = log.recorder.max_notification_id()
        runner.wait(last, timeout=20)
        now = datetime.now(timezone.utc)
        live = every_item(runner.view, now)
        reviews = {i.incident_id for i in runner.view.due("A81001", datetime.now(timezone.utc), 1000) + runner.view.due("B82002", datetime.now(timezone.utc), 1000) if i.action == "review"}
    finally:
        stop(runner)
    rebuilt = rebuilt_view(opened, ActionQueue, VIEWS, rebuilt_database)
    assert every_item(rebuilt, now) == live
    assert rebuilt.max_tracking_id(log.name) == last
    # Both agree with the aggregates on what is still to be reviewed.
    assert reviews == {i for i in incidents if not log.repository.get(i).reviewed}


@hypothesis_settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=history)
def test_a_view_built_live_equals_the_same_view_rebuilt_on_sqlite(steps):
    with tempfile.TemporaryDirectory() as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        try:
            live_equals_rebuilt(opened, steps, "view-rebuilt.sqlite")
        finally:
            opened.log.close()


@hypothesis_settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=history)
def test_a_view_built_live_equals_the_same_view_rebuilt_on_postgresql(steps):
    with tempfile.TemporaryDirectory() as folder, postgres_database() as events, postgres_database() as rebuilt:
        opened = open_log(Settings(data_dir=Path(folder), database_url=postgres_url(events)))
        try:
            live_equals_rebuilt(opened, steps, rebuilt)
        finally:
            opened.log.close()
