"""What a real `incidents serve` leaves behind: a data folder only its user can read (0700, every
file in it 0600, SQLite's -wal and -shm files too, an existing folder tightened at start), an
access log without search words, and the first account's one-time password on the terminal
(standard error here: the server has no terminal), never in the log of its standard output."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time

import httpx
import pytest

from tests.conftest import BIN, Account, LiveServer, csrf_from, free_port, sign_in


def start_apart(server: LiveServer) -> None:
    """Start the server as a service manager would: no terminal, its output and errors apart."""
    server.port = free_port()
    server.log_path = server.data_dir / "stdout.log"
    errors = server.data_dir / "stderr.log"
    server.process = subprocess.Popen(
        [str(BIN / "incidents"), "serve", "--port", str(server.port)], env=server.env,
        stdout=open(server.log_path, "w"), stderr=open(errors, "w"), stdin=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log_path.read_text() + errors.read_text()
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def modes(folder) -> dict[str, int]:
    return {entry.name: stat.S_IMODE(entry.stat().st_mode) for entry in os.scandir(folder)}


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_first_start_keeps_its_secrets_off_the_log_and_its_data_private(live_server_factory, request, database):
    database_url = request.getfixturevalue("postgres_url") if database == "postgres" else ""
    server = live_server_factory(database_url)
    os.chmod(server.data_dir, 0o755)
    (server.data_dir / "left-here.txt").write_text("from before")
    os.chmod(server.data_dir / "left-here.txt", 0o644)
    start_apart(server)
    try:
        output = server.log_path.read_text()
        errors = (server.data_dir / "stderr.log").read_text()
        passwords = re.findall(r"password: (\S+)", errors)
        assert len(passwords) == 1, errors
        assert "signs in once" in errors and "expires at" in " ".join(errors.split())
        assert passwords[0] not in output and "password: " not in output, output
        assert "Created the first account" in output and "username manager" in output

        with httpx.Client(base_url=server.url, follow_redirects=False, timeout=15) as client:
            sign_in(client, Account("manager", passwords[0], "manager", "A81001"))
            assert client.get("/").headers["location"].startswith("/sign-in"), "the one-time password opens nothing but the choice"
            token = csrf_from(client.get("/choose-password").text)
            own = "a password of my own choosing"
            chosen = client.post("/choose-password", data={"csrf_token": token, "password": own, "confirm": own})
            assert chosen.status_code == 303 and chosen.headers["location"] == "/"
            assert client.get("/incidents", params={"q": "Thistlewood", "status": "open"}).status_code == 200
        private_while_running(server.data_dir, database)
    finally:
        server.stop()
    access_log = server.log_path.read_text()
    assert '"GET /incidents HTTP/1.1" 200' in access_log, access_log
    assert "Thistlewood" not in access_log and "q=" not in access_log
    private_while_running(server.data_dir, "stopped")


def private_while_running(folder, database: str) -> None:
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = modes(folder)
    expected = {"cipher.key", "session.key", "left-here.txt", "stdout.log", "stderr.log"}  # the signing key is in the store
    if database == "sqlite":  # while running: the write-ahead logs are there too
        expected |= {"incidents.sqlite", "incidents.sqlite-wal", "incidents.sqlite-shm", "view-incident_summaries.sqlite", "view-incident_summaries.sqlite-wal"}
    assert expected <= set(files), files
    assert {name: oct(mode) for name, mode in files.items() if mode != 0o600} == {}
