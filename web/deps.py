"""Request dependencies: the application, the signed-in actor with a role check, posted forms."""

from __future__ import annotations

from typing import Any, Callable

from fastapi import Request

from incidents.application.service import Actor, IncidentLog, NotPermitted
from incidents.projections.runner import Projections

from .sessions import check_csrf, csrf_token, signed_in_actor

ALL_ROLES = ("reception", "manager", "governance")


async def get_log(request: Request) -> IncidentLog:
    return request.app.state.log


def signed_in(request: Request) -> Actor:
    state = request.app.state
    return signed_in_actor(request, state.log, state.settings.idle_timeout_minutes * 60)


def allow(*roles: str) -> Callable[..., Actor]:
    """A dependency admitting only the given roles: every route declares who may use it.

    One plain function (one trip to the thread pool) that reads the session and checks the role.
    """

    def check(request: Request) -> Actor:
        actor = signed_in(request)
        if actor.role not in roles:
            raise NotPermitted(f"This needs the {' or '.join(roles)} role")
        return actor

    check.roles = roles  # type: ignore[attr-defined]
    return check


async def posted(request: Request) -> dict[str, str]:
    """The posted form's text fields, after its CSRF token is checked."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, data.pop("csrf_token", None) or request.headers.get("X-CSRF-Token"))
    return data


def page(request: Request, actor: Actor | None = None, **context: Any) -> dict[str, Any]:
    return {
        "actor": actor,
        "csrf_token": csrf_token(request),
        "path": request.url.path,
        "idle_seconds": request.app.state.settings.idle_timeout_minutes * 60,
        **context,
    }


def remember_change(request: Request, notification_id: int) -> None:
    """Note the user's latest change, so pages that read views wait until they show it."""
    if notification_id > int(request.session.get("nid", 0)):
        request.session["nid"] = notification_id


def caught_up_views(request: Request) -> Projections | None:
    """The read models, once they include this user's own latest change (bounded wait)."""
    projections: Projections | None = request.app.state.projections
    if projections is not None and request.session.get("nid"):
        projections.wait(int(request.session["nid"]), request.app.state.settings.view_wait_seconds)
    return projections
