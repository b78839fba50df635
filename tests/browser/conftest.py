"""Playwright (PyPI) driving Debian's Chromium against a real `incidents serve` process.

`browser` is one Chromium for the session; `page` is a fresh 768x1024 touch tablet per test, with a
`Watch` on it that collects console errors, page errors, CSP violations and asset loads, so every
test can say "nothing went wrong in the browser". Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.conftest import REPO, Account, LiveServer

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response, sync_playwright

TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
PASSWORD = "a long enough password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ASSET_PATH = re.compile(r"^/(static|assets)/")
# Records CSP violations in the page itself (init scripts are not subject to the page's CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """Everything that went wrong in one browser context, and every asset it loaded."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_assets: list[str] = field(default_factory=list)
    assets: dict[str, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    csp_from_pages: list[str] = field(default_factory=list)
    # Page (not asset) statuses a test expects, such as 422 for a form sent with errors: Chromium
    # logs those documents as "Failed to load resource", which is not a fault of the page.
    expected_page_statuses: set[int] = field(default_factory=set)

    def attach(self, context: BrowserContext) -> None:
        context.on("page", self.attach_page)
        context.on("request", self.on_request)
        context.on("requestfailed", self.on_request_failed)
        context.on("response", self.on_response)

    def attach_page(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def on_console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        status = re.search(r"Failed to load resource: the server responded with a status of (\d{3})", message.text)
        if status and int(status.group(1)) in self.expected_page_statuses and not ASSET_PATH.match(path_of(url)):
            return
        if message.type in ("error", "assert"):
            self.console_errors.append(f"{message.location.get('url', '')}: {message.text}")
        elif "Content Security Policy" in message.text:
            self.console_errors.append(f"{message.location.get('url', '')}: {message.text}")

    def on_request(self, request: Request) -> None:
        if request.method == "POST":
            self.posts.append(path_of(request.url))

    def on_request_failed(self, request: Request) -> None:
        # Chromium aborts loads still in flight (the favicon, typically) when the test navigates
        # on; a server fault shows as a status instead, which on_response records.
        if request.failure == "net::ERR_ABORTED":
            return
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        path = path_of(response.url)
        if response.status >= 500:
            self.server_errors.append(f"{response.request.method} {path}: {response.status}")
        if ASSET_PATH.match(path):
            self.assets[path] = response.status
            if response.status not in (200, 304):  # 304: the browser revalidated its copy
                self.bad_assets.append(f"{path}: {response.status}")

    def collect_csp(self, page: Page) -> None:
        """Reads the violations the init script saw on the current document (needs JavaScript)."""
        try:
            self.csp_from_pages.extend(page.evaluate("() => window.__cspViolations || []"))
        except Exception:  # noqa: BLE001 - JavaScript disabled, or the page is navigating
            pass

    def problems(self) -> list[str]:
        found = [
            *(f"console: {e}" for e in self.console_errors),
            *(f"page error: {e}" for e in self.page_errors),
            *(f"CSP: {e}" for e in self.csp_from_pages),
            *(f"request failed: {e}" for e in self.failed_requests),
            *(f"asset not loaded: {e}" for e in self.bad_assets),
            *(f"server error: {e}" for e in self.server_errors),
        ]
        return found

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "\n".join(problems)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0].split("#")[0]


@dataclass
class Tablet:
    """A browser context and its page, with the watch on it."""

    context: BrowserContext
    page: Page
    watch: Watch


@pytest.fixture
def new_tablet(browser: Browser) -> Iterator[Callable[..., Tablet]]:
    """Makes fresh browser contexts: a 768x1024 touch tablet unless told otherwise."""
    contexts: list[BrowserContext] = []

    def make(java_script_enabled: bool = True, **options) -> Tablet:
        context = browser.new_context(
            viewport=options.pop("viewport", TABLET),
            has_touch=options.pop("has_touch", True),
            java_script_enabled=java_script_enabled,
            locale="en-GB",
            timezone_id="Europe/London",
            service_workers="block",
            **options,
        )
        context.set_default_timeout(10_000)
        watch = Watch()
        watch.attach(context)
        if java_script_enabled:
            context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        return Tablet(context, context.new_page(), watch)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def tablet(new_tablet) -> Tablet:
    return new_tablet()


@pytest.fixture
def page(tablet: Tablet) -> Page:
    """The tablet's page: 768x1024, touch enabled, JavaScript on."""
    return tablet.page


@pytest.fixture
def watch(tablet: Tablet) -> Watch:
    return tablet.watch


@pytest.fixture
def start_reception(live_server_factory) -> Callable[..., tuple[LiveServer, Account]]:
    """Starts a real server (SQLite in a temporary folder, with those settings) with one receptionist account."""

    def start(**settings: str) -> tuple[LiveServer, Account]:
        server = live_server_factory(**settings)
        account = server.add_account("sue.reception", "reception", password=PASSWORD)
        server.start()
        return server, account

    return start


@pytest.fixture
def reception(start_reception) -> tuple[LiveServer, Account]:
    return start_reception()


def screenshot(page: Page, name: str) -> list[Path]:
    """Saves the whole page at tablet and desktop sizes, then puts the tablet size back."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or TABLET
    paths = []
    for size in (TABLET, DESKTOP):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled", caret="initial")
        paths.append(path)
    page.set_viewport_size(original)
    return paths


def screenshot_fold(page: Page, name: str) -> Path:
    """Saves only what is on screen now (no scrolling): what the receptionist actually sees."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or TABLET
    path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}-on-screen.png"
    page.screenshot(path=str(path), animations="disabled", caret="initial")
    return path
