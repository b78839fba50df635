"""Reaching every page from the header, and the practice settings, in a real Chromium against a
real `incidents serve`: one account holding the manager and governance roles reaches the
disclosure requests and the notice register from the navigation with one sign-in; the governance
lead names the practice on the settings page, whose error summary says what is wrong."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD, screenshot
from tests.browser.test_manager_dashboard import sign_in_at_desk
from tests.conftest import Account

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.fixture
def partner(live_server_factory):
    """A practice manager who is also the governance lead: one account, both roles (the CLI's --role twice)."""
    server = live_server_factory()
    server.cli("users", "add", "pat.partner", "--name", "Pat Partner", "--role", "manager", "--role", "governance",
               "--practice", "A81001", "--password-stdin", stdin=PASSWORD + "\n")
    server.start()
    return server, Account("pat.partner", PASSWORD, "manager", "A81001")


def header_link(page, name: str):
    return page.locator(".nhsuk-header__navigation").get_by_role("link", name=name, exact=True)


def go_by_header(page, name: str) -> None:
    """Follows the header's link, opening its "More" menu first when the link did not fit the bar."""
    link = header_link(page, name)
    if not link.is_visible():
        page.locator(".nhsuk-header__menu-toggle").click()
    link.click()


def test_a_manager_who_is_also_governance_reaches_disclosures_and_notices_from_the_header(partner, new_tablet):
    server, account = partner
    desk = new_tablet(viewport=DESKTOP, has_touch=False)
    sign_in_at_desk(desk.page, server, account)
    expect(desk.page.get_by_text("Practice manager and Governance lead")).to_be_visible()

    go_by_header(desk.page, "Disclosure requests")
    expect(desk.page.get_by_role("heading", name="Disclosure requests", level=1)).to_be_visible()
    go_by_header(desk.page, "Notices")
    expect(desk.page.get_by_role("heading", name="Notice register", level=1)).to_be_visible()
    # In the bar or under "More" (the header holds more links than fit at this width).
    current = desk.page.locator(".nhsuk-header__navigation").get_by_role("link", name="Notices", exact=True, include_hidden=True)
    expect(current).to_have_attribute("aria-current", "page")
    for name in ("Dashboard", "All incidents", "Monthly report", "Staff accounts", "Practice settings"):  # in the bar or under "More"
        expect(desk.page.locator(".nhsuk-header__navigation").get_by_role("link", name=name, exact=True, include_hidden=True)).to_have_count(1)
    assert desk.page.url.endswith("/notices")
    desk.watch.assert_clean()


def test_the_header_on_the_tablet_reaches_the_same_pages(partner, new_tablet):
    server, account = partner
    tablet = new_tablet()
    sign_in_at_desk(tablet.page, server, account)
    go_by_header(tablet.page, "Disclosure requests")
    expect(tablet.page.get_by_role("heading", name="Disclosure requests", level=1)).to_be_visible()
    screenshot(tablet.page, "header-manager-and-governance")
    tablet.watch.assert_clean()


def test_the_practice_settings_page_saves_the_name_and_shows_its_errors(live_server_factory, new_tablet):
    server = live_server_factory()
    governance = server.add_account("gill.governance", "governance", password=PASSWORD)
    server.start()
    tablet = new_tablet()
    tablet.watch.expected_page_statuses.add(422)
    page = tablet.page
    sign_in_at_desk(page, server, governance)
    go_by_header(page, "Practice settings")
    expect(page.get_by_role("heading", name="Practice settings", level=1)).to_be_visible()
    expect(page.get_by_text("A81001", exact=True)).to_be_visible()

    page.get_by_label("Address").fill("1 River Road\nLeeds\nLS1 4AP")
    page.get_by_role("button", name="Save practice details").tap()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter the practice's name")).to_be_visible()
    expect(page.locator("#name-error")).to_contain_text("Enter the practice's name")
    assert page.title().startswith("Error: ")
    expect(page.get_by_label("Address")).to_have_value("1 River Road\nLeeds\nLS1 4AP")  # what was typed is kept
    screenshot(page, "practice-settings-error")

    page.get_by_label("Practice name").fill("Riverside Surgery")
    page.get_by_role("button", name="Save practice details").tap()
    expect(page.get_by_role("status")).to_contain_text("now name the practice Riverside Surgery (A81001)")
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Practice name")).to_have_value("Riverside Surgery")
    screenshot(page, "practice-settings-saved")
    tablet.watch.assert_clean()
