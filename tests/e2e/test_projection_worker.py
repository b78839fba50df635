"""The PostgreSQL deployment of docker-compose.yml, without Docker: an app process that only
reads the views (INCIDENTS_PROJECTIONS=worker) and a separate `incidents project` worker."""

from __future__ import annotations

from contextlib import closing

import pytest

from tests.e2e.test_server_restart_and_kill import client_for, log_filming
from tests.e2e.test_standby_worker import Worker

pytestmark = pytest.mark.slow


def test_the_worker_keeps_the_apps_views_up_to_date(postgres_url, live_server_factory):
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker")
    account = server.add_account("sue.reception", "reception")
    server.start(healthy=False)  # 503 until a worker is seen
    with Worker(server, "main") as worker:
        worker.wait_for("Projecting events")  # pages wait for the views only while a worker holds the lease
        with closing(client_for(server, account)) as client:
            location = log_filming(client, "Filmed the queue, seen by the worker")
            home = client.get("/")
            assert home.status_code == 200
            assert f'href="{location}"' in home.text, worker.log_path.read_text()
        assert worker.process.poll() is None, worker.log_path.read_text()


def test_without_a_worker_the_home_page_still_answers_promptly(postgres_url, live_server_factory):
    """No worker running: the page waits at most INCIDENTS_VIEW_WAIT_SECONDS, then shows what the
    view has, rather than hanging or failing."""
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_VIEW_WAIT_SECONDS="0.5")
    account = server.add_account("sue.reception", "reception")
    server.start(healthy=False)
    with closing(client_for(server, account)) as client:
        log_filming(client, "Nobody is projecting")
        home = client.get("/")
        assert home.status_code == 200
        assert "Nothing logged yet as happening today" in home.text
