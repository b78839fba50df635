"""Short references people can say on the phone: F-2026-0042 is the practice's 42nd filming
incident logged in 2026. Each practice numbers each kind of record per year, in the order they
are saved; a number is given once, in the same transaction as the record, and never changes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .values import practice_code

# Typed as people say or write it: "f 2026 42", "F-2026-0042", "f-2026-042".
_SAID = re.compile(r"^\s*([A-Za-z])\s*[-/ ]?\s*(\d{4})\s*[-/ ]?\s*(\d{1,6})\s*$")


@dataclass(frozen=True)
class Numbering:
    """One practice's numbers for one kind of record in one year."""

    practice: str
    prefix: str
    year: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "practice", practice_code(self.practice))

    @property
    def listing(self) -> str:
        """The name of the practice's log that keeps these numbers."""
        return f"references/{self.prefix}/{self.year}"

    def ref(self, number: int) -> str:
        return format_ref(self.prefix, self.year, number)


def format_ref(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:04d}"


def parse_ref(text: str, prefixes: str | None = None) -> str | None:
    """The reference a person typed, written as the app writes it, or None when it is not one."""
    said = _SAID.match(text or "")
    if said is None:
        return None
    prefix, year, number = said.group(1).upper(), int(said.group(2)), int(said.group(3))
    if (prefixes is not None and prefix not in prefixes) or number == 0:
        return None
    return format_ref(prefix, year, number)
