"""The access audit in the application: each view of an incident's timeline, and each export, is
appended to the incident's own access log, and read back as its chain of custody."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ..domain.custody import Access, IncidentAccessLog
from .records import RecordKeeping, _service

if TYPE_CHECKING:
    from .service import Actor, Saved

CUSTODY_READERS = ("manager", "governance")


class AccessAudit(RecordKeeping):
    """Mixed into IncidentLog: `self` is the application."""

    def record_view(self, actor: Actor, incident_id: UUID, request_id: UUID | None = None) -> Saved:
        """One view of an incident's timeline, by anyone who may see the incident.

        A view is one indexed read (the log's last version) and one small write; the incident
        itself is loaded only the first time, to prove it is the actor's practice's.
        """
        if request_id is not None:
            self._request_of(actor.practice, request_id)  # type: ignore[attr-defined]
        service = _service()
        for attempt in range(service.SAVE_ATTEMPTS):
            record = self._next_access(
                actor,
                incident_id,
                lambda log: log.view(actor.username, actor.display_name, actor.role, request_id),
                lambda log_id, version: IncidentAccessLog.next_view(
                    log_id, version, actor.username, actor.display_name, actor.role, request_id
                ),
            )
            try:
                recordings = self.save(record)  # type: ignore[attr-defined]
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.005) * (attempt + 1))
                continue
            return self._saved(IncidentAccessLog.create_id(actor.practice, incident_id), recordings)
        raise service.ConcurrentChange("Too many people were opening this incident at once: reload the page.")

    def custody_chain(self, actor: Actor, incident_id: UUID, latest: int | None = None) -> list[Access]:
        """Every view and export of the incident's timeline, oldest first; or only the latest
        ones, read from the end of the log without replaying the rest (a page shows those)."""
        actor.require(*CUSTODY_READERS)
        self.get_incident(actor, incident_id)  # type: ignore[attr-defined]
        log_id = IncidentAccessLog.create_id(actor.practice, incident_id)
        events = self.events.get(log_id, desc=latest is not None, limit=latest)  # type: ignore[attr-defined]
        accesses = [e.access() for e in events if hasattr(e, "access")]
        return accesses if latest is None else accesses[::-1]

    def custody_count(self, actor: Actor, incident_id: UUID) -> int:
        """How many views and exports the chain holds (one indexed read)."""
        actor.require(*CUSTODY_READERS)
        self.get_incident(actor, incident_id)  # type: ignore[attr-defined]
        last = self.recorder.select_events(IncidentAccessLog.create_id(actor.practice, incident_id), desc=True, limit=1)  # type: ignore[attr-defined]
        return last[0].originator_version - 1 if last else 0  # version 1 started the log

    def _next_access(self, actor: Actor, incident_id: UUID, first: Any, following: Any) -> Any:
        """What to save for one more access: a new log with it, or the event after the last one."""
        log_id = IncidentAccessLog.create_id(actor.practice, incident_id)
        last = self.recorder.select_events(log_id, desc=True, limit=1)  # type: ignore[attr-defined]
        if last:
            return following(log_id, last[0].originator_version)
        incident = self.get_incident(actor, incident_id)  # type: ignore[attr-defined]
        log = IncidentAccessLog(practice=incident.practice, incident_id=incident.id)
        first(log)
        return log
