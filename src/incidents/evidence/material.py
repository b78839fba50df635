"""What goes into an evidence bundle, as plain values: the request, its incidents and their events.

The application fills these from its aggregates and read models; the bundle needs nothing else.
Every time is timezone-aware (a naive one would be ambiguous in a court); text is kept exactly
as typed, and only the PDF may show a replacement for a character no installed font can draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


class EvidenceError(Exception):
    """The material for a bundle is incomplete or inconsistent; the message says what."""


class NoLegalBasis(EvidenceError):
    pass


class NaiveTime(EvidenceError):
    pass


class EventsOutOfOrder(EvidenceError):
    pass


class NothingToExport(EvidenceError):
    pass


def check_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveTime(f"{what} ({moment.isoformat()}) has no time zone")


def _tuple(instance: object, name: str) -> None:
    object.__setattr__(instance, name, tuple(getattr(instance, name)))


def _pairs(instance: object, name: str) -> None:
    object.__setattr__(instance, name, tuple((str(label), str(value)) for label, value in getattr(instance, name)))


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str


@dataclass(frozen=True)
class Practice:
    code: str  # ODS code, e.g. A00001
    name: str


@dataclass(frozen=True)
class RequestInfo:
    """The disclosure request a bundle answers, with the legal basis someone decided on."""

    request_id: str
    requester_type: str  # as shown to people, e.g. "Subject access request", "Court order"
    reference: str  # the requester's own reference
    received: date
    due: date
    legal_basis: str  # e.g. "Consent", "Required by law", "Court direction", "Public interest"
    decided_by: Person
    label: str = ""  # how the practice names the request (its reference); the id when blank
    due_rule: str = ""  # how the due date was set, in the request's words
    extensions: tuple[str, ...] = ()  # each extension in the request's words: dates, reason, requester told

    def __post_init__(self) -> None:
        if not self.legal_basis.strip():
            raise NoLegalBasis(f"Request {self.request_id} has no legal basis: nothing can be disclosed without one")
        _tuple(self, "extensions")
        if not self.label:
            object.__setattr__(self, "label", self.request_id)


@dataclass(frozen=True)
class Correction:
    field: str  # the fact's label, e.g. "Area of the practice"
    previous: str
    new: str
    reason: str
    corrects_sequence: int | None = None  # the event that recorded the value being corrected


@dataclass(frozen=True)
class TimelineEvent:
    sequence: int  # the aggregate's version: 1, 2, 3, ... with no gaps
    event_type: str  # the stored event's name, e.g. "Reported", "Corrected"
    title: str  # as people read it, e.g. "Asked to stop filming"
    who: Person
    recorded_at: datetime
    occurred_at: datetime | None = None  # when it happened, as staff said (None: not stated)
    details: tuple[tuple[str, str], ...] = ()
    note: str = ""
    correction: Correction | None = None

    def __post_init__(self) -> None:
        _pairs(self, "details")
        check_aware(self.recorded_at, f"Event {self.sequence}'s recorded time")
        if self.occurred_at is not None:
            check_aware(self.occurred_at, f"Event {self.sequence}'s time of happening")


@dataclass(frozen=True)
class NoticeInForce:
    channel: str  # e.g. "Telephone message", "Waiting-room poster"
    wording: str
    in_service_from: date


@dataclass(frozen=True)
class IncidentRecord:
    incident_id: str
    kind: str  # as people read it, e.g. "Filming in the practice"
    facts: tuple[tuple[str, str], ...]  # the current facts, label and value
    events: tuple[TimelineEvent, ...]
    notices_in_force: tuple[NoticeInForce, ...] = ()  # at the time of the incident
    ref: str = ""  # the practice's short reference (F-2026-0042), when it has one

    def __post_init__(self) -> None:
        _pairs(self, "facts")
        _tuple(self, "events")
        _tuple(self, "notices_in_force")
        # The whole history, so that a verifier can tell a dropped event from one never exported.
        sequences = [e.sequence for e in self.events]
        if sequences != list(range(1, len(sequences) + 1)):
            raise EventsOutOfOrder(f"Incident {self.incident_id}'s events must run 1, 2, 3, ... in order, not {sequences[:20]}")


@dataclass(frozen=True)
class CustodyEntry:
    who: Person
    at: datetime
    action: str  # e.g. "Viewed the timeline", "Exported the bundle"
    request_id: str = ""
    request_label: str = ""  # the request as people name it; the id when blank
    record: str = ""  # the record viewed: consecutive views of one record by one person share a row in the PDF

    def __post_init__(self) -> None:
        check_aware(self.at, f"The custody entry of {self.who.username}")


@dataclass(frozen=True)
class Redaction:
    """Something this disclosure must not show (another person's data), with the reason shown in its
    place: a fact's value wherever it appears in the incident, or a span of text in one event."""

    incident_id: str
    reason: str
    fact: str = ""  # a fact's label: its value is hidden in the facts, the events' details and corrections
    sequence: int | None = None  # with text: the event whose text holds it
    text: str = ""  # hidden wherever it appears in that event's note, details and correction

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise EvidenceError("A redaction needs a reason: it is shown in place of what is hidden")
        if bool(self.fact) == bool(self.text) or (self.text and self.sequence is None):
            raise EvidenceError("A redaction hides either a fact (by its label) or a text in one event")

    @property
    def marker(self) -> str:
        return f"[redacted: {self.reason}]"


@dataclass(frozen=True)
class EvidenceMaterial:
    practice: Practice
    request: RequestInfo
    incidents: tuple[IncidentRecord, ...]
    exported_at: datetime
    exported_by: Person
    custody: tuple[CustodyEntry, ...] = field(default=())
    redactions: tuple[Redaction, ...] = field(default=())

    def __post_init__(self) -> None:
        _tuple(self, "incidents")
        _tuple(self, "custody")
        _tuple(self, "redactions")
        check_aware(self.exported_at, "The export time")
        if not self.incidents:
            raise NothingToExport(f"Request {self.request.request_id} names no incident to export")
        ids = [i.incident_id for i in self.incidents]
        if len(ids) != len(set(ids)):
            raise EvidenceError(f"An incident is named twice in the scope: {ids}")

    @property
    def event_count(self) -> int:
        return sum(len(i.events) for i in self.incidents)
