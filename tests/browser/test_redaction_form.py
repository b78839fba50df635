"""The redaction form on a disclosure request's page, in a real Chromium against a real `incidents
serve`: sent empty it shows the error summary (focused, linking to the fields); words to hide in a
note are added with a reason, listed, and removed before the export."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, SCREENSHOTS, screenshot
from tests.browser.test_accessibility import components_left_out, http_client, log_incident_with_responses, run_axe
from tests.browser.test_manager_dashboard import sign_in_at_desk
from tests.conftest import csrf_from, field_from

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def ready_request(live_server_factory):
    """A subject access request with one incident in scope and its legal basis recorded."""
    server = live_server_factory()
    server.add_account("sue.reception", "reception", password=PASSWORD)
    governance = server.add_account("gill.governance", "governance", password=PASSWORD)
    server.start()
    with http_client(server, "sue.reception") as reception:
        incident = log_incident_with_responses(reception)
    with http_client(server, "gill.governance") as client:
        page = client.get("/disclosures/new").text
        received = client.post("/disclosures", data={
            "csrf_token": csrf_from(page), "submission_key": field_from(page, "submission_key"), "requester_type": "subject_access",
            "requester": "Zoë Łukasz", "reference": "SAR/2026/7", "received_on": date.today().isoformat(), "due_on": "",
        })  # fmt: skip
        location = received.headers["location"].split("?")[0]
        token = csrf_from(client.get(location).text)
        assert client.post(f"{location}/scope", data={"csrf_token": token, "incident_ids": incident.split("/")[-1]}).status_code == 303
        assert client.post(f"{location}/legal-basis", data={"csrf_token": token, "basis": "required_by_law"}).status_code == 303
    return server, governance, location


def test_words_in_a_note_are_redacted_listed_and_removed_and_an_empty_form_says_what_is_missing(ready_request, new_tablet):
    server, governance, location = ready_request
    tablet = new_tablet(bypass_csp=True)  # for axe's script, as the accessibility test opens its pages
    page = tablet.page
    tablet.watch.expected_page_statuses.add(422)
    sign_in_at_desk(page, server, governance)
    page.goto(server.url + location)
    section = page.locator("#redactions")
    expect(section.get_by_text("Nothing is redacted")).to_be_visible()

    section.get_by_role("button", name="Redact").tap()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Choose what to redact")).to_be_visible()
    expect(summary.get_by_role("link", name="Enter the reason")).to_be_visible()
    expect(page.locator("#redact-target-error")).to_contain_text("Choose what to redact")
    assert page.title().startswith("Error: ")
    screenshot(page, "disclosure-redaction-error")
    page.locator("#redactions").screenshot(path=str(SCREENSHOTS / "disclosure-redaction-error-section-768.png"))
    summary.get_by_role("link", name="Choose what to redact").click()
    expect(page.locator("#redact-target")).to_be_focused()

    section = page.locator("#redactions")
    note_entry = section.locator("#redact-target option", has_text="Held a phone up at the desk")
    section.get_by_label("What to hide").select_option(note_entry.get_attribute("value"))
    section.get_by_label("Words to hide (for an entry)").fill("at the desk")
    section.get_by_label("Reason").fill("Another patient's words")
    section.get_by_role("button", name="Redact").tap()
    expect(page.get_by_role("status")).to_contain_text("The redaction is added")
    listed = page.locator("#redaction-list")
    expect(listed).to_contain_text("“at the desk”")
    expect(listed).to_contain_text("Another patient's words")
    screenshot(page, "disclosure-redaction-listed")
    page.locator("#redactions").screenshot(path=str(SCREENSHOTS / "disclosure-redaction-listed-section-768.png"))
    assert run_axe(page) == [] and components_left_out(page) == []

    listed.get_by_role("button", name=re.compile("^Remove")).tap()
    expect(page.get_by_role("status")).to_contain_text("The redaction is removed")
    expect(page.locator("#redactions").get_by_text("Nothing is redacted")).to_be_visible()
    tablet.watch.assert_clean()
