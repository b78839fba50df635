"""The notice register, for the practice manager: which notices are in force, publish, revise,
withdraw. Forms work without JavaScript: POST, then 303 to the page that shows the result."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from incidents.application.notices import NoticeNotFound, PublishNotice, ReviseNotice, WithdrawNotice
from incidents.application.records import uk_today
from incidents.application.service import Actor, IncidentLog
from incidents.domain.notice import CHANNELS, Notice
from incidents.domain.values import DomainError

from .deps import allow, get_log, page, posted
from .forms import FormInvalid, parse

router = APIRouter()
Manager = Annotated[Actor, Depends(allow("manager"))]
Log = Annotated[IncidentLog, Depends(get_log)]
Form = Annotated[dict[str, str], Depends(posted)]

NO_SUCH_NOTICE = "There is no such notice in your practice."
SAVED = {
    "published": "The notice is in the register.",
    "revised": "The new wording is in the register. The old wording stays on record for the days it was in force.",
    "withdrawn": "The notice is withdrawn. It stays on record for the days it was in force.",
}
ERRORS = {
    "channel": "Choose where the notice is given",
    "wording": "Enter the wording of the notice",
    "in_service_from": "Enter the day it came into service",
    "withdrawn_from": "Enter the first day it is no longer in force",
    "reason": "Say why it is withdrawn",
}


def notice_of(log: IncidentLog, actor: Actor, notice_id: UUID) -> Notice:
    try:
        return log.get_notice(actor, notice_id)
    except NoticeNotFound:
        raise HTTPException(404, NO_SUCH_NOTICE) from None


def worded(invalid: FormInvalid) -> dict[str, str]:
    """A missing answer in this page's words; any other message stays as it is."""
    blank = lambda t: (t.startswith("Enter ") and "real date" not in t)  # noqa: E731
    return {f: ERRORS[f] if f in ERRORS and blank(t) else t for f, t in invalid.errors.items()}


def status_of(notice: Notice) -> tuple[str, str]:
    today = uk_today()
    if notice.in_force_on(today):
        return "In force", "nhsuk-tag--green"
    if notice.withdrawn_from is not None and today >= notice.withdrawn_from:
        return "Withdrawn", "nhsuk-tag--grey"
    return "Not yet in force", "nhsuk-tag--yellow"


@router.get("/notices")
def notices(request: Request, actor: Manager, log: Log, saved: str = ""):
    today = uk_today()
    rows = [
        {"notice": n, "status": status_of(n), "wording": n.wording_on(today) or n.current}
        for n in log.notices(actor)
    ]
    context = page(
        request, actor, rows=rows, missing=log.missing_required_notices(actor, today), today=today, saved=SAVED.get(saved, "")
    )
    return request.app.state.render(request, "notices.jinja", context)


@router.get("/notices/new")
def new_notice(request: Request, actor: Manager):
    values = {"submission_key": uuid.uuid4().hex, "in_service_from": uk_today().isoformat()}
    return new_notice_page(request, actor, values, {})


def new_notice_page(request: Request, actor: Actor, values: dict[str, str], errors: dict[str, str], status: int = 200):
    context = page(request, actor, values=values, errors=errors, channels=CHANNELS)
    return request.app.state.render(request, "notice_new.jinja", context, status_code=status)


@router.post("/notices")
def publish(request: Request, actor: Manager, form: Form, log: Log):
    try:
        saved = log.publish_notice(parse(PublishNotice, form), actor)
    except FormInvalid as invalid:
        return new_notice_page(request, actor, form, worded(invalid), status=422)
    except DomainError as error:
        return new_notice_page(request, actor, form, {"wording": str(error)}, status=422)
    return RedirectResponse(f"/notices/{saved.id}?saved=published", status_code=303)


@router.get("/notices/{notice_id}")
def show_notice(request: Request, notice_id: UUID, actor: Manager, log: Log, saved: str = ""):
    return notice_page(request, actor, log, notice_id, saved=saved)


def notice_page(
    request: Request,
    actor: Actor,
    log: IncidentLog,
    notice_id: UUID,
    *,
    form_name: str = "",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: str = "",
    status: int = 200,
):
    notice = notice_of(log, actor, notice_id)
    fresh = {"in_service_from": uk_today().isoformat(), "withdrawn_from": uk_today().isoformat(), "wording": notice.current.text}
    context = page(
        request,
        actor,
        notice=notice,
        status=status_of(notice),
        form_name=form_name,
        values={**fresh, **(values or {})},
        errors=errors or {},
        saved=SAVED.get(saved, ""),
    )
    return request.app.state.render(request, "notice.jinja", context, status_code=status)


def change_notice(request: Request, actor: Actor, log: IncidentLog, notice_id: UUID, form_name: str, form: dict[str, str], model: type, call):
    notice_of(log, actor, notice_id)
    try:
        call(parse(model, {**form, "notice_id": str(notice_id)}), actor)
    except FormInvalid as invalid:
        return notice_page(request, actor, log, notice_id, form_name=form_name, values=form, errors=worded(invalid), status=422)
    except DomainError as error:
        return notice_page(request, actor, log, notice_id, form_name=form_name, values=form, errors={"_": str(error)}, status=422)
    return RedirectResponse(f"/notices/{notice_id}?saved={form_name}", status_code=303)


@router.post("/notices/{notice_id}/revise")
def revise(request: Request, notice_id: UUID, actor: Manager, form: Form, log: Log):
    return change_notice(request, actor, log, notice_id, "revised", form, ReviseNotice, log.revise_notice)


@router.post("/notices/{notice_id}/withdraw")
def withdraw(request: Request, notice_id: UUID, actor: Manager, form: Form, log: Log):
    return change_notice(request, actor, log, notice_id, "withdrawn", form, WithdrawNotice, log.withdraw_notice)
