"""The route x role matrix: every route of the app, and who may use it (DESIGN.md section 6).

Each route is called as each role, with a real signed-in session (accounts registered through the
application, CSRF token included on POSTs). A role the table allows must not be refused (any answer
but 401 or 403, and no trip to the sign-in page: a 200, a 303 to the next page, a 404 for a record
that does not exist, a 422 for an empty form). A role it refuses gets 403; a signed-out visitor is
sent to the sign-in page. A route the table does not list fails the test: add it to the matrix.
One account holds two roles (a manager who is also the governance lead): it may use every route
either role may, with one sign-in. The header's navigation links each role to every page it may
use, and to nothing else.

To add a route: one line in MATRIX, its key the method and the path as FastAPI declares it. Path
parameters are filled from SAMPLES (by name; any other gets a fresh UUID, which an allowed role
meets as a 404). Use Rule(roles, path=..., form=...) when a route needs a particular path or form.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from incidents.application import commands as c
from incidents.application.practice_recordings import MakeRecording
from incidents.bootstrap import open_log
from incidents.settings import Settings
from incidents.web.app import create_app
from tests.conftest import csrf_from

RECEPTION, MANAGER, GOVERNANCE, SIGNED_OUT = "reception", "manager", "governance", "signed-out"
MANAGER_AND_GOVERNANCE = "manager+governance"  # one account holding both roles
ROLES = (RECEPTION, MANAGER, GOVERNANCE, MANAGER_AND_GOVERNANCE, SIGNED_OUT)
HELD = {RECEPTION: (RECEPTION,), MANAGER: (MANAGER,), GOVERNANCE: (GOVERNANCE,), MANAGER_AND_GOVERNANCE: (MANAGER, GOVERNANCE)}
EVERYONE = frozenset(ROLES)
STAFF = frozenset({RECEPTION, MANAGER, GOVERNANCE})
MANAGERS = frozenset({MANAGER})
GOVERNANCE_ONLY = frozenset({GOVERNANCE})
OVERSEERS = frozenset({MANAGER, GOVERNANCE})  # the practice-wide views: what managers run, governance reads
RECORDING_MAKERS = frozenset({RECEPTION, MANAGER})
PRACTICE = "A81001"
PASSWORD = "a long enough password"
USERNAMES = {RECEPTION: "sue.reception", MANAGER: "mo.manager", GOVERNANCE: "gill.governance", MANAGER_AND_GOVERNANCE: "pat.partner"}


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    path: str = ""  # a concrete path to call instead of the declared one with its samples filled in
    form: Callable[[str], dict[str, str]] | None = None  # the form to post, given the role
    lands_on: str = ""  # where an allowed call is sent, when that is the sign-in page (signing out)


def own_sign_in(role: str) -> dict[str, str]:
    """Anyone may use the sign-in form: a signed-out visitor signs in as the receptionist."""
    return {"username": USERNAMES.get(role, USERNAMES[RECEPTION]), "password": PASSWORD}


MATRIX: dict[tuple[str, str], frozenset[str] | Rule] = {
    # Public: signing in and health (static files are served before the routes: tests/web/test_static_files.py)
    ("GET", "/sign-in"): EVERYONE,
    ("POST", "/sign-in"): Rule(EVERYONE, form=own_sign_in),
    ("GET", "/healthz"): EVERYONE,
    # Every member of staff: their session, logging incidents and what staff did
    ("POST", "/sign-out"): Rule(STAFF, lands_on="/sign-in?reason=signed-out"),
    ("POST", "/session/keep-alive"): STAFF,  # sent by the page while a person types or taps
    ("GET", "/choose-password"): STAFF,  # after a one-time password; a full session is sent home
    ("POST", "/choose-password"): STAFF,
    ("GET", "/"): STAFF,
    ("GET", "/incidents/new/{kind}"): STAFF,
    ("POST", "/incidents/new/{kind}"): STAFF,
    ("GET", "/incidents/{incident_id}"): STAFF,
    ("POST", "/incidents/{incident_id}/responses"): STAFF,
    ("POST", "/incidents/{incident_id}/notes"): STAFF,
    ("POST", "/incidents/{incident_id}/corrections"): STAFF,
    # Managers: everything about incidents, dashboard, reports, notices
    ("POST", "/incidents/{incident_id}/review"): MANAGERS,
    ("POST", "/incidents/{incident_id}/close"): MANAGERS,
    ("POST", "/incidents/{incident_id}/reopen"): MANAGERS,
    # Managers and governance: the dashboard, the incident list and the monthly report
    ("GET", "/dashboard"): OVERSEERS,
    ("GET", "/dashboard/live"): OVERSEERS,
    ("GET", "/incidents"): OVERSEERS,
    ("GET", "/incidents.csv"): OVERSEERS,
    ("POST", "/incidents/patient"): OVERSEERS,  # a patient's incidents by NHS number
    ("GET", "/reports/monthly"): OVERSEERS,
    ("GET", "/reports/monthly.csv"): OVERSEERS,
    # Governance: disclosures, exports, staff accounts
    ("GET", "/staff"): GOVERNANCE_ONLY,
    ("GET", "/staff/new"): GOVERNANCE_ONLY,
    ("POST", "/staff"): GOVERNANCE_ONLY,
    ("GET", "/staff/{account_id}"): GOVERNANCE_ONLY,
    ("POST", "/staff/{account_id}/reset-password"): GOVERNANCE_ONLY,
    ("POST", "/staff/{account_id}/disable"): GOVERNANCE_ONLY,
    ("POST", "/staff/{account_id}/enable"): GOVERNANCE_ONLY,
    ("POST", "/staff/{account_id}/roles"): GOVERNANCE_ONLY,  # posted empty: refused as a form (422), nothing changed
    ("GET", "/practice"): GOVERNANCE_ONLY,
    ("POST", "/practice"): GOVERNANCE_ONLY,  # posted empty: refused as a form (422), nothing changed
    # The notice register (managers)
    ("GET", "/notices"): MANAGERS,
    ("GET", "/notices/new"): MANAGERS,
    ("POST", "/notices"): MANAGERS,
    ("GET", "/notices/{notice_id}"): MANAGERS,
    ("POST", "/notices/{notice_id}/revise"): MANAGERS,
    ("POST", "/notices/{notice_id}/withdraw"): MANAGERS,
    # The call recording policy (managers and governance keep it); any member of staff may ask to
    # listen to a recording, and the policy refuses a role it does not name (422, with the reason)
    ("GET", "/call-recording"): OVERSEERS,
    ("POST", "/call-recording"): OVERSEERS,  # posted empty: refused as a form (422), nothing changed
    ("POST", "/call-recording/end"): OVERSEERS,
    ("GET", "/call-recording/listenings/new"): STAFF,
    ("POST", "/call-recording/listenings"): STAFF,
    # Disclosure requests (governance)
    ("GET", "/disclosures"): GOVERNANCE_ONLY,
    ("GET", "/disclosures/new"): GOVERNANCE_ONLY,
    ("POST", "/disclosures"): GOVERNANCE_ONLY,
    ("GET", "/disclosures/{request_id}"): GOVERNANCE_ONLY,
    ("GET", "/disclosures/{request_id}/scope"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/scope"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/legal-basis"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/extend"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/refuse"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/close"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/disclosed"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/export"): GOVERNANCE_ONLY,  # the evidence bundle
    ("POST", "/disclosures/{request_id}/redact"): GOVERNANCE_ONLY,
    ("POST", "/disclosures/{request_id}/unredact"): GOVERNANCE_ONLY,
    ("GET", "/disclosures/{request_id}/bundles/{fingerprint}"): GOVERNANCE_ONLY,  # a bundle again
    # Retention (governance): the review queue, a record's retention page, legal holds and review decisions
    ("GET", "/retention"): GOVERNANCE_ONLY,
    ("GET", "/retention/{record_id}"): GOVERNANCE_ONLY,
    ("POST", "/retention/{record_id}/hold"): GOVERNANCE_ONLY,  # posted empty: refused as a form (422), nothing changed
    ("POST", "/retention/{record_id}/lift-hold"): GOVERNANCE_ONLY,
    ("POST", "/retention/{record_id}/keep"): GOVERNANCE_ONLY,
    ("POST", "/retention/{record_id}/dispose"): GOVERNANCE_ONLY,
    # Recordings the practice makes. There is no clinician role (the clinician is named on the
    # record): reception and managers register a recording and record its consent, review,
    # variation, withdrawal and the medical-record note; managers record each use and its
    # destruction; every member of staff reads it, prints its consent form and checks a file.
    ("GET", "/recordings"): STAFF,
    ("GET", "/recordings/new"): RECORDING_MAKERS,
    ("POST", "/recordings"): RECORDING_MAKERS,  # posted empty: refused as a form (422)
    ("GET", "/recordings/{recording_id}"): STAFF,
    ("GET", "/recordings/{recording_id}/consent-form.pdf"): STAFF,
    ("POST", "/recordings/{recording_id}/consent"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/file"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/review-offered"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/reviewed"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/vary"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/withdraw"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/noted"): RECORDING_MAKERS,
    ("POST", "/recordings/{recording_id}/uses"): MANAGERS,
    ("POST", "/recordings/{recording_id}/destroy"): MANAGERS,
    ("POST", "/retention/{record_id}/erase"): GOVERNANCE_ONLY,  # a record not awaiting disposal: refused (409), nothing destroyed
    ("GET", "/retention/{record_id}/certificate.pdf"): GOVERNANCE_ONLY,  # a record not disposed of: 404
}


def rule_of(key: tuple[str, str]) -> Rule:
    value = MATRIX[key]
    return value if isinstance(value, Rule) else Rule(value)


def may_use(role: str, rule: Rule) -> bool:
    """An account may use a route if any role it holds may."""
    return any(r in rule.roles for r in HELD.get(role, (role,)))


def app_routes(routes, prefix: str = "") -> set[tuple[str, str]]:
    """Every (method, path) the app answers, through included routers; a mount counts as one GET."""
    found = set()
    for route in routes:
        if isinstance(route, Mount):
            found.add(("GET", prefix + route.path))
        elif isinstance(route, (APIRoute, Route)):
            found.update((method, prefix + route.path) for method in route.methods or () if method != "HEAD")
        elif hasattr(route, "original_router"):  # FastAPI 0.165 keeps an included router whole
            found |= app_routes(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            raise AssertionError(f"A kind of route this test cannot enumerate: {route!r}")
    return found


@dataclass
class World:
    app: object
    samples: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> session cookies, reused


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("matrix")) / "data", practice=PRACTICE, projections="inline")
    opened = open_log(settings)
    log = opened.log
    for username, held in [*((u, HELD[r]) for r, u in USERNAMES.items()), ("target.reception", (RECEPTION,))]:
        log.register_account(
            c.RegisterAccount(username=username, display_name=username.split(".")[0].title(), practice=PRACTICE, roles=held, password=PASSWORD),  # type: ignore[arg-type]
            actor="test",
        )
    actor, _ = log.authenticate(USERNAMES[RECEPTION], PASSWORD)  # type: ignore[misc]
    when = datetime.now(ZoneInfo("Europe/London")) - timedelta(minutes=5)
    incident = log.report_filming(
        c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient", people_captured="staff_and_patients", children_present="no"),  # type: ignore[arg-type]
        actor,
    )
    recording = log.make_recording(
        MakeRecording(submission_key=uuid.uuid4().hex, nhs_number="9434765919", clinician="Dr Reg", recorded_on=when.date(), purpose="training", medium="video"),  # type: ignore[arg-type]
        actor,
    )
    app = create_app(settings, opened)
    yield World(app, {"recording_id": str(recording.id), "incident_id": str(incident.id), "record_id": str(incident.id), "account_id": str(log.account_id("target.reception")), "kind": "filming"})
    for stop in app.state.on_shutdown:
        stop()
    log.close()


def concrete_path(declared: str, rule: Rule, samples: dict[str, str]) -> str:
    if rule.path:
        return rule.path
    path = declared
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end].split(":")[0]
        path = path[:start] + samples.get(name, str(uuid.uuid4())) + path[end + 1 :]
    return path


def client_as(world: World, role: str) -> TestClient:
    """A client with a session of that role: signed in once, its cookie reused (Argon2 is slow)."""
    client = TestClient(world.app, follow_redirects=False, raise_server_exceptions=False)
    if role in world.sessions:
        client.cookies.update(world.sessions[role])
        return client
    token = csrf_from(client.get("/sign-in").text)
    if role != SIGNED_OUT:
        signed_in = client.post("/sign-in", data={"username": USERNAMES[role], "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 303, signed_in.text
    world.sessions[role] = dict(client.cookies)
    return client


def test_every_route_is_in_the_matrix(world):
    routes = app_routes(world.app.routes)
    missing = sorted(routes - MATRIX.keys())
    assert not missing, f"Routes with no row in MATRIX: {missing}: add it to the matrix"
    stale = sorted(MATRIX.keys() - routes)
    assert not stale, f"Rows in MATRIX for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path", sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_route_as_role(world, method, path, role):
    rule = rule_of((method, path))
    url = concrete_path(path, rule, world.samples)
    client = client_as(world, role)  # not `with`: that would run the app's shutdown after each test
    try:
        if method == "GET":
            response = client.get(url)
        else:
            token = csrf_from(client.get("/sign-in").text) if role == SIGNED_OUT else session_csrf(client)
            response = client.request(method, url, data={"csrf_token": token, **(rule.form(role) if rule.form else {})})
    finally:
        client.close()
        if method == "POST" and path in ("/sign-out", "/sign-in", "/choose-password"):
            world.sessions.pop(role, None)  # that session has ended or changed: sign in afresh next time
    location = response.headers.get("location", "")
    seen = f"{method} {url} as {role}: {response.status_code} {location}"
    if may_use(role, rule):
        assert response.status_code not in (401, 403), seen
        assert response.status_code < 500, seen
        if rule.lands_on:
            assert response.status_code == 303 and location == rule.lands_on, seen
        elif role != SIGNED_OUT:
            assert not location.startswith("/sign-in"), seen
    elif role == SIGNED_OUT:
        assert response.status_code == 303 and location.startswith("/sign-in"), seen
    else:
        assert response.status_code == 403, seen


def session_csrf(client: TestClient) -> str:
    """The session's CSRF token, from a page any signed-in role can see."""
    return csrf_from(client.get("/incidents/new/filming").text)


NOT_IN_NAVIGATION = {"/sign-in", "/healthz", "/choose-password", "/dashboard/live", "/reports/monthly.csv", "/incidents.csv"}  # downloads are linked from their pages


def page_routes() -> list[str]:
    """The pages a person goes to: GET routes of the matrix with no record in their path, no form
    to fill in that another page leads to (.../new), no file and no part of another page."""
    return sorted(
        path for method, path in MATRIX
        if method == "GET" and "{" not in path and not path.endswith("/new") and path not in NOT_IN_NAVIGATION
        and not isinstance(MATRIX[(method, path)], Rule)
    )


@pytest.mark.parametrize("role", [r for r in ROLES if r != SIGNED_OUT])
def test_the_navigation_reaches_every_page_the_role_may_use_and_no_other(world, role):
    client = client_as(world, role)
    try:
        home = client.get("/")
    finally:
        client.close()
    header = home.text.split('<nav class="nhsuk-header__navigation"', 1)[1].split("</nav>", 1)[0]
    linked = set(re.findall(r'href="([^"]+)"', header))
    reachable = {path for path in page_routes() if may_use(role, rule_of(("GET", path)))}
    pages_by_form = {"/incidents/new/filming", "/incidents/new/recording"}  # the two kinds of incident, named in the header
    assert linked == reachable | pages_by_form, f"{role}: linked {sorted(linked)}, may use {sorted(reachable)}"
