"""The extension of a subject access request in a real Chromium: sent without the day the
requester was told, the page comes back with the NHS error summary on screen and focused,
linking to that field, which says it too, and what was typed kept."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from incidents.application.records import uk_today
from incidents.domain.dates import months_after
from tests.browser.conftest import screenshot
from tests.browser.test_manager_dashboard import sign_in_at_desk
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_extension_without_the_day_the_requester_was_told_shows_its_error(live_server_factory, new_tablet):
    server = live_server_factory()
    governance = server.add_account("gill.governance", "governance", password=PASSWORD)
    server.start()
    tablet = new_tablet()
    tablet.watch.expected_page_statuses.add(422)
    page = tablet.page
    sign_in_at_desk(page, server, governance)

    page.goto(server.url + "/disclosures/new")
    page.get_by_label("Patient (subject access request)").check()
    page.get_by_label("Name of the requester").fill("Zoë Łukasz")
    page.get_by_label("Reference").fill("SAR-2026-0009")
    received = uk_today() - timedelta(days=3)
    page.get_by_label("Received on").fill(received.isoformat())
    page.get_by_role("button", name=re.compile("Save|Record|Add")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Request from Zoë Łukasz"), level=1)).to_be_visible()

    latest = months_after(received, 3)
    page.get_by_label("New due date").fill(latest.isoformat())
    page.get_by_label("Why is it extended?").fill("Complex: records held at three sites")
    page.get_by_role("button", name="Extend").click()

    message = "Enter the day the requester was told of the extension and why"
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page.locator("#told_on-error")).to_contain_text(message)
    assert page.title().startswith("Error: ")
    expect(page.get_by_label("New due date")).to_have_value(latest.isoformat())  # what was typed is kept
    expect(page.get_by_label("Why is it extended?")).to_have_value("Complex: records held at three sites")
    screenshot(page, "disclosure-extension-error")

    summary.get_by_role("link", name=message).click()
    expect(page.locator("#told_on")).to_be_focused()
    page.locator("#told_on").fill(uk_today().isoformat())
    page.get_by_role("button", name="Extend").click()
    expect(page.get_by_role("status")).to_contain_text("The due date is extended")
    expect(page.get_by_text(f"The requester was told on {uk_today():%d %b %Y}.").first).to_be_visible()
    screenshot(page, "disclosure-extended")
    tablet.watch.assert_clean()
