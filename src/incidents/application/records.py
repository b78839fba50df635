"""What every part of the application shares: who acts, what a command returns, and the one way
to get a record the actor may see, call a change on it and save it (on a concurrent change, again
on fresh state), and to list a practice's records.

Every command and query is scoped to the acting user's practice: a record of another practice
does not exist for that user, whatever id is guessed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, EventSourcedLog
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from ..domain.acting import acting_as
from ..domain.incident import Incident
from ..domain.practice_lists import Listed, list_id
from ..domain.values import DomainError

UK = ZoneInfo("Europe/London")
R = TypeVar("R", bound=Aggregate)
SAVE_ATTEMPTS = 20
PROCESS_ID = UUID(int=0)


def uk_today() -> date:
    return datetime.now(UK).date()


class NotFound(DomainError):
    """No such record, or one the actor may not see: both get the same answer."""

    what = "record"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or f"No such {self.what}")


class IncidentNotFound(NotFound):
    what = "incident"


class AccountNotFound(NotFound):
    what = "account"


class NoticeNotFound(NotFound):
    what = "notice"


class RequestNotFound(NotFound):
    what = "disclosure request"


class NotPermitted(DomainError):
    pass


class ConcurrentChange(DomainError):
    """Others kept changing the same record; nothing of this change was saved."""


@dataclass(frozen=True)
class Actor:
    """The signed-in member of staff a command is made by."""

    user_id: UUID
    username: str
    display_name: str
    practice: str
    roles: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.roles, str):  # a string is iterable: "manager" would be its letters
            raise TypeError(f"An actor's roles are a tuple, not the string {self.roles!r}")

    def holds(self, *roles: str) -> bool:
        """Whether the actor holds any of these roles."""
        return not set(roles).isdisjoint(self.roles)

    def require(self, *roles: str) -> None:
        if not self.holds(*roles):
            raise NotPermitted(f"Only {' or '.join(roles)} staff can do this")

    @classmethod
    def process(cls, name: str, practice: str, *roles: str) -> Actor:
        """A process acting for a practice (the CLI, the first run), named as it names itself."""
        return cls(PROCESS_ID, name, name, practice, roles)

    def acting(self) -> AbstractContextManager[None]:
        """Names this person on every event made in the block."""
        return acting_as(self.username, self.display_name)


@dataclass(frozen=True)
class Saved:
    """What a command returns: the record's id and the position of its last event."""

    id: UUID
    notification_id: int
    created: bool = True


class DateAsISO(Transcoding):
    """Calendar dates (in service from, received on, due on) as ISO strings in stored events."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Records(Application[UUID]):
    """The application's way of keeping records; the parts of IncidentLog build on it."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # Get ----------------------------------------------------------------

    def get(self, actor: Actor, record_id: UUID, kind: type[R], not_found: type[NotFound]) -> R:
        """The record, if it is of that kind and of the actor's practice; else not_found."""
        try:
            record = self.repository.get(record_id)
        except AggregateNotFoundError:
            raise not_found() from None
        if not isinstance(record, kind) or getattr(record, "practice", None) != actor.practice:
            raise not_found()
        return record

    def get_incident(self, actor: Actor, incident_id: UUID) -> Incident:
        return self.get(actor, incident_id, Incident, IncidentNotFound)

    def history(self, actor: Actor, incident_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of one incident, oldest first (the incident page's timeline)."""
        self.get_incident(actor, incident_id)
        return list(self.events.get(incident_id))

    def _exists(self, record_id: UUID) -> bool:
        return bool(self.recorder.select_events(record_id, limit=1))

    # Call and save ------------------------------------------------------

    def change(self, actor: Actor, get: Callable[[], R], call: Callable[[R], object]) -> Saved:
        """Get, call, save. A call that returns False changed nothing (a repeated submission)."""

        def attempt() -> tuple[UUID, Sequence[Any]]:
            record = get()
            return record.id, [] if call(record) is False else [record]

        return self.saving(actor, attempt)

    def saving(self, actor: Actor, attempt: Callable[[], tuple[UUID, Sequence[Any]]]) -> Saved:
        """Save in one transaction what the attempt makes, in the actor's name, and return the
        id it names; a concurrent change to any of it makes it again, on fresh state."""
        with actor.acting():
            for n in range(SAVE_ATTEMPTS):
                record_id, changed = attempt()
                if not changed:
                    return self.unchanged(record_id)
                try:
                    recordings = self.save(*changed)
                except IntegrityError:
                    time.sleep(random.uniform(0.001, 0.005) * (n + 1))  # let the other writer finish
                    continue
                return Saved(record_id, recordings[-1].notification.id)
        raise ConcurrentChange("Someone else was changing this at the same moment. Nothing was saved: try again.")

    def unchanged(self, record_id: UUID) -> Saved:
        return Saved(record_id, self.recorder.max_notification_id() or 0, created=False)

    # A practice's short, exact lists (staff, notices, disclosure requests) ----

    def practice_list(self, practice: str, listing: str) -> EventSourcedLog[Listed]:
        return EventSourcedLog(self.events, list_id(practice, listing), Listed)

    def listed(self, practice: str, listing: str) -> list[UUID]:
        """The ids on one of a practice's lists, oldest first."""
        return [e.entry for e in self.practice_list(practice, listing).get() if isinstance(e, Listed)]

    def listed_records(self, actor: Actor, listing: str) -> Iterator[Any]:
        return (self.repository.get(record_id) for record_id in self.listed(actor.practice, listing))

    def add_listed(self, actor: Actor, listing: str, make: Callable[[], Aggregate]) -> Saved:
        """A new record and its entry on the actor's practice's list, in one transaction. A record
        that exists already (the same submission again) is answered with created False."""
        with actor.acting():
            record = make()
        # Collected once: a failed save has taken an aggregate's pending events all the same.
        pending = record.collect_events()
        entries = self.practice_list(actor.practice, listing)

        def attempt() -> tuple[UUID, Sequence[Any]]:
            if self._exists(record.id):
                return record.id, []
            return record.id, [*pending, entries.trigger_event(entry=record.id)]

        return self.saving(actor, attempt)
