"""Disclosure requests, for the governance lead: the list with due dates, receiving a request,
its page with the history, and setting its scope (picking incidents), legal basis, extension,
refusal and closing. Forms work without JavaScript: POST, then 303 to the request's page."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError
from fastapi.responses import RedirectResponse, Response

from incidents.application.disclosures import (
    CloseRequest,
    due_rule_in_words,
    extension_in_words,
    ExtendRequest,
    ReceiveRequest,
    RecordDisclosure,
    RecordLegalBasis,
    Redact,
    RefuseRequest,
    RemoveRedaction,
    SetRequestScope,
)
from incidents.application.records import uk_today
from incidents.application.service import Actor, IncidentLog
from incidents.domain.disclosure import (
    DUE_RULES,
    REQUESTER_TYPES,
    CallTimeInvalid,
    STATUSES,
    DisclosureRequest,
    DueBeforeReceipt,
    DueDateFixed,
    DueDateRequired,
    ExportNotReady,
    ExtensionTooLate,
    InvalidPeriod,
    NOTHING_CHOSEN,
    NotInScope,
    NothingToRedact,
    ReasonRequired,
    ReceivedInFuture,
    ScopeEmpty,
    WordsNotInEntry,
    ToldOnInvalid,
    UnknownBundle,
    request_label,
)
from incidents.application.kept_bundles import BundleDamaged, BundleNotKept
from incidents.application.exports import UK as UK_ZONE
from incidents.application.days import OptionalDay
from incidents.domain.call_recording import NumberInvalid
from incidents.domain.values import DomainError, InvalidNHSNumber, format_nhs_number, plausible_day
from incidents.projections.summaries import KINDS, MAX_PAGE_SIZE, InvalidSummaryQuery, SummaryQuery

from .deps import REFUSED, Form, Governance, Log, caught_up_views, checked, form_pairs, page
from .forms import FormInvalid, parse, uk_moment
from .incident_routes import summary_row
from .record_page import NewRecordForm, RecordPage
from .templating import SECURITY_HEADERS

router = APIRouter(prefix="/disclosures", tags=["disclosures"])
PICKABLE_INCIDENTS = 500
SAVED = {
    "received": "The request is in the list, with its due date.",
    "scope": "The scope is set.",
    "basis": "The legal basis is recorded, with you as the person who decided it.",
    "extended": "The due date is extended.",
    "refused": "The refusal is recorded.",
    "closed": "The request is closed.",
    "disclosed": "The disclosure is recorded, with the fingerprint of the bundle sent.",
    "redacted": "The redaction is added: the next bundle shows its reason in place of what it hides.",
    "unredacted": "The redaction is removed: the next bundle shows what it hid.",
}
EXTENSION_REFUSALS = ((ToldOnInvalid, "told_on"), (ExtensionTooLate, "_"))
ERRORS = {
    "requester_type": "Choose who made the request",
    "requester": "Enter who made the request",
    "reference": "Enter a reference: theirs, or one of your own",
    "received_on": "Enter the day the request was received",
    "due_on": "Enter the new due date",
    "told_on": "Enter the day the requester was told of the extension and why",
    "reason": "Enter the reason",
    "basis": "Choose the legal basis",
    "incident_ids": NOTHING_CHOSEN,
    "target": "Choose what to redact",
    "call_at": "Enter the date and time of the call, like 25/11/2026 and 14:05",
}
OPTIONAL_DAY = TypeAdapter(OptionalDay)
HINTS = {kind: rule.explanation for kind, rule in DUE_RULES.items()}


def worded(invalid: FormInvalid) -> dict[str, str]:
    """A missing answer in this page's words; any other message stays as it is."""
    blank = lambda t: (t.startswith("Enter ") and "real date" not in t) or "at least 1 item" in t  # noqa: E731
    return {f: ERRORS[f] if f in ERRORS and blank(t) else t for f, t in invalid.errors.items()}


def day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


# The list and a new request ---------------------------------------------------


@router.get("")
def requests(request: Request, actor: Governance, log: Log):
    context = page(request, actor, rows=log.requests(actor), day=day)
    return request.app.state.render(request, "disclosures.jinja", context)


def requester_types() -> dict[str, Any]:
    return {"requester_types": [{"value": k, "text": v, "hint": {"text": HINTS[k]}} for k, v in REQUESTER_TYPES.items()]}


def requested_call(form: dict[str, Any]) -> dict[str, Any]:
    """The call, asked only under a call recording request: hidden, and left behind, when another type is chosen."""
    if form.get("requester_type") != "call_recording":
        return {k: v for k, v in form.items() if k not in ("call_date", "call_time", "caller_number")}
    return with_call(form)


def with_call(form: dict[str, Any]) -> dict[str, Any]:
    """The call's date and time (UK clock, two fields on the form) as one moment; both blank: no call."""
    day, clock = form.get("call_date", "").strip(), form.get("call_time", "").strip()
    if not (day or clock):
        return form
    try:
        return {**form, "call_at": uk_moment(day, clock).isoformat()}
    except ValueError:
        return {**form, "call_at": "unreadable"}  # refused by the command as a missing date and time


NEW_REQUEST = NewRecordForm(
    "disclosure_new.jinja", "/disclosures/{}?saved=received", requester_types,
    lambda: {"submission_key": uuid.uuid4().hex, "received_on": uk_today().isoformat()}, worded,
    (((DueDateRequired, DueDateFixed, DueBeforeReceipt), "due_on"), (ReceivedInFuture, "received_on"), (InvalidNHSNumber, "nhs_number"), (CallTimeInvalid, "call_at"), (NumberInvalid, "caller_number")),
    prepare=requested_call,
)


NEW_REQUEST.routes(router, Governance, ReceiveRequest, IncidentLog.receive_request)


# One request -------------------------------------------------------------------


def request_context(request: Request, actor: Actor, log: IncidentLog, disclosure: DisclosureRequest, shown: dict[str, Any]) -> dict[str, Any]:
    return {
        "disclosure": disclosure,
        "retention": log.retention_of(actor, disclosure.id),
        "status_label": STATUSES[disclosure.status],
        "days_left": disclosure.days_left(uk_today()),
        "overdue": disclosure.is_overdue(uk_today()),
        "incidents": [incident_row(log.get_incident(actor, i)) for i in disclosure.incident_ids],
        "recordings": log.patient_recordings(actor, disclosure.nhs_number, disclosure.period_from, disclosure.period_to),
        "history": log.request_history(actor, disclosure.id),
        "legal_bases": disclosure.legal_bases(),
        "label": request_label(disclosure),
        "due_rule": due_rule_in_words(disclosure),
        "extensions": [extension_in_words(e) for e in disclosure.extensions],
        "may_extend": disclosure.may_extend_on(uk_today()),
        "latest_extension": day(disclosure.latest_extension_on),
        "day": day,
        "key_fingerprint": request.app.state.signing_key.fingerprint(),
        "exported_bundles": bundle_rows(actor, log, disclosure),
        "bundle_warnings": request.session.pop(warnings_key(disclosure.id), None) or [],
        "redactions": log.redaction_rows(actor, disclosure),
        "redaction_targets": log.redaction_targets(actor, disclosure) if disclosure.status == "open" else [],
    }


DISCLOSURE = RecordPage("disclosure.jinja", "/disclosures/{}?saved={}", "request_id", IncidentLog.get_request, request_context, SAVED, worded)


@router.get("/{request_id}")
def show_request(request: Request, request_id: UUID, actor: Governance, log: Log, saved: str = ""):
    return DISCLOSURE.show(request, actor, log, request_id, saved=saved)


def incident_row(incident: Any) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.TITLE,
        "occurred_at": incident.occurred_at,
        "where": incident.location().show(getattr(incident, incident.location().name)),
        "status": incident.status,
    }


def bundle_rows(actor: Actor, log: IncidentLog, disclosure: DisclosureRequest) -> list[dict[str, Any]]:
    """Each bundle exported, newest first, as people tell them apart: the request, when, and what it holds."""
    rows = []
    for bundle in reversed(disclosure.bundles):
        incidents = [incident_row(log.get_incident(actor, i)) for i in bundle.incident_ids]
        scope = "; ".join(f"{i['title']}, {i['occurred_at'].astimezone(UK_ZONE):%d %b %Y}" for i in incidents)
        made = bundle.made_at.astimezone(UK_ZONE)
        text = f"{request_label(disclosure)}, made {made:%d %b %Y at %H:%M:%S}: {len(incidents)} incident{'s' if len(incidents) != 1 else ''} ({scope})"
        disclosed = (bundle.zip_sha256 or bundle.fingerprint) in (disclosure.disclosed_zip_sha256 or disclosure.disclosed_fingerprint,)
        rows.append({"value": bundle.zip_sha256 or bundle.fingerprint, "text": text, "kept": bool(bundle.zip_sha256), "disclosed": disclosed})
    return rows


DISCLOSURE.change_routes(router, Governance, {
    "legal-basis": ("basis", RecordLegalBasis, IncidentLog.record_legal_basis),
    "refuse": ("refused", RefuseRequest, IncidentLog.refuse_request),
    "close": ("closed", CloseRequest, IncidentLog.close_request),
    "disclosed": ("disclosed", RecordDisclosure, IncidentLog.record_disclosure),
})


# Redactions: what this request's bundle must not show ---------------------------

REDACTION_REFUSALS = ((WordsNotInEntry, "text"), ((NothingToRedact, NotInScope), "target"), (ReasonRequired, "reason"))


@router.post("/{request_id}/redact")
def redact(request: Request, request_id: UUID, actor: Governance, form: Form, log: Log):
    return DISCLOSURE.change(request, actor, log, request_id, "redacted", form, Redact, partial(IncidentLog.redact, log), refusals=REDACTION_REFUSALS)


DISCLOSURE.change_routes(router, Governance, {"unredact": ("unredacted", RemoveRedaction, IncidentLog.remove_redaction)})


@router.post("/{request_id}/extend", name="extended")
def extend(request: Request, request_id: UUID, actor: Governance, form: Form, log: Log):
    return DISCLOSURE.change(request, actor, log, request_id, "extended", form, ExtendRequest, log.extend_request, refusals=EXTENSION_REFUSALS)


# The evidence bundle -------------------------------------------------------------


def warnings_key(request_id: UUID) -> str:
    return f"bundle-warnings-{request_id}"


@router.post("/{request_id}/export")
def export(request: Request, request_id: UUID, actor: Governance, form: Form, log: Log):
    """The bundle as a download; the page with the reason when the request cannot be exported yet."""
    log.get_request(actor, request_id)
    try:
        exported = log.export_bundle(actor, request_id, request.app.state.signing_key)
    except REFUSED:
        raise
    except DomainError as error:
        status = 422 if isinstance(error, ExportNotReady) else 409
        return DISCLOSURE.show(request, actor, log, request_id, form_name="export", errors={"_": str(error)}, status=status)
    if exported.warnings:  # shown on the request page the next time it is opened
        request.session[warnings_key(request_id)] = [w[:500] for w in exported.warnings]
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
        "X-Bundle-Fingerprint": exported.fingerprint,
    }
    return Response(exported.zip_bytes, media_type="application/zip", headers=headers)


@router.get("/{request_id}/bundles/{fingerprint}")
def download(request: Request, request_id: UUID, fingerprint: str, actor: Governance, log: Log):
    """A bundle exported earlier, the same bytes; the page with the reason when it cannot be had."""
    try:
        kept = log.kept_bundle(actor, request_id, fingerprint)
    except (UnknownBundle, BundleNotKept, BundleDamaged) as error:
        status = 404 if isinstance(error, UnknownBundle) else 409
        return DISCLOSURE.show(request, actor, log, request_id, form_name="bundles", errors={"_": str(error)}, status=status)
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{kept.filename}"',
        "X-Bundle-Fingerprint": kept.bundle.fingerprint,
    }
    return Response(kept.data, media_type="application/zip", headers=headers)


# Scope: which incidents ----------------------------------------------------------


async def posted_with_lists(request: Request) -> dict[str, Any]:
    """The posted form with the CSRF token checked; a field sent more than once (ticked
    checkboxes) becomes a list."""
    pairs = form_pairs(await request.body())
    form: dict[str, Any] = {}
    for name, value in pairs:
        if name == "incident_ids":
            form.setdefault(name, []).append(value)
        else:
            form[name] = value
    return checked(request, form)


ScopeForm = Annotated[dict[str, Any], Depends(posted_with_lists)]


ScopeText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=400)]
PATIENT_CHOICES = {"request": "The patient the request names", "any": "Any patient"}


class ScopeFilters(BaseModel):
    """What the scope page's address asks for, as sent (checked below, so that the page can say
    what is wrong beside the field): the days the incidents happened, their kind and clinician,
    and whether only the request's patient (by the blind index: no NHS number in the address)."""

    model_config = ConfigDict(extra="ignore")
    period_from: ScopeText = ""
    period_to: ScopeText = ""
    kind: ScopeText = ""
    clinician: ScopeText = ""
    patient: ScopeText = ""


def period_errors(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("period_from", "period_to"):
        try:
            OPTIONAL_DAY.validate_python(values.get(name) or "")
        except ValidationError as error:
            errors[name] = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
    if values.get("kind") and values["kind"] not in KINDS:
        errors["kind"] = "Choose a kind of incident from the list"
    if len(values.get("clinician") or "") > 200:
        errors["clinician"] = "Enter at most 200 characters of the clinician's name or role"
    if values.get("patient") and values["patient"] not in PATIENT_CHOICES:
        errors["patient"] = "Choose the request's patient or any patient"
    return errors


@router.get("/{request_id}/scope")
def scope_form(request: Request, request_id: UUID, actor: Governance, log: Log, asked: Annotated[ScopeFilters, Query()]):
    disclosure = log.get_request(actor, request_id)
    values = {
        **asked.model_dump(),
        "period_from": asked.period_from or (disclosure.period_from.isoformat() if disclosure.period_from else ""),
        "period_to": asked.period_to or (disclosure.period_to.isoformat() if disclosure.period_to else ""),
        "incident_ids": [str(i) for i in disclosure.incident_ids],
    }
    errors = period_errors(asked.model_dump())
    return scope_page(request, actor, log, disclosure, values, errors, status=422 if errors else 200)


def scope_page(request: Request, actor: Actor, log: IncidentLog, disclosure: DisclosureRequest, values: dict[str, Any], errors: dict[str, str], status: int = 200):
    values.setdefault("patient", "")
    found = candidates(request, log, actor, disclosure, values, period_errors(values))
    if disclosure.nhs_number and not disclosure.incident_ids and values["patient"] != "any" and not errors:
        values["incident_ids"] = [str(row["id"]) for row in found]  # proposed: every record about the request's patient
    context = page(
        request,
        actor,
        disclosure=disclosure,
        candidates=found,
        values=values,
        errors=errors,
        kinds=KINDS,
        patient_choices=PATIENT_CHOICES,
        patient_number=format_nhs_number(disclosure.nhs_number),
        recordings=log.patient_recordings(actor, disclosure.nhs_number, *period_of(values, unlimited=True)) if not period_errors(values) else [],
    )
    return request.app.state.render(request, "disclosure_scope.jinja", context, status_code=status)


def candidates(
    request: Request, log: IncidentLog, actor: Actor, disclosure: DisclosureRequest, values: dict[str, Any], errors: dict[str, str]
) -> list[dict[str, Any]]:
    """The practice's incidents that happened in the period, of the kind and clinician asked for,
    about the request's patient when it names one (then at any time unless a period is given;
    otherwise in the last year), with those already in scope kept whatever they are."""
    projections = caught_up_views(request)
    rows = {s.incident_id: summary_row(s) for s in matching(projections, actor, disclosure, values)} if projections and not errors else {}
    for incident_id in disclosure.incident_ids:
        if incident_id not in rows:
            rows[incident_id] = incident_row(log.get_incident(actor, incident_id))
    return sorted(rows.values(), key=lambda r: r["occurred_at"])


def matching(projections: Any, actor: Actor, disclosure: DisclosureRequest, values: dict[str, Any]) -> list[Any]:
    """Up to PICKABLE_INCIDENTS summaries the filters find, read a page of the view at a time."""
    patient = projections.summaries.patient_token(disclosure.nhs_number) if values.get("patient") != "any" else ""
    first, last = period_of(values, unlimited=bool(patient))
    try:
        query = SummaryQuery(
            practice=actor.practice, kind=values.get("kind") or None, occurred_from=first, occurred_to=last,
            clinician=values.get("clinician", ""), patient=patient, page_size=MAX_PAGE_SIZE,
        )  # fmt: skip
    except InvalidSummaryQuery:
        return []
    found: list[Any] = []
    while len(found) < PICKABLE_INCIDENTS:
        result = projections.summaries.search(query)
        found += result.rows
        if not result.has_next:
            break
        query = replace(query, before_key=result.last_key)
    return found[:PICKABLE_INCIDENTS]


def period_of(values: dict[str, Any], unlimited: bool = False) -> tuple[date | None, date | None]:
    """The days to list incidents that happened in (the last year, or any time when `unlimited`,
    if none is given); a day that is not a date, or is outside the range the register holds (a
    scope saved before that range was enforced), gives way to the default."""
    today = uk_today()

    def parsed(text: str, default: date | None) -> date | None:
        try:
            return plausible_day(date.fromisoformat(text.strip())) if text and text.strip() else default
        except (ValueError, DomainError):
            return default

    first = parsed(values.get("period_from", ""), None if unlimited else today - timedelta(days=365))
    return first, parsed(values.get("period_to", ""), None if unlimited else today)


@router.post("/{request_id}/scope")
def set_scope(request: Request, request_id: UUID, actor: Governance, form: ScopeForm, log: Log):
    disclosure = log.get_request(actor, request_id)
    form.setdefault("incident_ids", [])
    scope = {name: form[name] for name in ("incident_ids", "period_from", "period_to") if name in form}
    try:
        log.set_request_scope(parse(SetRequestScope, {**scope, "request_id": str(request_id)}), actor)
    except FormInvalid as invalid:
        return scope_page(request, actor, log, disclosure, form, worded(invalid), status=422)
    except REFUSED:
        raise
    except InvalidPeriod as error:
        return scope_page(request, actor, log, disclosure, form, {"period_to": str(error)}, status=422)
    except ScopeEmpty as error:
        return scope_page(request, actor, log, disclosure, form, {"incident_ids": str(error)}, status=422)
    except DomainError as error:
        return scope_page(request, actor, log, disclosure, form, {"_": str(error)}, status=422)
    return RedirectResponse(f"/disclosures/{request_id}?saved=scope", status_code=303)
