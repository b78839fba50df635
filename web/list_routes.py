"""The incident list: filters (kind, status, location, dates), active search and pages.

Every filter is in the address, so a list can be bookmarked and shared. Without JavaScript the
filters are a plain GET form; with HTMX, typing in the search box or changing a filter replaces
the results only and keeps the address in step.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from incidents.application.days import OptionalDay
from incidents.application.service import INCIDENT_KINDS, Actor
from incidents.domain.kinds import LOCATIONS
from incidents.projections.summaries import MAX_PAGE, InvalidSummaryQuery, SummaryPage, SummaryQuery

from .deps import Overseer, caught_up_views, page
from .incident_routes import summary_row

router = APIRouter(prefix="/incidents", tags=["incidents"])
STATUSES = {"open": "Open", "closed": "Closed"}
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
    page: Filter = ""

    def shown(self) -> dict[str, str]:
        return self.model_dump(by_alias=True, exclude={"page"})


class ListRange(BaseModel):
    """The filters' days and the page number, checked."""

    from_: OptionalDay = Field(None, alias="from")
    to: OptionalDay = None
    page: Annotated[int, BeforeValidator(lambda v: v or 1), Field(ge=1, le=MAX_PAGE)] = 1


RANGE_ERRORS = {
    "from": "Enter the first day as a real date, for example 2026-03-31",
    "to": "Enter the last day as a real date, for example 2026-03-31",
    "page": f"The page must be a whole number from 1 to {MAX_PAGE}",
}


def checked_range(filters: ListFilters) -> tuple[ListRange | None, dict[str, str]]:
    try:
        return ListRange.model_validate({"from": filters.from_, "to": filters.to, "page": filters.page}), {}
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
    if checked is None or errors:
        return None, errors
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


@router.get("")
def incident_list(request: Request, actor: Overseer, sent: Annotated[ListFilters, Query()]):
    filters = sent.shown()
    query, errors = list_query(actor, sent)
    result = caught_up_views(request).summaries.search(query) if query else None
    context = page(
        request,
        actor,
        filters=filters,
        errors=errors,
        kinds={k.KIND: k.TITLE for k in INCIDENT_KINDS.values()},
        statuses=STATUSES,
        locations=LOCATIONS,
        day_filters=DAY_FILTERS,
        # Sent as the manager changes a filter: an error is shown without taking their focus.
        live=request.headers.get("HX-Trigger") == "filters-live",
        this_link=page_link(filters, result.page if result else 1),
        **results_context(filters, result),
    )
    return request.app.state.render(
        request, "incident_list.jinja", context, block="results", status_code=422 if errors else 200
    )
