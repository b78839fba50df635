"""Signing in and out."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from incidents.application.service import Actor, IncidentLog

from .deps import ALL_ROLES, allow, get_log, page, posted
from .sessions import end_session, start_session
from .throttle import SignInThrottle

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
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    keys = (f"user:{username.lower()}", f"addr:{request.client.host if request.client else '-'}")
    wait = throttle.locked_for(*keys)
    if wait:
        minutes = max(1, round(wait / 60))
        errors = {"username": f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}, or ask the practice manager."}
        return sign_in_again(request, form, username, errors, 429)
    time.sleep(throttle.delay_for(*keys))
    result = log.authenticate(username, password) if username and password else None
    if result is None:
        throttle.failed(*keys)
        return sign_in_again(request, form, username, {"username": "Enter a correct username and password"}, 401)
    throttle.succeeded(keys[0])
    actor, session_version = result
    start_session(request, actor, session_version)
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


def sign_in_again(request: Request, form: dict[str, str], username: str, errors: dict[str, str], status: int):
    return request.app.state.render(
        request,
        "sign_in.jinja",
        page(request, notice="", next=safe_next(form.get("next")), values={"username": username}, errors=errors),
        status_code=status,
    )


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
