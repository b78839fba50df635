"""The home pages: for reception, today's incidents; for the manager, the dashboard: open
incidents, what needs someone, the year's trend, recent incidents.

What needs someone shows each role the items it sees (a disclosure request's deadline only to
governance, who alone can open the request); each item links to its incident or request.

It reads the views only. It refreshes itself: the page polls a cheap endpoint that answers
204 (nothing to swap) until an event has been recorded since the figures shown were read.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from incidents.application.notices import RequiredNotice
from incidents.application.service import INCIDENT_KINDS, Actor, IncidentLog
from incidents.domain.disclosure import REQUESTER_TYPES
from incidents.projections.action_queue import DISCLOSURE, DISCLOSURE_DUE, PRACTICE_RECORDING, RETENTION_REVIEW, ActionItem, HeldRecord, IdleIncident, actions_seen_by
from incidents.projections.figures import DashboardFigures
from incidents.projections.summaries import MAX_PAGE_SIZE, SummaryQuery

from .charts import trend_chart
from .deps import Anyone, Log, Overseer, Polling, caught_up_views, page
from .forms import UK
from .incident_routes import summary_row

router = APIRouter(tags=["home"])
POLL_SECONDS = 5
RECENT_DAYS = 30
QUEUE_SHOWN = 100
RESPONSES_SHOWN = 8
HOME_KINDS = ("filming", "recording")  # filming first: it is logged while it happens


@router.get("/")
def home(request: Request, actor: Anyone):
    projections = caught_up_views(request)
    today = datetime.now(UK).date()
    query = SummaryQuery(actor.practice, occurred_from=today, occurred_to=today, page_size=MAX_PAGE_SIZE)
    rows = projections.summaries.search(query).rows if projections else []
    context = page(request, actor, today=[summary_row(r) for r in rows], kinds=[INCIDENT_KINDS[k] for k in HOME_KINDS])
    return request.app.state.render(request, "home.jinja", context, block="today")



def response_label(name: str) -> str:
    for kind_class in INCIDENT_KINDS.values():
        response = kind_class.RESPONSES.get(name)
        if response is not None:
            return response.label
    return name


def item_link(item: ActionItem) -> str:
    if item.action == RETENTION_REVIEW.code:
        return f"/retention/{item.incident_id}"
    if item.kind == DISCLOSURE:
        return f"/disclosures/{item.incident_id}"
    if item.kind == PRACTICE_RECORDING:
        return f"/recordings/{item.incident_id}"
    return f"/incidents/{item.incident_id}"


def item_subject(item: ActionItem) -> str:
    """What the item is about: the incident's kind, or who asked for a disclosure."""
    if item.kind == DISCLOSURE:
        requester = item.requester
        if requester is None:
            return "Disclosure request"
        return f"Request from {REQUESTER_TYPES.get(requester.requester_type, requester.requester_type)}, ref {requester.reference}"
    if item.kind == PRACTICE_RECORDING:
        return f"A recording the practice made: {item.detail[:1].lower()}{item.detail[1:]}" if item.detail else "A recording the practice made"
    return INCIDENT_KINDS[item.kind].TITLE


def with_ref(title: str, ref: str | None) -> str:
    return f"{ref}: {title}" if ref else title


def queue_row(item: ActionItem, refs: dict[UUID, str]) -> dict[str, Any]:
    return {
        "id": item.incident_id,
        "link": item_link(item),
        "title": with_ref(item_subject(item), item.ref or refs.get(item.incident_id)),
        "label": item.label,
        "due_wording": item.due_wording,
        "due_at": item.due_at,
        "since": item.since,
        "overdue": item.overdue,
        "is_window": item.is_window,
        "detail": item.detail,
    }


def held_row(held: HeldRecord, actor: Actor) -> dict[str, Any]:
    """A record under legal hold: governance opens its retention page, a manager the incident."""
    if actor.holds("governance"):
        link = f"/retention/{held.record_id}"
    else:
        link = "" if held.kind == DISCLOSURE else f"/incidents/{held.record_id}"
    title = "Disclosure request" if held.kind == DISCLOSURE else INCIDENT_KINDS[held.kind].TITLE
    title = f"{held.ref}: {title}" if held.ref else title
    return {"link": link, "title": title, "reason": held.reason_label, "since": held.since}


def quiet_row(incident: IdleIncident, now: datetime, refs: dict[UUID, str]) -> dict[str, Any]:
    return {
        "link": f"/incidents/{incident.incident_id}",
        "title": with_ref(INCIDENT_KINDS[incident.kind].TITLE, refs.get(incident.incident_id)),
        "since": incident.idle_since,
        "days": (now - incident.idle_since).days,
    }


def notice_warning(missing: RequiredNotice) -> dict[str, Any]:
    return {
        "heading": f"No notice in force: {missing.purpose}",
        "html": Markup('<p>{} <a href="/notices">Publish a notice on {}</a>.</p>').format(missing.why, " or ".join(missing.channel_labels)),
    }


VIEW_LABELS = {"incident_summaries": "the incident list", "dashboard_figures": "the dashboard figures", "action_queue": "the action queue"}


def skipped_warning(skipped: dict[str, int]) -> dict[str, Any] | None:
    """The manager's warning that views set aside events they could not record (projections/running/quarantine.py)."""
    if not skipped:
        return None
    total = sum(skipped.values())
    names = [VIEW_LABELS.get(name, name) for name in skipped]
    where = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    return {
        "heading": f"{total} recorded {'change was' if total == 1 else 'changes were'} left out of {where}",
        "html": Markup(
            "<p>They are kept in the record but could not be shown here, so lists and figures may miss them. "
            "Ask whoever runs the service to list them with <code>incidents projections quarantine</code> "
            "and, once the cause is fixed, to apply them with <code>incidents projections quarantine --retry</code>.</p>"
        ),
    }


def unreadable_warning(unreadable: set[str]) -> dict[str, Any] | None:
    """The manager's warning that stored records could not be read back: opened here (web/app.py)
    or met by the projections, which set their events aside."""
    if not unreadable:
        return None
    count = len(unreadable)
    return {
        "heading": f"{count} stored {'record' if count == 1 else 'records'} could not be read",
        "html": Markup(
            "<p>{} could not be read back from the store: part of it may be "
            "damaged, or the service may have the wrong encryption key. Ask whoever runs the service to "
            "check the store with <code>incidents verify-store</code> and to restore it from a backup if needed.</p>"
        ).format("A record" if count == 1 else f"{count} records"),
    }


def worker_warning(trouble: dict[str, Any] | None) -> dict[str, Any] | None:
    """Instead of "Up to date": the figures are not kept up to date (no projections worker, or it lags)."""
    if not trouble:
        return None
    heading = "These figures may be out of date" if trouble["status"] == "views behind" else "These figures are not being updated"
    return {
        "heading": heading,
        "html": Markup(
            "<p>Incidents logged recently may be missing from the counts and lists on this page "
            "(they are all kept in the record). Ask whoever runs the service to check the "
            "<code>incidents project</code> worker.</p>"
        ),
    }


def dashboard_context(request: Request, actor: Actor, log: IncidentLog) -> dict[str, Any]:
    """What the dashboard shows, read from the views once they include every event so far."""
    position = log.recorder.max_notification_id() or 0
    projections = caught_up_views(request)
    now = datetime.now(timezone.utc)
    figures: DashboardFigures = projections.view("dashboard_figures").figures(actor.practice, now.astimezone(UK).date())
    queue = projections.view("action_queue").due(actor.practice, now, QUEUE_SHOWN, roles=actor.roles)
    in_queue = {item.incident_id for item in queue if not item.is_window}
    quiet_before = now - timedelta(days=request.app.state.settings.quiet_days)
    quiet = [i for i in projections.view("action_queue").idle(actor.practice, quiet_before, QUEUE_SHOWN) if i.incident_id not in in_queue]
    refs = projections.summaries.refs(actor.practice, [i.incident_id for i in [*queue, *quiet] if not getattr(i, "ref", "")])
    recent = projections.summaries.reported_between(actor.practice, now - timedelta(days=RECENT_DAYS), now + timedelta(minutes=1), limit=10)
    kinds = list(INCIDENT_KINDS.values())
    chart = trend_chart(
        [m.month.strftime("%b %y") for m in figures.months],
        {k.TITLE: [m.incidents_by_kind.get(k.KIND, 0) for m in figures.months] for k in kinds},
    )
    return {
        "position": position,
        "poll_seconds": POLL_SECONDS,
        "open_cards": [{"label": k.TITLE, "count": figures.open_by_kind.get(k.KIND, 0)} for k in kinds],
        "overdue": sum(1 for item in queue if item.overdue),
        "queue": [queue_row(item, refs) for item in queue if not item.is_window],
        "windows": [queue_row(item, refs) for item in queue if item.is_window],
        "quiet": [quiet_row(incident, now, refs) for incident in quiet],
        "held": [held_row(h, actor) for h in projections.view("action_queue").held(actor.practice, QUEUE_SHOWN)],
        "quiet_days": request.app.state.settings.quiet_days,
        "queue_has_disclosures": DISCLOSURE_DUE.code in actions_seen_by(actor.roles),
        "chart": chart,
        "response_mix": [(response_label(name), count) for name, count in figures.response_mix.items()][:RESPONSES_SHOWN],
        "responses_total": sum(figures.response_mix.values()),
        "close_times": figures.close_times,
        "recent": [summary_row(r) for r in recent],
        "missing_notices": [notice_warning(m) for m in log.missing_required_notices(actor, now.astimezone(UK).date())],
        "skipped_warning": skipped_warning(projections.quarantined()) if actor.holds("manager") else None,
        "unreadable_warning": unreadable_warning({*request.app.state.unreadable, *projections.unreadable()}) if actor.holds("manager") else None,
        "worker_warning": worker_warning(projections.worker_trouble(request.app.state.settings.worker_stale_seconds)),
        "updated_at": now,
    }


@router.get("/dashboard")
def dashboard(request: Request, actor: Overseer, log: Log):
    context = page(request, actor, **dashboard_context(request, actor, log))
    return request.app.state.render(request, "dashboard.jinja", context, block="live")


@router.get("/dashboard/live")
def dashboard_live(request: Request, actor: Polling, log: Log, since: int = 0):
    """For the page's polling: nothing (204) until something was recorded after `since`."""
    if (log.recorder.max_notification_id() or 0) <= since:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    context = page(request, actor, **dashboard_context(request, actor, log))
    return request.app.state.render(request, "dashboard.jinja", context, block="live")
