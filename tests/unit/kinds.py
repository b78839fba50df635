"""The two incident kinds as the unit tests report, answer and close them: one row of test data a kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from incidents.domain.acting import acting_as
from incidents.domain.filming import FilmingIncident
from incidents.domain.incident import Incident
from incidents.domain.recording import RecordingEpisode

ACTOR, ACTOR_NAME = "rita.reception", "Rita Reception"
MANAGER, MANAGER_NAME = "mo.manager", "Mo Manager"
POLICE_INCIDENT_NUMBER = "CAD 4521 25/11/25"


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def respond(incident: Incident, response: str, key: str | None = None, occurred_at: datetime | None = None, **extra) -> None:
    incident.respond(
        response,
        occurred_at or minutes_ago(10),
        key or f"response-{response}-{len(incident.responses)}",
        **extra,
    )


@dataclass(frozen=True, eq=False)  # a kind keys the tests' tables: by identity
class Kind:
    cls: type[Incident]
    facts: dict[str, Any]  # the kind's own facts of a valid report, as given
    response: str  # a response needing no earlier one, with a reference
    prerequisites: dict[str, str]  # a response that needs another first: that other one
    correction: tuple[str, str, str]  # a text fact, its reported value and another valid one
    outcome: str  # the outcome closed() closes with
    foreign_facts: tuple[str, ...] = field(default=())  # the other kind's facts, not correctable here
    normalised: dict[str, Any] = field(default_factory=dict)  # facts its Reported event stores otherwise than given

    @property
    def stored(self) -> dict[str, Any]:
        return {**self.facts, **self.normalised}

    def __str__(self) -> str:
        return self.cls.KIND

    def report(self, **overrides: Any) -> Incident:
        values = dict(
            practice="A81001",
            submission_key=f"{self.cls.KIND}-form-0001",
            occurred_at=minutes_ago(30),
            note="Seen at the front desk.",
            **self.facts,
        )
        values.update(overrides)
        return self.cls.report(**values)

    def reported(self, **overrides: Any) -> Incident:
        """A freshly reported incident whose Reported event has already been taken."""
        incident = self.report(**overrides)
        incident.collect_events()
        return incident

    def closed(self, **overrides: Any) -> Incident:
        incident = self.reported(**overrides)
        with acting_as(MANAGER, MANAGER_NAME):
            incident.close(self.outcome, "")
        incident.collect_events()
        return incident


FILMING = Kind(
    FilmingIncident,
    facts=dict(area="waiting_area", filmer="patient", people_captured="staff_and_patients", children_present="no"),
    response="PoliceCalled",
    prerequisites={"RefusedToStop": "AskedToStop"},
    correction=("area", "waiting_area", "reception"),
    outcome="resolved_at_desk",
    foreign_facts=("clinician", "nhs_number", "setting"),
)
RECORDING = Kind(
    RecordingEpisode,
    facts=dict(clinician="Dr Patel", setting="consulting_room", openness="announced", media="audio", nhs_number="943 476 5919"),
    response="CopyReceived",
    prerequisites={"CopyAddedToMedicalRecord": "CopyReceived"},
    correction=("clinician", "Dr Patel", "Dr Okafor"),
    outcome="no_further_action",
    foreign_facts=("area", "filmer", "children_present"),
    normalised=dict(nhs_number="9434765919"),
)
KINDS = [FILMING, RECORDING]
