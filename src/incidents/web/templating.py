"""Jinja2 with the NHS.UK frontend macros, and rendering a page or one of its blocks."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from incidents.domain.values import UNSAFE_TEXT

from incidents.domain.accounts import ROLES

from .forms import fact_values
from .navigation import navigation

TEMPLATES_DIR = Path(__file__).parent / "templates"
UK = ZoneInfo("Europe/London")

# Macros as globals, so a block rendered on its own (for HTMX) sees them too.
NHSUK_MACROS = {
    "actionLink": "action-link",
    "backLink": "back-link",
    "button": "button",
    "card": "card",
    "checkboxes": "checkboxes",
    "details": "details",
    "errorSummary": "error-summary",
    "header": "header",
    "notificationBanner": "notification-banner",
    "panel": "panel",
    "input": "input",
    "insetText": "inset-text",
    "radios": "radios",
    "summaryList": "summary-list",
    "tag": "tag",
    "textarea": "textarea",
    "warningCallout": "warning-callout",
}


def uk_time(value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(UK).strftime(fmt)


def error_items(errors: dict[str, str], anchors: dict[str, str] | None = None) -> list[dict[str, str]]:
    anchors = anchors or {}
    return [{"text": text, "href": f"#{anchors.get(field, field)}"} for field, text in errors.items()]


def role_names(roles: Any) -> str:
    """The roles' names as people say them: "Practice manager and Governance lead"."""
    names = [ROLES.get(r, r) for r in roles]
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else ""


def radio_items(options: dict[str, str]) -> list[dict[str, str]]:
    return [{"value": value, "text": text} for value, text in options.items()]


def asked_under(items: list[dict[str, Any]], name: str, facts: Any, question: Any, values: Any, errors: Any, prefix: str) -> list[dict[str, Any]]:
    """Radio items of a choice, each with the questions asked under it (Fact.asked_with), revealed when it is chosen."""
    for item in items:
        nested = [f for f in facts if f.asked_with == (name, item["value"])]
        if nested:
            item["conditional"] = {"html": Markup("").join(question(f, values, errors, prefix) for f in nested)}
    return items


def zip_items(names: list[str]) -> list[dict[str, str]]:
    """Radio items whose value is the text shown (a name chosen from a short list)."""
    return [{"value": name, "text": name} for name in names]


def response_items(responses: Any) -> list[dict[str, Any]]:
    return [
        {"value": r.name, "text": r.label, "hint": {"text": r.guidance} if r.guidance else None}
        for r in responses
    ]


def shown(value: Any) -> Any:
    """Every value a page shows, line ends as newlines, with any character the domain refuses in
    text (NUL, a bidi override, a lone surrogate: typed back into a refused form, or stored before
    the refusal) shown as U+FFFD, so that it can neither disguise the page nor break its encoding."""
    if isinstance(value, str) and UNSAFE_TEXT.search(value):
        # A browser sends a textarea's line ends as CR LF, which the domain keeps as newlines.
        cleaned = UNSAFE_TEXT.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def make_environment(built_assets: dict[str, str]) -> Environment:
    env = Environment(
        finalize=shown,
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES_DIR), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["uk_time"] = uk_time
    env.filters["error_items"] = error_items
    env.filters["radio_items"] = radio_items
    env.filters["response_items"] = response_items
    env.filters["zip_items"] = zip_items
    env.filters["asked_under"] = asked_under
    env.filters["role_names"] = role_names
    env.globals["fact_values"] = fact_values
    env.globals["navigation"] = navigation
    # A static file's address names its content: a browser keeps it until the file changes.
    env.globals["static"] = lambda name: f"/static/{built_assets[name]}"
    for name, component in NHSUK_MACROS.items():
        module = env.get_template(f"nhsuk/components/{component}/macro.jinja").module
        env.globals[name] = getattr(module, name)
    return env


CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Renderer:
    """Renders a page, or only the named block when HTMX asked for it."""

    def __init__(self, built_assets: dict[str, str]) -> None:
        self.templates = Jinja2Blocks(env=make_environment(built_assets))

    def __call__(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        block: str | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        nonce = secrets.token_urlsafe(16)
        ctx = {"cspNonce": nonce, **(context or {})}
        hx = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
        if hx and block:
            response = self.block(request, template, block, ctx, status_code)
        else:
            response = self.templates.TemplateResponse(request, template, ctx, status_code=status_code)
        response.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
        response.headers.update(SECURITY_HEADERS)
        if headers:
            response.headers.update(headers)
        return response

    def block(self, request: Request, template: str, block: str, context: dict[str, Any], status_code: int) -> Response:
        """The block, then the page's title as a root-level <title>, which htmx puts in the
        document's: a refused form's "Error: " comes, and goes again once it is saved."""
        context = {"request": request, "partial": True, **context}
        content = render_block(self.templates.env, template, block, context)
        return HTMLResponse(f"{content}\n<title>{page_title(self.templates.env, template, context)}</title>\n", status_code=status_code)


def page_title(env: Environment, template: str, context: dict[str, Any]) -> str:
    """The template's pageTitle block (base.jinja's, around the page's own title block). A
    template's blocks include its parents' only once its root has started: it runs to its first
    output, which is past every {% extends %}, and no further."""
    page = env.get_template(template)
    ctx = page.new_context(context)
    started = page.root_render_func(ctx)
    next(started, None)
    started.close()
    return env.concat(ctx.blocks["pageTitle"][0](ctx)).strip()  # type: ignore[attr-defined]
