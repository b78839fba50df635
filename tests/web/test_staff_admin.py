"""Staff accounts through HTTP: a governance lead adds, resets, disables and enables accounts of their
own practice; a one-time password signs in once and makes the person choose their own; a disabled
account's sessions end at once; every change is on the account's history with who made it."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta

import pytest

from incidents.application import commands as c
from incidents.application.service import IncidentLog
from incidents.cli import ensure_first_account
from incidents.domain.practice_lists import list_id
from incidents.web.templating import UK, uk_time
from tests.conftest import csrf_from
from tests.web.conftest import PASSWORD

NEW_PASSWORD = "three unrelated words here"


def account_id(username: str) -> str:
    return str(IncidentLog.account_id(username))


def post(client, path: str, data: dict[str, str | list[str]] | None = None, page: str = "/"):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def one_time_password(html: str) -> str:
    found = re.search(r'id="one-time-password">([^<]+)<', html)
    assert found, html
    return found.group(1).strip()


def sign_in(client, username: str, password: str):
    token = csrf_from(client.get("/sign-in").text)
    return client.post("/sign-in", data={"username": username, "password": password, "csrf_token": token})


def add_staff(client, **overrides: str | list[str]):
    form = {"display_name": "Nell Nurse", "username": "nell.nurse", "roles": ["reception"], **overrides}
    return post(client, "/staff", form, page="/staff/new")


def test_governance_sees_the_staff_of_their_practice_only(client_for):
    page = client_for("gill.governance").get("/staff")
    assert page.status_code == 200
    for name in ("sue.reception", "mo.manager", "gill.governance"):
        assert name in page.text
    assert "other.reception" not in page.text and "other.manager" not in page.text
    assert 'href="/staff"' in page.text  # the header link, for governance


def test_the_header_link_is_for_governance_only(client_for):
    assert 'href="/staff"' not in client_for("mo.manager").get("/").text


def test_the_first_run_account_is_listed(web_app, settings):
    log = web_app.state.log
    fresh = IncidentLog(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ensure_first_account(fresh, settings)
    assert fresh.listed(settings.practice, "staff") == [IncidentLog.account_id("manager")]
    # It manages the practice and can add its staff from the pages: governance too.
    assert fresh.repository.get(IncidentLog.account_id("manager")).roles == ("manager", "governance")
    assert IncidentLog.account_id("sue.reception") in log.listed("A81001", "staff")


def test_a_new_member_of_staff_signs_in_once_with_the_one_time_password_then_chooses_their_own(client_for):
    gill = client_for("gill.governance")
    created = add_staff(gill)
    assert created.status_code == 200, created.text
    assert "Account created" in created.text and "nell.nurse" in created.text
    password = one_time_password(created.text)
    assert "nell.nurse" in gill.get("/staff").text
    account_page = gill.get(f"/staff/{account_id('nell.nurse')}").text
    assert password not in account_page, "a one-time password is shown once, never again"

    nell = client_for()
    signed_in = sign_in(nell, "nell.nurse", password)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/choose-password"
    # Until a new password is chosen, nothing else is open, and the sign-in page leads back here.
    assert nell.get("/").headers["location"].startswith("/sign-in")
    assert nell.get("/sign-in").headers["location"] == "/choose-password"
    choose = nell.get("/choose-password")
    assert choose.status_code == 200 and "Choose a new password" in choose.text and "Nell Nurse" in choose.text

    # The one-time password does not sign in a second time, even before a new one is chosen.
    assert sign_in(client_for(), "nell.nurse", password).status_code == 401

    token = csrf_from(choose.text)
    mismatch = nell.post("/choose-password", data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": "something else"})
    assert mismatch.status_code == 422
    assert "nhsuk-error-summary" in mismatch.text and "The two passwords are not the same" in mismatch.text
    same = nell.post("/choose-password", data={"csrf_token": token, "password": password, "confirm": password})
    assert same.status_code == 422 and "different from the one-time password" in same.text
    short = nell.post("/choose-password", data={"csrf_token": token, "password": "short", "confirm": "short"})
    assert short.status_code == 422 and "12 to 256 characters" in short.text
    common = nell.post("/choose-password", data={"csrf_token": token, "password": "Qwerty123456", "confirm": "Qwerty123456"})
    assert common.status_code == 422 and "one of the most common" in common.text

    chosen = nell.post("/choose-password", data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/"
    assert nell.get("/").status_code == 200
    assert sign_in(client_for(), "nell.nurse", password).status_code == 401
    assert sign_in(client_for(), "nell.nurse", NEW_PASSWORD).headers["location"] == "/"

    history = gill.get(f"/staff/{account_id('nell.nurse')}").text
    for what in ("Account created", "One-time password given", "Signed in with the one-time password", "Chose a new password"):
        assert what in history
    assert "Gill (gill.governance)" in history and "Nell Nurse (nell.nurse)" in history


def test_a_reset_ends_the_persons_sessions_and_gives_a_password_that_works_once(client_for):
    sue = client_for("sue.reception")
    assert sue.get("/").status_code == 200
    gill = client_for("gill.governance")
    reset = post(gill, f"/staff/{account_id('sue.reception')}/reset-password", page=f"/staff/{account_id('sue.reception')}")
    assert reset.status_code == 200 and "Password reset" in reset.text
    password = one_time_password(reset.text)

    refused = sue.get("/")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/sign-in?reason=ended")
    assert sign_in(client_for(), "sue.reception", PASSWORD).status_code == 401
    again = client_for()
    assert sign_in(again, "sue.reception", password).headers["location"] == "/choose-password"
    token = csrf_from(again.get("/choose-password").text)
    assert again.post("/choose-password", data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    assert "Password reset" in gill.get(f"/staff/{account_id('sue.reception')}").text


def test_a_disabled_accounts_session_is_refused_at_once_and_enabling_lets_them_back(client_for):
    mo = client_for("mo.manager")
    assert mo.get("/").status_code == 200
    gill = client_for("gill.governance")
    mo_page = f"/staff/{account_id('mo.manager')}"
    disabled = post(gill, f"{mo_page}/disable", {"reason": "Left the practice"}, page=mo_page)
    assert disabled.status_code == 303 and disabled.headers["location"] == f"{mo_page}?saved=disabled"

    refused = mo.get("/")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/sign-in?reason=ended")
    assert sign_in(client_for(), "mo.manager", PASSWORD).status_code == 401
    page = gill.get(f"{mo_page}?saved=disabled").text
    assert "Disabled" in page and "Reason: Left the practice" in page and "Enable account" in page
    # A repeated request changes nothing.
    assert post(gill, f"{mo_page}/disable", {"reason": ""}, page=mo_page).status_code == 303
    assert gill.get(mo_page).text.count("Account disabled") == 1

    enabled = post(gill, f"{mo_page}/enable", page=mo_page)
    assert enabled.status_code == 303
    assert sign_in(client_for(), "mo.manager", PASSWORD).headers["location"] == "/"


def test_the_history_shows_every_event_with_what_who_and_when_in_uk_time(client_for, web_app):
    gill = client_for("gill.governance")
    target = account_id("sue.reception")
    post(gill, f"/staff/{target}/disable", {"reason": "On leave"}, page=f"/staff/{target}")
    post(gill, f"/staff/{target}/enable", page=f"/staff/{target}")
    page = gill.get(f"/staff/{target}").text
    events = list(web_app.state.log.events.get(uuid.UUID(target)))
    rows = re.findall(r'<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell app-nowrap">([^<]+)</td>', page)
    assert rows == [uk_time(e.timestamp, "%d %b %Y, %H:%M:%S") for e in events]
    assert [type(e).__name__ for e in events][-2:] == ["Disabled", "Enabled"]
    assert "Account disabled" in page and "Account enabled" in page and "Reason: On leave" in page
    assert page.count("Gill (gill.governance)") == 2
    assert "When (UK time)" in page


def test_a_governance_lead_cannot_disable_their_own_account(client_for):
    gill = client_for("gill.governance")
    own = f"/staff/{account_id('gill.governance')}"
    assert "You cannot disable your own account" in gill.get(own).text
    refused = post(gill, f"{own}/disable", {"reason": "oops"}, page=own)
    assert refused.status_code == 409
    assert "nhsuk-error-summary" in refused.text and "You cannot disable your own account" in refused.text
    assert gill.get("/staff").status_code == 200, "still signed in"


@pytest.mark.parametrize("username", ["sue.reception", "mo.manager"])
def test_reception_and_managers_are_refused(client_for, username):
    client = client_for(username)
    target = f"/staff/{account_id('sue.reception')}"
    for response in (
        client.get("/staff"),
        client.get("/staff/new"),
        client.get(target),
        post(client, "/staff", {"display_name": "X", "username": "x.y", "roles": ["manager"]}),
        post(client, f"{target}/roles", {"roles": ["governance"]}),
        post(client, f"{target}/reset-password"),
        post(client, f"{target}/disable"),
        post(client, f"{target}/enable"),
    ):
        assert response.status_code == 403, response.request.url
    assert "x.y" not in client_for("gill.governance").get("/staff").text


@pytest.mark.parametrize("target", [account_id("other.reception"), str(uuid.uuid4()), "not-an-id"])
def test_another_practices_account_does_not_exist(client_for, target):
    gill = client_for("gill.governance")
    path = f"/staff/{target}"
    page = gill.get(path)
    assert page.status_code == 404 and ("There is no such account in your practice." in page.text or target == "not-an-id")
    for action in ("reset-password", "disable", "enable"):
        assert post(gill, f"{path}/{action}").status_code == 404
    assert sign_in(client_for(), "other.reception", PASSWORD).status_code == 303, "nothing changed"


def test_a_record_that_is_not_an_account_is_not_found(client_for):
    gill = client_for("gill.governance")
    assert gill.get(f"/staff/{list_id('A81001', 'staff')}").status_code == 404


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"username": "Sue Patel!"}, "username", "lower-case letters, digits"),
        ({"roles": []}, "roles", "Choose at least one role"),
        ({"roles": ["admin"]}, "roles", "Choose at least one role"),
        ({"display_name": "  "}, "display_name", "Enter the person&#39;s full name"),
        ({"username": "sue.reception"}, "username", "is taken"),
        ({"display_name": "x" * 300}, "display_name", "at most"),
    ],
)
def test_bad_input_is_answered_with_the_error_summary_and_what_was_typed(client_for, form, field, message):
    gill = client_for("gill.governance")
    response = add_staff(gill, display_name=form.get("display_name", "Nell Nurse"), username=form.get("username", "nell.nurse"), roles=form.get("roles", ["manager", "governance"]))
    assert response.status_code == 422
    assert "nhsuk-error-summary" in response.text and "There is a problem" in response.text
    assert f'href="#{field}"' in response.text
    assert message in response.text
    kept = form.get("username", "nell.nurse")
    assert f'value="{kept}"' in response.text.replace("&#39;", "'").replace("&#34;", '"') or field == "username"
    assert "Error: " in response.text  # the page title says so
    if "roles" not in form:
        assert re.search(r'value="manager"\s+checked', response.text) and re.search(r'value="governance"\s+checked', response.text), "the chosen roles are kept"
        assert not re.search(r'value="reception"\s+checked', response.text)
    assert "nell.nurse" not in gill.get("/staff").text or form.get("username") == "sue.reception"


def test_register_account_lists_accounts_made_by_the_cli(web_app):
    log = web_app.state.log
    saved = log.register_account(
        c.RegisterAccount(username="cli.person", display_name="Cli", practice="A81001", roles=("reception",), password=PASSWORD),  # type: ignore[arg-type]
        actor="cli",
    )
    assert log.listed("A81001", "staff")[-1] == saved.id


def test_someone_else_can_sign_in_at_a_tablet_left_in_the_middle_of_a_password_choice(client_for):
    password = one_time_password(add_staff(client_for("gill.governance")).text)
    tablet = client_for()
    sign_in(tablet, "nell.nurse", password)
    assert "Sign in as someone else" in tablet.get("/choose-password").text
    # A GET changes nothing (a link from anywhere would sign people out): switching is a POST.
    assert tablet.get("/sign-in?reason=switch").headers["location"] == "/choose-password"
    token = csrf_from(tablet.get("/choose-password").text)
    switched = tablet.post("/choose-password", data={"csrf_token": token, "switch": "1"})
    assert switched.headers["location"] == "/sign-in?reason=switch"
    assert tablet.get("/sign-in?reason=switch").status_code == 200
    assert sign_in(tablet, "sue.reception", PASSWORD).headers["location"] == "/"
    assert tablet.get("/").status_code == 200


def test_a_one_time_password_says_when_it_expires_and_is_refused_after_with_what_to_do(client_for, web_app):
    web_app.state.log.one_time_password_lifetime = timedelta(seconds=1)
    gill = client_for("gill.governance")
    reset = post(gill, f"/staff/{account_id('sue.reception')}/reset-password", page=f"/staff/{account_id('sue.reception')}")
    assert reset.status_code == 200
    password = one_time_password(reset.text)
    expires = re.search(r'id="one-time-password-expires">([^<]+)<', reset.text)
    assert expires and datetime.now(UK).strftime("%-d %B %Y") in expires.group(1)
    time.sleep(1.2)
    refused = sign_in(client_for(), "sue.reception", password)
    assert refused.status_code == 401
    assert "This one-time password has expired: ask your governance lead" in refused.text
    assert "choose-password" not in refused.headers.get("location", "")
    wrong = sign_in(client_for(), "sue.reception", "not the password at all")
    assert wrong.status_code == 401 and "expired" not in wrong.text


def test_a_new_member_of_staff_may_hold_several_roles(client_for):
    gill = client_for("gill.governance")
    created = add_staff(gill, roles=["manager", "governance"])
    assert created.status_code == 200, created.text
    assert "Practice manager and Governance lead" in created.text
    assert "Practice manager and Governance lead" in gill.get("/staff").text
    history = gill.get(f"/staff/{account_id('nell.nurse')}").text
    assert "Nell Nurse, Practice manager and Governance lead, practice A81001" in history


def test_governance_changes_roles_and_the_persons_next_page_follows(client_for):
    gill, mo = client_for("gill.governance"), client_for("mo.manager")
    assert mo.get("/disclosures").status_code == 403
    assert 'href="/disclosures"' not in mo.get("/").text
    page = f"/staff/{account_id('mo.manager')}"
    changed = post(gill, f"{page}/roles", {"roles": ["manager", "governance"]}, page=page)
    assert changed.status_code == 303 and changed.headers["location"] == f"{page}?saved=roles"
    shown = gill.get(changed.headers["location"]).text
    assert "The roles are changed" in shown and "Roles changed" in shown
    assert mo.get("/disclosures").status_code == 200 and mo.get("/notices").status_code == 200, "the same session, at once"
    home = mo.get("/").text
    assert 'href="/disclosures"' in home and 'href="/notices"' in home and 'href="/practice"' in home
    assert "Practice manager and Governance lead" in home  # who is signed in, and as what


def test_roles_form_errors_are_shown_beside_the_roles(client_for):
    gill = client_for("gill.governance")
    page = f"/staff/{account_id('mo.manager')}"
    refused = post(gill, f"{page}/roles", {}, page=page)
    assert refused.status_code == 422
    assert 'href="#roles"' in refused.text and "Choose at least one role" in refused.text and "Error: " in refused.text
    own = f"/staff/{account_id('gill.governance')}"
    dropped = post(gill, f"{own}/roles", {"roles": ["manager"]}, page=own)
    assert dropped.status_code == 422  # a refusal shown beside its field, as the correction form does
    assert 'href="#roles"' in dropped.text and "You cannot remove your own governance role" in dropped.text
    assert gill.get("/staff").status_code == 200, "still governance"
