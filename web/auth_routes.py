"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from incidents.application.service import Actor, IncidentLog

from .deps import ALL_ROLES, allow, get_log, page, posted
from .sessions import end_session, start_session

router = APIRouter()

NOTICES = {
    "inactive": "You were signed out because the screen was left alone. Sign in again.",
    "ended": "Your session has ended. Sign in again.",
    "signed-out": "You have signed out.",
}


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/sign-in")
def sign_in_page(request: Request, reason: str = "", next: str = "/"):
    renderer = request.app.state.render
    if reason == "inactive":
        end_session(request)  # the tablet was left alone: nothing of the last user stays
    return renderer(
        request,
        "sign_in.jinja",
        page(request, notice=NOTICES.get(reason, ""), next=safe_next(next), values={}, errors={}),
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    form: Annotated[dict[str, str], Depends(posted)],
    log: Annotated[IncidentLog, Depends(get_log)],
):
    username = form.get("username", "").strip()
    password = form.get("password", "")
    result = log.authenticate(username, password) if username and password else None
    if result is None:
        errors = {"username": "Enter a correct username and password"}
        return request.app.state.render(
            request,
            "sign_in.jinja",
            page(request, notice="", next=safe_next(form.get("next")), values={"username": username}, errors=errors),
            status_code=401,
        )
    actor, session_version = result
    start_session(request, actor, session_version)
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


@router.post("/sign-out")
def sign_out(
    request: Request,
    form: Annotated[dict[str, str], Depends(posted)],
    actor: Annotated[Actor, Depends(allow(*ALL_ROLES))],
    log: Annotated[IncidentLog, Depends(get_log)],
):
    log.sign_out(actor.user_id)
    end_session(request)
    return RedirectResponse("/sign-in?reason=signed-out", status_code=303)
