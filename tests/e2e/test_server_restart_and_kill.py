"""A real `incidents serve` process: what it acknowledged is still there after a restart, and
after it is killed (SIGKILL) in the middle of a storm of submissions.

Every incident is logged through the real forms over HTTP (sign-in, CSRF token, submission key),
on the embedded SQLite default and on PostgreSQL.
"""

from __future__ import annotations

import threading
from contextlib import closing
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import Account, LiveServer, csrf_from, field_from, sign_in

pytestmark = pytest.mark.slow

UK = ZoneInfo("Europe/London")
NHS_NUMBER = "9434765919"


def client_for(server: LiveServer, account: Account, timeout: float = 15) -> httpx.Client:
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=timeout)
    sign_in(client, account)
    return client


def when_fields() -> dict[str, str]:
    moment = datetime.now(UK) - timedelta(minutes=2)
    return {"occurred_date": moment.strftime("%Y-%m-%d"), "occurred_time": moment.strftime("%H:%M")}


def post_filming(client: httpx.Client, note: str) -> httpx.Response:
    """A fresh form (its own CSRF token and submission key), filled in and posted."""
    page = client.get("/incidents/new/filming")
    assert page.status_code == 200, page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "submission_key": field_from(page.text, "submission_key"),
        "area": "waiting_area",
        "filmer": "patient",
        "people_captured": "staff_and_patients",
        "children_present": "no",
        "note": note,
        **when_fields(),
    }
    return client.post("/incidents/new/filming", data=form)


def log_filming(client: httpx.Client, note: str) -> str:
    response = post_filming(client, note)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def log_recording(client: httpx.Client, note: str, clinician: str) -> str:
    page = client.get("/incidents/new/recording")
    form = {
        "csrf_token": csrf_from(page.text),
        "submission_key": field_from(page.text, "submission_key"),
        "clinician": clinician,
        "setting": "consulting_room",
        "openness": "announced",
        "media": "audio",
        "nhs_number": "943 476 5919",
        "note": note,
        **when_fields(),
    }
    response = client.post("/incidents/new/recording", data=form)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def add_response(client: httpx.Client, location: str, response: str, note: str) -> None:
    page = client.get(location)
    form = {
        "csrf_token": csrf_from(page.text),
        "submission_key": field_from(page.text, "submission_key"),
        "response": response,
        "reference": "",
        "note": note,
        **when_fields(),
    }
    result = client.post(location + "/responses", data=form)
    assert result.status_code == 303, result.text


def unique_note(label: str) -> str:
    return f"{label} {uuid.uuid4().hex}"  # letters and digits only: shown on the page unescaped


# Restart -------------------------------------------------------------------------


def restart_keeps_everything(server: LiveServer) -> None:
    account = server.add_account("sue.reception", "reception")
    server.start()
    client = client_for(server, account)
    logged: dict[str, list[str]] = {}
    for i in range(4):
        note = unique_note(f"restart filming {i}")
        logged[log_filming(client, note)] = [note]
    recording_note = unique_note("restart recording")
    recording = log_recording(client, recording_note, "Dr Restart Shah")
    logged[recording] = [recording_note, "Dr Restart Shah", "943 476 5919"]
    first = next(iter(logged))
    response_note = unique_note("asked to stop")
    add_response(client, first, "AskedToStop", response_note)
    logged[first] += ["Asked them to stop filming", response_note]
    before = {location: client.get(location).text for location in logged}
    cookies = dict(client.cookies)
    client.close()

    server.stop()
    server.start()

    # A session made before the restart is still good (the session key is kept in the data folder).
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=15, cookies=cookies) as old_session:
        assert old_session.get(first).status_code == 200
    with closing(client_for(server, account)) as client:
        for location, texts in logged.items():
            page = client.get(location)
            assert page.status_code == 200, (location, page.text)
            for text in texts:
                assert text in page.text, (location, text)
            assert timeline_headings(page.text) == timeline_headings(before[location])
        home = client.get("/")
        assert home.status_code == 200
        for location in logged:
            assert f'href="{location}"' in home.text, f"{location} is missing from today's incidents after the restart"


def timeline_headings(html: str) -> list[str]:
    import re

    return re.findall(r"<h3[^>]*>(.*?)</h3>", html)


def test_sqlite_incidents_survive_a_restart(live_server_factory):
    server = live_server_factory()
    restart_keeps_everything(server)
    server.stop()
    # The event store shows nothing in plain text. The read models (view-*.sqlite) hold the words
    # of notes so that managers can search them (projections/summaries says so), but never a
    # patient identifier: NHS numbers are not copied and digit runs in notes are blanked.
    for path in server.data_dir.iterdir():
        if path.name.startswith("server-"):
            continue  # uvicorn's own log: request lines, no form bodies
        raw = path.read_bytes()
        secret = (NHS_NUMBER, "943 476 5919")
        if not path.name.startswith("view-"):
            secret += ("restart filming", "restart recording", "Dr Restart Shah")
        for text in secret:
            assert text.encode() not in raw, f"{text!r} is readable in {path.name}"


def test_postgres_incidents_survive_a_restart(postgres_url, live_server_factory):
    restart_keeps_everything(live_server_factory(database_url=postgres_url))


# Kill in the middle of a storm ------------------------------------------------------


@dataclass
class Storm:
    """Client threads logging incidents as fast as the server takes them."""

    server: LiveServer
    account: Account
    threads: int = 8
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    connection_errors: int = 0
    attempts: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.clients = [client_for(self.server, self.account) for _ in range(self.threads)]
        # One page first, so the storm measures saving, not the first compile of the templates.
        assert self.clients[0].get("/incidents/new/filming").status_code == 200
        self.ready = threading.Barrier(self.threads + 1)
        self.workers = [threading.Thread(target=self.work, args=(n, c), daemon=True) for n, c in enumerate(self.clients)]

    def work(self, number: int, client: httpx.Client) -> None:
        self.ready.wait()
        count = 0
        while not self.stopping.is_set():
            note = f"storm t{number} n{count} {uuid.uuid4().hex}"
            count += 1
            with self.lock:
                self.attempts += 1
            try:
                response = post_filming(client, note)
            except httpx.TransportError:
                # The server went away mid-request: expected during the kill, never a failure.
                with self.lock:
                    self.connection_errors += 1
                if self.stopping.is_set() or self.server.process.poll() is not None:
                    return
                time.sleep(0.05)
                continue
            except (AssertionError, ValueError) as error:  # the form page was not a form page
                if self.stopping.is_set() or self.server.process.poll() is not None:
                    return
                with self.lock:
                    self.unexpected.append(f"form page: {error}"[:300])
                continue
            if response.status_code == 303:
                with self.lock:
                    self.acknowledged.append((response.headers["location"].split("?")[0], note))
            else:
                with self.lock:
                    self.unexpected.append(f"{response.status_code}: {response.text[:300]}")

    def run_then_kill(self, seconds: float) -> None:
        for worker in self.workers:
            worker.start()
        self.ready.wait()
        time.sleep(seconds)
        deadline = time.monotonic() + 10  # on a slow machine, storm on until every thread was heard
        while len(self.acknowledged) < self.threads and time.monotonic() < deadline:
            time.sleep(0.1)
        self.server.stop(kill=True)
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout=30)
        for client in self.clients:
            client.close()
        assert not any(worker.is_alive() for worker in self.workers)


def nothing_acknowledged_is_lost(server: LiveServer) -> None:
    account = server.add_account("sue.reception", "reception")
    server.start()
    storm = Storm(server, account)
    started = time.monotonic()
    storm.run_then_kill(2.0)
    assert time.monotonic() - started < 40
    assert storm.unexpected == [], storm.unexpected[:3]
    assert len(storm.acknowledged) >= storm.threads, (
        f"only {len(storm.acknowledged)} of {storm.attempts} submissions were acknowledged before the kill"
    )
    notes = [note for _, note in storm.acknowledged]
    assert len(set(notes)) == len(notes)

    server.start()
    with closing(client_for(server, account)) as client:
        missing = []
        for location, note in storm.acknowledged:
            page = client.get(location)
            if page.status_code != 200 or note not in page.text:
                missing.append((location, page.status_code, note))
        assert missing == [], f"{len(missing)} of {len(storm.acknowledged)} acknowledged incidents were lost: {missing[:5]}"
        # and the restarted server takes new incidents
        note = unique_note("after the kill")
        assert note in client.get(log_filming(client, note)).text


def test_sqlite_kill_loses_nothing_acknowledged(live_server_factory):
    nothing_acknowledged_is_lost(live_server_factory())


def test_postgres_kill_loses_nothing_acknowledged(postgres_url, live_server_factory):
    nothing_acknowledged_is_lost(live_server_factory(database_url=postgres_url))
