"""The connections an app (INCIDENTS_PROJECTIONS=worker) and an `incidents project` worker hold
on PostgreSQL, counted in pg_stat_activity: few at rest, bounded under a burst, released once
idle; and running out of connections is named, with the setting to change."""

from __future__ import annotations

import subprocess
import threading
import time
from contextlib import closing
from urllib.parse import urlparse

import httpx
import psycopg
import pytest

from tests.conftest import BIN, PG_HOST, PG_PORT, Account, sign_in, wait_until
from tests.e2e.test_cli import no_traceback, one_line
from tests.e2e.test_server_restart_and_kill import client_for

pytestmark = pytest.mark.slow
APPS, WORKERS, AT_REST, UNDER_LOAD = 3, 2, 40, 80  # what a deployment must fit in (README: connections)


def connections(database: str) -> dict[str, int]:
    """Connections to the database by process (the pools name theirs "incidents serve (process N)")."""
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        rows = admin.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = %s GROUP BY 1", (database,)
        ).fetchall()
    return {name: count for name, count in rows}


def held_by(counts: dict[str, int], pid: int) -> int:
    return sum(count for name, count in counts.items() if f"process {pid})" in name)


def burst(url: str, account: Account, clients: int = 30, pages: int = 10) -> dict[int, int]:
    statuses: dict[int, int] = {}
    counting = threading.Lock()
    # Signed in one after another: the throttle counts an account's simultaneous attempts before checking them.
    sessions = [httpx.Client(base_url=url, timeout=30) for _ in range(clients)]
    for client in sessions:
        sign_in(client, account)

    def one(client: httpx.Client) -> None:
        try:
            for _ in range(pages):
                status = client.get("/").status_code
                with counting:
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            client.close()

    threads = [threading.Thread(target=one, args=(client,)) for client in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_an_app_and_a_worker_hold_few_connections_and_release_them_when_idle(postgres_url, live_server_factory):
    database = urlparse(postgres_url).path.lstrip("/")
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_DB_IDLE_SECONDS="1")
    account = server.add_account("sue.reception", "reception")
    server.start(healthy=False)  # 503 until a worker is seen
    with open(server.data_dir / "worker.log", "w") as log:
        worker = subprocess.Popen([str(BIN / "incidents"), "project"], env=server.env, stdout=log, stderr=subprocess.STDOUT)
    app_pid = server.process.pid

    def settled() -> tuple[int, int]:
        """Once the pools have shrunk back after starting (or a burst): (app, worker)."""
        deadline, last = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            counts = connections(database)
            now = (held_by(counts, app_pid), held_by(counts, worker.pid))
            if now == last and now[1] > 0:
                return now
            last = now
            time.sleep(3)
        raise AssertionError(f"the connections did not settle: {connections(database)}")

    try:
        app_at_rest, worker_at_rest = settled()
        # An app: one connection for each of its four pools (the events, three views) and one watching the worker.
        assert app_at_rest <= 5 and worker_at_rest <= 8, (app_at_rest, worker_at_rest, connections(database))

        peak = {"app": 0, "worker": 0}
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                counts = connections(database)
                peak["app"] = max(peak["app"], held_by(counts, app_pid))
                peak["worker"] = max(peak["worker"], held_by(counts, worker.pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        statuses = burst(server.url, account)
        done.set()
        watcher.join()
        assert statuses == {200: 300}, statuses
        assert peak["app"] > app_at_rest, "the burst used the overflow"
        assert peak["app"] <= 19 and peak["worker"] <= 10, peak  # the sign-in attempts' pool holds two at most

        assert settled() == (app_at_rest, worker_at_rest), "the overflow is closed again once idle"
        assert APPS * app_at_rest + WORKERS * worker_at_rest <= AT_REST
        assert APPS * 19 + WORKERS * 10 <= UNDER_LOAD
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.fixture
def limited_role(postgres_url):
    """A role PostgreSQL allows only a few connections (a superuser ignores connection limits)."""
    database = urlparse(postgres_url).path.lstrip("/")
    role = f"limited_{database[-12:]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=database, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 20')
        admin.execute(f'GRANT ALL ON DATABASE "{database}" TO "{role}"')
        admin.execute(f'GRANT ALL ON SCHEMA public TO "{role}"')
    yield role, postgres_url.replace("postgres@", f"{role}@")
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def set_limit(role: str, limit: int, cut_off: bool = False) -> None:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT {limit}')
        if cut_off:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))


def test_running_out_of_connections_answers_503_and_names_the_setting(limited_role, live_server_factory):
    role, url = limited_role
    server = live_server_factory(database_url=url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_DB_MAX_OVERFLOW="3")
    account = server.add_account("sue.reception", "reception")
    server.start(healthy=False)  # no worker: /healthz says so, pages still answer
    with closing(client_for(server, account, timeout=60)) as client:
        assert client.get("/").status_code == 200
        set_limit(role, 0, cut_off=True)  # the server has no connection left for this role
        started = time.monotonic()
        page = client.get("/")
        assert page.status_code == 503, page.text
        assert time.monotonic() - started < 30, "a request finds out within half a minute"
        assert "The service is busy" in page.text and "nothing was saved" in page.text
        log = one_line(server.log_path.read_text())
        assert "No database connection for GET /" in log and "INCIDENTS_DB_MAX_OVERFLOW=3" in log and "max_connections" in log
        set_limit(role, 20)
        wait_until(lambda: client.get("/").status_code == 200, timeout=60, interval=1)  # the app recovers once connections are to be had again


def test_a_process_that_gets_no_connection_at_start_names_the_limit(limited_role, tmp_path, live_server_factory):
    role, url = limited_role
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT 0')
    server = live_server_factory(database_url=url, INCIDENTS_PROJECTIONS="worker")
    result = subprocess.run([str(BIN / "incidents"), "project"], env=server.env, capture_output=True, text=True, timeout=60)
    no_traceback(result)
    assert result.returncode == 2
    said = one_line(result.stderr)
    assert "Cannot start: cannot open the event store" in said and "INCIDENTS_DB_POOL_SIZE=1" in said and "max_connections" in said
