"""The incident list: filters (kind, status, location, dates; outcome, day closed and time to
close, as the monthly report counts closes), active search and pages; a CSV of the whole list.

Every filter is in the address, so a list can be bookmarked and shared. Without JavaScript the
filters are a plain GET form; with HTMX, typing in the search box or changing a filter replaces
the results only and keeps the address in step. A patient is searched by NHS number in a POST
of its own, answered with the address of the list filtered by the number's blind index entry:
the number itself is never in an address (nor in a log of addresses).
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import chain
from typing import Annotated, Any, Iterator
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from incidents.application.days import OptionalDay
from incidents.application.disclosures import DISCLOSURE_ROLES
from incidents.application.service import INCIDENT_KINDS, Actor
from incidents.domain.disclosure import DisclosureRequest
from incidents.application.practice_recordings import RECORDING_READERS
from incidents.domain.practice_recording import PracticeRecording
from incidents.domain.references import parse_ref
from incidents.domain.kinds import LOCATIONS
from incidents.domain.values import InvalidNHSNumber
from incidents.evidence.records import as_text_cell
from incidents.projections.figures import CLOSE_TIME_BUCKETS
from incidents.projections.summaries import (
    MAX_PAGE, MAX_PAGE_SIZE, OUTCOMES, IncidentSummary, InvalidSummaryQuery, SummaryPage, SummaryQuery, is_patient_token,
)

from .deps import Form, Log, Overseer, caught_up_views, page
from .forms import UK
from .incident_routes import summary_row

router = APIRouter(prefix="/incidents", tags=["incidents"])
STATUSES = {"open": "Open", "closed": "Closed"}
KINDS = {k.KIND: k.TITLE for k in INCIDENT_KINDS.values()}
DAY_FILTERS = (("from", "From (first day)"), ("to", "To (last day)"))
FILTER_MAX_CHARS = 200


def _trimmed(value: Any) -> Any:
    return value.strip()[:FILTER_MAX_CHARS] if isinstance(value, str) else value


Filter = Annotated[str, BeforeValidator(_trimmed)]


class ListFilters(BaseModel):
    """The list's query string as sent: any text is taken (trimmed), so that the list can say
    what is wrong with it beside the filter rather than refuse the page."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    kind: Filter = ""
    status: Filter = ""
    location: Filter = ""
    from_: Filter = Field("", alias="from")
    to: Filter = ""
    q: Filter = ""
    outcome: Filter = ""
    closed_from: Filter = ""
    closed_to: Filter = ""
    took: Filter = ""
    patient: Filter = ""  # a blind index entry (patient_search answers with it), never the number
    page: Filter = ""

    def shown(self) -> dict[str, str]:
        return self.model_dump(by_alias=True, exclude={"page"})


# Time from report to close, as the monthly report groups it: the query's value is the group's number.
TOOK = {str(i): label for i, (label, _) in enumerate(CLOSE_TIME_BUCKETS)}


def took_range(bucket: int | None) -> tuple[timedelta | None, timedelta | None]:
    if bucket is None:
        return None, None
    low = CLOSE_TIME_BUCKETS[bucket - 1][1] if bucket else None
    high = CLOSE_TIME_BUCKETS[bucket][1]
    return (timedelta(days=low) if low else None), (timedelta(days=high) if high else None)


class ListRange(BaseModel):
    """The filters' days, time to close and page number, checked."""

    from_: OptionalDay = Field(None, alias="from")
    to: OptionalDay = None
    closed_from: OptionalDay = None
    closed_to: OptionalDay = None
    took: Annotated[Annotated[int, Field(ge=0, lt=len(CLOSE_TIME_BUCKETS))] | None, BeforeValidator(lambda v: v or None)] = None
    page: Annotated[int, BeforeValidator(lambda v: v or 1), Field(ge=1, le=MAX_PAGE)] = 1


RANGE_ERRORS = {
    "from": "Enter the first day as a real date, for example 2026-03-31",
    "to": "Enter the last day as a real date, for example 2026-03-31",
    "closed_from": "Enter the first day closed as a real date, for example 2026-03-31",
    "closed_to": "Enter the last day closed as a real date, for example 2026-03-31",
    "took": "Choose a time to close from the list",
    "page": f"The page must be a whole number from 1 to {MAX_PAGE}",
    "patient": "This patient search is not valid here: enter the NHS number again",
}


def checked_range(filters: ListFilters) -> tuple[ListRange | None, dict[str, str]]:
    try:
        sent = filters.model_dump(by_alias=True, include={"from_", "to", "closed_from", "closed_to", "took", "page"})
        return ListRange.model_validate(sent), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for e in error.errors():
            field = str(e["loc"][0])
            text = str(e.get("msg", "")).removeprefix("Value error, ")
            errors.setdefault(field, text if "between 1 January 1900" in text else RANGE_ERRORS[field])
        return None, errors


def list_query(actor: Actor, filters: ListFilters) -> tuple[SummaryQuery | None, dict[str, str]]:
    checked, errors = checked_range(filters)
    if checked and checked.from_ and checked.to and checked.to < checked.from_:
        errors["to"] = "The last day must be the same as or after the first day"
    if checked and checked.closed_from and checked.closed_to and checked.closed_to < checked.closed_from:
        errors["closed_to"] = "The last day closed must be the same as or after the first day closed"
    if filters.patient and not is_patient_token(filters.patient):
        errors["nhs_number"] = RANGE_ERRORS["patient"]
    if checked is None or errors:
        return None, errors
    took_at_least, took_under = took_range(checked.took)
    try:
        query = SummaryQuery(
            practice=actor.practice,
            kind=filters.kind or None,
            status=filters.status or None,
            location=filters.location or None,
            occurred_from=checked.from_,
            occurred_to=checked.to,
            text=filters.q,
            page=checked.page,
            outcome=filters.outcome or None,
            closed_from=checked.closed_from,
            closed_to=checked.closed_to,
            took_at_least=took_at_least,
            took_under=took_under,
            patient=filters.patient,
        )
    except InvalidSummaryQuery as error:
        return None, {"q": str(error)}
    return query, {}


def page_link(filters: dict[str, str], number: int, path: str = "/incidents") -> str:
    kept = {name: value for name, value in filters.items() if value}
    if number > 1:
        kept["page"] = str(number)
    return path + (f"?{urlencode(kept)}" if kept else "")


def results_context(filters: dict[str, str], result: SummaryPage | None) -> dict[str, Any]:
    if result is None:
        return {"rows": [], "result": None}
    return {
        "rows": [summary_row(r) for r in result.rows],
        "result": result,
        "previous_link": page_link(filters, result.page - 1) if result.has_previous else None,
        "next_link": page_link(filters, result.page + 1) if result.has_next else None,
    }


def described(filters: dict[str, str]) -> list[str]:
    """The filters in words, for a printed list (which leaves out the form)."""
    labels = {
        "q": ("Words", {}), "kind": ("Kind", KINDS), "status": ("Status", STATUSES), "location": ("Where", LOCATIONS),
        "from": ("Happened from", {}), "to": ("Happened to", {}), "outcome": ("Outcome", OUTCOMES),
        "closed_from": ("Closed from", {}), "closed_to": ("Closed to", {}), "took": ("Time from report to close", TOOK),
        "patient": ("Patient", {filters.get("patient", ""): "the one whose NHS number was searched for"}),
    }  # fmt: skip
    return [f"{label}: {names.get(filters[name], filters[name])}" for name, (label, names) in labels.items() if filters.get(name)]


def list_page(request: Request, actor: Actor, sent: ListFilters, block: str | None = "results", nhs_error: str = "", entered: str = "", status: int = 200):
    filters = sent.shown()
    query, errors = list_query(actor, sent)
    result = caught_up_views(request).summaries.search(query) if query else None
    if nhs_error:
        errors = {"nhs_number": nhs_error, **errors}
    context = page(
        request,
        actor,
        filters=filters,
        errors=errors,
        kinds=KINDS,
        statuses=STATUSES,
        described=described(filters),
        locations=LOCATIONS,
        outcomes=OUTCOMES,
        took=TOOK,
        day_filters=DAY_FILTERS,
        entered_nhs_number=entered,  # shown again beside its error, never put in an address
        # Sent as the manager changes a filter: an error is shown without taking their focus.
        live=request.headers.get("HX-Trigger") == "filters-live",
        this_link=page_link(filters, result.page if result else 1),
        csv_link=page_link(filters, 1, "/incidents.csv"),
        **results_context(filters, result),
    )
    return request.app.state.render(request, "incident_list.jinja", context, block=block, status_code=422 if errors else status)


@router.get("")
def incident_list(request: Request, actor: Overseer, sent: Annotated[ListFilters, Query()], log: Log):
    """A disclosure request's short reference searched for by someone who handles them opens that
    request; a recording's (P-) opens the recording, for every overseer (all may read them)."""
    ref = parse_ref(sent.q, DisclosureRequest.PREFIX)
    found = log.request_by_ref(actor, ref) if ref and actor.holds(*DISCLOSURE_ROLES) else None
    url = f"/disclosures/{found}"
    if found is None and (ref := parse_ref(sent.q, PracticeRecording.PREFIX)) and actor.holds(*RECORDING_READERS):
        found = log.recording_by_ref(actor, ref)
        url = f"/recordings/{found}"
    if found is not None:
        return Response(headers={"HX-Redirect": url}) if request.headers.get("HX-Request") else RedirectResponse(url, 303)
    return list_page(request, actor, sent)


@router.post("/patient")
def patient_search(request: Request, actor: Overseer, form: Form):
    """The list of one patient's incidents, found by the NHS number's blind index entry."""
    entered = form.get("nhs_number", "")[:FILTER_MAX_CHARS]
    try:
        token = caught_up_views(request).summaries.patient_token(entered)
    except InvalidNHSNumber as error:
        return list_page(request, actor, ListFilters(), block=None, nhs_error=str(error), entered=entered)
    if not token:
        return list_page(request, actor, ListFilters(), block=None, nhs_error="Enter the patient's NHS number")
    return RedirectResponse(page_link({"patient": token}, 1), status_code=303)


CSV_COLUMNS = [
    "reference", "incident_id", "kind", "occurred_at", "recorded_at", "where", "status", "last_response", "responses", "notes",
    "corrections", "reviewed_at", "closed_at", "outcome", "clinician",
]  # fmt: skip


def csv_row(s: IncidentSummary) -> list[Any]:
    """One incident as the list shows it, labels as people read them and times in UK time."""
    shown = summary_row(s)
    moment = lambda value: value.astimezone(UK).isoformat(timespec="minutes") if value else ""  # noqa: E731
    return [
        s.ref, s.incident_id, shown["title"], moment(s.occurred_at), moment(s.reported_at), shown["where"], s.status,
        shown["last_response"], s.responses, s.notes, s.corrections, moment(s.reviewed_at), moment(s.closed_at),
        OUTCOMES.get(s.outcome, s.outcome), s.clinician,
    ]  # fmt: skip


def csv_lines(views: Any, query: SummaryQuery) -> Iterator[str]:
    """The whole list, read a page of the view at a time while it is sent (never all at once),
    each page from where the last ended, every cell made safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    query = replace(query, page=1, page_size=MAX_PAGE_SIZE)
    while True:
        result = views.summaries.search(query)
        for row in result.rows:
            writer.writerow(map(as_text_cell, csv_row(row)))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if not result.has_next:
            return
        query = replace(query, before_key=result.last_key)


@router.get(".csv")
def incident_list_csv(request: Request, actor: Overseer, sent: Annotated[ListFilters, Query()]):
    query, errors = list_query(actor, sent)
    if query is None:  # the list page says what is wrong, beside the filter
        return list_page(request, actor, sent, block=None)
    views = caught_up_views(request)
    filename = f"incidents-{actor.practice}-{datetime.now(UK).strftime('%Y-%m-%d')}.csv"
    return StreamingResponse(
        chain(["\ufeff"], csv_lines(views, query)),  # a byte-order mark: spreadsheets then read names in UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
