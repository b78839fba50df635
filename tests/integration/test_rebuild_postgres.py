"""Rebuilding the views on PostgreSQL: every view rebuilt equals the view built live; a rebuild
never runs beside live projections (the advisory lock, both ways); and while a rebuild runs, a
reader sees the old view whole, then the new one whole."""

from __future__ import annotations

import random
import threading
from typing import Any

import psycopg
import pytest

from incidents.bootstrap import open_log
from incidents.projections.running import rebuild as rebuild_module
from incidents.projections.catalogue import CATALOGUE
from incidents.projections.running.locks import TABLE
from incidents.projections.running.locks import RebuildRefused
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views, start_projections
from incidents.settings import Settings
from tests.integration.test_summary_rebuild import every_row, managers, play

pytestmark = pytest.mark.usefixtures("postgres_url")


def a_history(seed: int, length: int) -> list[Any]:
    """A random history from the same steps as the SQLite hypothesis test (every kind of event)."""
    rng = random.Random(seed)
    kinds = ["report"] * 6 + ["respond"] * 8 + ["note", "correct", "close", "close", "reopen", "review", "account"]
    steps: list[Any] = []
    for _ in range(length):
        kind = rng.choice(kinds)
        if kind == "report":
            steps.append(("report", rng.choice(["filming", "recording"]), rng.choice(["A81001", "B82002"])))
        elif kind == "respond":
            steps.append(("respond", rng.randint(0, 40), rng.randint(0, 10)))
        elif kind == "account":
            steps.append(("account", rng.choice(["A81001", "B82002"])))
        else:
            steps.append((kind, rng.randint(0, 40)))
    return steps


def view_tables(url: str, events_table: str) -> dict[str, list[tuple]]:
    """Every row of every table in the public schema but the event store's and the projections
    lease (who held it last), sorted."""
    with psycopg.connect(url) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
            if row[0] not in (events_table, TABLE)
        ]
        return {name: sorted(map(repr, connection.execute(f'SELECT * FROM public."{name}"').fetchall())) for name in names}


def view_layout(url: str, events_table: str) -> dict[str, list[tuple]]:
    """The columns (in order, generated ones with their expression) and the indexes of the views'
    tables: a rebuild that makes some of them only at its end must leave them as they were. (Not
    their ordinal numbers: a column dropped and added again leaves a gap in those.)"""
    with psycopg.connect(url) as connection:
        columns = connection.execute(
            "SELECT table_name, column_name, data_type, is_generated, generation_expression "
            "FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> %s ORDER BY table_name, ordinal_position",
            (events_table,),
        ).fetchall()
        indexes = connection.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> %s ORDER BY 1, 2",
            (events_table,),
        ).fetchall()
    return {"columns": columns, "indexes": indexes}


def no_progress(position: int, last: int) -> None:
    pass


@pytest.fixture
def opened(tmp_path, postgres_url):
    opened = open_log(Settings(data_dir=tmp_path, database_url=postgres_url))
    # Small pools: the app's 8 connections per view and per runner's recorder, times every
    # runner, view reader and rebuild here, would crowd a shared server's 100 connections.
    opened.env.update(POSTGRES_POOL_SIZE="2", POSTGRES_MAX_OVERFLOW="2")
    yield opened
    opened.log.close()


def test_every_view_rebuilt_equals_the_view_built_live(opened, postgres_url, monkeypatch):
    monkeypatch.setattr(rebuild_module, "POSTGRES_PAGE_SIZE", 37)  # many pages, one ending mid-incident
    log = opened.log
    projections = start_projections(opened.store, opened.env)
    try:
        play(log, managers(log), a_history(seed=3, length=160))
        assert projections.wait(log.recorder.max_notification_id(), timeout=30)
        live = view_tables(postgres_url, log.recorder.events_table_name)
        live_layout = view_layout(postgres_url, log.recorder.events_table_name)
        live_summaries = every_row(projections.summaries)
    finally:
        projections.stop()
    assert len(live) >= 2 * len(CATALOGUE)  # each view's own tables and its tracking table
    assert len(live["incident_summaries"]) > 20

    count = rebuild(opened.store, opened.env, [], no_progress)

    assert count == log.recorder.max_notification_id()
    assert view_tables(postgres_url, log.recorder.events_table_name) == live
    assert view_layout(postgres_url, log.recorder.events_table_name) == live_layout
    assert any(name == "incident_summaries_search" for _, name, _ in live_layout["indexes"])
    views = open_views(opened.store, opened.env)
    assert every_row(views.summaries) == live_summaries
    for view in views.views.values():
        assert view.max_tracking_id(log.name) == log.recorder.max_notification_id()
    with psycopg.connect(postgres_url) as connection:
        schemas = [row[0] for row in connection.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rebuild_%'")]
    assert schemas == []  # nothing left behind


def test_a_named_view_is_rebuilt_alone(opened, postgres_url):
    log = opened.log
    projections = start_projections(opened.store, opened.env)
    try:
        play(log, managers(log), a_history(seed=5, length=40))
        assert projections.wait(log.recorder.max_notification_id(), timeout=30)
    finally:
        projections.stop()
    before = view_tables(postgres_url, log.recorder.events_table_name)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DELETE FROM incident_summaries")  # damage the one view
    assert view_tables(postgres_url, log.recorder.events_table_name) != before
    rebuild(opened.store, opened.env, ["incident_summaries"], no_progress)
    assert view_tables(postgres_url, log.recorder.events_table_name) == before


def test_a_rebuild_refuses_while_projections_run_and_they_resume_after(opened):
    projections = start_projections(opened.store, opened.env)
    try:
        with pytest.raises(RebuildRefused, match="Stop it first") as refused:
            rebuild(opened.store, opened.env, [], no_progress)
        assert "the projections (process" in str(refused.value)
    finally:
        projections.stop()
    rebuild(opened.store, opened.env, [], no_progress)
    again = start_projections(opened.store, opened.env)
    again.stop()


def test_during_a_rebuild_readers_see_the_old_view_whole_and_projections_cannot_start(opened, monkeypatch):
    monkeypatch.setattr(rebuild_module, "POSTGRES_PAGE_SIZE", 10)
    # Built in this process, so that progress is called for every page and can pause the build
    # (side by side, the parent samples its children's progress and may see a short build only once).
    monkeypatch.setattr(rebuild_module, "workers_here", lambda: 1)
    log = opened.log
    actors = managers(log)
    projections = start_projections(opened.store, opened.env)
    try:
        play(log, actors, a_history(seed=7, length=30))
        assert projections.wait(log.recorder.max_notification_id(), timeout=30)
    finally:
        projections.stop()
    play(log, actors, a_history(seed=8, length=30))  # recorded while no projection runs
    reader = open_views(opened.store, opened.env)
    old = every_row(reader.summaries)
    for _ in range(6):  # often enough for psycopg to prepare the statement server-side
        assert every_row(reader.summaries) == old

    paused, resume = threading.Event(), threading.Event()
    pages: list[int] = []

    def progress(position: int, last: int) -> None:
        pages.append(position)
        if len(pages) == 2:
            paused.set()
            assert resume.wait(30)

    outcome: list[BaseException | int] = []

    def run() -> None:
        try:
            outcome.append(rebuild(opened.store, opened.env, [], progress))
        except BaseException as error:  # reported by the assertions below
            outcome.append(error)

    rebuilding = threading.Thread(target=run)
    rebuilding.start()
    try:
        assert paused.wait(30), outcome
        assert every_row(reader.summaries) == old
        with pytest.raises(RebuildRefused, match="a rebuild of the projections .*Stop it first"):
            start_projections(opened.store, opened.env)
    finally:
        resume.set()
        rebuilding.join(60)
    assert outcome == [log.recorder.max_notification_id()]
    new = every_row(reader.summaries)  # the same reader, after the swap
    assert new != old
    assert reader.summaries.max_tracking_id(log.name) == log.recorder.max_notification_id()
    projections = start_projections(opened.store, opened.env)
    try:
        assert projections.wait(log.recorder.max_notification_id(), timeout=10)
        assert every_row(projections.summaries) == new
    finally:
        projections.stop()
