"""Shared fixtures for the unit tests: a real IncidentLog on the in-memory event store, and
signed-in staff of two practices, made the way the product makes them (register, then sign in).

Passwords are hashed with a real Argon2id hasher whose cost is turned down, so that signing up
a handful of people per test takes milliseconds instead of seconds. It is set on the log
instance only; `test_accounts.py` also exercises the production parameters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterator

import pytest

from incidents.application import commands as c
from incidents.domain.acting import acting_as
from incidents.application.disclosures import ReceiveRequest
from incidents.application.service import Actor, IncidentLog
from incidents.bootstrap import open_log
from incidents.settings import Settings
from tests.conftest import FAST_HASHER
from tests.unit.kinds import ACTOR, ACTOR_NAME

PRACTICE_A = "A81001"
PRACTICE_B = "B82002"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    session_version: int
    password: str


@pytest.fixture
def acting_at_reception() -> Iterator[None]:
    """The receptionist acts unless a test says who else does."""
    with acting_as(ACTOR, ACTOR_NAME):
        yield


@pytest.fixture
def log() -> Iterator[IncidentLog]:
    """A fresh incident log on the in-memory store, with the same cipher and compressor as production."""
    opened = open_log(Settings(database_url="memory://"))
    opened.log.password_hasher = FAST_HASHER
    yield opened.log
    opened.log.close()


@pytest.fixture
def sign_up(log: IncidentLog) -> Callable[..., SignedIn]:
    """Register an account through the application, then sign in with it."""

    def make(username: str, practice: str = PRACTICE_A, role: str = "reception", password: str = PASSWORD) -> SignedIn:
        log.register_account(
            c.RegisterAccount(
                username=username,
                display_name=username.replace(".", " ").title(),
                practice=practice,
                roles=(role,),
                password=password,
            ),
            actor="admin",
        )
        signed_in = log.authenticate(username, password)
        assert signed_in is not None, f"{username} could not sign in straight after registering"
        actor, version = signed_in
        return SignedIn(actor, version, password)

    return make


def staff(username: str, practice: str, role: str):
    """A fixture giving that person, signed up and signed in."""

    def signed_in(sign_up) -> Actor:
        return sign_up(username, practice, role).actor

    return pytest.fixture(signed_in)


reception_a = staff("rita.reception", PRACTICE_A, "reception")
manager_a = staff("mo.manager", PRACTICE_A, "manager")
governance_a = staff("gill.governance", PRACTICE_A, "governance")
reception_b = staff("bea.reception", PRACTICE_B, "reception")
manager_b = staff("ben.manager", PRACTICE_B, "manager")
governance_b = staff("gus.governance", PRACTICE_B, "governance")


def receive(log, actor, requester_type="subject_access", received_on=date(2026, 1, 3), due_on=None, key=None) -> uuid.UUID:
    """A disclosure request received through the application; its id."""
    return log.receive_request(
        ReceiveRequest(
            submission_key=key or uuid.uuid4().hex,
            requester_type=requester_type,
            requester="Pat Example",
            reference="SAR/2026/01",
            received_on=received_on,
            due_on=due_on,
        ),
        actor,
    ).id
