"""The shared tablet at the front desk: after a quiet spell the page leaves the screen by
itself, taking any patient details with it, and the session is over on the server too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_reception_tablet import big_action, choose, finish, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IDLE_SECONDS = 12


def test_an_idle_tablet_signs_out_and_leaves_no_patient_details_on_screen(start_reception, tablet):
    server, account = start_reception(INCIDENTS_IDLE_TIMEOUT_MINUTES=str(IDLE_SECONDS / 60))
    page = tablet.page
    sign_in(page, server, account)
    big_action(page, "Announced by the patient").tap()
    page.get_by_label("Which clinician?").fill("Dr Shah")
    choose(page, "Where was the consultation?", "Consulting room")
    choose(page, "How did it come to light?", "Announced by the patient")
    choose(page, "What was recorded?", "Audio")
    page.get_by_label("Patient's NHS number (optional)").fill("943 476 5919")
    # Keeps typing for a while: activity keeps the session.
    for _ in range(2):
        page.wait_for_timeout(IDLE_SECONDS * 1000 * 0.6)
        page.get_by_label("Anything else (optional)").press_sequentially("x", delay=10)
    expect(page.get_by_label("Patient's NHS number (optional)")).to_have_value("943 476 5919")
    # Then nobody touches it.
    expect(page).to_have_url(re.compile(r"/sign-in\?reason=inactive$"), timeout=(IDLE_SECONDS + 5) * 1000)
    expect(page.get_by_text("943 476 5919")).to_have_count(0)
    assert "943" not in page.content()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    # The session ended on the server as well: going back does not show the form again.
    page.goto(server.url + "/incidents/new/recording")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    finish(page, tablet.watch)
