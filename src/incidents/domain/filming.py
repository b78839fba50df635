"""Someone filmed in reception or a waiting area, where staff and other patients are present.

This is not a data-protection matter but may breach the practice's policy. Staff can explain
the policy, point to the notice, ask the person to stop and to delete footage (deletion cannot
be compelled), call the manager, send a warning letter and, in serious cases, call the police.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from .incident import OCCURRED_AT, DomainError, Fact, Incident, ResponseOutOfOrder, ResponseType, reported_event
from .values import months_before

AREAS = {
    "reception": "Reception desk",
    "waiting_area": "Waiting area",
    "corridor": "Corridor",
    "entrance": "Entrance or car park",
    "other": "Somewhere else",
}
FILMERS = {"patient": "A patient", "visitor": "A visitor", "unknown": "Not known"}
PEOPLE_CAPTURED = {
    "staff": "Staff",
    "patients": "Other patients",
    "staff_and_patients": "Staff and other patients",
    "unknown": "Not known",
}
CHILDREN_PRESENT = {"yes": "Yes", "no": "No", "unknown": "Not known"}
WARNING_VALIDITY_MONTHS = 12

GUIDANCE = (
    "Filming in reception or the waiting area is a breach of the practice's policy, not of data "
    "protection law. Stay calm: explain the policy and point to the notice, ask the person to "
    "stop, and ask them to delete the footage (you cannot make them). Call the manager if it "
    "continues. Call the police only if anyone is at risk."
)


class RemovalNotJustified(DomainError):
    pass


class FilmingIncident(Incident):
    KIND: ClassVar[str] = "filming"
    PREFIX: ClassVar[str] = "F"
    TITLE: ClassVar[str] = "Someone filmed in the practice"
    HEADING: ClassVar[str] = "Someone is filming"
    HINT: ClassVar[str] = "In reception or the waiting area"
    OUTCOMES: ClassVar[dict[str, str]] = {
        "resolved_at_desk": "Resolved at the desk",
        "footage_deleted": "Footage deleted in front of staff",
        "warning_letter": "Warning letter sent",
        "police_involved": "Police involved",
        "removal_from_list": "Removal from the list requested",
        "no_further_action": "No further action",
    }
    FACTS: ClassVar[tuple[Fact, ...]] = (
        Fact("area", "Where", "Where?", choices=AREAS, missing="Choose where it happened", location=True),
        Fact("filmer", "Who was filming", "Who was filming?", choices=FILMERS, missing="Choose who was filming"),
        Fact("people_captured", "Who was filmed", "Who was filmed?", choices=PEOPLE_CAPTURED, missing="Choose who was filmed", default="unknown"),
        Fact("children_present", "Children present", "Were children present?", choices=CHILDREN_PRESENT, missing="Choose whether children were present", default="unknown"),
        OCCURRED_AT,
    )
    Reported = reported_event(FACTS)

    class PolicyExplained(Incident.Responded):
        pass

    class NoticePointedOut(Incident.Responded):
        pass

    class AskedToStop(Incident.Responded):
        pass

    class Stopped(Incident.Responded):
        pass

    class RefusedToStop(Incident.Responded):
        pass

    class AskedToDeleteFootage(Incident.Responded):
        pass

    class ManagerAttended(Incident.Responded):
        pass

    class PoliceCalled(Incident.Responded):
        pass

    class LeftPremises(Incident.Responded):
        pass

    class WarningLetterSent(Incident.Responded):
        pass

    class RemovalRequested(Incident.Responded):
        pass

    def check_response_allowed(self, name: str, occurred_at: datetime, reference: str) -> None:
        if name == "RefusedToStop" and "AskedToStop" not in self.responses:
            raise ResponseOutOfOrder("Record that the person was asked to stop before recording a refusal")
        if name == "RemovalRequested":
            self.check_removal_justified(occurred_at, reference)

    def check_removal_justified(self, occurred_at: datetime, police_incident_number: str) -> None:
        """Removal needs a warning in the previous 12 months, or a police incident number."""
        if police_incident_number:
            return
        warnings = self.response_times.get("WarningLetterSent", [])
        window_start = months_before(occurred_at, WARNING_VALIDITY_MONTHS)
        if not any(window_start <= sent <= occurred_at for sent in warnings):
            raise RemovalNotJustified(
                "Removal from the list needs a warning letter sent within the previous 12 months, "
                "or a police incident number for an immediate removal"
            )


FilmingIncident.RESPONSES = {
    r.name: r
    for r in [
        ResponseType(FilmingIncident.PolicyExplained, "Explained the practice's policy on filming"),
        ResponseType(FilmingIncident.NoticePointedOut, "Pointed out the notice about filming"),
        ResponseType(
            FilmingIncident.AskedToStop,
            "Asked them to stop filming",
            guidance="Ask calmly. You cannot take their phone.",
        ),
        ResponseType(FilmingIncident.Stopped, "They stopped filming"),
        ResponseType(FilmingIncident.RefusedToStop, "They refused to stop"),
        ResponseType(
            FilmingIncident.AskedToDeleteFootage,
            "Asked them to delete the footage",
            guidance="Deleting footage cannot be compelled; note what they said.",
        ),
        ResponseType(FilmingIncident.ManagerAttended, "The manager attended"),
        ResponseType(
            FilmingIncident.PoliceCalled,
            "Called the police",
            reference_label="Police reference (optional)",
            guidance="Only if anyone is at risk or the person will not leave.",
        ),
        ResponseType(FilmingIncident.LeftPremises, "They left the premises"),
        ResponseType(
            FilmingIncident.WarningLetterSent,
            "Sent a warning letter",
            reference_label="Letter reference (optional)",
        ),
        ResponseType(
            FilmingIncident.RemovalRequested,
            "Requested removal from the practice list",
            reference_label="Police incident number (needed for an immediate removal)",
            guidance="Needs a warning letter within the previous 12 months, or a police incident number. "
            "An immediate removal must be reported within 7 days.",
        ),
    ]
}
