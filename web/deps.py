"""Request dependencies: the application, the signed-in actor with a role check, posted forms."""

from __future__ import annotations

from typing import Any, Callable

from fastapi import Depends, Request

from incidents.application.service import Actor, IncidentLog, NotPermitted

from .sessions import check_csrf, csrf_token, signed_in_actor

ALL_ROLES = ("reception", "manager", "governance")


def get_log(request: Request) -> IncidentLog:
    return request.app.state.log


def signed_in(request: Request) -> Actor:
    state = request.app.state
    return signed_in_actor(request, state.log, state.settings.idle_timeout_minutes * 60)


def allow(*roles: str) -> Callable[..., Actor]:
    """A dependency admitting only the given roles: every route declares who may use it."""

    def check(actor: Actor = Depends(signed_in)) -> Actor:
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
