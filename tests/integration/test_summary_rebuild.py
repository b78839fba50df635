"""Rebuilding the incident summaries: a view built live equals the same view rebuilt from
scratch, for randomly generated histories; and a rebuild never runs beside live projections."""

from __future__ import annotations

import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.domain.values import DomainError
from incidents.projections.running.locks import RebuildRefused
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views, start_projections
from incidents.projections.summaries import SummaryQuery
from incidents.settings import Settings

PRACTICES = ("A81001", "B82002")
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
FAR = datetime(2100, 1, 1, tzinfo=timezone.utc)

step = st.one_of(
    st.tuples(st.just("report"), st.sampled_from(["filming", "recording"]), st.sampled_from(PRACTICES)),
    st.tuples(st.just("respond"), st.integers(0, 20), st.integers(0, 10)),
    st.tuples(st.just("note"), st.integers(0, 20)),
    st.tuples(st.just("correct"), st.integers(0, 20)),
    st.tuples(st.just("close"), st.integers(0, 20)),
    st.tuples(st.just("reopen"), st.integers(0, 20)),
    st.tuples(st.just("review"), st.integers(0, 20)),
    st.tuples(st.just("account"), st.sampled_from(PRACTICES)),
)


def managers(log):
    actors = {}
    for practice in PRACTICES:
        username = f"manager.{practice.lower()}"
        log.register_account(c.RegisterAccount(username=username, display_name="M", practice=practice, roles=("manager",), password="a long enough password"), actor="test")  # type: ignore[arg-type]
        actors[practice] = log.authenticate(username, "a long enough password")[0]
    return actors


def play(log, actors, steps) -> None:
    now = datetime.now(timezone.utc)
    incidents: list[tuple[uuid.UUID, str, str]] = []
    for s in steps:
        try:
            if s[0] == "report":
                actor = actors[s[2]]
                when = now - timedelta(hours=len(incidents) + 1)
                if s[1] == "filming":
                    saved = log.report_filming(c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient", people_captured="staff", children_present="no"), actor)
                else:
                    saved = log.report_recording(c.ReportRecording(submission_key=uuid.uuid4().hex, occurred_at=when, clinician="Dr Shah", setting="telephone", openness="announced", media="audio"), actor)
                incidents.append((saved.id, s[1], s[2]))
                continue
            if s[0] == "account":
                log.register_account(c.RegisterAccount(username=f"r{uuid.uuid4().hex[:8]}", display_name="R", practice=s[1], roles=("reception",), password="a long enough password"), actor="test")  # type: ignore[arg-type]
                continue
            if not incidents:
                continue
            incident_id, kind, practice = incidents[s[1] % len(incidents)]
            actor = actors[practice]
            if s[0] == "respond":
                names = ["PolicyExplained", "AskedToStop", "Stopped"] if kind == "filming" else ["AskedToRecordOpenly", "CopyRequested", "CopyReceived"]
                log.respond(c.RecordResponse(incident_id=incident_id, submission_key=uuid.uuid4().hex, response=names[s[2] % 3], occurred_at=now), actor)
            elif s[0] == "note":
                log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text="more"), actor)
            elif s[0] == "correct":
                field, value = ("area", "reception") if kind == "filming" else ("setting", "video")
                log.correct(c.CorrectIncident(incident_id=incident_id, field=field, new_value=value, reason="wrong"), actor)
            elif s[0] == "close":
                outcome = "no_further_action"
                log.close_incident(c.CloseIncident(incident_id=incident_id, outcome=outcome), actor)
            elif s[0] == "reopen":
                log.reopen_incident(c.ReopenIncident(incident_id=incident_id, reason="again"), actor)
            elif s[0] == "review":
                log.review_incident(c.ReviewIncident(incident_id=incident_id), actor)
        except DomainError:
            pass  # refused by an invariant (closed twice, nothing to correct...): nothing recorded


def every_row(view):
    """Every row with the words its search index holds, and each practice's list in order."""
    rows = sorted(
        (row for practice in PRACTICES for row in view.reported_between(practice, EPOCH, FAR, limit=100_000)),
        key=lambda row: str(row.incident_id),
    )
    words = [view.indexed_text(row.practice, row.incident_id) for row in rows]
    lists = [[r.incident_id for r in view.search(SummaryQuery(practice=p, page_size=100)).rows] for p in PRACTICES]
    return rows, words, lists


@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=40))
def test_a_view_built_live_equals_the_same_view_rebuilt(steps):
    with tempfile.TemporaryDirectory() as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        log = opened.log
        projections = start_projections(opened.store, opened.env)
        try:
            play(log, managers(log), steps)
            assert projections.wait(log.recorder.max_notification_id(), timeout=20)
            live = every_row(projections.summaries)
        finally:
            projections.stop()
        count = rebuild(opened.store, opened.env, [], lambda position, last: None)
        assert count == log.recorder.max_notification_id()
        rebuilt = open_views(opened.store, opened.env)
        assert every_row(rebuilt.summaries) == live
        assert rebuilt.summaries.max_tracking_id(log.name) == log.recorder.max_notification_id()
        log.close()


def test_a_rebuild_refuses_while_projections_run_and_they_resume_after(tmp_path):
    opened = open_log(Settings(data_dir=tmp_path))
    projections = start_projections(opened.store, opened.env)
    try:
        with pytest.raises(RebuildRefused, match="Stop it first"):
            rebuild(opened.store, opened.env, [], lambda position, last: None)
    finally:
        projections.stop()
    rebuild(opened.store, opened.env, [], lambda position, last: None)
    again = start_projections(opened.store, opened.env)
    again.stop()
    opened.log.close()


# On PostgreSQL: tests/integration/test_rebuild_postgres.py
