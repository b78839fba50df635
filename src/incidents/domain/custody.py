"""The chain of custody of one incident: every view of its timeline and every export, with who,
when, and for which disclosure request.

It is its own stream beside the incident, not part of it, so that reading an incident never
conflicts with someone changing it. A view is appended without replaying the stream: only the
last version is needed (`following`), so a page view stays one small write however long the
chain grows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.domain import event

from .acting import Record
from .values import practice_code

CUSTODY_NAMESPACE = uuid.UUID("5b8e0f3c-2a6d-4c17-9e41-7f0a3b6c8d25")
VIEWED, EXPORTED = "viewed", "exported"
Access_ = TypeVar("Access_", bound=Record.Event)


@dataclass(frozen=True)
class Access:
    """One entry of the chain of custody."""

    action: str  # "viewed" or "exported"
    at: datetime  # when it was recorded (UTC)
    actor: str
    actor_name: str
    role: str
    request_id: uuid.UUID | None = None
    fingerprint: str = ""  # the bundle's manifest hash, for an export

    @property
    def title(self) -> str:
        return "Viewed the timeline" if self.action == VIEWED else "Exported the timeline in a bundle"


class IncidentAccessLog(Record):
    @staticmethod
    def create_id(practice: str, incident_id: uuid.UUID) -> uuid.UUID:
        # The practice is part of the id: a log found under the actor's practice is proof the
        # incident is that practice's, checked once when the log was started.
        return uuid.uuid5(CUSTODY_NAMESPACE, f"{practice_code(practice)}/{incident_id}")

    @event("Started")
    def __init__(self, practice: str, incident_id: uuid.UUID) -> None:
        self.practice = practice_code(practice)
        self.incident_id = incident_id
        self.accesses: list[Access] = []

    class TimelineViewed(Record.Event):
        role: str
        request_id: uuid.UUID | None

        def access(self) -> Access:
            return Access(VIEWED, self.timestamp, self.actor, self.actor_name, self.role, self.request_id)

        def apply(self, log: IncidentAccessLog) -> None:  # type: ignore[override]
            log.accesses.append(self.access())

    class TimelineExported(Record.Event):
        role: str
        request_id: uuid.UUID
        fingerprint: str

        def access(self) -> Access:
            return Access(EXPORTED, self.timestamp, self.actor, self.actor_name, self.role, self.request_id, self.fingerprint)

        def apply(self, log: IncidentAccessLog) -> None:  # type: ignore[override]
            log.accesses.append(self.access())

    @staticmethod
    def following(event_class: type[Access_], log_id: uuid.UUID, last_version: int, **fields: Any) -> Access_:
        """The access event that follows the given version of an existing log, without replaying it."""
        return event_class(
            originator_id=log_id, originator_version=last_version + 1, timestamp=event_class.create_timestamp(), **fields
        )
