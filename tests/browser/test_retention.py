"""The governance lead's retention review in a real Chromium at tablet size: a record whose period
has run is in the review queue; a legal hold sent without saying what it is for comes back with
the error summary; placed, it shows on the record's retention page and its own page, and the
disposal form is gone until the hold is lifted."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.domain.acting import recorded_as_of
from incidents.settings import Settings
from tests.browser.conftest import Tablet, screenshot
from tests.browser.test_form_errors import expect_error_shown, expect_no_error
from tests.browser.test_reception_tablet import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def seed_old_incident(data_dir, reception) -> uuid.UUID:
    """A filming incident logged eleven years ago, before the server starts."""
    opened = open_log(Settings(data_dir=data_dir, practice="A81001"))
    try:
        actor, _ = opened.log.authenticate(reception.username, reception.password)
        then = datetime.now(timezone.utc) - timedelta(days=365 * 11 + 10)
        with recorded_as_of(then + timedelta(minutes=5)):
            return opened.log.report_filming(
                c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=then, area="reception", filmer="visitor", people_captured="staff", children_present="no"),
                actor,
            ).id
    finally:
        opened.log.close()


def test_reviewing_and_holding_a_record(live_server_factory, tablet: Tablet):
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception")
    governance = server.add_account("gill.governance", "governance")
    incident_id = seed_old_incident(server.data_dir, reception)
    server.start()
    page: Page = tablet.page
    tablet.watch.expected_page_statuses.update({422})
    sign_in(page, server, governance)

    page.goto(server.url + "/retention")
    expect(page.get_by_role("heading", name="Due for review (1)")).to_be_visible()
    screenshot(page, "60-retention-review-queue")
    page.get_by_role("main").get_by_role("link", name="Someone filmed in the practice").tap()
    expect(page.get_by_role("heading", name="Dispose of the record", exact=False)).to_be_visible()

    page.get_by_label("A claim").check()
    page.get_by_role("button", name="Place the hold").tap()
    expect_error_shown(page, "Enter what the hold is for: the claim, complaint or case, and its reference", page.locator(".nhsuk-form-group").filter(has=page.locator("#hold-text")))
    expect(page.get_by_label("A claim")).to_be_checked()  # what was chosen comes back

    page.locator("#hold-text").fill("Letter of claim from Smith & Co, ref SC/2026/14")
    page.get_by_role("button", name="Place the hold").tap()
    expect_no_error(page)
    expect(page.get_by_text("The legal hold is placed")).to_be_visible()
    expect(page.get_by_role("heading", name="Under legal hold", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Review: dispose of the record")).to_have_count(0)
    expect(page.get_by_role("heading", name="Review: keep the record")).to_be_visible()
    screenshot(page, "61-retention-record-on-hold")

    page.get_by_role("link", name="Open the record").tap()
    expect(page).to_have_url(f"{server.url}/incidents/{incident_id}")
    expect(page.get_by_text("Letter of claim from Smith & Co, ref SC/2026/14", exact=False)).to_be_visible()
    screenshot(page, "62-incident-on-hold")

    page.goto(server.url + "/dashboard")
    queue = page.get_by_role("list", name="What needs someone")
    expect(queue.get_by_role("link", name="Review for retention: keep or dispose of the record")).to_be_visible()
    page.get_by_text("Records under legal hold (1)").tap()
    expect(page.get_by_role("link", name="Someone filmed in the practice").last).to_be_visible()
    screenshot(page, "63-dashboard-retention-and-holds")
    tablet.watch.assert_clean()


def test_disposing_of_a_record_in_the_browser(live_server_factory, tablet: Tablet):
    """Decided, then carried out: the record's key is destroyed, the retention page says when and
    on whose authority with the certificate, and the record's own page says it was disposed of (410)."""
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception")
    governance = server.add_account("gill.governance", "governance")
    incident_id = seed_old_incident(server.data_dir, reception)
    server.start()
    page: Page = tablet.page
    tablet.watch.expected_page_statuses.update({410})
    sign_in(page, server, governance)

    page.goto(f"{server.url}/retention/{incident_id}")
    page.locator("#dispose-reason").fill("Past its period; no claim, complaint or case open")
    page.locator("#authorised_by").fill("Dr Shah, Caldicott Guardian")
    page.get_by_role("button", name="Dispose of the record").tap()
    expect(page.get_by_role("heading", name="Carry out the disposal")).to_be_visible()
    screenshot(page, "64-retention-awaiting-disposal")
    page.get_by_role("button", name="Destroy the record's key").tap()
    expect_no_error(page)
    expect(page.get_by_text("The record is disposed of")).to_be_visible()
    expect(page.get_by_role("link", name="Download the disposal certificate (PDF)")).to_be_visible()
    expect(page.get_by_role("heading", name="Review: keep the record")).to_have_count(0)
    expect(page.get_by_role("heading", name="Place a legal hold")).to_have_count(0)
    screenshot(page, "65-retention-disposed")

    page.goto(f"{server.url}/incidents/{incident_id}")
    expect(page.get_by_role("heading", name="was disposed of", exact=False)).to_be_visible()
    expect(page.get_by_text("authorised by Dr Shah, Caldicott Guardian", exact=False)).to_be_visible()
    screenshot(page, "66-incident-disposed")
    tablet.watch.assert_clean()
