"""Staff accounts, for the governance lead of a practice: list, add, change roles, reset a password,
disable, enable.

A one-time password is rendered in the answer to the POST that made it (never redirected, never
kept in the session cookie, which is signed but readable), so it is shown once and never again.
Accounts of another practice do not exist here (404), whatever id is guessed.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from incidents.application import commands as c
from incidents.application.service import Actor, IncidentLog, OneTimePassword, UsernameTaken
from incidents.domain.accounts import ROLES, StaffAccount
from incidents.domain.values import DomainError, InvalidValue

from .deps import Form, Governance, Log, Roles, page
from .forms import FormInvalid
from .record_page import NewRecordForm, RecordPage
from .templating import UK, role_names

router = APIRouter(prefix="/staff", tags=["staff"])

SAVED = {
    "disabled": "The account is disabled. The person was signed out everywhere.",
    "enabled": "The account is enabled. The person can sign in again.",
    "roles": "The roles are changed. The person's pages follow at once, on every device.",
}
ADD_STAFF_ERRORS = {
    "display_name": "Enter the person's full name",
    "username": "Enter a username of 2 to 64 lower-case letters, digits, dots, dashes or underscores, like sue.patel",
    "roles": "Choose at least one role",
}
SYSTEM_ACTORS = {"cli": "The command line (incidents users add)", "first-run": "The service, on its first start"}
WHAT = {
    "Registered": "Account created",
    "NewPasswordRequired": "One-time password given: a new password to be chosen at the first sign-in",
    "PasswordReset": "Password reset: one-time password given, signed out everywhere",
    "OneTimePasswordUsed": "Signed in with the one-time password",
    "PasswordChanged": "Chose a new password",
    "PasswordRehashed": "Stored password upgraded",
    "SignedOut": "Signed out",
    "Disabled": "Account disabled: signed out everywhere",
    "Enabled": "Account enabled",
    "RolesChanged": "Roles changed",
}


def staff_names(log: IncidentLog, actor: Actor) -> dict[str, str]:
    return {account.username: account.display_name for account in log.staff(actor)}


def history_rows(account: StaffAccount, events: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each event as what, who and when; who is the actor the event names, or the person themself."""
    rows = []
    for e in events:
        kind = type(e).__name__
        who = getattr(e, "actor", None) or account.username
        details = []
        if kind == "Registered":
            details.append(f"{e.display_name}, {role_names(e.roles)}, practice {e.practice}")
        if kind == "RolesChanged":
            details.append(role_names(e.roles))
        if kind == "Disabled" and e.reason:
            details.append(f"Reason: {e.reason}")
        rows.append({
            "what": WHAT.get(kind, kind),
            "who": f"{names[who]} ({who})" if who in names else SYSTEM_ACTORS.get(who, who),
            "when": e.timestamp,
            "details": details,
        })
    return rows


@router.get("")
def staff_list(request: Request, actor: Governance, log: Log):
    accounts = sorted(log.staff(actor), key=lambda a: a.display_name.casefold())
    return request.app.state.render(request, "staff.jinja", page(request, actor, accounts=accounts, roles=ROLES))


def added_words(invalid: FormInvalid) -> dict[str, str]:
    """Pydantic's words for a pattern or a choice, put as a person would; a length limit stays."""
    return {f: t if "at most" in t else ADD_STAFF_ERRORS.get(f, t) for f, t in invalid.errors.items()}


def account_created(request: Request, actor: Actor, log: IncidentLog, issued: OneTimePassword):
    return password_page(request, actor, log, issued, "Account created")


NEW_STAFF = NewRecordForm(
    "staff_new.jinja", "", lambda: {"roles": ROLES}, dict, added_words, ((UsernameTaken, "username"), (InvalidValue, "display_name")), account_created
)


@router.get("/new")
def new_staff(request: Request, actor: Governance):
    return NEW_STAFF.show(request, actor)


@router.post("")
def add_staff(request: Request, actor: Governance, form: Form, roles: Roles, log: Log):
    return NEW_STAFF.make(request, actor, log, {**form, "roles": roles}, c.AddStaff, partial(IncidentLog.add_staff, log))


def password_page(request: Request, actor: Actor, log: IncidentLog, issued: OneTimePassword, title: str):
    account = log.staff_account(actor, issued.account_id)
    expires_at = issued.expires_at.astimezone(UK).strftime("%A %-d %B %Y at %H:%M")
    context = page(request, actor, account=account, password=issued.password, expires_at=expires_at, title=title, roles=ROLES)
    return request.app.state.render(request, "staff_password.jinja", context)


def account_context(request: Request, actor: Actor, log: IncidentLog, account: StaffAccount, shown: dict[str, Any]) -> dict[str, Any]:
    history = history_rows(account, log.account_history(actor, account.id), staff_names(log, actor))
    return {"account": account, "history": history, "roles": ROLES, "own": account.id == actor.user_id}


def account_words(invalid: FormInvalid) -> dict[str, str]:
    return {f: ADD_STAFF_ERRORS["roles"] if f == "roles" else t for f, t in invalid.errors.items()}


# A refusal (disabling one's own account) is about the reason's form: shown beside it.
ACCOUNT = RecordPage("staff_account.jinja", "/staff/{}?saved={}", "account_id", IncidentLog.staff_account, account_context, SAVED, account_words, conflict=409, error_field="reason")


@router.get("/{account_id}")
def show_account(request: Request, account_id: UUID, actor: Governance, log: Log, saved: str = ""):
    return ACCOUNT.show(request, actor, log, account_id, saved=saved)


@router.post("/{account_id}/reset-password")
def reset_password(request: Request, account_id: UUID, actor: Governance, form: Form, log: Log):
    log.staff_account(actor, account_id)
    issued = log.reset_password(c.ResetPassword(account_id=account_id), actor)
    return password_page(request, actor, log, issued, "Password reset")


@router.post("/{account_id}/roles")
def change_roles(request: Request, account_id: UUID, actor: Governance, form: Form, roles: Roles, log: Log):
    return ACCOUNT.change(request, actor, log, account_id, "roles", {**form, "roles": roles}, c.ChangeRoles, partial(IncidentLog.change_roles, log), refusals=((DomainError, "roles"),))


ACCOUNT.change_routes(router, Governance, {
    "disable": ("disabled", c.DisableAccount, IncidentLog.disable_account),
    "enable": ("enabled", c.EnableAccount, IncidentLog.enable_account),
})
