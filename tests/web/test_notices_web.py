"""The notice register through HTTP: a manager publishes, revises and withdraws notices without
JavaScript (POST, 303, GET); other roles are refused, another practice's notice is not found,
and a bad form comes back (422) with the error summary and what was typed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import csrf_from, field_from

TODAY = datetime.now(ZoneInfo("Europe/London")).date()


def publish(client, channel="telephone_message", wording="Calls to the practice are recorded", day: date = TODAY):
    form_page = client.get("/notices/new")
    assert form_page.status_code == 200
    response = client.post(
        "/notices",
        data={
            "csrf_token": csrf_from(form_page.text),
            "submission_key": field_from(form_page.text, "submission_key"),
            "channel": channel,
            "wording": wording,
            "in_service_from": day.isoformat(),
        },
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def test_a_manager_publishes_revises_and_withdraws_a_notice_without_javascript(client_for):
    client = client_for("mo.manager")
    register = client.get("/notices")
    assert register.status_code == 200
    assert "No notice in force today: Telephone call recording" in register.text
    assert "No notice in force today: The policy on filming in the practice" in register.text

    location = publish(client, day=TODAY - timedelta(days=30))
    shown = client.get(location + "?saved=published")
    assert shown.status_code == 200 and "The notice is in the register" in shown.text
    assert "Calls to the practice are recorded" in shown.text and "In force" in shown.text
    register = client.get("/notices")
    assert "Telephone call recording" not in register.text and "Telephone message" in register.text

    revised = client.post(
        f"{location}/revise",
        data={"csrf_token": csrf_from(shown.text), "wording": "Calls are recorded and kept for 3 years", "in_service_from": TODAY.isoformat()},
    )
    assert revised.status_code == 303 and revised.headers["location"] == f"{location}?saved=revised"
    page = client.get(revised.headers["location"])
    assert "Calls are recorded and kept for 3 years" in page.text and "Calls to the practice are recorded" in page.text

    withdrawn = client.post(
        f"{location}/withdraw",
        data={"csrf_token": csrf_from(page.text), "withdrawn_from": TODAY.isoformat(), "reason": "New phone system"},
    )
    assert withdrawn.status_code == 303
    page = client.get(withdrawn.headers["location"])
    assert "Withdrawn" in page.text and "New phone system" in page.text
    assert "Revise the wording" not in page.text
    assert "No notice in force today: Telephone call recording" in client.get("/notices").text


def test_a_bad_notice_form_comes_back_with_its_errors_and_what_was_typed(client_for):
    client = client_for("mo.manager")
    form_page = client.get("/notices/new")
    response = client.post(
        "/notices",
        data={
            "csrf_token": csrf_from(form_page.text),
            "submission_key": field_from(form_page.text, "submission_key"),
            "wording": "Please do not film in the waiting room",
            "in_service_from": "2026-02-30",
        },
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert "Choose where the notice is given" in response.text
    assert "Enter a real date" in response.text
    assert "Please do not film in the waiting room" in response.text and 'value="2026-02-30"' in response.text


def test_a_revision_that_breaks_a_rule_is_shown_on_the_notice_page(client_for):
    client = client_for("mo.manager")
    location = publish(client, wording="First words")
    page = client.get(location)
    response = client.post(
        f"{location}/revise",
        data={"csrf_token": csrf_from(page.text), "wording": "Earlier words", "in_service_from": (TODAY - timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text and "cannot be before" in response.text
    assert "Earlier words" in response.text
    missing_reason = client.post(f"{location}/withdraw", data={"csrf_token": csrf_from(page.text), "withdrawn_from": TODAY.isoformat(), "reason": ""})
    assert missing_reason.status_code == 422 and "Say why it is withdrawn" in missing_reason.text


def test_only_managers_use_the_register(client_for):
    location = publish(client_for("mo.manager"))
    for username in ("sue.reception", "gill.governance"):
        client = client_for(username)
        token = csrf_from(client.get("/incidents/new/filming").text)
        assert client.get("/notices").status_code == 403
        assert client.get("/notices/new").status_code == 403
        assert client.get(location).status_code == 403
        assert client.post("/notices", data={"csrf_token": token, "channel": "website", "wording": "x", "in_service_from": TODAY.isoformat()}).status_code == 403
        assert client.post(f"{location}/withdraw", data={"csrf_token": token, "withdrawn_from": TODAY.isoformat(), "reason": "x"}).status_code == 403
    assert client_for().get("/notices").headers["location"].startswith("/sign-in")


def test_another_practices_notice_is_not_found(client_for):
    location = publish(client_for("mo.manager"))
    other = client_for("other.manager")
    assert other.get(location).status_code == 404
    token = csrf_from(other.get("/notices").text)
    response = other.post(f"{location}/revise", data={"csrf_token": token, "wording": "Taken over", "in_service_from": TODAY.isoformat()})
    assert response.status_code == 404 and "There is no such notice in your practice." in response.text
    assert other.get("/notices/not-a-uuid").status_code == 404
    assert "Calls to the practice are recorded" not in other.get("/notices").text
    assert "Calls to the practice are recorded" in client_for("mo.manager").get(location).text
