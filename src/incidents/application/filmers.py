"""The patients who filmed: for each patient a filming incident names by NHS number, a log of the
incidents that named them, so that a removal from the list finds the warning letters that same
patient was given on other incidents. A log is named by the patient's blind index entry under the
patient index key (patient_index.py), never by the number, and is written in the same
transaction as the report or correction that names the patient."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, EventSourcedLog

from ..domain.filming import FilmingIncident
from ..domain.incident import Incident
from ..domain.practice_lists import Listed, list_id
from .patient_index import PatientIndex


class PatientsFilming:
    def __init__(self, records: Application) -> None:
        self._records = records
        self._index: PatientIndex | None = None

    def _log(self, practice: str, number: str) -> EventSourcedLog[Listed]:
        if self._index is None:
            self._index = PatientIndex.from_env(self._records.env)
        return EventSourcedLog(self._records.events, list_id(practice, f"filming-patient/{self._index.token(number)}"), Listed)

    def links(self, incident: Incident, named_before: str = "") -> list[Listed]:
        """The entry that puts the incident on its patient's log, when it names a patient it did not before."""
        number = getattr(incident, "patient_filming", "")
        if not number or number == named_before:
            return []
        return [self._log(incident.practice, number).trigger_event(entry=incident.id)]

    def related(self, incident: Incident) -> list[Incident]:
        """The practice's other filming incidents that have named the incident's patient (the
        domain checks which still do)."""
        number = getattr(incident, "patient_filming", "")
        if not number:
            return []
        ids: dict[UUID, None] = dict.fromkeys(e.entry for e in self._log(incident.practice, number).get() if isinstance(e, Listed))
        found: list[Incident] = []
        for incident_id in ids.keys() - {incident.id}:
            try:
                other = self._records.repository.get(incident_id)
            except AggregateNotFoundError:
                continue
            if isinstance(other, FilmingIncident) and other.practice == incident.practice:
                found.append(other)
        return found
