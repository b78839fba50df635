"""Page weight on a tablet on practice Wi-Fi, in bytes on the wire as Chromium itself counts them
(CDP Network.loadingFinished encodedDataLength: headers and body as received, 0 when served from
its cache): a first visit with an empty cache, and a second visit once the static files are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import CDPSession, Page

from tests.browser.conftest import Tablet, path_of
from tests.browser.test_reception_tablet import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST_VISIT_MAX = 120 * 1024
SECOND_VISIT_STATIC_MAX = 10 * 1024
STATIC = re.compile(r"^/(static|assets)/")
PAGES = {"home": "/", "filming form": "/incidents/new/filming"}


@dataclass
class Load:
    path: str
    wire_bytes: int = 0
    from_cache: bool = False
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class WireMeter:
    """Every load of one page over the network, as Chromium's network events report it."""

    def __init__(self, page: Page) -> None:
        self.loads: dict[str, Load] = {}
        self.cdp: CDPSession = page.context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", self.sent)
        self.cdp.on("Network.requestServedFromCache", self.served_from_cache)
        self.cdp.on("Network.responseReceived", self.received)
        self.cdp.on("Network.loadingFinished", self.finished)
        self.cdp.send("Network.enable")

    def sent(self, event: dict) -> None:
        if not event["request"]["url"].startswith("http"):  # data: URLs cross no network
            return
        if event.get("redirectResponse"):  # a redirect reuses the request id: keep it as a load of its own
            self.loads[event["requestId"] + "-redirected"] = self.loads.pop(event["requestId"])
        self.loads[event["requestId"]] = Load(path_of(event["request"]["url"]))

    def served_from_cache(self, event: dict) -> None:
        if load := self.loads.get(event["requestId"]):
            load.from_cache = True

    def received(self, event: dict) -> None:
        if load := self.loads.get(event["requestId"]):
            response = event["response"]
            load.status = response["status"]
            load.from_cache = load.from_cache or response.get("fromDiskCache", False) or response.get("fromMemoryCache", False)
            load.headers = {k.lower(): v for k, v in response["headers"].items()}

    def finished(self, event: dict) -> None:
        if load := self.loads.get(event["requestId"]):
            load.wire_bytes = int(event["encodedDataLength"])

    def visit(self, page: Page, url: str) -> list[Load]:
        self.loads.clear()
        page.goto(url, wait_until="networkidle")
        return list(self.loads.values())


def total(loads: list[Load]) -> int:
    return sum(load.wire_bytes for load in loads)


def listing(loads: list[Load]) -> str:
    return "\n".join(
        f"  {load.path}: {load.wire_bytes} B, {load.status} {load.headers.get('content-encoding', '')}{' (cache)' if load.from_cache else ''}"
        for load in loads
    )


def signed_in_tablet(new_tablet, server, account) -> Tablet:
    """A tablet with an empty cache that holds the session of one that signed in."""
    signing = new_tablet()
    sign_in(signing.page, server, account)
    return new_tablet(storage_state=signing.context.storage_state())


@pytest.mark.parametrize("name", PAGES)
def test_first_visit_is_light_and_a_second_takes_its_static_files_from_the_cache(reception, new_tablet, name):
    server, account = reception
    tablet = signed_in_tablet(new_tablet, server, account)
    page, url = tablet.page, server.url + PAGES[name]
    meter = WireMeter(page)

    first = meter.visit(page, url)
    assert path_of(page.url) == PAGES[name], "the session did not carry over to the fresh tablet"
    statics = [load for load in first if STATIC.match(load.path)]
    assert statics, f"no static file was loaded:\n{listing(first)}"
    print(f"\n{name}: first visit {total(first)} bytes on the wire\n{listing(first)}")
    assert total(first) <= FIRST_VISIT_MAX, f"first visit to the {name}: {total(first)} bytes on the wire\n{listing(first)}"
    for load in statics:
        # Text is compressed; a file's name changes with its content, so it can be kept a year unasked.
        assert load.headers.get("content-encoding") in ("br", "gzip") or not load.headers.get("content-type", "").startswith(("text/", "application/javascript")), load
        assert "immutable" in load.headers.get("cache-control", ""), f"{load.path}: {load.headers.get('cache-control')}"
        assert int(re.search(r"max-age=(\d+)", load.headers["cache-control"]).group(1)) >= 365 * 24 * 3600
        assert load.headers.get("content-security-policy"), f"{load.path} lacks the security headers"
    document = next(load for load in first if load.path == PAGES[name])
    assert document.headers.get("content-encoding") in ("br", "gzip"), f"the page itself was sent uncompressed: {document.headers}"

    other = next(path for path in PAGES.values() if path != PAGES[name])
    meter.visit(page, server.url + other)
    second = meter.visit(page, url)
    static_again = [load for load in second if STATIC.match(load.path)]
    print(f"{name}: second visit {total(second)} bytes on the wire, {total(static_again)} of them static\n{listing(second)}")
    assert total(static_again) <= SECOND_VISIT_STATIC_MAX, f"second visit to the {name}:\n{listing(second)}"
    asked = [load for load in static_again if not load.from_cache]
    assert not asked, f"second visit to the {name} asked the server again for:\n{listing(asked)}"
    tablet.watch.assert_clean()
