"""The receptionist's journey on the front-desk tablet (768x1024, touch), in a real Chromium against
a real `incidents serve`: sign in, log filming or a recording with taps only, add what staff did
(HTMX in place, or plain form posts without JavaScript), with no console errors, no CSP
violations and every asset loaded. Screenshots of every page land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
from playwright.sync_api import Locator, Page, expect

from incidents.bootstrap import open_log
from incidents.settings import Settings
from tests.browser.conftest import SCREENSHOTS, Tablet, Watch, screenshot, screenshot_fold
from tests.conftest import Account, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INCIDENT_URL = re.compile(r"/incidents/[0-9a-f-]{36}\?saved=new$")
FILMING_TITLE = "Someone filmed in the practice"
RECORDING_TITLE = "A patient recorded a consultation"


# Steps a receptionist takes --------------------------------------------------------------


def sign_in(page: Page, server: LiveServer, account: Account, shot: str | None = None) -> None:
    page.goto(server.url + "/sign-in")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    if shot:
        screenshot(page, shot)
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").tap()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_text("Signed in as")).to_be_visible()


def big_action(page: Page, title: str) -> Locator:
    """The big button on the home screen (the header has a shorter link with the same words)."""
    return page.get_by_role("main").get_by_role("link", name=title)


def choose(page: Page, legend: str, label: str) -> None:
    """Taps a radio found by its question and its label, as a person would."""
    radio = page.get_by_role("group", name=legend, exact=True).get_by_label(label, exact=True)
    radio.tap()
    expect(radio).to_be_checked()


def timeline(page: Page) -> Locator:
    return page.get_by_role("list", name="Timeline, oldest first")


def timeline_entry(page: Page, title: str) -> Locator:
    return timeline(page).get_by_role("heading", name=title, exact=True)


def mark_document(page: Page) -> None:
    """Leaves a mark on the current document: a full navigation would wipe it."""
    page.evaluate("() => { window.__sameDocument = true }")


def still_same_document(page: Page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def add_response_in_place(page: Page, label: str, watch: Watch) -> None:
    """Adds a response through HTMX and checks the page was updated in place, not reloaded."""
    url = page.url
    mark_document(page)
    posts_before = len(watch.posts)
    choose(page, "Choose one", label)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/responses")) as posted:
        page.get_by_role("button", name="Add to the timeline").tap()
    response = posted.value
    assert response.status == 200, response.text()
    assert response.request.headers.get("hx-request") == "true", "the response form was not sent by HTMX"
    expect(timeline_entry(page, label)).to_have_count(1)
    expect(page.locator("#saved")).to_have_text(re.compile("Saved"))
    assert page.url == url, "the page address changed"
    assert still_same_document(page), "the page was reloaded instead of updated in place"
    assert len(watch.posts) == posts_before + 1
    # The fresh form is ready for the next response: nothing left chosen.
    expect(page.get_by_role("group", name="Choose one", exact=True).get_by_role("radio", checked=True)).to_have_count(0)


def report_filming(page: Page) -> None:
    choose(page, "Where?", "Waiting area")
    choose(page, "Who was filming?", "A patient")
    choose(page, "Who was filmed?", "Staff and other patients")
    choose(page, "Were children present?", "No")
    page.get_by_label("Anything else (optional)").fill("Held a phone up at the desk")


def open_filled_filming_form(page: Page, server: LiveServer, account: Account) -> None:
    sign_in(page, server, account)
    big_action(page, "Someone is filming").tap()
    report_filming(page)


def expect_saved_incident(page: Page, server: LiveServer, title: str, *shown: str) -> None:
    """The incident's page after saving it, its first timeline entry showing each of `shown`."""
    expect(page).to_have_url(re.compile(re.escape(server.url) + INCIDENT_URL.pattern))
    expect(page.get_by_role("heading", name=re.compile("^" + re.escape(title)), level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.get_by_role("heading", name="Saved", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Timeline", level=2)).to_be_visible()
    expect(timeline_entry(page, title)).to_have_count(1)
    entry = timeline(page).get_by_role("listitem").first
    for text in shown:
        expect(entry).to_contain_text(text)


def reported_incidents(server: LiveServer) -> list[str]:
    """Incident ids in the event store, read after the server has stopped (so no file is shared live)."""
    server.stop()
    opened = open_log(Settings.from_env(server.env))
    try:
        ids = []
        for notification in opened.log.recorder.select_notifications(start=1, limit=100_000):
            if notification.topic.endswith(".Reported"):
                ids.append(str(notification.originator_id))
        return ids
    finally:
        opened.log.close()


def finish(page: Page, watch: Watch) -> None:
    """Nothing went wrong in the browser, apart from the one known font bug (tested on its own)."""
    watch.collect_csp(page)
    watch.assert_clean()


# 1. Someone is filming --------------------------------------------------------------------------


def test_receptionist_logs_filming_and_adds_responses_in_place(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    sign_in(page, server, account, shot="01-sign-in")
    screenshot(page, "02-home")

    big_action(page, "Someone is filming").tap()
    expect(page.get_by_role("heading", name="Someone is filming", level=1)).to_be_visible()
    expect(page.get_by_text("Stay calm: explain the policy")).to_be_visible()
    screenshot(page, "03-report-filming")
    report_filming(page)
    page.get_by_role("button", name="Save incident").tap()

    expect_saved_incident(page, server, FILMING_TITLE, "Waiting area", "A patient", "Held a phone up at the desk", "Sue Reception")
    screenshot(page, "05-incident-filming-saved")
    watch.collect_csp(page)

    add_response_in_place(page, "Asked them to stop filming", watch)
    screenshot_fold(page, "06a-incident-filming-after-adding-a-response")
    add_response_in_place(page, "They stopped filming", watch)

    for title in (FILMING_TITLE, "Asked them to stop filming", "They stopped filming"):
        expect(timeline_entry(page, title)).to_have_count(1)
    expect(timeline(page).get_by_role("heading")).to_have_text(
        [FILMING_TITLE, "Asked them to stop filming", "They stopped filming"]
    )
    screenshot(page, "06-incident-filming-timeline")

    # A reload (a full GET) shows the same timeline: the in-place update was saved, once each.
    page.reload()
    expect(timeline(page).get_by_role("heading")).to_have_text(
        [FILMING_TITLE, "Asked them to stop filming", "They stopped filming"]
    )

    # Home lists it once among today's incidents, with what was done last.
    page.get_by_role("navigation").get_by_role("link", name="Home").tap()
    today = page.get_by_role("region", name="Today's incidents")
    expect(today.get_by_role("listitem")).to_have_count(1)
    expect(today.get_by_role("listitem")).to_contain_text(re.compile("waiting area", re.IGNORECASE))
    expect(today.get_by_role("listitem")).to_contain_text("They stopped filming")
    screenshot(page, "10-home-with-todays-incident")
    finish(page, watch)


# 2. A patient recorded their consultation ------------------------------------------------------


def test_receptionist_logs_a_recorded_consultation_and_sees_the_guidance(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    sign_in(page, server, account)

    expect(page.get_by_role("region", name="A patient recorded their consultation")).to_be_visible()
    big_action(page, "Announced by the patient").tap()
    expect(page.get_by_role("heading", name="A patient recorded their consultation", level=1)).to_be_visible()
    # The home screen's choice answered its question.
    expect(page.get_by_role("group", name="How did it come to light?").get_by_label("Announced by the patient", exact=True)).to_be_checked()
    guidance = page.get_by_text("You cannot insist that they stop")
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text("you must not refuse treatment")
    expect(page.get_by_text("This is not a breach.")).to_be_visible()
    screenshot(page, "07-report-recording")

    page.get_by_label("Which clinician?").fill("Dr Shah")
    choose(page, "Where was the consultation?", "Consulting room")
    choose(page, "What was recorded?", "Audio")
    page.get_by_role("button", name="Save incident").tap()

    expect_saved_incident(page, server, RECORDING_TITLE, "Dr Shah", "Consulting room", "Announced by the patient")
    expect(page.get_by_text("You cannot insist that they stop")).to_be_visible()  # still there after saving

    add_response_in_place(page, "Asked for a copy of the recording", watch)
    expect(timeline(page).get_by_role("heading")).to_have_text([RECORDING_TITLE, "Asked for a copy of the recording"])
    screenshot(page, "08-incident-recording-timeline")
    finish(page, watch)


def test_the_recording_form_shows_its_guidance_as_text_not_markup(reception, tablet: Tablet):
    server, account = reception
    page = tablet.page
    sign_in(page, server, account)
    page.goto(server.url + "/incidents/new/recording")
    main = page.get_by_role("main")
    expect(main.locator("strong", has_text="This is not a breach.")).to_be_visible()
    expect(main).not_to_contain_text("<p>")
    expect(main).not_to_contain_text("<strong>")


def test_after_adding_a_response_the_tablet_shows_that_it_was_saved(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    open_filled_filming_form(page, server, account)
    page.get_by_role("button", name="Save incident").tap()
    expect(timeline_entry(page, FILMING_TITLE)).to_have_count(1)
    add_response_in_place(page, "Asked them to stop filming", watch)
    page.wait_for_timeout(300)  # let any scrolling or focusing after the swap finish
    confirmation = page.locator("#saved")
    expect(confirmation).to_be_in_viewport()


def test_a_usual_recording_takes_four_taps_from_the_home_screen(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    sign_in(page, server, account)
    # The day's first recording names its clinician by typing; after that the name is a tap.
    big_action(page, "Announced by the patient").tap()
    page.get_by_label("Which clinician?").fill("Dr Shah")
    choose(page, "Where was the consultation?", "Telephone consultation")
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, RECORDING_TITLE, "Dr Shah", "Telephone consultation")

    page.goto(server.url + "/")
    screenshot(page, "02b-home-recording-choices")
    taps = [
        lambda: big_action(page, "Noticed during the consultation").tap(),
        lambda: choose(page, "Which clinician?", "Dr Shah"),
        lambda: choose(page, "Where was the consultation?", "Consulting room"),
        lambda: page.get_by_role("button", name="Save incident").tap(),
    ]
    for tap in taps:
        tap()
    expect_saved_incident(page, server, RECORDING_TITLE, "Dr Shah", "Consulting room", "Noticed during the consultation")
    finish(page, watch)


# 3. A double tap on Save -----------------------------------------------------------------------


def test_two_quick_taps_on_save_make_one_incident(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    open_filled_filming_form(page, server, account)
    save = page.get_by_role("button", name="Save incident")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # Two taps at the same spot, the second without waiting for the first to get anywhere.
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)

    expect(page).to_have_url(re.compile(r"/incidents/[0-9a-f-]{36}\?saved=(new|again)$"))
    expect(timeline_entry(page, FILMING_TITLE)).to_have_count(1)
    incident_path = page.url.split("?")[0].removeprefix(server.url)
    finish(page, watch)
    ids = reported_incidents(server)
    assert len(ids) == 1, f"{watch.posts.count('/incidents/new/filming')} posts made {len(ids)} incidents: {ids}"
    assert incident_path == f"/incidents/{ids[0]}"


def expect_one_incident_from_two_posts(page: Page, server: LiveServer, watch: Watch, expected_failures: list[str]) -> None:
    """The form was posted twice, yet the page shows the one incident the server has; the failed
    requests the test expects are no fault."""
    expect(timeline_entry(page, FILMING_TITLE)).to_have_count(1)
    assert watch.posts.count("/incidents/new/filming") == 2, watch.posts
    watch.failed_requests = [f for f in watch.failed_requests if f not in expected_failures]
    incident_path = page.url.split("?")[0].removeprefix(server.url)
    finish(page, watch)
    ids = reported_incidents(server)
    assert len(ids) == 1, ids
    assert incident_path == f"/incidents/{ids[0]}"


def test_two_submits_dispatched_at_once_make_one_incident(reception, tablet: Tablet):
    """Two submits of the same form, straight after each other, past the button's own
    double-click guard: the browser may abort the first after the server has it. One incident."""
    server, account = reception
    page, watch = tablet.page, tablet.watch
    open_filled_filming_form(page, server, account)
    page.evaluate(
        "() => { const form = document.getElementById('report-form');"
        " form.requestSubmit(); setTimeout(() => form.requestSubmit(), 0) }"
    )
    expect(page).to_have_url(re.compile(r"/incidents/[0-9a-f-]{36}\?saved=(new|again)$"))
    # The browser abandons the first submission when the second starts: expected, not a fault.
    abandoned = [f for f in watch.failed_requests if f.startswith("POST ") and "/incidents/new/filming" in f]
    assert len(abandoned) <= 1, abandoned
    expect_one_incident_from_two_posts(page, server, watch, expected_failures=abandoned)


def test_saving_again_after_the_answer_was_lost_makes_no_duplicate(reception, tablet: Tablet):
    """The Wi-Fi drops after the server saved the incident but before its answer arrives: the
    tablet shows the browser's error page, the receptionist reloads (the browser sends the same
    form again) and is told it was already saved. One incident."""
    server, account = reception
    page, watch = tablet.page, tablet.watch
    open_filled_filming_form(page, server, account)
    first: list[int] = []

    def answer_lost(route):
        if route.request.method == "POST" and not first:
            first.append(route.fetch(max_redirects=0).status)  # the server saves it...
            route.abort("internetdisconnected")  # ...and the tablet never hears back
            return
        route.continue_()

    page.route("**/incidents/new/filming", answer_lost)
    page.get_by_role("button", name="Save incident").tap()
    expect(page).to_have_url(re.compile("^chrome-error://"))
    assert first == [303]
    page.reload()  # the browser's "Reload" button on its error page posts the form again

    expect(page).to_have_url(re.compile(r"/incidents/[0-9a-f-]{36}\?saved=again$"))
    expect(page.get_by_text("This incident was already saved. Nothing was duplicated.")).to_be_visible()
    lost = [f for f in watch.failed_requests if "/incidents/new/filming" in f and "ERR_INTERNET_DISCONNECTED" in f]
    assert len(lost) == 1, watch.failed_requests
    expect_one_incident_from_two_posts(page, server, watch, expected_failures=lost)


def test_a_tablet_dropping_off_mid_save_is_not_logged_as_an_unexpected_error(reception, tablet: Tablet):
    server, account = reception
    page = tablet.page
    open_filled_filming_form(page, server, account)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in tablet.context.cookies(server.url))
    body = page.evaluate("() => new URLSearchParams(new FormData(document.getElementById('report-form'))).toString()")
    # What the tablet sends when the Wi-Fi drops half way through the post: the headers, half the body.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(
            (
                "POST /incidents/new/filming HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n{body[: len(body) // 2]}"
            ).encode()
        )
        time.sleep(0.3)
    time.sleep(1.0)
    server.stop()
    log = server.log_path.read_text()
    assert "\"POST /incidents/new/filming HTTP/1.1\"" not in log  # nothing was answered, nothing was saved
    assert "Unexpected error" not in log and "Exception in ASGI application" not in log, log[-3000:]


# 4. Without JavaScript ----------------------------------------------------------------------------


def test_filming_and_a_response_work_without_javascript(reception, new_tablet):
    server, account = reception
    tablet = new_tablet(java_script_enabled=False)
    page, watch = tablet.page, tablet.watch
    sign_in(page, server, account)
    big_action(page, "Someone is filming").tap()
    report_filming(page)
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, FILMING_TITLE)
    incident_url = page.url.split("?")[0]

    choose(page, "Choose one", "Asked them to stop filming")
    page.get_by_label("Note (optional)").fill("Asked politely at the desk")
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the timeline").tap()
    # POST, redirect, GET: back on the incident page at the timeline.
    expect(page).to_have_url(incident_url + "?saved=response#saved")
    expect(timeline_entry(page, "Asked them to stop filming")).to_have_count(1)
    expect(timeline(page)).to_contain_text("Asked politely at the desk")
    expect(page.get_by_role("status")).to_contain_text("Saved")
    screenshot_fold(page, "09a-incident-filming-no-javascript-after-adding-a-response")
    screenshot(page, "09-incident-filming-no-javascript")

    choose(page, "Choose one", "They stopped filming")
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the timeline").tap()
    expect(timeline(page).get_by_role("heading")).to_have_text(
        [FILMING_TITLE, "Asked them to stop filming", "They stopped filming"]
    )
    assert watch.posts == ["/sign-in", "/incidents/new/filming", *[incident_url.removeprefix(server.url) + "/responses"] * 2]
    watch.assert_clean()


# 4b. Correcting a fact: the same question as the report form, no codes -------------------------------


def correct(page: Page, label: str, answer) -> Locator:
    """Opens "Correct something", picks the fact by its label, answers its own question."""
    form = page.locator("#correction-form")
    page.get_by_text("Correct something").tap()
    form.get_by_role("group", name="What is wrong?").get_by_label(label, exact=True).tap()
    answer(form)
    form.get_by_label("Why is it being corrected?").fill("Checked the camera")
    return form


def test_a_correction_asks_the_chosen_facts_own_question_with_its_current_answer(reception, new_tablet):
    server, account = reception
    tablet = new_tablet(viewport={"width": 820, "height": 1180})
    page, watch = tablet.page, tablet.watch
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, server, account)
    page.goto(server.url + "/incidents/new/recording")
    page.screenshot(path=str(SCREENSHOTS / "10-report-recording-820x1180.png"), full_page=True, animations="disabled")
    page.goto(server.url + "/")
    big_action(page, "Someone is filming").tap()
    report_filming(page)
    page.screenshot(path=str(SCREENSHOTS / "10-report-filming-820x1180.png"), full_page=True, animations="disabled")
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, FILMING_TITLE)
    form = page.locator("#correction-form")
    page.get_by_text("Correct something").tap()
    form.get_by_role("group", name="What is wrong?").get_by_label("Where", exact=True).tap()
    where = form.get_by_role("group", name="Where?", exact=True)
    expect(where.get_by_label("Waiting area", exact=True)).to_be_checked()  # what it says now
    expect(form.get_by_role("group", name="Who was filming?", exact=True)).to_be_hidden()  # only the chosen fact's question
    where.get_by_label("Reception desk", exact=True).tap()
    form.get_by_label("Why is it being corrected?").fill("Checked the camera")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/corrections")) as posted:
        form.get_by_role("button", name="Save correction").tap()
    assert posted.value.status == 200 and posted.value.request.headers.get("hx-request") == "true"
    entry = timeline(page).get_by_role("listitem").filter(has=page.get_by_role("heading", name="Corrected: Where"))
    expect(entry).to_contain_text("Was: Waiting area")
    expect(entry).to_contain_text("Now: Reception desk")

    # In the block HTMX swapped in, choosing a fact still reveals its question: a time as a date and a clock time.
    correct(page, "When it happened", lambda f: (f.get_by_label("Date").fill("2026-06-01"), f.get_by_label("Time").fill("08:05")))
    form.get_by_role("button", name="Save correction").tap()
    expect(timeline(page).get_by_role("heading", name="Corrected: When it happened")).to_have_count(1)
    expect(timeline(page)).to_contain_text("Now: 01 Jun 2026, 08:05")  # British Summer Time, as the clock showed it
    # Last: a screenshot leaves style attributes on the page that a later HTMX swap would copy, against the CSP.
    correct(page, "When it happened", lambda f: None)
    page.locator("details").filter(has=form).screenshot(path=str(SCREENSHOTS / "10-correction-form-820x1180.png"))
    finish(page, watch)


def test_a_correction_works_without_javascript(reception, new_tablet):
    server, account = reception
    page, watch = (tablet := new_tablet(java_script_enabled=False)).page, tablet.watch
    open_filled_filming_form(page, server, account)
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, FILMING_TITLE)
    form = correct(page, "Who was filming", lambda f: f.get_by_role("group", name="Who was filming?", exact=True).get_by_label("A visitor").tap())
    with page.expect_navigation():
        form.get_by_role("button", name="Save correction").tap()
    expect(timeline(page).get_by_role("heading", name="Corrected: Who was filming")).to_have_count(1)
    expect(timeline(page)).to_contain_text("Now: A visitor")
    watch.assert_clean()


# 5. No console errors, no CSP violations, every asset loaded ------------------------------------


def visit_reception_pages(page: Page, server: LiveServer, account: Account, watch: Watch) -> None:
    """Signs in and opens each page reception uses, collecting what the pages' policy blocked."""
    sign_in(page, server, account)
    for path in ("/", "/incidents/new/filming", "/incidents/new/recording"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        watch.collect_csp(page)


def test_every_reception_page_loads_cleanly_including_the_error_state(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    visit_reception_pages(page, server, account, watch)

    # The filming form sent with nothing chosen: the NHS error summary, focused, linking to the fields.
    page.goto(server.url + "/incidents/new/filming")
    watch.expected_page_statuses.add(422)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save incident").tap()
    assert answer.value.status == 422
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link", name="Choose where it happened")).to_be_visible()
    expect(summary.get_by_role("link", name="Choose who was filming")).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_role("group", name="Where?", exact=True)).to_contain_text("Choose where it happened")
    page.wait_for_load_state("networkidle")
    screenshot(page, "04-report-filming-errors")
    # The error link takes a tap to the first answer of the question.
    summary.get_by_role("link", name="Choose where it happened").tap()
    expect(page.get_by_role("group", name="Where?", exact=True).get_by_role("radio").first).to_be_focused()
    watch.collect_csp(page)

    watch.assert_clean()
    loaded = {re.sub(r"\.[0-9a-f]{12}\.", ".", path) for path in watch.assets}  # named by content
    for asset in ("/static/app.css", "/static/htmx.min.js", "/static/app.js"):
        assert asset in loaded, f"{asset} was not loaded: {sorted(watch.assets)}"
    assert all(status in (200, 304) for status in watch.assets.values()), watch.assets
    # The NHS frontend really ran (bundled into app.js): the buttons are enhanced.
    assert page.evaluate("() => document.querySelector('[data-module=\"nhsuk-button\"][data-nhsuk-button-init]') !== null")
    assert page.evaluate("() => typeof window.htmx === 'object'")


def test_no_page_breaks_its_own_content_security_policy(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    visit_reception_pages(page, server, account, watch)
    watch.assert_clean()


# Touch targets (measured, reported to test-artifacts) -------------------------------------------

TARGETS_SCRIPT = """
() => {
  const out = [];
  const seen = new Set();
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const describe = (el) => ((el.labels && el.labels[0] && el.labels[0].innerText) || el.getAttribute('aria-label') || el.innerText || el.name || el.tagName).trim().replace(/\\s+/g, ' ').slice(0, 60);
  for (const el of document.querySelectorAll('a[href], button, summary, input:not([type=hidden]), select, textarea')) {
    if (!visible(el) && !(el.type === 'radio' || el.type === 'checkbox')) continue;
    if (el.classList.contains('nhsuk-skip-link')) continue;  // shown only on keyboard focus
    let box = el.getBoundingClientRect();
    let name = describe(el);
    if (el.type === 'radio' || el.type === 'checkbox') {
      // The label is part of the target: measure the input and its label together.
      const label = el.labels && el.labels[0];
      if (label) { const l = label.getBoundingClientRect();
        const left = Math.min(box.left, l.left), top = Math.min(box.top, l.top);
        box = {width: Math.max(box.right, l.right) - left, height: Math.max(box.bottom, l.bottom) - top};
        name = label.innerText.trim(); }
    }
    const inline = el.tagName === 'A' && el.closest('p, dd, .nhsuk-hint');
    const key = el.tagName + name;
    if (seen.has(key)) continue; seen.add(key);
    out.push({tag: el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : ''), name, width: Math.round(box.width), height: Math.round(box.height), inline: !!inline});
  }
  return out;
}
"""


def small_targets(page: Page) -> list[dict]:
    return [t for t in page.evaluate(TARGETS_SCRIPT) if not t["inline"] and (t["width"] < 44 or t["height"] < 44)]


REPORT_PAGES = {
    "sign-in": "/sign-in",
    "home": "/",
    "report-filming": "/incidents/new/filming",
    "report-recording": "/incidents/new/recording",
}


def test_every_touch_target_is_at_least_44_px_on_the_tablet(reception, new_tablet):
    server, account = reception
    anonymous = new_tablet().page
    anonymous.goto(server.url + "/sign-in")
    found = {"sign-in": small_targets(anonymous)}
    page = new_tablet().page
    sign_in(page, server, account)
    for name, path in list(REPORT_PAGES.items())[1:]:
        page.goto(server.url + path)
        found[name] = small_targets(page)
    page.goto(server.url + "/incidents/new/filming")
    report_filming(page)
    page.get_by_role("button", name="Save incident").tap()
    expect(timeline_entry(page, FILMING_TITLE)).to_have_count(1)
    found["incident"] = small_targets(page)
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "touch-targets.json").write_text(json.dumps(found, indent=2))
    too_small = {name: targets for name, targets in found.items() if targets}
    assert not too_small, json.dumps(too_small, indent=2)
