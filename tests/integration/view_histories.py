"""Shared by the contract tests of the dashboard figures and the action queue: a projection run
by the library's ProjectionRunner (batched on SQLite, as the app runs it), the same projection
built again from every stored event as a rebuild builds it, fresh PostgreSQL databases, and random
histories of incidents that cross months, correct their times and places, chase copies, send
warning letters, close and reopen (and, for the action queue, disclosure requests received,
extended, disclosed, refused and closed)."""

from __future__ import annotations

import tempfile
import uuid
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from incidents.application import commands as c
from incidents.application import disclosures as d
from incidents.application.records import UK
from incidents.application.service import IncidentLog
from incidents.bootstrap import Opened, open_log
from incidents.domain.values import DomainError
from incidents.settings import Settings
from incidents.sqlite_subscription import SQLitePollingSubscription
from tests.conftest import PG_HOST, PG_PORT, unavailable

PRACTICES = ("A81001", "B82002")
PASSWORD = "a long enough password"
FILMING_RESPONSES = ("PolicyExplained", "AskedToStop", "WarningLetterSent", "RemovalRequested", "PoliceCalled")
RECORDING_RESPONSES = ("AskedToRecordOpenly", "CopyRequested", "CopyReceived", "PatientDeclinedToShare", "CopyRequested")
FILMING_OUTCOMES = ("resolved_at_desk", "warning_letter", "no_further_action")
RECORDING_OUTCOMES = ("copy_added_to_record", "patient_declined_to_share", "no_further_action")


def view_env(opened: Opened, name: str, database: str | None = None) -> dict[str, str]:
    """The application's environment plus where the named projection's view lives: its own
    SQLite file beside the events (or `database`, a file name there), or a PostgreSQL database."""
    env = dict(opened.env)
    if opened.store.kind == "sqlite":
        env[f"{name.upper()}_SQLITE_DBNAME"] = str(Path(opened.store.location).parent / (database or f"view-{name}.sqlite"))
    elif database:
        env[f"{name.upper()}_POSTGRES_DBNAME"] = database
    return env


def run_projection(opened: Opened, projection: Any, views: dict[str, Any]) -> ProjectionRunner[IncidentLog, Any]:
    """The projection run live by the library's runner, as start_projections runs it."""
    runner: ProjectionRunner[IncidentLog, Any] = ProjectionRunner(
        application_class=IncidentLog,
        projection_class=projection,
        view_class=views[opened.store.kind],
        env=view_env(opened, projection.name),
    )
    runner.__enter__()
    subscription = getattr(runner._subscription, "subscription", None)  # the recorder's own
    if isinstance(subscription, SQLitePollingSubscription):  # batched as start_projections does
        subscription.before_reading = runner.view.flush  # set first: a buffered write is always flushed
        runner.view.start_batching()
    return runner


def stop(runner: ProjectionRunner[IncidentLog, Any]) -> None:
    runner.__exit__(None, None, None)


def runner_of(projection: Any, views: dict[str, Any]) -> Any:
    """A `runner` fixture: the projection run live on the `opened` store, stopped after the test."""

    @pytest.fixture
    def runner(opened: Opened) -> Iterator[ProjectionRunner[IncidentLog, Any]]:
        running = run_projection(opened, projection, views)
        yield running
        stop(running)

    return runner


def an_ignored_event_advances_tracking(opened: Opened, runner: Any) -> None:
    """Staff account events are no incident's, and still move the view's tracking position."""
    log = opened.log
    managers(log)  # staff account events: not incidents, still tracked
    last = log.recorder.max_notification_id()
    runner.wait(last, timeout=10)
    assert runner.view.max_tracking_id(log.name) == last


def live_equals_rebuilt_on_both(history: Any, check: Callable[[Opened, Any, str], None]) -> Any:
    """The test that `check(opened, steps, rebuilt)` holds for random histories, on a fresh store of each database."""

    @pytest.mark.parametrize("database, examples", [("sqlite", 10), ("postgres", 6)])
    def test(database: str, examples: int) -> None:
        @hypothesis_settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(steps=history)
        def each(steps: Any) -> None:
            on_a_fresh_store(database, lambda opened, rebuilt: check(opened, steps, rebuilt))

        each()

    return test


def on_a_fresh_store(database: str, check: Callable[[Opened, str], None]) -> None:
    """`check(opened, rebuilt)` on a fresh store of the database, `rebuilt` naming where a rebuilt view may go."""
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        if database == "sqlite":
            settings, rebuilt = Settings(data_dir=Path(folder)), "view-rebuilt.sqlite"
        else:
            events, rebuilt = stack.enter_context(postgres_database()), stack.enter_context(postgres_database())
            settings = Settings(data_dir=Path(folder), database_url=postgres_url(events))
        opened = open_log(settings)
        try:
            check(opened, rebuilt)
        finally:
            opened.log.close()


def rebuilt_view(opened: Opened, projection: Any, views: dict[str, Any], database: str) -> Any:
    """A fresh view, built from every stored event as a rebuild builds it (its fold holding every
    row, written page by page), to compare with the view built live."""
    env = Environment(projection.name, view_env(opened, projection.name, database))
    view = InfrastructureFactory.construct(env).tracking_recorder(views[opened.store.kind]).start_rebuilding()
    fed = projection(view)
    log = opened.log
    position = 0
    while page := log.recorder.select_notifications(start=position, limit=500, inclusive_of_start=False):
        for notification in page:
            fed.process_event(log.mapper.to_domain_event(notification), Tracking(log.name, notification.id))
        view.flush()
        position = page[-1].id
    view.finish_rebuilding()
    return view


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (its name), dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True, connect_timeout=3)
    except Exception as error:
        unavailable(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({error})", "INCIDENTS_REQUIRE_POSTGRES")
    name = f"incidents_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def postgres_url(name: str) -> str:
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"


def staff_in_each_practice(log: IncidentLog, role: str) -> dict[str, Any]:
    """One signed-in actor of the role in each practice, by practice."""
    actors = {}
    for practice in PRACTICES:
        username = f"{role}.{practice.lower()}"
        log.register_account(c.RegisterAccount(username=username, display_name=role[0].upper(), practice=practice, roles=(role,), password=PASSWORD), actor="test")  # type: ignore[arg-type]
        actors[practice] = log.authenticate(username, PASSWORD)[0]
    return actors


def managers(log: IncidentLog) -> dict[str, Any]:
    return staff_in_each_practice(log, "manager")


def governors(log: IncidentLog) -> dict[str, Any]:
    """A governance lead in each practice: the role that handles disclosure requests."""
    return staff_in_each_practice(log, "governance")


def receive(log: IncidentLog, actor: Any, requester_type: str, received_on: Any, due_on: Any = None, reference: str = "REF/1") -> Any:
    return log.receive_request(
        d.ReceiveRequest(submission_key=uuid.uuid4().hex, requester_type=requester_type, requester="Zoë Łukasz", reference=reference, received_on=received_on, due_on=due_on),
        actor,
    )


def disclose(log: IncidentLog, actor: Any, request_id: uuid.UUID, incident_id: uuid.UUID) -> Any:
    """Scope, legal basis, a recorded export and the disclosure: what a request needs to be disclosed."""
    log.set_request_scope(d.SetRequestScope(request_id=request_id, incident_ids=[incident_id]), actor)
    log.record_legal_basis(d.RecordLegalBasis(request_id=request_id, basis="consent"), actor)
    log.record_export(d.RecordExport(request_id=request_id, fingerprint=uuid.uuid4().hex * 2), actor)
    return log.record_disclosure(d.RecordDisclosure(request_id=request_id, note="sent"), actor)


def settle(log: IncidentLog, actor: Any, request_id: uuid.UUID, how: str, incident_id: uuid.UUID | None = None) -> Any:
    """End a request: "disclose" (needs an incident of its practice), "refuse" or "close"."""
    if how == "disclose":
        assert incident_id is not None
        return disclose(log, actor, request_id, incident_id)
    if how == "refuse":
        return log.refuse_request(d.RefuseRequest(request_id=request_id, reason="Not our records"), actor)
    return log.close_request(d.CloseRequest(request_id=request_id, note="Withdrawn by the requester"), actor)


def report(log: IncidentLog, actor: Any, kind: str, occurred_at: datetime) -> Any:
    key = uuid.uuid4().hex
    if kind == "filming":
        return log.report_filming(c.ReportFilming(submission_key=key, occurred_at=occurred_at, area="waiting_area", filmer="patient", people_captured="staff", children_present="no"), actor)
    return log.report_recording(c.ReportRecording(submission_key=key, occurred_at=occurred_at, clinician="Dr Shah", setting="telephone", openness="announced", media="audio"), actor)


def respond(log: IncidentLog, actor: Any, incident_id: uuid.UUID, response: str, occurred_at: datetime, reference: str = "") -> Any:
    return log.respond(c.RecordResponse(incident_id=incident_id, submission_key=uuid.uuid4().hex, response=response, occurred_at=occurred_at, reference=reference), actor)


days = st.integers(0, 420)
step = st.one_of(
    st.tuples(st.just("report"), st.sampled_from(["filming", "recording"]), st.sampled_from(PRACTICES), days),
    st.tuples(st.just("respond"), st.integers(0, 20), st.integers(0, 4), days),
    st.tuples(st.just("correct"), st.integers(0, 20), st.booleans(), days),
    st.tuples(st.just("close"), st.integers(0, 20), st.integers(0, 2)),
    st.tuples(st.just("reopen"), st.integers(0, 20)),
    st.tuples(st.just("review"), st.integers(0, 20)),
    st.tuples(st.just("note"), st.integers(0, 20)),
    st.tuples(st.just("account"), st.sampled_from(PRACTICES)),
)
history = st.lists(step, min_size=1, max_size=30)
REQUESTER_TYPES = ("subject_access", "gmc", "solicitor", "court")
SETTLEMENTS = ("disclose", "refuse", "close")
request_step = st.one_of(
    st.tuples(st.just("request"), st.sampled_from(REQUESTER_TYPES), st.sampled_from(PRACTICES), st.integers(0, 90), st.integers(0, 60)),
    st.tuples(st.just("extend"), st.integers(0, 20), st.integers(-5, 70)),
    st.tuples(st.just("settle"), st.integers(0, 20), st.sampled_from(SETTLEMENTS)),
)
history_with_requests = st.lists(st.one_of(step, request_step), min_size=1, max_size=30)


def play(log: IncidentLog, actors: dict[str, Any], steps: list[tuple[Any, ...]], governance: dict[str, Any] | None = None) -> list[uuid.UUID]:
    """Play the steps; a step an invariant refuses (a response before the incident, a removal
    without a warning, closing twice, an extension to an earlier day) records nothing, as in the
    app. Request steps are played by the governance actors, if given. Returns the incidents."""
    now = datetime.now(timezone.utc)
    today = now.astimezone(UK).date()
    incidents: list[tuple[uuid.UUID, str, str]] = []
    requests: list[tuple[uuid.UUID, str]] = []
    for s in steps:
        try:
            if s[0] in ("request", "extend", "settle"):
                if governance is not None:
                    play_request_step(log, governance, s, today, incidents, requests)
                continue
            if s[0] == "report":
                saved = report(log, actors[s[2]], s[1], now - timedelta(days=s[3], minutes=len(incidents) + 1))
                incidents.append((saved.id, s[1], s[2]))
                continue
            if s[0] == "account":
                log.register_account(c.RegisterAccount(username=f"r{uuid.uuid4().hex[:8]}", display_name="R", practice=s[1], roles=("reception",), password=PASSWORD), actor="test")  # type: ignore[arg-type]
                continue
            if not incidents:
                continue
            incident_id, kind, practice = incidents[s[1] % len(incidents)]
            actor = actors[practice]
            if s[0] == "respond":
                names = FILMING_RESPONSES if kind == "filming" else RECORDING_RESPONSES
                reference = "POL-1" if s[3] % 3 == 0 else ""
                respond(log, actor, incident_id, names[s[2]], now - timedelta(days=s[3]), reference)
            elif s[0] == "correct":
                if s[2]:
                    field, value = "occurred_at", (now - timedelta(days=s[3], hours=1)).isoformat()
                else:
                    field, value = ("area", "reception") if kind == "filming" else ("setting", "video")
                log.correct(c.CorrectIncident(incident_id=incident_id, field=field, new_value=value, reason="wrong"), actor)
            elif s[0] == "close":
                outcomes = FILMING_OUTCOMES if kind == "filming" else RECORDING_OUTCOMES
                log.close_incident(c.CloseIncident(incident_id=incident_id, outcome=outcomes[s[2]]), actor)
            elif s[0] == "reopen":
                log.reopen_incident(c.ReopenIncident(incident_id=incident_id, reason="again"), actor)
            elif s[0] == "review":
                log.review_incident(c.ReviewIncident(incident_id=incident_id), actor)
            elif s[0] == "note":
                log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text="more"), actor)
        except DomainError:
            pass
    return [i for i, _, _ in incidents]


def play_request_step(
    log: IncidentLog, governance: dict[str, Any], s: tuple[Any, ...], today: Any,
    incidents: list[tuple[uuid.UUID, str, str]], requests: list[tuple[uuid.UUID, str]],
) -> None:
    if s[0] == "request":
        received = today - timedelta(days=s[3])
        # A GMC or court request carries its own date; the others' is computed unless one is entered.
        due = received + timedelta(days=s[4]) if s[1] in ("gmc", "court") or (s[1] == "solicitor" and s[4] % 2) else None
        saved = receive(log, governance[s[2]], s[1], received, due)
        requests.append((saved.id, s[2]))
        return
    if not requests:
        return
    request_id, practice = requests[s[1] % len(requests)]
    actor = governance[practice]
    if s[0] == "extend":
        current = log.get_request(actor, request_id).due_on
        log.extend_request(d.ExtendRequest(request_id=request_id, due_on=current + timedelta(days=s[2]), reason="Complex"), actor)
    elif s[0] == "settle":
        theirs = [i for i, _, p in incidents if p == practice]
        if s[2] == "disclose" and not theirs:
            return
        settle(log, actor, request_id, s[2], theirs[0] if theirs else None)
