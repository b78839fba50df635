"""The embedded default: `incidents serve` runs the projections in a child process of its own
(projections/running/child_process.py), wakes it after each write, starts it again if it dies, and takes it
down with it."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from incidents.projections.running.locks import ProjectionsLock
from tests.e2e.test_server_restart_and_kill import client_for, log_filming

pytestmark = pytest.mark.slow

CHILD_MODULE = "incidents.projections.running.child_process"


def projection_processes(data_dir: Path) -> list[tuple[int, int]]:
    """(pid, parent pid) of every projections child process working on this data folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if CHILD_MODULE.encode() in command and f"INCIDENTS_DATA_DIR={data_dir}".encode() in environ:
            found.append((int(entry.name), int(stat[stat.rindex(")") + 2 :].split()[1])))
    return found


def client_health(server) -> int:
    return httpx.get(server.url + "/healthz", timeout=5).status_code


def wait_for(condition, seconds: float = 20.0, what: str = "it"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def serving(live_server_factory):
    """A started app with a reception account, and its projections process(es) (pid, parent pid)."""
    server = live_server_factory()
    account = server.add_account("sue.reception", "reception")
    server.start()
    return server, account, wait_for(lambda: projection_processes(server.data_dir), what="the projections process")


def test_the_app_runs_its_projections_in_a_child_and_shows_a_new_incident_at_once(live_server_factory):
    server, account, children = serving(live_server_factory)
    assert server.process is not None
    assert [parent for _, parent in children] == [server.process.pid]
    with closing(client_for(server, account)) as client:
        location = log_filming(client, "Filmed the queue, projected next door")
        home = client.get("/")  # waits (at most INCIDENTS_VIEW_WAIT_SECONDS) for the views to have it
    assert home.status_code == 200
    assert f'href="{location}"' in home.text, server.log_path.read_text() if server.log_path else ""
    assert client_health(server) == 200


def test_a_projections_process_that_dies_is_started_again_and_catches_up(live_server_factory):
    server, account, [(first, _)] = serving(live_server_factory)
    os.kill(first, signal.SIGKILL)
    with closing(client_for(server, account)) as client:
        location = log_filming(client, "Logged while the projections were down")  # saved all the same
        [(second, parent)] = wait_for(
            lambda: [p for p in projection_processes(server.data_dir) if p[0] != first], what="a new projections process"
        )
        assert server.process is not None and parent == server.process.pid
        home = client.get("/")
    assert f'href="{location}"' in home.text
    assert client_health(server) == 200


def test_the_projections_process_goes_with_the_app_even_when_it_is_killed(live_server_factory):
    server, account, [(child, _)] = serving(live_server_factory)
    server.stop(kill=True)  # SIGKILL: the app cannot say goodbye; the child sees its pipe close
    wait_for(lambda: not Path(f"/proc/{child}").exists() or _is_zombie(child), seconds=20, what="the child to exit")
    server.start()  # a new app and child on the same folder: the lock is free again
    with closing(client_for(server, account)) as client:
        location = log_filming(client, "Logged after the restart")
        home = client.get("/")
    assert f'href="{location}"' in home.text
    assert len(projection_processes(server.data_dir)) == 1


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def test_ctrl_c_stops_the_app_and_then_its_child_cleanly(live_server_factory):
    """A terminal's Ctrl-C reaches both processes: the child ignores it and stops when the app
    closes its pipe, after finishing its work and signing its last checkpoint."""
    server, account, [(child, _)] = serving(live_server_factory)
    assert server.process is not None and server.log_path is not None
    with closing(client_for(server, account)) as client:
        log_filming(client, "Logged just before closing time")
    os.kill(child, signal.SIGINT)
    os.kill(server.process.pid, signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
    wait_for(lambda: not Path(f"/proc/{child}").exists() or _is_zombie(child), what="the child to exit")
    log = server.log_path.read_text()
    assert "Signed store checkpoint" in log
    assert "Traceback" not in log and "KeyboardInterrupt" not in log


def test_healthz_says_who_holds_the_lock_the_projections_wait_for(live_server_factory):
    """A rebuild or a worker started by mistake holds the projections lock: the app still serves,
    but its views do not follow the store, and /healthz says so, and why, until the lock is free."""
    server = live_server_factory()
    manager = server.add_account("mo.manager", "manager")
    lock = ProjectionsLock(server.data_dir / "projections.lock")
    lock.acquire("a rebuild of the projections")
    try:
        server.start(healthy=False)
        with closing(client_for(server, manager)) as client:

            def waiting():
                health = client.get("/healthz")
                return health if health.status_code == 503 and "waiting" in health.json() else None

            health = wait_for(waiting, what="/healthz to say the projections wait")
        assert health.json()["status"] == "views stopped"
        assert f"a rebuild of the projections (process {os.getpid()}) holds" in health.json()["waiting"]
        # Who holds the lock is for a signed-in manager; a load balancer gets the status alone.
        assert httpx.get(server.url + "/healthz", timeout=5).json() == {"status": "views stopped"}
    finally:
        lock.release()
    wait_for(lambda: client_health(server) == 200, what="the projections to take the lock and run")


def test_an_app_rebuilds_views_of_an_older_layout_before_it_starts_its_child(live_server_factory):
    server = live_server_factory()
    account = server.add_account("sue.reception", "reception")
    server.start()
    with closing(client_for(server, account)) as client:
        location = log_filming(client, "Logged before the upgrade")
        assert f'href="{location}"' in client.get("/").text
    server.stop()
    with closing(sqlite3.connect(server.data_dir / "view-incident_summaries.sqlite")) as view:
        view.execute('DROP TABLE "incident_summaries_layout"')  # as a view made before layouts were kept
        view.execute("DELETE FROM incident_summaries")
        view.commit()
    server.start()
    assert server.log_path is not None
    assert "Rebuilding incident_summaries: built by an older layout" in server.log_path.read_text()
    with closing(client_for(server, account)) as client:
        assert f'href="{location}"' in client.get("/").text
