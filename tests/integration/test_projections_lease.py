"""The projections lease on PostgreSQL (projections/running/locks.py): one holder at a time, taken
over once it lapses, fenced writes for a holder that lost it, and what the app reads of it."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.rows import dict_row

from incidents.projections.running.locks import Behind, LeaseLost, PostgresProjectionsLock, WorkerWatch, RENEW_SECONDS
from incidents.projections.running.locks import LockHeld
from incidents.projections.running.runner import Projections


def env_of(url: str) -> dict[str, str]:
    return {"POSTGRES_DBNAME": urlsplit(url).path.lstrip("/")}


class RecordingView:
    def __init__(self) -> None:
        self.written: list[int] = []

    def _insert_tracking(self, curs, tracking) -> None:
        self.written.append(tracking)


def test_a_second_holder_is_refused_until_the_lease_lapses_then_the_first_is_fenced(postgres_url):
    first, second = PostgresProjectionsLock.from_env(env_of(postgres_url)), PostgresProjectionsLock.from_env(env_of(postgres_url))
    first.acquire("the projections")
    view = RecordingView()
    first.fence_writes_of(view)
    try:
        with pytest.raises(LockHeld) as held:
            second.acquire("the projections")
        assert held.value.holder.startswith("the projections (process")
        first._stopping.set()  # frozen: it renews no more, but its session lives on
        time.sleep(RENEW_SECONDS * 1.5)
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute("UPDATE incidents_projections_lease SET expires_at = now() - interval '1 second'")
        second.acquire("the projections")
        with psycopg.connect(postgres_url, row_factory=dict_row) as connection, connection.transaction():
            with pytest.raises(LeaseLost):
                view._insert_tracking(connection.cursor(), 7)
        assert view.written == []  # the old holder's write went no further than the check
        with pytest.raises(LeaseLost):
            first.check()
    finally:
        second.release()
        first.release()


def test_the_app_reads_a_worker_whose_views_lag_and_one_that_is_gone(postgres_url):
    watch = WorkerWatch.from_env(env_of(postgres_url))
    projections = Projections({}, worker=watch)
    try:
        assert projections.worker_trouble(15)["status"] == "no projections worker"  # never seen
        lease = PostgresProjectionsLock.from_env(env_of(postgres_url))
        lease.report = lambda: ({"incident_summaries": 40}, 30.0)
        lease.acquire("the projections")
        time.sleep(RENEW_SECONDS * 1.6)
        watch._seen = None
        trouble = projections.worker_trouble(15)
        assert trouble["status"] == "views behind" and trouble["positions"] == {"incident_summaries": 40}
        assert projections.someone_projects()
        lease.release()
        watch._seen = None
        assert not projections.someone_projects()  # a stopped worker ends its lease: nobody to wait for
    finally:
        watch.close()


def test_how_long_the_views_have_lacked_an_event_of_the_store():
    behind = Behind()
    assert behind.seconds(latest=5, slowest=5) == 0.0
    behind.seconds(latest=8, slowest=5)
    time.sleep(0.2)
    assert behind.seconds(latest=9, slowest=6) >= 0.2  # still lacks 7 and 8, seen 0.2 s ago
    assert behind.seconds(latest=9, slowest=8) < 0.2  # has 8 now: lacks only 9, seen just now
    assert behind.seconds(latest=9, slowest=9) == 0.0
