"""No entry lost to the idle timeout: typing and tapping count as activity on the server too (the
page sends a throttled keep-alive), and a form posted after the session ended anyway is not lost
in silence: the sign-in page says it was not saved, and after signing in the form is filled in again."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_reception_tablet import (
    FILMING_TITLE,
    big_action,
    expect_saved_incident,
    finish,
    report_filming,
    reported_incidents,
    sign_in,
)
from tests.conftest import Account, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IDLE_SECONDS = 6


def type_for_longer_than_the_timeout(page) -> None:
    note = page.get_by_label("Anything else (optional)")
    started = time.monotonic()
    while time.monotonic() - started < IDLE_SECONDS * 2:
        note.press_sequentially(" and more", delay=150)


@pytest.fixture
def filling_in_a_report(start_reception, tablet) -> tuple[LiveServer, Account]:
    """Signed in on a server whose sessions end after IDLE_SECONDS, with a filming report filled in."""
    server, account = start_reception(INCIDENTS_IDLE_TIMEOUT_MINUTES=str(IDLE_SECONDS / 60))
    sign_in(tablet.page, server, account)
    big_action(tablet.page, "Someone is filming").tap()
    report_filming(tablet.page)
    return server, account


def test_typing_for_longer_than_the_idle_timeout_then_saving_saves_the_incident(filling_in_a_report, tablet):
    server, _ = filling_in_a_report
    page = tablet.page
    type_for_longer_than_the_timeout(page)
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, FILMING_TITLE)
    expect(page.get_by_text("and more and more")).to_be_visible()
    assert any(post.endswith("/session/keep-alive") for post in tablet.watch.posts), tablet.watch.posts
    finish(page, tablet.watch)
    assert len(reported_incidents(server)) == 1


def test_a_form_posted_after_the_session_ended_is_not_lost_in_silence(filling_in_a_report, tablet):
    server, account = filling_in_a_report
    page = tablet.page
    page.route("**/session/keep-alive", lambda route: route.fulfill(status=204))  # it never reaches the server
    type_for_longer_than_the_timeout(page)
    page.get_by_role("button", name="Save incident").tap()

    expect(page).to_have_url(re.compile(r"/sign-in\?reason=unsaved&next=%2Fincidents%2Fnew%2Ffilming$"))
    expect(page.get_by_text("what you had just entered was NOT saved")).to_be_visible()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").tap()

    expect(page).to_have_url(server.url + "/incidents/new/filming")
    note = page.get_by_label("Anything else (optional)")
    expect(note).to_have_value(re.compile(r"^Held a phone up at the desk( and more)+$"))
    expect(page.get_by_role("group", name="Where?", exact=True).get_by_label("Waiting area", exact=True)).to_be_checked()
    expect(page.get_by_role("group", name="Who was filming?", exact=True).get_by_label("A patient", exact=True)).to_be_checked()
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, FILMING_TITLE)
    # Saved: the next new form starts empty.
    page.goto(server.url + "/incidents/new/filming")
    expect(page.get_by_label("Anything else (optional)")).to_have_value("")
    finish(page, tablet.watch)
    assert len(reported_incidents(server)) == 1
