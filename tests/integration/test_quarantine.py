"""A view never stops on one event: an event it cannot write (planted here past the domain's
checks: a filming incident dated in the year 1, a note holding a NUL) is set aside in the view's
quarantine, on SQLite and on PostgreSQL, live and in a rebuild, and every other incident still
reaches every view; the quarantine lists them, and a retry after a fix applies them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from eventsourcing.persistence import StoredEvent

from incidents.application import commands as c
from incidents.application.records import uk_today
from incidents.projections import figures, summaries
from incidents.projections.action_queue import fold as action_fold
from incidents.projections.summaries import fold as summary_fold
from incidents.projections.running.retry import list_quarantined, retry_quarantined
from incidents.projections.catalogue import CATALOGUE
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views, start_projections

from .test_summary_view_contract import actor_in, report

PRACTICE = "A81001"
YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone.utc)


def plant(log, events, **changes):
    """Save events changed past the domain's checks, straight through the application's store."""
    for event in events:
        for name, value in changes.items():
            object.__setattr__(event, name, value)
    recordings = log.save(*events)
    return recordings[-1].notification.id


def plant_report_in_year_one(log, actor):
    cmd = c.ReportFilming(
        submission_key=uuid.uuid4().hex, occurred_at=datetime.now(timezone.utc), area="waiting_area",
        filmer="patient", people_captured="staff", children_present="no", note="planted",
    )
    entry, *events = log._new_incident(cmd, actor, log._numbering(cmd, actor))
    return events[0].originator_id, plant(log, events, occurred_at=YEAR_ONE)


def plant_note_with_nul(log, actor, incident_id):
    incident = log.get_incident(actor, incident_id)
    with actor.acting():
        incident.add_note("fine", uuid.uuid4().hex)
    return plant(log, incident.collect_events(), text="a note with a \x00 in it")


def normal_incidents_everywhere(projections, ids, now):
    """Every view holds each of these incidents."""
    summaries = projections.summaries
    assert all(summaries.get(PRACTICE, incident_id) is not None for incident_id in ids)
    due = {item.incident_id for item in projections.view("action_queue").due(PRACTICE, now + timedelta(days=400), limit=1000)}
    assert set(ids) <= due
    figures = projections.view("dashboard_figures").figures(PRACTICE, uk_today())
    assert figures.months[-1].incidents == len(ids)


def entries(quarantined):
    return sorted((q.view, q.notification_id, q.originator_id, q.originator_version, q.topic) for q in quarantined)


def test_planted_events_are_set_aside_live_and_in_a_rebuild_and_retried_after_a_fix(opened, monkeypatch):
    log = opened.log
    manager = actor_in(log, PRACTICE)
    postgres = opened.store.kind == "postgres"
    projections = start_projections(opened.store, opened.env)
    try:
        before = report(log, manager)
        bad_id, bad_report = plant_report_in_year_one(log, manager)
        bad_note = plant_note_with_nul(log, manager, before.id)
        after = [report(log, manager) for _ in range(3)]
        assert projections.wait(after[-1].notification_id, timeout=20)
        assert projections.stopped() == []
        normal = [before.id, *(saved.id for saved in after)]
        normal_incidents_everywhere(projections, normal, datetime.now(timezone.utc))
        # SQLite text holds a NUL; the action queue cannot date a year-one incident's retention review.
        expected = {"incident_summaries": 1 + postgres, "dashboard_figures": 1, "action_queue": 1}
        assert projections.quarantined() == expected
        # A write after the bad ones reaches every view too, and each view is at the end of the log.
        later = report(log, manager)
        assert projections.wait(later.notification_id, timeout=20)
        normal.append(later.id)
        normal_incidents_everywhere(projections, normal, datetime.now(timezone.utc))
    finally:
        projections.stop()

    live = list_quarantined(opened.store, opened.env)
    assert {(q.view, q.notification_id) for q in live} == {
        ("incident_summaries", bad_report), ("dashboard_figures", bad_report), ("action_queue", bad_report),
        *([("incident_summaries", bad_note)] if postgres else []),
    }
    assert all(q.error and q.originator_id for q in live)
    assert any("NUL" in q.error for q in live) == postgres
    assert before.id not in {q.originator_id for q in live}
    assert str(bad_id) in {q.originator_id for q in live}

    # A rebuild completes, and sets aside the same events.
    rebuild(opened.store, opened.env, [], lambda position, last: None)
    assert entries(list_quarantined(opened.store, opened.env)) == entries(live)
    views = open_views(opened.store, opened.env)
    normal_incidents_everywhere(views, normal, datetime.now(timezone.utc))
    assert views.quarantined() == expected

    # A retry without a fix leaves them set aside; after a fix, they reach their views.
    assert all(result.error for result in retry_quarantined(opened.store, opened.env))
    assert entries(list_quarantined(opened.store, opened.env)) == entries(live)
    original_sort_base = summary_fold.sort_base
    monkeypatch.setattr(summary_fold, "sort_base", lambda moment: max(original_sort_base(moment), -(2**62)))
    monkeypatch.setattr(figures, "month_key", lambda moment: "0001-01" if moment.year == 1 else original_month_key(moment))
    monkeypatch.setattr(summaries, "searchable", lambda text: original_searchable(text.replace("\x00", " ")))
    monkeypatch.setattr(action_fold, "years_after", lambda moment, years: date(1 + years, 1, 1) if moment.year == 1 else original_years_after(moment, years))
    retried = retry_quarantined(opened.store, opened.env)
    assert [result.error for result in retried] == [""] * len(live)
    assert list_quarantined(opened.store, opened.env) == []
    views = open_views(opened.store, opened.env)
    assert views.quarantined() == {}
    assert views.summaries.get(PRACTICE, bad_id).occurred_at == YEAR_ONE
    assert views.summaries.get(PRACTICE, before.id).notes == 2
    assert "with" in views.summaries.indexed_text(PRACTICE, before.id)


original_month_key = figures.month_key
original_searchable = summaries.searchable
original_years_after = action_fold.years_after


def test_a_batch_holding_a_bad_event_is_written_but_for_that_event(opened):
    """Started after the writes, the projections read them in one batch (one transaction per
    view on SQLite): the failed batch is written again event by event, and only the bad one set aside."""
    log = opened.log
    manager = actor_in(log, PRACTICE)
    first = report(log, manager)
    _, bad_report = plant_report_in_year_one(log, manager)
    rest = [report(log, manager) for _ in range(3)]
    projections = start_projections(opened.store, opened.env)
    try:
        assert projections.wait(rest[-1].notification_id, timeout=20)
        assert projections.stopped() == []
        normal_incidents_everywhere(projections, [first.id, *(saved.id for saved in rest)], datetime.now(timezone.utc))
        assert projections.quarantined() == {"incident_summaries": 1, "dashboard_figures": 1, "action_queue": 1}
    finally:
        projections.stop()
    assert {(q.view, q.notification_id) for q in list_quarantined(opened.store, opened.env)} == {
        ("incident_summaries", bad_report), ("dashboard_figures", bad_report), ("action_queue", bad_report),
    }


def test_an_event_that_cannot_be_read_is_set_aside_by_every_view_live_and_in_a_rebuild(opened):
    log = opened.log
    manager = actor_in(log, PRACTICE)
    projections = start_projections(opened.store, opened.env)
    damaged_id = uuid.uuid4()
    try:
        before = report(log, manager)
        topic = "incidents.domain.filming:FilmingIncident.Reported"
        damaged = log.recorder.insert_events([StoredEvent(damaged_id, 1, topic, b"not what was encrypted")])[-1]
        after = report(log, manager)
        assert projections.wait(after.notification_id, timeout=20)
        assert projections.stopped() == []
        normal_incidents_everywhere(projections, [before.id, after.id], datetime.now(timezone.utc))
        assert projections.quarantined() == {spec.name: 1 for spec in CATALOGUE}
    finally:
        projections.stop()
    live = list_quarantined(opened.store, opened.env)
    assert {(q.view, q.notification_id, q.originator_id, q.topic) for q in live} == {
        (spec.name, damaged, str(damaged_id), topic) for spec in CATALOGUE
    }
    assert all(q.error.startswith("UnreadableEvent: ") for q in live)

    rebuild(opened.store, opened.env, [], lambda position, last: None)
    assert entries(list_quarantined(opened.store, opened.env)) == entries(live)
    normal_incidents_everywhere(open_views(opened.store, opened.env), [before.id, after.id], datetime.now(timezone.utc))
    # Still unreadable on a retry: still set aside, the CLI goes on.
    assert all(result.error.startswith("UnreadableEvent: ") for result in retry_quarantined(opened.store, opened.env))
    assert entries(list_quarantined(opened.store, opened.env)) == entries(live)
