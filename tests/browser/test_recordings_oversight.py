"""Managers and governance see the practice's recordings (issue 19 point 5), in a real Chromium
at tablet size (820x1180): a patient asks to see the recording before it is used, and the
manager's dashboard shows the item with the recording's P- reference, linked to the recording;
the recordings list filtered to a bad month shows its error summary; a subject access request
naming the patient's NHS number shows the recording in its scope, for the bundle to carry."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_reception_tablet import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = {"width": 820, "height": 1180}


def test_the_dashboard_item_and_the_subject_access_scope_show_the_recording(live_server_factory, new_tablet):
    server = live_server_factory()
    manager = server.add_account("mo.manager", "manager")
    governance = server.add_account("gill.governance", "governance")
    server.start()

    tablet = new_tablet(viewport=SIZE)
    tablet.watch.expected_page_statuses.update({422})
    page: Page = tablet.page
    sign_in(page, server, manager)
    page.goto(server.url + "/recordings/new")
    page.get_by_label("Patient's NHS number").fill("943 476 5919")
    page.get_by_label("Clinician making the recording").fill("Dr Ada Registrar")
    page.get_by_label("Training or assessment").check()
    page.get_by_label("Video", exact=True).check()
    page.get_by_role("button", name="Register the recording").click()
    expect(page.locator(".nhsuk-caption-l")).to_contain_text("Recording P-")
    ref = re.search(r"P-\d{4}-\d{4}", page.locator(".nhsuk-caption-l").inner_text()).group()
    location = page.url.split("?")[0]
    consent = page.locator("#consent-form")
    consent.get_by_label("In writing (signed form)").check()
    consent.get_by_label("The clinician's trainer or educational supervisor").check()
    consent.get_by_label("When may it be shown?").fill("Only in a private tutorial")
    consent.get_by_label("Keep it until").fill(date.today().replace(year=date.today().year + 1).isoformat())
    consent.get_by_role("button", name="Save the consent").click()
    page.locator("#review_offered-form").get_by_label("The patient wants to see or hear it first").check()
    page.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_role("status").first).to_contain_text("answer to the offer of a review is on record")

    page.goto(server.url + "/dashboard")
    item = page.locator(".app-queue li").filter(has_text="Arrange the patient's review")
    expect(item).to_contain_text(f"{ref}: A recording the practice made")
    screenshot(page, "86-dashboard-recording-review-item")
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(location)))

    page.goto(server.url + "/recordings?month=2026-13")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the month as a year and month")
    page.goto(server.url + "/recordings?purpose=training")
    expect(page.get_by_role("link", name=ref)).to_be_visible()
    screenshot(page, "87-recordings-filtered")

    desk = new_tablet(viewport=SIZE)
    page = desk.page
    sign_in(page, server, governance)
    page.goto(server.url + "/disclosures/new")
    page.get_by_label("Patient (subject access request)").check()
    page.get_by_label("Name of the requester").fill("The patient")
    page.get_by_label("Reference").fill("SAR/2026/19")
    page.get_by_label("Received on").fill(date.today().isoformat())
    page.get_by_label("Patient's NHS number (optional)").fill("943 476 5919")
    page.get_by_role("button", name="Record request").click()
    page.get_by_role("button", name="Choose the incidents").click()
    found = page.locator("#recordings-in-scope + p + ul")
    expect(found.get_by_role("link", name=ref)).to_be_visible()
    expect(found).to_contain_text("training or assessment, video recorded")
    screenshot(page, "88-subject-access-scope-recording")
    tablet.watch.assert_clean()
    desk.watch.assert_clean()
