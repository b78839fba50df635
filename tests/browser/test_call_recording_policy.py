"""The call recording policy page on a tablet (820x1180) in a real Chromium: a policy that singles
out callers is refused with the error summary, focused, leading to the question; the policy for
every caller is adopted and the page shows how callers are told, with no notice yet on the line."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.browser.test_form_errors import summary
from tests.browser.test_manager_dashboard import practice, sign_in_at_desk  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TABLET_820 = {"width": 820, "height": 1180}


def test_a_policy_singling_out_callers_is_refused_then_one_for_every_caller_is_adopted(practice, new_tablet):
    server, _, manager = practice
    tablet = new_tablet(viewport=TABLET_820)
    page = tablet.page
    tablet.watch.expected_page_statuses.add(422)
    sign_in_at_desk(page, server, manager)
    page.goto(server.url + "/call-recording")
    expect(page.get_by_role("heading", name=re.compile("Call recording policy"), level=1)).to_contain_text("Not adopted")

    page.get_by_label("Only calls with particular callers or numbers").check()
    page.get_by_label("Which callers or numbers?").fill("07700 900123, the caller who complained last week")
    page.get_by_label("Complaints and claims").check()
    page.get_by_label("Staff training").check()
    page.get_by_label("How many months are recordings kept?").fill("36")
    page.get_by_label("System or supplier that holds the recordings").fill("Surgery Connect")
    page.get_by_role("button", name="Adopt the policy").tap()

    shown = summary(page)
    expect(shown).to_be_visible()
    expect(shown).to_be_focused()
    expect(shown).to_contain_text("must not single out conversations with individual callers")
    expect(page).to_have_title(re.compile("^Error: "))
    link = shown.get_by_role("link", name=re.compile("single out"))
    expect(link).to_have_attribute("href", "#scope")
    expect(page.locator("#scope-error, .nhsuk-error-message").first).to_contain_text("single out")
    expect(page.get_by_label("Which callers or numbers?")).to_have_value("07700 900123, the caller who complained last week")  # kept as typed
    page.screenshot(path=str(SCREENSHOTS / "call-recording-policy-refused-820x1180.png"), full_page=False)

    page.get_by_label("Every call to and from the practice, on every line").check()
    expect(page.get_by_label("Which callers or numbers?")).to_be_hidden()  # left behind with the answer it belonged to
    page.get_by_role("button", name="Adopt the policy").tap()
    expect(page.get_by_role("status")).to_contain_text("The policy is recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("In force")
    expect(page.get_by_role("heading", name=re.compile("No notice in force today: Telephone call recording \\(message on the line\\)"))).to_be_visible()
    page.set_viewport_size(TABLET_820)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "call-recording-policy-820x1180.png"), full_page=True)
    screenshot(page, "call-recording-policy")
    tablet.watch.assert_clean()
