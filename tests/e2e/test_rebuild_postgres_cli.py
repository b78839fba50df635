"""`incidents projections rebuild` on PostgreSQL, in real processes: it rebuilds, then refuses
while an `incidents project` worker holds the projections lock."""

from __future__ import annotations

import pytest

from tests.e2e.test_projections_cli import behind_by, run
from tests.e2e.test_standby_worker import Worker

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

    with Worker(server, "main") as worker:
        worker.wait_for("Projecting events")
        refused = run(server.env, "projections", "rebuild")
        assert refused.returncode == 2
        assert "Stop it first" in refused.stderr
        assert "the projections (process" in refused.stderr
    assert run(server.env, "projections", "rebuild").returncode == 0
