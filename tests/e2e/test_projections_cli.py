"""`incidents projections status`: each view's position and how far behind it is."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from incidents.bootstrap import open_log
from incidents.projections.running.runner import start_projections
from incidents.settings import Settings
from tests.conftest import BIN

pytestmark = pytest.mark.slow


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "incidents"), *args], env=env, capture_output=True, text=True, timeout=120)


def behind_by(output: str) -> int:
    match = re.search(r"incident_summaries\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+) events", output)
    assert match, output
    return int(match.group(3))


def holds_lock(path: Path, holder: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().startswith(holder)):
        assert time.monotonic() < deadline, f"{holder} never took {path}"
        time.sleep(0.05)


def test_status_shows_the_lag_then_none_once_projected(live_server_factory, tmp_path):
    server = live_server_factory()
    demo = run(server.env, "demo", "--months", "1")
    assert demo.returncode == 0, demo.stderr
    before = run(server.env, "projections", "status")
    assert before.returncode == 0, before.stderr
    opened = open_log(Settings(data_dir=server.data_dir))
    latest = opened.log.recorder.max_notification_id()
    assert behind_by(before.stdout) == latest > 0
    projections = start_projections(opened.store, opened.env)
    try:
        assert projections.wait(latest, timeout=30)
    finally:
        projections.stop()
        opened.log.close()
    after = run(server.env, "projections", "status")
    assert behind_by(after.stdout) == 0, after.stdout


def test_status_on_the_in_memory_store_says_there_are_no_views(live_server_factory):
    server = live_server_factory(database_url="memory://")
    result = run(server.env, "projections", "status")
    assert result.returncode == 2
    assert "No views" in result.stderr


def test_rebuild_from_the_command_line_then_refused_while_the_app_runs(live_server_factory):
    server = live_server_factory()
    assert run(server.env, "demo", "--months", "1").returncode == 0
    rebuilt = run(server.env, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert re.search(r"Rebuilt [a-z_, ]*incident_summaries[a-z_, ]* from", rebuilt.stdout)
    assert behind_by(run(server.env, "projections", "status").stdout) == 0
    server.start()
    holds_lock(server.data_dir / "projections.lock", "the projections")  # its child has started them
    refused = run(server.env, "projections", "rebuild")
    assert refused.returncode == 2
    assert "Stop it first" in refused.stderr
