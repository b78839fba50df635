"""`incidents backup` while a real server takes incidents from several clients, and `incidents
restore` into a new data folder (or database): everything acknowledged before the backup started
is there, and the restored store verifies."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_HOST, PG_PORT, BIN, Account, LiveServer
from tests.e2e.test_cli import no_traceback, one_line, run
from tests.e2e.test_server_restart_and_kill import client_for, post_filming

pytestmark = pytest.mark.slow


class Clients:
    """Client threads logging filming incidents until stopped, each acknowledgement timed."""

    def __init__(self, server: LiveServer, account: Account, threads: int = 4) -> None:
        self.acknowledged: list[tuple[float, str, str]] = []  # (when the 303 arrived, location, note)
        self.unexpected: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.clients = [client_for(server, account) for _ in range(threads)]
        self.threads = [threading.Thread(target=self.work, args=(n, c), daemon=True) for n, c in enumerate(self.clients)]
        for thread in self.threads:
            thread.start()

    def work(self, number: int, client: httpx.Client) -> None:
        count = 0
        while not self.stopping.is_set():
            # Letters only: the views blank runs of digits in notes, and the test searches for this word.
            word = "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex)
            note = f"backup by client {number} {word}"
            count += 1
            response = post_filming(client, note)
            with self.lock:
                if response.status_code == 303:
                    self.acknowledged.append((time.monotonic(), response.headers["location"].split("?")[0], note))
                else:
                    self.unexpected.append(f"{response.status_code}: {response.text[:300]}")

    def acknowledged_before(self, moment: float) -> list[tuple[str, str]]:
        with self.lock:
            return [(location, note) for at, location, note in self.acknowledged if at < moment]

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        for client in self.clients:
            client.close()


def back_up_while_logging(server: LiveServer, dest: Path, *options: str) -> tuple[list[tuple[str, str]], int]:
    """Back up in the middle of a stream of incidents; what was acknowledged before it started,
    and how many were acknowledged while it ran."""
    account = server.add_account("sue.reception", "reception")
    server.start()
    clients = Clients(server, account)
    try:
        deadline = time.monotonic() + 30
        while len(clients.acknowledged_before(time.monotonic())) < 20:
            assert time.monotonic() < deadline and not clients.unexpected, clients.unexpected[:3]
            time.sleep(0.05)
        started = time.monotonic()
        result = run(server, "backup", str(dest), *options)
        ended = time.monotonic()
        no_traceback(result)
        assert result.returncode == 0, result.stdout + result.stderr
        time.sleep(0.3)  # a little more logging after it, which the backup need not hold
    finally:
        clients.stop()
    assert clients.unexpected == [], clients.unexpected[:3]
    before = clients.acknowledged_before(started)
    during = len(clients.acknowledged_before(ended)) - len(before)
    return before, during


def restored_has_every_incident(restored: LiveServer, before: list[tuple[str, str]]) -> None:
    verified = run(restored, "verify-store")
    no_traceback(verified)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in one_line(verified.stdout) and "signed checkpoint(s)" in one_line(verified.stdout)
    manager = restored.add_account("pat.manager", "manager")
    restored.start()
    account = Account("sue.reception", "a long enough password", "reception", "A81001")  # the account came back with the store
    with closing(client_for(restored, account)) as client:
        missing = []
        for location, note in before:
            page = client.get(location)
            if page.status_code != 200 or note not in page.text:
                missing.append((location, page.status_code))
        assert missing == [], f"{len(missing)} of {len(before)} incidents acknowledged before the backup are not in the restored store"
    with closing(client_for(restored, manager)) as client:
        location, note = before[-1]
        listed = client.get("/incidents", params={"q": note.split()[-1]})  # the views were rebuilt from the restored events
        assert listed.status_code == 200 and location in listed.text, listed.text[:2000]


def test_a_backup_taken_while_clients_log_restores_everything_acknowledged_before_it(live_server_factory, tmp_path):
    server = live_server_factory(INCIDENTS_CHECKPOINT_SECONDS="0.5")
    dest = tmp_path / "backup"
    keys = tmp_path / "keys" / "incidents-keys.json"
    before, during = back_up_while_logging(server, dest, "--keys-file", str(keys))
    server.stop()
    assert len(before) >= 20 and during > 0, (len(before), during)

    manifest = json.loads((dest / "manifest.json").read_text())
    assert sorted(path.name for path in dest.iterdir()) == ["incidents.sqlite", "manifest.json"]  # no view, no key
    assert [entry["name"] for entry in manifest["files"]] == ["incidents.sqlite"]
    cipher_key = (server.data_dir / "cipher.key").read_text().strip()
    assert cipher_key not in (dest / "manifest.json").read_text()
    assert manifest["keys"]["cipher_key"]["needed"] is True and len(manifest["keys"]["cipher_key"]["fingerprints"][0].replace(" ", "")) == 64
    assert manifest["keys"]["record_key_store"]["needed"] is False  # the record keys are in the copied store, wrapped by the cipher key
    assert manifest["signing_key"]["fingerprint"] and manifest["last_event"] > len(before)
    assert [kept["fingerprint"] for kept in manifest["signing_key"]["history"]] == [manifest["signing_key"]["fingerprint"]]
    assert json.loads(keys.read_text())["cipher_key"] == cipher_key
    assert os.stat(keys).st_mode & 0o777 == 0o600 and os.stat(dest / "incidents.sqlite").st_mode & 0o777 == 0o600

    restored = live_server_factory()
    restored.data_dir.rmdir()  # restore makes the folder
    result = run(restored, "restore", str(dest), "--keys-file", str(keys))
    no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rebuilding the views" in result.stderr
    assert (restored.data_dir / "cipher.key").read_text().strip() == cipher_key
    restored_has_every_incident(restored, before)


def test_restore_refuses_a_folder_in_use_a_wrong_key_and_a_damaged_backup(live_server_factory, tmp_path):
    server = live_server_factory()
    server.add_account("sue.reception", "reception")
    dest = tmp_path / "backup"
    assert run(server, "backup", str(dest)).returncode == 0

    again = run(server, "backup", str(dest))
    assert again.returncode == 2 and "is not an empty folder" in one_line(again.stderr)

    used = run(server, "restore", str(dest))  # the server's own folder holds a store
    no_traceback(used)
    assert used.returncode == 2 and f"The data folder {server.data_dir} is not empty (it holds " in one_line(used.stderr)

    target = live_server_factory()
    no_key = run(target, "restore", str(dest))
    assert no_key.returncode == 2 and "No encryption key: this backup needs the key whose fingerprint is" in one_line(no_key.stderr)
    (target.data_dir / "cipher.key").write_text(other_key())
    wrong = run(target, "restore", str(dest))
    assert wrong.returncode == 2 and "is not the one this backup needs: it lacks" in one_line(wrong.stderr)
    assert sorted(path.name for path in target.data_dir.iterdir()) == ["cipher.key"]  # nothing written

    (target.data_dir / "cipher.key").write_text((server.data_dir / "cipher.key").read_text())
    with open(dest / "incidents.sqlite", "r+b") as file:
        file.seek(-1, 2)
        last = file.read(1)
        file.seek(-1, 2)
        file.write(bytes([last[0] ^ 1]))
    damaged = run(target, "restore", str(dest))
    no_traceback(damaged)
    assert damaged.returncode == 2 and "is not the file the manifest lists" in one_line(damaged.stderr)
    assert not (target.data_dir / "incidents.sqlite").exists()


def other_key() -> str:
    import base64
    import secrets

    return base64.b64encode(secrets.token_bytes(32)).decode() + "\n"


@pytest.fixture
def empty_database(postgres_url) -> str:
    """Another fresh database beside postgres_url's, to restore into."""
    import psycopg

    name = f"incidents_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(not __import__("shutil").which("pg_dump"), reason="pg_dump is not installed")
def test_a_postgres_backup_with_pg_dump_restores_into_an_empty_database(postgres_url, empty_database, live_server_factory, tmp_path):
    server = live_server_factory(database_url=postgres_url, INCIDENTS_CHECKPOINT_SECONDS="0.5")
    dest = tmp_path / "backup"
    before, _ = back_up_while_logging(server, dest)
    server.stop()
    assert sorted(path.name for path in dest.iterdir()) == ["incidents-events.pgdump", "manifest.json"]

    restored = live_server_factory(database_url=empty_database)
    (restored.data_dir / "cipher.key").write_text((server.data_dir / "cipher.key").read_text())
    result = run(restored, "restore", str(dest))
    no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    restored_has_every_incident(restored, before)
    restored.stop()

    into_used = run(restored, "restore", str(dest))
    assert into_used.returncode == 2 and f"The database {empty_database.rsplit('/', 1)[1]} is not empty" in one_line(into_used.stderr)


def test_a_postgres_backup_without_pg_dump_is_refused_clearly(postgres_url, live_server_factory, tmp_path):
    server = live_server_factory(database_url=postgres_url)
    server.add_account("sue.reception", "reception")
    result = run(server, "backup", str(tmp_path / "backup"), PATH=str(BIN))  # the project's commands, none of PostgreSQL's
    no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pg_dump is not installed, and a PostgreSQL store is backed up with it" in one_line(result.stderr)
    assert "README (Backup and restore)" in one_line(result.stderr)
