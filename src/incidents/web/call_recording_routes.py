"""The practice's call recording policy, for managers and the governance lead: the policy as it
stands, how callers are told (the notice register's notices on the policy's channels), who
listened to which call and why, and its history; adopting, changing and ending it. Any member
of staff may log a listening: the policy decides whether their role may listen, and says why not.
Forms work without JavaScript: POST, then 303 to the page that shows the result."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from incidents.application.call_recording import EndCallPolicy, LogListening, PolicyNotAdopted, SetCallPolicy
from incidents.application.records import uk_today
from incidents.application.service import Actor, IncidentLog
from incidents.domain.call_recording import (
    ALL_CALLS,
    CALLER_CHANNELS,
    LISTENER_ROLES,
    MESSAGE_ON_THE_LINE,
    PURPOSES,
    SCOPES,
    CallInvalid,
    CallRecordingPolicy,
    InvalidRetention,
    ListenerNotAllowed,
    MessageOnLineRequired,
    NoListeners,
    NoPurpose,
    NumberInvalid,
    PurposeNotInPolicy,
    SinglesOutCallers,
)
from incidents.domain.values import DomainError

from .deps import REFUSED, Anyone, Form, Log, Overseer, every_value, page
from .disclosure_routes import with_call
from .forms import FormInvalid, parse
from .record_page import NewRecordForm

router = APIRouter(prefix="/call-recording", tags=["call recording"])

SAVED = {
    "policy": "The policy is recorded. Its earlier versions stay in its history.",
    "ended": "The policy has ended: calls are no longer recorded from that day. Its history stays.",
    "listened": "The listening is in the log, with your name, the call and why.",
}
ERRORS = {
    "scope": "Choose what is recorded",
    "purposes": "Choose at least one purpose calls are recorded for",
    "listeners": "Choose who may listen to recordings",
    "retention_months": "Enter how many months recordings are kept: a whole number from 1 to 360",
    "system": "Enter the system or supplier that holds the recordings",
    "told_by": "Choose how callers are told: a message on the line at least",
    "in_force_from": "Enter the day the policy is in force from",
    "ended_from": "Enter the first day calls are no longer recorded",
    "reason": "Enter the reason",
    "call_at": "Enter the date and time of the call, like 25/11/2026 and 14:05",
    "purpose": "Choose why you are listening",
}
# The field each refusal of the record is shown beside.
POLICY_REFUSALS: tuple[tuple[type[DomainError], str], ...] = (
    (SinglesOutCallers, "scope"),
    (MessageOnLineRequired, "told_by"),
    (NoPurpose, "purposes"),
    (NoListeners, "listeners"),
    (InvalidRetention, "retention_months"),
)
LISTEN_REFUSALS = ((NumberInvalid, "caller"), (CallInvalid, "call_at"), ((ListenerNotAllowed, PurposeNotInPolicy, PolicyNotAdopted), "_"))


def worded(invalid: FormInvalid) -> dict[str, str]:
    """A missing answer in this page's words; any other message stays as it is."""
    blank = lambda t: (t.startswith("Enter ") and "real date" not in t) or "at least 1 item" in t or "valid integer" in t  # noqa: E731
    return {f: ERRORS[f] if f in ERRORS and (blank(t) or f == "retention_months") else t for f, t in invalid.errors.items()}


Purposes = Annotated[list[str], Depends(every_value("purposes"))]
Listeners = Annotated[list[str], Depends(every_value("listeners"))]
ToldBy = Annotated[list[str], Depends(every_value("told_by"))]


def current_values(policy: CallRecordingPolicy | None) -> dict[str, Any]:
    """The change form, filled in with the policy as it stands (or a new policy's defaults)."""
    if policy is None:
        return {
            "scope": ALL_CALLS, "purposes": [], "listeners": ["manager", "governance"], "retention_months": "",
            "system": "", "told_by": [MESSAGE_ON_THE_LINE], "in_force_from": uk_today().isoformat(),
        }
    terms = policy.current
    return {
        "scope": terms.scope, "purposes": list(terms.purposes), "listeners": list(terms.listeners),
        "retention_months": str(terms.retention_months), "system": terms.system, "told_by": list(terms.told_by),
        "in_force_from": uk_today().isoformat(),
    }


def channel_rows(actor: Actor, log: IncidentLog, policy: CallRecordingPolicy | None) -> list[dict[str, Any]]:
    """How callers are told: each channel the policy names, with the notices in force on it today."""
    if policy is None:
        return []
    in_force = log.notices_in_force(actor, uk_today())
    return [
        {"channel": ch, "label": CALLER_CHANNELS[ch], "notices": [n for n in in_force if n.channel == ch]}
        for ch in policy.current.told_by
    ]


def policy_page(
    request: Request, actor: Actor, log: IncidentLog, *, form_name: str = "", values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, saved: str = "", status: int = 200,
) -> Response:
    policy = log.call_policy(actor)
    today = uk_today()
    if policy is None:
        state = ("Not adopted", "nhsuk-tag--grey")
    elif policy.in_force_on(today):
        state = ("In force", "nhsuk-tag--green")
    elif policy.status == "ended":
        state = ("Ended", "nhsuk-tag--grey")
    else:
        state = ("Not yet in force", "nhsuk-tag--yellow")
    fresh = {**current_values(policy), "ended_from": today.isoformat()}
    context = page(
        request, actor,
        policy=policy, state=state, form_name=form_name, errors=errors or {}, values={**fresh, **(values or {})},
        saved=SAVED.get(saved, ""), history=log.call_policy_history(actor), channels=channel_rows(actor, log, policy),
        missing=log.missing_caller_notices(actor, today) or [], listenings=list(reversed(policy.listenings)) if policy else [],
        labels={k: ", ".join(names[c] for c in getattr(policy.current, k)) for k, names in (("purposes", PURPOSES), ("listeners", LISTENER_ROLES))} if policy else {},
        scopes=SCOPES, purposes=PURPOSES, listener_roles=LISTENER_ROLES, caller_channels=CALLER_CHANNELS,
    )
    return request.app.state.render(request, "call_recording.jinja", context, status_code=status)


@router.get("")
def show_policy(request: Request, actor: Overseer, log: Log, saved: str = ""):
    return policy_page(request, actor, log, saved=saved)


def _changed(request: Request, actor: Actor, log: IncidentLog, form_name: str, form: dict[str, Any], model: type, call: Any, refusals: Any = ()) -> Response:
    try:
        call(parse(model, form), actor)
    except FormInvalid as invalid:
        return policy_page(request, actor, log, form_name=form_name, values=form, errors=worded(invalid), status=422)
    except REFUSED:
        raise
    except DomainError as error:
        field = next((name for kinds, name in refusals if isinstance(error, kinds)), "_")
        return policy_page(request, actor, log, form_name=form_name, values=form, errors={field: str(error)}, status=422)
    return RedirectResponse(f"/call-recording?saved={form_name}", status_code=303)


@router.post("")
def set_policy(
    request: Request, actor: Overseer, form: Form, log: Log,
    purposes: Purposes, listeners: Listeners, told_by: ToldBy,
):
    form = {**form, "purposes": purposes, "listeners": listeners, "told_by": told_by}
    if form.get("scope") == ALL_CALLS:
        form["only_callers"] = ""  # asked only under "particular callers": hidden, and left behind, once every call is chosen
    return _changed(request, actor, log, "policy", form, SetCallPolicy, log.set_call_policy, POLICY_REFUSALS)


@router.post("/end")
def end_policy(request: Request, actor: Overseer, form: Form, log: Log):
    return _changed(request, actor, log, "ended", form, EndCallPolicy, log.end_call_policy)


# Listening to a recording: any member of staff asks, the policy decides -------------

LISTEN = NewRecordForm(
    "call_listen.jinja", "/call-recording/listenings/new?saved=listened", lambda: {"purposes": PURPOSES},
    lambda: {"submission_key": uuid.uuid4().hex}, worded, LISTEN_REFUSALS, prepare=with_call,
)


@router.get("/listenings/new")
def listen_form(request: Request, actor: Anyone, saved: str = ""):
    context = page(request, actor, values={"submission_key": uuid.uuid4().hex}, errors={}, purposes=PURPOSES, saved=SAVED.get(saved, "") if saved == "listened" else "")
    return request.app.state.render(request, "call_listen.jinja", context)


@router.post("/listenings")
def log_listening(request: Request, actor: Anyone, form: Form, log: Log):
    return LISTEN.make(request, actor, log, form, LogListening, log.log_listening)
