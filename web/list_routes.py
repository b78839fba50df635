"""The incident list: filters (kind, status, location, dates), active search and pages.

Every filter is in the address, so a list can be bookmarked and shared. Without JavaScript the
filters are a plain GET form; with HTMX, typing in the search box or changing a filter replaces
the results only and keeps the address in step.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from incidents.application.service import INCIDENT_KINDS, Actor
from incidents.application.timeline import CHOICES
from incidents.projections.summaries import InvalidSummaryQuery, SummaryPage, SummaryQuery

from .deps import allow, caught_up_views, page
from .incident_routes import summary_row

router = APIRouter()
Overseer = Annotated[Actor, Depends(allow("manager", "governance"))]
FILTERS = ("kind", "status", "location", "from", "to", "q")
STATUSES = {"open": "Open", "closed": "Closed"}


def location_options() -> dict[str, str]:
    return {**CHOICES["area"], **CHOICES["setting"]}


def parse_day(value: str, label: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[label] = f"Enter the {'first' if label == 'from' else 'last'} day as a real date, for example 2026-03-31"
        return None


def list_query(actor: Actor, filters: dict[str, str], page_number: str) -> tuple[SummaryQuery | None, dict[str, str]]:
    errors: dict[str, str] = {}
    occurred_from = parse_day(filters["from"], "from", errors)
    occurred_to = parse_day(filters["to"], "to", errors)
    if occurred_from and occurred_to and occurred_to < occurred_from:
        errors["to"] = "The last day must be the same as or after the first day"
    number = int(page_number) if page_number.isdigit() else 1
    if errors:
        return None, errors
    try:
        query = SummaryQuery(
            practice=actor.practice,
            kind=filters["kind"] or None,
            status=filters["status"] or None,
            location=filters["location"] or None,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            text=filters["q"],
            page=number,
        )
    except InvalidSummaryQuery as error:
        return None, {"q": str(error)}
    return query, {}


def page_link(filters: dict[str, str], number: int) -> str:
    kept = {name: value for name, value in filters.items() if value}
    if number > 1:
        kept["page"] = str(number)
    return "/incidents" + (f"?{urlencode(kept)}" if kept else "")


def results_context(filters: dict[str, str], result: SummaryPage | None) -> dict[str, Any]:
    if result is None:
        return {"rows": [], "result": None}
    return {
        "rows": [summary_row(r) for r in result.rows],
        "result": result,
        "previous_link": page_link(filters, result.page - 1) if result.has_previous else None,
        "next_link": page_link(filters, result.page + 1) if result.has_next else None,
    }


@router.get("/incidents")
def incident_list(request: Request, actor: Overseer):
    params = request.query_params
    filters = {name: (params.get(name) or "").strip()[:200] for name in FILTERS}
    query, errors = list_query(actor, filters, params.get("page", ""))
    result = caught_up_views(request).summaries.search(query) if query else None
    context = page(
        request,
        actor,
        filters=filters,
        errors=errors,
        kinds={k.KIND: k.TITLE for k in INCIDENT_KINDS.values()},
        statuses=STATUSES,
        locations=location_options(),
        this_link=page_link(filters, result.page if result else 1),
        **results_context(filters, result),
    )
    return request.app.state.render(
        request, "incident_list.jinja", context, block="results", status_code=422 if errors else 200
    )
