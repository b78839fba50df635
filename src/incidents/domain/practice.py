"""A practice's own details: the name and address that go with its ODS code, so that evidence
bundles and their records certificate name the practice as people know it. One record per
practice, its id made from the ODS code; every change is an event with who made it."""

from __future__ import annotations

import uuid

from eventsourcing.domain import event

from .acting import Record
from .values import SHORT_TEXT_MAX_CHARS, InvalidValue, practice_code, required_text

PRACTICE_NAMESPACE = uuid.UUID("5d0f3c1e-8a52-4e8b-b7a4-1c9e6f2d7a30")
ADDRESS_MAX_CHARS = 300


def practice_name(value: str) -> str:
    name = required_text(value, SHORT_TEXT_MAX_CHARS, "The practice's name", InvalidValue("Enter the practice's name"))
    if "\n" in name:
        raise InvalidValue("The practice's name is one line")
    return name


def practice_address(value: str) -> str:
    return required_text(value, ADDRESS_MAX_CHARS, "The address", InvalidValue("Enter the practice's address"))


class PracticeDetails(Record):
    @staticmethod
    def create_id(practice: str) -> uuid.UUID:
        return uuid.uuid5(PRACTICE_NAMESPACE, practice_code(practice))

    @event("Described")
    def __init__(self, practice: str, name: str, address: str) -> None:
        self.practice = practice
        self.name = name
        self.address = address

    @classmethod
    def describe(cls, practice: str, name: str, address: str) -> PracticeDetails:
        return cls(practice=practice_code(practice), name=practice_name(name), address=practice_address(address))

    def redescribe(self, name: str, address: str) -> bool:
        """Whether anything changed (the same details again record nothing)."""
        name, address = practice_name(name), practice_address(address)
        if (name, address) == (self.name, self.address):
            return False
        self._redescribed(name, address)
        return True

    @event("Redescribed")
    def _redescribed(self, name: str, address: str) -> None:
        self.name = name
        self.address = address

    @property
    def title(self) -> str:
        """The practice as documents name it: "Riverside Surgery (A81001)"."""
        return f"{self.name} ({self.practice})"
