"""A store written by an earlier release (tests/fixtures/store-v1, made by make_store_v1.py with
the code of that day) still opens with today's code, verifies against its signed checkpoint,
rebuilds to the same views and shows every incident's timeline as it did.

Everything is compared by what a person sees (ids, kinds, statuses, labels, counts), never by
class names, so the code may be rearranged freely; `what_a_user_sees` is the one place that
knows how today's code answers those questions.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from incidents.application.service import Actor
from incidents.application.timeline import timeline
from incidents.bootstrap import open_log
from incidents.domain.filming import FilmingIncident
from incidents.domain.recording import RecordingEpisode
from incidents.projections.running.runner import open_views
from incidents.settings import Settings

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "store-v1"
STORE_FILES = ("incidents.sqlite", "cipher.key")
INCIDENTS = Path(sys.executable).parent / "incidents"
PRACTICES = ("A81001", "B82002")
EPOCH = datetime(2000, 1, 1).astimezone()
KIND_CLASSES = {"filming": FilmingIncident, "recording": RecordingEpisode}


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    env.update(INCIDENTS_DATA_DIR=str(data_dir), INCIDENTS_PRACTICE="A81001")
    return subprocess.run([str(INCIDENTS), *args], env=env, capture_output=True, text=True, timeout=120)


def plain(value: Any) -> Any:
    """JSON's own types: what the expected file holds."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def close_times(times: Any) -> dict[str, Any]:
    return {"count": times.count, "seconds": times.total_seconds, "buckets": times.labelled()}


def what_a_user_sees(data_dir: Path, as_of: datetime) -> dict[str, Any]:
    """Rebuild the views of the store in data_dir with `incidents projections rebuild`, then read
    what the lists, the action queue, the dashboard, the monthly reports and each incident's
    timeline show a manager of each practice at the moment as_of."""
    rebuilt = cli(data_dir, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    today = as_of.date()
    months = sorted({(d.year, d.month) for d in (today - timedelta(days=31 * n) for n in range(3))})
    opened = open_log(Settings(data_dir=data_dir))
    views = open_views(opened.store, opened.env)
    seen: dict[str, Any] = {}
    try:
        for practice in PRACTICES:
            manager = Actor(UUID(int=0), "fixture.manager", "Fixture Manager", practice, ("manager",))
            governance = Actor(UUID(int=1), "fixture.governance", "Fixture Governance", practice, ("governance",))
            rows = views.summaries.reported_between(practice, EPOCH, as_of + timedelta(days=1), limit=1000)
            figures = views.view("dashboard_figures").figures(practice, today)
            seen[practice] = {
                "summaries": [
                    {
                        "id": str(row.incident_id), "kind": row.kind, "status": row.status, "location": row.location,
                        "occurred_at": row.occurred_at.isoformat(), "last_response": row.last_response,
                        "responses": row.responses, "notes": row.notes, "corrections": row.corrections,
                        "reviewed": row.reviewed_at is not None, "closed": row.closed_at is not None,
                        "outcome": row.outcome, "clinician": row.clinician,
                    }
                    for row in rows
                ],
                "action_queue": {
                    label: [
                        {"id": str(item.incident_id), "kind": item.kind, "action": item.action, "label": item.label,
                         "due_at": item.due_at.isoformat(), "overdue": item.overdue}
                        for item in views.view("action_queue").due(practice, at, limit=1000)
                    ]
                    for label, at in (("now", as_of), ("in a year", as_of + timedelta(days=365)))
                },
                "dashboard": {
                    "open_by_kind": figures.open_by_kind,
                    "months": [[m.month.isoformat(), m.incidents_by_kind, m.responses, close_times(m.closed)] for m in figures.months],
                    "response_mix": figures.response_mix,
                    "close_times": close_times(figures.close_times),
                },
                "monthly_reports": [
                    [report.month.isoformat(), report.by_kind, report.by_location, report.by_response, report.by_outcome, close_times(report.close_times)]
                    for report in (views.view("dashboard_figures").month_report(practice, y, m) for y, m in months)
                ],
                "timelines": {
                    str(row.incident_id): [
                        {"title": e.title, "by": e.actor_name, "occurred_at": e.occurred_at, "details": e.details, "note": e.note,
                         "correction": e.correction}
                        for e in timeline(KIND_CLASSES[row.kind], opened.log.history(manager, row.incident_id))
                    ]
                    for row in rows
                },
                "requests": [
                    {"id": str(r.request_id), "type": r.requester_type_label, "reference": r.reference, "status": r.status_label,
                     "received_on": r.received_on, "due_on": r.due_on, "legal_basis": r.legal_basis_label}
                    for r in opened.log.requests(governance, today)
                ],
                "notices": [
                    {"id": str(n.notice_id), "channel": n.channel_label, "wording": n.wording, "wording_from": n.wording_from, "in_service_from": n.in_service_from}
                    for day in (today, today - timedelta(days=45))
                    for n in opened.log.notices_in_force(manager, day)
                ],
                "staff": sorted((a.username, ", ".join(a.roles)) for a in opened.log.staff(governance)),
            }
    finally:
        opened.log.close()
    return plain(seen)


def test_a_store_written_by_an_earlier_release_opens_verifies_and_rebuilds_to_the_same_views(tmp_path):
    expected = json.loads((FIXTURE / "expected.json").read_text())
    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)

    verified = cli(tmp_path, "verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"verified {tmp_path / 'incidents.sqlite'}: {expected['events']} events match 1 signed checkpoint(s)" in " ".join(verified.stdout.split())

    seen = what_a_user_sees(tmp_path, datetime.fromisoformat(expected["as_of"]))
    assert seen == expected["views"]
    assert expected["views"]["A81001"]["summaries"] and expected["views"]["A81001"]["action_queue"]["in a year"]


def test_the_earlier_release_s_incidents_and_requests_are_given_references_in_the_order_they_were_saved(tmp_path):
    """Once, at the first start after the upgrade: each practice's records of each kind numbered
    per year in saving order; the store still verifies and the views show the references."""
    expected = json.loads((FIXTURE / "expected.json").read_text())
    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    opened = open_log(Settings(data_dir=tmp_path))
    try:
        log = opened.log
        seen: list[tuple[int, int]] = []
        given = log.give_missing_references(lambda at, last: seen.append((at, last)))
        assert seen and seen[-1][0] == seen[-1][1]
        assert log.give_missing_references() == 0  # nothing left: done once
        counted = 0
        for practice in PRACTICES:
            manager = Actor(UUID(int=0), "fixture.manager", "Fixture Manager", practice, ("manager", "governance"))
            ids = [UUID(row["id"]) for row in expected["views"][practice]["summaries"]]
            incidents = sorted((log.get_incident(manager, i) for i in ids), key=lambda i: (i.created_on, i.id))
            for kind in KIND_CLASSES.values():
                of_kind = [i for i in incidents if isinstance(i, kind)]
                by_year: dict[int, list[str]] = {}
                for incident in of_kind:
                    by_year.setdefault(incident.created_on.astimezone().year, []).append(incident.ref)
                for year, refs in by_year.items():
                    assert sorted(refs) == [f"{kind.PREFIX}-{year}-{n:04d}" for n in range(1, len(refs) + 1)]
            counted += len(incidents)
            requests = [log.get_request(manager, UUID(r["id"])) for r in expected["views"][practice]["requests"]]
            assert all(r.ref.startswith("D-") for r in requests)
            counted += len(requests)
        assert given >= counted > 0
    finally:
        opened.log.close()
    verified = cli(tmp_path, "verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    rebuilt = cli(tmp_path, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    opened = open_log(Settings(data_dir=tmp_path))
    views = open_views(opened.store, opened.env)
    try:
        rows = views.summaries.reported_between("A81001", EPOCH, datetime.now().astimezone() + timedelta(days=1), limit=1000)
        assert rows and all(row.ref for row in rows)
    finally:
        opened.log.close()


@pytest.fixture
def fixture_request(tmp_path):
    """The committed store, copied, and its one disclosure request as its governance user sees it."""
    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    opened = open_log(Settings(data_dir=tmp_path, practice="A81001"))
    governance = Actor(UUID(int=1), "fixture.governance", "Fixture Governance", "A81001", ("governance",))
    try:
        [summary] = opened.log.requests(governance)
        yield opened, governance, opened.log.get_request(governance, summary.request_id)
    finally:
        opened.log.close()


def test_a_bundle_exported_before_bundles_were_kept_reads_and_says_it_cannot_be_downloaded_again(fixture_request):
    from incidents.application.kept_bundles import BundleNotKept

    opened, governance, request = fixture_request
    [bundle] = request.bundles
    assert (bundle.fingerprint, bundle.zip_sha256) == (request.exports[0], "") and bundle.incident_ids == tuple(request.incident_ids)
    assert request.extensions == [] and request.legal_basis_label == "Consent"
    history = opened.log.request_history(governance, request.id)
    assert ("SHA-256 of the zip", "Not recorded (made before bundles were kept)") in history[-1].details
    try:
        opened.log.kept_bundle(governance, request.id, bundle.fingerprint)
    except BundleNotKept as error:
        assert "exported before bundles were kept" in str(error)
    else:
        raise AssertionError("a bundle never kept was found")


def test_a_request_received_before_call_recording_requests_reads_with_no_call(fixture_request):
    """Received events stored before requests could name a call lack call_at and caller_number."""
    opened, governance, request = fixture_request
    assert (request.call_at, request.caller_number) == (None, "")
    received = opened.log.request_history(governance, request.id)[0]
    assert "Call" not in dict(received.details)
    manager = Actor(UUID(int=2), "fixture.manager", "Fixture Manager", "A81001", ("manager",))
    assert opened.log.call_policy(manager) is None  # no policy in an earlier release's store


def test_the_earlier_release_s_records_keep_the_deployment_key_and_are_refused_disposal_by_key(tmp_path):
    """Written before records had keys of their own: a new event of such a record stays under the
    deployment key (the record never gets half a key), and carrying out a disposal decided on it is
    refused, saying why, rather than destroying a key that would erase nothing."""
    from incidents.application import commands as c
    from incidents.application.retention import CarryOutDisposal, NoKeyOfItsOwn
    from incidents.application.service import Actor
    from incidents.domain.retention import RecordRetention

    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    opened = open_log(Settings(data_dir=tmp_path, practice="A81001"))
    try:
        governance = Actor(UUID(int=1), "fixture.governance", "Fixture Governance", "A81001", ("governance",))
        reported = opened.log.recorder.select_notifications(start=1, limit=1000, topics=["incidents.domain.filming:FilmingIncident.Reported"])
        incident_id = next(n.originator_id for n in reported if opened.log.mapper.to_domain_event(n).practice == "A81001")
        keys = opened.log.mapper.cipher.record_keys
        assert keys.count() == 0
        opened.log.add_note(c.AddNote(incident_id=incident_id, submission_key="n" * 32, text="A note after the upgrade"), governance)
        assert keys.count() == 0  # the old record keeps the deployment key
        assert opened.log.get_incident(governance, incident_id).notes_count >= 1
        with governance.acting():
            retention = RecordRetention(practice="A81001", record_id=incident_id, record_kind="filming")
            retention.trigger_event(RecordRetention.DisposalDecided, record_id=incident_id, reason="Test of the refusal", authorised_by="Dr Shah")
        opened.log.save(retention)
        try:
            opened.log.carry_out_disposal(CarryOutDisposal(record_id=incident_id), governance)
        except NoKeyOfItsOwn as error:
            assert "stored before records had keys of their own" in str(error)
        else:
            raise AssertionError("an old record's disposal was carried out by destroying a key it does not have")
        assert opened.log.get_incident(governance, incident_id).notes_count >= 1  # nothing was destroyed
    finally:
        opened.log.close()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _files_holding(folder: Path, needles: list[bytes]) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [n for n in needles if n in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def _without(value: Any, record_id: str) -> Any:
    """A view's rows, as what_a_user_sees gives them, without those of one record."""
    if isinstance(value, dict):
        return {k: _without(v, record_id) for k, v in value.items() if k != record_id}
    if isinstance(value, list):
        return [_without(v, record_id) for v in value if not (isinstance(v, dict) and v.get("id") == record_id)]
    return value


def test_the_earlier_release_s_records_get_keys_of_their_own_and_one_is_then_disposed_of_leaving_no_trace(tmp_path):
    """`incidents keys adopt-record-keys` re-encrypts the older records in place with a signed
    statement: the store verifies against its earlier checkpoint and names the re-encryption; an
    older incident's disposal is then carried out, the store still verifies, no file of the data
    folder holds its words or its events' earlier ciphertext, and the views rebuilt are as before
    without it."""
    from incidents.application.retention import CarryOutDisposal
    from incidents.domain.retention import RecordRetention

    expected = json.loads((FIXTURE / "expected.json").read_text())
    as_of = datetime.fromisoformat(expected["as_of"])
    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    opened = open_log(Settings(data_dir=tmp_path, practice="A81001"))
    try:
        log = opened.log
        every = log.recorder.select_notifications(start=1, limit=10_000)
        reported = [n for n in every if n.topic == "incidents.domain.filming:FilmingIncident.Reported"]
        incident_id = next(n.originator_id for n in reported if log.mapper.to_domain_event(n).practice == "A81001")
        own = [n for n in every if n.originator_id == incident_id]
        others = " ".join(s for n in every if n.originator_id != incident_id for s in _strings(vars(log.mapper.to_domain_event(n))))
        words = sorted({s for n in own for s in _strings(vars(log.mapper.to_domain_event(n))) if len(s) >= 8 and s not in others and s != str(incident_id)})
        old_states = [n.state for n in own]
        other_reported = next(n for n in reported if n.originator_id != incident_id)
    finally:
        log.close()
    assert words and len(own) >= 2
    before = what_a_user_sees(tmp_path, as_of)
    needles = [w.encode() for w in words]
    assert _files_holding(tmp_path, needles), "the views hold the incident's words before its disposal"

    adopted = cli(tmp_path, "keys", "adopt-record-keys")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "Re-encrypted" in adopted.stdout
    verified = cli(tmp_path, "verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Re-encryption 1 signed at" in verified.stdout and "match 2 signed checkpoint(s)" in verified.stdout
    assert _files_holding(tmp_path, old_states) == {}, "the deployment key's ciphertext of the record is gone from every file"
    assert cli(tmp_path, "keys", "adopt-record-keys").stdout.startswith("Nothing to re-encrypt")

    opened = open_log(Settings(data_dir=tmp_path, practice="A81001"))
    try:
        governance = Actor(UUID(int=1), "fixture.governance", "Fixture Governance", "A81001", ("governance",))
        assert opened.log.mapper.cipher.record_keys.key_of(incident_id) is not None
        assert opened.log.get_incident(governance, incident_id).id == incident_id  # still reads, under its own key
        with governance.acting():
            retention = RecordRetention(practice="A81001", record_id=incident_id, record_kind="filming")
            retention.trigger_event(RecordRetention.DisposalDecided, record_id=incident_id, reason="Test of adoption", authorised_by="Dr Shah")
        opened.log.save(retention)
        opened.log.carry_out_disposal(CarryOutDisposal(record_id=incident_id), governance)
    finally:
        opened.log.close()

    verified = cli(tmp_path, "verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 record(s) disposed of" in verified.stdout and "Re-encryption 1 signed at" in verified.stdout
    after = what_a_user_sees(tmp_path, as_of)
    assert _files_holding(tmp_path, needles + old_states) == {}
    with sqlite3.connect(tmp_path / "incidents.sqlite") as db:
        [(other_state,)] = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (other_reported.id,)).fetchall()
    assert other_state[:4] == b"\xffIRK" and other_state != other_reported.state  # the other older records were re-encrypted too
    opened = open_log(Settings(data_dir=tmp_path))
    try:
        assert opened.log.mapper.to_domain_event(other_reported.__class__(**{**vars(other_reported), "state": other_state})).practice
    finally:
        opened.log.close()
    gone = str(incident_id)
    for practice in PRACTICES:
        for part in ("summaries", "timelines", "action_queue", "requests", "notices", "staff"):
            assert after[practice][part] == _without(before[practice][part], gone), (practice, part)
    assert any(row["id"] == gone for row in before["A81001"]["summaries"])


@pytest.mark.parametrize("tampering", ["statement removed", "statement changed", "re-encrypted event changed after"])
def test_a_re_encryption_vouches_only_for_what_its_signed_statement_names(tmp_path, tampering):
    """Without its statement, or with it altered, the re-encrypted events are changes the earlier
    checkpoint finds; an event changed after the re-encryption is one too."""
    from incidents.domain.checkpoint import ADOPTION_LOG_ID

    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    adopted = cli(tmp_path, "keys", "adopt-record-keys")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert cli(tmp_path, "verify-store").returncode == 0
    with sqlite3.connect(tmp_path / "incidents.sqlite") as db:
        statement_row = db.execute("SELECT rowid FROM stored_events WHERE originator_id = ?", (ADOPTION_LOG_ID.hex,)).fetchone()[0]
        rewritten = db.execute("SELECT rowid FROM stored_events WHERE substr(state, 1, 4) = ? ORDER BY rowid", (b"\xffIRK",)).fetchall()
        if tampering == "statement removed":
            db.execute("DELETE FROM stored_events WHERE rowid = ?", (statement_row,))
        else:
            row = statement_row if tampering == "statement changed" else rewritten[0][0]
            [(state,)] = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (row,)).fetchall()
            changed = state[:40] + bytes([state[40] ^ 1]) + state[41:]
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (changed, row))
    verified = cli(tmp_path, "verify-store")
    assert verified.returncode == 1, verified.stdout
    text = " ".join(verified.stdout.split())
    if tampering == "statement changed":
        assert "re-encryption statement 1 cannot be read" in text
    assert f"event #{rewritten[0][0]} " in text and "was changed since checkpoint 1" in text


@pytest.mark.slow
def test_the_earlier_release_s_records_get_keys_of_their_own_on_postgresql_too(tmp_path, postgres_url):
    """The fixture's rows copied, byte for byte and in order, into an empty PostgreSQL database (so
    its checkpoint verifies there), then re-encrypted: the store verifies, names the re-encryption,
    no row of the events table (dead tuples included, after VACUUM FULL) holds an earlier
    ciphertext, and an older incident's disposal is carried out."""
    import psycopg

    from incidents.application.retention import CarryOutDisposal
    from incidents.domain.retention import RecordRetention

    expected = json.loads((FIXTURE / "expected.json").read_text())
    source = tmp_path / "source"
    source.mkdir()
    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, source / name)
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURE / "cipher.key", data / "cipher.key")
    opened = open_log(Settings(data_dir=source))
    try:
        every = opened.log.recorder.select_notifications(start=1, limit=10_000)
    finally:
        opened.log.close()
    target = open_log(Settings(data_dir=data, database_url=postgres_url))
    try:
        for n in every:
            target.log.recorder.insert_events([n])
        assert target.log.recorder.max_notification_id() == every[-1].id
        reported = [n for n in every if n.topic == "incidents.domain.filming:FilmingIncident.Reported"]
        incident_id = next(n.originator_id for n in reported if target.log.mapper.to_domain_event(n).practice == "A81001")
    finally:
        target.log.close()
    old_states = [n.state for n in every if target.log.mapper.has_own_key(n.topic)]

    def pg_cli(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
        env.update(INCIDENTS_DATA_DIR=str(data), INCIDENTS_PRACTICE="A81001", INCIDENTS_DATABASE_URL=postgres_url, INCIDENTS_CIPHER_KEY_FILE=str(data / "cipher.key"))
        return subprocess.run([str(INCIDENTS), *args], env=env, capture_output=True, text=True, timeout=120)

    verified = pg_cli("verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    adopted = pg_cli("keys", "adopt-record-keys")
    assert adopted.returncode == 0 and "Re-encrypted" in adopted.stdout, adopted.stdout + adopted.stderr
    verified = pg_cli("verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Re-encryption 1 signed at" in verified.stdout
    with psycopg.connect(postgres_url, autocommit=True) as db:
        # Every tuple on the table's pages, dead or alive, read as raw page bytes (states this
        # small are stored inline, not in TOAST).
        db.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        pages = b"".join(bytes(p) for (p,) in db.execute(
            "SELECT get_raw_page('incidents_events', n::int) FROM generate_series(0, pg_relation_size('incidents_events') / 8192 - 1) AS n"
        ))
        states = [bytes(s) for (s,) in db.execute("SELECT state FROM incidents_events")]
    assert pages and any(s in pages for s in states)  # the raw pages are read: a state now stored is found in them
    assert not [s for s in old_states if s in pages]

    opened = open_log(Settings(data_dir=data, database_url=postgres_url, practice="A81001"))
    try:
        governance = Actor(UUID(int=1), "fixture.governance", "Fixture Governance", "A81001", ("governance",))
        with governance.acting():
            retention = RecordRetention(practice="A81001", record_id=incident_id, record_kind="filming")
            retention.trigger_event(RecordRetention.DisposalDecided, record_id=incident_id, reason="Test of adoption", authorised_by="Dr Shah")
        opened.log.save(retention)
        opened.log.carry_out_disposal(CarryOutDisposal(record_id=incident_id), governance)
    finally:
        opened.log.close()
    verified = pg_cli("verify-store", "--fingerprint", expected["signing_key_fingerprint"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 record(s) disposed of" in verified.stdout


def test_re_encrypting_older_records_is_refused_while_a_process_holds_the_projections_lock(tmp_path):
    """A running app or worker could keep in memory that a record has no key and go on writing its
    events under the deployment key: the command refuses, naming the holder, and changes nothing."""
    from incidents.domain.checkpoint import ADOPTION_LOG_ID
    from incidents.projections.running.locks import holding_lock

    for name in STORE_FILES:
        shutil.copy(FIXTURE / name, tmp_path / name)
    opened = open_log(Settings(data_dir=tmp_path))
    try:
        with holding_lock(opened.store, "a test standing in for the app"):
            refused = cli(tmp_path, "keys", "adopt-record-keys")
    finally:
        opened.log.close()
    assert refused.returncode == 2 and "Not done:" in refused.stderr and "Traceback" not in refused.stderr, refused.stdout + refused.stderr
    opened = open_log(Settings(data_dir=tmp_path))
    try:
        assert opened.log.mapper.cipher.record_keys.count() == 0
        assert not opened.log.recorder.select_events(ADOPTION_LOG_ID)
    finally:
        opened.log.close()
