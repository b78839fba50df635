"""Practice settings, for the governance lead: the practice's name and address beside its ODS
code, as evidence bundles and their records certificate name it. POST, then 303 to the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from incidents.application.practice import DescribePractice
from incidents.application.service import Actor

from .deps import Form, Governance, Log, page
from .forms import FormInvalid, parse

router = APIRouter(prefix="/practice", tags=["practice"])

ERRORS = {"name": "Enter the practice's name", "address": "Enter the practice's address"}


def worded(invalid: FormInvalid) -> dict[str, str]:
    """A missing answer in this page's words; any other message (a limit, a character) stays."""
    return {f: ERRORS[f] if f in ERRORS and t.startswith("Enter ") else t for f, t in invalid.errors.items()}


def settings_page(request: Request, actor: Actor, log: Any, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, saved: bool = False, status: int = 200) -> Response:
    details = log.practice_details(actor.practice)
    kept = {"name": details.name, "address": details.address} if details else {}
    context = page(request, actor, values=values if values is not None else kept, errors=errors or {}, details=details, saved=saved)
    return request.app.state.render(request, "practice.jinja", context, status_code=status)


@router.get("")
def practice_settings(request: Request, actor: Governance, log: Log, saved: str = ""):
    return settings_page(request, actor, log, saved=saved == "details")


@router.post("")
def describe_practice(request: Request, actor: Governance, form: Form, log: Log):
    try:
        log.describe_practice(parse(DescribePractice, form), actor)
    except FormInvalid as invalid:
        return settings_page(request, actor, log, form, worded(invalid), status=422)
    return RedirectResponse("/practice?saved=details", status_code=303)
