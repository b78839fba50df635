"""How long each kind of record is kept, and its lifecycle once kept long enough: a review
decides to keep it (to a later review) or to dispose of it; a legal hold stops disposal.

The schedule follows the NHS Records Management Code of Practice (docs/retention.md gives the
entries, their source and what is uncertain). A period runs from an event of the record (the
incident, a request's closure) and starts again when the record comes back into use. Nothing is
ever disposed of by the clock: a record due for review waits for governance to decide.

The decisions and holds are a stream of their own beside the record (like its chain of
custody), so a hold never conflicts with someone working on the record, and the record's own
events keep their shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import event

from .acting import Record
from .values import NOTE_MAX_CHARS, SHORT_TEXT_MAX_CHARS, UK, DomainError, InvalidValue, choice, practice_code, required_text

RETENTION_NAMESPACE = uuid.UUID("0c4b7a51-6e2f-4d38-9a1c-5f8e2d6b3a47")

HOLD_REASONS = {
    "claim": "A claim",
    "complaint": "A complaint",
    "gmc": "A GMC case",
    "police": "A police request",
    "other": "Another reason",
}
KEEP, DISPOSE = "keep", "dispose"


def hold_reason_phrase(code: str) -> str:
    """A hold's reason as the middle of a sentence says it: "a GMC case"."""
    label = HOLD_REASONS.get(code, code)
    return label[:1].lower() + label[1:]

DECISIONS = {KEEP: "Keep it, and review it again later", DISPOSE: "Dispose of it"}


@dataclass(frozen=True)
class RetentionRule:
    """One entry of the schedule: how many years from which event, and the Code's entry for it."""

    code: str
    label: str  # the kind of record, as the schedule names it
    years: int
    runs_from: str  # the event the period runs from, in words
    code_entry: str  # the Records Management Code's entry it follows

    def due_on(self, runs_from: datetime) -> date:
        return years_after(runs_from, self.years)


def years_after(moment: datetime, years: int) -> date:
    """The same UK calendar day `years` later (29 Feb → 28 Feb): a record's review date."""
    day = moment.astimezone(UK).date()
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


INCIDENT = RetentionRule("incident", "Incident", 10, "the incident, or its latest activity", "Incidents (not serious)")
SERIOUS_INCIDENT = RetentionRule(
    "serious_incident", "Serious incident (police involved, or removal from the list)", 20,
    "the incident, or its latest activity", "Incidents (serious)",
)
SUBJECT_ACCESS = RetentionRule("subject_access", "Subject access request", 3, "the request's closure", "Subject access requests")
COMPLAINT_REQUEST = RetentionRule("complaint_request", "Disclosure request for a complaint", 10, "the request's closure", "Complaints case file")
OTHER_REQUEST = RetentionRule(
    "other_request", "Disclosure request (GMC, court, solicitor, police, ICO, defence organisation)", 10,
    "the request's closure", "Litigation records and complaints case files (the longer applied: see docs/retention.md)",
)
SCHEDULE: dict[str, RetentionRule] = {r.code: r for r in (INCIDENT, SERIOUS_INCIDENT, SUBJECT_ACCESS, COMPLAINT_REQUEST, OTHER_REQUEST)}

# What makes an incident serious for the schedule: the police were involved or a removal from
# the practice's list was asked for (a response or the outcome of closing).
SERIOUS_RESPONSES = frozenset({"PoliceCalled", "RemovalRequested"})
SERIOUS_OUTCOMES = frozenset({"police_involved", "removal_from_list"})
# The events of an incident that are not use of it: its short reference, given later by the service.
NOT_USE = frozenset({"Referenced"})
# The events that close a disclosure request, from the latest of which its period runs.
REQUEST_CLOSURES = frozenset({"Disclosed", "Refused", "Closed"})


def request_rule(requester_type: str) -> RetentionRule:
    if requester_type == "subject_access":
        return SUBJECT_ACCESS
    if requester_type == "complaint":
        return COMPLAINT_REQUEST
    return OTHER_REQUEST


@dataclass(frozen=True)
class RetentionDue:
    """Where a record stands on the schedule: its rule, the moment its period runs from (None:
    not yet running, an open request) and so its review date."""

    rule: RetentionRule
    runs_from: datetime | None

    @property
    def due_on(self) -> date | None:
        return None if self.runs_from is None else self.rule.due_on(self.runs_from)


def event_name(domain_event: Any) -> str:
    return type(domain_event).__qualname__.rsplit(".", 1)[-1]


def is_use(domain_event: Any) -> bool:
    """Whether an event of an incident after its report is use of it (restarting its period)."""
    return event_name(domain_event) not in NOT_USE


def is_serious(domain_event: Any) -> bool:
    """Whether an event of an incident makes it serious for the schedule."""
    return event_name(domain_event) in SERIOUS_RESPONSES or getattr(domain_event, "outcome", None) in SERIOUS_OUTCOMES


def incident_retention(events: Iterable[Any]) -> RetentionDue:
    """An incident's place on the schedule from its events: from the incident (its occurred_at),
    or the latest later use of it; serious once the police were involved or a removal asked for."""
    runs_from: datetime | None = None
    serious = False
    for e in events:
        if runs_from is None:
            runs_from = e.occurred_at
            continue
        if is_use(e):
            runs_from = max(runs_from, e.timestamp)
            serious = serious or is_serious(e)
    return RetentionDue(SERIOUS_INCIDENT if serious else INCIDENT, runs_from)


def request_retention(events: Iterable[Any]) -> RetentionDue:
    """A disclosure request's place on the schedule: from its latest closing event (None while open)."""
    rule, runs_from = OTHER_REQUEST, None
    for e in events:
        if rule is OTHER_REQUEST and hasattr(e, "requester_type"):
            rule = request_rule(e.requester_type)
        if event_name(e) in REQUEST_CLOSURES:
            runs_from = e.timestamp
    return RetentionDue(rule, runs_from)


class RecordOnHold(DomainError):
    """A record under legal hold cannot be decided for disposal."""


class NotOnHold(DomainError):
    pass


class AlreadyOnHold(DomainError):
    pass


class NotYetDue(DomainError):
    pass


class AwaitingDisposal(DomainError):
    pass


class NotAwaitingDisposal(DomainError):
    pass


class AlreadyDisposed(DomainError):
    pass


class ReasonRequired(InvalidValue):
    pass


class ReviewDateNotLater(InvalidValue):
    pass


@dataclass(frozen=True)
class Hold:
    reason: str  # a code of HOLD_REASONS
    text: str
    placed_at: datetime
    placed_by: str  # the name of who placed it

    @property
    def reason_label(self) -> str:
        return HOLD_REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class Decision:
    decision: str  # KEEP or DISPOSE
    reason: str
    decided_at: datetime
    decided_by: str  # the name of who recorded it
    review_on: date | None = None  # a keep's next review
    authorised_by: str = ""  # a disposal's authority


@dataclass(frozen=True)
class Disposal:
    """What was destroyed and on whose authority: all a disposal certificate says. Nothing here
    is of the record's own contents (it is encrypted with the deployment key, not the record's)."""

    ref: str
    kind: str  # the record's kind, as the schedule's label names it
    began_at: datetime | None  # the incident, or the request's closure
    review_on: date | None
    decision: Decision  # the disposal decision carried out
    disposed_at: datetime
    disposed_by: str
    record_id: uuid.UUID | None = None


class RecordRetention(Record):
    """The holds and review decisions of one record (an incident or a disclosure request)."""

    @staticmethod
    def create_id(practice: str, record_id: uuid.UUID) -> uuid.UUID:
        return uuid.uuid5(RETENTION_NAMESPACE, f"{practice_code(practice)}/{record_id}")

    @event("Started")
    def __init__(self, practice: str, record_id: uuid.UUID, record_kind: str) -> None:
        self.practice = practice_code(practice)
        self.record_id = record_id
        self.record_kind = record_kind
        self.hold: Hold | None = None
        self.holds: list[tuple[Hold, datetime | None, str]] = []  # each hold, when lifted and why
        self.decisions: list[Decision] = []
        self.awaiting_disposal = False
        self.disposal: Disposal | None = None

    @property
    def kept_until(self) -> date | None:
        """The review date the latest keep decision gave."""
        keeps = [d.review_on for d in self.decisions if d.decision == KEEP]
        return keeps[-1] if keeps else None

    def review_due_on(self, due: RetentionDue) -> date | None:
        """The record's review date: the schedule's, or a later one a keep decision gave."""
        if due.due_on is None:
            return None
        kept = self.kept_until
        return max(due.due_on, kept) if kept else due.due_on

    # Guards -------------------------------------------------------------

    def check_not_held(self) -> None:
        if self.hold is not None:
            raise RecordOnHold(
                f"This record is under legal hold for {hold_reason_phrase(self.hold.reason)}: "
                "lift the hold before disposing of it"
            )

    def check_not_awaiting_disposal(self) -> None:
        if self.disposal is not None:
            raise AlreadyDisposed("This record is already disposed of")
        if self.awaiting_disposal:
            raise AwaitingDisposal("Disposal of this record is already decided")

    def check_due(self, due_on: date | None, today: date) -> None:
        if due_on is None:
            raise NotYetDue("This record's retention period has not started yet (an open request): it has no review date")
        if today < due_on:
            raise NotYetDue(f"This record is not due for review until {due_on:%d %b %Y}")

    # Legal hold ---------------------------------------------------------

    class HoldPlaced(Record.Event):
        record_id: uuid.UUID
        reason: str
        text: str

        def apply(self, retention: RecordRetention) -> None:  # type: ignore[override]
            retention.hold = Hold(self.reason, self.text, self.timestamp, self.actor_name)

    class HoldLifted(Record.Event):
        record_id: uuid.UUID
        reason: str

        def apply(self, retention: RecordRetention) -> None:  # type: ignore[override]
            assert retention.hold is not None
            retention.holds.append((retention.hold, self.timestamp, self.reason))
            retention.hold = None

    def place_hold(self, reason: str, text: str) -> None:
        reason = choice(reason, HOLD_REASONS, "The reason for the hold")
        text = required_text(text, NOTE_MAX_CHARS, "The reason", ReasonRequired("Say what the hold is for (the claim, complaint or case)"))
        if self.hold is not None:
            raise AlreadyOnHold("This record is already under legal hold")
        if self.disposal is not None:
            raise AlreadyDisposed("This record is already disposed of: there is nothing left to hold")
        self.trigger_event(self.HoldPlaced, record_id=self.record_id, reason=reason, text=text)

    def lift_hold(self, reason: str) -> None:
        reason = required_text(reason, NOTE_MAX_CHARS, "The reason", ReasonRequired("Say why the hold is lifted"))
        if self.hold is None:
            raise NotOnHold("This record is not under legal hold")
        self.trigger_event(self.HoldLifted, record_id=self.record_id, reason=reason)

    # Review decisions ---------------------------------------------------

    class Kept(Record.Event):
        record_id: uuid.UUID
        review_on: date
        reason: str

        def apply(self, retention: RecordRetention) -> None:  # type: ignore[override]
            retention.decisions.append(Decision(KEEP, self.reason, self.timestamp, self.actor_name, review_on=self.review_on))

    class DisposalDecided(Record.Event):
        record_id: uuid.UUID
        reason: str
        authorised_by: str

        def apply(self, retention: RecordRetention) -> None:  # type: ignore[override]
            retention.decisions.append(Decision(DISPOSE, self.reason, self.timestamp, self.actor_name, authorised_by=self.authorised_by))
            retention.awaiting_disposal = True

    def keep(self, review_on: date, reason: str, due_on: date | None, today: date) -> None:
        """Kept past its review: reviewed again on a later day."""
        self.check_not_awaiting_disposal()
        self.check_due(due_on, today)
        reason = required_text(reason, NOTE_MAX_CHARS, "The reason", ReasonRequired("Say why the record is kept"))
        if review_on <= today:
            raise ReviewDateNotLater("The next review date must be after today")
        self.trigger_event(self.Kept, record_id=self.record_id, review_on=review_on, reason=reason)

    def decide_disposal(self, reason: str, authorised_by: str, due_on: date | None, today: date) -> None:
        """Disposal decided: the record awaits erasure (which is a change of its own)."""
        self.check_not_awaiting_disposal()
        self.check_not_held()
        self.check_due(due_on, today)
        reason = required_text(reason, NOTE_MAX_CHARS, "The reason", ReasonRequired("Say why the record can be disposed of"))
        authorised_by = required_text(
            authorised_by, SHORT_TEXT_MAX_CHARS, "Who authorised it", ReasonRequired("Say who authorised the disposal")
        )
        self.trigger_event(self.DisposalDecided, record_id=self.record_id, reason=reason, authorised_by=authorised_by)

    # Disposal -------------------------------------------------------------

    class Disposed(Record.Event):
        """The record's key was destroyed, carrying out its latest disposal decision."""

        record_id: uuid.UUID
        ref: str
        kind_label: str
        began_at: datetime | None
        review_on: date | None

        def apply(self, retention: RecordRetention) -> None:  # type: ignore[override]
            decision = [d for d in retention.decisions if d.decision == DISPOSE][-1]
            retention.disposal = Disposal(
                self.ref, self.kind_label, self.began_at, self.review_on, decision, self.timestamp, self.actor_name, self.record_id
            )
            retention.awaiting_disposal = False

    def dispose(self, ref: str, kind_label: str, began_at: datetime | None, review_on: date | None) -> None:
        """Carry out the disposal decided: only of a record awaiting it and under no legal hold."""
        if self.disposal is not None:
            raise AlreadyDisposed("This record is already disposed of")
        self.check_not_held()
        if not self.awaiting_disposal:
            raise NotAwaitingDisposal("Disposal of this record is not decided: a review must decide it first")
        self.trigger_event(self.Disposed, record_id=self.record_id, ref=ref, kind_label=kind_label, began_at=began_at, review_on=review_on)
