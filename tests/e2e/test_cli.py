"""The `incidents` command as an operator runs it: adding staff, the first start on a fresh data
folder, and refusing to start, with a clear message and no traceback, when the key is wrong."""

from __future__ import annotations

import base64
import re
import secrets
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from incidents.bootstrap import open_log
from incidents.settings import Settings
from tests.conftest import BIN, Account, LiveServer, sign_in

PASSWORD = "a long enough password"


def run(server: LiveServer, *args: str, stdin: str | None = None, timeout: float = 60, **extra_env: str) -> subprocess.CompletedProcess:
    """The command in the server's environment (its data folder), whatever its exit code."""
    env = {**server.env, **extra_env}
    return subprocess.run([str(BIN / "incidents"), *args], input=stdin, env=env, capture_output=True, text=True, timeout=timeout)


def one_line(text: str) -> str:
    """Rich wraps long lines at 80 columns when not on a terminal: compare words, not layout."""
    return " ".join(text.split())


def no_traceback(result: subprocess.CompletedProcess) -> None:
    both = result.stdout + result.stderr
    assert "Traceback" not in both and 'File "' not in both, both


def authenticates(data_dir: Path, username: str, password: str) -> bool:
    opened = open_log(Settings(data_dir=data_dir))
    try:
        return opened.log.authenticate(username, password) is not None
    finally:
        opened.log.close()


def other_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode() + "\n"


# users add ------------------------------------------------------------------------------


def test_users_add_with_the_password_on_stdin(live_server_factory):
    server = live_server_factory()
    result = run(server, "users", "add", "sue.patel", "--name", "Sue Patel", "--role", "reception", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "Added sue.patel (reception, A81001)." in result.stdout
    assert PASSWORD not in result.stdout + result.stderr  # a piped password is never echoed
    assert "password:" not in result.stdout
    assert authenticates(server.data_dir, "sue.patel", PASSWORD)
    assert not authenticates(server.data_dir, "sue.patel", "another long password")


def test_users_add_prints_a_generated_password_once(live_server_factory):
    server = live_server_factory()
    result = run(server, "users", "add", "Mo.Khan", "--name", "Mo Khan", "--role", "manager", "--practice", "b82002")
    assert result.returncode == 0, result.stderr
    assert "Added mo.khan (manager, B82002)." in result.stdout
    passwords = re.findall(r"password: (\S+)\s+This password is shown only once, signs in once", result.stdout)
    assert len(passwords) == 1, result.stdout
    password = passwords[0]
    assert len(password) >= 12 and result.stdout.count(password) == 1
    assert "expires at" in one_line(result.stdout)
    opened = open_log(Settings(data_dir=server.data_dir))
    try:  # a one-time password: it signs in once, to choose one's own
        actor, _ = opened.log.authenticate("mo.khan", password)
        assert opened.log.needs_new_password(actor.user_id)
        assert opened.log.authenticate("mo.khan", password) is None
    finally:
        opened.log.close()
    # nothing later shows it again
    later = run(server, "users", "add", "gill", "--name", "Gill", "--role", "governance", "--password-stdin", stdin=PASSWORD + "\n")
    assert later.returncode == 0, later.stderr
    assert password not in later.stdout + later.stderr


def test_users_add_refuses_a_username_that_is_taken(live_server_factory):
    server = live_server_factory()
    first = run(server, "users", "add", "sue.patel", "--name", "Sue Patel", "--role", "reception", "--password-stdin", stdin=PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    again = run(server, "users", "add", "SUE.PATEL", "--name", "Another Sue", "--role", "manager", "--password-stdin", stdin="a different long password\n")
    assert again.returncode == 1, (again.stdout, again.stderr)
    assert "The username 'sue.patel' is taken" in one_line(again.stderr)
    assert "Added" not in again.stdout
    no_traceback(again)
    # the first account is untouched
    assert authenticates(server.data_dir, "sue.patel", PASSWORD)
    assert not authenticates(server.data_dir, "sue.patel", "a different long password")


@pytest.mark.parametrize(
    "args, stdin, words",
    [
        (("--role", "admin"), PASSWORD, ["Not added", "role", "'reception', 'manager' or 'governance'"]),
        (("--role", "reception"), "elevenchars", ["Not added", "password", "12 to 256 characters"]),
        (("--role", "reception"), "Password1234", ["Not added", "password", "most common"]),
        (("--role", "reception", "--practice", "not a code"), PASSWORD, ["Not added", "practice"]),
    ],
    ids=["bad-role", "short-password", "common-password", "bad-practice"],
)
def test_users_add_refuses_bad_input_with_exit_1(live_server_factory, args, stdin, words):
    server = live_server_factory()
    result = run(server, "users", "add", "carl.jones", "--name", "Carl Jones", *args, "--password-stdin", stdin=stdin + "\n")
    assert result.returncode == 1, (result.stdout, result.stderr)
    message = one_line(result.stderr)
    for word in words:
        assert word in message, message
    assert "Added" not in result.stdout
    no_traceback(result)
    assert not authenticates(server.data_dir, "carl.jones", stdin)


def test_users_add_gives_one_account_several_roles(live_server_factory):
    server = live_server_factory()
    result = run(server, "users", "add", "pat.khan", "--name", "Pat Khan", "--role", "manager", "--role", "governance", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "Added pat.khan (manager, governance, A81001)." in one_line(result.stdout)
    opened = open_log(Settings(data_dir=server.data_dir))
    try:
        actor, _ = opened.log.authenticate("pat.khan", PASSWORD)
        assert actor.roles == ("manager", "governance")
    finally:
        opened.log.close()


# practice set ---------------------------------------------------------------------------


def practice_details(data_dir: Path, practice: str = "A81001"):
    opened = open_log(Settings(data_dir=data_dir))
    try:
        return opened.log.practice_details(practice)
    finally:
        opened.log.close()


def test_practice_set_names_the_practice_and_says_so(live_server_factory):
    server = live_server_factory()
    result = run(server, "practice", "set", "--name", "Riverside Surgery", "--address", "1 River Road\\nLeeds\\nLS1 4AP")
    assert result.returncode == 0, result.stderr
    assert "Saved: Riverside Surgery (A81001), 1 River Road, Leeds, LS1 4AP" in one_line(result.stdout)
    details = practice_details(server.data_dir)
    assert (details.title, details.address) == ("Riverside Surgery (A81001)", "1 River Road\nLeeds\nLS1 4AP")
    again = run(server, "practice", "set", "--name", "Riverside Surgery", "--address", "1 River Road\\nLeeds\\nLS1 4AP")
    assert again.returncode == 0 and "Unchanged: Riverside Surgery (A81001)" in one_line(again.stdout)


@pytest.mark.parametrize(
    "args, words",
    [
        (("--name", "", "--address", "1 River Road"), ["Not saved", "--name"]),
        (("--name", "Riverside Surgery", "--address", "x" * 301), ["Not saved", "--address", "at most 300 characters"]),
        (("--name", "Riverside Surgery", "--address", "1 River Road", "--practice", "not a code"), ["Not saved", "not an ODS code"]),
    ],
    ids=["no-name", "long-address", "bad-practice"],
)
def test_practice_set_refuses_bad_input_with_exit_1(live_server_factory, args, words):
    server = live_server_factory()
    result = run(server, "practice", "set", *args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    message = one_line(result.stderr)
    for word in words:
        assert word in message, message
    no_traceback(result)
    assert practice_details(server.data_dir) is None


def test_demo_names_the_practice_unless_it_has_a_name(live_server_factory):
    server = live_server_factory()
    demo = run(server, "demo", "--months", "1", "--per-week", "1", timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert "Named the practice Riverside Surgery" in demo.stdout
    assert practice_details(server.data_dir).title == "Riverside Surgery (A81001)"

    renamed = live_server_factory()
    assert run(renamed, "practice", "set", "--name", "Hillside Health Centre", "--address", "2 Hill Street").returncode == 0
    again = run(renamed, "demo", "--months", "1", "--per-week", "1", timeout=300)
    assert again.returncode == 0, again.stderr
    assert "Named the practice" not in again.stdout
    assert practice_details(renamed.data_dir).name == "Hillside Health Centre"


# serve ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_on_a_fresh_data_dir_makes_the_key_and_the_first_account(live_server_factory):
    server = live_server_factory()
    key_file = server.data_dir / "cipher.key"
    assert not key_file.exists()
    server.start()
    try:
        assert key_file.exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((server.data_dir / "session.key").stat().st_mode) == 0o600
        assert len(base64.b64decode(key_file.read_text().strip())) == 32
        output = server.log_path.read_text()
        joined = "".join(output.splitlines())
        assert "Created the encryption key" in output and str(key_file) in joined
        assert "Back it up" in output
        passwords = re.findall(r"password: (\S+)", output)
        assert len(passwords) == 1, output
        assert "username: manager" in output and "practice A81001" in output
        # the printed password signs in once through the real form, to choose one's own
        with httpx.Client(base_url=server.url, follow_redirects=False, timeout=15) as client:
            sign_in(client, Account("manager", passwords[0], "manager", "A81001"))
            assert client.get("/choose-password").status_code == 200
    finally:
        server.stop()
    # The second start makes nothing new and shows no password.
    key = key_file.read_text()
    server.start()
    server.stop()
    again = server.log_path.read_text()
    assert "Created" not in again and "password" not in again, again
    assert key_file.read_text() == key


@pytest.mark.slow
def test_serve_prints_a_long_key_file_path_whole(live_server_factory):
    server = live_server_factory()
    long_dir = server.data_dir / "a-folder-with-a-rather-long-name-for-the-practice-data" / "kept-here"
    long_dir.mkdir(parents=True)
    server.env["INCIDENTS_DATA_DIR"] = str(long_dir)
    key_file = long_dir / "cipher.key"
    assert len(str(key_file)) > 80
    server.start()
    server.stop()
    output = server.log_path.read_text()
    assert key_file.exists()
    assert any(str(key_file) in line for line in output.splitlines()), output


def stopped_server_with_data(live_server_factory) -> LiveServer:
    server = live_server_factory()
    server.add_account("sue.reception", "reception")  # writes events with the new key
    assert (server.data_dir / "cipher.key").exists()
    return server


@pytest.mark.slow
def test_serve_refuses_a_wrong_key_file_with_a_clear_message(live_server_factory):
    server = stopped_server_with_data(live_server_factory)
    key_file = server.data_dir / "cipher.key"
    wrong = other_key()
    key_file.write_text(wrong)
    result = run(server, "serve", "--port", "1")
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = one_line(result.stderr)
    assert message.startswith("Cannot start:"), message
    assert "The encryption key does not open the events stored in" in message
    assert "Use the key they were written with" in message
    no_traceback(result)
    assert key_file.read_text() == wrong  # never replaced
    assert "password" not in result.stdout  # no first account was made with the wrong key
    # adding staff is refused the same way
    added = run(server, "users", "add", "new.person", "--name", "New Person", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 2, (added.stdout, added.stderr)
    assert one_line(added.stderr).startswith("Cannot start: The encryption key does not open")
    no_traceback(added)


@pytest.mark.slow
def test_serve_refuses_a_missing_key_file_when_there_is_data(live_server_factory):
    server = stopped_server_with_data(live_server_factory)
    key_file = server.data_dir / "cipher.key"
    key = key_file.read_text()
    key_file.unlink()
    result = run(server, "serve", "--port", "1")
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = one_line(result.stderr)
    assert message.startswith("Cannot start: No encryption key"), message
    assert "restore the key file from your backup" in message
    no_traceback(result)
    assert not key_file.exists(), "a new key must not be made for data written with another"
    key_file.write_text(key)
    assert authenticates(server.data_dir, "sue.reception", PASSWORD)


@pytest.mark.parametrize(
    "extra_env, words",
    [
        ({"INCIDENTS_CIPHER_KEY": "not base64 at all!"}, "The encryption key in INCIDENTS_CIPHER_KEY is not base64"),
        ({"INCIDENTS_CIPHER_KEY": base64.b64encode(b"0123456789").decode()}, "must be 16, 24 or 32 bytes, not 10"),
        ({"INCIDENTS_DATABASE_URL": "mysql://db/incidents"}, "is not sqlite:///..., postgresql://... or memory://"),
    ],
    ids=["key-not-base64", "key-wrong-length", "unknown-database"],
)
def test_serve_refuses_bad_configuration_with_exit_2(live_server_factory, extra_env, words):
    server = live_server_factory()
    result = run(server, "serve", "--port", "1", **extra_env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert one_line(result.stderr).startswith("Cannot start:")
    assert words in one_line(result.stderr)
    no_traceback(result)


def test_serve_refuses_a_non_numeric_setting_with_exit_2(live_server_factory):
    server = live_server_factory()
    result = run(server, "serve", "--port", "1", INCIDENTS_IDLE_TIMEOUT_MINUTES="ten")
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert one_line(result.stderr).startswith("Cannot start:")
    no_traceback(result)


@pytest.mark.slow
def test_serve_refuses_an_unreachable_database_with_exit_2(live_server_factory):
    server = live_server_factory(database_url="postgresql://postgres@127.0.0.1:1/incidents")
    result = run(server, "serve", "--port", "1", timeout=90)
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert one_line(result.stderr).startswith("Cannot start:")
    no_traceback(result)
