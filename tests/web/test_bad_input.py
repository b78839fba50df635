"""Bad input through HTTP: implausible dates, the UK clock changes, hidden characters, bodies that
are not UTF-8, NHS numbers nobody is issued, and query strings that are not numbers or dates.
Each gets a 4xx with words beside the field, never a 500, and the views keep working."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from incidents.domain.acting import acting_as
from tests.conftest import csrf_from, field_from
from tests.web.test_disclosures_web import receive
from tests.web.test_reception_slice import filming_form, log_filming, recording_form


def post_report(client, kind: str, **overrides: str):
    page = client.get(f"/incidents/new/{kind}")
    form = (filming_form if kind == "filming" else recording_form)(page.text, **overrides)
    return client.post(f"/incidents/new/{kind}", data=form)


def views_still_work(client_for) -> None:
    """A normal incident still reaches the list, and the health check is green."""
    location = log_filming(client_for("sue.reception"), note="After the bad input")
    listed = client_for("mo.manager").get("/incidents")
    assert listed.status_code == 200 and location in listed.text
    assert client_for().get("/healthz").status_code == 200


@pytest.mark.parametrize("day, year", [("0001-01-01", "0001"), ("0026-11-25", "0026"), ("1899-12-31", "1899")])
def test_an_incident_dated_before_1900_is_refused_beside_the_date_and_the_views_keep_going(client_for, day, year):
    refused = post_report(client_for("sue.reception"), "filming", occurred_date=day, occurred_time="10:00")
    assert refused.status_code == 422
    assert f"The date must be in 1900 or later: check the year ({year})" in refused.text
    views_still_work(client_for)


def test_a_correction_to_a_time_before_1900_far_ahead_or_skipped_by_the_clocks_is_refused(client_for):
    sue = client_for("sue.reception")
    location = log_filming(sue)
    for day, clock in (("0001-01-01", "00:00"), ("1899-12-31", "23:59"), ("9999-12-31", "23:59"), ("2026-13-01", "10:00"), ("2025-03-30", "01:30")):
        page = sue.get(location)
        form = {"csrf_token": csrf_from(page.text), "field": "occurred_at", "occurred_date": day, "occurred_time": clock, "reason": "typo"}
        refused = sue.post(f"{location}/corrections", data=form)
        assert refused.status_code == 422, (day, clock, refused.status_code)
    views_still_work(client_for)


def test_a_time_the_clocks_skip_in_spring_is_refused_and_a_repeated_autumn_time_is_taken_in_bst(client_for, web_app):
    sue = client_for("sue.reception")
    skipped = post_report(sue, "filming", occurred_date="2026-03-29", occurred_time="01:30")
    assert skipped.status_code == 422 and "There was no 01:30 on 29/03/2026 in the UK" in skipped.text
    repeated = post_report(sue, "filming", occurred_date="2025-10-26", occurred_time="01:30")
    assert repeated.status_code == 303
    incident_id = uuid.UUID(repeated.headers["location"].split("?")[0].rsplit("/", 1)[1])
    incident = web_app.state.log.repository.get(incident_id)
    assert incident.occurred_at == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)  # 01:30 BST
    assert "taken as the first one (BST)" in sue.get("/incidents/new/filming").text


@pytest.mark.parametrize("hidden, code", [("%00", "U+0000"), ("%E2%80%AE", "U+202E"), ("%1B", "U+001B")])
def test_a_note_with_a_hidden_character_is_refused_beside_the_note(client_for, hidden, code):
    sue = client_for("sue.reception")
    page = sue.get("/incidents/new/filming")
    form = filming_form(page.text, note="PLACEHOLDER")
    body = "&".join(f"{k}={v}" for k, v in form.items() if k != "note") + f"&note=hello{hidden}world"
    refused = sue.post("/incidents/new/filming", content=body.encode(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 422 and f"cannot be stored ({code})" in refused.text
    assert "\x00" not in refused.text and "\u202e" not in refused.text
    views_still_work(client_for)


def test_a_raw_utf8_form_body_is_stored_as_written(client_for):
    sue = client_for("sue.reception")
    page = sue.get("/incidents/new/filming")
    form = filming_form(page.text, note="PLACEHOLDER")
    body = "&".join(f"{k}={v}" for k, v in form.items() if k != "note").encode() + "&note=Zoë at the desk".encode()
    saved = sue.post("/incidents/new/filming", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert saved.status_code == 303
    shown = sue.get(saved.headers["location"]).text
    assert "Zoë at the desk" in shown and "ZoÃ«" not in shown


@pytest.mark.parametrize("note", [b"Zo\xeb", b"Zo%EB", b"%ED%A0%80"])
def test_a_form_body_that_is_not_utf8_gets_a_clear_400(client_for, note):
    sue = client_for("sue.reception")
    page = sue.get("/incidents/new/filming")
    form = filming_form(page.text, note="PLACEHOLDER")
    body = "&".join(f"{k}={v}" for k, v in form.items() if k != "note").encode() + b"&note=" + note
    refused = sue.post("/incidents/new/filming", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 400 and "not sent as UTF-8" in refused.text


def test_an_nhs_number_outside_the_issued_ranges_is_refused_beside_it(client_for):
    refused = post_report(client_for("sue.reception"), "recording", nhs_number="000 000 0000")
    assert refused.status_code == 422 and "no NHS number starts like that" in refused.text


@pytest.mark.parametrize("query", ["page=%C2%B2", "page=%E2%91%A0", "page=99999999999999999999999", "page=-1"])
def test_a_list_page_that_is_not_a_page_number_is_a_4xx(client_for, query):
    response = client_for("mo.manager").get(f"/incidents?{query}")
    assert response.status_code == 422 and "The page must be a whole number from 1 to 1000" in response.text


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=0026-01-01&to=2026-01-01"])
def test_a_list_filter_day_out_of_range_is_refused_beside_the_filter(client_for, query):
    response = client_for("mo.manager").get(f"/incidents?{query}")
    assert response.status_code == 422 and "Enter a date between 1 January 1900 and 31 December" in response.text


def test_a_disclosure_scope_period_out_of_range_is_refused_and_a_saved_one_does_not_break_the_pages(client_for, web_app):
    incident = log_filming(client_for("sue.reception")).rsplit("/", 1)[1]
    governance = client_for("gill.governance")
    location = receive(governance)
    asked = governance.get(f"{location}/scope?period_to=9999-12-31")
    assert asked.status_code == 422 and "Enter a date between 1 January 1900" in asked.text
    picker = governance.get(f"{location}/scope")
    refused = governance.post(f"{location}/scope", data={"csrf_token": csrf_from(picker.text), "incident_ids": incident, "period_from": "", "period_to": "9999-12-31"})
    assert refused.status_code == 422 and "Enter a date between 1 January 1900" in refused.text

    # A scope saved before the range was enforced, written as the older code would have.
    log = web_app.state.log
    request = log.repository.get(uuid.UUID(location.rsplit("/", 1)[1]))
    with acting_as("gill.governance", "Gill"):
        request._scope_set(incident_ids=[uuid.UUID(incident)], period_from=date(1, 1, 1), period_to=date(9999, 12, 31))
    log.save(request)
    assert governance.get(f"{location}/scope").status_code == 200
    assert governance.get(location).status_code == 200
