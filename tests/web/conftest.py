"""The app in-process (FastAPI's TestClient) on a SQLite file, with accounts in two practices.
Its projections run in its own process too (INCIDENTS_PROJECTIONS=inline), so a test can reach
into them; the default (a child process) is tested against real servers in tests/e2e."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.settings import Settings
from incidents.web.app import create_app
from tests.conftest import FAST_HASHER, Account, csrf_from

PASSWORD = "a long enough password"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", practice="A81001", projections="inline")


@pytest.fixture
def web_app(settings: Settings):
    opened = open_log(settings)
    opened.log.password_hasher = FAST_HASHER  # also for staff added and passwords reset in a test
    for username, role, practice in [
        ("sue.reception", "reception", "A81001"),
        ("mo.manager", "manager", "A81001"),
        ("gill.governance", "governance", "A81001"),
        ("other.reception", "reception", "B82002"),
        ("other.manager", "manager", "B82002"),
    ]:
        opened.log.register_account(
            c.RegisterAccount(username=username, display_name=username.split(".")[0].title(), practice=practice, roles=(role,), password=PASSWORD),  # type: ignore[arg-type]
            actor="test",
        )
    app = create_app(settings, opened)
    yield app
    for stop in app.state.on_shutdown:  # what the lifespan does when a server stops
        stop()
    opened.log.close()


@pytest.fixture
def client_for(web_app) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def make(username: str | None = None) -> TestClient:
        client = TestClient(web_app, follow_redirects=False, raise_server_exceptions=False)
        clients.append(client)
        if username:
            page = client.get("/sign-in")
            response = client.post("/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()


def account(username: str, role: str, practice: str = "A81001") -> Account:
    return Account(username, PASSWORD, role, practice)
