"""One contract for the incident summaries view, run on a SQLite file and on PostgreSQL,
with the library's ProjectionRunner and our subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from eventsourcing.postgres import PostgresSubscription

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from incidents.domain.acting import recorded_as_of
from incidents.projections.running.runner import start_projections
from incidents.projections.summaries import SummaryQuery
from incidents.settings import Settings
from tests.conftest import wait_until


def actor_in(log, practice: str, role: str = "manager") -> Actor:
    username = f"{role}.{practice.lower()}"
    log.register_account(c.RegisterAccount(username=username, display_name="Test", practice=practice, roles=(role,), password="a long enough password"), actor="test")  # type: ignore[arg-type]
    return log.authenticate(username, "a long enough password")[0]


def report(log, actor, minutes_ago: int = 5):
    return log.report_filming(
        c.ReportFilming(
            submission_key=uuid.uuid4().hex,
            occurred_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago),
            area="waiting_area",
            filmer="patient",
            people_captured="staff",
            children_present="no",
            note="note",
        ),
        actor,
    )


def today(view, practice):
    now = datetime.now(timezone.utc)
    return view.reported_between(practice, now - timedelta(days=1), now + timedelta(minutes=1))


def test_view_follows_the_incident_life_cycle(opened, projections):
    log = opened.log
    manager = actor_in(log, "A81001")
    saved = report(log, manager)
    log.respond(c.RecordResponse(incident_id=saved.id, submission_key=uuid.uuid4().hex, response="AskedToStop", occurred_at=datetime.now(timezone.utc)), manager)
    log.add_note(c.AddNote(incident_id=saved.id, submission_key=uuid.uuid4().hex, text="More"), manager)
    log.correct(c.CorrectIncident(incident_id=saved.id, field="area", new_value="reception", reason="wrong"), manager)
    last = log.close_incident(c.CloseIncident(incident_id=saved.id, outcome="resolved_at_desk"), manager)
    assert projections.wait(last.notification_id, timeout=10)
    row = projections.summaries.get("A81001", saved.id)
    assert row is not None
    assert (row.kind, row.location, row.status, row.outcome) == ("filming", "reception", "closed", "resolved_at_desk")
    assert (row.last_response, row.responses, row.notes, row.corrections) == ("AskedToStop", 1, 2, 1)
    assert row.reviewed_at is not None and row.closed_at is not None
    reopened = log.reopen_incident(c.ReopenIncident(incident_id=saved.id, reason="more came in"), manager)
    assert projections.wait(reopened.notification_id, timeout=10)
    row = projections.summaries.get("A81001", saved.id)
    assert (row.status, row.outcome, row.closed_at) == ("open", "", None)
    assert projections.summaries.get("B82002", saved.id) is None


def test_ignored_events_advance_tracking(opened, projections):
    log = opened.log
    actor_in(log, "A81001")  # a StaffAccount event: not an incident, still tracked
    last = log.recorder.max_notification_id()
    assert projections.wait(last, timeout=10)
    assert projections.summaries.max_tracking_id(log.name) == last


def test_restart_in_the_middle_resumes_without_double_counting(opened):
    log = opened.log
    manager = actor_in(log, "A81001")
    first = start_projections(opened.store, opened.env)
    saved = report(log, manager)
    for _ in range(3):
        done = log.respond(c.RecordResponse(incident_id=saved.id, submission_key=uuid.uuid4().hex, response="PolicyExplained", occurred_at=datetime.now(timezone.utc)), manager)
    assert first.wait(done.notification_id, timeout=10)
    first.stop()
    for _ in range(2):
        done = log.respond(c.RecordResponse(incident_id=saved.id, submission_key=uuid.uuid4().hex, response="NoticePointedOut", occurred_at=datetime.now(timezone.utc)), manager)
    second = start_projections(opened.store, opened.env)
    try:
        assert second.wait(done.notification_id, timeout=10)
        row = second.summaries.get("A81001", saved.id)
        assert row.responses == 5 and row.last_response == "NoticePointedOut"
        assert [r.incident_id for r in today(second.summaries, "A81001")] == [saved.id]
    finally:
        second.stop()


def test_a_write_in_this_process_reaches_the_view_promptly(opened, projections):
    log = opened.log
    manager = actor_in(log, "A81001")
    saved = report(log, manager)
    started = datetime.now(timezone.utc)
    assert projections.wait(saved.notification_id, timeout=5)
    assert datetime.now(timezone.utc) - started < timedelta(seconds=2)
    assert projections.summaries.get("A81001", saved.id) is not None


def test_many_incidents_of_the_same_minute_are_all_listed_in_arrival_order(opened, projections):
    """Times typed on the form are whole minutes, so a busy practice (or many practices on one
    server) shares them. The view once kept 1,024 places per moment and stopped at the next."""
    log = opened.log
    manager = actor_in(log, "A81001")
    moment = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
    ids = []
    for _ in range(1100):
        saved = log.report_filming(
            c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=moment, area="waiting_area", filmer="patient", people_captured="staff", children_present="no"),
            manager,
        )
        ids.append(saved.id)
    assert projections.wait(saved.notification_id, timeout=60)
    page = projections.summaries.search(SummaryQuery(practice="A81001", page_size=50))
    assert page.total >= 1000
    assert [row.incident_id for row in page.rows] == ids[::-1][:50]  # newest arrival first
    assert projections.summaries.get("A81001", ids[0]) is not None


def test_a_write_whose_notify_is_missed_still_reaches_the_view(postgres_url, tmp_path, monkeypatch):
    """PostgreSQL never replays a NOTIFY, and the library LISTENs in a thread of its own after
    its first read: a write in that gap must not wait for the next write to be projected."""
    monkeypatch.setattr(PostgresSubscription, "_listen", lambda self: None)  # a LISTEN still to come
    opened = open_log(Settings(data_dir=tmp_path, database_url=postgres_url))
    log = opened.log
    manager = actor_in(log, "A81001")
    projections = start_projections(opened.store, opened.env)
    try:
        saved = report(log, manager)

        def projected():
            return (projections.summaries.max_tracking_id(log.name) or 0) >= saved.notification_id

        wait_until(projected, timeout=5)
        assert projections.summaries.get("A81001", saved.id) is not None
    finally:
        projections.stop()
        log.close()


def test_closed_incidents_are_found_by_when_and_how_they_were_closed_and_how_long_it_took(opened, projections):
    """The filters behind the monthly report's closes (outcome, day closed, time to close), with and without words."""
    log = opened.log
    manager = actor_in(log, "A81001")
    now = datetime.now(timezone.utc)
    incidents = []
    with recorded_as_of(now - timedelta(days=40)):
        for _ in range(3):
            incidents.append(report(log, manager, minutes_ago=60 * 24 * 40 + 30).id)
    for incident_id, days_ago, outcome in ((incidents[0], 35, "resolved_at_desk"), (incidents[1], 10, "no_further_action")):
        with recorded_as_of(now - timedelta(days=days_ago)):
            last = log.close_incident(c.CloseIncident(incident_id=incident_id, outcome=outcome), manager)
    assert projections.wait(last.notification_id, timeout=10)

    def found(**filters):
        return [row.incident_id for row in projections.summaries.search(SummaryQuery(practice="A81001", **filters)).rows]

    today = now.date()
    assert found(outcome="resolved_at_desk") == [incidents[0]]
    assert found(closed_from=today - timedelta(days=36), closed_to=today - timedelta(days=34)) == [incidents[0]]
    assert set(found(closed_from=today - timedelta(days=36))) == set(incidents[:2])
    assert found(took_at_least=timedelta(days=14)) == [incidents[1]]
    assert found(took_at_least=timedelta(days=2), took_under=timedelta(days=7)) == [incidents[0]]
    assert found(took_under=timedelta(days=7), text="note") == [incidents[0]]
    assert found(outcome="no_further_action", text="note", status="closed") == [incidents[1]]
    assert found(closed_to=today - timedelta(days=50)) == []


def test_a_whole_list_is_read_page_after_page_from_where_the_last_ended(opened, projections):
    """As the CSV reads it: incidents of the same minute split across pages, with words and
    without, none twice or missed when another is recorded between two pages."""
    log = opened.log
    manager = actor_in(log, "A81001")
    moment = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
    def same_minute() -> uuid.UUID:
        return log.report_filming(
            c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=moment, area="waiting_area", filmer="patient", people_captured="staff", children_present="no", note="note"),
            manager,
        )

    made = [same_minute() for _ in range(7)]
    assert projections.wait(made[-1].notification_id, timeout=10)
    for text in ("", "note"):
        query, seen, added = SummaryQuery(practice="A81001", page_size=3, text=text), [], None
        while True:
            page = projections.summaries.search(query)
            seen += [row.incident_id for row in page.rows]
            if added is None:  # newer than every row read: not in this reading, and no row twice
                added = same_minute()
                assert projections.wait(added.notification_id, timeout=10)
            if not page.has_next:
                break
            query = SummaryQuery(practice="A81001", page_size=3, text=text, before_key=page.last_key)
        assert seen == [saved.id for saved in made[::-1]], text
        made.append(added)
