"""One signing key per deployment: processes with data folders of their own, on one PostgreSQL
database, all sign with the key kept in the event store; a key file left by the previous code is
adopted; a named key file that differs stops the process; a read-only key folder is no crash."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.evidence.signing import load_or_create
from incidents.settings import Settings
from incidents.storage import new_cipher_key
from tests.conftest import BIN
from tests.e2e.test_cli import no_traceback, one_line

pytestmark = pytest.mark.slow
PASSWORD = "a long enough password\n"


# Shared by every process of a deployment, like the cipher key (each data folder would otherwise make its own).
PATIENT_INDEX_KEY = new_cipher_key()


class Process:
    """One deployment process's environment: its own data folder, the shared database and cipher key."""

    def __init__(self, folder: Path, database_url: str, cipher_key: str, **extra: str) -> None:
        self.data_dir = folder
        folder.mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
        self.env.update(
            INCIDENTS_DATA_DIR=str(folder), INCIDENTS_DATABASE_URL=database_url, INCIDENTS_CIPHER_KEY=cipher_key,
            INCIDENTS_PRACTICE="A81001", INCIDENTS_PROJECTIONS="worker", INCIDENTS_PATIENT_INDEX_KEY=PATIENT_INDEX_KEY, **extra,
        )

    def run(self, *args: str, stdin: str | None = None, as_nobody: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(BIN / "incidents"), *args]
        if as_nobody and os.geteuid() == 0:  # root writes anywhere: run as a user the folder's mode applies to
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        return subprocess.run(command, input=stdin, env=self.env, capture_output=True, text=True, timeout=timeout)

    def add_staff(self, username: str) -> None:
        result = self.run("users", "add", username, "--name", username.title(), "--role", "reception", "--password-stdin", stdin=PASSWORD)
        assert result.returncode == 0, result.stderr

    def settings(self) -> Settings:
        return Settings.from_env(self.env)


@pytest.fixture
def cipher() -> str:
    return new_cipher_key()


def test_processes_with_their_own_folders_sign_with_one_key(postgres_url, tmp_path, cipher):
    first, second = Process(tmp_path / "a", postgres_url, cipher), Process(tmp_path / "b", postgres_url, cipher)
    first.add_staff("sue.patel")
    made = first.run("checkpoint")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Made the deployment's signing key and kept it in the event store" in one_line(made.stdout)
    second.add_staff("mo.khan")
    signed = second.run("checkpoint")
    no_traceback(signed)
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert "Signed checkpoint 2" in one_line(signed.stdout)
    for process in (first, second):
        checked = process.run("verify-store")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "match 2 signed checkpoint(s)" in one_line(checked.stdout)
    assert not list(tmp_path.glob("*/signing-key.pem")), "the key is kept in the store, not in a folder"


def write_as_the_previous_code_did(process: Process) -> str:
    """A store with events and a checkpoint signed by signing-key.pem in the data folder, as
    `incidents checkpoint` left them before the store kept the key; returns its fingerprint."""
    settings = process.settings()
    opened = open_log(settings)
    try:
        opened.log.register_account(
            c.RegisterAccount(username="sue.patel", display_name="Sue", practice="A81001", roles=("reception",), password="a long enough password"),
            actor="cli",
        )
        key = load_or_create(settings.effective_signing_key_file)
        assert opened.log.record_checkpoint(key)
    finally:
        opened.log.close()
    return key.fingerprint()


def test_the_key_file_of_a_store_written_by_the_previous_code_is_adopted(postgres_url, tmp_path, cipher):
    worker, app = Process(tmp_path / "worker", postgres_url, cipher), Process(tmp_path / "app", postgres_url, cipher)
    fingerprint = write_as_the_previous_code_did(worker)
    app.add_staff("mo.khan")

    # The app's folder has no key: it may not start signing with a new one while the store's checkpoints name another.
    refused = app.run("checkpoint")
    no_traceback(refused)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"The store's checkpoints are signed with the key {fingerprint}, which the store does not keep yet" in one_line(refused.stderr)

    adopted = worker.run("checkpoint")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert f"Adopted the signing key {worker.data_dir / 'signing-key.pem'} into the event store" in one_line(adopted.stdout)
    assert fingerprint in one_line(adopted.stdout) and "Signed checkpoint 2" in one_line(adopted.stdout)

    app.add_staff("ann.lee")
    signed = app.run("checkpoint")
    assert signed.returncode == 0 and "Signed checkpoint 3" in one_line(signed.stdout), signed.stdout + signed.stderr
    checked = app.run("verify-store")
    assert checked.returncode == 0 and f"match 3 signed checkpoint(s), key {fingerprint}" in one_line(checked.stdout), checked.stdout


def test_a_named_key_file_other_than_the_stored_key_stops_the_process(postgres_url, tmp_path, cipher):
    first = Process(tmp_path / "a", postgres_url, cipher)
    first.add_staff("sue.patel")
    assert first.run("checkpoint").returncode == 0
    other = load_or_create(tmp_path / "other.pem")
    named = Process(tmp_path / "b", postgres_url, cipher, INCIDENTS_SIGNING_KEY_FILE=str(tmp_path / "other.pem"))
    for args in (["checkpoint"], ["serve", "--port", "0"]):
        try:
            result = named.run(*args, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`incidents {' '.join(args)}` started with a key other than the deployment's")
        no_traceback(result)
        assert result.returncode == 2, result.stdout + result.stderr
        said = one_line(result.stderr)
        assert f"INCIDENTS_SIGNING_KEY_FILE {tmp_path / 'other.pem'} holds the key {other.fingerprint()}, but this deployment signs with the key kept in its event store" in said


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder outside pytest's own (which only its owner may enter), for a process run as nobody."""
    with tempfile.TemporaryDirectory(prefix="incidents-keys-") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


def test_checkpoint_with_a_read_only_key_folder_signs_and_does_not_crash(postgres_url, open_folder, cipher):
    process = Process(open_folder / "keys", postgres_url, cipher)
    process.add_staff("sue.patel")
    key = load_or_create(process.settings().effective_signing_key_file)
    key.created_at.chmod(0o444)
    process.data_dir.chmod(0o555)
    try:
        result = process.run("checkpoint", as_nobody=True)
    finally:
        process.data_dir.chmod(0o755)
    no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    said = one_line(result.stdout)
    assert "Adopted the signing key" in said and key.fingerprint() in said and "Signed checkpoint 1" in said
    assert not (process.data_dir / "checkpoint-head.json").exists()


def test_an_unreadable_key_file_left_in_a_data_folder_does_not_stop_a_process(postgres_url, tmp_path, cipher):
    first, second = Process(tmp_path / "a", postgres_url, cipher), Process(tmp_path / "b", postgres_url, cipher)
    first.add_staff("sue.patel")
    assert first.run("checkpoint").returncode == 0
    (second.data_dir / "signing-key.pem").write_text("not a key")
    second.add_staff("mo.khan")
    signed = second.run("checkpoint")
    assert signed.returncode == 0 and "Signed checkpoint 2" in one_line(signed.stdout), signed.stdout + signed.stderr
    assert "it is not used: this deployment signs with the key kept in its event store" in one_line(signed.stderr)
