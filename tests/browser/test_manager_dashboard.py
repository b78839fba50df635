"""The manager's desk (1280x800, mouse) in a real Chromium against a real `incidents serve`: the
dashboard updates itself when the front-desk tablet logs an incident, without a reload; the
manager reviews it from the dashboard's queue; the incident list filters and searches in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD, screenshot
from tests.browser.test_reception_tablet import (
    FILMING_TITLE,
    big_action,
    finish,
    mark_document,
    report_filming,
    sign_in,
    still_same_document,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in_at_desk(page, server, account) -> None:
    page.goto(server.url + "/sign-in")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


@pytest.fixture
def practice(live_server_factory):
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception", password=PASSWORD)
    manager = server.add_account("mo.manager", "manager", password=PASSWORD)
    server.start()
    return server, reception, manager


def test_the_dashboard_shows_a_new_incident_from_the_tablet_and_the_manager_reviews_it(practice, new_tablet):
    server, reception, manager = practice
    desk = new_tablet(viewport=DESKTOP, has_touch=False)
    sign_in_at_desk(desk.page, server, manager)
    desk.page.get_by_role("link", name="Dashboard").first.click()
    expect(desk.page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(desk.page.get_by_text("Nothing needs doing.")).to_be_visible()
    screenshot(desk.page, "dashboard-empty")
    mark_document(desk.page)

    tablet = new_tablet()
    sign_in(tablet.page, server, reception)
    big_action(tablet.page, "Someone is filming").tap()
    report_filming(tablet.page)
    tablet.page.get_by_role("button", name="Save").tap()
    expect(tablet.page.get_by_role("heading", name="Saved", level=2)).to_be_visible()
    incident_path = re.sub(r"^https?://[^/]+", "", tablet.page.url).split("?")[0]

    # Within a couple of polls, the open dashboard shows it, in place.
    queue_link = desk.page.get_by_role("link", name="Review the incident")
    expect(queue_link).to_be_visible(timeout=15_000)
    assert still_same_document(desk.page), "the dashboard reloaded instead of updating in place"
    expect(desk.page.locator(".app-figure").filter(has_text="open: someone filmed")).to_contain_text("1")
    expect(desk.page.get_by_role("link", name=re.compile(FILMING_TITLE)).first).to_have_attribute("href", incident_path)
    screenshot(desk.page, "dashboard-with-an-incident")

    queue_link.click()
    expect(desk.page).to_have_url(server.url + incident_path)
    desk.page.get_by_label("Review comment (optional)").fill("Handled well at the desk")
    desk.page.get_by_role("button", name="Mark as reviewed").click()
    expect(desk.page.get_by_role("heading", name="Reviewed by a manager")).to_be_visible()
    desk.page.get_by_role("link", name="Dashboard").first.click()
    expect(desk.page.get_by_text("Nothing needs doing.")).to_be_visible()
    finish(desk.page, desk.watch)
    finish(tablet.page, tablet.watch)


def test_the_incident_list_searches_as_the_manager_types(practice, new_tablet):
    server, reception, manager = practice
    tablet = new_tablet()
    sign_in(tablet.page, server, reception)
    big_action(tablet.page, "Someone is filming").tap()
    report_filming(tablet.page)  # its note: "Held a phone up at the desk"
    tablet.page.get_by_role("button", name="Save").tap()
    expect(tablet.page.get_by_role("heading", name="Saved", level=2)).to_be_visible()

    desk = new_tablet(viewport=DESKTOP, has_touch=False)
    sign_in_at_desk(desk.page, server, manager)
    desk.page.goto(server.url + "/incidents")
    expect(desk.page.get_by_role("heading", name="1 incident", level=2)).to_be_visible()
    mark_document(desk.page)
    desk.page.get_by_label("Search notes and details").press_sequentially("tripod", delay=30)
    expect(desk.page.get_by_text("No incidents match")).to_be_visible()
    desk.page.get_by_label("Search notes and details").fill("")
    desk.page.get_by_label("Search notes and details").press_sequentially("phon", delay=30)
    expect(desk.page.get_by_role("heading", name="1 incident found", level=2)).to_be_visible()
    assert still_same_document(desk.page), "the list reloaded instead of updating in place"
    expect(desk.page).to_have_url(re.compile(r"/incidents\?.*q=phon"))  # the search is in the address
    screenshot(desk.page, "incident-list-searched")
    desk.page.reload()
    expect(desk.page.get_by_label("Search notes and details")).to_have_value("phon")
    finish(desk.page, desk.watch)


def test_the_tablet_says_the_new_incident_s_reference_and_the_manager_finds_it_by_typing_it(practice, new_tablet):
    server, reception, manager = practice
    year = __import__("datetime").datetime.now(__import__("zoneinfo").ZoneInfo("Europe/London")).year
    tablet = new_tablet()
    sign_in(tablet.page, server, reception)
    for _ in range(2):
        tablet.page.goto(server.url + "/")
        big_action(tablet.page, "Someone is filming").tap()
        report_filming(tablet.page)
        tablet.page.get_by_role("button", name="Save").tap()
        expect(tablet.page.get_by_role("heading", name="Saved", level=2)).to_be_visible()
    expect(tablet.page.get_by_role("status")).to_contain_text(f"The incident is logged as F-{year}-0002.")
    screenshot(tablet.page, "saved-with-reference")

    desk = new_tablet(viewport=DESKTOP, has_touch=False)
    sign_in_at_desk(desk.page, server, manager)
    desk.page.goto(server.url + "/incidents")
    expect(desk.page.get_by_role("heading", name="2 incidents", level=2)).to_be_visible()
    desk.page.get_by_label("Search notes and details").press_sequentially(f"f {year} 1", delay=30)
    expect(desk.page.get_by_role("heading", name="1 incident found", level=2)).to_be_visible()
    expect(desk.page.locator("#results tbody tr")).to_contain_text(f"F-{year}-0001")
    screenshot(desk.page, "incident-list-by-reference")
    finish(desk.page, desk.watch)
    finish(tablet.page, tablet.watch)
