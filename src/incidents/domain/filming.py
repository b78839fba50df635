"""Someone filmed in reception or a waiting area, where staff and other patients are present.

This is not a data-protection matter but may breach the practice's policy. Staff can explain
the policy, point to the notice, ask the person to stop and to delete footage (deletion cannot
be compelled), call the manager, send a warning letter and, in serious cases, call the police.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from eventsourcing.domain import event

from .incident import OCCURRED_AT, DomainError, Field, Incident, ResponseOutOfOrder, ResponseType
from .values import NOTE_MAX_CHARS, bounded_text, choice, months_before, past_time, practice_code

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
    TITLE: ClassVar[str] = "Someone filmed in the practice"
    OUTCOMES: ClassVar[dict[str, str]] = {
        "resolved_at_desk": "Resolved at the desk",
        "footage_deleted": "Footage deleted in front of staff",
        "warning_letter": "Warning letter sent",
        "police_involved": "Police involved",
        "removal_from_list": "Removal from the list requested",
        "no_further_action": "No further action",
    }
    FIELDS: ClassVar[dict[str, Field]] = {
        "occurred_at": OCCURRED_AT,
        "area": Field("Where", lambda v: choice(v, AREAS, "The area")),
        "filmer": Field("Who was filming", lambda v: choice(v, FILMERS, "Who was filming")),
        "people_captured": Field("Who was filmed", lambda v: choice(v, PEOPLE_CAPTURED, "Who was filmed")),
        "children_present": Field("Children present", lambda v: choice(v, CHILDREN_PRESENT, "Children present")),
    }

    @event("Reported")
    def __init__(
        self,
        practice: str,
        submission_key: str,
        occurred_at: datetime,
        area: str,
        filmer: str,
        people_captured: str,
        children_present: str,
        note: str,
    ) -> None:
        self._report(practice, occurred_at, note)
        self.area = area
        self.filmer = filmer
        self.people_captured = people_captured
        self.children_present = children_present

    @classmethod
    def report(
        cls,
        practice: str,
        submission_key: str,
        occurred_at: datetime,
        area: str,
        filmer: str,
        people_captured: str,
        children_present: str,
        note: str,
    ) -> FilmingIncident:
        return cls(
            practice=practice_code(practice),
            submission_key=submission_key,
            occurred_at=past_time(occurred_at),
            area=choice(area, AREAS, "The area"),
            filmer=choice(filmer, FILMERS, "Who was filming"),
            people_captured=choice(people_captured, PEOPLE_CAPTURED, "Who was filmed"),
            children_present=choice(children_present, CHILDREN_PRESENT, "Children present"),
            note=bounded_text(note, NOTE_MAX_CHARS),
        )

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
