"""`incidents projections rebuild` (the product's rebuild, on SQLite and PostgreSQL) gives every
view exactly as the projections built it live: in one process, or split between processes
(side_by_side.py), or a few views named alone; and a group of views that fails fails the whole
rebuild, leaving the live views as they were."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incidents.application.retention import CarryOutDisposal
from incidents.domain.retention import RecordRetention
from incidents.projections.running import rebuild as rebuild_module
from incidents.projections.catalogue import spec_named
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views, start_projections

from .test_action_queue_contract import every_item
from .test_figures_view_contract import every_figure
from .view_histories import PRACTICES, governors, managers, play

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
HISTORY = [
    ("report", "recording", "A81001", 40), ("report", "filming", "A81001", 400), ("report", "filming", "B82002", 3),
    ("respond", 0, 1, 30), ("respond", 0, 1, 20), ("respond", 1, 2, 300), ("respond", 2, 2, 1),
    ("correct", 1, True, 200), ("correct", 0, False, 0), ("review", 2), ("close", 0, 1), ("reopen", 0),
    ("respond", 0, 2, 0), ("close", 0, 0), ("close", 1, 1), ("reopen", 1), ("respond", 1, 3, 0),
    ("account", "A81001"), ("note", 2), ("report", "recording", "A81001", 0), ("respond", 3, 3, 0),
]


def everything(views, now):
    summaries = [views.summaries.reported_between(p, EPOCH, now + timedelta(days=1), limit=1000) for p in PRACTICES]
    return summaries, every_figure(views.view("dashboard_figures")), every_item(views.view("action_queue"), now)


@pytest.fixture
def played(opened):
    log = opened.log
    projections = start_projections(opened.store, opened.env)
    try:
        play(log, managers(log), HISTORY)
        assert projections.wait(log.recorder.max_notification_id(), timeout=20)
        now = datetime.now(timezone.utc)
        live = everything(projections, now)
    finally:
        projections.stop()
    return opened, live, now


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_rebuild_in_one_two_or_three_processes_builds_what_was_built_live(played, workers, monkeypatch):
    opened, live, now = played
    monkeypatch.setattr(rebuild_module, "workers_here", lambda: workers)
    count = rebuild(opened.store, opened.env, [], lambda position, last: None)
    assert count == opened.log.recorder.max_notification_id()
    assert everything(open_views(opened.store, opened.env), now) == live
    assert live[0][0]  # the history reached the views


def test_views_named_alone_are_rebuilt_alone(played):
    opened, live, now = played
    count = rebuild(opened.store, opened.env, ["dashboard_figures", "action_queue"], lambda position, last: None)
    assert count == opened.log.recorder.max_notification_id()
    assert everything(open_views(opened.store, opened.env), now)[1:] == live[1:]
    assert live[1][0][0].months[-1].incidents_by_kind["recording"] >= 1  # the history reached the figures


def test_a_group_that_fails_fails_the_rebuild_and_the_live_views_stay(played, monkeypatch):
    opened, live, now = played
    monkeypatch.setattr(rebuild_module, "workers_here", lambda: 2)
    spec = spec_named("action_queue")
    view_class = spec.sqlite_view if opened.store.kind == "sqlite" else spec.postgres_view

    def broken(self):
        raise OSError("the disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(view_class, "start_rebuilding", broken)
        with pytest.raises(OSError, match="the disk is full"):
            rebuild(opened.store, opened.env, [], lambda position, last: None)
    assert everything(open_views(opened.store, opened.env), now) == live
    rebuild(opened.store, opened.env, [], lambda position, last: None)  # the lock is free, nothing left behind in the way
    assert everything(open_views(opened.store, opened.env), now) == live


def test_after_a_disposal_the_live_views_are_what_a_rebuild_builds(opened):
    """A rebuild cannot read a disposed record's events: the live views, which counted it, take
    it off when its disposal is carried out (its responses and close included), so both agree."""
    log = opened.log
    projections = start_projections(opened.store, opened.env)
    try:
        ids = play(log, managers(log), HISTORY)
        before = everything(projections, datetime.now(timezone.utc)) if projections.wait(log.recorder.max_notification_id(), timeout=20) else None
        governance = governors(log)["A81001"]
        with governance.acting():  # decided as a review would, without waiting the years of its period
            retention = RecordRetention(practice="A81001", record_id=ids[0], record_kind="recording")
            retention.trigger_event(RecordRetention.DisposalDecided, record_id=ids[0], reason="Past its period", authorised_by="Dr Shah")
        log.save(retention)
        log.carry_out_disposal(CarryOutDisposal(record_id=ids[0]), governance)
        assert projections.wait(log.recorder.max_notification_id(), timeout=20)
        now = datetime.now(timezone.utc)
        live = everything(projections, now)
    finally:
        projections.stop()
    assert before is not None and live != before  # the disposal changed what the views show
    assert ids[0] not in {s.incident_id for practice in live[0] for s in practice}
    rebuild(opened.store, opened.env, [], lambda position, last: None)
    assert everything(open_views(opened.store, opened.env), now) == live
