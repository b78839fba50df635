"""The FastAPI application factory: the web side of the composition root."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode, urlsplit
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable

from eventsourcing.persistence import MapperDeserialisationError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from servestatic import ServeStaticASGI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from incidents.application.records import UK
from incidents.application.service import NotFound, NotPermitted
from incidents.mapping import DisposedRecordEvent
from incidents.bootstrap import Opened, open_log
from incidents.domain.values import DomainError
from incidents.application.signing_key import deployment_key
from incidents.settings import ConfigurationError, Settings
from incidents.application.checkpoint_timer import CheckpointSchedule
from incidents.projections.running.runner import Projections, open_views, start_projections, start_projections_child
from incidents.postgres_store import connection_advice, out_of_connections
from incidents.storage import secret_from_file

from . import call_recording_routes
from . import account_routes, auth_routes, dashboard_routes, disclosure_routes, incident_routes, list_routes, notice_routes
from . import practice_recording_routes, practice_routes, report_routes, retention_routes, session_routes
from .deps import max_session_seconds, page, signed_in_as
from .sessions import CsrfFailed, SignInRequired
from .templating import Renderer
from .throttle import SignInThrottle, attempt_store_for

WEB_DIR = Path(__file__).parent
STATIC_BUILT = WEB_DIR / "static" / "dist"
MAX_BODY_BYTES = 256 * 1024
logger = logging.getLogger("incidents.web")


class BodyLimit:
    """Refuses request bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self.too_large(send)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise StarletteHTTPException(413, "Too much was sent")
            return message

        await self.app(scope, limited, send)

    async def too_large(self, send: Send) -> None:
        body = (
            "<!DOCTYPE html><html lang=en><title>Too much was sent</title>"
            f"<h1>Too much was sent</h1><p>A form can carry at most {self.limit // 1024} KB. "
            "Shorten the note and try again.</p></html>"
        ).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class SameOriginGZip(GZipMiddleware):
    """Compresses the answers to this service's own pages and to addresses typed in, not to requests
    another site started: a page that echoes what such a request carried, compressed beside a secret
    such as the CSRF token, would give the secret away by its length (BREACH)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and Headers(scope=scope).get("sec-fetch-site", "none") not in ("same-origin", "none"):
            return await self.app(scope, receive, send)
        await super().__call__(scope, receive, send)


class SecurityHeaders:
    """Adds the security headers to every response, whatever made it: pages, redirects, files,
    CSV, /healthz, the 413 above and the 500 page (so it wraps the whole middleware stack)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
            # A page sets its own, with its script nonce; anything else may load nothing.
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ]
        if hsts:  # only behind HTTPS: INCIDENTS_SECURE_COOKIES says the service is reached that way
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if b"cache-control" not in present:  # static files say how long they keep
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def wrap_whole_stack(app: FastAPI, settings: Settings) -> None:
    """Puts the security headers, the static files and the trusted proxy's client address outside
    even Starlette's error middleware, so that no response goes out without the headers and a
    static file is served without a session."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        # Each file compressed (Brotli, gzip) and under a name of its content, kept a long time unasked.
        stack = ServeStaticASGI(build(), root=STATIC_BUILT, prefix="/static/", allow_all_origins=False)
        if settings.trusted_proxies:
            # The client's address from X-Forwarded-For, only when a listed proxy sent it.
            stack = ProxyHeadersMiddleware(stack, trusted_hosts=settings.trusted_proxies)
        return SecurityHeaders(stack, hsts=settings.secure_cookies)

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]


def built_assets() -> dict[str, str]:
    """The content-named file of each static file (`make install` builds them), as the build's
    manifest lists them; a build older than its sources would serve yesterday's styles and scripts."""
    manifest = STATIC_BUILT / "staticfiles.json"
    if not manifest.exists():
        raise ConfigurationError(f"The styles and scripts are not built ({manifest}): run `make install`")
    sources = [*WEB_DIR.glob("styles/*.scss"), *WEB_DIR.glob("static/*.*"), WEB_DIR / "package-lock.json"]
    changed = [str(p.relative_to(WEB_DIR)) for p in sources if p.stat().st_mtime > manifest.stat().st_mtime]
    if changed:
        raise ConfigurationError(f"{', '.join(sorted(changed))} changed after the styles and scripts were built: run `make install`")
    return json.loads(manifest.read_text())["paths"]


def create_app(settings: Settings | None = None, opened: Opened | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    opened = opened or open_log(settings)
    secret = settings.session_secret or secret_from_file(settings.data_dir / "session.key")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for stop in app.state.on_shutdown:
            stop()
        opened.log.close()

    app = FastAPI(title="Incidents", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.log = opened.log
    app.state.store = opened.store
    app.state.checks_on_loop = opened.store.kind != "postgres"  # see incident_routes.report
    app.state.render = Renderer(built_assets())
    app.state.sign_in_throttle = SignInThrottle(
        attempt_store_for(opened.store.kind, opened.store.location, settings.effective_database_url, settings.db_idle_seconds)
    )
    app.state.on_shutdown = [app.state.sign_in_throttle.close]
    app.state.projections = None
    app.state.unreadable = {}  # record id: why, for each stored record found unreadable since the start
    app.state.signing_key = deployment_key(opened.log, settings)  # signs evidence bundles: the same key in every process

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="incidents_session",
        max_age=max_session_seconds(settings),
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(SameOriginGZip)
    wrap_whole_stack(app, settings)

    # Last, once the configuration is known to be complete: this starts threads and takes a lock.
    if opened.store.kind != "memory":
        if settings.projections == "inline":
            projections = start_projections(opened.store, opened.env, CheckpointSchedule.from_settings(settings))
        elif settings.projections == "child":
            projections = start_projections_child(opened.store, opened.env, settings, opened.log.recorder)
        else:
            projections = open_views(opened.store, opened.env, watch_worker=True)
        app.state.projections = projections
        app.state.on_shutdown.append(projections.stop)

    for routes in (auth_routes, session_routes, dashboard_routes, list_routes, incident_routes, account_routes, report_routes, notice_routes, disclosure_routes, practice_routes, retention_routes, call_recording_routes, practice_recording_routes):
        app.include_router(routes.router)

    @app.get("/healthz")
    def healthz(request: Request) -> Response:
        """For a load balancer or a monitor: 503 when a projection running here has stopped, or
        has not started: its process is starting, or waits for the projections lock (`waiting`
        says who holds it); in worker mode, when no worker has been seen for
        INCIDENTS_WORKER_STALE_SECONDS, or the views have lacked the store's events for as long. Views that set aside events they could not write, but follow the
        store, are 'degraded' (200), with the count per view, as is a store with a record found unreadable."""
        projections: Projections | None = request.app.state.projections
        stopped = projections.stopped() if projections is not None else []
        skipped = projections.quarantined() if projections is not None else {}
        quarantine = {"skipped_events": skipped, "see": "incidents projections quarantine"} if skipped else {}
        trouble = projections.worker_trouble(request.app.state.settings.worker_stale_seconds) if projections else None
        if trouble:  # worker mode: no worker has renewed the lease lately, or the views lag the store
            return health_answer(request, {**trouble, **quarantine}, 503)
        if stopped:
            waiting = projections.waiting() if projections is not None else ""
            return health_answer(
                request,
                {"status": "views stopped", "views": stopped, **({"waiting": waiting} if waiting else {}), **quarantine},
                503,
            )
        unreadable = request.app.state.unreadable
        damaged = {"unreadable_records": len(unreadable), "check": "incidents verify-store"} if unreadable else {}
        if skipped or unreadable:
            return health_answer(request, {"status": "degraded", **quarantine, **damaged}, 200)
        return health_answer(request, {"status": "ok"}, 200)

    install_error_pages(app)
    return app


def health_answer(request: Request, body: dict, status: int) -> Response:
    """The details for a signed-in manager; for anyone else (a load balancer, a stranger) only
    the status, which says nothing about the views inside."""
    try:
        signed_in_as(request, ("manager",), activity=False)
    except (SignInRequired, NotPermitted):
        body = {"status": body["status"]}
    return JSONResponse(body, status_code=status)


# An error answering a form sent by HTMX takes the page's main content, as it would after a plain
# post; one answering an HTMX GET (the dashboard's poll, the list's pages) leaves the screen as it was.
HX_ERROR_PAGE = {"HX-Retarget": "#maincontent", "HX-Reselect": "#maincontent", "HX-Reswap": "outerHTML"}
HX_ERROR_KEPT = {"HX-Reswap": "none"}


def disposed_page(request: Request, exc: DisposedRecordEvent) -> Response:
    """410 for a record disposed of: when, by whom and on whose decision, to who may see it."""
    actor = getattr(request.state, "actor", None)
    disposal = request.app.state.log.disposal_of(actor, exc.originator_id) if actor is not None else None
    if disposal is None:
        return error_page(request, 410, "This record was disposed of", "Its retention period ended and it was disposed of: nothing of it can be shown.")
    d = disposal
    return error_page(
        request, 410, f"{d.ref or 'This record'} was disposed of",
        f"{d.kind} {d.ref}, disposed of on {d.disposed_at.astimezone(UK):%d %b %Y} by {d.disposed_by}, carrying out the decision of "
        f"{d.decision.decided_at.astimezone(UK):%d %b %Y} authorised by {d.decision.authorised_by} ({d.decision.reason}). "
        "Its key was destroyed: nothing of it can be shown. Governance can download its disposal certificate from its retention page.",
    )


def error_page(request: Request, status: int, title: str, text: str) -> Response:
    hx = request.headers.get("HX-Request") == "true"
    return request.app.state.render(
        request, "error.jinja", page(request, None, title=title, text=text), status_code=status,
        headers=(HX_ERROR_KEPT if request.method == "GET" else HX_ERROR_PAGE) if hx else None,
    )


def same_site_path(referer: str, request: Request) -> str:
    """The path of the page a form was posted from, if it is one of ours, else the home page."""
    parsed = urlsplit(referer)
    return parsed.path or "/" if parsed.netloc == request.url.netloc else "/"


# The errors whose page says the same whatever the request: status, title, and the text from the error.
PLAIN_ERRORS: dict[type[Exception], tuple[int, str, Callable[[Any], str]]] = {
    CsrfFailed: (
        403, "This form has expired",
        lambda exc: "The form was out of date or did not come from this service, so nothing was saved. "
        "Go back, reload the page and try again.",
    ),
    NotPermitted: (403, "You cannot do that", lambda exc: f"{exc} Ask the practice manager if you need it."),
    NotFound: (404, "Page not found", lambda exc: f"There is no such {exc.what} in your practice."),
    DomainError: (409, "That could not be saved", str),
}


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        query = {"reason": exc.reason} if exc.reason else {}
        if request.method == "GET":
            query["next"] = request.url.path
        else:  # what was posted was not saved: the sign-in page says so, then leads back to the form
            query = {"reason": "unsaved", "next": same_site_path(request.headers.get("referer", ""), request)}
        target = "/sign-in" + (f"?{urlencode(query)}" if query else "")
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    def plain_error(request: Request, exc: Exception) -> Response:
        status, title, text = next(PLAIN_ERRORS[k] for k in type(exc).__mro__ if k in PLAIN_ERRORS)
        return error_page(request, status, title, text(exc))

    for error in PLAIN_ERRORS:
        app.add_exception_handler(error, plain_error)

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return error_page(request, 404, "Page not found", "Check the address and try again.")
        return error_page(request, 422, "Check what was sent", "Some of what was sent could not be understood.")

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {400: "Check what was sent", 404: "Page not found", 405: "Page not found", 413: "Too much was sent"}
        return error_page(request, exc.status_code, titles.get(exc.status_code, "Something went wrong"), str(exc.detail))

    @app.exception_handler(OperationalError)
    def database_unavailable(request: Request, exc: OperationalError) -> Response:
        settings: Settings = request.app.state.settings
        if out_of_connections(exc):
            advice = connection_advice(settings.db_pool_size, settings.db_max_overflow)
            logger.error("No database connection for %s %s (%s). %s", request.method, request.url.path, exc, advice)
        else:
            logger.error("The database failed on %s %s: %s", request.method, request.url.path, exc)
        return error_page(
            request, 503, "The service is busy",
            "The database could not be reached in time, so nothing was saved. Wait a moment and try again; "
            "if this keeps happening, tell whoever runs the service (the log names the setting to change).",
        )

    @app.exception_handler(MapperDeserialisationError)
    def unreadable(request: Request, exc: MapperDeserialisationError) -> Response:
        """A stored event that cannot be read: said plainly, logged, and kept for the dashboard
        and /healthz, so that someone checks the store rather than trying again."""
        if isinstance(exc, DisposedRecordEvent):
            return disposed_page(request, exc)
        record = str(getattr(exc, "originator_id", "") or "unknown")
        logger.error("A stored record cannot be read (%s %s): %s", request.method, request.url.path, exc)
        request.app.state.unreadable.setdefault(record, str(exc))
        return error_page(
            request, 500, "This record cannot be read",
            "Part of what is stored for this record could not be read back: it may be damaged, or the "
            "service may have the wrong encryption key. Nothing has been changed. Tell whoever runs the "
            "service: they should check the store with incidents verify-store, which names every damaged "
            "event, and restore it from a backup if needed.",
        )

    @app.exception_handler(ClientDisconnect)
    def client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # A tablet that dropped off mid-form: nobody is waiting for the answer, and nothing was saved.
        logger.info("Client went away during %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> Response:
        logger.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_page(
            request, 500, "Sorry, there is a problem with the service",
            "The problem has been logged. If you were saving something, check whether it appears "
            "before trying again.",
        )
