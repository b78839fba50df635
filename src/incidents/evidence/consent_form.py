"""The printable consent form for a recording the practice makes: plain English, from the record,
with the patient's right to withdraw and a signature block (Typst, as the evidence timeline is)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import typst

from ..domain.practice_recording import AUDIENCES, PURPOSES, PracticeRecording
from .pdf import _fonts

TEMPLATE = Path(__file__).with_name("consent_form.typ")


def _day(day) -> str:  # type: ignore[no-untyped-def]
    return f"{day.day} {day:%B %Y}"


def consent_form_data(recording: PracticeRecording, practice: str) -> dict[str, object]:
    """The form's words: the consent as recorded if there is one, else what the recording is for."""
    consent = recording.consent
    purposes = consent.purposes if consent else (recording.purpose,)
    audiences = consent.audiences if consent else tuple(AUDIENCES)
    keep = (
        f"Until {_day(consent.keep_until)}. After that date it is destroyed, and never used."
        if consent else "Until the date written here: ____________. After that date it is destroyed, and never used."
    )
    return {
        "practice": practice,
        "ref": recording.ref,
        "medium": {"video": "a video", "audio": "an audio"}[recording.medium],
        "intro": (
            "We would like to record your consultation. You do not have to agree: saying no will not change "
            "your care in any way. Please read this form, ask us anything you are unsure of, and sign it only "
            "if you are happy. We do not start recording until you have agreed."
        ),
        "patient": f"NHS number {recording.patient}",
        "clinician": recording.clinician,
        "recorded_on": _day(recording.recorded_on),
        "purpose": recording.purpose_label,
        "purposes": [PURPOSES[p] for p in purposes],
        "audiences": [AUDIENCES[a] for a in audiences],
        "circumstances": consent.circumstances if consent else "Only for the purposes above, in private, never in public or online.",
        "keep": keep,
        "review": (
            "You may see or hear the recording before it is used. Tell us if you would like to: we will not "
            "use it until you have."
        ),
        "withdraw": (
            "You can change your mind at any time, before or after the recording, without giving a reason. "
            "You can ask us to show it to fewer people or use it for less, or withdraw your consent altogether. "
            "If you withdraw, we will not use the recording again and we will destroy it. Tell any member of "
            f"staff, or write to the practice, quoting reference {recording.ref}. We keep the recording as "
            "carefully as your medical record, and a note of your consent goes in your medical record."
        ),
    }


def consent_form_pdf(recording: PracticeRecording, practice: str) -> bytes:
    result = typst.compile(
        str(TEMPLATE),
        font_paths=_fonts(),
        sys_inputs={"data": json.dumps(consent_form_data(recording, practice))},
        timestamp=datetime.now(timezone.utc).replace(microsecond=0),
    )
    assert isinstance(result, bytes)
    return result
