"""`incidents checkpoint` and `incidents verify-store` as an operator runs them, and the
checkpoints that whoever runs the projections signs on a timer (the app on SQLite, the
`incidents project` worker on PostgreSQL)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
import uuid

import pytest

from tests.conftest import LiveServer
from tests.e2e.test_cli import no_traceback, one_line, run
from tests.e2e.test_standby_worker import Worker

pytestmark = pytest.mark.slow
PASSWORD = "a long enough password\n"


def add_staff(server: LiveServer, *usernames: str) -> None:
    for username in usernames:
        result = run(server, "users", "add", username, "--name", username.title(), "--role", "reception", "--password-stdin", stdin=PASSWORD)
        assert result.returncode == 0, result.stderr


def verify_until_covered(server: LiveServer, timeout: float = 120) -> subprocess.CompletedProcess:
    """verify-store, until the timer's checkpoint covers every event."""
    deadline = time.monotonic() + timeout
    while True:
        result = run(server, "verify-store")
        if result.returncode == 0 and "Last checkpoint" in result.stdout and "Not yet covered" not in result.stdout:
            return result
        assert time.monotonic() < deadline, result.stdout + result.stderr
        time.sleep(0.5)


def test_checkpoint_then_verify_store_names_the_changed_event(live_server_factory):
    server = live_server_factory()
    add_staff(server, "sue.patel", "mo.khan")
    signed = run(server, "checkpoint")
    assert signed.returncode == 0, signed.stderr
    out = one_line(signed.stdout)
    assert "Made the deployment's signing key and kept it in the event store" in out and "Signed checkpoint 1: events #1–#" in out
    again = run(server, "checkpoint")
    assert again.returncode == 0 and "Nothing to sign" in again.stdout

    clean = run(server, "verify-store")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert one_line(clean.stdout).startswith(f"verified {server.data_dir / 'incidents.sqlite'}: ")
    assert "match 1 signed checkpoint(s)" in one_line(clean.stdout)

    with sqlite3.connect(server.data_dir / "incidents.sqlite", isolation_level=None) as db:
        originator, version, state = db.execute("SELECT originator_id, originator_version, state FROM stored_events WHERE rowid = 2").fetchone()
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 2", (state[:-1] + bytes([state[-1] ^ 1]),))
    tampered = run(server, "verify-store")
    no_traceback(tampered)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    out = one_line(tampered.stdout)
    assert "NOT verified" in out and "1 problem(s)" in out
    assert f"event #2 (aggregate {uuid.UUID(originator)}, version {version}) was changed since checkpoint 1 signed at " in out


def test_verify_store_cannot_start_without_a_signing_key(live_server_factory):
    """No key kept in the store (nothing signed yet) and none in a file: nothing to check with."""
    server = live_server_factory()
    add_staff(server, "sue.patel")
    result = run(server, "verify-store")
    no_traceback(result)
    assert result.returncode == 2 and "No signing key: the event store keeps none and there is no key file at" in one_line(result.stderr)


def test_verify_store_checks_the_practices_fingerprint(live_server_factory):
    server = live_server_factory()
    add_staff(server, "sue.patel")
    assert run(server, "checkpoint").returncode == 0
    wrong = run(server, "verify-store", "--fingerprint", "ab" * 32)
    assert wrong.returncode == 1 and "it was replaced" in one_line(wrong.stdout)
    malformed = run(server, "verify-store", "--fingerprint", "not hex")
    assert malformed.returncode == 2


def test_a_store_restored_from_an_older_backup_is_named(live_server_factory):
    """Every checkpoint in the restored store verifies; only the note kept beside the signing
    key shows that a newer one was signed and cut off."""
    server = live_server_factory()
    add_staff(server, "sue.patel")
    assert run(server, "checkpoint").returncode == 0
    store = server.data_dir / "incidents.sqlite"
    with sqlite3.connect(store) as db, sqlite3.connect(server.data_dir / "backup.sqlite") as backup:
        db.backup(backup)
    add_staff(server, "mo.khan")
    assert run(server, "checkpoint").returncode == 0
    with sqlite3.connect(server.data_dir / "backup.sqlite") as backup, sqlite3.connect(store) as db:
        backup.backup(db)
    result = run(server, "verify-store")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "but the store's last checkpoint is 1: checkpoint 2 missing" in one_line(result.stdout)


def test_the_app_signs_checkpoints_on_its_timer(live_server_factory):
    server = live_server_factory(INCIDENTS_CHECKPOINT_SECONDS="0.5")
    server.start()
    try:
        add_staff(server, "sue.patel")
        result = verify_until_covered(server)
        assert "verified" in result.stdout
    finally:
        server.stop()


def test_the_postgres_worker_signs_checkpoints_and_verify_store_names_a_deleted_event(postgres_url, live_server_factory):
    import psycopg

    server = live_server_factory(database_url=postgres_url, INCIDENTS_CHECKPOINT_SECONDS="0.5")
    add_staff(server, "sue.patel", "mo.khan")
    with Worker(server, "main") as worker:
        verify_until_covered(server)
    assert "Traceback" not in worker.log_path.read_text()  # the checkpoints verify_until_covered saw are the worker's: nobody else signs
    with psycopg.connect(postgres_url, autocommit=True) as db:
        originator, version = db.execute("SELECT originator_id, originator_version FROM incidents_events WHERE notification_id = 3").fetchone()
        db.execute("DELETE FROM incidents_events WHERE notification_id = 3")
    result = run(server, "verify-store")
    no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"event #3 (aggregate {originator}, version {version}) is missing: checkpoint 1 signed at " in one_line(result.stdout)
