"""A recording the practice makes: each rule of consent, use, withdrawal, retention and review,
on the aggregate itself (the application's contract runs the same on the stores)."""

from __future__ import annotations

from datetime import date

import pytest

from incidents.domain.acting import acting_as
from incidents.domain.practice_recording import (
    ConsentAfterRecording,
    ConsentAlreadyGiven,
    ConsentWithdrawn,
    FileAlreadyRegistered,
    InvalidFingerprint,
    NoConsent,
    NoFile,
    OutsideConsent,
    PracticeRecording,
    RecordingDestroyed,
    RecordingRuleBroken,
    RetentionEnded,
    ReviewNotDone,
    WitnessNeeded,
    sha256_of,
)
from incidents.domain.values import InvalidNHSNumber, InvalidValue

RECORDED = date(2026, 3, 10)
SHA = "ab" * 32


@pytest.fixture(autouse=True)
def someone_acting():
    with acting_as("mo.manager", "Mo Manager"):
        yield


def made(**overrides) -> PracticeRecording:
    fields = dict(
        practice="A81001", submission_key="k" * 16, nhs_number="943 476 5919", clinician="Dr Registrar",
        recorded_on=RECORDED, purpose="training", medium="video", ref="P-2026-0001",
    )
    return PracticeRecording.make(**{**fields, **overrides})


def consented(**overrides) -> PracticeRecording:
    recording = made()
    fields = dict(
        form="written", witness="", given_on=RECORDED, purposes=["training"], audiences=["trainer", "assessors"],
        circumstances="Only in a tutorial or an assessment, never in public", keep_until=date(2027, 3, 10),
    )
    recording.give_consent(**{**fields, **overrides})
    return recording


def in_use(**overrides) -> PracticeRecording:
    recording = consented(**overrides)
    recording.register_file("Training drive, registrar folder", SHA, 123456)
    return recording


def use(recording: PracticeRecording, day=date(2026, 4, 1), shown_to="trainer", purpose="training") -> None:
    recording.record_use(day, shown_to, "Dr Trainer", purpose, "Tutorial")


def test_a_recording_keeps_who_when_why_and_how_but_never_the_file():
    recording = in_use()
    assert (recording.nhs_number, recording.patient, recording.purpose_label, recording.medium_label) == (
        "9434765919", "943 476 5919", "Training or assessment", "Video",
    )
    assert (recording.kept_at, recording.sha256, recording.size) == ("Training drive, registrar folder", SHA, 123456)
    assert [type(e).__name__ for e in recording.collect_events()] == ["Made", "ConsentGiven", "FileRegistered"]


def test_the_patient_is_named_by_a_valid_nhs_number():
    with pytest.raises(InvalidNHSNumber):
        made(nhs_number="943 476 5918")


def test_a_fingerprint_is_64_hex_digits_as_sha256sum_prints_it():
    assert sha256_of(f"{SHA.upper()}  consultation.mp4") == SHA
    for bad in ("", "xyz", SHA[:-1], SHA + "0"):
        with pytest.raises(InvalidFingerprint):
            sha256_of(bad)


def test_the_file_is_registered_only_after_consent_and_once():
    recording = made()
    with pytest.raises(NoConsent):
        recording.register_file("Drive", SHA, 10)
    recording = in_use()
    with pytest.raises(FileAlreadyRegistered):
        recording.register_file("Drive", SHA, 10)


def test_consent_comes_before_the_recording():
    with pytest.raises(ConsentAfterRecording, match="before the recording is made"):
        consented(given_on=date(2026, 3, 11))


def test_oral_consent_names_a_witness():
    with pytest.raises(WitnessNeeded):
        consented(form="oral", witness=" ")
    assert consented(form="oral", witness="Nurse Practitioner").consent.witness == "Nurse Practitioner"


def test_consent_says_what_for_who_may_see_it_and_when_it_may_be_shown():
    with pytest.raises(InvalidValue, match="purpose"):
        consented(purposes=[])
    with pytest.raises(InvalidValue, match="see or hear"):
        consented(audiences=[])
    with pytest.raises(InvalidValue, match="circumstances"):
        consented(circumstances="")
    with pytest.raises(InvalidValue):
        consented(purposes=["marketing"])


def test_consent_is_given_once():
    recording = consented()
    with pytest.raises(ConsentAlreadyGiven):
        recording.give_consent("written", "", RECORDED, ["training"], ["trainer"], "Tutorials", date(2027, 1, 1))


def test_a_use_within_the_consent_is_recorded():
    recording = in_use()
    use(recording)
    assert [(u.used_on, u.shown_to, u.purpose) for u in recording.uses] == [(date(2026, 4, 1), "trainer", "training")]


def test_no_use_without_a_record_of_consent():
    recording = made()
    with pytest.raises(NoConsent, match="no record of consent"):
        use(recording)


def test_no_use_before_the_file_is_registered():
    with pytest.raises(NoFile):
        use(consented())


def test_no_use_for_a_purpose_the_patient_did_not_agree_to():
    recording = in_use()
    with pytest.raises(OutsideConsent, match="did not consent to use for research"):
        use(recording, purpose="research")
    assert recording.uses == []


def test_no_showing_to_an_audience_the_patient_did_not_agree_to():
    with pytest.raises(OutsideConsent, match="shown to the practice's clinical team"):
        use(in_use(), shown_to="practice_clinicians")


def test_no_use_after_withdrawal_and_destruction_is_then_due():
    recording = in_use()
    recording.withdraw_consent(date(2026, 3, 20), "Told reception in person")
    assert recording.destroy_from == date(2026, 3, 20)
    with pytest.raises(ConsentWithdrawn, match="must be destroyed"):
        use(recording)
    with pytest.raises(ConsentWithdrawn):
        recording.vary_consent(["training"], ["trainer"], "Less")


def test_no_use_after_the_retention_date_and_destruction_is_then_due():
    recording = in_use(keep_until=date(2026, 6, 30))
    assert recording.destroy_from == date(2026, 7, 1)
    use(recording, day=date(2026, 6, 30))
    with pytest.raises(RetentionEnded, match="kept until 30 June 2026"):
        use(recording, day=date(2026, 7, 1))


def test_no_use_before_an_accepted_review_is_done():
    recording = in_use()
    recording.offer_review("accepted")
    with pytest.raises(ReviewNotDone, match="before it is used"):
        use(recording)
    recording.record_review(date(2026, 3, 25))
    use(recording)
    assert recording.review == "done"


def test_a_declined_review_does_not_hold_up_use():
    recording = in_use()
    recording.offer_review("declined")
    use(recording)
    with pytest.raises(RecordingRuleBroken, match="offer of a review"):
        recording.record_review(date(2026, 3, 25))


def test_a_variation_only_narrows_the_consent():
    recording = in_use()
    with pytest.raises(OutsideConsent, match="only narrow"):
        recording.vary_consent(["training", "research"], ["trainer"], "More")
    with pytest.raises(InvalidValue, match="Nothing was taken away"):
        recording.vary_consent(["training"], ["trainer", "assessors"], "Same")
    recording.vary_consent(["training"], ["trainer"], "Only my trainer, please")
    assert recording.consent.audiences == ("trainer",)
    with pytest.raises(OutsideConsent):
        use(recording, shown_to="assessors")


def test_destruction_says_how_and_ends_everything():
    recording = in_use()
    with pytest.raises(InvalidValue, match="how"):
        recording.destroy(date(2026, 4, 2), "")
    recording.destroy(date(2026, 4, 2), "Deleted from the drive and its backups")
    assert recording.status == "Destroyed"
    with pytest.raises(RecordingDestroyed):
        use(recording)
    with pytest.raises(RecordingDestroyed):
        recording.destroy(date(2026, 4, 3), "Again")


def test_the_medical_record_note_says_it_all():
    recording = in_use(form="oral", witness="Nurse Jones")
    recording.offer_review("declined")
    note = recording.medical_record_note()
    for part in ("P-2026-0001", "witnessed by Nurse Jones", "Training or assessment", "Kept until 10/03/2027", "withdraw", SHA):
        assert part in note
    recording.note_in_medical_record(date(2026, 3, 11))
    assert recording.noted_on == date(2026, 3, 11)
