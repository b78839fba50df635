"""Who is signed in, for how long, and proof that a form came from our own page.

The session is a signed, HttpOnly, SameSite cookie (Starlette's SessionMiddleware). It names the
account and the account's session version; a sign-out, a new password or a disabled account
raises that version, so every copy of an older cookie stops working at once. A session idle for
longer than the timeout ends, and the next page is the sign-in page, with nothing left on screen;
a session older than INCIDENTS_SESSION_MAX_HOURS ends however busy it is.
"""

from __future__ import annotations

import hmac
import secrets
import time
from uuid import UUID

from fastapi import Request

from incidents.application.service import Actor, IncidentLog


class SignInRequired(Exception):
    def __init__(self, reason: str = "") -> None:
        self.reason = reason


class CsrfFailed(Exception):
    pass


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed()


def start_session(request: Request, actor: Actor, session_version: int) -> None:
    request.session.clear()
    request.session.update(
        uid=str(actor.user_id), sv=session_version, seen=int(time.time()), started=int(time.time()), csrf=secrets.token_urlsafe(32)
    )


def end_session(request: Request) -> None:
    request.session.clear()


def expired(session: dict, idle_seconds: int, max_seconds: int) -> str:
    """Why the session has run out ("inactive" or "ended"), or "" while it stands. A session
    without a start time comes from before sessions had one, and has run out."""
    now = int(time.time())
    if now - int(session.get("started", 0)) > max_seconds:
        return "ended"
    if now - int(session.get("seen", 0)) > idle_seconds:
        return "inactive"
    return ""


def signed_in_actor(request: Request, log: IncidentLog, idle_seconds: int, activity: bool = True, max_seconds: int = 12 * 3600) -> Actor:
    """The session's actor; `activity=False` for requests a page makes by itself (a dashboard's
    polling), which must not keep an unattended screen signed in."""
    session = request.session
    uid = session.get("uid")
    if not uid:
        raise SignInRequired()
    now = int(time.time())
    reason = expired(session, idle_seconds, max_seconds)
    if reason:
        end_session(request)
        raise SignInRequired(reason)
    try:
        actor = log.actor_for_session(UUID(uid), int(session.get("sv", 0)))
    except ValueError:
        actor = None
    if actor is None:
        end_session(request)
        raise SignInRequired("ended")
    if activity and now - int(session["seen"]) >= min(15, idle_seconds // 4):  # not a new cookie for every request of a burst
        session["seen"] = now
    return actor
