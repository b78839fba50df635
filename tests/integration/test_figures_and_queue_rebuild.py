"""`incidents projections rebuild` (the product's rebuild, on SQLite and PostgreSQL) gives the
dashboard figures and the action queue exactly as the projections built them live."""

from __future__ import annotations

from datetime import datetime, timezone

from incidents.projections.rebuild import rebuild
from incidents.projections.runner import open_views, start_projections

from .test_action_queue_contract import every_item
from .test_figures_view_contract import every_figure
from .view_histories import managers, play

HISTORY = [
    ("report", "recording", "A81001", 40), ("report", "filming", "A81001", 400), ("report", "filming", "B82002", 3),
    ("respond", 0, 1, 30), ("respond", 0, 1, 20), ("respond", 1, 2, 300), ("respond", 2, 2, 1),
    ("correct", 1, True, 200), ("correct", 0, False, 0), ("review", 2), ("close", 0, 1), ("reopen", 0),
    ("respond", 0, 2, 0), ("close", 0, 0), ("close", 1, 1), ("reopen", 1), ("respond", 1, 3, 0),
    ("account", "A81001"), ("note", 2), ("report", "recording", "A81001", 0), ("respond", 3, 3, 0),
]


def test_the_rebuilt_figures_and_queue_equal_the_live_ones(opened):  # noqa: F811
    log = opened.log
    projections = start_projections(opened.store, opened.env)
    try:
        play(log, managers(log), HISTORY)
        assert projections.wait(log.recorder.max_notification_id(), timeout=20)
        now = datetime.now(timezone.utc)
        live = every_figure(projections.view("dashboard_figures")), every_item(projections.view("action_queue"), now)
    finally:
        projections.stop()
    count = rebuild(opened.store, opened.env, ["dashboard_figures", "action_queue"], lambda position, last: None)
    assert count == log.recorder.max_notification_id()
    rebuilt = open_views(opened.store, opened.env)
    assert (every_figure(rebuilt.view("dashboard_figures")), every_item(rebuilt.view("action_queue"), now)) == live
    assert live[0][0][0].months[-1].incidents_by_kind["recording"] >= 1  # the history reached the views
