"""Request dependencies: the application, the signed-in actor with a role check, posted forms."""

from __future__ import annotations

from typing import Annotated, Any, Callable
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from incidents.application.service import Actor, IncidentLog, NotFound, NotPermitted
from incidents.projections.running.runner import Projections

from .sessions import check_csrf, csrf_token, signed_in_actor

ALL_ROLES = ("reception", "manager", "governance")
REFUSED = (NotFound, NotPermitted)  # answered by the app's error pages (404, 403), never as a form's error


async def get_log(request: Request) -> IncidentLog:
    return request.app.state.log


def idle_seconds(settings: Any) -> int:
    return round(settings.idle_timeout_minutes * 60)


def max_session_seconds(settings: Any) -> int:
    return round(settings.session_max_hours * 3600)


def signed_in(request: Request, activity: bool = True) -> Actor:
    state = request.app.state
    actor = signed_in_actor(request, state.log, idle_seconds(state.settings), activity, max_session_seconds(state.settings))
    request.state.actor = actor  # for an error page that says more to who is signed in (a record disposed of)
    return actor


def signed_in_as(request: Request, roles: tuple[str, ...], activity: bool = True) -> Actor:
    """The signed-in actor, if they hold one of these roles (blocking: it asks the event store)."""
    actor = signed_in(request, activity)
    if not actor.holds(*roles):
        raise NotPermitted(f"This needs the {' or '.join(roles)} role")
    return actor


def allow(*roles: str, activity: bool = True) -> Callable[..., Actor]:
    """A dependency admitting only the given roles: every route declares who may use it.

    One plain function (one trip to the thread pool) that reads the session and checks the role.
    `activity=False` for a route a page calls by itself, which must not count as someone there.
    """

    def check(request: Request) -> Actor:
        return signed_in_as(request, roles, activity)

    check.roles = roles  # type: ignore[attr-defined]
    return check


MANAGERS = ("manager",)
GOVERNANCE = ("governance",)
OVERSEERS = ("manager", "governance")  # the practice-wide views

Log = Annotated[IncidentLog, Depends(get_log)]
Anyone = Annotated[Actor, Depends(allow(*ALL_ROLES))]
Manager = Annotated[Actor, Depends(allow(*MANAGERS))]
Governance = Annotated[Actor, Depends(allow(*GOVERNANCE))]
Overseer = Annotated[Actor, Depends(allow(*OVERSEERS))]
Polling = Annotated[Actor, Depends(allow(*OVERSEERS, activity=False))]


NOT_UTF8 = "The form could not be read: it was not sent as UTF-8 text. Reload the page and try again."


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """A URL-encoded body's names and values, read as UTF-8 whether sent raw or %-escaped;
    anything else is refused (400) rather than stored garbled."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise HTTPException(400, NOT_UTF8) from None


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields. Our forms are URL-encoded: those are parsed in one call,
    a fraction of the cost of Starlette's streaming parser, which still reads anything else."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return dict(form_pairs(await request.body()))
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def checked(request: Request, data: dict[str, str]) -> dict[str, str]:
    """The form without its CSRF token, once the token is checked."""
    check_csrf(request, data.pop("csrf_token", None) or request.headers.get("X-CSRF-Token"))
    return data


async def posted(request: Request) -> dict[str, str]:
    """The posted form's text fields, after its CSRF token is checked."""
    return checked(request, await form_fields(request))


Form = Annotated[dict[str, str], Depends(posted)]


def every_value(name: str) -> Callable[..., Any]:
    """A dependency giving every value posted under one name (ticked checkboxes), where Form keeps one."""

    async def values(request: Request) -> list[str]:
        content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            return [v for k, v in form_pairs(await request.body()) if k == name]
        return [v for v in (await request.form()).getlist(name) if isinstance(v, str)]

    return values


Roles = Annotated[list[str], Depends(every_value("roles"))]


def page(request: Request, actor: Actor | None = None, **context: Any) -> dict[str, Any]:
    return {
        "actor": actor,
        "csrf_token": csrf_token(request),
        "path": request.url.path,
        "idle_seconds": idle_seconds(request.app.state.settings),
        **context,
    }


def caught_up_views(request: Request) -> Projections | None:
    """The read models, once they include every event recorded before this page was asked for,
    the user's own changes among them, from whichever device (a bounded wait)."""
    projections: Projections | None = request.app.state.projections
    if projections is not None:
        latest = request.app.state.log.recorder.max_notification_id()
        if latest:
            projections.wait(latest, request.app.state.settings.view_wait_seconds)
    return projections
