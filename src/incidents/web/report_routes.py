"""The monthly report: counts by kind, location, response and outcome, and time to close;
printable, and downloadable as CSV for the practice's own records or a governance meeting."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict

from incidents.application.practice_recordings import RecordingMonth
from incidents.application.service import INCIDENT_KINDS
from incidents.domain.practice_recording import PURPOSES
from incidents.domain.kinds import LOCATIONS
from incidents.projections.figures import MonthReport

from .dashboard_routes import response_label
from .deps import Log, Overseer, caught_up_views, page
from .forms import UK
from .list_routes import page_link

router = APIRouter(prefix="/reports", tags=["reports"])
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthInvalid(ValueError):
    pass


def chosen_month(value: str) -> date:
    """`YYYY-MM`, or this month when none is given; no month after this one."""
    this_month = datetime.now(UK).date().replace(day=1)
    if not value:
        return this_month
    match = MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise MonthInvalid("Enter the month as a year and month, for example 2026-03")
    month = date(int(match.group(1)), int(match.group(2)), 1)
    if month > this_month:
        raise MonthInvalid("Choose this month or an earlier one")
    return month


def outcome_label(name: str) -> str:
    for kind_class in INCIDENT_KINDS.values():
        if name in kind_class.OUTCOMES:
            return kind_class.OUTCOMES[name]
    return name


def month_filters(month: date) -> dict[str, dict[str, str]]:
    """The incident list's filters for what the report counts in a month: incidents that happened
    in it, and incidents closed in it (and not reopened since)."""
    last = (next_month_start(month) - timedelta(days=1)).isoformat()
    return {
        "happened": {"from": month.isoformat(), "to": last},
        "closed": {"status": "closed", "closed_from": month.isoformat(), "closed_to": last},
    }


def report_sections(report: MonthReport) -> list[dict[str, Any]]:
    """The report's tables, each a heading and labelled counts (the page and the CSV share them),
    with the incident list's filters that find the incidents behind each count (responses are
    counted one by one, several to an incident, so theirs are not an incident list)."""
    month = month_filters(report.month)
    happened, closed = month["happened"], month["closed"]
    return [
        {"heading": "Incidents by kind", "name": "kind", "rows": [(INCIDENT_KINDS[k].TITLE, n, {**happened, "kind": k}) for k, n in report.by_kind.items()]},
        {"heading": "Incidents by where they happened", "name": "location", "rows": [(LOCATIONS.get(k, k), n, {**happened, "location": k}) for k, n in report.by_location.items()]},
        {"heading": "Responses recorded", "name": "response", "rows": [(response_label(k), n, None) for k, n in report.by_response.items()]},
        {"heading": "Incidents closed, by outcome", "name": "outcome", "rows": [(outcome_label(k), n, {**closed, "outcome": k}) for k, n in report.by_outcome.items()]},
        {
            "heading": "Time from report to close",
            "name": "time_to_close",
            "rows": [(label, n, {**closed, "took": str(i)}) for i, (label, n) in enumerate(report.close_times.labelled())],
        },
    ]


def recording_link(counts: RecordingMonth, happened: str, **more: str) -> str:
    return "/recordings?" + urlencode({"month": counts.month, "happened": happened, **more})


def recording_sections(counts: RecordingMonth) -> list[dict[str, Any]]:
    """The recordings the practice made, in the same shape: each count links to the recordings
    list filtered to it (uses are counted one by one: theirs leads to the recordings used)."""
    return [
        {
            "heading": "Recordings made, by purpose", "name": "recording_purpose",
            "rows": [(PURPOSES[k], n, recording_link(counts, "made", purpose=k)) for k, n in counts.made_by_purpose.items()],
        },
        {
            "heading": "Recordings used, withdrawn and destroyed", "name": "recording_custody",
            "rows": [
                (f"Uses recorded (of {counts.used} {'recording' if counts.used == 1 else 'recordings'})", counts.uses, recording_link(counts, "used")),
                ("Consents withdrawn", counts.withdrawn, recording_link(counts, "withdrawn")),
                ("Recordings destroyed", counts.destroyed, recording_link(counts, "destroyed")),
            ] if counts.uses or counts.withdrawn or counts.destroyed else [],
        },
    ]


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def next_month_start(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def next_month(month: date) -> date | None:
    following = next_month_start(month)
    return following if following <= datetime.now(UK).date() else None


class ReportQuery(BaseModel):
    """The report's query string as sent: the month is checked by chosen_month, so that the page
    can say what is wrong with it."""

    model_config = ConfigDict(extra="ignore")
    month: Annotated[str, BeforeValidator(lambda v: v[:20] if isinstance(v, str) else v)] = ""


@router.get("/monthly")
def monthly_report(request: Request, actor: Overseer, sent: Annotated[ReportQuery, Query()], log: Log):
    try:
        chosen = chosen_month(sent.month)
    except MonthInvalid as error:
        context = page(request, actor, errors={"month": str(error)}, month_value=sent.month, report=None)
        return request.app.state.render(request, "monthly_report.jinja", context, status_code=422)
    report = caught_up_views(request).view("dashboard_figures").month_report(actor.practice, chosen.year, chosen.month)
    following = next_month(chosen)
    month = month_filters(chosen)
    context = page(
        request,
        actor,
        errors={},
        month_value=chosen.strftime("%Y-%m"),
        report=report,
        sections=report_sections(report) + recording_sections(log.recording_month(actor, chosen)),
        happened_link=page_link(month["happened"], 1),
        closed_link=page_link(month["closed"], 1),
        incidents_csv_link=page_link(month["happened"], 1, "/incidents.csv"),
        list_link=lambda filters: page_link(filters, 1),
        previous=previous_month(chosen).strftime("%Y-%m"),
        following=following.strftime("%Y-%m") if following else None,
        now=datetime.now(timezone.utc),
    )
    return request.app.state.render(request, "monthly_report.jinja", context)


@router.get("/monthly.csv")
def monthly_report_csv(request: Request, actor: Overseer, sent: Annotated[ReportQuery, Query()], log: Log):
    try:
        chosen = chosen_month(sent.month)
    except MonthInvalid as error:
        return Response(str(error) + "\n", status_code=422, media_type="text/plain; charset=utf-8")
    report = caught_up_views(request).view("dashboard_figures").month_report(actor.practice, chosen.year, chosen.month)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["practice", "month", "table", "label", "count"])
    for section in report_sections(report) + recording_sections(log.recording_month(actor, chosen)):
        for label, count, _ in section["rows"]:
            writer.writerow([actor.practice, chosen.strftime("%Y-%m"), section["name"], label, count])
    filename = f"incidents-{actor.practice}-{chosen.strftime('%Y-%m')}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
