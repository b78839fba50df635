"""Someone filmed in reception or a waiting area, where staff and other patients are present.

This is not a data-protection matter but may breach the practice's policy. Staff can explain
the policy, point to the notice, ask the person to stop and to delete footage (deletion cannot
be compelled), call the manager, send a warning letter and, in serious cases, call the police.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from .incident import OCCURRED_AT, DomainError, Fact, Incident, ResponseOutOfOrder, ResponseType, reported_event
from .recording import nhs_number_or_blank, shown_nhs_number
from .values import SHORT_TEXT_MAX_CHARS, InvalidValue, bounded_text, months_before

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


REMOVAL_GUIDANCE = (
    "Under the GMS regulations a practice may remove a patient from its list only after warning "
    "that same patient in the previous 12 months, or at once when it reported the incident to "
    "the police (give the police incident number). A warning letter on another incident counts "
    "when both incidents give the patient's NHS number: add it here with a correction if it is "
    "missing, or send a warning letter first."
)
VISITOR_DESCRIPTION_MAX_CHARS = 80


class RemovalNotJustified(DomainError):
    pass


class WhoFilmedDisagrees(InvalidValue):
    """A detail of who filmed that does not fit the kind of person chosen; `field` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _visitor_description(value: str) -> str:
    return bounded_text(value, VISITOR_DESCRIPTION_MAX_CHARS, "The description")


def person_filming(filmer: str, nhs_number: str, description: str) -> str:
    """Who filmed, as the dashboard may say it: never the NHS number in full."""
    if filmer == "patient" and nhs_number:
        return f"a patient (NHS number ending {nhs_number.replace(' ', '')[-3:]})"
    if filmer == "visitor" and description:
        return f"a visitor ({description})"
    return FILMERS.get(filmer, "").lower()


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
        Fact(
            "filmer_nhs_number", "NHS number of the patient filming", "Patient's NHS number (optional)",
            "10 digits, so that a warning letter and a removal from the list are tied to this patient.",
            parser=nhs_number_or_blank, stored=shown_nhs_number, numeric=True, patient=True, added_later=True,
            asked_with=("filmer", "patient"),
        ),
        Fact(
            "filmer_description", "Description of the visitor filming", "Describe the visitor (optional)",
            "For example: man in a grey hoodie, partner of a patient. Do not write a patient's details here.",
            parser=_visitor_description, added_later=True, asked_with=("filmer", "visitor"),
        ),
        Fact("people_captured", "Who was filmed", "Who was filmed?", choices=PEOPLE_CAPTURED, missing="Choose who was filmed", default="unknown"),
        Fact("children_present", "Children present", "Were children present?", choices=CHILDREN_PRESENT, missing="Choose whether children were present", default="unknown"),
        OCCURRED_AT,
    )
    Reported = reported_event(FACTS)

    @classmethod
    def check_facts(cls, facts: Mapping[str, Any]) -> None:
        if facts.get("filmer_nhs_number") and facts.get("filmer") != "patient":
            raise WhoFilmedDisagrees("An NHS number is only for a patient: choose 'A patient' or leave the NHS number blank", "filmer_nhs_number")
        if facts.get("filmer_description") and facts.get("filmer") != "visitor":
            raise WhoFilmedDisagrees("A description is only for a visitor: choose 'A visitor' or leave the description blank", "filmer_description")

    @property
    def patient_filming(self) -> str:
        """The NHS number of the patient who filmed, when the incident names one ('' otherwise)."""
        return self.filmer_nhs_number if self.filmer == "patient" else ""

    @property
    def person(self) -> str:
        """Who filmed, as the dashboard may say it."""
        return person_filming(self.filmer, self.filmer_nhs_number, self.filmer_description)

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

    def check_response_allowed(self, name: str, occurred_at: datetime, reference: str, related: Sequence[Incident] = ()) -> None:
        if name == "RefusedToStop" and "AskedToStop" not in self.responses:
            raise ResponseOutOfOrder("Record that the person was asked to stop before recording a refusal")
        if name == "RemovalRequested":
            self.check_removal_justified(occurred_at, reference, related)

    def warnings_to_same_person(self, related: Iterable[Incident]) -> list[datetime]:
        """When warning letters went to this incident's filmer: this incident's own, and those of
        the related incidents naming the same patient by NHS number (a visitor, or a person not
        named, is known only within this incident)."""
        sent = list(self.response_times.get("WarningLetterSent", []))
        if self.patient_filming:
            for other in related:
                if isinstance(other, FilmingIncident) and other.id != self.id and other.patient_filming == self.patient_filming:
                    sent += other.response_times.get("WarningLetterSent", [])
        return sent

    def check_removal_justified(self, occurred_at: datetime, police_incident_number: str, related: Iterable[Incident] = ()) -> None:
        """Removal needs a warning to the same person in the previous 12 months, or a police incident number."""
        if police_incident_number:
            return
        window_start = months_before(occurred_at, WARNING_VALIDITY_MONTHS)
        if not any(window_start <= sent <= occurred_at for sent in self.warnings_to_same_person(related)):
            raise RemovalNotJustified(
                "Removal from the list needs a warning letter to the same person sent within the previous 12 months, "
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
            guidance="Needs a warning letter to the same patient within the previous 12 months, or a police incident number. "
            "An immediate removal must be reported within 7 days.",
        ),
    ]
}
