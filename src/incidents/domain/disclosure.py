"""A request for disclosure: from the GMC, a court, a solicitor, the police, a patient (subject
access), the ICO, a complainant or the practice's defence organisation.

Records leave the practice only with consent, when required by law, on a court's direction, or
when justified in the public interest: every export needs a scope (which incidents) and a legal
basis (with who decided), and every step says who took it. A closed request takes nothing more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from eventsourcing.domain import event

from .acting import Record
from .dates import calendar_day, months_after
from .values import (
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    DomainError,
    InvalidValue,
    bounded_text,
    choice,
    past_time,
    practice_code,
    required_text,
)
from .values import nhs_number as valid_nhs_number
from .call_recording import caller_number as caller_number_of

REQUEST_NAMESPACE = uuid.UUID("3d7f1b2a-8c4e-4a9d-b6f0-2e5c7a9d1f34")

REQUESTER_TYPES = {
    "subject_access": "Patient (subject access request)",
    "gmc": "General Medical Council",
    "court": "Court",
    "solicitor": "Solicitor",
    "police": "Police",
    "ico": "Information Commissioner's Office",
    "complaint": "Complaint",
    "defence_organisation": "Medical defence organisation",
    "call_recording": "Copy of a call recording (the caller, a complaint or a claim)",
}
CALL_RECORDING = "call_recording"
# A caller asking for their own call makes a subject access request: the right of access is offered.
RIGHT_OF_ACCESS_TYPES = ("subject_access", CALL_RECORDING)

RIGHT_OF_ACCESS = "right_of_access"
LEGAL_BASES = {
    RIGHT_OF_ACCESS: "Right of access (UK GDPR Article 15)",
    "consent": "Consent",
    "required_by_law": "Required by law",
    "court_direction": "Court direction",
    "public_interest": "Public interest",
}


@dataclass(frozen=True)
class DueRule:
    """How a requester type's due date is found, and how far it may be extended."""

    months: int | None  # calendar months from receipt; None: the date on the request is entered
    fixed: bool = False  # the law sets the date: it cannot be entered, only extended
    latest_months: int | None = None  # the furthest an extension may go, in months from receipt
    explanation: str = ""
    extend_in_first_period: bool = False  # extended only before the first due date, the requester told by then


DUE_RULES: dict[str, DueRule] = {
    # UK GDPR Art. 12(3), as the ICO counts it: to the corresponding calendar date of the next
    # month (or that month's last day); extendable by two further months for a complex request.
    # The ICO also allows the next working day when the date falls on a weekend or bank holiday;
    # the register shows the calendar date, which is never late.
    # The ICO: the requester is told of an extension, and why, within the first month.
    "subject_access": DueRule(1, fixed=True, latest_months=3, explanation="One calendar month from receipt (UK GDPR), extendable by up to two further months if the request is complex", extend_in_first_period=True),
    # These set their own date in the letter, order or notice: it is entered as written.
    "gmc": DueRule(None, explanation="The date the GMC's letter gives"),
    "court": DueRule(None, explanation="The date the court's order or direction gives"),
    "ico": DueRule(None, explanation="The date the ICO's letter or information notice gives"),
    # No statutory deadline: the practice's own working target of one calendar month (a
    # solicitor acting for the patient is usually making a subject access request on their
    # behalf), unless a date is entered.
    "solicitor": DueRule(1, explanation="One calendar month from receipt unless another date is entered"),
    "police": DueRule(1, explanation="One calendar month from receipt unless another date is entered"),
    "complaint": DueRule(1, explanation="One calendar month from receipt unless another date is entered"),
    "defence_organisation": DueRule(1, explanation="One calendar month from receipt unless another date is entered"),
    # A caller's own call is a subject access request (one month); a complaint or a claim keeps the
    # practice's own one-month target unless its letter gives a date.
    CALL_RECORDING: DueRule(1, explanation="One calendar month from receipt (a caller's own call: as a subject access request) unless another date is entered"),
}

OPEN, DISCLOSED, REFUSED, CLOSED = "open", "disclosed", "refused", "closed"
STATUSES = {OPEN: "Open", DISCLOSED: "Disclosed", REFUSED: "Refused", CLOSED: "Closed"}
FINGERPRINT_LENGTH = 64  # SHA-256 in hex


class RequestClosed(DomainError):
    pass


class RequestDecided(DomainError):
    """Disclosed or refused: the scope, basis and dates can no longer change."""


class ReceivedInFuture(InvalidValue):
    pass


class CallTimeInvalid(InvalidValue):
    """A request for a call recording names the call by its date and time, in the past."""


class DueDateRequired(InvalidValue):
    pass


class DueDateFixed(InvalidValue):
    pass


class DueBeforeReceipt(InvalidValue):
    pass


class ExtensionNotLater(DomainError):
    pass


class ExtensionTooLong(DomainError):
    pass


class ExtensionTooLate(DomainError):
    """A subject access request's first month has ended: it can no longer be extended."""


class ToldOnInvalid(InvalidValue):
    """The day the requester was told of an extension is missing, in the future, or too late."""


class BasisNotForRequester(DomainError):
    pass


class ReasonRequired(DomainError):
    pass


NOTHING_CHOSEN = "Choose at least one incident, or a request whose patient has recordings"


class ScopeEmpty(InvalidValue):
    pass


class InvalidPeriod(InvalidValue):
    pass


class JustificationRequired(DomainError):
    pass


class ExportNotReady(DomainError):
    """No export without a scope and a legal basis."""


class InvalidFingerprint(InvalidValue):
    pass


class NothingExported(DomainError):
    pass


class UnknownBundle(DomainError):
    pass


class NotInScope(DomainError):
    """A redaction is about what this request discloses: an incident in its scope."""


class NothingToRedact(InvalidValue):
    pass


class WordsNotInEntry(NothingToRedact):
    """The words to hide are blank, or not in the entry chosen."""


class RedactionNotFound(DomainError):
    pass


class AlreadyRedacted(DomainError):
    pass


@dataclass(frozen=True)
class Redaction:
    """What this request's bundle must not show (another person's data), and why: a fact of an
    incident wherever it appears, or words in one of its entries."""

    redaction_id: uuid.UUID
    incident_id: uuid.UUID
    reason: str
    fact: str = ""  # the fact's name, e.g. "filmer_description"
    sequence: int | None = None  # with text: the entry (the incident's event) holding it
    text: str = ""
    fact_label: str = ""  # the fact as people read it, when it was redacted


def due_date(requester_type: str, received_on: date, entered: date | None = None) -> date:
    """The due date of a new request: computed from its type, or the date entered for it."""
    rule = DUE_RULES[choice(requester_type, REQUESTER_TYPES, "The requester")]
    if entered is not None and rule.fixed:
        raise DueDateFixed(f"The due date of a {REQUESTER_TYPES[requester_type].lower()} is set by law: leave it blank")
    if entered is None:
        if rule.months is None:
            raise DueDateRequired(f"Enter the due date: {rule.explanation.lower()}")
        return months_after(received_on, rule.months)
    entered = calendar_day(entered)
    if entered < received_on:
        raise DueBeforeReceipt("The due date cannot be before the request was received")
    return entered


def check_call(requester_type: str, call_at: datetime | None, caller_number: str) -> tuple[datetime | None, str]:
    """A call recording request names its call (date and time, and the number when known);
    other requests name none."""
    if requester_type != CALL_RECORDING:
        if call_at is not None or (caller_number or "").strip():
            raise CallTimeInvalid("Only a request for a call recording names a call: choose that type, or leave the call blank")
        return None, ""
    if call_at is None:
        raise CallTimeInvalid("Enter the date and time of the call, as near as the requester knows it")
    try:
        call_at = past_time(call_at)
    except InvalidValue as error:
        raise CallTimeInvalid(f"The call's date and time: {error}") from None
    return call_at, caller_number_of(caller_number)


def legal_bases_for(requester_type: str) -> dict[str, str]:
    """The bases offered for a requester type: the right of access for a subject access request
    (first), and only for it."""
    if requester_type in RIGHT_OF_ACCESS_TYPES:
        return dict(LEGAL_BASES)
    return {k: v for k, v in LEGAL_BASES.items() if k != RIGHT_OF_ACCESS}


def request_label(request: DisclosureRequest) -> str:
    """How people, pages, files and the bundle's custody table name a request: its short
    reference, or the requester's for a request that has none yet."""
    if request.ref:
        return request.ref
    reference = " ".join(request.reference.split())
    return reference if len(reference) <= 40 else reference[:39] + "…"


@dataclass(frozen=True)
class Extension:
    previous_due_on: date
    due_on: date
    reason: str
    told_on: date | None  # the day the requester was told of it (None: not recorded)


@dataclass(frozen=True)
class KeptBundle:
    """One bundle exported for the request, as the request recorded it."""

    fingerprint: str  # SHA-256 of its manifest.json
    made_at: datetime
    incident_ids: tuple[uuid.UUID, ...]
    zip_sha256: str  # SHA-256 of the zip itself; "" for a bundle exported before bundles were kept


def fingerprint_of(value: str) -> str:
    text = (value or "").strip().lower()
    if len(text) != FINGERPRINT_LENGTH or any(ch not in "0123456789abcdef" for ch in text):
        raise InvalidFingerprint("A bundle's fingerprint is the SHA-256 of its manifest: 64 hexadecimal digits")
    return text


class DisclosureRequest(Record):
    OWN_KEY = True  # its events are encrypted with a key of its own, destroyed on disposal (record_keys.py)
    PREFIX = "D"  # of its short references
    REQUESTER_TYPES = REQUESTER_TYPES
    LEGAL_BASES = LEGAL_BASES

    @staticmethod
    def create_id(practice: str, submission_key: str) -> uuid.UUID:
        """The same form submitted twice names the same request."""
        return uuid.uuid5(REQUEST_NAMESPACE, f"{practice_code(practice)}/{submission_key}")

    @event("Received")
    def __init__(
        self,
        practice: str,
        submission_key: str,
        requester_type: str,
        requester: str,
        reference: str,
        received_on: date,
        due_on: date,
        ref: str = "",  # the practice's short reference (D-2026-0001); requests received before there were any have none
        nhs_number: str = "",  # the patient the request is about, when it names one (added later: older events lack it)
        call_at: datetime | None = None,  # a call recording's call (added later: older events lack it)
        caller_number: str = "",  # the number the call was from or to, when known (added later too)
    ) -> None:
        self.practice = practice
        self.ref = ref
        self.nhs_number = nhs_number
        self.call_at = call_at
        self.caller_number = caller_number
        self.requester_type = requester_type
        self.requester = requester
        self.reference = reference
        self.received_on = received_on
        self.first_due_on = due_on
        self.due_on = due_on
        self.status = OPEN
        self.incident_ids: list[uuid.UUID] = []
        self.recording_ids: list[uuid.UUID] = []
        self.period_from: date | None = None
        self.period_to: date | None = None
        self.legal_basis: str | None = None
        self.basis_decided_by: tuple[str, str] | None = None  # username, name
        self.basis_note = ""
        self.exports: list[str] = []
        self.bundles: list[KeptBundle] = []
        self.extensions: list[Extension] = []
        self.disclosed_fingerprint: str | None = None
        self.redactions: dict[uuid.UUID, Redaction] = {}
        self.disclosed_zip_sha256 = ""

    @classmethod
    def receive(
        cls,
        practice: str,
        submission_key: str,
        requester_type: str,
        requester: str,
        reference: str,
        received_on: date,
        due_on: date | None = None,
        today: date | None = None,
        ref: str = "",
        nhs_number: str = "",
        call_at: datetime | None = None,
        caller_number: str = "",
    ) -> DisclosureRequest:
        requester_type = choice(requester_type, REQUESTER_TYPES, "The requester")
        requester = required_text(requester, SHORT_TEXT_MAX_CHARS, "The requester's name", InvalidValue("Enter who made the request (a person or an organisation)"))
        reference = required_text(reference, SHORT_TEXT_MAX_CHARS, "A reference", InvalidValue("Enter a reference: the requester's, or one of your own"))
        received_on = calendar_day(received_on)
        if received_on > (today or date.today()):
            raise ReceivedInFuture("The day it was received cannot be in the future")
        call_at, caller_number = check_call(requester_type, call_at, caller_number)
        return cls(
            practice=practice_code(practice),
            submission_key=submission_key,
            requester_type=requester_type,
            requester=requester,
            reference=reference,
            received_on=received_on,
            due_on=due_date(requester_type, received_on, due_on),
            ref=ref,
            nhs_number=valid_nhs_number(nhs_number) if (nhs_number or "").strip() else "",
            call_at=call_at,
            caller_number=caller_number,
        )

    def give_ref(self, ref: str) -> None:
        """A short reference for a request received before there were any."""
        if self.ref:
            raise InvalidValue(f"This request is {self.ref} already")
        self._referenced(ref=ref)

    @event("Referenced")
    def _referenced(self, ref: str) -> None:
        self.ref = ref

    # Queries --------------------------------------------------------------

    @property
    def requester_type_label(self) -> str:
        return REQUESTER_TYPES[self.requester_type]

    @property
    def legal_basis_label(self) -> str:
        return LEGAL_BASES[self.legal_basis] if self.legal_basis else ""

    @property
    def latest_extension_on(self) -> date | None:
        """The furthest a due date may be extended to, or None where no limit applies."""
        months = DUE_RULES[self.requester_type].latest_months
        return None if months is None else months_after(self.received_on, months)

    def may_extend_on(self, today: date) -> bool:
        return not DUE_RULES[self.requester_type].extend_in_first_period or today <= self.first_due_on

    def legal_bases(self) -> dict[str, str]:
        return legal_bases_for(self.requester_type)

    @property
    def has_scope(self) -> bool:
        return bool(self.incident_ids or self.recording_ids)

    def days_left(self, today: date) -> int:
        """Days until the due date: negative once it has passed."""
        return (self.due_on - today).days

    def is_overdue(self, today: date) -> bool:
        return self.status == OPEN and today > self.due_on

    # Guards ---------------------------------------------------------------

    def check_not_closed(self) -> None:
        if self.status == CLOSED:
            raise RequestClosed("This request is closed: nothing more can be added")

    def check_open(self) -> None:
        self.check_not_closed()
        if self.status != OPEN:
            raise RequestDecided(f"This request has been {self.status}: its scope, basis and dates can no longer change")

    def check_in_scope(self, incident_id: uuid.UUID) -> None:
        if incident_id not in self.incident_ids:
            raise NotInScope("That incident is not in this request's scope: only what it discloses can be redacted")

    def check_ready_to_export(self) -> None:
        if not self.has_scope:
            raise ExportNotReady("Set the scope (which incidents, or the patient's recordings) before exporting")
        if self.legal_basis is None:
            raise ExportNotReady("Record the legal basis before exporting: nothing is disclosed without one")

    def check_extendable(self, today: date) -> None:
        if not self.may_extend_on(today):
            raise ExtensionTooLate(
                "This request can no longer be extended: its first month ended on "
                f"{self.first_due_on:%d %b %Y}. The ICO allows an extension only when the requester is told of it, "
                "and why, within one month of receipt. Respond as soon as you can, and record why the response is late."
            )

    def check_told_on(self, told_on: date | None, today: date) -> date | None:
        must_tell = DUE_RULES[self.requester_type].extend_in_first_period
        if told_on is None:
            if must_tell:
                raise ToldOnInvalid("Enter the day the requester was told of the extension and why")
            return None
        told_on = calendar_day(told_on)
        if told_on > today:
            raise ToldOnInvalid("The day the requester was told cannot be in the future")
        if told_on < self.received_on:
            raise ToldOnInvalid("The day the requester was told cannot be before the request was received")
        if must_tell and told_on > self.first_due_on:
            raise ToldOnInvalid(
                f"The requester must be told of an extension within the first month, by {self.first_due_on:%d %b %Y}"
            )
        return told_on

    def check_basis_offered(self, basis: str) -> None:
        if basis not in self.legal_bases():
            raise BasisNotForRequester(
                "The right of access (UK GDPR Article 15) is the basis of a subject access request only (a caller asking for a copy of their own call makes one): choose another basis"
            )

    # Commands -------------------------------------------------------------

    def extend(self, due_on: date, reason: str, told_on: date | None = None, today: date | None = None) -> None:
        self.check_open()
        today = today or date.today()
        self.check_extendable(today)
        due_on = calendar_day(due_on)
        reason = required_text(reason, NOTE_MAX_CHARS, "A reason", ReasonRequired("Say why the due date is extended"))
        told_on = self.check_told_on(told_on, today)
        if due_on <= self.due_on:
            raise ExtensionNotLater(f"An extension must be later than the current due date, {self.due_on.isoformat()}")
        latest = self.latest_extension_on
        if latest is not None and due_on > latest:
            raise ExtensionTooLong(
                f"A {self.requester_type_label.lower()} can be extended to {latest.isoformat()} at the latest "
                "(two further months)"
            )
        self._extended(due_on=due_on, previous_due_on=self.due_on, reason=reason, told_on=told_on)

    @event("Extended")
    def _extended(self, due_on: date, previous_due_on: date, reason: str, told_on: date | None = None) -> None:
        self.due_on = due_on
        self.extensions.append(Extension(previous_due_on, due_on, reason, told_on))

    def set_scope(
        self,
        incident_ids: list[uuid.UUID],
        period_from: date | None,
        period_to: date | None,
        recording_ids: list[uuid.UUID] | None = None,
    ) -> None:
        """The incidents to disclose and the period; recording_ids are the practice's recordings of
        the request's patient in that period, found by the application, so a patient with
        recordings and no incidents still gets a bundle."""
        self.check_open()
        incident_ids = list(dict.fromkeys(incident_ids))
        recording_ids = list(dict.fromkeys(recording_ids or []))
        if not incident_ids and not recording_ids:
            raise ScopeEmpty(NOTHING_CHOSEN)
        if period_from is not None:
            period_from = calendar_day(period_from)
        if period_to is not None:
            period_to = calendar_day(period_to)
        if period_from and period_to and period_from > period_to:
            raise InvalidPeriod("The period must end on or after the day it starts")
        self._scope_set(
            incident_ids=incident_ids, period_from=period_from, period_to=period_to, recording_ids=recording_ids
        )

    @event("ScopeSet")
    def _scope_set(
        self,
        incident_ids: list[uuid.UUID],
        period_from: date | None,
        period_to: date | None,
        recording_ids: list[uuid.UUID] | None = None,  # added later: older events lack it
    ) -> None:
        self.incident_ids = list(incident_ids)
        self.recording_ids = list(recording_ids or [])
        self.period_from = period_from
        self.period_to = period_to

    def record_legal_basis(self, basis: str, note: str) -> None:
        """The person recording the basis is the one who decided it."""
        self.check_open()
        basis = choice(basis, LEGAL_BASES, "The legal basis")
        self.check_basis_offered(basis)
        note = bounded_text(note, NOTE_MAX_CHARS)
        if basis == "public_interest" and not note:
            raise JustificationRequired("Say why disclosure is justified in the public interest")
        self.trigger_event(self.LegalBasisRecorded, basis=basis, note=note)

    class LegalBasisRecorded(Record.Event):
        basis: str
        note: str

        def apply(self, request: DisclosureRequest) -> None:  # type: ignore[override]
            request.legal_basis = self.basis
            request.basis_decided_by = (self.actor, self.actor_name)
            request.basis_note = self.note

    def _redaction_reason(self, reason: str) -> str:
        return required_text(reason, SHORT_TEXT_MAX_CHARS, "A reason", ReasonRequired("Say why it is redacted: the reason is shown in its place"))

    def redact_fact(self, incident_id: uuid.UUID, fact: str, reason: str, facts: dict[str, str]) -> None:
        """Hide one of an incident's facts (its name among `facts`, the incident's own) in this
        request's bundle, wherever it appears: the facts, the report, corrections."""
        self.check_open()
        self.check_in_scope(incident_id)
        if fact not in facts:
            raise NothingToRedact("Choose a fact of that incident")
        reason = self._redaction_reason(reason)
        if any(r.incident_id == incident_id and r.fact == fact for r in self.redactions.values()):
            raise AlreadyRedacted(f"{facts[fact]} is already redacted in this incident")
        self.trigger_event(
            self.Redacted, redaction_id=uuid.uuid4(), incident_id=incident_id, reason=reason, fact=fact, fact_label=facts[fact]
        )

    def redact_text(self, incident_id: uuid.UUID, sequence: int, text: str, reason: str, entry_text: str) -> None:
        """Hide words in one entry of an incident (`entry_text`: what that entry says) in this
        request's bundle, wherever they appear in it."""
        self.check_open()
        self.check_in_scope(incident_id)
        text = required_text(text, SHORT_TEXT_MAX_CHARS, "The words to hide", WordsNotInEntry("Enter the words to hide, exactly as the entry has them"))
        if text not in entry_text:
            raise WordsNotInEntry("That entry does not have those words: copy them exactly as it has them")
        reason = self._redaction_reason(reason)
        if any(r.incident_id == incident_id and r.sequence == sequence and r.text == text for r in self.redactions.values()):
            raise AlreadyRedacted("Those words are already redacted in that entry")
        self.trigger_event(
            self.Redacted, redaction_id=uuid.uuid4(), incident_id=incident_id, reason=reason, sequence=sequence, text=text
        )

    class Redacted(Record.Event):
        redaction_id: uuid.UUID
        incident_id: uuid.UUID
        reason: str
        fact: str = ""
        sequence: int | None = None
        text: str = ""
        fact_label: str = ""

        def apply(self, request: DisclosureRequest) -> None:  # type: ignore[override]
            request.redactions[self.redaction_id] = Redaction(
                self.redaction_id, self.incident_id, self.reason, self.fact, self.sequence, self.text, self.fact_label
            )

    def remove_redaction(self, redaction_id: uuid.UUID) -> None:
        self.check_open()
        if redaction_id not in self.redactions:
            raise RedactionNotFound("That redaction is not on this request (it may have been removed already)")
        self._redaction_removed(redaction_id=redaction_id)

    @event("RedactionRemoved")
    def _redaction_removed(self, redaction_id: uuid.UUID) -> None:
        del self.redactions[redaction_id]

    def redactions_in_scope(self) -> list[Redaction]:
        """The redactions the next bundle applies: those of incidents still in the scope."""
        return [r for r in self.redactions.values() if r.incident_id in self.incident_ids]

    def export_bundle(self, fingerprint: str, zip_sha256: str = "") -> None:
        self.check_open()
        self.check_ready_to_export()
        self.trigger_event(
            self.BundleExported,
            fingerprint=fingerprint_of(fingerprint),
            incident_ids=list(self.incident_ids),
            zip_sha256=fingerprint_of(zip_sha256) if zip_sha256 else "",
        )

    class BundleExported(Record.Event):
        fingerprint: str
        incident_ids: list[uuid.UUID]
        zip_sha256: str = ""  # absent from bundles exported before bundles were kept

        def apply(self, request: DisclosureRequest) -> None:  # type: ignore[override]
            request.exports.append(self.fingerprint)
            request.bundles.append(
                KeptBundle(self.fingerprint, self.timestamp, tuple(self.incident_ids), getattr(self, "zip_sha256", ""))
            )

    def bundle(self, key: str) -> KeptBundle:
        """A bundle by the SHA-256 of its zip, or of its manifest (the latest made with it)."""
        found = next((b for b in self.bundles if b.zip_sha256 == key), None)
        found = found or next((b for b in reversed(self.bundles) if b.fingerprint == key), None)
        if found is None:
            raise UnknownBundle("That bundle was not exported for this request")
        return found

    def disclose(self, note: str, fingerprint: str = "") -> None:
        """The bundle (by default the latest exported; else named by the SHA-256 of its zip or its
        manifest) was sent to the requester."""
        self.check_open()
        if not self.exports:
            raise NothingExported("Export a bundle before recording that it was disclosed")
        bundle = self.bundle(fingerprint_of(fingerprint)) if fingerprint.strip() else self.bundles[-1]
        self._disclosed(fingerprint=bundle.fingerprint, note=bounded_text(note, NOTE_MAX_CHARS), zip_sha256=bundle.zip_sha256)

    @event("Disclosed")
    def _disclosed(self, fingerprint: str, note: str, zip_sha256: str = "") -> None:
        self.status = DISCLOSED
        self.disclosed_fingerprint = fingerprint
        self.disclosed_zip_sha256 = zip_sha256

    def refuse(self, reason: str) -> None:
        self.check_open()
        reason = required_text(reason, NOTE_MAX_CHARS, "A reason", ReasonRequired("Say why the request is refused"))
        self._refused(reason=reason)

    @event("Refused")
    def _refused(self, reason: str) -> None:
        self.status = REFUSED

    def close(self, note: str) -> None:
        """Closing an undecided request (withdrawn by the requester, say) needs a reason."""
        self.check_not_closed()
        note = bounded_text(note, NOTE_MAX_CHARS)
        if self.status == OPEN and not note:
            raise ReasonRequired("Say why the request is closed without disclosure or refusal")
        self._closed(note=note)

    @event("Closed")
    def _closed(self, note: str) -> None:
        self.status = CLOSED
