"""One contract for the dashboard figures view, run on a SQLite file and on PostgreSQL, with the
library's ProjectionRunner and our subscriptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone


from incidents.application import commands as c
from incidents.projections.figures import CLOSE_TIME_BUCKETS, UK, Figures, month_key, months_ending
from incidents.projections.figures.postgres import PostgresFiguresView
from incidents.projections.figures.sqlite import SQLiteFiguresView

from .view_histories import (
    an_ignored_event_advances_tracking,
    PRACTICES,
    history,
    managers,
    play,
    live_equals_rebuilt_on_both,
    rebuilt_view,
    report,
    respond,
    run_projection,
    runner_of,
    stop,
)

VIEWS = {"sqlite": SQLiteFiguresView, "postgres": PostgresFiguresView}
runner = runner_of(Figures, VIEWS)


def uk_today() -> date:
    return datetime.now(UK).date()


def month_index(figures, when: datetime) -> int:
    return [m.month for m in figures.months].index(date.fromisoformat(month_key(when) + "-01"))


def test_counters_follow_reports_corrections_closes_and_reopens(opened, runner):
    log = opened.log
    manager = managers(log)["A81001"]
    now = datetime.now(timezone.utc)
    earlier = now - timedelta(days=45)
    filming = report(log, manager, "filming", now - timedelta(minutes=5))
    recording = report(log, manager, "recording", now - timedelta(minutes=4))
    respond(log, manager, filming.id, "AskedToStop", now - timedelta(minutes=3))
    respond(log, manager, recording.id, "CopyRequested", now - timedelta(minutes=3))
    respond(log, manager, recording.id, "CopyRequested", now - timedelta(minutes=2))
    # The filming happened 45 days ago, in the reception: it moves month and place.
    log.correct(c.CorrectIncident(incident_id=filming.id, field="occurred_at", new_value=earlier.isoformat(), reason="wrong day"), manager)
    log.correct(c.CorrectIncident(incident_id=filming.id, field="area", new_value="reception", reason="wrong place"), manager)
    log.correct(c.CorrectIncident(incident_id=filming.id, field="filmer", new_value="visitor", reason="not counted"), manager)
    log.close_incident(c.CloseIncident(incident_id=filming.id, outcome="resolved_at_desk"), manager)
    log.close_incident(c.CloseIncident(incident_id=recording.id, outcome="no_further_action"), manager)
    log.reopen_incident(c.ReopenIncident(incident_id=recording.id, reason="the copy came"), manager)
    last = log.close_incident(c.CloseIncident(incident_id=recording.id, outcome="copy_added_to_record"), manager)
    runner.wait(last.notification_id, timeout=10)
    view = runner.view

    figures = view.figures("A81001", uk_today())
    assert figures.open_by_kind == {"recording": 0, "filming": 0}
    assert len(figures.months) == 12 and figures.months[-1].month == uk_today().replace(day=1)
    assert [m.month for m in figures.months] == sorted(m.month for m in figures.months)
    assert figures.months[-1].incidents_by_kind["recording"] == 1
    assert figures.months[month_index(figures, earlier)].incidents_by_kind["filming"] == 1
    assert sum(m.incidents for m in figures.months) == 2
    assert figures.response_mix == {"CopyRequested": 2, "AskedToStop": 1}
    # Closed, reopened and closed again counts once, with its last outcome.
    assert figures.close_times.count == 2
    assert figures.close_times.buckets[0] == 2 and figures.close_times.median_bucket == CLOSE_TIME_BUCKETS[0][0]
    assert 0 <= figures.close_times.total_seconds < 120

    moved = view.month_report("A81001", earlier.year, int(month_key(earlier)[5:]))
    assert moved.by_kind == {"recording": 0, "filming": 1} and moved.by_location == {"reception": 1}
    this_month = view.month_report("A81001", *map(int, month_key(now).split("-")))
    assert this_month.by_location == {"telephone": 1}
    assert this_month.by_outcome == {"copy_added_to_record": 1, "resolved_at_desk": 1}
    assert this_month.by_response == {"CopyRequested": 2, "AskedToStop": 1}
    assert this_month.close_times.count == 2

    reopened = log.reopen_incident(c.ReopenIncident(incident_id=filming.id, reason="they came back"), manager)
    runner.wait(reopened.notification_id, timeout=10)
    figures = view.figures("A81001", uk_today())
    assert figures.open_by_kind == {"recording": 0, "filming": 1}
    assert figures.close_times.count == 1
    assert view.figures("B82002", uk_today()).open_incidents == 0  # another practice sees none of it


test_an_ignored_event_advances_tracking = an_ignored_event_advances_tracking


def test_a_restart_in_the_middle_resumes_without_double_counting(opened):
    log = opened.log
    manager = managers(log)["A81001"]
    now = datetime.now(timezone.utc)
    first = run_projection(opened, Figures, VIEWS)
    saved = report(log, manager, "filming", now - timedelta(minutes=5))
    for _ in range(3):
        done = respond(log, manager, saved.id, "PolicyExplained", now - timedelta(minutes=1))
    first.wait(done.notification_id, timeout=10)
    stop(first)
    for _ in range(2):
        done = respond(log, manager, saved.id, "NoticePointedOut", now - timedelta(minutes=1))
    done = log.close_incident(c.CloseIncident(incident_id=saved.id, outcome="no_further_action"), manager)
    second = run_projection(opened, Figures, VIEWS)
    try:
        second.wait(done.notification_id, timeout=10)
        figures = second.view.figures("A81001", uk_today())
        assert figures.response_mix == {"PolicyExplained": 3, "NoticePointedOut": 2}
        assert sum(m.incidents for m in figures.months) == 1
        assert figures.open_incidents == 0 and figures.close_times.count == 1
    finally:
        stop(second)


def every_figure(view):
    today = uk_today()
    months = [(int(k[:4]), int(k[5:])) for k in months_ending(today, 16)]
    return [
        (view.figures(practice, today), [view.month_report(practice, y, m) for y, m in months]) for practice in PRACTICES
    ]


def live_equals_rebuilt(opened, steps, rebuilt_database: str) -> None:
    log = opened.log
    runner = run_projection(opened, Figures, VIEWS)
    try:
        incidents = play(log, managers(log), steps)
        last = log.recorder.max_notification_id()
        runner.wait(last, timeout=20)
        live = every_figure(runner.view)
    finally:
        stop(runner)
    rebuilt = rebuilt_view(opened, Figures, VIEWS, rebuilt_database)
    assert every_figure(rebuilt) == live
    assert rebuilt.max_tracking_id(log.name) == last
    # And both agree with the aggregates themselves on what is open.
    open_now = {"A81001": 0, "B82002": 0}
    for incident_id in incidents:
        incident = log.repository.get(incident_id)
        open_now[incident.practice] += incident.status == "open"
    assert {practice: figures.open_incidents for practice, (figures, _) in zip(PRACTICES, live)} == open_now


test_a_view_built_live_equals_the_same_view_rebuilt = live_equals_rebuilt_on_both(history, live_equals_rebuilt)


def test_the_app_runs_the_figures_and_the_action_queue(opened):
    from incidents.projections.running.runner import start_projections

    log = opened.log
    manager = managers(log)["A81001"]
    projections = start_projections(opened.store, opened.env)
    try:
        saved = report(log, manager, "recording", datetime.now(timezone.utc) - timedelta(minutes=5))
        assert projections.wait(saved.notification_id, timeout=10)
        assert projections.view("dashboard_figures").figures("A81001", uk_today()).open_by_kind["recording"] == 1
        assert [i.incident_id for i in projections.view("action_queue").due("A81001", datetime.now(timezone.utc))] == [saved.id]
    finally:
        projections.stop()
