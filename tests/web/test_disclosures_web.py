"""Disclosure requests through HTTP: the governance lead receives a request, picks its incidents,
records the legal basis, extends, refuses and closes it, all without JavaScript (POST, 303, GET),
and the page shows the history. Opening an incident is recorded in its chain of custody, which
managers and governance see. Other roles are refused; another practice's request is not found;
bad forms come back (422) with the error summary and what was typed."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

import pytest

from incidents.application.records import uk_today
from incidents.domain.dates import months_after
from incidents.application import commands as c
from tests.conftest import csrf_from, field_from
from tests.web.conftest import PASSWORD
from tests.web.test_reception_slice import log_filming


@pytest.fixture
def other_governance(web_app) -> str:
    web_app.state.log.register_account(
        c.RegisterAccount(username="olga.governance", display_name="Olga", practice="B82002", roles=("governance",), password=PASSWORD),
        actor="test",
    )
    return "olga.governance"


def receive(client, requester_type="subject_access", received_on="2026-01-31", due_on="", **overrides) -> str:
    form_page = client.get("/disclosures/new")
    assert form_page.status_code == 200
    data = {
        "csrf_token": csrf_from(form_page.text),
        "submission_key": field_from(form_page.text, "submission_key"),
        "requester_type": requester_type,
        "requester": "Zoë Łukasz",
        "reference": "SAR/2026/7",
        "received_on": received_on,
        "due_on": due_on,
        **overrides,
    }
    response = client.post("/disclosures", data=data)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def token(client, path: str) -> str:
    return csrf_from(client.get(path).text)


def test_a_request_from_receipt_to_close_without_javascript(client_for):
    reception = client_for("sue.reception")
    incident = log_filming(reception)
    governance = client_for("gill.governance")
    assert "No disclosure requests have been recorded" in governance.get("/disclosures").text

    location = receive(governance)
    page = governance.get(location + "?saved=received")
    assert page.status_code == 200 and "The request is in the list" in page.text
    assert "28 Feb 2026" in page.text and "Zoë Łukasz" in page.text  # one calendar month, as the ICO counts it
    listed = governance.get("/disclosures")
    assert location in listed.text and "Overdue" in listed.text

    picker = governance.get(f"{location}/scope")
    assert picker.status_code == 200 and incident.split("/")[-1] in picker.text
    scoped = governance.post(f"{location}/scope", data={"csrf_token": csrf_from(picker.text), "incident_ids": incident.split("/")[-1], "period_from": "", "period_to": ""})
    assert scoped.status_code == 303 and scoped.headers["location"] == f"{location}?saved=scope"
    page = governance.get(scoped.headers["location"])
    assert f'href="{incident}?request={location.split("/")[-1]}"' in page.text

    based = governance.post(f"{location}/legal-basis", data={"csrf_token": csrf_from(page.text), "basis": "required_by_law", "note": "Right of access"})
    assert based.status_code == 303
    page = governance.get(based.headers["location"])
    assert "Required by law, decided by Gill" in page.text

    # Received on 31 Jan 2026: its first month ended on 28 Feb, so it can no longer be extended.
    assert 'name="told_on"' not in page.text and "can no longer be extended" in page.text
    too_late = governance.post(f"{location}/extend", data={"csrf_token": csrf_from(page.text), "due_on": "2026-04-30", "reason": "Complex request", "told_on": "2026-02-10"})
    assert too_late.status_code == 422 and "There is a problem" in too_late.text
    assert "its first month ended on 28 Feb 2026. The ICO allows an extension only when the requester is told" in too_late.text

    refused = governance.post(f"{location}/refuse", data={"csrf_token": csrf_from(page.text), "reason": "Manifestly unfounded"})
    assert refused.status_code == 303
    closed = governance.post(f"{location}/close", data={"csrf_token": csrf_from(page.text), "note": ""})
    assert closed.status_code == 303
    page = governance.get(closed.headers["location"])
    for title in ("Request received", "Scope set", "Legal basis recorded", "Refused", "Closed", "Manifestly unfounded"):
        assert title in page.text, title
    assert "Close the request" not in page.text and "Refuse the request" not in page.text


def test_a_subject_access_request_is_extended_in_its_first_month_with_the_day_the_requester_was_told(client_for):
    governance = client_for("gill.governance")
    received = uk_today() - timedelta(days=3)
    first_due, latest = months_after(received, 1), months_after(received, 3)
    location = receive(governance, received_on=received.isoformat())
    page = governance.get(location)
    assert 'name="told_on"' in page.text and f"by {first_due:%d %b %Y}" in page.text
    form = lambda **fields: {"csrf_token": csrf_from(page.text), "due_on": latest.isoformat(), "reason": "Complex: records from three sites", **fields}  # noqa: E731
    for told_on, message in [
        ("", "Enter the day the requester was told of the extension and why"),
        ((received - timedelta(days=1)).isoformat(), "cannot be before the request was received"),
        ((uk_today() + timedelta(days=1)).isoformat(), "cannot be in the future"),
        ("31/13/2026", "real date"),
    ]:
        refused = governance.post(f"{location}/extend", data=form(told_on=told_on))
        assert refused.status_code == 422 and "There is a problem" in refused.text, told_on
        assert message in refused.text and 'href="#told_on"' in refused.text, told_on
        assert "Complex: records from three sites" in refused.text  # what was typed stays
    extended = governance.post(f"{location}/extend", data=form(told_on=uk_today().isoformat()))
    assert extended.status_code == 303
    page = governance.get(location)
    assert f"Extended from {first_due:%d %b %Y} to {latest:%d %b %Y}: Complex: records from three sites. The requester was told on {uk_today():%d %b %Y}." in html.unescape(page.text)
    assert "Requester told" in page.text


def test_a_subject_access_request_offers_the_right_of_access_as_its_basis(client_for):
    governance = client_for("gill.governance")
    sar = receive(governance)
    page = governance.get(sar)
    assert "Right of access (UK GDPR Article 15)" in page.text
    based = governance.post(f"{sar}/legal-basis", data={"csrf_token": csrf_from(page.text), "basis": "right_of_access", "note": ""})
    assert based.status_code == 303
    assert "Right of access (UK GDPR Article 15), decided by Gill" in governance.get(sar).text
    court = receive(governance, "court", received_on="2026-01-05", due_on="2026-02-01")
    page = governance.get(court)
    assert "Article 15" not in page.text
    refused = governance.post(f"{court}/legal-basis", data={"csrf_token": csrf_from(page.text), "basis": "right_of_access", "note": ""})
    assert refused.status_code == 422 and "There is a problem" in refused.text and "subject access request only" in refused.text


def test_opening_an_incident_is_in_its_chain_of_custody_for_managers_and_governance(client_for):
    reception = client_for("sue.reception")
    incident = log_filming(reception)
    reception.get(incident)
    assert "Who has seen or exported this" not in reception.get(incident).text
    governance = client_for("gill.governance")
    location = receive(governance)
    request_id = location.split("/")[-1]
    seen = governance.get(f"{incident}?request={request_id}")
    assert seen.status_code == 200
    assert "Who has seen or exported this" in seen.text
    assert f'for disclosure request <a href="/disclosures/{request_id}">D-' in seen.text  # named by its short reference
    manager_view = client_for("mo.manager").get(incident)
    chain = manager_view.text.split("Who has seen or exported this")[1]
    assert chain.count("Viewed the timeline") == 4  # reception twice, governance, then this manager
    assert "by Sue (Reception)" in chain and "by Gill (Governance)" in chain and "by Mo (Manager)" in chain


def test_bad_request_forms_come_back_with_their_errors_and_what_was_typed(client_for):
    governance = client_for("gill.governance")
    form_page = governance.get("/disclosures/new")
    base = {"csrf_token": csrf_from(form_page.text), "submission_key": field_from(form_page.text, "submission_key")}
    empty = governance.post("/disclosures", data={**base, "requester": "", "reference": "Ref 99", "received_on": "31/01/2026"})
    assert empty.status_code == 422
    assert "There is a problem" in empty.text
    for message in ("Choose who made the request", "Enter who made the request", "Enter a real date"):
        assert message in empty.text, message
    assert 'value="Ref 99"' in empty.text and 'value="31/01/2026"' in empty.text
    court = governance.post("/disclosures", data={**base, "requester_type": "court", "requester": "County Court", "reference": "K1", "received_on": "2026-01-05", "due_on": ""})
    assert court.status_code == 422 and "Enter the due date" in court.text and 'value="County Court"' in court.text

    location = receive(governance)
    no_incidents = governance.post(f"{location}/scope", data={"csrf_token": token(governance, location), "period_from": "", "period_to": ""})
    assert no_incidents.status_code == 422 and "Choose at least one incident" in no_incidents.text
    public_interest = governance.post(f"{location}/legal-basis", data={"csrf_token": token(governance, location), "basis": "public_interest", "note": ""})
    assert public_interest.status_code == 422 and "justified in the public interest" in public_interest.text


def test_only_governance_handles_requests(client_for):
    location = receive(client_for("gill.governance"))
    for username in ("sue.reception", "mo.manager"):
        client = client_for(username)
        csrf = token(client, "/incidents/new/filming")
        for path in ("/disclosures", "/disclosures/new", location, f"{location}/scope"):
            assert client.get(path).status_code == 403, (username, path)
        for path in ("/disclosures", f"{location}/scope", f"{location}/legal-basis", f"{location}/extend", f"{location}/refuse", f"{location}/close"):
            assert client.post(path, data={"csrf_token": csrf}).status_code == 403, (username, path)
    assert client_for().get(location).headers["location"].startswith("/sign-in")


def test_another_practices_request_is_not_found(client_for, other_governance):
    reception = client_for("sue.reception")
    incident = log_filming(reception)
    location = receive(client_for("gill.governance"))
    other = client_for(other_governance)
    csrf = token(other, "/disclosures")
    assert other.get(location).status_code == 404
    assert other.get(f"{location}/scope").status_code == 404
    closing = other.post(f"{location}/close", data={"csrf_token": csrf, "note": "Not ours"})
    assert closing.status_code == 404 and "There is no such disclosure request in your practice." in closing.text
    assert other.post(f"{location}/legal-basis", data={"csrf_token": csrf, "basis": "consent"}).status_code == 404
    assert "Zoë Łukasz" not in other.get("/disclosures").text
    theirs = receive(other)
    # Their own request cannot scope our incident, nor tag a view of it.
    scoping = other.post(f"{theirs}/scope", data={"csrf_token": csrf, "incident_ids": incident.split("/")[-1]})
    assert scoping.status_code == 404 and "There is no such incident in your practice." in scoping.text
    assert reception.get(f"{incident}?request={theirs.split('/')[-1]}").status_code == 404
    assert "Olga" not in client_for("gill.governance").get(location).text


def test_a_long_chain_shows_its_latest_entries_and_how_many_there_are(client_for, web_app):
    incident = log_filming(client_for("sue.reception"))
    log = web_app.state.log
    reception, _ = log.authenticate("sue.reception", PASSWORD)
    for _ in range(60):
        log.record_view(reception, uuid.UUID(incident.split("/")[-1]))
    page = client_for("mo.manager").get(incident)
    assert "The latest 50 of 61, oldest first." in page.text
    assert page.text.split("Who has seen or exported this")[1].count("Viewed the timeline") == 50
