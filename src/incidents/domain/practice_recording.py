"""A recording the practice itself makes of a consultation (for training or assessment, research,
audit, or as part of care), with the patient's consent and every use of it, as events.

The practice guidance (shared/seed/recording-in-practice.txt) and the GMC's guidance on recordings
give the rules kept here: the patient understands the purpose, who will see it, the circumstances
in which it will be shown and how long it is kept; consent comes before recording, in writing
where practicable (oral consent names a witness); the patient may see or hear it before use, and
may vary (narrow) or withdraw consent; an identifiable recording with no record of consent is not
used; all of this is noted in the medical record. The file is never stored here: only where it is
kept and its SHA-256 fingerprint and size, so anyone can later show a file is the one recorded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from eventsourcing.domain import event

from .acting import Record
from .dates import calendar_day
from .values import (
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    DomainError,
    InvalidValue,
    bounded_text,
    choice,
    format_nhs_number,
    practice_code,
    required_text,
)
from .values import nhs_number as valid_nhs_number

RECORDING_NAMESPACE = uuid.UUID("3f0b6a52-8d1e-4c7a-9b25-6e4d2c1a7f90")

PURPOSES = {
    "training": "Training or assessment",
    "research": "Research",
    "audit": "Audit",
    "clinical_care": "Clinical care",
}
MEDIA = {"video": "Video", "audio": "Audio"}
AUDIENCES = {
    "trainer": "The clinician's trainer or educational supervisor",
    "assessors": "Assessors of the clinician's training (such as the Royal College)",
    "practice_clinicians": "The practice's clinical team",
    "researchers": "The named research team",
    "auditors": "The practice's clinical auditors",
    "treating_clinicians": "Clinicians caring for the patient",
}
CONSENT_FORMS = {"written": "In writing (signed form)", "oral": "Orally, with a witness"}
# Where the consent stands, as the list filters and counts recordings.
CONSENT_STATES = {
    "none": "No consent on record",
    "in_force": "Consent in force",
    "awaiting_review": "Waiting for the patient's review",
    "withdrawn": "Consent withdrawn",
    "destroyed": "Destroyed",
}
REVIEW_ANSWERS = {"accepted": "The patient wants to see or hear it first", "declined": "The patient does not want to see or hear it first"}

HAPPENINGS = {"made": "Made", "used": "Used", "withdrawn": "Consent withdrawn", "destroyed": "Destroyed"}

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FILE_BYTES = 1 << 50  # a petabyte: anything bigger is a typing slip


class RecordingRuleBroken(DomainError):
    """A change the recording's consent or state does not allow; the message gives the guidance."""


class NoConsent(RecordingRuleBroken):
    pass


class ConsentAfterRecording(RecordingRuleBroken):
    pass


class ConsentAlreadyGiven(RecordingRuleBroken):
    pass


class ConsentWithdrawn(RecordingRuleBroken):
    pass


class RecordingDestroyed(RecordingRuleBroken):
    pass


class OutsideConsent(RecordingRuleBroken):
    """A use (or a variation) for a purpose or an audience the patient did not agree to."""


class ReviewNotDone(RecordingRuleBroken):
    pass


class RetentionEnded(RecordingRuleBroken):
    pass


class NoFile(RecordingRuleBroken):
    pass


class FileAlreadyRegistered(RecordingRuleBroken):
    pass


class WitnessNeeded(InvalidValue):
    pass


class InvalidFingerprint(InvalidValue):
    pass


def sha256_of(value: str) -> str:
    """A SHA-256 as sha256sum prints it (64 hexadecimal digits; the file name after it is dropped)."""
    text = (value or "").strip().split()[0].lower() if (value or "").strip() else ""
    if not SHA256.match(text):
        raise InvalidFingerprint("Enter the file's SHA-256: 64 letters and digits, as sha256sum prints it (or pick the file to work it out)")
    return text


def _codes(values: list[str] | tuple[str, ...], allowed: dict[str, str], what: str, missing: str) -> list[str]:
    """Codes of `allowed`, each once, in the order `allowed` gives them."""
    chosen = set(values)
    for value in chosen:
        choice(value, allowed, what)
    if not chosen:
        raise InvalidValue(missing)
    return [code for code in allowed if code in chosen]


def _short(value: str, what: str, missing: str) -> str:
    return required_text(value, SHORT_TEXT_MAX_CHARS, what, InvalidValue(missing))


@dataclass(frozen=True)
class Consent:
    form: str  # a code of CONSENT_FORMS
    witness: str  # named for oral consent
    given_on: date
    purposes: tuple[str, ...]
    audiences: tuple[str, ...]
    circumstances: str
    keep_until: date

    @property
    def form_label(self) -> str:
        return CONSENT_FORMS[self.form]


@dataclass(frozen=True)
class Use:
    used_on: date
    shown_to: str  # a code of AUDIENCES
    shown_to_names: str  # who, by name or role
    purpose: str  # a code of PURPOSES
    note: str


@dataclass(frozen=True)
class Destruction:
    destroyed_on: date
    how: str


class PracticeRecording(Record):
    PREFIX = "P"  # of its short references
    OWN_KEY = True  # its events are encrypted with a key of its own, destroyed on disposal (record_keys.py)
    PURPOSES = PURPOSES
    MEDIA = MEDIA
    AUDIENCES = AUDIENCES

    @staticmethod
    def create_id(practice: str, submission_key: str) -> uuid.UUID:
        """The same form submitted twice names the same recording."""
        return uuid.uuid5(RECORDING_NAMESPACE, f"{practice_code(practice)}/{submission_key}")

    @event("Made")
    def __init__(
        self,
        practice: str,
        submission_key: str,
        ref: str,
        nhs_number: str,
        clinician: str,
        recorded_on: date,
        purpose: str,
        medium: str,
    ) -> None:
        self.practice = practice
        self.ref = ref
        self.nhs_number = nhs_number
        self.clinician = clinician
        self.recorded_on = recorded_on
        self.purpose = purpose
        self.medium = medium
        self.consent: Consent | None = None
        self.kept_at = ""
        self.sha256 = ""
        self.size = 0
        self.review = ""  # "", a code of REVIEW_ANSWERS, or "done"
        self.review_done_on: date | None = None
        self.variations: list[str] = []  # the reasons given
        self.withdrawn_on: date | None = None
        self.noted_on: date | None = None
        self.uses: list[Use] = []
        self.destruction: Destruction | None = None

    @classmethod
    def make(
        cls, practice: str, submission_key: str, nhs_number: str, clinician: str, recorded_on: date, purpose: str, medium: str, ref: str = ""
    ) -> PracticeRecording:
        return cls(
            practice=practice_code(practice),
            submission_key=submission_key,
            ref=ref,
            nhs_number=valid_nhs_number(nhs_number),
            clinician=_short(clinician, "The clinician", "Enter the clinician who makes the recording"),
            recorded_on=calendar_day(recorded_on),
            purpose=choice(purpose, PURPOSES, "The purpose"),
            medium=choice(medium, MEDIA, "The medium"),
        )

    # Queries --------------------------------------------------------------

    @property
    def purpose_label(self) -> str:
        return PURPOSES[self.purpose]

    @property
    def medium_label(self) -> str:
        return MEDIA[self.medium]

    @property
    def patient(self) -> str:
        return format_nhs_number(self.nhs_number)

    @property
    def destroy_from(self) -> date | None:
        """The first day the recording is due for destruction: on withdrawal, or after its retention."""
        days = [d for d in (self.withdrawn_on, self.consent and self.consent.keep_until + timedelta(days=1)) if d is not None]
        return min(days) if days else None

    @property
    def status(self) -> str:
        if self.destruction is not None:
            return "Destroyed"
        if self.withdrawn_on is not None:
            return "Consent withdrawn: destroy it"
        if self.consent is None:
            return "Waiting for consent"
        if not self.sha256:
            return "Consent given: register the file"
        if self.review == "accepted":
            return "Waiting for the patient's review"
        return "In use within its consent"

    @property
    def consent_state(self) -> str:
        """A code of CONSENT_STATES."""
        if self.destruction is not None:
            return "destroyed"
        if self.withdrawn_on is not None:
            return "withdrawn"
        if self.consent is None:
            return "none"
        return "awaiting_review" if self.review == "accepted" else "in_force"

    def days_of(self, happening: str) -> list[date]:
        """The days it was made, used, had consent withdrawn or was destroyed (a code of HAPPENINGS)."""
        if happening == "made":
            return [self.recorded_on]
        if happening == "used":
            return [u.used_on for u in self.uses]
        if happening == "withdrawn":
            return [self.withdrawn_on] if self.withdrawn_on else []
        if happening == "destroyed":
            return [self.destruction.destroyed_on] if self.destruction else []
        raise InvalidValue(f"Not something that happens to a recording: {happening}")

    def medical_record_note(self) -> str:
        """What to paste into the patient's clinical record (the guidance: note all of this there)."""
        lines = [
            f"{self.medium_label} recording of a consultation by {self.clinician} on {self.recorded_on:%d/%m/%Y}, "
            f"for {self.purpose_label.lower()}. Practice reference {self.ref}.",
        ]
        consent = self.consent
        if consent is None:
            lines.append("No consent recorded yet: the recording must not be used.")
        else:
            witness = f", witnessed by {consent.witness}" if consent.witness else ""
            lines += [
                f"Consent given {consent.form_label.split(' (')[0].lower()}{witness} on {consent.given_on:%d/%m/%Y}, before recording.",
                "Purpose: " + "; ".join(PURPOSES[p] for p in consent.purposes) + ".",
                "May be seen or heard by: " + "; ".join(AUDIENCES[a] for a in consent.audiences) + ".",
                f"May be shown: {consent.circumstances}",
                f"Kept until {consent.keep_until:%d/%m/%Y}, then destroyed.",
                "Patient told they may vary or withdraw consent at any time, and offered to see or hear the recording before it is used.",
            ]
        if self.review == "done" and self.review_done_on is not None:
            lines.append(f"Patient saw or heard it on {self.review_done_on:%d/%m/%Y}.")
        elif self.review in REVIEW_ANSWERS:
            lines.append({"accepted": "Patient asked to see or hear it before use.", "declined": "Patient declined to see or hear it before use."}[self.review])
        if self.sha256:
            lines.append(f"File kept at {self.kept_at}; SHA-256 {self.sha256}; {self.size} bytes.")
        if self.withdrawn_on:
            lines.append(f"Consent withdrawn on {self.withdrawn_on:%d/%m/%Y}: not to be used, to be destroyed.")
        return "\n".join(lines)

    # Guards ---------------------------------------------------------------

    def check_not_destroyed(self) -> None:
        if self.destruction is not None:
            raise RecordingDestroyed(f"This recording was destroyed on {self.destruction.destroyed_on:%d %B %Y}: nothing more can be done with it")

    def check_not_withdrawn(self) -> None:
        if self.withdrawn_on is not None:
            raise ConsentWithdrawn(
                f"The patient withdrew consent on {self.withdrawn_on:%d %B %Y}: the recording must not be used, "
                "and must be destroyed"
            )

    def check_consent_given(self) -> Consent:
        if self.consent is None:
            raise NoConsent(
                "There is no record of the patient's consent: an identifiable recording with no record of consent "
                "must not be used (GMC guidance). Record the consent first"
            )
        return self.consent

    def check_file_registered(self) -> None:
        if not self.sha256:
            raise NoFile("Register the recording's file (where it is kept and its fingerprint) before it is used")

    def check_purpose_consented(self, purpose: str) -> None:
        consent = self.check_consent_given()
        if purpose not in consent.purposes:
            agreed = ", ".join(PURPOSES[p].lower() for p in consent.purposes)
            raise OutsideConsent(
                f"The patient did not consent to use for {PURPOSES[purpose].lower()}: only for {agreed}. "
                "Do not use it; ask the patient for new consent if it is needed"
            )

    def check_audience_consented(self, audience: str) -> None:
        consent = self.check_consent_given()
        if audience not in consent.audiences:
            raise OutsideConsent(
                f"The patient did not agree that it may be shown to {AUDIENCES[audience].lower()}. "
                "Do not show it to them; ask the patient for new consent if it is needed"
            )

    def check_review_done(self) -> None:
        if self.review == "accepted":
            raise ReviewNotDone(
                "The patient asked to see or hear the recording before it is used, and has not yet done so. "
                "Arrange the review, record it, then use the recording"
            )

    def check_within_retention(self, day: date) -> None:
        consent = self.check_consent_given()
        if day > consent.keep_until:
            raise RetentionEnded(
                f"The patient agreed it would be kept until {consent.keep_until:%d %B %Y}: it must not be used after "
                "that, and must be destroyed"
            )

    def check_open(self) -> None:
        self.check_not_destroyed()
        self.check_not_withdrawn()

    # Commands -------------------------------------------------------------

    def give_consent(
        self,
        form: str,
        witness: str,
        given_on: date,
        purposes: list[str],
        audiences: list[str],
        circumstances: str,
        keep_until: date,
    ) -> None:
        self.check_open()
        if self.consent is not None:
            raise ConsentAlreadyGiven("Consent is on record already: record a variation or a withdrawal instead")
        form = choice(form, CONSENT_FORMS, "How consent was given")
        witness = bounded_text(witness, SHORT_TEXT_MAX_CHARS, "The witness")
        if form == "oral" and not witness:
            raise WitnessNeeded("Oral consent needs a witness: enter who witnessed it")
        given_on = calendar_day(given_on)
        if given_on > self.recorded_on:
            raise ConsentAfterRecording(
                f"Consent must be given before the recording is made (on {self.recorded_on:%d %B %Y}). "
                "A recording made without consent must not be used"
            )
        purposes = _codes(purposes, PURPOSES, "A purpose", "Choose at least one purpose the patient agreed to")
        audiences = _codes(audiences, AUDIENCES, "An audience", "Choose at least one group who may see or hear it")
        circumstances = required_text(
            circumstances, NOTE_MAX_CHARS, "The circumstances", InvalidValue("Say in which circumstances it may be shown")
        )
        keep_until = calendar_day(keep_until)
        if keep_until < self.recorded_on:
            raise InvalidValue("The recording must be kept until a day on or after it is made")
        self._consent_given(
            form=form, witness=witness, given_on=given_on, purposes=purposes, audiences=audiences,
            circumstances=circumstances, keep_until=keep_until,
        )

    @event("ConsentGiven")
    def _consent_given(
        self, form: str, witness: str, given_on: date, purposes: list[str], audiences: list[str], circumstances: str, keep_until: date
    ) -> None:
        self.consent = Consent(form, witness, given_on, tuple(purposes), tuple(audiences), circumstances, keep_until)

    def register_file(self, kept_at: str, sha256: str, size: int) -> None:
        """Where the file is kept and its fingerprint: the recording has been made, after consent."""
        self.check_open()
        self.check_consent_given()
        if self.sha256:
            raise FileAlreadyRegistered("The file is registered already: a recording's fingerprint never changes")
        kept_at = _short(kept_at, "Where it is kept", "Enter where the file is kept (a folder or system, not the file itself)")
        sha256 = sha256_of(sha256)
        if not isinstance(size, int) or not 0 < size < MAX_FILE_BYTES:
            raise InvalidValue("Enter the file's size in bytes (a whole number above 0)")
        self._file_registered(kept_at=kept_at, sha256=sha256, size=size)

    @event("FileRegistered")
    def _file_registered(self, kept_at: str, sha256: str, size: int) -> None:
        self.kept_at, self.sha256, self.size = kept_at, sha256, size

    def offer_review(self, answer: str) -> None:
        """The patient was offered to see or hear it before use, and answered."""
        self.check_open()
        self.check_consent_given()
        if self.review == "done":
            raise RecordingRuleBroken("The patient has already seen or heard the recording")
        self._review_offered(answer=choice(answer, REVIEW_ANSWERS, "The patient's answer"))

    @event("ReviewOffered")
    def _review_offered(self, answer: str) -> None:
        self.review = answer

    def record_review(self, reviewed_on: date) -> None:
        """The patient saw or heard it, as they asked to, and did not withdraw."""
        self.check_open()
        if self.review != "accepted":
            raise RecordingRuleBroken("Record the patient's answer to the offer of a review first (they asked to see or hear it)")
        self._reviewed(reviewed_on=calendar_day(reviewed_on))

    @event("Reviewed")
    def _reviewed(self, reviewed_on: date) -> None:
        self.review, self.review_done_on = "done", reviewed_on

    def vary_consent(self, purposes: list[str], audiences: list[str], reason: str) -> None:
        """The patient narrowed what they agreed to; a variation can only take away."""
        self.check_open()
        consent = self.check_consent_given()
        purposes = _codes(purposes, PURPOSES, "A purpose", "Choose at least one purpose that still stands (to take all away, record a withdrawal)")
        audiences = _codes(audiences, AUDIENCES, "An audience", "Choose at least one group that still may see it (to take all away, record a withdrawal)")
        if not set(purposes) <= set(consent.purposes) or not set(audiences) <= set(consent.audiences):
            raise OutsideConsent("A variation can only narrow the consent: for a new purpose or audience, ask the patient for new consent")
        if tuple(purposes) == consent.purposes and tuple(audiences) == consent.audiences:
            raise InvalidValue("Nothing was taken away: untick the purposes or audiences the patient no longer agrees to")
        reason = required_text(reason, NOTE_MAX_CHARS, "The reason", InvalidValue("Say what the patient asked for"))
        self._consent_varied(purposes=purposes, audiences=audiences, reason=reason)

    @event("ConsentVaried")
    def _consent_varied(self, purposes: list[str], audiences: list[str], reason: str) -> None:
        assert self.consent is not None
        c = self.consent
        self.consent = Consent(c.form, c.witness, c.given_on, tuple(purposes), tuple(audiences), c.circumstances, c.keep_until)
        self.variations.append(reason)

    def withdraw_consent(self, withdrawn_on: date, how: str) -> None:
        self.check_open()
        self.check_consent_given()
        how = required_text(how, NOTE_MAX_CHARS, "How the patient withdrew", InvalidValue("Say how the patient withdrew consent (in person, by letter, by phone)"))
        self._consent_withdrawn(withdrawn_on=calendar_day(withdrawn_on), how=how)

    @event("ConsentWithdrawn")
    def _consent_withdrawn(self, withdrawn_on: date, how: str) -> None:
        self.withdrawn_on = withdrawn_on

    def note_in_medical_record(self, noted_on: date) -> None:
        """Staff confirm the note (medical_record_note) was added to the patient's clinical record."""
        self.check_consent_given()
        self._noted(noted_on=calendar_day(noted_on))

    @event("NotedInMedicalRecord")
    def _noted(self, noted_on: date) -> None:
        self.noted_on = noted_on

    def record_use(self, used_on: date, shown_to: str, shown_to_names: str, purpose: str, note: str) -> None:
        """One showing or use; refused, with the guidance, if the consent does not cover it."""
        used_on = calendar_day(used_on)
        shown_to = choice(shown_to, AUDIENCES, "Who it was shown to")
        purpose = choice(purpose, PURPOSES, "The purpose")
        self.check_not_destroyed()
        self.check_not_withdrawn()
        self.check_consent_given()
        self.check_file_registered()
        if used_on < self.recorded_on:
            raise InvalidValue("A use cannot be before the recording was made")
        self.check_within_retention(used_on)
        self.check_purpose_consented(purpose)
        self.check_audience_consented(shown_to)
        self.check_review_done()
        shown_to_names = _short(shown_to_names, "Who saw or heard it", "Enter who saw or heard it, by name or role")
        self._used(used_on=used_on, shown_to=shown_to, shown_to_names=shown_to_names, purpose=purpose, note=bounded_text(note))

    @event("Used")
    def _used(self, used_on: date, shown_to: str, shown_to_names: str, purpose: str, note: str) -> None:
        self.uses.append(Use(used_on, shown_to, shown_to_names, purpose, note))

    def destroy(self, destroyed_on: date, how: str) -> None:
        """The file (and every copy) destroyed: who did it is the actor of the event."""
        self.check_not_destroyed()
        destroyed_on = calendar_day(destroyed_on)
        if destroyed_on < self.recorded_on:
            raise InvalidValue("It cannot be destroyed before it was made")
        how = required_text(how, NOTE_MAX_CHARS, "How it was destroyed", InvalidValue("Say how the recording and any copies were destroyed"))
        self._destroyed(destroyed_on=destroyed_on, how=how)

    @event("Destroyed")
    def _destroyed(self, destroyed_on: date, how: str) -> None:
        self.destruction = Destruction(destroyed_on, how)
