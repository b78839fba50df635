"""Short references for the incidents and requests saved before there were any: each is given
the next number of its practice, kind and the year it was saved in, in the order they were saved.
The service does it when it starts, until it has once found nothing left to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ..domain.disclosure import DisclosureRequest
from ..domain.incident import Incident
from ..domain.kinds import INCIDENT_KINDS
from ..domain.references import Numbering
from .records import UK, Actor, Records

PAGE = 1000
WHO = "incidents (short references)"


class EarlierReferences(Records):
    def give_missing_references(self, progress: Callable[[int, int], None] | None = None) -> int:
        """How many records were given a reference now."""
        found = self._records_without_reference(progress)
        for record_id, prefix in found:
            self._give_reference(record_id, prefix)
        return len(found)

    def _records_without_reference(self, progress: Callable[[int, int], None] | None) -> list[tuple[UUID, str]]:
        prefixes: dict[str, str] = {get_topic(k.Reported): k.PREFIX for k in INCIDENT_KINDS.values()}
        prefixes[get_topic(DisclosureRequest.Received)] = DisclosureRequest.PREFIX
        given = list({get_topic(k.Referenced) for k in (Incident, *INCIDENT_KINDS.values(), DisclosureRequest)})
        last = self.recorder.max_notification_id() or 0
        found: dict[UUID, str] = {}
        start = 1
        while start <= last:
            page = self.recorder.select_notifications(start, PAGE, stop=last, topics=[*prefixes, *given])
            if not page:
                break
            for notification in page:
                event: Any = self.mapper.to_domain_event(notification)
                if notification.topic in prefixes:
                    if not getattr(event, "ref", ""):
                        found[event.originator_id] = prefixes[notification.topic]
                else:
                    found.pop(event.originator_id, None)
            start = page[-1].id + 1
            if progress is not None:
                progress(page[-1].id, last)
        if progress is not None:
            progress(last, last)
        return list(found.items())

    def _give_reference(self, record_id: UUID, prefix: str) -> None:
        first = self.repository.get(record_id)
        numbering = Numbering(first.practice, prefix, first.created_on.astimezone(UK).year)

        def attempt() -> tuple[UUID, list[Any]]:
            record: Incident | DisclosureRequest = self.repository.get(record_id)
            if record.ref:  # another process gave it one meanwhile
                return record_id, []
            record.give_ref(self.references.next(numbering))
            return record_id, [record, self.references.entry(numbering, record_id, record.ref)]

        self.saving(Actor.process(WHO, first.practice), attempt, on_conflict=lambda: self.references.refresh(numbering))
