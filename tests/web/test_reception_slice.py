"""The reception slice through HTTP: sign in, log each kind, respond, see the timeline; and every
kind of bad input answered with a clear 4xx, never a 500."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import csrf_from, field_from
from tests.unit import kinds

UK = ZoneInfo("Europe/London")


# the unit tests' valid facts of each kind, as the report form sends them
FILMING = {**kinds.FILMING.facts, "note": "Held a phone up at the desk"}
RECORDING = {**kinds.RECORDING.facts, "clinician": "Dr Shah", "note": ""}


def incident_form(page_html: str, facts: dict[str, str], **overrides: str) -> dict[str, str]:
    """A report form as the page gave it (its token and key), filled in with the facts, two minutes ago."""
    now = datetime.now(UK) - timedelta(minutes=2)
    return {
        "csrf_token": csrf_from(page_html),
        "submission_key": field_from(page_html, "submission_key"),
        "occurred_date": now.strftime("%Y-%m-%d"),
        "occurred_time": now.strftime("%H:%M"),
        **facts,
        **overrides,
    }


def filming_form(page_html: str, **overrides: str) -> dict[str, str]:
    return incident_form(page_html, FILMING, **overrides)


def recording_form(page_html: str, **overrides: str) -> dict[str, str]:
    return incident_form(page_html, RECORDING, **overrides)


def log_filming(client, **overrides: str) -> str:
    page = client.get("/incidents/new/filming")
    response = client.post("/incidents/new/filming", data=filming_form(page.text, **overrides))
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def test_unsigned_visitor_is_sent_to_sign_in(client_for):
    response = client_for().get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client_for):
    client = client_for()
    page = client.get("/sign-in")
    for username in ("sue.reception", "nobody.here"):
        response = client.post("/sign-in", data={"username": username, "password": "wrong", "csrf_token": csrf_from(page.text)})
        assert response.status_code == 401
        assert "Enter a correct username and password" in response.text


def test_receptionist_logs_filming_and_sees_it_with_guidance(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/filming")
    assert page.status_code == 200
    assert "breach of the practice&#39;s policy, not of data protection law" in page.text
    location = log_filming(client)
    incident = client.get(location)
    assert incident.status_code == 200
    assert "Someone filmed in the practice" in incident.text
    assert "Waiting area" in incident.text and "Held a phone up at the desk" in incident.text
    assert "The incident is logged" not in incident.text  # only after the redirect with ?saved=new
    saved = client.get(location + "?saved=new")
    assert "The incident is logged" in saved.text


def test_receptionist_logs_recording_and_is_told_it_is_not_a_breach(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/recording")
    assert "You cannot insist that they stop, and you must not refuse treatment" in page.text
    response = client.post("/incidents/new/recording", data=recording_form(page.text))
    assert response.status_code == 303
    incident = client.get(response.headers["location"])
    assert "943 476 5919" in incident.text and "Dr Shah" in incident.text


def test_the_same_submission_twice_makes_one_incident(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/filming")
    form = filming_form(page.text)
    first = client.post("/incidents/new/filming", data=form)
    second = client.post("/incidents/new/filming", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"].split("?")[0] == second.headers["location"].split("?")[0]
    assert second.headers["location"].endswith("saved=again")
    assert "Nothing was duplicated" in client.get(second.headers["location"]).text


def test_adding_a_response_shows_it_on_the_timeline(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    page = client.get(location)
    now = datetime.now(UK)
    form = {
        "csrf_token": csrf_from(page.text),
        "submission_key": field_from(page.text, "submission_key"),
        "response": "AskedToStop",
        "occurred_date": now.strftime("%Y-%m-%d"),
        "occurred_time": now.strftime("%H:%M"),
        "reference": "",
        "note": "Asked politely",
    }
    response = client.post(location + "/responses", data=form)
    assert response.status_code == 303
    again = client.post(location + "/responses", data=form)  # a double tap
    assert again.status_code == 303
    timeline = client.get(location).text
    assert timeline.count("Asked them to stop filming</h3>") == 1
    assert "Asked politely" in timeline


def test_htmx_response_gets_the_timeline_fragment_with_a_fresh_form(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    page = client.get(location)
    now = datetime.now(UK)
    key = field_from(page.text, "submission_key")
    form = {
        "csrf_token": csrf_from(page.text),
        "submission_key": key,
        "response": "PolicyExplained",
        "occurred_date": now.strftime("%Y-%m-%d"),
        "occurred_time": now.strftime("%H:%M"),
    }
    response = client.post(location + "/responses", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="activity"' in response.text
    assert "Explained the practice&#39;s policy on filming</h3>" in response.text
    assert field_from(response.text, "submission_key") != key


@pytest.mark.parametrize(
    "overrides, status, message",
    [
        ({"area": ""}, 422, "Choose where it happened"),
        ({"filmer": "alien"}, 422, "Choose who was filming"),
        ({"occurred_date": "not a date"}, 422, "Enter the date and time it happened"),
        ({"occurred_date": (datetime.now(UK) + timedelta(days=1)).strftime("%Y-%m-%d")}, 422, "cannot be in the future"),
        ({"note": "x" * 6000}, 422, "at most 5000 characters"),
        ({"submission_key": ""}, 422, "This form is out of date"),
    ],
)
def test_bad_filming_input_gets_a_clear_error_and_keeps_what_was_typed(client_for, overrides, status, message):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/filming")
    form = filming_form(page.text, **overrides)
    response = client.post("/incidents/new/filming", data=form)
    assert response.status_code == status
    assert "There is a problem" in response.text
    assert message in response.text
    assert "Error: Someone is filming" in response.text  # the title says so, for screen readers
    if overrides.get("note") is None:
        assert "Held a phone up at the desk" in response.text


def test_missing_fields_are_all_listed(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/recording")
    response = client.post(
        "/incidents/new/recording",
        data={"csrf_token": csrf_from(page.text), "submission_key": field_from(page.text, "submission_key")},
    )
    assert response.status_code == 422
    for message in ("Enter the clinician", "Choose the setting", "Choose how it came to light", "Enter the date and time"):
        assert message in response.text


def test_invalid_nhs_number_is_refused(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/recording")
    response = client.post("/incidents/new/recording", data=recording_form(page.text, nhs_number="943 476 5918"))
    assert response.status_code == 422
    assert "not a valid NHS number" in response.text
    assert 'value="943 476 5918"' in response.text


def test_a_ten_megabyte_note_is_refused_before_it_is_read(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/filming")
    response = client.post("/incidents/new/filming", data=filming_form(page.text, note="x" * (10 * 1024 * 1024)))
    assert response.status_code == 413
    assert "Too much was sent" in response.text


def test_wrong_or_missing_csrf_token_is_refused_and_nothing_saved(client_for):
    client = client_for("sue.reception")
    page = client.get("/incidents/new/filming")
    for token in ("forged", ""):
        response = client.post("/incidents/new/filming", data=filming_form(page.text, csrf_token=token))
        assert response.status_code == 403
        assert "This form has expired" in response.text
    key = field_from(page.text, "submission_key")
    assert key not in client.get("/").text


def test_reception_cannot_use_manager_actions(client_for):
    reception = client_for("sue.reception")
    location = log_filming(reception)
    page = reception.get(location)
    assert "Mark as reviewed" not in page.text
    for action, data in [("review", {}), ("close", {"outcome": "no_further_action"}), ("reopen", {"reason": "x"})]:
        response = reception.post(f"{location}/{action}", data={"csrf_token": csrf_from(page.text), **data})
        assert response.status_code == 403, action
        assert "You cannot do that" in response.text


def test_manager_reviews_closes_and_reopens(client_for):
    location = log_filming(client_for("sue.reception"))
    manager = client_for("mo.manager")
    page = manager.get(location)
    token = csrf_from(page.text)
    assert manager.post(f"{location}/review", data={"csrf_token": token, "comment": "Seen"}).status_code == 303
    closed = manager.post(f"{location}/close", data={"csrf_token": token, "outcome": "resolved_at_desk"})
    assert closed.status_code == 303
    page = manager.get(location).text
    assert "Resolved at the desk" in page and "Reopen incident" in page
    no_reason = manager.post(f"{location}/reopen", data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422 and "Enter the reason" in no_reason.text
    assert manager.post(f"{location}/reopen", data={"csrf_token": token, "reason": "Letter came back"}).status_code == 303
    assert "Letter came back" in manager.get(location).text


def test_closed_incident_refuses_a_response_with_a_clear_message(client_for):
    reception = client_for("sue.reception")
    location = log_filming(reception)
    manager = client_for("mo.manager")
    token = csrf_from(manager.get(location).text)
    manager.post(f"{location}/close", data={"csrf_token": token, "outcome": "no_further_action"})
    page = reception.get(location)
    now = datetime.now(UK)
    response = reception.post(
        f"{location}/responses",
        data={
            "csrf_token": csrf_from(page.text),
            "submission_key": "k" * 16,
            "response": "AskedToStop",
            "occurred_date": now.strftime("%Y-%m-%d"),
            "occurred_time": now.strftime("%H:%M"),
        },
    )
    assert response.status_code == 409
    assert "reopen it before adding a response" in response.text


def test_correction_shows_the_original_beside_the_new_value(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    token = csrf_from(client.get(location).text)
    missing_reason = client.post(f"{location}/corrections", data={"csrf_token": token, "field": "area", "area": "reception", "reason": ""})
    assert missing_reason.status_code == 422 and "Enter the reason" in missing_reason.text
    response = client.post(f"{location}/corrections", data={"csrf_token": token, "field": "area", "area": "reception", "reason": "It was at the desk"})
    assert response.status_code == 303
    page = client.get(location).text
    assert re.search(r"Was: <del>Waiting area</del>", page)
    assert re.search(r"Now: <ins>Reception desk</ins>", page)
    assert "It was at the desk" in page


def test_another_practice_cannot_see_or_change_an_incident(client_for):
    location = log_filming(client_for("sue.reception"))
    other = client_for("other.manager")
    assert other.get(location).status_code == 404
    token = csrf_from(other.get("/").text)
    response = other.post(f"{location}/close", data={"csrf_token": token, "outcome": "no_further_action"})
    assert response.status_code == 404
    assert "There is no such incident" in response.text


@pytest.mark.parametrize("path", ["/incidents/not-a-uuid", "/incidents/new/burglary", "/no/such/page"])
def test_unknown_addresses_are_404_pages(client_for, path):
    response = client_for("sue.reception").get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_signing_out_ends_the_session_everywhere(client_for):
    tablet = client_for("sue.reception")
    desktop = client_for("sue.reception")
    stolen_cookie = tablet.cookies.get("incidents_session")
    token = csrf_from(tablet.get("/").text)
    assert tablet.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert desktop.get("/").status_code == 303
    replay = client_for()
    replay.cookies.set("incidents_session", stolen_cookie)
    assert replay.get("/").status_code == 303


def test_an_idle_session_ends(settings, web_app, client_for):
    web_app.state.settings = type(settings)(**{**settings.__dict__, "idle_timeout_minutes": 0})
    client = client_for("sue.reception")
    time.sleep(1.1)
    response = client.get("/")
    assert response.status_code == 303
    assert "reason=inactive" in response.headers["location"]


def test_pages_carry_security_headers(client_for):
    response = client_for("sue.reception").get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    cookie = client_for().get("/sign-in").headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_todays_incidents_list_shows_what_was_just_logged(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    home = client.get("/")
    assert f'href="{location}"' in home.text
    assert "Someone filmed in the practice, waiting area" in home.text
    other_practice = client_for("other.reception").get("/")
    assert f'href="{location}"' not in other_practice.text
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="today"' in fragment.text


def test_todays_incidents_are_those_that_happened_today_not_those_logged_today(client_for):
    client = client_for("sue.reception")
    yesterday = (datetime.now(UK) - timedelta(days=1)).strftime("%Y-%m-%d")
    earlier = log_filming(client, occurred_date=yesterday)
    assert f'href="{earlier}"' not in client.get("/").text
    today = log_filming(client)
    home = client.get("/").text
    assert f'href="{today}"' in home and f'href="{earlier}"' not in home


def test_repeated_failed_sign_ins_slow_down_then_lock_without_revealing_names(web_app, client_for):
    web_app.state.sign_in_throttle.slow_after = 100  # keep the test quick: no delays, only the lock
    web_app.state.sign_in_throttle.lock_after = 3
    client = client_for()
    token = csrf_from(client.get("/sign-in").text)
    for username in ("sue.reception", "nobody.here"):
        statuses = [
            client.post("/sign-in", data={"username": username, "password": "wrong", "csrf_token": token}).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
    locked = client.post("/sign-in", data={"username": "sue.reception", "password": "a long enough password", "csrf_token": token})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text


def test_names_in_any_script_survive_the_form_and_the_store(client_for):
    client = client_for("sue.reception")
    note = "Zoë and Łukasz saw 李雷 filming; محمد asked him to stop"
    location = log_filming(client, note=note)
    assert note in client.get(location).text


def test_a_clinician_named_before_is_one_tap_away(client_for):
    client = client_for("sue.reception")
    first = client.get("/incidents/new/recording")
    assert 'name="clinician_other"' not in first.text  # nobody named yet: type the name
    assert client.post("/incidents/new/recording", data=recording_form(first.text, clinician="Dr Shah")).status_code == 303
    again = client.get("/incidents/new/recording")
    assert 'type="radio" value="Dr Shah"' in again.text.replace('name="clinician" ', "")
    assert 'name="clinician_other"' in again.text
    tapped = client.post("/incidents/new/recording", data=recording_form(again.text, clinician="Dr Shah"))
    assert tapped.status_code == 303
    assert "Dr Shah" in client.get(tapped.headers["location"].split("?")[0]).text
    third = client.get("/incidents/new/recording")
    typed = client.post("/incidents/new/recording", data=recording_form(third.text, clinician="", clinician_other="Nurse Patel"))
    assert typed.status_code == 303
    assert "Nurse Patel" in client.get(typed.headers["location"].split("?")[0]).text
    fourth = client.get("/incidents/new/recording")
    missing = client.post("/incidents/new/recording", data=recording_form(fourth.text, clinician="", clinician_other=""))
    assert missing.status_code == 422 and "Enter the clinician" in missing.text


def test_the_home_screen_answers_how_a_recording_came_to_light_and_the_form_keeps_the_answer(client_for):
    client = client_for("sue.reception")
    home = client.get("/").text
    for code in ("announced", "noticed_during", "discovered_later"):
        assert f'href="/incidents/new/recording?openness={code}"' in home
    # Filming first: it is logged while it happens.
    main = home[home.index("<main"):]
    assert main.index('href="/incidents/new/filming"') < main.index('href="/incidents/new/recording?openness=')
    form = client.get("/incidents/new/recording?openness=noticed_during").text
    assert re.search(r'value="noticed_during"\s+checked', form)
    # A value that is not one of the choices answers nothing: the form is empty, not an error.
    for odd in ("made_up", "", "announced%00"):
        page = client.get(f"/incidents/new/recording?openness={odd}")
        assert page.status_code == 200 and not re.search(r'name="openness"[^>]*value="[a-z_]+"\s+checked', page.text)
