"""Retention (governance): the review queue of records whose retention period has run, in date
order, with the records under legal hold; and each record's retention page, where a hold is
placed or lifted and a review decides to keep the record or to dispose of it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from incidents.application.records import uk_today
from incidents.application.retention import RecordNotFound, CarryOutDisposal, DisposeOfRecord, NoKeyOfItsOwn, KeepRecord, LiftHold, PlaceHold, RetentionState
from incidents.application.service import Actor, IncidentLog
from incidents.domain.kinds import INCIDENT_KINDS
from incidents.evidence.disposal_certificate import disposal_certificate
from incidents.domain.retention import HOLD_REASONS, SCHEDULE, NotAwaitingDisposal, hold_reason_phrase, RecordOnHold, ReviewDateNotLater
from incidents.projections.action_queue import DISCLOSURE

from .deps import Form, Governance, Log, caught_up_views, page
from .forms import FormInvalid
from .record_page import RecordPage

router = APIRouter(prefix="/retention")
QUEUE_SHOWN = 200

SAVED = {
    "held": "The legal hold is placed: the record cannot be decided for disposal until it is lifted.",
    "lifted": "The legal hold is lifted.",
    "kept": "The decision to keep the record is recorded, with its next review date.",
    "disposed": "The decision to dispose of the record is recorded: it now awaits disposal. Nothing is erased yet.",
    "erased": "The record is disposed of: its key is destroyed, and nobody can read its events again.",
}
ERRORS = {
    "reason": "Enter the reason",
    "text": "Enter what the hold is for: the claim, complaint or case, and its reference",
    "review_on": "Enter the next review date",
    "authorised_by": "Enter who authorised the disposal",
}


def worded(invalid: FormInvalid) -> dict[str, str]:
    """A missing answer in this page's words; any other message stays as it is."""
    blank = lambda t: t.startswith("Enter ") and "real date" not in t and "between" not in t  # noqa: E731
    return {f: ERRORS[f] if f in ERRORS and blank(t) else t for f, t in invalid.errors.items()}


def kind_title(kind: str) -> str:
    return "Disclosure request" if kind == DISCLOSURE else INCIDENT_KINDS[kind].TITLE


def titled(ref: str, kind: str) -> str:
    """A record as a list names it: its short reference, then its kind."""
    return f"{ref}: {kind_title(kind)}" if ref else kind_title(kind)


def day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


# The review queue ----------------------------------------------------------------


@router.get("")
def review_queue(request: Request, actor: Governance, log: Log):
    projections = caught_up_views(request)
    now = datetime.now(timezone.utc)
    view = projections.view("action_queue")
    rows = [
        {
            "link": f"/retention/{r.record_id}", "title": titled(r.ref, r.kind), "due_at": r.due_at, "since": r.runs_from,
            "detail": f"Under legal hold: {hold_reason_phrase(r.hold_reason)}" if r.hold_reason else "",
        }
        for r in view.reviews_due(actor.practice, now, QUEUE_SHOWN)
    ]
    held = [
        {"link": f"/retention/{h.record_id}", "title": titled(h.ref, h.kind), "reason": h.reason_label, "since": h.since}
        for h in view.held(actor.practice, QUEUE_SHOWN)
    ]
    context = page(request, actor, rows=rows, held=held, schedule=SCHEDULE.values())
    return request.app.state.render(request, "retention.jinja", context)


# One record's retention ----------------------------------------------------------


def retention_context(request: Request, actor: Actor, log: IncidentLog, state: RetentionState, shown: dict[str, Any]) -> dict[str, Any]:
    values = shown["values"]
    if not values:
        values = {"review_on": (uk_today() + timedelta(days=365)).isoformat()}
    title = f"Disclosure request: {state.title}" if state.kind == DISCLOSURE else state.title
    record_label = f"{state.ref}: {title}" if state.ref else title
    return {
        "state": state,
        "values": values,
        "record_label": record_label,
        "hold_reasons": HOLD_REASONS,
        "day": day,
        "latest_review_on": day(date(uk_today().year + 5, 12, 31)),
    }


RETENTION = RecordPage(
    "retention_record.jinja", "/retention/{}?saved={}", "record_id", IncidentLog.retention_of, retention_context, SAVED, worded,
    conflict=409, error_field="_",
)


@router.get("/{record_id}")
def show_retention(request: Request, record_id: UUID, actor: Governance, log: Log, saved: str = ""):
    return RETENTION.show(request, actor, log, record_id, saved=saved)


RETENTION.change_routes(router, Governance, {
    "hold": ("held", PlaceHold, IncidentLog.place_hold),
    "lift-hold": ("lifted", LiftHold, IncidentLog.lift_hold),
})


DECISION_REFUSALS = ((ReviewDateNotLater, "review_on"), (RecordOnHold, "_"))


@router.post("/{record_id}/keep")
def keep(request: Request, record_id: UUID, actor: Governance, form: Form, log: Log):
    return RETENTION.change(request, actor, log, record_id, "kept", form, KeepRecord, partial(IncidentLog.keep_record, log), refusals=DECISION_REFUSALS)


@router.post("/{record_id}/dispose")
def dispose(request: Request, record_id: UUID, actor: Governance, form: Form, log: Log):
    return RETENTION.change(
        request, actor, log, record_id, "disposed", form, DisposeOfRecord, partial(IncidentLog.dispose_of_record, log), refusals=DECISION_REFUSALS
    )


@router.post("/{record_id}/erase")
def erase(request: Request, record_id: UUID, actor: Governance, form: Form, log: Log):
    """Carry out a disposal decided: the record's key destroyed (governance only)."""
    return RETENTION.change(
        request, actor, log, record_id, "erased", form, CarryOutDisposal, partial(IncidentLog.carry_out_disposal, log),
        refusals=((RecordOnHold, "_"), (NotAwaitingDisposal, "_"), (NoKeyOfItsOwn, "_")),
    )


@router.get("/{record_id}/certificate.pdf")
def certificate(request: Request, record_id: UUID, actor: Governance, log: Log):
    """The disposal certificate of a record disposed of (404 for any other)."""
    state = log.retention_of(actor, record_id)
    if state.disposal is None:
        raise RecordNotFound("This record is not disposed of: it has no disposal certificate")
    details = log.practice_details(actor.practice)
    practice = f"{details.name} ({actor.practice})" if details is not None else actor.practice
    pdf = disposal_certificate(practice, record_id, state.disposal)
    name = f"disposal-{state.disposal.ref or record_id}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})
