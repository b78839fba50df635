"""One contract for the IncidentLog application, run on every store it can be configured with:
the in-memory store, a SQLite file and PostgreSQL.

On the file stores it also checks what only a store that keeps data can promise: closing and
opening the application again loses nothing, a wrong or missing key is refused with a clear
message (never garbage), and the bytes at rest show no patient data.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from incidents.application import commands as c
from incidents.application.service import Actor, IncidentLog, IncidentNotFound, NotPermitted
from incidents.bootstrap import Opened, open_log
from incidents.domain.filming import FilmingIncident
from incidents.domain.incident import IncidentClosed
from incidents.domain.recording import RecordingEpisode
from incidents.settings import Settings
from incidents.storage import CipherKeyError
from tests import reports
from tests.conftest import run_in_own_loop
from tests.reports import minutes_ago

PASSWORD = "a long enough password"
PRACTICE = "A81001"
OTHER_PRACTICE = "B82002"

# Things that must never be readable in the stored bytes.
DISTINCTIVE_NOTE = "Zoë Łukasz filmed the desk"
NHS_NUMBER = "9434765919"
CLINICIAN = "Dr Philippa Okonkwo-Hartley"
RECEPTIONIST_NAME = "Susannah Receptionist-Quill"
RESPONSE_NOTE = "Asked politely beside the Kestrel noticeboard"
CORRECTION_REASON = "Misheard the Marigold corridor"
CLOSING_NOTE = "Settled amicably with the Juniper family"


@dataclass
class Store:
    """How to open the application on one kind of store, as often as a test likes."""

    kind: str
    settings: Settings
    tmp_path: Path

    @property
    def keeps_data(self) -> bool:
        return self.kind != "memory"

    def open(self, **overrides) -> Opened:
        settings = self.settings
        if overrides:
            settings = Settings(**{**settings.__dict__, **overrides})
        return open_log(settings)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request, tmp_path: Path) -> Store:
    if request.param == "memory":
        settings = Settings(database_url="memory://", data_dir=tmp_path)
    elif request.param == "sqlite":
        settings = Settings(data_dir=tmp_path)
    else:
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
    return Store(request.param, settings, tmp_path)


# The tests that only a store that keeps data can pass run on the file stores alone.
file_stores = pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def opened(store: Store):
    opened = store.open()
    yield opened
    opened.log.close()


def register(log: IncidentLog, username: str, display_name: str, role: str, practice: str = PRACTICE) -> Actor:
    """A real staff account (argon2 and all), signed in; slower, so only where accounts matter."""
    log.register_account(
        c.RegisterAccount(username=username, display_name=display_name, practice=practice, roles=(role,), password=PASSWORD),  # type: ignore[arg-type]
        actor="test",
    )
    result = log.authenticate(username, PASSWORD)
    assert result is not None
    return result[0]


@dataclass
class Staff:
    reception: Actor
    manager: Actor
    other_practice: Actor


@pytest.fixture
def staff() -> Staff:
    """Actors as a signed-in session names them (incident commands do not look accounts up)."""
    return Staff(
        reception=Actor(uuid.uuid4(), "sue.reception", RECEPTIONIST_NAME, PRACTICE, ("reception",)),
        manager=Actor(uuid.uuid4(), "mo.manager", "Mo Manager", PRACTICE, ("manager",)),
        other_practice=Actor(uuid.uuid4(), "other.manager", "Other Manager", OTHER_PRACTICE, ("manager",)),
    )


def filming(key: str | None = None, **overrides) -> c.ReportFilming:
    return reports.filming(key, **{"occurred_at": minutes_ago(10), "note": DISTINCTIVE_NOTE, **overrides})


def recording(key: str | None = None, **overrides) -> c.ReportRecording:
    return reports.recording(key, **{"clinician": CLINICIAN, "note": "Patient asked to keep a copy", **overrides})


def respond(log: IncidentLog, actor: Actor, incident_id, response: str, note: str = "", key: str | None = None, reference: str = ""):
    return log.respond(
        c.RecordResponse(
            incident_id=incident_id,
            submission_key=key or uuid.uuid4().hex,
            response=response,
            occurred_at=minutes_ago(5),
            reference=reference,
            note=note,
        ),
        actor,
    )


def names(events) -> list[str]:
    return [type(e).__name__ for e in events]


def full_life(log: IncidentLog, staff: Staff):
    """A filming incident taken through every kind of change, and a recording episode."""
    saved = [log.report_filming(filming(), staff.reception)]
    filming_id = saved[0].id
    saved.append(respond(log, staff.reception, filming_id, "AskedToStop", note=RESPONSE_NOTE))
    saved.append(respond(log, staff.reception, filming_id, "Stopped"))
    saved.append(log.add_note(c.AddNote(incident_id=filming_id, submission_key=uuid.uuid4().hex, text="They apologised"), staff.reception))
    saved.append(log.correct(c.CorrectIncident(incident_id=filming_id, field="area", new_value="corridor", reason=CORRECTION_REASON), staff.reception))
    saved.append(log.review_incident(c.ReviewIncident(incident_id=filming_id, comment="Handled well"), staff.manager))
    saved.append(log.close_incident(c.CloseIncident(incident_id=filming_id, outcome="resolved_at_desk", note=CLOSING_NOTE), staff.manager))
    saved.append(log.reopen_incident(c.ReopenIncident(incident_id=filming_id, reason="Footage appeared online"), staff.manager))
    recording_saved = log.report_recording(recording(), staff.reception)
    saved.append(recording_saved)
    saved.append(respond(log, staff.reception, recording_saved.id, "CopyRequested"))
    return filming_id, recording_saved.id, saved


FILMING_LIFE = ["Reported", "AskedToStop", "Stopped", "NoteAdded", "Corrected", "Reviewed", "Closed", "Reopened"]


def snapshot(log: IncidentLog, actor: Actor, incident_ids) -> dict:
    """Every incident's state and full history, in a form that compares by value."""
    result = {}
    for incident_id in incident_ids:
        incident = log.get_incident(actor, incident_id)
        history = log.history(actor, incident_id)
        result[incident_id] = (
            type(incident).__name__,
            incident.version,
            incident.status,
            [(type(e).__name__, e.originator_version, e.timestamp, dict(vars(e))) for e in history],
        )
    return result


def run_together(count: int, call) -> list:
    """Call call(i) from count threads released at the same moment; results or exceptions, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as error:  # collected, so the test can show which and how many
            results[i] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def other_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class TestIncidentLogContract:
    # Reporting ------------------------------------------------------------

    def test_reports_filming_with_every_fact(self, opened: Opened, staff: Staff):
        log = opened.log
        saved = log.report_filming(filming(), staff.reception)
        assert saved.created
        incident = log.get_incident(staff.reception, saved.id)
        assert isinstance(incident, FilmingIncident)
        assert (incident.practice, incident.area, incident.filmer, incident.status) == (PRACTICE, "waiting_area", "patient", "open")
        [reported] = log.history(staff.reception, saved.id)
        assert type(reported).__name__ == "Reported"
        assert reported.actor == "sue.reception"
        assert reported.note == DISTINCTIVE_NOTE
        assert reported.actor_name == RECEPTIONIST_NAME

    def test_reports_recording_with_every_fact(self, opened: Opened, staff: Staff):
        log = opened.log
        saved = log.report_recording(recording(), staff.reception)
        incident = log.get_incident(staff.reception, saved.id)
        assert isinstance(incident, RecordingEpisode)
        assert (incident.clinician, incident.setting, incident.media, incident.nhs_number) == (CLINICIAN, "consulting_room", "audio", NHS_NUMBER)
        assert names(log.history(staff.reception, saved.id)) == ["Reported"]

    def test_the_same_submission_makes_one_incident_with_one_reported_event(self, opened: Opened, staff: Staff):
        log = opened.log
        key = uuid.uuid4().hex
        first = log.report_filming(filming(key), staff.reception)
        second = log.report_filming(filming(key, note="a second tap"), staff.reception)
        assert first.created and not second.created
        assert first.id == second.id
        assert names(log.history(staff.reception, first.id)) == ["Reported"]
        assert log.history(staff.reception, first.id)[0].note == DISTINCTIVE_NOTE
        # incident ids are kind-specific: the same key for the other kind is its own incident
        third = log.report_recording(recording(key), staff.reception)
        assert third.id != first.id and third.created
        assert isinstance(log.get_incident(staff.reception, first.id), FilmingIncident)
        assert isinstance(log.get_incident(staff.reception, third.id), RecordingEpisode)
        assert names(log.history(staff.reception, first.id)) == ["Reported"]
        # a different key is a different incident
        assert log.report_filming(filming(), staff.reception).id != first.id

    def test_the_same_submission_key_in_two_practices_makes_two_incidents(self, opened: Opened, staff: Staff):
        log = opened.log
        key = uuid.uuid4().hex
        ours = log.report_filming(filming(key), staff.reception)
        theirs = log.report_filming(filming(key), staff.other_practice)
        assert ours.created and theirs.created and ours.id != theirs.id

    def test_a_repeated_response_or_note_is_saved_once(self, opened: Opened, staff: Staff):
        log = opened.log
        incident_id = log.report_filming(filming(), staff.reception).id
        key = uuid.uuid4().hex
        assert respond(log, staff.reception, incident_id, "PolicyExplained", key=key).created
        assert not respond(log, staff.reception, incident_id, "PolicyExplained", key=key).created
        note = c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text="once")
        assert log.add_note(note, staff.reception).created
        assert not log.add_note(note, staff.reception).created
        assert names(log.history(staff.reception, incident_id)) == ["Reported", "PolicyExplained", "NoteAdded"]

    def test_simultaneous_taps_of_one_submission_make_one_incident(self, opened: Opened, staff: Staff):
        log = opened.log
        key = uuid.uuid4().hex
        results = run_together(16, lambda _: log.report_filming(filming(key), staff.reception))
        assert [type(r) for r in results if isinstance(r, Exception)] == []
        assert len({r.id for r in results}) == 1
        assert sum(r.created for r in results) == 1
        assert names(log.history(staff.reception, results[0].id)) == ["Reported"]

    def test_simultaneous_reports_are_each_saved_once_with_their_own_position(self, opened: Opened, staff: Staff):
        """On SQLite, saves that arrive together are committed together; a repeated submission among
        them must fail alone (and be answered as the incident it repeats), not sink the others."""
        log = opened.log
        repeated = uuid.uuid4().hex
        keys = [repeated if i % 8 == 0 else uuid.uuid4().hex for i in range(24)]
        before = log.recorder.max_notification_id() or 0
        results = run_together(len(keys), lambda i: log.report_filming(filming(keys[i]), staff.reception))
        assert [r for r in results if isinstance(r, Exception)] == []
        created = [r for r in results if r.created]
        assert len(created) == 22  # 21 distinct keys, and the repeated one once
        assert len({r.id for r in results}) == 22
        positions = sorted(r.notification_id for r in created)
        assert len(set(positions)) == 22 and positions[0] > before  # PostgreSQL's sequence may skip one
        assert positions[-1] == log.recorder.max_notification_id()
        for saved in created:
            [reported] = log.history(staff.reception, saved.id)
            assert reported.note == DISTINCTIVE_NOTE
        # Each has a reference of its own; only the same form sent at the same moment may leave a gap.
        numbers = sorted(int(log.get_incident(staff.reception, r.id).ref.rsplit("-", 1)[1]) for r in created)
        assert len(set(numbers)) == 22 and numbers[-1] - numbers[0] < 22 + 2

    def test_each_kind_is_numbered_per_practice_and_year_and_a_form_sent_again_takes_no_number(self, opened: Opened, staff: Staff):
        from datetime import datetime, timezone

        from incidents.domain.acting import recorded_as_of

        log = opened.log
        year = log.references.year()
        key = uuid.uuid4().hex
        first = log.report_filming(filming(key), staff.reception)
        assert log.report_filming(filming(key), staff.reception).created is False
        second = log.report_filming(filming(), staff.reception)
        recorded = log.report_recording(recording(), staff.reception)
        other = register(log, "bo.reception", "Bo Other", "reception", practice="B82002")
        elsewhere = log.report_filming(filming(), other)
        refs = [log.get_incident(a, s.id).ref for a, s in ((staff.reception, first), (staff.reception, second), (staff.reception, recorded), (other, elsewhere))]
        assert refs == [f"F-{year}-0001", f"F-{year}-0002", f"R-{year}-0001", f"F-{year}-0001"]
        with recorded_as_of(datetime(2024, 12, 31, 23, 30, tzinfo=timezone.utc)):  # 23:30 in London, still 2024
            late = log.report_filming(filming(), staff.reception)
        assert log.get_incident(staff.reception, late.id).ref == "F-2024-0001"

    @file_stores
    def test_two_processes_numbering_the_same_kind_take_turns_without_a_clash(self, store: Store, opened: Opened, staff: Staff):
        other = store.open()
        try:
            logs = [opened.log, other.log]
            saved = [(n % 2, logs[n % 2].report_filming(filming(), staff.reception)) for n in range(6)]
            refs = [logs[i].get_incident(staff.reception, s.id).ref for i, s in saved]
            year = opened.log.references.year()
            assert refs == [f"F-{year}-{n:04d}" for n in range(1, 7)]
        finally:
            other.log.close()

    def test_reports_from_an_event_loop_are_saved_once_each(self, opened: Opened, staff: Staff):
        """The web's report route saves from the event loop (on SQLite through the writer thread)."""
        log = opened.log
        repeated = uuid.uuid4().hex
        commands = [filming(repeated if i % 5 == 0 else None) for i in range(20)] + [recording()]

        async def report_all():
            return await asyncio.gather(*(log.report_from_event_loop(command, staff.reception) for command in commands))

        results = run_in_own_loop(report_all)
        assert sum(r.created for r in results) == 18  # 16 distinct filming keys, the repeated one, the recording
        assert len({r.id for r in results}) == 18
        assert len({r.notification_id for r in results if r.created}) == 18
        assert isinstance(log.get_incident(staff.reception, results[-1].id), RecordingEpisode)
        for saved in results:
            [reported] = log.history(staff.reception, saved.id)
            assert type(reported).__name__ == "Reported"

    # Changing an incident ----------------------------------------------------

    def test_full_life_history_is_in_order_with_corrections_beside_the_original(self, opened: Opened, staff: Staff):
        log = opened.log
        filming_id, recording_id, _ = full_life(log, staff)
        history = log.history(staff.manager, filming_id)
        assert names(history) == FILMING_LIFE
        assert [e.originator_version for e in history] == list(range(1, len(FILMING_LIFE) + 1))
        assert [e.timestamp for e in history] == sorted(e.timestamp for e in history)
        assert history[0].area == "waiting_area"  # the original is never rewritten
        corrected = history[4]
        assert (corrected.field, corrected.previous_value, corrected.new_value, corrected.reason) == ("area", "waiting_area", "corridor", CORRECTION_REASON)
        assert history[1].note == RESPONSE_NOTE
        assert history[6].outcome == "resolved_at_desk"
        incident = log.get_incident(staff.manager, filming_id)
        assert (incident.area, incident.status, incident.outcome, incident.reviewed) == ("corridor", "open", None, True)
        assert incident.corrections_count == 1 and incident.notes_count == 2
        assert names(log.history(staff.reception, recording_id)) == ["Reported", "CopyRequested"]

    def test_simultaneous_changes_to_one_incident_are_all_kept(self, opened: Opened, staff: Staff):
        """Up to SAVE_ATTEMPTS writers at once: each retries on fresh state until it is saved."""
        log = opened.log
        incident_id = log.report_filming(filming(), staff.reception).id
        texts = [f"simultaneous note {i}" for i in range(4)]
        results = run_together(
            len(texts),
            lambda i: log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text=texts[i]), staff.reception),
        )
        assert [r for r in results if isinstance(r, Exception)] == []
        history = log.history(staff.reception, incident_id)
        assert [e.originator_version for e in history] == [1, 2, 3, 4, 5]
        assert sorted(e.text for e in history[1:]) == texts
        assert log.get_incident(staff.reception, incident_id).notes_count == 1 + len(texts)

    def test_closed_incident_takes_no_responses_until_reopened(self, opened: Opened, staff: Staff):
        log = opened.log
        incident_id = log.report_filming(filming(), staff.reception).id
        log.close_incident(c.CloseIncident(incident_id=incident_id, outcome="no_further_action"), staff.manager)
        with pytest.raises(IncidentClosed):
            respond(log, staff.reception, incident_id, "AskedToStop")
        with pytest.raises(IncidentClosed):
            log.close_incident(c.CloseIncident(incident_id=incident_id, outcome="no_further_action"), staff.manager)
        log.reopen_incident(c.ReopenIncident(incident_id=incident_id, reason="More happened"), staff.manager)
        respond(log, staff.reception, incident_id, "AskedToStop")
        assert names(log.history(staff.reception, incident_id)) == ["Reported", "Closed", "Reopened", "AskedToStop"]

    def test_only_managers_review_close_and_reopen(self, opened: Opened, staff: Staff):
        log = opened.log
        incident_id = log.report_filming(filming(), staff.reception).id
        with pytest.raises(NotPermitted):
            log.review_incident(c.ReviewIncident(incident_id=incident_id), staff.reception)
        with pytest.raises(NotPermitted):
            log.close_incident(c.CloseIncident(incident_id=incident_id, outcome="no_further_action"), staff.reception)
        assert names(log.history(staff.reception, incident_id)) == ["Reported"]

    # Practice scoping ---------------------------------------------------------

    def test_an_incident_of_another_practice_does_not_exist(self, opened: Opened, staff: Staff):
        log = opened.log
        incident_id = log.report_filming(filming(), staff.reception).id
        outsider = staff.other_practice
        attempts = [
            lambda: log.get_incident(outsider, incident_id),
            lambda: log.history(outsider, incident_id),
            lambda: respond(log, outsider, incident_id, "AskedToStop"),
            lambda: log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text="x"), outsider),
            lambda: log.correct(c.CorrectIncident(incident_id=incident_id, field="area", new_value="corridor", reason="x"), outsider),
            lambda: log.review_incident(c.ReviewIncident(incident_id=incident_id), outsider),
            lambda: log.close_incident(c.CloseIncident(incident_id=incident_id, outcome="no_further_action"), outsider),
            lambda: log.reopen_incident(c.ReopenIncident(incident_id=incident_id, reason="x"), outsider),
        ]
        for attempt in attempts:
            with pytest.raises(IncidentNotFound):
                attempt()
        assert names(log.history(staff.reception, incident_id)) == ["Reported"]

    def test_unknown_ids_and_account_ids_are_not_incidents(self, opened: Opened, staff: Staff):
        log = opened.log
        with pytest.raises(IncidentNotFound):
            log.get_incident(staff.reception, uuid.uuid4())
        account = register(log, "sue.reception", RECEPTIONIST_NAME, "reception")
        with pytest.raises(IncidentNotFound):  # a staff account is an aggregate, but not an incident
            log.history(account, account.user_id)
        with pytest.raises(IncidentNotFound):
            respond(log, account, account.user_id, "AskedToStop")

    # Notification log ---------------------------------------------------------

    def test_notification_ids_increase(self, opened: Opened, staff: Staff):
        log = opened.log
        _, _, saved = full_life(log, staff)
        ids = [s.notification_id for s in saved]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
        notifications = log.recorder.select_notifications(start=1, limit=1000)
        all_ids = [n.id for n in notifications]
        assert all_ids == sorted(all_ids) and len(set(all_ids)) == len(all_ids)
        assert all_ids[-1] == ids[-1] == log.recorder.max_notification_id()
        assert len(all_ids) == len(FILMING_LIFE) + 2 + 2  # the filming life, the recording's two, and each report's number entry

    # Only for stores that keep data ---------------------------------------------

    @file_stores
    def test_closing_and_opening_again_keeps_every_incident_and_its_history(self, store: Store, opened: Opened, staff: Staff):
        log = opened.log
        register(log, "sue.reception", RECEPTIONIST_NAME, "reception")
        filming_id, recording_id, saved = full_life(log, staff)
        extra = [log.report_filming(filming(note=f"incident {i}"), staff.reception).id for i in range(5)]
        ids = [filming_id, recording_id, *extra]
        before = snapshot(log, staff.manager, ids)
        last = log.recorder.max_notification_id()
        key = uuid.uuid4().hex
        repeated = log.report_filming(filming(key), staff.reception)
        opened.log.close()

        again = store.open()
        try:
            assert again.new_key_file is None  # the existing key was used, not replaced
            assert snapshot(again.log, staff.manager, ids) == before
            assert again.log.authenticate("sue.reception", PASSWORD) is not None
            # the same submission after a restart still finds the same incident
            assert again.log.report_filming(filming(key), staff.reception) == type(repeated)(repeated.id, again.log.recorder.max_notification_id(), created=False)
            # and new events follow on from the old ones
            new = again.log.report_filming(filming(), staff.reception)
            assert new.notification_id > last
            assert names(again.log.history(staff.reception, new.id)) == ["Reported"]
        finally:
            again.log.close()

    @file_stores
    def test_a_different_key_in_the_key_file_is_refused(self, store: Store, opened: Opened, staff: Staff):
        opened.log.report_filming(filming(), staff.reception)
        opened.log.close()
        key_file = store.settings.effective_key_file
        assert key_file.exists()
        key_file.write_text(other_key() + "\n")
        with pytest.raises(CipherKeyError) as refused:
            store.open()
        message = str(refused.value)
        assert "encryption key does not open the events" in message
        assert "Use the key they were written with" in message

    @file_stores
    def test_a_different_key_given_directly_is_refused(self, store: Store, opened: Opened, staff: Staff):
        opened.log.report_filming(filming(), staff.reception)
        opened.log.close()
        with pytest.raises(CipherKeyError, match="encryption key does not open the events"):
            store.open(cipher_key=other_key())
        with pytest.raises(CipherKeyError, match="not base64"):
            store.open(cipher_key="this is not a key!")
        with pytest.raises(CipherKeyError, match="must be 16, 24 or 32 bytes"):
            store.open(cipher_key=base64.b64encode(b"short").decode())
        # the right key still opens it, and nothing was damaged by the refusals
        again = store.open()
        try:
            assert again.log.recorder.max_notification_id() == 2  # the report and its number's entry
        finally:
            again.log.close()

    @file_stores
    def test_a_missing_key_file_with_existing_data_is_refused(self, store: Store, opened: Opened, staff: Staff):
        register(opened.log, "sue.reception", RECEPTIONIST_NAME, "reception")
        opened.log.report_filming(filming(), staff.reception)
        opened.log.close()
        key_file = store.settings.effective_key_file
        saved_key = key_file.read_text()
        key_file.unlink()
        with pytest.raises(CipherKeyError) as refused:
            store.open()
        message = str(refused.value)
        assert str(key_file) in message and "backup" in message
        assert not key_file.exists(), "a new key must not be made for data written with another"
        key_file.write_text(saved_key)  # restored from the backup, it opens again
        again = store.open()
        try:
            assert again.log.authenticate("sue.reception", PASSWORD) is not None
        finally:
            again.log.close()

    @file_stores
    def test_no_patient_data_is_readable_at_rest(self, store: Store, opened: Opened, staff: Staff):
        log = opened.log
        register(log, "sue.reception", RECEPTIONIST_NAME, "reception")  # accounts are encrypted too
        full_life(log, staff)
        log.report_recording(recording(note=DISTINCTIVE_NOTE), staff.reception)
        raw = raw_store_bytes(store, opened)
        assert b"FilmingIncident" in raw  # the check can see plain text: topics are not encrypted
        secrets_at_rest = [
            DISTINCTIVE_NOTE,
            "filmed the desk",
            "Zo\\u00eb",
            NHS_NUMBER,
            "943 476 5919",
            CLINICIAN,
            "Okonkwo",
            RECEPTIONIST_NAME,
            "Receptionist-Quill",
            "sue.reception",
            RESPONSE_NOTE,
            "Kestrel",
            CORRECTION_REASON,
            "Marigold",
            CLOSING_NOTE,
            "Juniper",
            "waiting_area",
            "staff_and_patients",
            "consulting_room",
            "resolved_at_desk",
            "Footage appeared online",
            PRACTICE,
        ]
        for text in secrets_at_rest:
            for encoded in {text.encode("utf-8"), text.encode("utf-16-le")}:
                assert encoded not in raw, f"{text!r} is readable in the stored bytes"


def raw_store_bytes(store: Store, opened: Opened) -> bytes:
    if store.kind == "sqlite":
        opened.log.close()  # let SQLite write everything back; the WAL is read too, in case
        files = sorted(store.tmp_path.glob("incidents.sqlite*"))
        assert files, list(store.tmp_path.iterdir())
        return b"".join(f.read_bytes() for f in files)
    import psycopg

    with psycopg.connect(store.settings.database_url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        ]
        events_tables = [t for t in tables if t.endswith("_events")]
        assert events_tables, tables
        raw = b""
        for table in events_tables:
            rows = conn.execute(f'SELECT topic, state FROM "{table}"').fetchall()
            assert rows
            raw += b"".join(topic.encode() + b"\0" + bytes(state) for topic, state in rows)
        return raw
