"""A patient recorded, or is recording, a consultation.

Patients process their own information for domestic purposes: this is not a data-protection
breach and needs no consent. Staff cannot insist it stops and must not refuse treatment. The
practice may ask the patient to record openly and to share a copy for the medical record.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from eventsourcing.domain import event

from .incident import OCCURRED_AT, Field, Incident, ResponseOutOfOrder, ResponseType
from .values import (
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    InvalidValue,
    bounded_text,
    choice,
    format_nhs_number,
    nhs_number,
    past_time,
    practice_code,
)

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


def _nhs_number_or_blank(value: str) -> str:
    return nhs_number(value) if (value or "").strip() else ""


def _clinician(value: str) -> str:
    text = bounded_text(value, SHORT_TEXT_MAX_CHARS, "The clinician")
    if not text:
        raise InvalidValue("Say which clinician (a name or a role)")
    return text


class RecordingEpisode(Incident):
    KIND: ClassVar[str] = "recording"
    TITLE: ClassVar[str] = "A patient recorded a consultation"
    OUTCOMES: ClassVar[dict[str, str]] = {
        "copy_added_to_record": "Copy added to the medical record",
        "recorded_openly": "Patient agreed to record openly",
        "patient_declined_to_share": "Patient declined to share a copy",
        "no_further_action": "No further action",
        "referred": "Referred to the defence organisation or governance lead",
    }
    FIELDS: ClassVar[dict[str, Field]] = {
        "occurred_at": OCCURRED_AT,
        "clinician": Field("Clinician", _clinician),
        "setting": Field("Setting", lambda v: choice(v, SETTINGS, "The setting")),
        "openness": Field("How it came to light", lambda v: choice(v, OPENNESS, "Openness")),
        "media": Field("Media", lambda v: choice(v, MEDIA, "The media")),
        "nhs_number": Field("NHS number", _nhs_number_or_blank, format_nhs_number),
    }

    @event("Reported")
    def __init__(
        self,
        practice: str,
        submission_key: str,
        occurred_at: datetime,
        clinician: str,
        setting: str,
        openness: str,
        media: str,
        nhs_number: str,
        note: str,
    ) -> None:
        self._report(practice, occurred_at, note)
        self.clinician = clinician
        self.setting = setting
        self.openness = openness
        self.media = media
        self.nhs_number = nhs_number

    @classmethod
    def report(
        cls,
        practice: str,
        submission_key: str,
        occurred_at: datetime,
        clinician: str,
        setting: str,
        openness: str,
        media: str,
        nhs_number: str,
        note: str,
    ) -> RecordingEpisode:
        return cls(
            practice=practice_code(practice),
            submission_key=submission_key,
            occurred_at=past_time(occurred_at),
            clinician=_clinician(clinician),
            setting=choice(setting, SETTINGS, "The setting"),
            openness=choice(openness, OPENNESS, "Openness"),
            media=choice(media, MEDIA, "The media"),
            nhs_number=_nhs_number_or_blank(nhs_number),
            note=bounded_text(note, NOTE_MAX_CHARS),
        )

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

    def check_response_allowed(self, name: str, occurred_at: datetime, reference: str) -> None:
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
