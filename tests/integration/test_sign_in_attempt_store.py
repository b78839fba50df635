"""The sign-in attempt store on a SQLite file and on PostgreSQL: every count is one atomic upsert
that all app instances (here, several stores on the same file or database) see, and a restart
forgets nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from incidents.web.throttle import PostgresAttemptStore, SignInThrottle, SqliteAttemptStore, attempt_store_for


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request, tmp_path: Path):
    """Opens another store on the same place, as another app instance would."""
    opened = []
    if request.param == "sqlite":
        def make():
            opened.append(SqliteAttemptStore(tmp_path / "sign-in-attempts.sqlite"))
            return opened[-1]
    else:
        url = request.getfixturevalue("postgres_url")

        def make():
            opened.append(PostgresAttemptStore(url))
            return opened[-1]
    yield make
    for store in opened:
        store.close()


def test_counts_from_many_instances_and_threads_are_atomic(open_store):
    stores = [open_store() for _ in range(3)]
    counts: list[int] = []
    start = threading.Barrier(6)

    def add(store) -> None:
        start.wait()
        for _ in range(20):
            counts.append(store.add("user:sue", time.time(), 900)[0])

    threads = [threading.Thread(target=add, args=(stores[n % 3],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 121))
    assert open_store().count("user:sue", time.time(), 900) == 120


def test_a_window_starts_again_once_over(open_store):
    store = open_store()
    now = time.time()
    assert store.add("user:sue", now - 1000, 900) == (1, pytest.approx(now - 1000))
    assert store.add("user:sue", now, 900) == (1, pytest.approx(now))
    assert store.add("user:sue", now, 900)[0] == 2
    store.take_back("user:sue")
    assert store.count("user:sue", now, 900) == 1
    store.clear("user:sue")
    assert store.count("user:sue", now, 900) == 0
    store.add("user:old", now - 1000, 900)
    store.prune(now - 900)
    assert store.add("user:old", now, 900)[0] == 1


def test_a_lock_outlives_a_restart_and_holds_on_every_instance(open_store):
    first = SignInThrottle(open_store(), lock_after=3)
    for _ in range(3):
        first.failed(first.reserve("sue", "10.0.0.1"))
    first.close()
    restarted, other_instance = SignInThrottle(open_store(), lock_after=3), SignInThrottle(open_store(), lock_after=3)
    assert restarted.reserve("sue", "10.0.0.2").refused_for > 0
    assert other_instance.reserve("sue", "10.0.0.3").refused_for > 0


def test_simultaneous_reservations_on_several_instances_admit_no_more_than_the_limit(open_store):
    throttles = [SignInThrottle(open_store(), lock_after=10) for _ in range(3)]
    admitted: list[bool] = []
    start = threading.Barrier(30)

    def attempt(n: int) -> None:
        start.wait()
        admitted.append(throttles[n % 3].reserve("sue", "10.0.0.1").refused_for == 0)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 10


def test_the_sqlite_store_sits_beside_the_events_readable_only_by_its_owner(tmp_path: Path):
    store = attempt_store_for("sqlite", str(tmp_path / "incidents.sqlite"), "")
    store.add("user:sue", time.time(), 900)
    store.close()
    path = tmp_path / "incidents-sign-in-attempts.sqlite"
    assert path.stat().st_mode & 0o777 == 0o600


def test_instances_started_together_on_an_empty_database_all_open(request):
    """CREATE TABLE IF NOT EXISTS run at the same moment by two PostgreSQL sessions fails in one
    (a duplicate type): instances take turns, so none fails to start."""
    import psycopg

    url = request.getfixturevalue("postgres_url")
    failures: list[BaseException] = []
    for _ in range(10):  # the race is narrow: each round starts again on an empty database
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("DROP TABLE IF EXISTS sign_in_attempts")
        start = threading.Barrier(8)
        opened: list[PostgresAttemptStore] = []

        def make() -> None:
            start.wait()
            try:
                opened.append(PostgresAttemptStore(url))
            except BaseException as error:  # noqa: BLE001 - collected for the assertion
                failures.append(error)

        threads = [threading.Thread(target=make) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for store in opened:
            store.close()
    assert failures == []
