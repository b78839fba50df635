"""Incident summaries: one row per incident, for lists and today's incidents.

The view is an abstract TrackingRecorder; each database has its own module. Every change to a
row is written with its tracking position in one transaction, and every event advances the
tracking position, including events this projection ignores.

Free text (notes) and patient identifiers are not copied into the view: the events that hold
them are encrypted at rest, and a view must not undo that.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from incidents.domain.filming import FilmingIncident
from incidents.domain.incident import Incident
from incidents.domain.recording import RecordingEpisode


@dataclass(frozen=True)
class IncidentSummary:
    incident_id: UUID
    practice: str
    kind: str
    occurred_at: datetime
    reported_at: datetime
    location: str
    status: str = "open"
    last_response: str = ""
    last_response_at: datetime | None = None
    responses: int = 0
    notes: int = 0
    corrections: int = 0
    reviewed_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""


class IncidentSummaryView(TrackingRecorder, ABC):
    @abstractmethod
    def add(self, summary: IncidentSummary, tracking: Tracking) -> None: ...

    @abstractmethod
    def record_response(self, incident_id: UUID, name: str, at: datetime, tracking: Tracking) -> None: ...

    @abstractmethod
    def count_note(self, incident_id: UUID, tracking: Tracking) -> None: ...

    @abstractmethod
    def correct(self, incident_id: UUID, column: str | None, value: Any, tracking: Tracking) -> None:
        """Count a correction, and change the column when it is one the view holds."""

    @abstractmethod
    def mark_reviewed(self, incident_id: UUID, at: datetime, tracking: Tracking) -> None: ...

    @abstractmethod
    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, tracking: Tracking) -> None: ...

    @abstractmethod
    def mark_reopened(self, incident_id: UUID, tracking: Tracking) -> None: ...

    @abstractmethod
    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        """The practice's incidents reported in [start, end), newest first."""

    @abstractmethod
    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None: ...


CORRECTED_COLUMNS = {"occurred_at": "occurred_at", "area": "location", "setting": "location"}


class IncidentSummaries(Projection[IncidentSummaryView]):
    name = "incident_summaries"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, e: FilmingIncident.Reported, tracking: Tracking) -> None:
        self.view.add(self._summary(e, FilmingIncident.KIND, e.area), tracking)

    @process_event.register
    def _(self, e: RecordingEpisode.Reported, tracking: Tracking) -> None:
        self.view.add(self._summary(e, RecordingEpisode.KIND, e.setting), tracking)

    @staticmethod
    def _summary(e: Any, kind: str, location: str) -> IncidentSummary:
        return IncidentSummary(
            incident_id=e.originator_id,
            practice=e.practice,
            kind=kind,
            occurred_at=e.occurred_at,
            reported_at=e.timestamp,
            location=location,
            notes=1 if e.note else 0,
        )

    @process_event.register
    def _(self, e: Incident.Responded, tracking: Tracking) -> None:
        self.view.record_response(e.originator_id, type(e).__name__, e.occurred_at, tracking)

    @process_event.register
    def _(self, e: Incident.NoteAdded, tracking: Tracking) -> None:
        self.view.count_note(e.originator_id, tracking)

    @process_event.register
    def _(self, e: Incident.Corrected, tracking: Tracking) -> None:
        self.view.correct(e.originator_id, CORRECTED_COLUMNS.get(e.field), e.value, tracking)

    @process_event.register
    def _(self, e: Incident.Reviewed, tracking: Tracking) -> None:
        self.view.mark_reviewed(e.originator_id, e.timestamp, tracking)

    @process_event.register
    def _(self, e: Incident.Closed, tracking: Tracking) -> None:
        self.view.mark_closed(e.originator_id, e.outcome, e.timestamp, tracking)

    @process_event.register
    def _(self, e: Incident.Reopened, tracking: Tracking) -> None:
        self.view.mark_reopened(e.originator_id, tracking)
