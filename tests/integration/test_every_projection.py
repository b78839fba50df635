"""One runner feeds every view (EveryProjection), on a SQLite file and on PostgreSQL: each view
stays exactly-once on its own position, and a view that fails stops alone."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
from eventsourcing.persistence import OperationalError

from incidents.application import commands as c
from incidents.application.records import uk_today
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import ProjectionFailed, Projections, start_projections
from tests.integration.test_summary_view_contract import actor_in, report


def respond(log, actor, incident_id, response="PolicyExplained"):
    return log.respond(
        c.RecordResponse(incident_id=incident_id, submission_key=uuid.uuid4().hex, response=response, occurred_at=datetime.now(timezone.utc)),
        actor,
    )


def responses_this_month(projections: Projections) -> int:
    return projections.view("dashboard_figures").figures("A81001", uk_today()).months[-1].responses.get("PolicyExplained", 0)


def test_views_at_different_positions_each_resume_from_their_own(opened):
    log = opened.log
    manager = actor_in(log, "A81001")
    first = start_projections(opened.store, opened.env)
    saved = report(log, manager)
    done = respond(log, manager, saved.id)
    assert first.wait(done.notification_id, timeout=10)
    first.stop()
    for _ in range(2):
        respond(log, manager, saved.id)
    # The figures are rebuilt up to here; the summaries stay two responses behind.
    rebuild(opened.store, opened.env, ["dashboard_figures"], lambda position, last: None)
    done = respond(log, manager, saved.id)
    second = start_projections(opened.store, opened.env)
    try:
        assert second.wait(done.notification_id, timeout=10)
        assert second.summaries.get("A81001", saved.id).responses == 4
        assert responses_this_month(second) == 4
        assert second.stopped() == []
    finally:
        second.stop()


def test_a_view_that_fails_stops_alone_and_catches_up_when_started_again(opened):
    log = opened.log
    manager = actor_in(log, "A81001")
    first = start_projections(opened.store, opened.env)
    saved = report(log, manager)
    assert first.wait(saved.notification_id, timeout=10)

    def broken(*args, **kwargs):  # its database's failure, not the event's (which is set aside)
        raise OperationalError("disk I/O error")

    first.view("dashboard_figures").fold.response_recorded = broken
    try:
        done = respond(log, manager, saved.id)
        others = Projections({name: view for name, view in first.views.items() if name != "dashboard_figures"})
        assert others.wait(done.notification_id, timeout=10)
        assert first.summaries.get("A81001", saved.id).responses == 1
        assert first.stopped() == ["dashboard_figures"]
        assert not first.wait(done.notification_id, timeout=0.3)
        with pytest.raises(ProjectionFailed, match="dashboard_figures"):
            first.run_forever()  # how the worker learns of it, and exits
    finally:
        first.stop()
    second = start_projections(opened.store, opened.env)
    try:
        assert second.wait(done.notification_id, timeout=10)
        assert responses_this_month(second) == 1
        assert second.summaries.get("A81001", saved.id).responses == 1
    finally:
        second.stop()


def test_a_page_waiting_for_the_views_hurries_them_past_their_read_interval(opened, monkeypatch):
    from incidents import sqlite_subscription

    monkeypatch.setattr(sqlite_subscription, "MIN_READ_INTERVAL_SECONDS", 30.0)
    log = opened.log
    manager = actor_in(log, "A81001")
    projections = start_projections(opened.store, opened.env)
    try:
        first = report(log, manager)
        assert projections.wait(first.notification_id, timeout=10)  # a lone write is read at once
        second = report(log, manager)  # just after a read: on SQLite, due 30 s later
        started = time.monotonic()
        assert projections.wait(second.notification_id, timeout=10)
        assert time.monotonic() - started < 5
        assert projections.summaries.get("A81001", second.id) is not None
    finally:
        projections.stop()
