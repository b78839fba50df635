"""The `incidents project` worker stopped as `docker stop` and systemd stop it (SIGTERM) signs its
final checkpoint, as Ctrl-C does; `projections status --max-behind` is its health check."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.conftest import BIN
from tests.e2e.test_cli import one_line, run

pytestmark = pytest.mark.slow


def test_sigterm_stops_the_worker_with_a_final_checkpoint(postgres_url, live_server_factory):
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_CHECKPOINT_SECONDS="3600")
    server.add_account("sue.reception", "reception")
    log_path = server.data_dir / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(BIN / "incidents"), "project"], env=server.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Projecting events" not in log_path.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log_path.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
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
