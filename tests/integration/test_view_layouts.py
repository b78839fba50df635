"""Each view keeps the layout of the projection that built it: views built by an older layout,
or of unknown age, are rebuilt before the projections start; a new view is not (layouts.py)."""

from __future__ import annotations

import logging

import pytest

from incidents.projections.action_queue import ActionQueue
from incidents.projections.figures import Figures
from incidents.projections.running.layouts import stored_layout
from incidents.projections.running.runner import ViewsOfAnOlderLayout, open_views, rebuild_stale_views, start_projections
from incidents.projections.summaries import IncidentSummaries
from tests.integration.test_every_projection import respond
from tests.integration.test_summary_rebuild import every_row
from tests.integration.test_summary_view_contract import actor_in, report

SUMMARIES = IncidentSummaries.layout


def run_sql(view, statement: str) -> None:
    """A change made behind the projection's back, as an older layout's different rows would be."""
    schema = getattr(view.datastore, "schema", None)
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(statement.format(schema=f'"{schema}".' if schema else ""))


def layouts(opened) -> dict[str, int | None]:
    views = dict(open_views(opened.store, opened.env).views)
    return {name: stored_layout(view, name) for name, view in views.items()}


@pytest.fixture
def history(opened):
    """Some incidents, projected live; the summaries as they were then."""
    log = opened.log
    manager = actor_in(log, "A81001")
    projections = start_projections(opened.store, opened.env)
    try:
        for _ in range(3):
            saved = report(log, manager)
            respond(log, manager, saved.id)
        assert projections.wait(log.recorder.max_notification_id(), timeout=20)
        return every_row(projections.summaries)
    finally:
        projections.stop()


def test_a_new_view_is_given_the_current_layout_and_not_rebuilt(opened, caplog):
    caplog.set_level(logging.WARNING)
    start_projections(opened.store, opened.env).stop()
    assert "Rebuilding" not in caplog.text
    assert layouts(opened) == {"incident_summaries": SUMMARIES, "dashboard_figures": Figures.layout, "action_queue": ActionQueue.layout}


def test_a_view_of_an_older_layout_is_rebuilt_before_its_projection_runs(opened, history, monkeypatch, caplog):
    assert layouts(opened)["incident_summaries"] == SUMMARIES
    views = open_views(opened.store, opened.env)
    run_sql(views.summaries, "DELETE FROM {schema}incident_summaries")  # what the old layout left
    monkeypatch.setattr(IncidentSummaries, "layout", SUMMARIES + 1)
    caplog.set_level(logging.WARNING)

    projections = start_projections(opened.store, opened.env)
    try:
        assert every_row(projections.summaries) == history
    finally:
        projections.stop()
    assert "Rebuilding incident_summaries: built by an older layout" in caplog.text
    assert "dashboard_figures" not in caplog.text
    assert layouts(opened) == {"incident_summaries": SUMMARIES + 1, "dashboard_figures": Figures.layout, "action_queue": ActionQueue.layout}


def test_a_view_with_no_layout_that_has_processed_events_is_rebuilt(opened, history, caplog):
    views = open_views(opened.store, opened.env)
    run_sql(views.view("dashboard_figures"), 'DROP TABLE {schema}"dashboard_figures_layout"')
    caplog.set_level(logging.WARNING)
    start_projections(opened.store, opened.env).stop()
    assert "Rebuilding dashboard_figures: built by an older layout" in caplog.text
    assert layouts(opened)["dashboard_figures"] == Figures.layout


def test_a_process_that_may_not_rebuild_refuses_views_of_an_older_layout(opened, history, monkeypatch):
    monkeypatch.setattr(IncidentSummaries, "layout", SUMMARIES + 1)
    with pytest.raises(ViewsOfAnOlderLayout, match="incident_summaries were built by an older layout"):
        start_projections(opened.store, opened.env, rebuild_stale=False)
    assert layouts(opened)["incident_summaries"] == SUMMARIES
    start_projections(opened.store, opened.env).stop()  # the lock was let go; this one rebuilds
    assert layouts(opened)["incident_summaries"] == SUMMARIES + 1


def test_an_app_rebuilds_them_before_it_opens_its_views_unless_the_projections_run_elsewhere(opened, history, monkeypatch):
    monkeypatch.setattr(IncidentSummaries, "layout", SUMMARIES + 1)
    elsewhere = start_projections(opened.store, opened.env)  # holds the lock (and rebuilt them)
    try:
        monkeypatch.setattr(Figures, "layout", Figures.layout + 1)
        assert rebuild_stale_views(opened.store, opened.env) == []  # the lock is taken: not ours to do
    finally:
        elsewhere.stop()
    assert rebuild_stale_views(opened.store, opened.env) == ["dashboard_figures"]
    assert layouts(opened) == {"incident_summaries": SUMMARIES + 1, "dashboard_figures": Figures.layout, "action_queue": ActionQueue.layout}
    assert rebuild_stale_views(opened.store, opened.env) == []
