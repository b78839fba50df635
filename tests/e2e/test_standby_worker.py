"""Standby projection workers on PostgreSQL, in real processes: two app instances that only read
the views (INCIDENTS_PROJECTIONS=worker) and several `incidents project` workers. One works, the
others stand by and take over when it is killed (SIGKILL) or frozen (SIGSTOP); and the apps say
so when no worker is alive, without making pages wait for one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import BIN, LiveServer, wait_until
from tests.e2e.test_server_restart_and_kill import client_for, log_filming, post_filming

pytestmark = pytest.mark.slow
TAKEOVER_LIMIT_SECONDS = 10


class Worker:
    def __init__(self, server: LiveServer, name: str) -> None:
        self.log_path = server.data_dir / f"worker-{name}.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([str(BIN / "incidents"), "project"], env=server.env, stdout=log, stderr=subprocess.STDOUT)

    def said(self, text: str) -> bool:
        return text in self.log_path.read_text()

    def wait_for(self, text: str, seconds: float = 30) -> float:
        """Seconds until the worker's log says `text`."""
        started = time.monotonic()
        while not self.said(text):
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() - started < seconds, f"no {text!r} in {seconds} s: {self.log_path.read_text()}"
            time.sleep(0.05)
        return time.monotonic() - started

    def end(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=20)


class Writers:
    """Clients logging incidents without pause, through both app instances, until stopped."""

    def __init__(self, servers: list[LiveServer], account, count: int) -> None:
        self.acknowledged: list[str] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(servers[i % len(servers)], account, i)) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def _write(self, server: LiveServer, account, number: int) -> None:
        with closing(client_for(server, account)) as client:
            n = 0
            while not self.stopping.is_set():
                n += 1
                try:
                    response = post_filming(client, f"Writer {number}, incident {n}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                    continue
                if response.status_code == 303:
                    self.acknowledged.append(response.headers["location"].split("?")[0].rsplit("/", 1)[-1])
                else:
                    self.failures.append(f"{response.status_code}: {response.text[:200]}")

    def wait_for_more(self, count: int = 10) -> None:
        """Until `count` more incidents are logged: each step of the takeover happens under writes."""
        logged = len(self.acknowledged)
        wait_until(lambda: len(self.acknowledged) >= logged + count or self.failures, timeout=30)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def apps_in_worker_mode(postgres_url: str, live_server_factory, **extra: str) -> list[LiveServer]:
    first = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_CHECKPOINT_SECONDS="0", **extra)
    second = live_server_factory(database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_CHECKPOINT_SECONDS="0", **extra)
    first.start(healthy=False)  # makes the store and its key
    second.env["INCIDENTS_CIPHER_KEY_FILE"] = first.env["INCIDENTS_CIPHER_KEY_FILE"]  # one store, one key
    second.start(healthy=False)
    return [first, second]


def view_contents(postgres_url: str) -> dict[str, object]:
    with psycopg.connect(postgres_url) as connection:
        def ids(table: str) -> list[str]:
            return sorted(str(row[0]) for row in connection.execute(f"SELECT incident_id FROM {table}"))

        return {
            "summaries": ids("incident_summaries"),
            "figures": ids("figures_incidents"),
            "queue": ids("action_incidents"),
            "open filming": connection.execute("SELECT coalesce(sum(count), 0) FROM figures_open WHERE kind = 'filming'").fetchone()[0],
            "by month": connection.execute("SELECT coalesce(sum(count), 0) FROM figures_incidents_by_month").fetchone()[0],
        }


def test_a_standby_worker_takes_over_from_a_killed_then_a_frozen_one(postgres_url, live_server_factory):
    servers = apps_in_worker_mode(postgres_url, live_server_factory)
    account = servers[0].add_account("sue.reception", "reception")
    workers = [Worker(servers[0], "a")]
    writers = None
    try:
        workers[0].wait_for("Projecting events")
        workers.append(Worker(servers[1], "b"))
        workers[1].wait_for("standing by: the projections (process")
        active, standby = workers

        writers = Writers(servers, account, 4)
        writers.wait_for_more()
        active.process.kill()  # SIGKILL: its lease names a session the server has ended
        killed_takeover = standby.wait_for("Projecting events", TAKEOVER_LIMIT_SECONDS)
        third = Worker(servers[1], "c")
        workers.append(third)
        third.wait_for("standing by")
        active, standby = standby, third

        writers.wait_for_more()
        os.kill(active.process.pid, signal.SIGSTOP)  # frozen: its lease runs out
        frozen_takeover = standby.wait_for("Projecting events", TAKEOVER_LIMIT_SECONDS)
        writers.wait_for_more()
        os.kill(active.process.pid, signal.SIGCONT)  # it wakes, finds another holder, and writes nothing
        active.wait_for("Lost the projections lock")
        active.wait_for("; standing by")
        writers.wait_for_more()
        writers.stop()
        assert not writers.failures, writers.failures[:5]
        acknowledged = sorted(writers.acknowledged)
        assert len(acknowledged) > 20

        expected = {"summaries": acknowledged, "figures": acknowledged, "queue": acknowledged,
                    "open filming": len(acknowledged), "by month": len(acknowledged)}
        deadline = time.monotonic() + 15
        while (contents := view_contents(postgres_url)) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert contents == expected  # each acknowledged incident in every view, exactly once
        print(f"\ntakeover after SIGKILL: {killed_takeover:.2f} s, after SIGSTOP: {frozen_takeover:.2f} s, "
              f"{len(acknowledged)} incidents logged meanwhile")
        assert standby.process.poll() is None and active.process.poll() is None
    finally:
        if writers is not None:
            writers.stop()
        for worker in workers:
            worker.end()


def health(server: LiveServer, client: httpx.Client | None = None) -> httpx.Response:
    return (client or httpx).get(server.url + "/healthz" if client is None else "/healthz", timeout=10)


def test_the_apps_say_when_no_worker_is_alive_and_pages_do_not_wait_for_one(postgres_url, live_server_factory):
    server = live_server_factory(
        database_url=postgres_url, INCIDENTS_PROJECTIONS="worker", INCIDENTS_WORKER_STALE_SECONDS="2",
        INCIDENTS_VIEW_WAIT_SECONDS="5",
    )
    manager = server.add_account("pat.manager", "manager")
    server.start(healthy=False)
    answer = health(server)
    assert answer.status_code == 503 and answer.json() == {"status": "no projections worker"}

    worker = Worker(server, "a")
    try:
        worker.wait_for("Projecting events")
        wait_until(lambda: health(server).status_code == 200, timeout=10)
        with closing(client_for(server, manager)) as client:
            log_filming(client, "Seen by the worker")
            dashboard = client.get("/dashboard")
            assert "Up to date at" in dashboard.text

            worker.process.kill()
            log_filming(client, "Nobody projects this one")
            started = time.monotonic()
            home = client.get("/")
            waited = time.monotonic() - started
            assert home.status_code == 200
            assert waited < 1.0, f"the home page waited {waited:.2f} s for a worker that is dead"

            wait_until(lambda: health(server).json() == {"status": "no projections worker"}, timeout=10)  # after INCIDENTS_WORKER_STALE_SECONDS
            detailed = health(server, client)
            assert detailed.status_code == 503
            assert detailed.json()["status"] == "no projections worker"
            assert "the projections (process" in detailed.json()["holder"]
            started = time.monotonic()
            dashboard = client.get("/dashboard")
            waited = time.monotonic() - started
            assert "Up to date at" not in dashboard.text
            assert "These figures are not being updated" in dashboard.text
            assert waited < 1.0
            print(f"\npages answered in {waited * 1000:.0f} ms with no worker alive (INCIDENTS_VIEW_WAIT_SECONDS=5)")
    finally:
        worker.end()
