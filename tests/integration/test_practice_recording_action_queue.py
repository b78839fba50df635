"""The action queue asks managers to destroy a recording the practice made: while it has no
consent on record after its day, once its agreed retention date has passed, or once consent is
withdrawn; recording its destruction ends the item. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from incidents.application.practice_recordings import DestroyRecording, GiveConsent, MakeRecording, WithdrawConsent
from incidents.application.records import uk_today
from incidents.projections.action_queue import ActionQueue
from incidents.projections.action_queue.postgres import PostgresActionQueueView
from incidents.projections.action_queue.sqlite import SQLiteActionQueueView

from .view_histories import managers, run_projection, stop

VIEWS = {"sqlite": SQLiteActionQueueView, "postgres": PostgresActionQueueView}


def destroy_items(view, now, roles=None):
    return {i.incident_id: i for i in view.due("A81001", now, limit=50, roles=roles) if i.action == "destroy_recording"}


def test_destruction_comes_with_no_consent_the_end_of_retention_or_withdrawal_and_goes_when_done(opened):
    log = opened.log
    manager = managers(log)["A81001"]
    runner = run_projection(opened, ActionQueue, VIEWS)
    try:
        today = uk_today()
        made = lambda: log.make_recording(  # noqa: E731
            MakeRecording(submission_key=uuid.uuid4().hex, nhs_number="9434765919", clinician="Dr Reg", recorded_on=today - timedelta(days=10), purpose="training", medium="audio"),
            manager,
        ).id
        unconsented, kept, withdrawn = made(), made(), made()
        for recording_id in (kept, withdrawn):
            log.give_consent(
                GiveConsent(recording_id=recording_id, form="written", given_on=today - timedelta(days=10), purposes=["training"], audiences=["trainer"],
                            circumstances="Tutorials", keep_until=today + timedelta(days=30)),
                manager,
            )
        last = log.withdraw_consent(WithdrawConsent(recording_id=withdrawn, withdrawn_on=today, how="Told reception"), manager)
        runner.wait(last.notification_id, timeout=10)
        now = datetime.now(timezone.utc)
        items = destroy_items(runner.view, now)
        assert set(items) == {unconsented, withdrawn}  # the consented one is not due yet
        assert items[unconsented].kind == "practice_recording" and "No consent" in items[unconsented].detail
        assert "withdrew" in items[withdrawn].detail and items[withdrawn].label == "Destroy the recording"
        assert set(destroy_items(runner.view, now + timedelta(days=32))) == {unconsented, kept, withdrawn}
        assert destroy_items(runner.view, now, roles=("reception",)) == {}
        assert set(destroy_items(runner.view, now, roles=("governance",))) == {unconsented, withdrawn}  # governance oversees (issue 19 point 5)
        done = log.destroy_recording(DestroyRecording(recording_id=withdrawn, destroyed_on=today, how="Deleted with its backup"), manager)
        runner.wait(done.notification_id, timeout=10)
        assert set(destroy_items(runner.view, now)) == {unconsented}
    finally:
        stop(runner)
