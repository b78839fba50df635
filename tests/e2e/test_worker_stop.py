"""The `incidents project` worker stopped as `docker stop` and systemd stop it (SIGTERM) signs its
final checkpoint, as Ctrl-C does; `projections status --max-behind` is its health check."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.test_cli import one_line, run
from tests.e2e.test_standby_worker import Worker

pytestmark = pytest.mark.slow


def test_sigterm_stops_the_worker_with_a_final_checkpoint(postgres_url, live_server_factory):
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_CHECKPOINT_SECONDS="3600")
    server.add_account("sue.reception", "reception")
    with Worker(server, "main") as worker:
        worker.wait_for("Projecting events", 60)
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0, worker.log_path.read_text()
    checked = run(server, "verify-store")
    out = one_line(checked.stdout)
    assert checked.returncode == 0 and "match 1 signed checkpoint(s)" in out and "Not yet covered" not in out, out


def test_projections_status_fails_when_the_views_are_behind(postgres_url, live_server_factory):
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker")
    server.add_account("sue.reception", "reception")
    server.add_account("mo.reception", "reception")
    behind = run(server, "projections", "status", "--max-behind", "1")
    assert behind.returncode == 1 and "more than 1 events behind the store: is a worker running?" in one_line(behind.stderr), behind.stdout + behind.stderr
    assert run(server, "projections", "status", "--max-behind", "1000").returncode == 0
