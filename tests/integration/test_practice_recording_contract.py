"""Recordings the practice makes, through the application on SQLite and PostgreSQL: short
references, consent, the rules every use is checked against, roles and practices, and that the
record reads back the same after the store is opened again."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from incidents.application.practice_recordings import (
    DestroyRecording,
    GiveConsent,
    MakeRecording,
    OfferReview,
    PracticeRecordingNotFound,
    RecordReview,
    RecordUse,
    RegisterFile,
    VaryConsent,
    WithdrawConsent,
)
from incidents.application.records import uk_today
from incidents.application.service import Actor, NotPermitted
from incidents.bootstrap import open_log
from incidents.domain.practice_recording import ConsentWithdrawn, NoConsent, OutsideConsent, RetentionEnded, ReviewNotDone

PRACTICE = "A81001"
RECEPTION = Actor(uuid.uuid4(), "sue.reception", "Sue Reception", PRACTICE, ("reception",))
MANAGER = Actor(uuid.uuid4(), "mo.manager", "Mo Manager", PRACTICE, ("manager",))
GOVERNANCE = Actor(uuid.uuid4(), "gill.governance", "Gill Governance", PRACTICE, ("governance",))
OTHER = Actor(uuid.uuid4(), "other.manager", "Other Manager", "B82002", ("manager",))
SHA = "0123456789abcdef" * 4
TODAY = uk_today()


def make(log, actor=RECEPTION, key=None):
    return log.make_recording(
        MakeRecording(submission_key=key or uuid.uuid4().hex, nhs_number="943 476 5919", clinician="Dr Reg", recorded_on=TODAY,
                      purpose="training", medium="video"),
        actor,
    )


def consent(log, recording_id, keep_until=None, **overrides):
    fields = dict(recording_id=recording_id, form="written", given_on=TODAY, purposes="training", audiences=["trainer", "assessors"],
                  circumstances="Tutorials and assessment only", keep_until=keep_until or TODAY + timedelta(days=365))
    return log.give_consent(GiveConsent(**{**fields, **overrides}), RECEPTION)


def registered(log):
    saved = make(log)
    consent(log, saved.id)
    log.register_file(RegisterFile(recording_id=saved.id, kept_at="Training drive", sha256=SHA, size=2048), RECEPTION)
    return saved.id


def use(log, recording_id, actor=MANAGER, shown_to="trainer", purpose="training", day=TODAY):
    return log.record_use(RecordUse(recording_id=recording_id, used_on=day, shown_to=shown_to, shown_to_names="Dr Trainer", purpose=purpose), actor)


def test_recordings_are_numbered_p_and_a_form_sent_again_makes_one(opened):
    log = opened.log
    key = uuid.uuid4().hex
    first, again, second = make(log, key=key), make(log, key=key), make(log)
    assert first.id == again.id and not again.created
    refs = [r.ref for r in log.practice_recordings(RECEPTION)]
    assert refs == [f"P-{TODAY.year}-0001", f"P-{TODAY.year}-0002"]
    assert second.id != first.id
    own_keys = {row[0] for row in log.mapper.cipher.record_keys._backend.every()}
    assert {first.id, second.id} <= own_keys  # encrypted with keys of their own, so that disposal can erase them


def test_a_use_within_consent_is_kept_and_every_rule_refuses_the_rest(opened):
    log = opened.log
    recording_id = registered(log)
    use(log, recording_id)
    with pytest.raises(OutsideConsent):
        use(log, recording_id, purpose="research")
    with pytest.raises(OutsideConsent):
        use(log, recording_id, shown_to="practice_clinicians")
    log.offer_review(OfferReview(recording_id=recording_id, answer="accepted"), RECEPTION)
    with pytest.raises(ReviewNotDone):
        use(log, recording_id)
    log.record_review(RecordReview(recording_id=recording_id, reviewed_on=TODAY), RECEPTION)
    use(log, recording_id, shown_to="assessors")
    log.vary_consent(VaryConsent(recording_id=recording_id, purposes=["training"], audiences=["trainer"], reason="Not the college"), RECEPTION)
    with pytest.raises(OutsideConsent):
        use(log, recording_id, shown_to="assessors")
    log.withdraw_consent(WithdrawConsent(recording_id=recording_id, withdrawn_on=TODAY, how="Phoned reception"), RECEPTION)
    with pytest.raises(ConsentWithdrawn):
        use(log, recording_id)
    log.destroy_recording(DestroyRecording(recording_id=recording_id, destroyed_on=TODAY, how="Deleted, and the backup copy"), MANAGER)
    recording = log.get_practice_recording(GOVERNANCE, recording_id)
    assert [u.shown_to for u in recording.uses] == ["trainer", "assessors"]
    assert recording.destruction.how == "Deleted, and the backup copy"
    names = [type(e).__name__ for e in log.practice_recording_history(GOVERNANCE, recording_id)]
    assert names == ["Made", "ConsentGiven", "FileRegistered", "Used", "ReviewOffered", "Reviewed", "Used", "ConsentVaried", "ConsentWithdrawn", "Destroyed"]
    assert log.practice_recording_history(GOVERNANCE, recording_id)[3].actor == "mo.manager"


def test_no_use_without_consent_or_after_the_retention_date(opened):
    log = opened.log
    bare = make(log).id
    with pytest.raises(NoConsent):
        use(log, bare)
    recording_id = registered(log)
    with pytest.raises(RetentionEnded):
        use(log, recording_id, day=TODAY + timedelta(days=366))


def test_roles_and_practices(opened):
    log = opened.log
    recording_id = registered(log)
    with pytest.raises(NotPermitted):
        use(log, recording_id, actor=RECEPTION)
    with pytest.raises(NotPermitted):
        make(log, actor=GOVERNANCE)
    with pytest.raises(PracticeRecordingNotFound):
        log.get_practice_recording(OTHER, recording_id)
    with pytest.raises(PracticeRecordingNotFound):
        log.get_practice_recording(MANAGER, uuid.uuid4())


def test_a_recording_reads_back_the_same_after_opening_the_store_again(settings, opened):
    log = opened.log
    recording_id = registered(log)
    use(log, recording_id)
    before = log.get_practice_recording(MANAGER, recording_id)
    again = open_log(settings)
    try:
        after = again.log.get_practice_recording(MANAGER, recording_id)
        assert (after.consent, after.uses, after.sha256, after.size, after.ref) == (before.consent, before.uses, before.sha256, before.size, before.ref)
        assert after.consent.keep_until == TODAY + timedelta(days=365) and isinstance(after.consent.given_on, date)
    finally:
        again.log.close()
