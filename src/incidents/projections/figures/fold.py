"""The dashboard figures folded in memory (see folding.py): each incident's row, and every
counter's change since the last flush, times as the view stores them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from incidents.projections.folding import Fold

from . import COUNTERS, bucket_of

PRACTICE, KIND, MONTH, LOCATION, REPORTED_AT, STATUS, CLOSE_MONTH, OUTCOME, CLOSE_BUCKET, CLOSE_SECONDS, RESPONSES = range(11)


class FiguresFold(Fold):
    def __init__(self, loader: Any, stored: Callable[[datetime], Any], seconds: Callable[[Any, datetime], int]) -> None:
        self.seconds = seconds  # the whole seconds from a stored report time to a close
        super().__init__(loader, stored)

    def forget(self) -> None:
        self.incidents: dict[UUID, list[Any] | None] = {}
        self.changed: set[UUID] = set()
        self.deltas: dict[str, dict[tuple[Any, ...], list[int]]] = {table: {} for table in COUNTERS}
        self.tracking = None

    def held(self) -> int:
        return len(self.incidents)

    def drain(self) -> tuple[list[tuple[UUID, list[Any]]], dict[str, list[tuple[Any, ...]]]]:
        """The incidents changed since the last drain, and each counter's change, as
        (*key, count, seconds) for closes and (*key, count) for the others."""
        incidents = [(incident_id, self.incidents[incident_id]) for incident_id in self.changed]
        changes = {
            table: [(*key, count, seconds) if table == "figures_closes_by_month" else (*key, count) for key, (count, seconds) in deltas.items()]
            for table, deltas in self.deltas.items()
        }
        self.changed = set()
        self.deltas = {table: {} for table in COUNTERS}
        return incidents, changes

    def _incident(self, incident_id: UUID) -> list[Any] | None:
        return self._cached(self.incidents, incident_id, self.loader.figures_incident)  # type: ignore[no-any-return]

    def _count(self, table: str, key: tuple[Any, ...], by: int, seconds: int = 0) -> None:
        delta = self.deltas[table].setdefault(key, [0, 0])
        delta[0] += by
        delta[1] += seconds

    # What the projection calls -----------------------------------------------------------------

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, month: str, location: str, reported_at: datetime
    ) -> None:
        self.incidents[incident_id] = [practice, kind, month, location, self.stored(reported_at), "open", None, None, None, None, "{}"]
        self.changed.add(incident_id)
        self._count("figures_open", (practice, kind), +1)
        self._count("figures_incidents_by_month", (practice, month, kind, location), +1)

    def response_recorded(self, incident_id: UUID, response: str, month: str) -> None:
        row = self._incident(incident_id)
        if row is not None:
            self._count("figures_responses_by_month", (row[PRACTICE], month, row[KIND], response), +1)
            counted = json.loads(row[RESPONSES])  # kept on the row, so that a disposal can take them off again
            counted[f"{month} {response}"] = counted.get(f"{month} {response}", 0) + 1
            row[RESPONSES] = json.dumps(counted, sort_keys=True)
            self.changed.add(incident_id)

    def incident_moved(self, incident_id: UUID, month: str | None, location: str | None) -> None:
        row = self._incident(incident_id)
        if row is not None:
            practice, kind = row[PRACTICE], row[KIND]
            self._count("figures_incidents_by_month", (practice, row[MONTH], kind, row[LOCATION]), -1)
            row[MONTH] = month or row[MONTH]
            row[LOCATION] = location or row[LOCATION]
            self._count("figures_incidents_by_month", (practice, row[MONTH], kind, row[LOCATION]), +1)
            self.changed.add(incident_id)

    def incident_closed(self, incident_id: UUID, outcome: str, closed_at: datetime, month: str) -> None:
        row = self._incident(incident_id)
        if row is not None:
            practice, kind = row[PRACTICE], row[KIND]
            seconds = self.seconds(row[REPORTED_AT], closed_at)
            row[STATUS:RESPONSES] = ["closed", month, outcome, bucket_of(seconds), seconds]
            self._count("figures_open", (practice, kind), -1)
            self._count("figures_closes_by_month", (practice, month, kind, outcome, row[CLOSE_BUCKET]), +1, seconds)
            self.changed.add(incident_id)

    def incident_reopened(self, incident_id: UUID) -> None:
        row = self._incident(incident_id)
        if row is not None and row[STATUS] == "closed":
            practice, kind = row[PRACTICE], row[KIND]
            self._count("figures_closes_by_month", (practice, row[CLOSE_MONTH], kind, row[OUTCOME], row[CLOSE_BUCKET]), -1, -row[CLOSE_SECONDS])
            self._count("figures_open", (practice, kind), +1)
            row[STATUS:RESPONSES] = ["open", None, None, None, None]
            self.changed.add(incident_id)

    def incident_disposed(self, incident_id: UUID) -> None:
        """Every count of the incident taken off, and its row gone (the view drops it)."""
        row = self._incident(incident_id)
        if row is None:
            return
        practice, kind = row[PRACTICE], row[KIND]
        self._count("figures_incidents_by_month", (practice, row[MONTH], kind, row[LOCATION]), -1)
        if row[STATUS] == "closed":
            self._count("figures_closes_by_month", (practice, row[CLOSE_MONTH], kind, row[OUTCOME], row[CLOSE_BUCKET]), -1, -row[CLOSE_SECONDS])
        else:
            self._count("figures_open", (practice, kind), -1)
        for month_response, count in json.loads(row[RESPONSES]).items():
            month, response = month_response.split(" ", 1)
            self._count("figures_responses_by_month", (practice, month, kind, response), -count)
        self.incidents[incident_id] = None
        self.changed.discard(incident_id)
