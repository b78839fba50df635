"""`incidents projections rebuild` on PostgreSQL, in real processes: it rebuilds, then refuses
while an `incidents project` worker holds the projections lock."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.conftest import BIN
from tests.e2e.test_projections_cli import behind_by, run

pytestmark = pytest.mark.slow


def test_rebuild_on_postgresql_then_refused_while_a_worker_runs(postgres_url, live_server_factory):
    server = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker")
    demo = run(server.env, "demo", "--months", "1")
    assert demo.returncode == 0, demo.stderr
    assert behind_by(run(server.env, "projections", "status").stdout) > 0
    rebuilt = run(server.env, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Rebuilt" in rebuilt.stdout and "incident_summaries" in rebuilt.stdout
    assert behind_by(run(server.env, "projections", "status").stdout) == 0

    log_path = server.data_dir / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(BIN / "incidents"), "project"], env=server.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "Projecting events" not in log_path.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        refused = run(server.env, "projections", "rebuild")
        assert refused.returncode == 2
        assert "Stop it first" in refused.stderr
        assert "the projections (process" in refused.stderr
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert run(server.env, "projections", "rebuild").returncode == 0
