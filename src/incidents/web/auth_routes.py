"""Signing in and out."""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import time
from uuid import UUID

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from incidents.application import commands as c
from incidents.application.service import Actor, PasswordChoiceExpired, SamePassword
from incidents.domain.accounts import OneTimePasswordExpired, UnacceptablePassword, acceptable_password

from .deps import Anyone, Form, Log, idle_seconds, max_session_seconds, page
from .sessions import end_session, expired, start_session
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
    # A GET changes nothing: signing out (after inactivity too) is a POST to /sign-out, so a link
    # from another site cannot sign anyone out.
    renderer = request.app.state.render
    if password_choice(request):
        return RedirectResponse("/choose-password", status_code=303)  # the one-time password is spent
    return renderer(
        request,
        "sign_in.jinja",
        page(request, notice=NOTICES.get(reason, ""), next=safe_next(next), values={}, errors={}),
    )


def password_checks(request: Request) -> anyio.CapacityLimiter:
    """At most this many argon2 checks at once, each on a thread of its own, so a burst of
    sign-ins neither blocks the event loop nor takes every thread of the pool."""
    limiter = getattr(request.app.state, "password_checks", None)
    if limiter is None:
        limiter = request.app.state.password_checks = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))
    return limiter


def client_address(request: Request) -> str:
    """The client's address, as the server saw it or as a trusted proxy said (INCIDENTS_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "-"


@router.post("/sign-in")
async def sign_in(
    request: Request,
    form: Form,
    log: Log,
):
    username = form.get("username", "").strip()
    password = form.get("password", "")
    if not (username and password):
        return sign_in_again(request, form, username, {"username": "Enter a correct username and password"}, 401)
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    reservation = await run_in_threadpool(throttle.reserve, username, client_address(request))
    if reservation.refused_for:
        minutes = max(1, round(reservation.refused_for / 60))
        errors = {"username": f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}, or ask the practice manager."}
        return sign_in_again(request, form, username, errors, 429, {"Retry-After": str(math.ceil(reservation.refused_for))})
    try:
        result = await anyio.to_thread.run_sync(log.authenticate, username, password, limiter=password_checks(request))
    except OneTimePasswordExpired as error:  # the right password, given out too long ago
        await run_in_threadpool(throttle.succeeded, reservation)
        return sign_in_again(request, form, username, {"password": str(error)}, 401)
    if result is None:
        delay = await run_in_threadpool(throttle.failed, reservation)
        await asyncio.sleep(delay)  # holds back this answer only: no thread waits
        return sign_in_again(request, form, username, {"username": "Enter a correct username and password"}, 401)
    await run_in_threadpool(throttle.succeeded, reservation)
    actor, session_version = result
    if await run_in_threadpool(log.needs_new_password, actor.user_id):
        start_password_choice(request, actor, session_version)
        return RedirectResponse("/choose-password", status_code=303)
    start_session(request, actor, session_version)
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


def sign_in_again(request: Request, form: dict[str, str], username: str, errors: dict[str, str], status: int, headers: dict[str, str] | None = None):
    return request.app.state.render(
        request,
        "sign_in.jinja",
        page(request, notice="", next=safe_next(form.get("next")), values={"username": username}, errors=errors),
        status_code=status,
        headers=headers,
    )


@router.post("/sign-out")
def sign_out(
    request: Request,
    form: Form,
    actor: Anyone,
    log: Log,
):
    if form.get("reason") == "inactive":
        end_session(request)  # the screen was left alone: this session ends, the person's others stand
        return RedirectResponse("/sign-in?reason=inactive", status_code=303)
    log.sign_out(actor.user_id)
    end_session(request)
    return RedirectResponse("/sign-in?reason=signed-out", status_code=303)


# Choosing a new password after signing in with a one-time password --------------------------
# The session holds the account under another key than a signed-in session, so every other
# route still sees nobody signed in: a one-time password opens this page and nothing else.

CHOICE_KEY = "choose_uid"


def start_password_choice(request: Request, actor: Actor, session_version: int) -> None:
    request.session.clear()
    now = int(time.time())
    request.session.update({CHOICE_KEY: str(actor.user_id), "sv": session_version, "seen": now, "started": now, "csrf": secrets.token_urlsafe(32)})


def password_choice(request: Request) -> tuple[UUID, int] | None:
    """The account and session version of a password choice still in time, else None."""
    uid = request.session.get(CHOICE_KEY)
    if not uid:
        return None
    settings = request.app.state.settings
    if expired(request.session, idle_seconds(settings), max_session_seconds(settings)):
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
def choose_password_page(request: Request, log: Log):
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
    form: Form,
    log: Log,
):
    if form.get("switch"):
        end_session(request)  # someone else at the tablet, in the middle of a password choice
        return RedirectResponse("/sign-in?reason=switch", status_code=303)
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
