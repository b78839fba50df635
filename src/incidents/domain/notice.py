"""The notice register: how the practice tells callers and patients what it records and allows.

Telephone call recording must be made known to every caller, and the practice must keep a
record of the means by which callers were informed; a filming policy is made known by a notice
in the waiting area. Each notice is one channel's wording over time: published, revised (the new
wording applies from a day on), withdrawn (not in force from a day on). Nothing is rewritten,
so the register answers "which notice, in which words, was in force on this day?".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from eventsourcing.domain import event

from .acting import Record
from .dates import calendar_day
from .values import NOTE_MAX_CHARS, DomainError, InvalidValue, bounded_text, choice, practice_code

NOTICE_NAMESPACE = uuid.UUID("9a4e2c1d-7b3f-4e58-a0c6-1d2e3f4a5b6c")
CHANNELS = {
    "telephone_message": "Telephone message",
    "website": "Website",
    "waiting_room_poster": "Waiting-room poster",
    "practice_leaflet": "Practice leaflet",
    "reception_sign": "Reception sign",
}


class NoticeWithdrawn(DomainError):
    pass


class RevisionOutOfOrder(DomainError):
    """A revision must apply from the day the current wording started, or later."""


class NothingToRevise(DomainError):
    pass


class WithdrawalOutOfOrder(DomainError):
    pass


class WithdrawalNeedsReason(DomainError):
    pass


@dataclass(frozen=True)
class Wording:
    """One wording of a notice and the first day it was in service."""

    text: str
    in_service_from: date
    actor: str
    actor_name: str


def _wording(text: str) -> str:
    text = bounded_text(text, NOTE_MAX_CHARS, "The wording")
    if not text:
        raise InvalidValue("Enter the wording of the notice, as callers or patients see or hear it")
    return text


class Notice(Record):
    CHANNELS = CHANNELS

    @staticmethod
    def create_id(practice: str, submission_key: str) -> uuid.UUID:
        """The same form submitted twice names the same notice."""
        return uuid.uuid5(NOTICE_NAMESPACE, f"{practice_code(practice)}/{submission_key}")

    class Published(Record.Created):
        practice: str
        submission_key: str
        channel: str
        wording: str
        in_service_from: date

        def apply(self, notice: Notice) -> None:  # type: ignore[override]
            notice.wordings = [Wording(self.wording, self.in_service_from, self.actor, self.actor_name)]

    class Revised(Record.Event):
        wording: str
        in_service_from: date

        def apply(self, notice: Notice) -> None:  # type: ignore[override]
            notice.wordings.append(Wording(self.wording, self.in_service_from, self.actor, self.actor_name))

    def __init__(self, practice: str, submission_key: str, channel: str, wording: str, in_service_from: date) -> None:
        self.practice = practice
        self.channel = channel
        self.wordings: list[Wording] = []  # the first is added by Published, which knows who acted
        self.withdrawn_from: date | None = None
        self.withdrawal_reason = ""

    @classmethod
    def publish(
        cls,
        practice: str,
        submission_key: str,
        channel: str,
        wording: str,
        in_service_from: date,
    ) -> Notice:
        return cls(
            practice=practice_code(practice),
            submission_key=submission_key,
            channel=choice(channel, CHANNELS, "The channel"),
            wording=_wording(wording),
            in_service_from=calendar_day(in_service_from),
        )

    # Queries --------------------------------------------------------------

    @property
    def channel_label(self) -> str:
        return CHANNELS[self.channel]

    @property
    def in_service_from(self) -> date:
        return self.wordings[0].in_service_from

    @property
    def current(self) -> Wording:
        return self.wordings[-1]

    def wording_on(self, day: date) -> Wording | None:
        """The wording in force on that day, or None if the notice was not in force."""
        if self.withdrawn_from is not None and day >= self.withdrawn_from:
            return None
        in_force = None
        for wording in self.wordings:  # in order of their start; on a shared day the later one wins
            if wording.in_service_from <= day:
                in_force = wording
        return in_force

    def in_force_on(self, day: date) -> bool:
        return self.wording_on(day) is not None

    # Guards ---------------------------------------------------------------

    def check_not_withdrawn(self) -> None:
        if self.withdrawn_from is not None:
            raise NoticeWithdrawn("This notice has been withdrawn: publish a new one instead")

    def check_from_current(self, day: date, error: type[DomainError], what: str) -> None:
        if day < self.current.in_service_from:
            raise error(
                f"{what} cannot be before {self.current.in_service_from.isoformat()}, "
                "when the current wording came into service"
            )

    # Commands -------------------------------------------------------------

    def revise(self, wording: str, in_service_from: date) -> None:
        self.check_not_withdrawn()
        wording = _wording(wording)
        in_service_from = calendar_day(in_service_from)
        if wording == self.current.text:
            raise NothingToRevise("The new wording is the same as the current one")
        self.check_from_current(in_service_from, RevisionOutOfOrder, "A revision")
        self.trigger_event(self.Revised, wording=wording, in_service_from=in_service_from)

    def withdraw(self, withdrawn_from: date, reason: str) -> None:
        """Not in force from that day on (the day before was its last)."""
        self.check_not_withdrawn()
        withdrawn_from = calendar_day(withdrawn_from)
        reason = bounded_text(reason, NOTE_MAX_CHARS, "A reason")
        if not reason:
            raise WithdrawalNeedsReason("Say why the notice is withdrawn")
        self.check_from_current(withdrawn_from, WithdrawalOutOfOrder, "A withdrawal")
        self._withdrawn(withdrawn_from=withdrawn_from, reason=reason)

    @event("Withdrawn")
    def _withdrawn(self, withdrawn_from: date, reason: str) -> None:
        self.withdrawn_from = withdrawn_from
        self.withdrawal_reason = reason
