"""Processes started together on an empty PostgreSQL database: three apps (INCIDENTS_PROJECTIONS=
worker) and two `incidents project` workers race to make the tables, the first account and the
signing key, and all come up."""

from __future__ import annotations

import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from incidents.storage import new_cipher_key
from tests.conftest import BIN, Account, LiveServer, free_port, wait_until
from tests.e2e.test_server_restart_and_kill import client_for, log_filming

pytestmark = pytest.mark.slow


def healthy(server: LiveServer, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            return False
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def test_five_processes_started_at_once_on_an_empty_database_all_come_up(postgres_url, live_server_factory):
    shared = {"INCIDENTS_CIPHER_KEY": new_cipher_key(), "INCIDENTS_PATIENT_INDEX_KEY": new_cipher_key(), "INCIDENTS_PROJECTIONS": "worker"}
    apps = [live_server_factory(database_url=postgres_url, **shared) for _ in range(3)]
    worker_env = live_server_factory(database_url=postgres_url, **shared)
    workers: list[subprocess.Popen] = []
    logs = []
    try:
        for app in apps:  # all launched before any is waited for
            app.port = free_port()
            app.log_path = app.data_dir / "server.log"
            app.process = subprocess.Popen(
                [str(BIN / "incidents"), "serve", "--port", str(app.port)], env=app.env, stdout=open(app.log_path, "w"), stderr=subprocess.STDOUT
            )
        for number in range(2):
            path = worker_env.data_dir / f"worker{number}.log"
            logs.append(path)
            workers.append(subprocess.Popen([str(BIN / "incidents"), "project"], env=worker_env.env, stdout=open(path, "w"), stderr=subprocess.STDOUT))

        deadline = time.monotonic() + 90
        for app in apps:
            assert healthy(app, deadline), app.log_path.read_text()
        outputs = [app.log_path.read_text() for app in apps]
        everything = "\n".join(outputs + [path.read_text() for path in logs])
        assert "Traceback" not in everything and "concurrently" not in everything, everything
        assert sum("Created the first account" in out for out in outputs) == 1, everything
        assert sum("Made the deployment's signing key" in text for text in everything.split("\n")) <= 2, "one key, made once"

        # One worker projects; the other finds the projections lock held (it does not fail on the tables).
        def decided(worker: subprocess.Popen, path: Path) -> bool:
            return worker.poll() is not None or any(said in path.read_text() for said in ("Projecting events", "standing by"))

        wait_until(lambda: all(decided(worker, path) for worker, path in zip(workers, logs)), timeout=30)
        running = [worker for worker in workers if worker.poll() is None]
        assert running, everything
        for worker, path in zip(workers, logs):
            if worker.poll() is not None:
                assert worker.returncode == 2 and "holds the projections lock" in " ".join(path.read_text().split()), path.read_text()

        # The apps share one store and the running worker's views.
        first, second = apps[0], apps[1]
        account = first.add_account("sue.reception", "reception")
        with closing(client_for(first, account)) as writer, closing(client_for(second, Account(**vars(account)))) as reader:
            location = log_filming(writer, "Seen by every app")
            home = reader.get("/")
            assert home.status_code == 200 and f'href="{location}"' in home.text
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
