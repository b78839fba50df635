"""A rebuild split between processes (side_by_side.py) builds what one process builds, and a
group that fails fails the whole rebuild, leaving the live views as they were (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incidents.projections import rebuild as rebuild_module
from incidents.projections.catalogue import spec_named
from incidents.projections.rebuild import rebuild
from incidents.projections.runner import open_views, start_projections

from .test_action_queue_contract import every_item
from .test_figures_and_queue_rebuild import HISTORY
from .test_figures_view_contract import every_figure
from .view_histories import PRACTICES, managers, play

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


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
