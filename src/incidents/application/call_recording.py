"""The practice's call recording policy in the application: managers and the governance lead keep
it; the staff it names log each listening to a recording; the dashboard asks which of the ways
the policy tells callers has no notice in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from pydantic import Field, StringConstraints

from ..domain.call_recording import (
    CALLER_CHANNELS,
    LISTENER_ROLES,
    MESSAGE_ON_THE_LINE,
    PURPOSES,
    RETENTION_MONTHS_MAX,
    SCOPES,
    CallRecordingPolicy,
    Terms,
)
from ..domain.notice import CHANNELS
from ..domain.values import DomainError
from . import commands as c
from .days import Day
from .notices import NoticeRegister, RequiredNotice
from .records import UK, Actor, Saved, uk_today

POLICY_KEEPERS = ("manager", "governance")
POLICY_READERS = ("manager", "governance")


class PolicyNotAdopted(DomainError):
    pass


class SetCallPolicy(c.Command):
    """Adopt the policy, or change it (a reason is needed once there is one)."""

    scope: Annotated[str, c._choice(SCOPES, "what is recorded")]
    only_callers: c.ShortText = ""  # offered so that a policy singling out callers is refused in words, never stored
    purposes: Annotated[tuple[str, ...], Field(min_length=1, max_length=len(PURPOSES))]
    listeners: Annotated[tuple[str, ...], Field(min_length=1, max_length=len(LISTENER_ROLES))]
    retention_months: Annotated[int, Field(ge=1, le=RETENTION_MONTHS_MAX)]
    system: Annotated[c.ShortText, StringConstraints(min_length=1)]
    told_by: Annotated[tuple[str, ...], Field(min_length=1, max_length=len(CALLER_CHANNELS))]
    in_force_from: Day
    reason: c.Note = ""


class EndCallPolicy(c.Command):
    ended_from: Day
    reason: Annotated[c.Note, StringConstraints(min_length=1)]


class LogListening(c.Command):
    submission_key: c.SubmissionKey
    call_at: c.PastTime
    caller: c.ShortText = ""
    purpose: Annotated[str, c._choice(PURPOSES, "why you are listening")]
    reason: Annotated[c.Note, StringConstraints(min_length=1)]


@dataclass(frozen=True)
class PolicyEntry:
    """One event of the policy as its history shows it."""

    title: str
    recorded_at: datetime
    actor_name: str
    details: tuple[tuple[str, str], ...]


TITLES = {"Adopted": "Policy adopted", "Changed": "Policy changed", "Ended": "Policy ended", "ListenedTo": "Recording listened to"}


def _labels(codes: Any, names: dict[str, str]) -> str:
    return ", ".join(names.get(code, code) for code in codes)


def _details(e: Any) -> tuple[tuple[str, str], ...]:
    name = type(e).__name__
    if name in ("Adopted", "Changed"):
        rows = (
            ("What is recorded", SCOPES.get(e.scope, e.scope)),
            ("Purposes", _labels(e.purposes, PURPOSES)),
            ("Who may listen", _labels(e.listeners, LISTENER_ROLES)),
            ("Kept for", f"{e.retention_months} months"),
            ("System or supplier", e.system),
            ("Callers told by", _labels(e.told_by, CALLER_CHANNELS)),
            ("In force from", f"{e.in_force_from:%d %b %Y}"),
        )
        return rows + ((("Reason", e.reason),) if name == "Changed" else ())
    if name == "Ended":
        return (("Not in force from", f"{e.ended_from:%d %b %Y}"), ("Reason", e.reason))
    if name == "ListenedTo":
        return (
            ("Call", f"{e.call_at.astimezone(UK):%d %b %Y at %H:%M}"),
            ("Caller's number", e.caller or "Not given"),
            ("Purpose", PURPOSES.get(e.purpose, e.purpose)),
            ("Why", e.reason),
        )
    return ()


class CallRecording(NoticeRegister):
    def call_policy(self, actor: Actor) -> CallRecordingPolicy | None:
        """The practice's policy, None until one is adopted."""
        actor.require(*POLICY_READERS)
        try:
            policy = self.repository.get(CallRecordingPolicy.create_id(actor.practice))
        except AggregateNotFoundError:
            return None
        return policy if isinstance(policy, CallRecordingPolicy) else None

    def set_call_policy(self, cmd: SetCallPolicy, actor: Actor) -> Saved:
        """Adopt the policy, or record a new version of it."""
        actor.require(*POLICY_KEEPERS)
        terms = Terms.checked(
            cmd.scope, cmd.only_callers, cmd.purposes, cmd.listeners, cmd.retention_months, cmd.system, cmd.told_by, cmd.in_force_from
        )

        def attempt() -> tuple[UUID, list[Any]]:
            policy = self.call_policy(actor)
            if policy is None:
                policy = CallRecordingPolicy.adopt(actor.practice, terms)
            else:
                policy.change(terms, cmd.reason)
            return policy.id, [policy]

        return self.saving(actor, attempt)

    def end_call_policy(self, cmd: EndCallPolicy, actor: Actor) -> Saved:
        actor.require(*POLICY_KEEPERS)
        return self.change(actor, lambda: self._policy(actor), lambda p: p.end(cmd.ended_from, cmd.reason))

    def log_listening(self, cmd: LogListening, actor: Actor, today: date | None = None) -> Saved:
        """Any member of staff may ask; the policy decides (its roles, its purposes) and the log
        keeps who listened, when, to which call and why."""
        day = today or uk_today()
        return self.change(
            actor, lambda: self._policy(actor, reading=False),
            lambda p: p.listen(actor.roles, cmd.call_at, cmd.caller, cmd.purpose, cmd.reason, day, cmd.submission_key),
        )

    def _policy(self, actor: Actor, reading: bool = True) -> CallRecordingPolicy:
        try:
            policy = self.repository.get(CallRecordingPolicy.create_id(actor.practice))
        except AggregateNotFoundError:
            raise PolicyNotAdopted("The practice has no call recording policy: a manager adopts one first") from None
        if reading:
            actor.require(*POLICY_READERS)
        return policy

    # Queries --------------------------------------------------------------

    def call_policy_history(self, actor: Actor) -> list[PolicyEntry]:
        """Every event of the policy, newest first, as people read it."""
        policy = self.call_policy(actor)
        if policy is None:
            return []
        entries = [
            PolicyEntry(TITLES.get(type(e).__name__, type(e).__name__), e.timestamp, getattr(e, "actor_name", ""), _details(e))
            for e in self.events.get(policy.id)
        ]
        return entries[::-1]

    def missing_required_notices(self, actor: Actor, today: date | None = None) -> list[RequiredNotice]:
        """The register's required notices, where a policy in force replaces the general
        telephone one by each way the policy says callers are told (the dashboard warns of these)."""
        missing = super().missing_required_notices(actor, today)
        for_calls = self.missing_caller_notices(actor, today)
        if for_calls is None:
            return missing
        return [m for m in missing if MESSAGE_ON_THE_LINE not in m.channels] + for_calls

    def missing_caller_notices(self, actor: Actor, today: date | None = None) -> list[RequiredNotice] | None:
        """The ways the policy in force tells callers that have no notice in force today; None
        when no policy is in force (the notice register's own warning applies then)."""
        day = today or uk_today()
        policy = self.call_policy(actor)
        if policy is None or not policy.in_force_on(day):
            return None
        served = {n.channel for n in self.notices_in_force(actor, day)}
        return [
            RequiredNotice(
                f"Telephone call recording ({CALLER_CHANNELS[ch].lower()})",
                (ch,),
                "The practice's call recording policy says callers are told this way: "
                "the practice must keep a record of how callers are informed.",
            )
            for ch in policy.current.told_by
            if ch not in served and ch in CHANNELS
        ]
