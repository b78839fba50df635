"""The reception slice: the home screen, reporting an incident, and the incident page.

Each route parses the form into a command, calls one application method, and picks a
template or block. POST then redirect (303) then GET, so a reload never repeats a submission;
HTMX requests get the block they replace instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from incidents.application import commands as c
from incidents.application.custody import CUSTODY_READERS
from incidents.application.exports import facts_of
from incidents.application.service import INCIDENT_KINDS, Actor, IncidentLog
from incidents.application.timeline import timeline
from incidents.projections.summaries import IncidentSummary
from incidents.domain import filming, recording
from incidents.domain.kinds import LOCATIONS
from incidents.domain.incident import NotCorrectable, NothingToCorrect, ResponseBeforeIncident, ResponseOutOfOrder
from incidents.domain.values import ImplausibleDate, InvalidValue, NonExistentLocalTime, OccurredInFuture

from .deps import ALL_ROLES, Anyone, Form, Log, Manager, caught_up_views, checked, form_fields, page, signed_in_as
from .forms import UK, FormInvalid, correction, parse
from .record_page import RecordPage

router = APIRouter(prefix="/incidents", tags=["incidents"])
Kind = Literal["filming", "recording"]

GUIDANCE = {"filming": filming.GUIDANCE, "recording": recording.GUIDANCE}
CUSTODY_SHOWN = 50  # the latest views and exports on the page; an export carries them all


def new_key() -> str:
    return uuid.uuid4().hex


def now_fields() -> dict[str, str]:
    now = datetime.now(UK)
    return {"occurred_date": now.strftime("%Y-%m-%d"), "occurred_time": now.strftime("%H:%M")}


def summary_row(summary: IncidentSummary) -> dict[str, Any]:
    kind_class = INCIDENT_KINDS[summary.kind]
    response = kind_class.RESPONSES.get(summary.last_response)
    return {
        "id": summary.incident_id,
        "ref": summary.ref,
        "title": kind_class.TITLE,
        "occurred_at": summary.occurred_at,
        "where": LOCATIONS.get(summary.location, summary.location),
        "last_response": response.label if response else "",
        "status": summary.status,
        "clinician": summary.clinician,
    }


@router.get("/new/{kind}")
def report_form(request: Request, kind: Kind, actor: Anyone):
    """The empty form, with any choice already made where the link came from (the home screen's)
    filled in; a value that is not one of a fact's choices is left out."""
    answered = {
        fact.name: value
        for fact in INCIDENT_KINDS[kind].FACTS
        if fact.choices and (value := request.query_params.get(fact.name)) in fact.choices
    }
    values = {"submission_key": new_key(), **now_fields(), **answered}
    return report_page(request, actor, kind, values, {})


RECENT_CLINICIANS_SHOWN = 6
RECENT_CLINICIANS_DAYS = 90


def recent_clinicians(request: Request, actor: Actor) -> list[str]:
    """The clinicians named in the practice's recent recordings, newest first, so that logging
    one is a tap: read from the view (bounded by time and count), never from the events, once it
    has the last one logged (from this tablet, or any other)."""
    projections = caught_up_views(request)
    if projections is None:
        return []
    now = datetime.now(timezone.utc)
    rows = projections.summaries.reported_between(actor.practice, now - timedelta(days=RECENT_CLINICIANS_DAYS), now + timedelta(minutes=1), limit=200)
    names: list[str] = []
    for row in rows:
        if row.kind == recording.RecordingEpisode.KIND and row.clinician and row.clinician not in names:
            names.append(row.clinician)
    return names[:RECENT_CLINICIANS_SHOWN]


def report_page(request: Request, actor: Actor, kind: str, values: dict[str, Any], errors: dict[str, str], status: int = 200):
    context = page(
        request,
        actor,
        suggestions={"clinician": recent_clinicians(request, actor)} if kind == "recording" else {},
        kind=kind,
        incident_class=INCIDENT_KINDS[kind],
        guidance=GUIDANCE[kind],
        values=values,
        errors=errors,
    )
    return request.app.state.render(request, "report.jinja", context, status_code=status)


@router.post("/new/{kind}")
async def report(request: Request, kind: Kind):
    """The busiest route: on SQLite its checks run on the event loop, being cheaper than a trip
    to the thread pool, and the store's writer thread commits; on PostgreSQL, where even the
    session check waits on the network, all of it goes to the thread pool."""
    data = await form_fields(request)
    if not request.app.state.checks_on_loop:
        return await run_in_threadpool(report_now, request, kind, data)
    actor, form = reporting(request, data, kind)
    log: IncidentLog = request.app.state.log
    try:
        saved = await log.report_from_event_loop(parse(c.REPORTS[kind], form, with_time=True), actor)
    except (FormInvalid, InvalidValue) as problem:
        return report_refused(request, actor, kind, form, problem)
    return report_saved(saved)


def report_now(request: Request, kind: str, data: dict[str, str]):
    actor, form = reporting(request, data, kind)
    log: IncidentLog = request.app.state.log
    try:
        saved = log.report(parse(c.REPORTS[kind], form, with_time=True), actor)
    except (FormInvalid, InvalidValue) as problem:
        return report_refused(request, actor, kind, form, problem)
    return report_saved(saved)


def reporting(request: Request, data: dict[str, str], kind: str) -> tuple[Actor, dict[str, str]]:
    actor = signed_in_as(request, ALL_ROLES)
    form = checked(request, data)
    for name, typed in list(form.items()):  # "someone else", typed beside the recently given answers
        if name.endswith("_other") and typed.strip():
            form[name.removesuffix("_other")] = typed
    for fact in INCIDENT_KINDS[kind].FACTS:  # an answer under a choice not made was typed before choosing another
        if fact.asked_with and form.get(fact.asked_with[0]) != fact.asked_with[1]:
            form.pop(fact.name, None)
    return actor, form


def report_refused(request: Request, actor: Actor, kind: str, form: dict[str, str], problem: FormInvalid | InvalidValue):
    errors = problem.errors if isinstance(problem, FormInvalid) else {getattr(problem, "field", "_"): str(problem)}
    return report_page(request, actor, kind, form, errors, status=422)


def report_saved(saved) -> RedirectResponse:
    return RedirectResponse(f"/incidents/{saved.id}?saved={'new' if saved.created else 'again'}", status_code=303)


# The incident page -------------------------------------------------------


def incident_context(request: Request, actor: Actor, log: IncidentLog, incident: Any, shown: dict[str, Any]) -> dict[str, Any]:
    fresh = {"submission_key": new_key(), "note_key": new_key(), **now_fields()}
    values = dict(shown["values"])
    if shown["errors"] and values:  # a refused response or note keeps its key: sent again, it is saved once
        if shown["form_name"] == "note":
            values["note_key"] = values.pop("submission_key", fresh["note_key"])
        elif shown["form_name"] != "response":
            values.pop("submission_key", None)
    readable = actor.holds(*CUSTODY_READERS)
    return {
        "incident": incident,
        "retention": log.retention_of(actor, incident.id),
        "kind_class": type(incident),
        "entries": timeline(type(incident), log.history(actor, incident.id)),
        "facts": facts_of(incident),
        "guidance": GUIDANCE[incident.KIND],
        "removal_guidance": filming.REMOVAL_GUIDANCE,
        "values": {**fresh, **values} if shown["errors"] else fresh,
        "now": now_fields(),  # the response form's time, unless that form was refused (a correction's time has the same fields)
        "custody": (custody := log.custody_chain(actor, incident.id, latest=CUSTODY_SHOWN) if readable else []),
        "request_labels": log.request_labels(actor, {a.request_id for a in custody if a.request_id}),
        "custody_count": log.custody_count(actor, incident.id) if readable else 0,
    }


INCIDENT = RecordPage("incident.jinja", "/incidents/{}?saved={}#saved", "incident_id", IncidentLog.get_incident, incident_context, conflict=409, block="activity")


@router.get("/{incident_id}")
def show_incident(request: Request, incident_id: UUID, actor: Anyone, log: Log, saved: str = "", for_request: Annotated[UUID | None, Query(alias="request")] = None):
    # The one GET that records something, on purpose: the chain of custody is an audit record of
    # who saw what, when, for which request, so a view has to be written when the page is seen.
    log.record_view(actor, incident_id, for_request)
    return INCIDENT.show(request, actor, log, incident_id, saved=saved)


# A time refused by the domain is shown beside the date and time it was typed into.
TIME_REFUSED = (OccurredInFuture, ImplausibleDate, NonExistentLocalTime, ResponseBeforeIncident)


@router.post("/{incident_id}/responses")
def respond(request: Request, incident_id: UUID, actor: Anyone, form: Form, log: Log):
    return INCIDENT.change(
        request, actor, log, incident_id, "response", form, c.RecordResponse, log.respond, with_time=True,
        refusals=((TIME_REFUSED, "occurred_at"), ((ResponseOutOfOrder, filming.RemovalNotJustified), "response")),
    )


INCIDENT.change_routes(router, Anyone, {"notes": ("note", c.AddNote, IncidentLog.add_note)})


@router.post("/{incident_id}/corrections")
def correct(request: Request, incident_id: UUID, actor: Anyone, form: Form, log: Log):
    return INCIDENT.change(
        request, actor, log, incident_id, "correction", correction(form), c.CorrectIncident, log.correct,
        refusals=(((InvalidValue, NothingToCorrect), "new_value"), (NotCorrectable, "field")),
    )


INCIDENT.change_routes(router, Manager, {
    "review": ("review", c.ReviewIncident, IncidentLog.review_incident),
    "close": ("close", c.CloseIncident, IncidentLog.close_incident),
    "reopen": ("reopen", c.ReopenIncident, IncidentLog.reopen_incident),
})
