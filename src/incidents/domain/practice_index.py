"""A practice's index of the records it keeps in small, exact lists (staff, notices, requests).

Views serve the large lists; these short ones must be exact the moment a record is made, so the
application saves the new record and its index entry in one transaction. Aggregates of other
kinds find no entry here, and one index exists per practice and kind of record.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

from .values import DomainError, practice_code

INDEX_NAMESPACE = uuid.UUID("c4d3a3f0-51a8-4c1e-9f6b-5a7d0f2e8b61")


class AlreadyListed(DomainError):
    pass


class PracticeIndex(Aggregate):
    @staticmethod
    def create_id(practice: str, listing: str) -> uuid.UUID:
        return uuid.uuid5(INDEX_NAMESPACE, f"{practice_code(practice)}/{listing}")

    @event("Started")
    def __init__(self, practice: str, listing: str) -> None:
        self.practice = practice_code(practice)
        self.listing = listing
        self.entries: list[uuid.UUID] = []

    def check_not_listed(self, entry: uuid.UUID) -> None:
        if entry in self.entries:
            raise AlreadyListed(f"{entry} is already in the {self.listing} index")

    def add(self, entry: uuid.UUID) -> None:
        self.check_not_listed(entry)
        self._add(entry)

    @event("Listed")
    def _add(self, entry: uuid.UUID) -> None:
        self.entries.append(entry)
