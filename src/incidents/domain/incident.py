"""What every incident shares: responses, notes, corrections, review, close and reopen.

An incident is never rewritten. A correction is a new event that names the field, the
value it replaces, the new value and the reason; the original stays in the history.
"""

from __future__ import annotations

import uuid
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, Callable, ClassVar, Mapping, Self, Sequence

from eventsourcing.domain import event

from .acting import Record

from .values import (
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    UK,
    DomainError,
    InvalidValue,
    bounded_text,
    past_time,
    practice_code,
    uk_local_time,
)

INCIDENT_NAMESPACE = uuid.UUID("6f1e0c2e-9d0b-4f43-8f5e-3b1a1f6f2c11")


class IncidentClosed(DomainError):
    pass


class AlreadyReferenced(DomainError):
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
class Fact:
    """One fact a report states and a correction may change: how it is asked, checked and shown.

    A fact with choices is answered by picking one of them; a fact without takes text, or, with
    the `moment` parser, a date and time.
    """

    name: str
    label: str  # as the timeline and the correction form name it
    question: str  # as the report form asks it
    hint: str = ""
    choices: Mapping[str, str] | None = None
    missing: str = ""  # the error when no choice, or one not offered, is given
    parser: Callable[[Any], Any] | None = None
    stored: Callable[[Any], str] = str  # the text a correction keeps of the old and new values
    location: bool = False  # where it happened: the summaries and figures count by it
    default: str = ""  # the choice already made on a new report
    numeric: bool = False  # typed as digits
    patient: bool = False  # names the patient the record is about by NHS number: views keep it only as a blind index
    added_later: bool = False  # reports saved before it was asked lack it: their events read it as not given
    asked_with: tuple[str, str] | None = None  # (fact, choice): the report form asks it under that choice, when chosen

    @property
    def entry(self) -> str:
        return "choice" if self.choices is not None else "time" if self.parser is moment else "text"

    def parse(self, value: Any) -> Any:
        if self.choices is not None:
            if value not in self.choices:
                raise InvalidValue(self.missing or f"Choose one of: {', '.join(self.choices.values())}")
            return value
        assert self.parser is not None, f"the fact {self.name} has neither choices nor a parser"
        return self.parser(value)

    def show(self, value: Any) -> str:
        """The value as people read it: a choice's label, a UK time, or the text as kept."""
        if value in (None, ""):
            return "Not given"
        if self.choices is not None:
            return self.choices.get(str(value), str(value))
        if self.entry == "time":
            instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            return instant.astimezone(UK).strftime("%d %b %Y, %H:%M")
        return self.stored(str(value))


def moment(value: datetime | str) -> datetime:
    """A past moment: a datetime with its zone, or text, with an offset or as a UK clock showed it
    ('2026-11-25 14:05', as the date and time fields of a form give it)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidValue("Enter the date and time it happened, like 25/11/2026 and 14:05") from None
        if value.tzinfo is None:
            value = uk_local_time(value)
    return past_time(value)


OCCURRED_AT = Fact(
    "occurred_at", "When it happened", "When did it happen?",
    "UK time as the clock showed it; on the night the clocks go back, a time between 01:00 and 02:00 is taken as the first one (BST).",
    parser=moment, stored=lambda v: v.isoformat(),
)


def reported_event(facts: tuple[Fact, ...]) -> type[Incident.Reported]:
    """A kind's Reported event: the common attributes and one per fact, named as the fact."""
    defaults = {f.name: field(default="", kw_only=True) for f in facts if f.added_later}
    return type("Reported", (Incident.Reported,), {"__annotations__": {f.name: "typing.Any" for f in facts}, "__module__": __name__, **defaults})


class Incident(Record):
    """Base of both kinds of incident. Subclasses declare their facts and vocabularies."""

    OWN_KEY: ClassVar[bool] = True  # its events are encrypted with a key of its own, destroyed on disposal (record_keys.py)

    KIND: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    HEADING: ClassVar[str] = ""  # the report form's, as staff would say it
    HINT: ClassVar[str] = ""  # under the heading on the home screen's button
    RESPONSES: ClassVar[dict[str, ResponseType]] = {}
    OUTCOMES: ClassVar[dict[str, str]] = {}
    FACTS: ClassVar[tuple[Fact, ...]] = ()  # in the order the report form asks them
    # A fact (with choices) the home screen asks, each choice opening the form with it answered.
    ASKED_ON_HOME: ClassVar[str] = ""
    PREFIX: ClassVar[str] = ""  # of the kind's short references (F-2026-0042)

    @classmethod
    def create_id(cls, practice: str, submission_key: str) -> uuid.UUID:
        """The same form submitted twice names the same incident."""
        return uuid.uuid5(INCIDENT_NAMESPACE, f"{cls.KIND}/{practice_code(practice)}/{submission_key}")

    @classmethod
    def fact(cls, name: str) -> Fact | None:
        return next((f for f in cls.FACTS if f.name == name), None)

    @classmethod
    def location(cls) -> Fact:
        """The fact that says where it happened."""
        return next(f for f in cls.FACTS if f.location)

    class Reported(Record.Created):
        """Base of each kind's Reported event, which also carries every one of the kind's FACTS."""

        practice: str
        submission_key: str
        note: str
        _: KW_ONLY
        ref: str = ""  # the short reference; incidents logged before there were any get theirs by a Referenced event

        def apply(self, aggregate: Incident) -> None:  # type: ignore[override]
            for fact in aggregate.FACTS:
                setattr(aggregate, fact.name, getattr(self, fact.name))
            aggregate.practice = self.practice
            aggregate.ref = self.ref
            aggregate.status = "open"
            aggregate.responses = []
            aggregate.response_times = {}
            aggregate.submission_keys = set()
            aggregate.reviewed = False
            aggregate.outcome = None
            aggregate.notes_count = 1 if self.note else 0
            aggregate.corrections_count = 0

    @classmethod
    def report(cls, practice: str, submission_key: str, note: str, ref: str = "", **facts: Any) -> Self:
        """A new incident of this kind; each fact is checked as its FACTS entry says."""
        unknown = facts.keys() - {f.name for f in cls.FACTS}
        if unknown:
            raise TypeError(f"{', '.join(sorted(unknown))} not facts of {cls.__name__}")
        parsed = {f.name: f.parse(facts.get(f.name, "")) for f in cls.FACTS}
        cls.check_facts(parsed)
        return cls._create(  # not cls(...), which would check the arguments against an __init__ naming each fact
            cls.Reported,
            practice=practice_code(practice),
            submission_key=submission_key,
            note=bounded_text(note, NOTE_MAX_CHARS),
            ref=ref,
            **parsed,
        )

    def give_ref(self, ref: str) -> None:
        """A short reference for an incident logged before there were any."""
        if self.ref:
            raise AlreadyReferenced(f"This incident is {self.ref} already")
        self._referenced(ref=ref)

    @event("Referenced")
    def _referenced(self, ref: str) -> None:
        self.ref = ref

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

    def check_response_allowed(self, name: str, occurred_at: datetime, reference: str, related: Sequence[Incident] = ()) -> None:
        """Hook for a kind's own ordering rules; related: the practice's other incidents the rule may rely on."""

    @classmethod
    def check_facts(cls, facts: Mapping[str, Any]) -> None:
        """Hook for a kind's rules across its facts, as reported."""

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
        related: Sequence[Incident] = (),
    ) -> None:
        self.check_open()
        response_type = self.response_type(response)
        occurred_at = past_time(occurred_at)
        reference = bounded_text(reference, SHORT_TEXT_MAX_CHARS, "A reference")
        note = bounded_text(note, NOTE_MAX_CHARS)
        self.check_not_before_incident(occurred_at)
        self.check_response_allowed(response, occurred_at, reference, related)
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

    def correct(self, field: str, new_value: Any, reason: str) -> None:
        self.check_open()
        fact = self.fact(field)
        if fact is None:
            raise NotCorrectable(f"{field!r} is not a fact of {self.TITLE.lower()} that can be corrected")
        reason = bounded_text(reason, NOTE_MAX_CHARS, "A reason")
        if not reason:
            raise CorrectionNeedsReason("A correction needs a reason")
        value = fact.parse(new_value)
        previous = getattr(self, field)
        if value == previous:
            raise NothingToCorrect(f"{fact.label} is already {fact.show(value)}")
        self._corrected(
            field=field,
            previous_value=fact.stored(previous),
            new_value=fact.stored(value),
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
