"""Recordings the practice makes: the list, a new record, and one record's page with its consent,
review, variation, withdrawal, uses and destruction, the printable consent form, and the note for
the medical record. The file itself never reaches the server: its fingerprint is worked out in
the browser (static/fingerprint.js), or pasted from sha256sum where there is no JavaScript."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from incidents.application import practice_recordings as p
from incidents.application.records import uk_today
from incidents.application.service import Actor, IncidentLog
from incidents.domain.practice_recording import AUDIENCES, CONSENT_FORMS, CONSENT_STATES, HAPPENINGS, MEDIA, PURPOSES, REVIEW_ANSWERS, PracticeRecording
from incidents.evidence.consent_form import consent_form_pdf

from .deps import Form, Log, allow, every_value, page
from .forms import FormInvalid
from .record_page import NewRecordForm, RecordPage

router = APIRouter(prefix="/recordings", tags=["recordings"])

Reader = Annotated[Actor, Depends(allow(*p.RECORDING_READERS))]
Maker = Annotated[Actor, Depends(allow(*p.RECORDING_MAKERS))]
Keeper = Annotated[Actor, Depends(allow(*p.RECORDING_KEEPERS))]
Purposes = Annotated[list[str], Depends(every_value("purposes"))]
Audiences = Annotated[list[str], Depends(every_value("audiences"))]

SAVED = {
    "consent": "The consent is on record. Print the form for the patient to sign if they have not, and add the note to their medical record.",
    "file": "The file's fingerprint is on record. The file stays where it is kept; it was not sent here.",
    "review_offered": "The patient's answer to the offer of a review is on record.",
    "reviewed": "The patient's review is on record.",
    "varied": "The narrower consent is on record. Uses outside it are refused from now on.",
    "withdrawn": "The withdrawal is on record. The recording must not be used; the practice manager's action queue asks for it to be destroyed.",
    "noted": "Thank you: the note is recorded as added to the medical record.",
    "used": "The use is on record.",
    "destroyed": "The destruction is on record.",
}
ERRORS = {
    "nhs_number": "Enter the patient's NHS number",
    "clinician": "Enter the clinician who makes the recording",
    "kept_at": "Enter where the file is kept (a folder or system, not the file itself)",
    "sha256": "Pick the file to work out its fingerprint, or paste the SHA-256 that sha256sum prints",
    "size": "Enter the file's size in bytes",
    "circumstances": "Say in which circumstances it may be shown",
    "shown_to_names": "Enter who saw or heard it, by name or role",
    "how": "Say how",
    "reason": "Say what the patient asked for",
    "form": "Choose how consent was given",
    "answer": "Choose the patient's answer",
    "purpose": "Choose the purpose",
    "medium": "Choose video or audio",
    "shown_to": "Choose who saw or heard it",
}


def worded(invalid: FormInvalid) -> dict[str, str]:
    """A missing answer in this page's words; any other message stays as it is."""
    blank = lambda t: t.startswith("Enter ") and "real date" not in t or t.startswith("Input should")  # noqa: E731
    return {f: ERRORS[f] if f in ERRORS and blank(t) else t for f, t in invalid.errors.items()}


FILTER_MAX_CHARS = 200  # a longer value is refused before it is looked at


@router.get("")
def recordings(
    request: Request, actor: Reader, log: Log, purpose: str = "", consent: str = "", clinician: str = "", month: str = "", happened: str = ""
):
    """The practice's recordings, newest first, filtered as asked; a filter it does not know is a 422 with its error summary."""
    chosen = p.RecordingFilter(*(v.strip()[:FILTER_MAX_CHARS] for v in (purpose, consent, clinician, month, happened)))
    errors = chosen.errors
    rows = [] if errors else [r for r in log.practice_recordings(actor)[::-1] if chosen.keeps(r)]
    context = page(
        request, actor, rows=rows, makes=actor.holds(*p.RECORDING_MAKERS), errors=errors, filters=chosen,
        filtered=any((chosen.purpose, chosen.consent, chosen.clinician, chosen.month)), purposes=PURPOSES, consent_states=CONSENT_STATES,
        happenings=HAPPENINGS,
    )
    return request.app.state.render(request, "practice_recordings.jinja", context, status_code=422 if errors else 200)


NEW_RECORDING = NewRecordForm(
    "practice_recording_new.jinja", "/recordings/{}", lambda: {"purposes": PURPOSES, "media": MEDIA},
    lambda: {"submission_key": uuid.uuid4().hex, "recorded_on": uk_today().isoformat()}, worded,
)
NEW_RECORDING.routes(router, Maker, p.MakeRecording, IncidentLog.make_recording)


def entry(e: Any) -> dict[str, Any]:
    """One event of the record as its timeline and chain of custody show it."""
    title, details = p.event_in_words(e)
    return {"title": title, "recorded_at": e.timestamp, "actor_name": getattr(e, "actor_name", ""), "details": details, "use": type(e).__name__ == "Used"}


def describe(request: Request, actor: Actor, log: IncidentLog, recording: PracticeRecording, shown: dict[str, Any]) -> dict[str, Any]:
    today = uk_today().isoformat()
    consent = recording.consent
    fresh = {
        "given_on": recording.recorded_on.isoformat(), "keep_until": "", "reviewed_on": today, "withdrawn_on": today, "noted_on": today,
        "used_on": today, "destroyed_on": today,
        "purposes": list(consent.purposes) if consent else [recording.purpose],
        "audiences": list(consent.audiences) if consent else [],
    }
    return {
        "recording": recording,
        "fingerprint": Markup('<code class="app-fingerprint">{}</code><br>{} bytes').format(recording.sha256, f"{recording.size:,}"),
        "timeline": [entry(e) for e in log.practice_recording_history(actor, recording.id)],
        "values": {**fresh, **shown["values"]},
        "consent_purposes": "; ".join(PURPOSES[x] for x in consent.purposes) if consent else "",
        "consent_audiences": "; ".join(AUDIENCES[x] for x in consent.audiences) if consent else "",
        "purposes": PURPOSES, "audiences": AUDIENCES, "consent_forms": CONSENT_FORMS, "review_answers": REVIEW_ANSWERS,
        "makes": actor.holds(*p.RECORDING_MAKERS), "keeps": actor.holds(*p.RECORDING_KEEPERS),
    }


RECORDING = RecordPage("practice_recording.jinja", "/recordings/{}?saved={}#saved", "recording_id", IncidentLog.get_practice_recording, describe, SAVED, worded)


@router.get("/{recording_id}")
def show_recording(request: Request, recording_id: UUID, actor: Reader, log: Log, saved: str = ""):
    return RECORDING.show(request, actor, log, recording_id, saved=saved)


@router.get("/{recording_id}/consent-form.pdf")
def consent_form(recording_id: UUID, actor: Reader, log: Log) -> Response:
    recording = log.get_practice_recording(actor, recording_id)
    details = log.practice_details(actor.practice)
    pdf = consent_form_pdf(recording, details.name if details is not None else actor.practice)
    headers = {"Content-Disposition": f'attachment; filename="consent-{recording.ref or recording.id}.pdf"', "Cache-Control": "no-store"}
    return Response(pdf, media_type="application/pdf", headers=headers)


def _ticked(form_name: str, model: type, method: Any):
    """A change whose form has boxes to tick (purposes, audiences): every ticked value is kept."""

    def change(request: Request, recording_id: UUID, actor: Maker, form: Form, log: Log, purposes: Purposes, audiences: Audiences) -> Response:
        return RECORDING.change(request, actor, log, recording_id, form_name, {**form, "purposes": purposes, "audiences": audiences}, model, lambda cmd, a: method(log, cmd, a))

    return change


router.post("/{recording_id}/consent", name="consent")(_ticked("consent", p.GiveConsent, IncidentLog.give_consent))
router.post("/{recording_id}/vary", name="varied")(_ticked("varied", p.VaryConsent, IncidentLog.vary_consent))
RECORDING.change_routes(router, Maker, {
    "file": ("file", p.RegisterFile, IncidentLog.register_file),
    "review-offered": ("review_offered", p.OfferReview, IncidentLog.offer_review),
    "reviewed": ("reviewed", p.RecordReview, IncidentLog.record_review),
    "withdraw": ("withdrawn", p.WithdrawConsent, IncidentLog.withdraw_consent),
    "noted": ("noted", p.NoteInMedicalRecord, IncidentLog.note_in_medical_record),
})
RECORDING.change_routes(router, Keeper, {
    "uses": ("used", p.RecordUse, IncidentLog.record_use),
    "destroy": ("destroyed", p.DestroyRecording, IncidentLog.destroy_recording),
})
