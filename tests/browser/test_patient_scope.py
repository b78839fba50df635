"""A subject access request made from an NHS number, in a real Chromium against a real
`incidents serve` with the demo's incidents: a mistyped number is explained in the error summary;
the scope chooser then proposes (ticks) every incident about that patient, each of which names
that number on its own page, and none about another patient."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, SCREENSHOTS, TABLET
from tests.browser.test_manager_dashboard import sign_in_at_desk

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = SCREENSHOTS
PATIENT_SHOWN = "943 476 5919"
OTHERS_SHOWN = ("943 476 5870", "943 476 5862")  # the demo's other patients


@pytest.fixture
def practice_with_history(live_server_factory):
    server = live_server_factory()
    server.cli("demo", "--months", "3")
    governance = server.add_account("gill.governance", "governance", password=PASSWORD)
    server.start()
    return server, governance


def test_a_subject_access_request_from_an_nhs_number_proposes_that_patients_incidents_only(practice_with_history, tablet):
    server, governance = practice_with_history
    page, watch = tablet.page, tablet.watch
    watch.expected_page_statuses.add(422)
    sign_in_at_desk(page, server, governance)
    page.goto(server.url + "/disclosures/new")
    page.get_by_label("Patient (subject access request)").check()
    page.get_by_label("Name of the requester").fill("A patient")
    page.get_by_label("Reference").fill("SAR/2026/18")
    page.get_by_label("Received on").fill(datetime.now(ZoneInfo("Europe/London")).date().isoformat())
    page.get_by_label("Patient's NHS number (optional)").fill("943 476 5918")  # the check digit is wrong
    page.get_by_role("button", name="Record request").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("That is not a valid NHS number: check the digits")
    expect(page.get_by_label("Patient's NHS number (optional)")).to_have_value("943 476 5918")
    page.get_by_label("Patient's NHS number (optional)").fill("943 476 5919")
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_text("The request is in the list")).to_be_visible()

    page.get_by_role("button", name="Choose the incidents").click()
    expect(page.get_by_role("heading", name="Choose the incidents")).to_be_visible()
    expect(page.get_by_label("Patient", exact=True)).to_have_value("request")
    boxes = page.locator("input[name=incident_ids]")
    ticked = [b.get_attribute("value") for b in boxes.all() if b.is_checked()]
    unticked = [b.get_attribute("value") for b in boxes.all() if not b.is_checked()]
    assert ticked and not unticked, "a patient's request lists that patient's incidents, every one ticked"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(SHOTS / "scope-patient-768x1024.png"), animations="disabled")
    scope_url = page.url

    # Any patient: the other patients' incidents appear, unticked.
    page.get_by_label("Patient", exact=True).select_option("any")
    page.get_by_role("button", name="Show incidents").click()
    everyone = page.locator("input[name=incident_ids]")
    expect(everyone.first).to_be_visible()
    assert everyone.count() > len(ticked)
    others = [b.get_attribute("value") for b in everyone.all() if b.get_attribute("value") not in ticked]
    assert not any(b.is_checked() for b in everyone.all())
    page.screenshot(path=str(SHOTS / "scope-any-768x1024.png"), full_page=True, animations="disabled")

    # Each incident proposed names the patient's number on its own page; the others do not.
    for incident_id in ticked:
        page.goto(f"{server.url}/incidents/{incident_id}")
        expect(page.locator("main")).to_contain_text(PATIENT_SHOWN)
    named_others = 0
    for incident_id in others:
        page.goto(f"{server.url}/incidents/{incident_id}")
        text = page.locator("main").inner_text()
        assert PATIENT_SHOWN not in text
        named_others += any(number in text for number in OTHERS_SHOWN)
    assert named_others, "the demo has incidents about other patients, and none was proposed"

    page.goto(scope_url)
    page.get_by_role("button", name="Set the scope").click()
    expect(page.get_by_text("The scope is set.")).to_be_visible()
    assert re.search(r"/disclosures/[0-9a-f-]+\?saved=scope$", page.url)
    watch.assert_clean()
