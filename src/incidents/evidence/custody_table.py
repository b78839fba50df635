"""The chain of custody as the PDF shows it: consecutive views of the same record by the same
person (for the same request) within ten minutes share one row, with how many there were and
the first and last time. events.json keeps every entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .material import CustodyEntry

GROUPED_WITHIN = timedelta(minutes=10)


@dataclass(frozen=True)
class CustodyRow:
    first: CustodyEntry
    last: CustodyEntry
    count: int


def _key(entry: CustodyEntry) -> tuple[str, str, str, str] | None:
    """What a view has in common with the ones it may share a row with; None for anything else."""
    if not entry.record:
        return None
    return (entry.who.username, entry.record, entry.action, entry.request_id)


def custody_rows(entries: tuple[CustodyEntry, ...] | list[CustodyEntry]) -> list[CustodyRow]:
    """The entries in their order, each run of the same view within ten minutes of its first as one row."""
    rows: list[CustodyRow] = []
    for entry in entries:
        if rows:
            row = rows[-1]
            key = _key(entry)
            if key is not None and key == _key(row.first) and entry.at - row.first.at <= GROUPED_WITHIN:
                rows[-1] = CustodyRow(row.first, entry, row.count + 1)
                continue
        rows.append(CustodyRow(entry, entry, 1))
    return rows
