"""The notice register, for the practice manager: which notices are in force, publish, revise,
withdraw. Forms work without JavaScript: POST, then 303 to the page that shows the result."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from incidents.application.notices import PublishNotice, ReviseNotice, WithdrawNotice
from incidents.application.records import uk_today
from incidents.application.service import Actor, IncidentLog
from incidents.domain.notice import CHANNELS, Notice
from incidents.domain.values import DomainError

from .deps import Form, Log, Manager, page
from .forms import FormInvalid
from .record_page import NewRecordForm, RecordPage

router = APIRouter(prefix="/notices", tags=["notices"])

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


@router.get("")
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


NEW_NOTICE = NewRecordForm(
    "notice_new.jinja", "/notices/{}?saved=published", lambda: {"channels": CHANNELS},
    lambda: {"submission_key": uuid.uuid4().hex, "in_service_from": uk_today().isoformat()}, worded, ((DomainError, "wording"),),
)


NEW_NOTICE.routes(router, Manager, PublishNotice, IncidentLog.publish_notice)


def notice_context(request: Request, actor: Actor, log: IncidentLog, notice: Notice, shown: dict[str, Any]) -> dict[str, Any]:
    fresh = {"in_service_from": uk_today().isoformat(), "withdrawn_from": uk_today().isoformat(), "wording": notice.current.text}
    return {"notice": notice, "status": status_of(notice), "values": {**fresh, **shown["values"]}}


NOTICE = RecordPage("notice.jinja", "/notices/{}?saved={}", "notice_id", IncidentLog.get_notice, notice_context, SAVED, worded)


@router.get("/{notice_id}")
def show_notice(request: Request, notice_id: UUID, actor: Manager, log: Log, saved: str = ""):
    return NOTICE.show(request, actor, log, notice_id, saved=saved)


NOTICE.change_routes(router, Manager, {
    "revise": ("revised", ReviseNotice, IncidentLog.revise_notice),
    "withdraw": ("withdrawn", WithdrawNotice, IncidentLog.withdraw_notice),
})
