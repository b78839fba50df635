"""What every incident shares: responses, notes, corrections, review, close and reopen.

An incident is never rewritten. A correction is a new event that names the field, the
value it replaces, the new value and the reason; the original stays in the history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, ClassVar

from eventsourcing.domain import event

from .acting import Record
from .values import (
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    DomainError,
    InvalidValue,
    bounded_text,
    past_time,
    practice_code,
)

INCIDENT_NAMESPACE = uuid.UUID("6f1e0c2e-9d0b-4f43-8f5e-3b1a1f6f2c11")


class IncidentClosed(DomainError):
    pass


class IncidentNotClosed(DomainError):
    pass


class CorrectionNeedsReason(DomainError):
    pass


class NotCorrectable(DomainError):
    pass


class NothingToCorrect(DomainError):
    pass


class UnknownResponse(DomainError):
    pass


class UnknownOutcome(DomainError):
    pass


class ReasonRequired(DomainError):
    pass


class ResponseOutOfOrder(DomainError):
    """A response that needs an earlier one (a copy added before it was received)."""


class ResponseBeforeIncident(DomainError):
    pass


@dataclass(frozen=True)
class ResponseType:
    """One entry of a kind's response vocabulary, as staff see it."""

    event_class: type
    label: str
    reference_label: str | None = None
    guidance: str | None = None

    @property
    def name(self) -> str:
        return self.event_class.__name__


@dataclass(frozen=True)
class Field:
    """A reported fact that may later be corrected, with its parser."""

    label: str
    parse: Callable[[str], Any]
    show: Callable[[Any], str] = str


def _time(value: str) -> datetime:
    try:
        return past_time(datetime.fromisoformat(value))
    except ValueError as error:
        raise InvalidValue(f"{value!r} is not a time: {error}") from None


OCCURRED_AT = Field("When it happened", _time, lambda v: v.isoformat())


class Incident(Record):
    """Base of both kinds of incident. Subclasses declare their vocabularies."""

    KIND: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    RESPONSES: ClassVar[dict[str, ResponseType]] = {}
    OUTCOMES: ClassVar[dict[str, str]] = {}
    FIELDS: ClassVar[dict[str, Field]] = {}

    @classmethod
    def create_id(cls, practice: str, submission_key: str) -> uuid.UUID:
        """The same form submitted twice names the same incident."""
        return uuid.uuid5(INCIDENT_NAMESPACE, f"{cls.KIND}/{practice_code(practice)}/{submission_key}")

    def _report(self, practice: str, occurred_at: datetime, note: str) -> None:
        self.practice = practice_code(practice)
        self.occurred_at = occurred_at
        self.status = "open"
        self.responses: list[str] = []
        self.response_times: dict[str, list[datetime]] = {}
        self.submission_keys: set[str] = set()
        self.reviewed = False
        self.outcome: str | None = None
        self.notes_count = 1 if note else 0
        self.corrections_count = 0

    # Guards -------------------------------------------------------------

    def check_open(self) -> None:
        if self.status == "closed":
            raise IncidentClosed("This incident is closed: reopen it before adding a response")

    def has_submission(self, submission_key: str) -> bool:
        return submission_key in self.submission_keys

    def response_type(self, name: str) -> ResponseType:
        try:
            return self.RESPONSES[name]
        except KeyError:
            raise UnknownResponse(f"{name!r} is not a response to {self.TITLE.lower()}") from None

    def check_not_before_incident(self, occurred_at: datetime) -> None:
        if occurred_at < self.occurred_at:
            raise ResponseBeforeIncident("A response cannot be earlier than the incident itself")

    def check_response_allowed(self, name: str, occurred_at: datetime, reference: str) -> None:
        """Hook for a kind's own ordering rules."""

    # Responses ----------------------------------------------------------

    class Responded(Record.Event):
        """Base of every response event: what staff did, and when."""

        occurred_at: datetime
        reference: str
        note: str
        submission_key: str

        def apply(self, aggregate: Incident) -> None:  # type: ignore[override]
            name = type(self).__name__
            aggregate.responses.append(name)
            aggregate.response_times.setdefault(name, []).append(self.occurred_at)
            aggregate.submission_keys.add(self.submission_key)

    def respond(
        self,
        response: str,
        occurred_at: datetime,
        submission_key: str,
        reference: str = "",
        note: str = "",
    ) -> None:
        self.check_open()
        response_type = self.response_type(response)
        occurred_at = past_time(occurred_at)
        reference = bounded_text(reference, SHORT_TEXT_MAX_CHARS, "A reference")
        note = bounded_text(note, NOTE_MAX_CHARS)
        self.check_not_before_incident(occurred_at)
        self.check_response_allowed(response, occurred_at, reference)
        self.trigger_event(
            response_type.event_class,
            occurred_at=occurred_at,
            reference=reference,
            note=note,
            submission_key=submission_key,
        )

    # Notes and corrections ---------------------------------------------

    def add_note(self, text: str, submission_key: str) -> None:
        text = bounded_text(text, NOTE_MAX_CHARS)
        if not text:
            raise InvalidValue("A note needs some text")
        self._note_added(text=text, submission_key=submission_key)

    @event("NoteAdded")
    def _note_added(self, text: str, submission_key: str) -> None:
        self.notes_count += 1
        self.submission_keys.add(submission_key)

    def correct(self, field: str, new_value: str, reason: str) -> None:
        self.check_open()
        if field not in self.FIELDS:
            raise NotCorrectable(f"{field!r} is not a fact of {self.TITLE.lower()} that can be corrected")
        reason = bounded_text(reason, NOTE_MAX_CHARS, "A reason")
        if not reason:
            raise CorrectionNeedsReason("A correction needs a reason")
        spec = self.FIELDS[field]
        value = spec.parse(new_value)
        previous = getattr(self, field)
        if value == previous:
            raise NothingToCorrect(f"{spec.label} is already {spec.show(value)}")
        self._corrected(
            field=field,
            previous_value=spec.show(previous),
            new_value=spec.show(value),
            value=value,
            reason=reason,
        )

    @event("Corrected")
    def _corrected(
        self,
        field: str,
        previous_value: str,
        new_value: str,
        value: Any,
        reason: str,
    ) -> None:
        setattr(self, field, value)
        self.corrections_count += 1

    # Review, close, reopen ---------------------------------------------

    def review(self, comment: str) -> None:
        self._reviewed(comment=bounded_text(comment, NOTE_MAX_CHARS, "A comment"))

    @event("Reviewed")
    def _reviewed(self, comment: str) -> None:
        self.reviewed = True

    def close(self, outcome: str, note: str) -> None:
        if self.status == "closed":
            raise IncidentClosed("This incident is already closed")
        if outcome not in self.OUTCOMES:
            raise UnknownOutcome(f"The outcome must be one of: {', '.join(self.OUTCOMES.values())}")
        self._closed(outcome=outcome, note=bounded_text(note, NOTE_MAX_CHARS))

    @event("Closed")
    def _closed(self, outcome: str, note: str) -> None:
        self.status = "closed"
        self.outcome = outcome
        self.reviewed = True

    def reopen(self, reason: str) -> None:
        if self.status != "closed":
            raise IncidentNotClosed("Only a closed incident can be reopened")
        reason = bounded_text(reason, NOTE_MAX_CHARS, "A reason")
        if not reason:
            raise ReasonRequired("Say why the incident is being reopened")
        self._reopened(reason=reason)

    @event("Reopened")
    def _reopened(self, reason: str) -> None:
        self.status = "open"
        self.outcome = None
