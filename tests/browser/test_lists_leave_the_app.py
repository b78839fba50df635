"""Lists leave the app, in a real Chromium against a real `incidents serve` with the demo's six
months: a count of the monthly report leads to a list of as many incidents, which downloads as
CSV and prints without the navigation."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD, screenshot
from tests.browser.test_manager_dashboard import sign_in_at_desk

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def practice_with_history(live_server_factory):
    server = live_server_factory()
    server.cli("demo", "--months", "6")
    manager = server.add_account("mo.manager", "manager", password=PASSWORD)
    server.start()
    return server, manager


def last_month() -> str:
    today = datetime.now(ZoneInfo("Europe/London")).date()
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def heading_count(page) -> int:
    heading = page.locator("#results-heading")
    expect(heading).to_be_visible()
    return int(re.match(r"([\d,]+) incidents? found", heading.inner_text()).group(1).replace(",", ""))


def test_a_report_count_leads_to_as_many_incidents_which_download_and_print(practice_with_history, new_tablet):
    server, manager = practice_with_history
    desk = new_tablet(viewport=DESKTOP, has_touch=False)
    desk.context.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1 }")
    page = desk.page
    sign_in_at_desk(page, server, manager)
    page.get_by_role("link", name="Monthly report").first.click()
    page.get_by_label("Month").fill(last_month())
    page.get_by_role("button", name="Show month").click()

    report_url = page.url
    shots = screenshot(page, "monthly-report-links")
    for table in ("Incidents by kind", "Time from report to close"):
        links = page.locator("table", has=page.locator("caption", has_text=table)).locator("a")
        assert links.count() > 0, f"no counts to follow in {table}"
        link = links.last
        count = int(link.inner_text().split()[0])
        link.click()
        expect(page.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
        assert heading_count(page) == count
        assert page.locator(".app-incident-table tbody tr").count() == min(count, 25)
        page.goto(report_url)

    page.locator("table", has=page.locator("caption", has_text="Incidents by kind")).locator("a").first.click()
    count = heading_count(page)
    with page.expect_download() as downloaded:
        page.get_by_role("link", name=re.compile("Download these incidents as CSV")).click()
    download = downloaded.value
    assert download.suggested_filename.startswith("incidents-A81001-") and download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count and len({r["kind"] for r in rows}) == 1

    page.get_by_role("button", name="Print this page").click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    expect(page.locator("header.nhsuk-header")).to_be_hidden()
    expect(page.get_by_role("search", name="Find incidents")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    expect(page.locator(".app-incident-table")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Kind: .+; Happened from: \d{4}-\d{2}-01; Happened to: "))).to_be_visible()
    shots += screenshot(page, "incident-list-printed")
    page.emulate_media(media="screen")
    page.get_by_text("How it was closed").click()
    shots += screenshot(page, "incident-list-export")
    desk.watch.assert_clean()
