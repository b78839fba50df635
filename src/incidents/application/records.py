"""What every part of the application shares: who acts, what a command returns, and the one way
to get a record the actor may see, call a change on it and save it (on a concurrent change, again
on fresh state), and to list a practice's records.

Every command and query is scoped to the acting user's practice: a record of another practice
does not exist for that user, whatever id is guessed.
"""

from __future__ import annotations

import random
import threading
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

from ..domain.acting import acting_as, recorded_now
from ..domain.incident import Incident
from ..domain.practice_lists import Listed, list_id
from ..domain.references import Numbering
from ..domain.values import DomainError

UK = ZoneInfo("Europe/London")
R = TypeVar("R", bound=Aggregate)
SAVE_ATTEMPTS = 20
PROCESS_ID = UUID(int=0)


class References:
    """The next short reference of each numbering, kept per process and read from the store the
    first time; a number another process took first makes the save conflict, after which the
    store's last is read again (refresh). Each number given is an entry, at that position, in the
    numbering's log. A number is lost (a gap) only when a form sent again is refused while
    another report has been given the next number: the same form sent twice at the same moment."""

    def __init__(self, records: Application) -> None:
        self._records = records
        self._last: dict[Numbering, int] = {}
        self._logs: dict[Numbering, EventSourcedLog[Listed]] = {}  # each made once: its id is a hash of its name
        self._lock = threading.Lock()

    @staticmethod
    def year() -> int:
        return recorded_now().astimezone(UK).year

    def _log(self, numbering: Numbering) -> EventSourcedLog[Listed]:
        log = self._logs.get(numbering)
        if log is None:
            log = self._logs[numbering] = EventSourcedLog(self._records.events, list_id(numbering.practice, numbering.listing), Listed)
        return log

    def next(self, numbering: Numbering) -> str:
        with self._lock:
            last = self._last.get(numbering)
            if last is None:
                found = self._log(numbering).get_last()
                last = found.originator_version if found is not None else 0
            self._last[numbering] = last + 1
            return numbering.ref(last + 1)

    def entry(self, numbering: Numbering, record_id: UUID, ref: str) -> Listed:
        """The log entry that holds the number: a second record given it conflicts on saving."""
        return self._log(numbering).trigger_event(next_originator_version=int(ref.rsplit("-", 1)[1]), entry=record_id)

    def give_back(self, numbering: Numbering, ref: str) -> None:
        """A number whose save was refused, given again next if no other was given since."""
        number = int(ref.rsplit("-", 1)[1])
        with self._lock:
            if self._last.get(numbering) == number:
                self._last[numbering] = number - 1

    def refresh(self, numbering: Numbering) -> None:
        """Never back past numbers given here whose saves may still be on their way."""
        found = self._log(numbering).get_last()
        stored = found.originator_version if found is not None else 0
        with self._lock:
            self._last[numbering] = max(self._last.get(numbering, 0), stored)


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.references = References(self)
        keys = getattr(self.mapper.cipher, "record_keys", None)
        writes_keys = hasattr(self.recorder, "record_keys") and not getattr(getattr(self.recorder, "datastore", None), "enable_db_functions", False)
        if keys is not None and writes_keys:  # a new record's key is saved with its first event
            self.recorder.record_keys = keys
            keys.written_with_events()

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

    def saving(
        self, actor: Actor, attempt: Callable[[], tuple[UUID, Sequence[Any]]], on_conflict: Callable[[], None] | None = None
    ) -> Saved:
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
                    if on_conflict is not None:
                        on_conflict()
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

    def add_listed(self, actor: Actor, listing: str, make: Callable[..., Aggregate], prefix: str = "") -> Saved:
        """A new record and its entry on the actor's practice's list, in one transaction. A record
        that exists already (the same submission again) is answered with created False. With a
        prefix, the record is made with the next short reference of its kind (make(ref=...))."""
        entries = self.practice_list(actor.practice, listing)
        numbering = Numbering(actor.practice, prefix, self.references.year()) if prefix else None

        def attempt() -> tuple[UUID, Sequence[Any]]:
            record = make() if numbering is None else make(ref="")
            if self._exists(record.id):  # found before a number is given: a form sent again takes none
                return record.id, []
            numbered = []
            if numbering is not None:
                record = make(ref=self.references.next(numbering))
                numbered = [self.references.entry(numbering, record.id, record.ref)]
            return record.id, [*record.collect_events(), *numbered, entries.trigger_event(entry=record.id)]

        return self.saving(actor, attempt, on_conflict=numbering and (lambda: self.references.refresh(numbering)))
