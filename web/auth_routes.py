"""Signing in and out."""

from __future__ import annotations

import secrets
import time
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from incidents.application import commands as c
from incidents.application.service import Actor, IncidentLog, PasswordChoiceExpired, SamePassword
from incidents.domain.accounts import OneTimePasswordExpired, UnacceptablePassword, acceptable_password

from .deps import ALL_ROLES, allow, get_log, idle_seconds, page, posted
from .sessions import end_session, start_session
from .throttle import SignInThrottle

router = APIRouter()

NOTICES = {
    "inactive": "You were signed out because the screen was left alone. Sign in again.",
    "ended": "Your session has ended. Sign in again.",
    "signed-out": "You have signed out.",
    "unsaved": "You were signed out, so what you had just entered was NOT saved. Sign in to go back to the form: "
    "this browser keeps what you typed and puts it back, for you to check and send again.",
}


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/sign-in")
def sign_in_page(request: Request, reason: str = "", next: str = "/"):
    renderer = request.app.state.render
    if reason in ("inactive", "unsaved"):
        end_session(request)  # the tablet was left alone: nothing of the last user stays
    elif reason == "switch":
        end_session(request)  # someone else at the tablet, in the middle of a password choice
    elif password_choice(request):
        return RedirectResponse("/choose-password", status_code=303)  # the one-time password is spent
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
    try:
        result = log.authenticate(username, password) if username and password else None
    except OneTimePasswordExpired as expired:
        return sign_in_again(request, form, username, {"password": str(expired)}, 401)
    if result is None:
        throttle.failed(*keys)
        return sign_in_again(request, form, username, {"username": "Enter a correct username and password"}, 401)
    throttle.succeeded(keys[0])
    actor, session_version = result
    if log.needs_new_password(actor.user_id):
        start_password_choice(request, actor, session_version)
        return RedirectResponse("/choose-password", status_code=303)
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


# Choosing a new password after signing in with a one-time password --------------------------
# The session holds the account under another key than a signed-in session, so every other
# route still sees nobody signed in: a one-time password opens this page and nothing else.

CHOICE_KEY = "choose_uid"


def start_password_choice(request: Request, actor: Actor, session_version: int) -> None:
    request.session.clear()
    request.session.update({CHOICE_KEY: str(actor.user_id), "sv": session_version, "seen": int(time.time()), "csrf": secrets.token_urlsafe(32)})


def password_choice(request: Request) -> tuple[UUID, int] | None:
    """The account and session version of a password choice still in time, else None."""
    uid = request.session.get(CHOICE_KEY)
    if not uid:
        return None
    if int(time.time()) - int(request.session.get("seen", 0)) > idle_seconds(request.app.state.settings):
        end_session(request)
        return None
    try:
        return UUID(uid), int(request.session.get("sv", 0))
    except ValueError:
        end_session(request)
        return None


def not_choosing(request: Request) -> RedirectResponse:
    """Signed in already (nothing to choose here), or nobody is: sign in."""
    return RedirectResponse("/" if request.session.get("uid") else "/sign-in", status_code=303)


@router.get("/choose-password")
def choose_password_page(request: Request, log: Annotated[IncidentLog, Depends(get_log)]):
    choice = password_choice(request)
    if choice is None:
        return not_choosing(request)
    actor = log.actor_for_session(*choice)
    if actor is None:
        end_session(request)
        return RedirectResponse("/sign-in?reason=ended", status_code=303)
    return choose_password_again(request, actor.display_name, {})


def unacceptable(password: str) -> str:
    """Why this password may not be chosen, or '' if it may."""
    try:
        acceptable_password(password)
    except UnacceptablePassword as error:
        return str(error)
    return ""


def choose_password_again(request: Request, name: str, errors: dict[str, str], status: int = 200):
    return request.app.state.render(
        request, "staff_choose_password.jinja", page(request, name=name, errors=errors), status_code=status
    )


@router.post("/choose-password")
def choose_password(
    request: Request,
    form: Annotated[dict[str, str], Depends(posted)],
    log: Annotated[IncidentLog, Depends(get_log)],
):
    choice = password_choice(request)
    if choice is None:
        return not_choosing(request)
    password, errors = form.get("password", ""), {}
    if not password:
        errors["password"] = "Enter a new password"
    elif problem := unacceptable(password):
        errors["password"] = problem
    elif form.get("confirm", "") != password:
        errors["confirm"] = "The two passwords are not the same: type the new password again"
    else:
        try:
            actor, session_version = log.choose_password(*choice, c.ChoosePassword(password=password))
        except SamePassword as error:
            errors["password"] = str(error)
        except PasswordChoiceExpired:
            end_session(request)
            return RedirectResponse("/sign-in?reason=ended", status_code=303)
    if errors:
        person = log.actor_for_session(*choice)
        if person is None:
            end_session(request)
            return RedirectResponse("/sign-in?reason=ended", status_code=303)
        return choose_password_again(request, person.display_name, errors, 422)
    start_session(request, actor, session_version)
    return RedirectResponse("/", status_code=303)
