"""A subject access request in a real Chromium: its extension sent without the day the requester
was told comes back with the NHS error summary on screen and focused, linking to that field,
which says it too, and what was typed kept; its bundle downloads again with the same bytes and
is marked disclosed by the request's label, when it was made and what it holds."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incidents.application.records import uk_today
from incidents.domain.dates import months_after
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import http_client, log_incident_with_responses, run_axe
from tests.conftest import Account, csrf_from, field_from
from tests.browser.test_manager_dashboard import sign_in_at_desk
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_extension_without_the_day_the_requester_was_told_shows_its_error(live_server_factory, new_tablet):
    server = live_server_factory()
    governance = server.add_account("gill.governance", "governance", password=PASSWORD)
    server.start()
    tablet = new_tablet(bypass_csp=True)  # axe is added as a script
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
    assert run_axe(page) == []

    summary.get_by_role("link", name=message).click()
    expect(page.locator("#told_on")).to_be_focused()
    page.locator("#told_on").fill(uk_today().isoformat())
    page.get_by_role("button", name="Extend").click()
    expect(page.get_by_role("status")).to_contain_text("The due date is extended")
    expect(page.get_by_text(f"The requester was told on {uk_today():%d %b %Y}.").first).to_be_visible()
    screenshot(page, "disclosure-extended")
    tablet.watch.assert_clean()


def test_a_bundle_is_downloaded_again_with_the_same_bytes_and_marked_disclosed_by_its_label(live_server_factory, new_tablet, tmp_path):
    server = live_server_factory()
    for username, role in (("sue.reception", "reception"), ("gill.governance", "governance")):
        server.add_account(username, role, password=PASSWORD)
    server.start()
    with http_client(server, "sue.reception") as reception:
        incident = log_incident_with_responses(reception).split("/")[-1]
    with http_client(server, "gill.governance") as governance:
        form = governance.get("/disclosures/new").text
        received = governance.post("/disclosures", data={
            "csrf_token": csrf_from(form), "submission_key": field_from(form, "submission_key"), "requester_type": "subject_access",
            "requester": "Zoë Łukasz", "reference": "SAR-2026-0010", "received_on": uk_today().isoformat(), "due_on": "",
        })  # fmt: skip
        request_path = received.headers["location"].split("?")[0]
        token = csrf_from(governance.get(request_path).text)
        assert governance.post(f"{request_path}/scope", data={"csrf_token": token, "incident_ids": incident}).status_code == 303
        assert governance.post(f"{request_path}/legal-basis", data={"csrf_token": token, "basis": "right_of_access"}).status_code == 303

    tablet = new_tablet(accept_downloads=True, bypass_csp=True)  # axe is added as a script
    page = tablet.page
    sign_in_at_desk(page, server, Account("gill.governance", PASSWORD, "governance", "A81001"))
    page.goto(server.url + request_path)
    with page.expect_download() as made:
        page.get_by_role("button", name="Create the evidence bundle").click()
    first = Path(made.value.path()).read_bytes()
    assert re.match(r"disclosure-D-\d{4}-0001-", made.value.suggested_filename)  # named by the request's short reference
    page.goto(server.url + request_path)
    with page.expect_download() as again:
        page.get_by_role("link", name=re.compile("Download this bundle again")).click()
    assert Path(again.value.path()).read_bytes() == first
    assert again.value.suggested_filename == made.value.suggested_filename

    choice = page.get_by_role("group", name="Which bundle was sent?").get_by_role("radio")
    expect(choice).to_have_count(1)
    expect(page.get_by_role("radio", name=re.compile(r"^D-\d{4}-0001, made \d{2} \w{3} \d{4} at \d{2}:\d{2}:\d{2}: 1 incident \("))).to_be_checked()
    screenshot(page, "disclosure-bundles")
    assert run_axe(page) == []
    page.get_by_role("button", name="Mark as disclosed").click()
    expect(page.get_by_role("status")).to_contain_text("The disclosure is recorded")
    with page.expect_download() as after:
        page.get_by_role("link", name=re.compile("Download this bundle again")).click()
    assert Path(after.value.path()).read_bytes() == first
    tablet.watch.assert_clean()
