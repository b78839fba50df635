"""What an HTMX form gets back when it is refused: its block with the errors beside the fields and
the page's title (with "Error: ") for htmx to put in the document; an error page answering an HTMX
post says where it goes (the main content); the incident page shows the facts as they now stand."""

from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.web.test_reception_slice import log_filming

HX = {"HX-Request": "true"}


def test_a_refused_note_answers_its_block_with_the_error_and_an_error_title(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    token = csrf_from(client.get(location).text)
    refused = client.post(f"{location}/notes", data={"csrf_token": token, "submission_key": "k" * 16, "text": ""}, headers=HX)
    assert refused.status_code == 422
    assert "<html" not in refused.text and 'id="activity"' in refused.text
    assert re.search(r"<title>Error: F-\d{4}-\d{4}: Someone filmed in the practice – Incidents</title>\s*$", refused.text)
    assert 'href="#text"' in refused.text and 'id="text-error"' in refused.text
    saved = client.post(f"{location}/notes", data={"csrf_token": token, "submission_key": "k" * 16, "text": "Spoke to them"}, headers=HX)
    assert saved.status_code == 200
    assert re.search(r"<title>F-\d{4}-\d{4}: Someone filmed in the practice – Incidents</title>", saved.text)  # "Error: " gone again


def test_a_refused_correction_shows_the_refusal_beside_the_facts_own_question(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    token = csrf_from(client.get(location).text)
    form = {"csrf_token": token, "field": "occurred_at", "occurred_date": "2099-01-01", "occurred_time": "10:00", "reason": "Wrong day"}
    refused = client.post(f"{location}/corrections", data=form, headers=HX)
    assert refused.status_code == 422
    assert 'href="#correct-occurred_at"' in refused.text  # the summary links to the date typed
    assert 'id="correct-occurred_at-error"' in refused.text
    same = client.post(f"{location}/corrections", data={**form, "field": "area", "area": "waiting_area"}, headers=HX)
    assert same.status_code == 422 and "Where is already Waiting area" in same.text
    assert 'id="correct-area-error"' in same.text


def test_the_incident_page_shows_the_facts_as_they_now_stand(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    token = csrf_from(client.get(location).text)
    corrected = client.post(f"{location}/corrections", data={"csrf_token": token, "field": "area", "area": "reception", "reason": "At the desk"})
    assert corrected.status_code == 303
    page = client.get(location).text
    facts = page[page.index("The facts as they stand"):page.index('id="timeline"')]
    assert re.search(r"Where\s*</dt>\s*<dd[^>]*>\s*Reception desk", facts)
    assert "Waiting area" not in facts  # only on the timeline, as first reported


def test_an_error_page_answering_an_htmx_post_takes_the_main_content_and_a_get_keeps_the_screen(client_for):
    client = client_for("sue.reception")
    location = log_filming(client)
    expired = client.post(f"{location}/notes", data={"csrf_token": "stale", "text": "Spoke to them"}, headers=HX)
    assert expired.status_code == 403 and "This form has expired" in expired.text
    assert expired.headers["HX-Retarget"] == "#maincontent" and expired.headers["HX-Reselect"] == "#maincontent"
    missing = client.get("/incidents/00000000-0000-0000-0000-000000000000", headers=HX)
    assert missing.status_code == 404 and missing.headers["HX-Reswap"] == "none"
    plain = client.post(f"{location}/notes", data={"csrf_token": "stale", "text": "Spoke to them"})
    assert "HX-Retarget" not in plain.headers


def test_the_list_answers_day_errors_beside_the_fields_and_focuses_the_summary_only_when_sent(client_for):
    manager = client_for("mo.manager")
    days = {"from": "2026-05-10", "to": "2026-05-01"}
    live = manager.get("/incidents", params=days, headers={**HX, "HX-Trigger": "filters-live"})
    assert live.status_code == 422
    assert live.text.lstrip().startswith('<section id="results"')
    assert re.search(r'<div class="nhsuk-form-group nhsuk-form-group--error" id="to-group" hx-swap-oob="true">', live.text)
    assert re.search(r'<div class="nhsuk-form-group" id="from-group" hx-swap-oob="true">', live.text)
    assert 'data-disable-auto-focus="true"' in live.text
    assert "<title>Error: Incidents – Incidents</title>" in live.text
    sent = manager.get("/incidents", params=days, headers={**HX, "HX-Trigger": "filters"})
    assert 'data-disable-auto-focus="false"' in sent.text
    page = manager.get("/incidents", params=days)  # without JavaScript: the page, no copies of the days
    assert page.text.count('id="to-group"') == 1 and "hx-swap-oob" not in page.text
