"""Who filmed, in a real Chromium on the 768x1024 tablet: the NHS number is asked under "A
patient"; a removal from the list without a warning letter to that same patient is refused
with the GMS guidance on screen; the dashboard says who each warning letter went to without the
NHS number in full."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, screenshot, screenshot_fold
from tests.browser.test_manager_dashboard import sign_in_at_desk
from tests.browser.test_reception_tablet import big_action, choose, finish

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def practice(live_server_factory):
    server = live_server_factory()
    manager = server.add_account("mo.manager", "manager", password=PASSWORD)
    server.start()
    return server, manager


def report_patient_filming(page, nhs_number: str, shot: str | None = None) -> None:
    page.get_by_role("link", name="Home").first.click()
    big_action(page, "Someone is filming").tap()
    choose(page, "Where?", "Reception desk")
    number = page.get_by_label("Patient's NHS number (optional)")
    expect(number).to_be_hidden()  # asked only once "A patient" is chosen
    choose(page, "Who was filming?", "A patient")
    expect(number).to_be_visible()
    number.fill(nhs_number)
    choose(page, "Who was filmed?", "Staff and other patients")
    choose(page, "Were children present?", "No")
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Save incident").tap()
    expect(page.get_by_role("heading", name="Saved", level=2)).to_be_visible()


def add_response(page, label: str, reference: str = "") -> None:
    page.get_by_role("group", name="Choose one", exact=True).get_by_label(label, exact=True).tap()
    page.get_by_label("Reference (optional)").fill(reference)
    page.get_by_role("button", name="Add to the timeline").tap()


def test_a_removal_is_refused_with_the_guidance_and_the_dashboard_says_who_was_warned(practice, tablet):
    server, manager = practice
    page, watch = tablet.page, tablet.watch
    watch.expected_page_statuses.update({422})
    sign_in_at_desk(page, server, manager)

    report_patient_filming(page, "401 023 2137", shot="who-filmed-report-form")
    add_response(page, "Sent a warning letter", "WL/7")
    expect(page.get_by_role("heading", name="Sent a warning letter")).to_be_visible()

    # Another patient: the letter to the first does not justify removing this one.
    report_patient_filming(page, "943 476 5919")
    add_response(page, "Requested removal from the practice list")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("warning letter to the same person sent within the previous 12 months")
    guidance = page.locator("#removal-guidance")
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text("Under the GMS regulations")
    expect(page).to_have_title(re.compile("^Error: "))
    screenshot(page, "who-filmed-removal-refused")
    screenshot_fold(page, "who-filmed-removal-refused")

    page.get_by_role("link", name="Dashboard").first.click()
    letters = page.get_by_text(re.compile(r"Warning letters in force \(1\)"))
    letters.click()
    expect(page.get_by_text("Given to: a patient (NHS number ending 137), letter reference WL/7.", exact=False)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("401 023 2137")
    expect(page.locator("main")).not_to_contain_text("4010232137")
    screenshot(page, "who-filmed-dashboard-warning-letters")
    finish(page, watch)
