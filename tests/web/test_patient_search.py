"""Managers and governance find a patient's incidents by NHS number (through the views' blind
index): the number is posted, never put in an address; reception is refused with a reason; a
number that is not one gets its error beside the field and in the error summary."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from incidents.application import commands as c
from tests.conftest import csrf_from
from tests.web.conftest import PASSWORD

PATIENT, OTHER = "9434765919", "9434765870"


def recorded(log, actor, nhs_number: str, clinician: str) -> uuid.UUID:
    return log.report_recording(
        c.ReportRecording(
            submission_key=uuid.uuid4().hex, occurred_at=datetime.now(timezone.utc) - timedelta(hours=2), clinician=clinician,
            setting="consulting_room", openness="announced", media="audio", nhs_number=nhs_number, note="",
        ),
        actor,
    ).id


@pytest.fixture
def incidents(web_app):
    log = web_app.state.log
    reception, _ = log.authenticate("sue.reception", PASSWORD)
    other_practice, _ = log.authenticate("other.reception", PASSWORD)
    return {
        "mine": recorded(log, reception, PATIENT, "Dr Mine"),
        "other patient": recorded(log, reception, OTHER, "Dr Other"),
        "no number": recorded(log, reception, "", "Dr Nobody"),
        "other practice": recorded(log, other_practice, PATIENT, "Dr Elsewhere"),
    }


def search(client, number: str):
    page = client.get("/incidents")
    return client.post("/incidents/patient", data={"nhs_number": number, "csrf_token": csrf_from(page.text)})


@pytest.mark.parametrize("username", ["mo.manager", "gill.governance"])
@pytest.mark.parametrize("typed", ["9434765919", "943 476 5919", "943-476-5919"])
def test_a_manager_or_governance_finds_the_patients_incidents_and_no_others(client_for, incidents, username, typed):
    client = client_for(username)
    answer = search(client, typed)
    assert answer.status_code == 303
    address = answer.headers["location"]
    assert re.fullmatch(r"/incidents\?patient=[0-9a-f]{64}", address)  # the blind index entry, not the number
    page = client.get(address)
    assert page.status_code == 200
    assert f"/incidents/{incidents['mine']}" in page.text
    for other in ("other patient", "no number", "other practice"):
        assert f"/incidents/{incidents[other]}" not in page.text
    assert "Showing the incidents of the patient whose NHS number you entered" in page.text
    assert PATIENT not in page.text and "943 476 5919" not in page.text
    # The other filters keep the patient: the list of their open incidents, and its CSV.
    assert f"/incidents/{incidents['mine']}" in client.get(address + "&status=open").text
    assert f"/incidents/{incidents['mine']}" not in client.get(address + "&status=closed").text
    assert "Dr Mine" in client.get(address.replace("/incidents?", "/incidents.csv?")).text


def test_another_patients_number_finds_only_theirs(client_for, incidents):
    client = client_for("mo.manager")
    page = client.get(search(client, OTHER).headers["location"])
    assert f"/incidents/{incidents['other patient']}" in page.text and f"/incidents/{incidents['mine']}" not in page.text


@pytest.mark.parametrize(
    "typed, message",
    [
        ("9434765918", "That is not a valid NHS number: check the digits"),
        ("12345", "An NHS number has 10 digits, like 943 476 5919"),
        ("", "Enter the patient&#39;s NHS number"),
        ("x" * 5000, "An NHS number has 10 digits"),
    ],
)
def test_a_number_that_is_not_one_is_explained_beside_the_field(client_for, incidents, typed, message):
    answer = search(client_for("mo.manager"), typed)
    assert answer.status_code == 422
    assert "nhsuk-error-summary" in answer.text and 'href="#nhs_number"' in answer.text
    assert message in answer.text and 'id="nhs_number-error"' in answer.text


def test_a_patient_filter_that_is_not_an_index_entry_is_explained_not_a_500(client_for, incidents):
    page = client_for("mo.manager").get("/incidents", params={"patient": "9434765919"})
    assert page.status_code == 422
    assert "This patient search is not valid here: enter the NHS number again" in page.text
    assert "nhsuk-error-summary" in page.text


def test_reception_cannot_search_by_nhs_number(client_for, incidents):
    client = client_for("sue.reception")
    page = client.get("/")
    answer = client.post("/incidents/patient", data={"nhs_number": PATIENT, "csrf_token": csrf_from(page.text)})
    assert answer.status_code == 403
    assert "This needs the manager or governance role" in answer.text
    assert f"/incidents/{incidents['mine']}" not in answer.text
