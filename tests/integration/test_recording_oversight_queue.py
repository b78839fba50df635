"""The action queue shows managers and governance a recording's other items, each with its P-
reference (issue 19 point 5): the patient's review they asked for (until it is done, they decline
it after all, consent is withdrawn or it is destroyed) and the agreed keeping period ending (in
its last 30 days only, then the destruction item takes over); a rebuilt view holds the same items.
On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from incidents.application.practice_recordings import (
    DestroyRecording, GiveConsent, MakeRecording, OfferReview, RecordReview, RegisterFile, WithdrawConsent,
)
from incidents.application.records import uk_today
from incidents.projections.action_queue import ActionQueue
from incidents.projections.action_queue.postgres import PostgresActionQueueView
from incidents.projections.action_queue.sqlite import SQLiteActionQueueView

from .view_histories import managers, postgres_database, rebuilt_view, run_projection, stop

VIEWS = {"sqlite": SQLiteActionQueueView, "postgres": PostgresActionQueueView}
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def items(view, now, roles=None):
    return {(i.incident_id, i.action): i for i in view.due("A81001", now, limit=50, roles=roles) if i.kind == "practice_recording"}


def test_review_and_consent_ending_items_carry_the_reference_and_end_when_settled(opened):
    log = opened.log
    manager = managers(log)["A81001"]
    runner = run_projection(opened, ActionQueue, VIEWS)
    try:
        today = uk_today()

        def made(keep_days: int) -> uuid.UUID:
            recording_id = log.make_recording(
                MakeRecording(submission_key=uuid.uuid4().hex, nhs_number="9434765919", clinician="Dr Reg", recorded_on=today, purpose="training", medium="audio"),
                manager,
            ).id
            log.give_consent(GiveConsent(recording_id=recording_id, form="written", given_on=today, purposes=["training"], audiences=["trainer"],
                                         circumstances="Tutorials", keep_until=today + timedelta(days=keep_days)), manager)
            log.register_file(RegisterFile(recording_id=recording_id, kept_at="Drive", sha256=SHA, size=10), manager)
            return recording_id

        reviewed, declined, ending, withdrawn, destroyed = made(200), made(200), made(10), made(10), made(200)
        for recording_id in (reviewed, declined, withdrawn, destroyed):
            log.offer_review(OfferReview(recording_id=recording_id, answer="accepted"), manager)
        last = log.offer_review(OfferReview(recording_id=declined, answer="declined"), manager)
        runner.wait(last.notification_id, timeout=10)
        now = datetime.now(timezone.utc)
        shown = items(runner.view, now)
        assert set(shown) == {
            (reviewed, "recording_review"), (withdrawn, "recording_review"), (destroyed, "recording_review"),
            (ending, "consent_ending"), (withdrawn, "consent_ending"),
        }
        refs = {log.get_practice_recording(manager, i).ref for i in (reviewed, ending)}
        assert {shown[(reviewed, "recording_review")].ref, shown[(ending, "consent_ending")].ref} == refs and all(r.startswith("P-") for r in refs)
        assert not any(i.overdue for i in shown.values())
        assert set(items(runner.view, now, roles=("governance",))) == set(shown) and items(runner.view, now, roles=("reception",)) == {}
        # Past the agreed date the ending item goes and the destruction item comes.
        later = items(runner.view, now + timedelta(days=12))
        assert (ending, "consent_ending") not in later and (ending, "destroy_recording") in later

        log.record_review(RecordReview(recording_id=reviewed, reviewed_on=today), manager)
        log.withdraw_consent(WithdrawConsent(recording_id=withdrawn, withdrawn_on=today, how="By letter"), manager)
        last = log.destroy_recording(DestroyRecording(recording_id=destroyed, destroyed_on=today, how="Deleted"), manager)
        runner.wait(last.notification_id, timeout=10)
        shown = items(runner.view, now)
        assert set(shown) == {(ending, "consent_ending"), (withdrawn, "destroy_recording")}
        assert shown[(withdrawn, "destroy_recording")].ref == log.get_practice_recording(manager, withdrawn).ref
        live = [items(runner.view, at) for at in (now, now + timedelta(days=12))]
    finally:
        stop(runner)
    if opened.store.kind == "sqlite":
        rebuilt = rebuilt_view(opened, ActionQueue, VIEWS, "view-rebuilt.sqlite")
        assert [items(rebuilt, at) for at in (now, now + timedelta(days=12))] == live
    else:
        with postgres_database() as database:
            rebuilt = rebuilt_view(opened, ActionQueue, VIEWS, database)
            assert [items(rebuilt, at) for at in (now, now + timedelta(days=12))] == live
