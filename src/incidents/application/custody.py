"""The access audit in the application: each view of an incident's timeline, and each export, is
appended to the incident's own access log, and read back as its chain of custody."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..domain.custody import Access, Access_, IncidentAccessLog
from ..domain.disclosure import DisclosureRequest
from .records import Actor, Records, RequestNotFound, Saved

CUSTODY_READERS = ("manager", "governance")


class AccessAudit(Records):
    def record_view(self, actor: Actor, incident_id: UUID, request_id: UUID | None = None) -> Saved:
        """One view of an incident's timeline, by anyone who may see the incident.

        A view is one indexed read (the log's last version) and one small write; the incident
        itself is loaded only the first time, to prove it is the actor's practice's.
        """
        if request_id is not None:
            self.get(actor, request_id, DisclosureRequest, RequestNotFound)
        log_id = IncidentAccessLog.create_id(actor.practice, incident_id)
        return self.saving(
            actor,
            lambda: (log_id, [self._next_access(actor, incident_id, IncidentAccessLog.TimelineViewed, request_id=request_id)]),
        )

    def custody_chain(self, actor: Actor, incident_id: UUID, latest: int | None = None) -> list[Access]:
        """Every view and export of the incident's timeline, oldest first; or only the latest
        ones, read from the end of the log without replaying the rest (a page shows those)."""
        actor.require(*CUSTODY_READERS)
        self.get_incident(actor, incident_id)
        log_id = IncidentAccessLog.create_id(actor.practice, incident_id)
        events = self.events.get(log_id, desc=latest is not None, limit=latest)
        accesses = [e.access() for e in events if hasattr(e, "access")]
        return accesses if latest is None else accesses[::-1]

    def custody_count(self, actor: Actor, incident_id: UUID) -> int:
        """How many views and exports the chain holds (one indexed read)."""
        actor.require(*CUSTODY_READERS)
        self.get_incident(actor, incident_id)
        last = self.recorder.select_events(IncidentAccessLog.create_id(actor.practice, incident_id), desc=True, limit=1)
        return last[0].originator_version - 1 if last else 0  # version 1 started the log

    def _next_access(self, actor: Actor, incident_id: UUID, access: type[Access_], **fields: Any) -> Any:
        """What to save for one more access: a new log with it, or the event after the last one."""
        log_id = IncidentAccessLog.create_id(actor.practice, incident_id)
        last = self.recorder.select_events(log_id, desc=True, limit=1)
        if last:
            return IncidentAccessLog.following(access, log_id, last[0].originator_version, role=", ".join(actor.roles), **fields)
        incident = self.get_incident(actor, incident_id)
        log = IncidentAccessLog(practice=incident.practice, incident_id=incident.id)
        log.trigger_event(access, role=", ".join(actor.roles), **fields)
        return log
