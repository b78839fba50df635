"""The practice's telephone call recording policy: one record per practice, each version an event.

The guidance (/work/shared/seed/recording-in-practice.txt): calls are recorded as a matter of
routine or not at all, never only "difficult" callers; every caller is told (a message on the
line, the practice leaflet, a poster, the website) and the practice keeps a record of how; calls
recorded for clinical purposes are part of the clinical record; recordings may have to be
disclosed in a complaint or claim. Every listening to a recording is an event of the policy, so
the check (is this role allowed, for this purpose, under the policy then in force) and the log
entry are one transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from eventsourcing.domain import event

from .acting import Record
from .dates import calendar_day
from .values import (
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    DomainError,
    InvalidValue,
    past_time,
    practice_code,
    required_text,
)

POLICY_NAMESPACE = uuid.UUID("c41d7e2a-5b9f-4c13-8e6a-2f7b0d9c3a18")

ALL_CALLS = "all_calls"
SCOPES = {
    ALL_CALLS: "Every call to and from the practice, on every line",
    "selected_callers": "Only calls with particular callers or numbers",
}
PURPOSES = {
    "training": "Staff training",
    "quality": "Quality and service improvement",
    "complaints_and_claims": "Complaints and claims",
    "staff_safety": "Safety of staff (abusive or threatening calls)",
    "clinical_record": "Clinical record (advice given on the phone)",
}
LISTENER_ROLES = {"reception": "Reception", "manager": "Practice manager", "governance": "Governance lead"}
# The ways callers are told, as the notice register names them; a message on the line is the
# only one every caller hears before the call is answered, so a policy always includes it.
CALLER_CHANNELS = {
    "telephone_message": "Message on the line",
    "practice_leaflet": "Practice leaflet",
    "waiting_room_poster": "Waiting-room poster",
    "website": "Website",
}
MESSAGE_ON_THE_LINE = "telephone_message"
RETENTION_MONTHS_MAX = 12 * 30  # a clinical record's longest usual period is well within this

ACTIVE, ENDED = "active", "ended"
GUIDANCE = (
    "Calls are recorded as a matter of routine, for every caller, or not at all: the practice "
    "must not single out conversations with individual callers."
)


class SinglesOutCallers(InvalidValue):
    """A policy that records only some callers or numbers: secret or selective recording."""


class MessageOnLineRequired(InvalidValue):
    pass


class NoPurpose(InvalidValue):
    pass


class NoListeners(InvalidValue):
    pass


class InvalidRetention(InvalidValue):
    pass


class PolicyEnded(DomainError):
    pass


class PolicyNotInForce(DomainError):
    pass


class ListenerNotAllowed(DomainError):
    """The policy names who may listen: anyone else is refused, with the reason."""


class PurposeNotInPolicy(DomainError):
    pass


class CallInvalid(InvalidValue):
    pass


class NumberInvalid(CallInvalid):
    pass


class NothingChanged(DomainError):
    pass


def _chosen(values: list[str] | tuple[str, ...], allowed: dict[str, str], what: str, empty: DomainError) -> tuple[str, ...]:
    """The ticked values, in the list's order, each one of `allowed`."""
    chosen = set(values)
    unknown = chosen - set(allowed)
    if unknown:
        raise InvalidValue(f"{what} must be among: {', '.join(allowed.values())}")
    if not chosen:
        raise empty
    return tuple(k for k in allowed if k in chosen)


def check_routine(scope: str, only_callers: str = "") -> str:
    """Calls are recorded for every caller: any other scope, or a list of callers or numbers to
    record, is refused with the guidance."""
    if scope not in SCOPES:
        raise SinglesOutCallers(f"Choose what is recorded. {GUIDANCE}")
    if scope != ALL_CALLS or (only_callers or "").strip():
        raise SinglesOutCallers(
            f"{GUIDANCE} Record every call, or do not record calls. Recording only some callers or numbers "
            "would be selective, and callers would not know which calls are recorded."
        )
    return scope


def check_told_by(channels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    told_by = _chosen(channels, CALLER_CHANNELS, "The ways callers are told", MessageOnLineRequired("Choose how callers are told: a message on the line at least"))
    if MESSAGE_ON_THE_LINE not in told_by:
        raise MessageOnLineRequired(
            "Callers must be told by a message on the line, before the call is answered: only it reaches every caller. "
            "The leaflet, a poster and the website add to it."
        )
    return told_by


def check_retention(months: int) -> int:
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= RETENTION_MONTHS_MAX:
        raise InvalidRetention(f"Enter how many months recordings are kept: a whole number from 1 to {RETENTION_MONTHS_MAX}")
    return months


_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,22}$")


def caller_number(value: str) -> str:
    """A telephone number as dialled (digits, spaces, brackets, dashes, a leading +), or blank."""
    text = (value or "").strip()
    if text and not (_PHONE.match(text) and 7 <= sum(ch.isdigit() for ch in text) <= 15):
        raise NumberInvalid("Enter the caller's number as dialled, for example 0113 496 0000, or leave it blank")
    return text


@dataclass(frozen=True)
class Terms:
    """One version of the policy, as adopted or changed."""

    scope: str
    purposes: tuple[str, ...]
    listeners: tuple[str, ...]
    retention_months: int
    system: str
    told_by: tuple[str, ...]
    in_force_from: date

    @classmethod
    def checked(
        cls,
        scope: str,
        only_callers: str,
        purposes: list[str] | tuple[str, ...],
        listeners: list[str] | tuple[str, ...],
        retention_months: int,
        system: str,
        told_by: list[str] | tuple[str, ...],
        in_force_from: date,
    ) -> Terms:
        return cls(
            scope=check_routine(scope, only_callers),
            purposes=_chosen(purposes, PURPOSES, "The purposes", NoPurpose("Choose at least one purpose calls are recorded for")),
            listeners=_chosen(listeners, LISTENER_ROLES, "Who may listen", NoListeners("Choose who may listen to recordings")),
            retention_months=check_retention(retention_months),
            system=required_text(system, SHORT_TEXT_MAX_CHARS, "The system", InvalidValue("Enter the system or supplier that holds the recordings")),
            told_by=check_told_by(told_by),
            in_force_from=calendar_day(in_force_from),
        )


@dataclass(frozen=True)
class Listening:
    """One listening to a recorded call, as the log keeps it."""

    listened_at: datetime
    actor: str
    actor_name: str
    call_at: datetime
    caller: str
    purpose: str
    reason: str
    submission_key: str = ""


class CallRecordingPolicy(Record):
    PURPOSES = PURPOSES
    LISTENER_ROLES = LISTENER_ROLES
    CALLER_CHANNELS = CALLER_CHANNELS

    @staticmethod
    def create_id(practice: str) -> uuid.UUID:
        return uuid.uuid5(POLICY_NAMESPACE, practice_code(practice))

    class Adopted(Record.Created):
        practice: str
        scope: str
        purposes: list[str]
        listeners: list[str]
        retention_months: int
        system: str
        told_by: list[str]
        in_force_from: date

        def apply(self, policy: CallRecordingPolicy) -> None:  # type: ignore[override]
            policy.versions = [_terms(self)]

    class Changed(Record.Event):
        """A new version; after the policy ended, it is adopted again."""

        scope: str
        purposes: list[str]
        listeners: list[str]
        retention_months: int
        system: str
        told_by: list[str]
        in_force_from: date
        reason: str

        def apply(self, policy: CallRecordingPolicy) -> None:  # type: ignore[override]
            policy.versions.append(_terms(self))
            policy.status = ACTIVE
            policy.ended_from = None

    class Ended(Record.Event):
        ended_from: date
        reason: str

        def apply(self, policy: CallRecordingPolicy) -> None:  # type: ignore[override]
            policy.status = ENDED
            policy.ended_from = self.ended_from
            policy.end_reason = self.reason

    class ListenedTo(Record.Event):
        call_at: datetime
        caller: str
        purpose: str
        reason: str
        submission_key: str = ""  # the form's, so that the same form sent twice is logged once

        def apply(self, policy: CallRecordingPolicy) -> None:  # type: ignore[override]
            policy.listenings.append(
                Listening(self.timestamp, self.actor, self.actor_name, self.call_at, self.caller, self.purpose, self.reason, self.submission_key)
            )

    def __init__(self, practice: str, scope: str, purposes: list[str], listeners: list[str], retention_months: int, system: str, told_by: list[str], in_force_from: date) -> None:
        self.practice = practice
        self.versions: list[Terms] = []  # the first is added by Adopted
        self.status = ACTIVE
        self.ended_from: date | None = None
        self.end_reason = ""
        self.listenings: list[Listening] = []

    @classmethod
    def adopt(cls, practice: str, terms: Terms) -> CallRecordingPolicy:
        return cls._create(
            cls.Adopted,
            id=cls.create_id(practice),
            practice=practice_code(practice),
            **_fields(terms),
        )

    # Queries --------------------------------------------------------------

    @property
    def current(self) -> Terms:
        return self.versions[-1]

    def in_force_on(self, day: date) -> bool:
        if self.status == ENDED and self.ended_from is not None and day >= self.ended_from:
            return False
        return self.current.in_force_from <= day

    # Guards ---------------------------------------------------------------

    def check_not_ended(self) -> None:
        if self.status == ENDED:
            raise PolicyEnded("The policy has ended: adopt it again (change it) before ending it")

    def check_may_listen(self, roles: tuple[str, ...], purpose: str, day: date) -> None:
        """Listening only under a policy in force, by a role it names, for one of its purposes."""
        if not self.in_force_on(day):
            raise PolicyNotInForce("No call recording policy is in force today: recordings cannot be listened to without one")
        terms = self.current
        if not set(roles) & set(terms.listeners):
            allowed = ", ".join(LISTENER_ROLES[r] for r in terms.listeners)
            held = ", ".join(LISTENER_ROLES.get(r, r) for r in roles) or "no role"
            raise ListenerNotAllowed(
                f"The call recording policy lets only these listen to recordings: {allowed}. You are signed in as {held}. "
                "Ask one of them, or change the policy first."
            )
        if purpose not in terms.purposes:
            named = PURPOSES.get(purpose, purpose)
            raise PurposeNotInPolicy(
                f"Calls are not recorded for {named.lower()} under the policy: it names "
                f"{', '.join(PURPOSES[p].lower() for p in terms.purposes)}."
            )

    # Commands -------------------------------------------------------------

    def change(self, terms: Terms, reason: str) -> None:
        reason = required_text(reason, NOTE_MAX_CHARS, "A reason", InvalidValue("Say why the policy changes"))
        if self.status == ACTIVE and terms == self.current:
            raise NothingChanged("The policy already says this: change something, or leave it as it is")
        if self.status == ACTIVE and terms.in_force_from < self.current.in_force_from:
            raise InvalidValue(f"A new version cannot be in force before {self.current.in_force_from:%d %b %Y}, when the current one started")
        self.trigger_event(self.Changed, reason=reason, **_fields(terms))

    def end(self, ended_from: date, reason: str) -> None:
        """Calls are no longer recorded from that day on."""
        self.check_not_ended()
        ended_from = calendar_day(ended_from)
        reason = required_text(reason, NOTE_MAX_CHARS, "A reason", InvalidValue("Say why calls are no longer recorded"))
        if ended_from < self.current.in_force_from:
            raise InvalidValue(f"The policy cannot end before {self.current.in_force_from:%d %b %Y}, when the current version started")
        self.trigger_event(self.Ended, ended_from=ended_from, reason=reason)

    def listen(self, roles: tuple[str, ...], call_at: datetime, caller: str, purpose: str, reason: str, today: date, submission_key: str = "") -> bool:
        """Whether a listening was logged: the same form sent again logs nothing more."""
        if submission_key and any(heard.submission_key == submission_key for heard in self.listenings):
            return False
        if purpose not in PURPOSES:
            raise InvalidValue("Choose why you are listening")
        try:
            call_at = past_time(call_at)
        except InvalidValue as error:
            raise CallInvalid(f"The call's date and time: {error}") from None
        caller = caller_number(caller)
        reason = required_text(reason, NOTE_MAX_CHARS, "The reason", InvalidValue("Say why you are listening (for example the complaint's reference)"))
        self.check_may_listen(roles, purpose, today)
        self.trigger_event(self.ListenedTo, call_at=call_at, caller=caller, purpose=purpose, reason=reason, submission_key=submission_key)
        return True


def _fields(terms: Terms) -> dict[str, object]:
    return {
        "scope": terms.scope,
        "purposes": list(terms.purposes),
        "listeners": list(terms.listeners),
        "retention_months": terms.retention_months,
        "system": terms.system,
        "told_by": list(terms.told_by),
        "in_force_from": terms.in_force_from,
    }


def _terms(e: CallRecordingPolicy.Adopted | CallRecordingPolicy.Changed) -> Terms:
    return Terms(e.scope, tuple(e.purposes), tuple(e.listeners), e.retention_months, e.system, tuple(e.told_by), e.in_force_from)

