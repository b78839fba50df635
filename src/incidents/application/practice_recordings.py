"""Recordings the practice makes, in the application: reception and managers make the record and
its consent (there is no clinician role: the clinician is named on the record); managers record
each use and the destruction; every member of staff may read a record, print its consent form and
check a file against its fingerprint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from ..domain.practice_recording import AUDIENCES, CONSENT_FORMS, CONSENT_STATES, HAPPENINGS, MEDIA, PURPOSES, REVIEW_ANSWERS, PracticeRecording
from ..domain.values import nhs_number
from . import commands as c
from .days import Day
from .records import Actor, NotFound, Records, Saved

PRACTICE_RECORDINGS = "practice_recordings"  # the practice's list
RECORDING_MAKERS = ("reception", "manager")  # make the record, its consent, review, note, withdrawal
RECORDING_KEEPERS = ("manager",)  # record each use, and the destruction
RECORDING_READERS = ("reception", "manager", "governance")


class PracticeRecordingNotFound(NotFound):
    what = "recording"


def _codes(value: Any) -> Any:
    """Ticked boxes as a list; a form field may also send them comma-separated."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


Codes = Annotated[list[str], BeforeValidator(_codes)]
Text = Annotated[c.ShortText, StringConstraints(min_length=1)]
Required = Annotated[c.Note, StringConstraints(min_length=1)]


class MakeRecording(c.Command):
    submission_key: c.SubmissionKey
    nhs_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(c._field_error(nhs_number))]
    clinician: Text
    recorded_on: Day
    purpose: Annotated[str, c._choice(PracticeRecording.PURPOSES, "the purpose")]
    medium: Annotated[str, c._choice(PracticeRecording.MEDIA, "video or audio")]


class GiveConsent(c.Command):
    recording_id: UUID
    form: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    witness: c.ShortText = ""
    given_on: Day
    purposes: Codes = Field(default_factory=list)
    audiences: Codes = Field(default_factory=list)
    circumstances: Required
    keep_until: Day


class RegisterFile(c.Command):
    recording_id: UUID
    kept_at: Text
    sha256: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
    size: Annotated[int, Field(gt=0)]


class OfferReview(c.Command):
    recording_id: UUID
    answer: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class RecordReview(c.Command):
    recording_id: UUID
    reviewed_on: Day


class VaryConsent(c.Command):
    recording_id: UUID
    purposes: Codes = Field(default_factory=list)
    audiences: Codes = Field(default_factory=list)
    reason: Required


class WithdrawConsent(c.Command):
    recording_id: UUID
    withdrawn_on: Day
    how: Required


class NoteInMedicalRecord(c.Command):
    recording_id: UUID
    noted_on: Day


class RecordUse(c.Command):
    recording_id: UUID
    used_on: Day
    shown_to: Annotated[str, c._choice(PracticeRecording.AUDIENCES, "who saw or heard it")]
    shown_to_names: Text
    purpose: Annotated[str, c._choice(PracticeRecording.PURPOSES, "the purpose of this use")]
    note: c.Note = ""


class DestroyRecording(c.Command):
    recording_id: UUID
    destroyed_on: Day
    how: Required


def _day(day: date) -> str:
    return f"{day:%d %b %Y}"


def consent_form_in_words(form: str, witness: str) -> str:
    """How consent was given, with its witness: "Orally, witnessed by Nurse Kay"."""
    label = CONSENT_FORMS.get(form, form)
    return f"{label.split(',')[0]}, witnessed by {witness}" if witness else label


def event_in_words(e: Any) -> tuple[str, list[tuple[str, str]]]:
    """An event of a recording as people read it (its page's timeline, a bundle): a title and its
    details, those with a value."""
    name, g = type(e).__name__, lambda field: getattr(e, field, "")
    labels = lambda codes, names: "; ".join(names.get(c, c) for c in codes)  # noqa: E731
    described: dict[str, Any] = {
        "Made": lambda: ("Recording registered", [("Clinician", g("clinician")), ("Recorded on", _day(g("recorded_on"))), ("Purpose", PURPOSES.get(g("purpose"), "")), ("Medium", MEDIA.get(g("medium"), "")), ("Reference", g("ref"))]),
        "ConsentGiven": lambda: ("Consent given", [("How", consent_form_in_words(g("form"), g("witness"))), ("Given on", _day(g("given_on"))), ("Purposes", labels(g("purposes"), PURPOSES)), ("Who may see or hear it", labels(g("audiences"), AUDIENCES)), ("When it may be shown", g("circumstances")), ("Kept until", _day(g("keep_until")))]),
        "FileRegistered": lambda: ("File fingerprinted (the file was not sent here)", [("Kept at", g("kept_at")), ("SHA-256", g("sha256")), ("Size", f"{g('size'):,} bytes")]),
        "ReviewOffered": lambda: ("Offered to see or hear it before use", [("Answer", REVIEW_ANSWERS.get(g("answer"), ""))]),
        "Reviewed": lambda: ("The patient saw or heard it", [("On", _day(g("reviewed_on")))]),
        "ConsentVaried": lambda: ("Consent narrowed", [("Purposes now", labels(g("purposes"), PURPOSES)), ("Who may see or hear it now", labels(g("audiences"), AUDIENCES)), ("What the patient asked", g("reason"))]),
        "ConsentWithdrawn": lambda: ("Consent withdrawn", [("On", _day(g("withdrawn_on"))), ("How", g("how"))]),
        "NotedInMedicalRecord": lambda: ("Note added to the medical record", [("On", _day(g("noted_on")))]),
        "Used": lambda: ("Used", [("On", _day(g("used_on"))), ("Shown to", f"{g('shown_to_names')} ({AUDIENCES.get(g('shown_to'), '')})"), ("For", PURPOSES.get(g("purpose"), "")), ("Note", g("note"))]),
        "Destroyed": lambda: ("Destroyed", [("On", _day(g("destroyed_on"))), ("How", g("how"))]),
    }
    title, details = described[name]() if name in described else (name, [])
    return title, [(k, v) for k, v in details if k and v]


def consent_in_words(recording: PracticeRecording) -> str:
    """The consent on record, in one line, as a bundle sets it beside the file's fingerprint."""
    consent = recording.consent
    if consent is None:
        return "No consent on record: the recording must not be used"
    words = (
        f"{consent_form_in_words(consent.form, consent.witness)}, on {_day(consent.given_on)}; for {'; '.join(PURPOSES[c] for c in consent.purposes).lower()}; "
        f"may be seen or heard by: {'; '.join(AUDIENCES[c] for c in consent.audiences).lower()}; shown: {consent.circumstances}; "
        f"kept until {_day(consent.keep_until)}"
    )
    if recording.variations:
        words += f"; narrowed {len(recording.variations)} time{'s' if len(recording.variations) > 1 else ''}"
    if recording.withdrawn_on:
        words += f"; withdrawn on {_day(recording.withdrawn_on)}"
    return words


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class RecordingFilter:
    """What the recordings list shows: a purpose, where the consent stands, text the clinician's
    name contains, and something that happened in a month (made, used, withdrawn, destroyed: the
    monthly report's counts link here). Each value is checked: `errors` names the bad ones."""

    purpose: str = ""
    consent: str = ""
    clinician: str = ""
    month: str = ""  # YYYY-MM
    happened: str = ""  # a code of HAPPENINGS; made when a month is given alone

    @property
    def errors(self) -> dict[str, str]:
        errors = {}
        if self.purpose and self.purpose not in PURPOSES:
            errors["purpose"] = "Choose a purpose from the list"
        if self.consent and self.consent not in CONSENT_STATES:
            errors["consent"] = "Choose where the consent stands from the list"
        if len(self.clinician) > 100:
            errors["clinician"] = "Enter at most 100 characters of the clinician's name"
        if self.happened and self.happened not in HAPPENINGS:
            errors["happened"] = "Choose made, used, withdrawn or destroyed"
        if self.month and self.month_range is None:
            errors["month"] = "Enter the month as a year and month, for example 2026-11"
        if self.happened and not self.month:
            errors["month"] = "Enter the month it happened in, for example 2026-11"
        return errors

    @property
    def month_range(self) -> tuple[date, date] | None:
        """The month's first day and the next month's first day."""
        found = MONTH.match(self.month or "")
        if not found or not 1 <= int(found[2]) <= 12 or not 2000 <= int(found[1]) <= 2999:
            return None
        year, month = int(found[1]), int(found[2])
        return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)

    def keeps(self, recording: PracticeRecording) -> bool:
        if self.purpose and recording.purpose != self.purpose or self.consent and recording.consent_state != self.consent:
            return False
        if self.clinician and self.clinician.casefold() not in recording.clinician.casefold():
            return False
        span = self.month_range if self.month else None
        if span is not None:
            return any(span[0] <= day < span[1] for day in recording.days_of(self.happened or "made"))
        return True


@dataclass(frozen=True)
class RecordingMonth:
    """What happened to the practice's recordings in a month, as the monthly report counts it."""

    month: str  # YYYY-MM
    made_by_purpose: dict[str, int]  # codes of PURPOSES, in their order, those with any
    uses: int  # each use, several to a recording
    used: int  # the recordings used
    withdrawn: int
    destroyed: int


class PracticeRecordings(Records):
    def make_recording(self, cmd: MakeRecording, actor: Actor) -> Saved:
        actor.require(*RECORDING_MAKERS)
        return self.add_listed(
            actor,
            PRACTICE_RECORDINGS,
            lambda ref: PracticeRecording.make(
                actor.practice, cmd.submission_key, cmd.nhs_number, cmd.clinician, cmd.recorded_on, cmd.purpose, cmd.medium, ref=ref
            ),
            prefix=PracticeRecording.PREFIX,
        )

    def _change_recording(self, actor: Actor, recording_id: UUID, roles: tuple[str, ...], call: Any) -> Saved:
        actor.require(*roles)
        return self.change(actor, lambda: self.get_practice_recording(actor, recording_id), call)

    def give_consent(self, cmd: GiveConsent, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.give_consent(
            cmd.form, cmd.witness, cmd.given_on, cmd.purposes, cmd.audiences, cmd.circumstances, cmd.keep_until,
        ))

    def register_file(self, cmd: RegisterFile, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.register_file(cmd.kept_at, cmd.sha256, cmd.size))

    def offer_review(self, cmd: OfferReview, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.offer_review(cmd.answer))

    def record_review(self, cmd: RecordReview, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.record_review(cmd.reviewed_on))

    def vary_consent(self, cmd: VaryConsent, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.vary_consent(cmd.purposes, cmd.audiences, cmd.reason))

    def withdraw_consent(self, cmd: WithdrawConsent, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.withdraw_consent(cmd.withdrawn_on, cmd.how))

    def note_in_medical_record(self, cmd: NoteInMedicalRecord, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_MAKERS, lambda r: r.note_in_medical_record(cmd.noted_on))

    def record_use(self, cmd: RecordUse, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_KEEPERS, lambda r: r.record_use(
            cmd.used_on, cmd.shown_to, cmd.shown_to_names, cmd.purpose, cmd.note,
        ))

    def destroy_recording(self, cmd: DestroyRecording, actor: Actor) -> Saved:
        return self._change_recording(actor, cmd.recording_id, RECORDING_KEEPERS, lambda r: r.destroy(cmd.destroyed_on, cmd.how))

    # Queries --------------------------------------------------------------

    def get_practice_recording(self, actor: Actor, recording_id: UUID) -> PracticeRecording:
        actor.require(*RECORDING_READERS)
        return self.get(actor, recording_id, PracticeRecording, PracticeRecordingNotFound)

    def practice_recordings(self, actor: Actor) -> list[PracticeRecording]:
        """The practice's recordings, in the order they were made."""
        actor.require(*RECORDING_READERS)
        return list(self.listed_records(actor, PRACTICE_RECORDINGS))

    def recording_month(self, actor: Actor, month: date) -> RecordingMonth:
        """The month's counts (recordings made, by purpose; uses; withdrawals; destructions), read from the records (a practice makes few)."""
        chosen = RecordingFilter(month=f"{month:%Y-%m}")
        start, end = chosen.month_range  # type: ignore[misc]
        recordings = self.practice_recordings(actor)
        within = lambda r, what: [d for d in r.days_of(what) if start <= d < end]  # noqa: E731
        made = [r.purpose for r in recordings if within(r, "made")]
        uses = [len(within(r, "used")) for r in recordings]
        return RecordingMonth(
            month=chosen.month,
            made_by_purpose={code: made.count(code) for code in PURPOSES if code in made},
            uses=sum(uses),
            used=sum(1 for n in uses if n),
            withdrawn=sum(1 for r in recordings if within(r, "withdrawn")),
            destroyed=sum(1 for r in recordings if within(r, "destroyed")),
        )

    def patient_recordings(self, actor: Actor, nhs_number: str, period_from: date | None = None, period_to: date | None = None) -> list[PracticeRecording]:
        """The practice's recordings of one patient (an NHS number as stored), made within the
        period if one is given, oldest first: what a subject access request finds."""
        if not nhs_number:
            return []
        return [
            r for r in self.practice_recordings(actor)
            if r.nhs_number == nhs_number and (period_from is None or r.recorded_on >= period_from) and (period_to is None or r.recorded_on <= period_to)
        ]

    def recording_by_ref(self, actor: Actor, ref: str) -> UUID | None:
        """The practice's recording with this short reference (the list is short), or None."""
        return next((r.id for r in self.practice_recordings(actor) if r.ref == ref), None)

    def practice_recording_history(self, actor: Actor, recording_id: UUID) -> list[Any]:
        """Every event of the recording, oldest first: its consent and custody, as they happened."""
        self.get_practice_recording(actor, recording_id)
        return list(self.events.get(recording_id))
