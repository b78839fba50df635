"""Every HTMX form, sent with bad input in a real Chromium, shows what went wrong as a full page
would (the NHS error summary at the top, focused, linking to the field, the field's own message,
"Error:" in the title), and the same form sent right afterwards clears it. htmx 2 swaps no 4xx
answer unless told to, so without the configuration each of these showed nothing at all."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import DESKTOP, Tablet, Watch, screenshot
from tests.browser.test_manager_dashboard import practice, sign_in_at_desk  # noqa: F401 - fixture
from tests.browser.test_reception_tablet import (
    FILMING_TITLE,
    RECORDING_TITLE,
    big_action,
    choose,
    expect_saved_incident,
    finish,
    mark_document,
    open_filled_filming_form,
    sign_in,
    still_same_document,
    timeline,
    timeline_entry,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def summary(page: Page) -> Locator:
    return page.locator(".nhsuk-error-summary").filter(has=page.get_by_role("alert").filter(has_text="There is a problem"))


def expect_error_shown(page: Page, message: str, field: Locator) -> None:
    """The summary is on screen and focused, links to the field, the field says it too, and the title begins "Error:"."""
    shown = summary(page)
    expect(shown).to_be_visible()
    expect(shown).to_be_focused()
    expect(shown).to_be_in_viewport()
    expect(shown.get_by_role("link", name=message)).to_be_visible()
    expect(field).to_contain_text(message)
    expect(field.locator(".nhsuk-error-message")).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: "))


def expect_no_error(page: Page) -> None:
    expect(summary(page)).to_have_count(0)
    expect(page.locator(".nhsuk-error-message")).to_have_count(0)
    expect(page).not_to_have_title(re.compile("^Error: "))


def post_in_place(page: Page, path_end: str, button: Locator, status: int) -> None:
    """Sends the form through HTMX, expecting `status`, and checks the page was not reloaded."""
    mark_document(page)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(path_end)) as posted:
        button.tap()
    assert posted.value.status == status, posted.value.text()
    assert posted.value.request.headers.get("hx-request") == "true", "the form was not sent by HTMX"
    assert still_same_document(page), "the page was reloaded instead of updated in place"


def logged_filming(page: Page, server, account, watch: Watch) -> None:
    open_filled_filming_form(page, server, account)
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, FILMING_TITLE)
    watch.expected_page_statuses.update({409, 422})


def test_adding_to_the_timeline_with_nothing_chosen_says_so(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    logged_filming(page, server, account, watch)
    add = page.get_by_role("button", name="Add to the timeline")
    post_in_place(page, "/responses", add, 422)
    expect_error_shown(page, "Choose what was done", page.locator(".nhsuk-form-group").filter(has=page.get_by_role("group", name="Choose one", exact=True)))
    screenshot(page, "20-incident-response-error")
    # The summary's link takes a tap to the first answer.
    summary(page).get_by_role("link", name="Choose what was done").tap()
    expect(page.get_by_role("group", name="Choose one", exact=True).get_by_role("radio").first).to_be_focused()

    choose(page, "Choose one", "Asked them to stop filming")
    post_in_place(page, "/responses", add, 200)
    expect(timeline_entry(page, "Asked them to stop filming")).to_have_count(1)
    expect_no_error(page)
    finish(page, watch)


def test_an_empty_note_says_so(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    logged_filming(page, server, account, watch)
    add = page.get_by_role("button", name="Add note")
    post_in_place(page, "/notes", add, 422)
    expect_error_shown(page, "Enter the note", page.locator("#note-form .nhsuk-form-group"))
    expect(page.get_by_label("Note", exact=True)).to_have_attribute("aria-describedby", re.compile("text-error"))

    page.get_by_label("Note", exact=True).fill("Spoke to them at the desk")
    post_in_place(page, "/notes", add, 200)
    expect(timeline(page)).to_contain_text("Spoke to them at the desk")
    expect_no_error(page)
    finish(page, watch)


def test_a_correction_with_a_bad_answer_says_so_beside_the_question(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    logged_filming(page, server, account, watch)
    form = page.locator("#correction-form")
    save = form.get_by_role("button", name="Save correction")
    page.get_by_text("Correct something").tap()

    # Nothing chosen at all.
    post_in_place(page, "/corrections", save, 422)
    expect_error_shown(page, "Choose what to correct", form.locator(".nhsuk-form-group").filter(has=page.get_by_role("group", name="What is wrong?")).first)

    # A time in the future, beside the date and time it was typed into.
    form.get_by_role("group", name="What is wrong?").get_by_label("When it happened", exact=True).tap()
    when = form.get_by_role("group", name="When did it happen?")
    when.get_by_label("Date").fill("2099-01-01")
    when.get_by_label("Time").fill("10:00")
    form.get_by_label("Why is it being corrected?").fill("Typed the wrong day")
    post_in_place(page, "/corrections", save, 422)
    expect_error_shown(page, "The time it happened cannot be in the future", form.locator(".nhsuk-form-group").filter(has=page.get_by_role("group", name="When did it happen?")).last)
    expect(page.get_by_role("group", name="When?", exact=True).get_by_label("Date")).not_to_have_value("2099-01-01")  # the response form's own time
    expect(when.get_by_label("Date")).to_have_value("2099-01-01")  # what was typed, kept
    screenshot(page, "21-incident-correction-error")

    when.get_by_label("Date").fill("2026-01-05")
    post_in_place(page, "/corrections", save, 200)
    expect(timeline(page)).to_contain_text("Now: 05 Jan 2026, 10:00")
    expect_no_error(page)
    finish(page, watch)


def test_a_correction_offers_the_reports_own_answers_and_the_page_shows_the_facts_as_they_stand(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    sign_in(page, server, account)
    big_action(page, "Announced by the patient").tap()
    page.get_by_label("Which clinician?").fill("Dr Shah")
    choose(page, "Where was the consultation?", "Telephone consultation")
    choose(page, "How did it come to light?", "Announced by the patient")
    page.get_by_role("button", name="Save incident").tap()
    expect_saved_incident(page, server, RECORDING_TITLE)
    watch.expected_page_statuses.add(422)

    facts = page.get_by_role("region", name="The facts as they stand")
    expect(facts).to_be_visible()
    expect(facts.locator("dt, dd")).to_contain_text(["Clinician", "Dr Shah", "Setting", "Telephone consultation"])
    assert facts.bounding_box()["y"] < page.get_by_role("heading", name="Timeline").bounding_box()["y"], "the facts are not above the timeline"

    form = page.locator("#correction-form")
    page.get_by_text("Correct something").tap()
    # Each fact is offered by the same question the report asked, with its answers and no codes.
    form.get_by_role("group", name="What is wrong?").get_by_label("Setting", exact=True).tap()
    where = form.get_by_role("group", name="Where was the consultation?", exact=True)
    expect(where.get_by_role("radio")).to_have_count(4)
    expect(where.get_by_label("Telephone consultation", exact=True)).to_be_checked()
    expect(form).not_to_contain_text("code")
    expect(form).not_to_contain_text("2026-11-25T")
    form.get_by_role("group", name="What is wrong?").get_by_label("When it happened", exact=True).tap()
    expect(form.get_by_role("group", name="When did it happen?").get_by_label("Date")).to_have_attribute("type", "date")
    expect(form.get_by_role("group", name="When did it happen?").get_by_label("Time")).to_have_attribute("type", "time")
    form.get_by_role("group", name="What is wrong?").get_by_label("NHS number", exact=True).tap()
    form.get_by_label("Patient's NHS number (optional)").fill("123")
    form.get_by_label("Why is it being corrected?").fill("The patient told us")
    post_in_place(page, "/corrections", form.get_by_role("button", name="Save correction"), 422)
    expect_error_shown(page, "An NHS number has 10 digits, like 943 476 5919", form.locator(".nhsuk-form-group").filter(has=page.get_by_label("Patient's NHS number (optional)")).last)

    form.get_by_role("group", name="What is wrong?").get_by_label("Setting", exact=True).tap()
    where.get_by_label("Consulting room", exact=True).tap()
    post_in_place(page, "/corrections", form.get_by_role("button", name="Save correction"), 200)
    expect(timeline(page)).to_contain_text("Now: Consulting room")
    expect(facts.locator("dd")).to_contain_text(["Dr Shah", "Consulting room"])  # as it now stands
    expect(facts).not_to_contain_text("Telephone consultation")
    page.get_by_text("Correct something").tap()
    form.get_by_role("group", name="What is wrong?").get_by_label("Setting", exact=True).tap()
    screenshot(page, "22-incident-correction-form")
    finish(page, watch)


def test_a_form_that_expired_says_so_in_place(reception, tablet: Tablet):
    server, account = reception
    page, watch = tablet.page, tablet.watch
    logged_filming(page, server, account, watch)
    watch.expected_page_statuses.add(403)
    page.locator("#note-form input[name=csrf_token]").evaluate("input => { input.value = 'stale' }")
    page.get_by_label("Note", exact=True).fill("Spoke to them")
    post_in_place(page, "/notes", page.get_by_role("button", name="Add note"), 403)
    expect(page.get_by_role("heading", name="This form has expired", level=1)).to_be_visible()
    expect(page).to_have_title(re.compile("^This form has expired"))
    # htmx logs an error answer as such: here it was expected.
    watch.console_errors[:] = [e for e in watch.console_errors if "Response Status Error Code 403" not in e]
    finish(page, watch)


def test_the_list_filter_with_the_days_the_wrong_way_round_says_so(practice, new_tablet):  # noqa: F811
    server, reception, manager = practice
    tablet = new_tablet()
    sign_in(tablet.page, server, reception)
    big_action(tablet.page, "Someone is filming").tap()
    choose(tablet.page, "Where?", "Waiting area")
    choose(tablet.page, "Who was filming?", "A patient")
    tablet.page.get_by_role("button", name="Save incident").tap()
    expect(tablet.page.get_by_role("heading", name="Saved", level=2)).to_be_visible()

    desk = new_tablet(viewport=DESKTOP, has_touch=False)
    page, watch = desk.page, desk.watch
    watch.expected_page_statuses.add(422)
    sign_in_at_desk(page, server, manager)
    page.goto(server.url + "/incidents")
    count = page.get_by_role("heading", name="1 incident", level=2)
    expect(count).to_be_visible()
    mark_document(page)
    to_group = page.locator(".nhsuk-form-group").filter(has=page.get_by_label("To (last day)", exact=True))

    # Changing a day shows the error where the person is working, without taking their focus.
    page.get_by_label("From (first day)", exact=True).fill("2026-05-10")
    page.get_by_label("To (last day)", exact=True).fill("2026-05-01")
    page.get_by_label("Search notes and details").focus()  # leaving the day (Tab moves within a date field)
    message = "The last day must be the same as or after the first day"
    expect(summary(page)).to_be_visible()
    expect(summary(page).get_by_role("link", name=message)).to_be_visible()
    expect(to_group).to_contain_text(message)
    expect(count).to_have_count(0)  # the previous count is gone
    expect(page).to_have_title(re.compile("^Error: "))
    expect(summary(page)).not_to_be_focused()

    # "Show incidents" moves focus to the summary, as the page without JavaScript does.
    page.get_by_role("button", name="Show incidents").click()
    expect_error_shown(page, message, to_group)
    assert still_same_document(page), "the list reloaded instead of updating in place"
    screenshot(page, "23-incident-list-error")

    page.get_by_label("To (last day)", exact=True).fill("2026-12-31")
    page.get_by_label("From (first day)", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Show incidents").click()
    expect(page.get_by_role("heading", name="1 incident found", level=2)).to_be_visible()
    expect_no_error(page)
    finish(page, watch)
