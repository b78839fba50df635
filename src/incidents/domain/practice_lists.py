"""A practice's short, exact lists of the records it keeps (staff, notices, requests).

Views serve the large lists; these short ones must be exact the moment a record is made, so the
application saves a new record and its list entry in one transaction. Each list is a log of
entries (the library's EventSourcedLog), one per practice and kind of record. Stores written
before the lists were logs hold the same streams as PracticeIndex aggregates: their events are
read as the log's own (their topics resolve here), so those lists go on from where they were.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import register_topic

from .values import practice_code

LIST_NAMESPACE = uuid.UUID("c4d3a3f0-51a8-4c1e-9f6b-5a7d0f2e8b61")


def list_id(practice: str, listing: str) -> uuid.UUID:
    return uuid.uuid5(LIST_NAMESPACE, f"{practice_code(practice)}/{listing}")


class ListEvent(DomainEvent):
    def mutate(self, aggregate: None) -> None:
        """A list is no aggregate: loading one by its id finds none (AggregateNotFoundError)."""


class Listed(ListEvent):
    """A record added to the list."""

    entry: uuid.UUID


class Started(ListEvent):
    """The first event of a list kept as a PracticeIndex aggregate: it lists nothing."""

    originator_topic: str
    practice: str
    listing: str


register_topic("incidents.domain.practice_index:PracticeIndex.Listed", Listed)
register_topic("incidents.domain.practice_index:PracticeIndex.Started", Started)
