"""A patient recorded, or is recording, a consultation.

Patients process their own information for domestic purposes: this is not a data-protection
breach and needs no consent. Staff cannot insist it stops and must not refuse treatment. The
practice may ask the patient to record openly and to share a copy for the medical record.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Sequence

from .incident import OCCURRED_AT, Fact, Incident, ResponseOutOfOrder, ResponseType, reported_event
from .values import SHORT_TEXT_MAX_CHARS, InvalidValue, bounded_text, format_nhs_number, nhs_number

SETTINGS = {
    "consulting_room": "Consulting room",
    "telephone": "Telephone consultation",
    "video": "Video consultation",
    "home_visit": "Home visit",
}
OPENNESS = {
    "announced": "Announced by the patient",
    "noticed_during": "Noticed during the consultation",
    "discovered_later": "Discovered later",
}
MEDIA = {"audio": "Audio", "video": "Video", "unknown": "Not known"}

GUIDANCE = (
    "Patients may record their own consultation, openly or not: it is not a data protection "
    "breach and needs no consent. You cannot insist that they stop, and you must not refuse "
    "treatment. You may ask them to record openly and to share a copy for their medical record."
)


def nhs_number_or_blank(value: str) -> str:
    return nhs_number(value) if (value or "").strip() else ""


def _clinician(value: str) -> str:
    text = bounded_text(value, SHORT_TEXT_MAX_CHARS, "The clinician")
    if not text:
        raise InvalidValue("Enter the clinician's name or role")
    return text


def shown_nhs_number(value: str) -> str:
    return format_nhs_number(value.replace(" ", ""))


class RecordingEpisode(Incident):
    KIND: ClassVar[str] = "recording"
    PREFIX: ClassVar[str] = "R"
    TITLE: ClassVar[str] = "A patient recorded a consultation"
    HEADING: ClassVar[str] = "A patient recorded their consultation"
    OUTCOMES: ClassVar[dict[str, str]] = {
        "copy_added_to_record": "Copy added to the medical record",
        "recorded_openly": "Patient agreed to record openly",
        "patient_declined_to_share": "Patient declined to share a copy",
        "no_further_action": "No further action",
        "referred": "Referred to the defence organisation or governance lead",
    }
    FACTS: ClassVar[tuple[Fact, ...]] = (
        Fact("clinician", "Clinician", "Which clinician?", "Name or role, for example Dr Shah or the practice nurse", parser=_clinician),
        Fact("setting", "Setting", "Where was the consultation?", choices=SETTINGS, missing="Choose the setting", location=True),
        Fact("openness", "How it came to light", "How did it come to light?", choices=OPENNESS, missing="Choose how it came to light"),
        Fact("media", "Media", "What was recorded?", choices=MEDIA, missing="Choose what was recorded", default="unknown"),
        Fact(
            "nhs_number", "NHS number", "Patient's NHS number (optional)",
            "10 digits. Leave blank if you do not know it.", parser=nhs_number_or_blank, stored=shown_nhs_number, numeric=True,
            patient=True,
        ),
        OCCURRED_AT,
    )
    Reported = reported_event(FACTS)
    ASKED_ON_HOME: ClassVar[str] = "openness"  # so that a usual recording is logged in four taps

    class AskedToRecordOpenly(Incident.Responded):
        pass

    class CopyRequested(Incident.Responded):
        pass

    class CopyReceived(Incident.Responded):
        pass

    class CopyAddedToMedicalRecord(Incident.Responded):
        pass

    class PatientDeclinedToShare(Incident.Responded):
        pass

    class FoundPublishedOnline(Incident.Responded):
        pass

    class DefenceOrganisationConsulted(Incident.Responded):
        pass

    def check_response_allowed(self, name: str, occurred_at: datetime, reference: str, related: Sequence[Incident] = ()) -> None:
        if name == "CopyAddedToMedicalRecord" and "CopyReceived" not in self.responses:
            raise ResponseOutOfOrder("Record that a copy was received before adding it to the medical record")


RecordingEpisode.RESPONSES = {
    r.name: r
    for r in [
        ResponseType(RecordingEpisode.AskedToRecordOpenly, "Asked the patient to record openly"),
        ResponseType(
            RecordingEpisode.CopyRequested,
            "Asked for a copy of the recording",
            guidance="A copy can be added to the patient's medical record. Follow up if none arrives in 14 days.",
        ),
        ResponseType(
            RecordingEpisode.CopyReceived,
            "Received a copy of the recording",
            reference_label="Fingerprint or file name of the copy (optional)",
        ),
        ResponseType(
            RecordingEpisode.CopyAddedToMedicalRecord,
            "Added the copy to the medical record",
            reference_label="Record reference (optional)",
        ),
        ResponseType(RecordingEpisode.PatientDeclinedToShare, "Patient declined to share a copy"),
        ResponseType(
            RecordingEpisode.FoundPublishedOnline,
            "Found the recording published online",
            reference_label="Where it was found (optional)",
            guidance="Tell the practice manager. Do not reply online.",
        ),
        ResponseType(
            RecordingEpisode.DefenceOrganisationConsulted,
            "Consulted the medical defence organisation",
            reference_label="Their reference (optional)",
        ),
    ]
}
