"""Shared fixtures: real PostgreSQL databases, Chromium, and a real uvicorn server."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import httpx
import pytest
from argon2 import PasswordHasher

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_HOST, PG_PORT = "127.0.0.1", 5432
CHROMIUM = os.environ.get("INCIDENTS_CHROMIUM", "/usr/bin/chromium")
# Real Argon2id with cheap parameters, for accounts a test makes by the dozen: production's cost
# is tested in tests/unit/test_accounts.py.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _required(name: str) -> bool:
    return os.environ.get(name) == "1"


def unavailable(reason: str, require_flag: str) -> None:
    if _required(require_flag):
        pytest.fail(f"{reason}, and {require_flag}=1 says it must run")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True, connect_timeout=3)
    except Exception as error:  # any connection failure means "not available here"
        unavailable(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({error})", "INCIDENTS_REQUIRE_POSTGRES")
    name = f"incidents_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)", "INCIDENTS_REQUIRE_BROWSER")
    return CHROMIUM


T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.05) -> T:
    """Call predicate until it returns something true, and return that; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"not so within {timeout} s: {predicate.__doc__ or predicate}"
        time.sleep(interval)
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Account:
    username: str
    password: str
    role: str
    practice: str


@dataclass
class LiveServer:
    """A real `incidents serve` (uvicorn) in its own process."""

    data_dir: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "incidents"), *args], input=stdin, env=self.env, capture_output=True, text=True, timeout=60, check=True
        )

    def add_account(self, username: str, role: str, practice: str = "A81001", password: str = "a long enough password") -> Account:
        self.cli("users", "add", username, "--name", username.replace(".", " ").title(), "--role", role, "--practice", practice, "--password-stdin", stdin=password + "\n")
        return Account(username, password, role, practice)

    def start(self, healthy: bool = True) -> None:
        """Start, and return once /healthz answers 200 (or, with healthy=False, answers at all)."""
        self.port = free_port()
        self.log_path = self.data_dir / f"server-{self.port}.log"
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(BIN / "incidents"), "serve", "--port", str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code in ((200,) if healthy else (200, 503)):
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator:
    """Real `incidents serve` processes, stopped when the test ends. A test on PostgreSQL asks for
    `postgres_url` first: fixtures end in the reverse order, so the servers stop (signing their
    last checkpoint) before the database is dropped, not after, with their connections gone."""
    servers: list[LiveServer] = []

    def make(database_url: str = "", **extra: str) -> LiveServer:
        data_dir = tmp_path / f"data{len(servers)}"
        data_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_") or k.startswith("INCIDENTS_REQUIRE")}
        env.update(INCIDENTS_DATA_DIR=str(data_dir), INCIDENTS_PRACTICE="A81001", **extra)
        if database_url:
            env["INCIDENTS_DATABASE_URL"] = database_url
            env["INCIDENTS_CIPHER_KEY_FILE"] = str(data_dir / "cipher.key")
        server = LiveServer(data_dir, env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def sign_in(client: httpx.Client, account: Account) -> None:
    """Sign in through the real form, CSRF token and all."""
    page = client.get("/sign-in")
    token = csrf_from(page.text)
    response = client.post("/sign-in", data={"username": account.username, "password": account.password, "csrf_token": token})
    assert response.status_code == 303, response.text


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def field_from(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def has_tool(name: str) -> bool:
    return shutil.which(name) is not None


def run_in_own_loop(coroutine_function, *args):
    """asyncio.run(coroutine_function(*args)) on a thread of its own, as the web server's loop
    would run it: after the browser tests, Playwright's loop still runs on the main thread."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine_function(*args))
        except BaseException as error:  # handed back to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the event loop did not finish within 60 s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
