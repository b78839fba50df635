"""The scope chooser finds incidents by what happened: the day they happened (not the day they
were recorded), their kind, their clinician, and the patient a request names by NHS number (the
views' blind index); a subject access request made with an NHS number proposes every record about
that patient and none about another. Bad input is explained on the page, never a 500."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest

from incidents.application import commands as c
from incidents.application.records import uk_today
from incidents.domain.values import UK
from tests.conftest import csrf_from, field_from
from tests.web.conftest import PASSWORD
from tests.web.test_disclosures_web import receive

PATIENT, OTHER = "9434765919", "9434765870"


def last_month() -> tuple[date, date]:
    first_of_this = uk_today().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


def happened(on: date, hour: int = 10) -> datetime:
    return datetime.combine(on, time(hour), UK).astimezone(timezone.utc)


def recording(log, actor, on: date, nhs_number: str = "", clinician: str = "Dr Shah") -> str:
    return str(log.report_recording(
        c.ReportRecording(
            submission_key=uuid.uuid4().hex, occurred_at=happened(on), clinician=clinician, setting="telephone",
            openness="announced", media="audio", nhs_number=nhs_number, note="",
        ),
        actor,
    ).id)  # fmt: skip


def filming(log, actor, on: date) -> str:
    return str(log.report_filming(
        c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=happened(on), area="waiting_area", filmer="patient", people_captured="staff", children_present="no"),
        actor,
    ).id)  # fmt: skip


@pytest.fixture
def logged(web_app):
    """Incidents that all happened last month or earlier, and were all recorded today."""
    log = web_app.state.log
    reception, _ = log.authenticate("sue.reception", PASSWORD)
    first, last = last_month()
    long_ago = first - timedelta(days=400)
    return {
        "month, patient": recording(log, reception, first + timedelta(days=3), PATIENT, "Dr Shah"),
        "month, other patient": recording(log, reception, last, OTHER, "Nurse Lee"),
        "month, filming": filming(log, reception, first + timedelta(days=1)),
        "long ago, patient": recording(log, reception, long_ago, "943 476 5919", "Dr Shah"),
        "before the month": filming(log, reception, first - timedelta(days=1)),
    }


def shown(page) -> set[str]:
    return {name for name, incident_id in page.logged.items() if f'value="{incident_id}"' in page.text}


def ticked(page) -> set[str]:
    return {name for name, incident_id in page.logged.items() if f'value="{incident_id}" checked' in page.text}


def scope(client, location: str, logged: dict[str, str], **params):
    page = client.get(f"{location}/scope", params=params)
    page.logged = logged
    return page


def test_a_period_finds_the_incidents_that_happened_in_it_not_those_recorded_in_it(client_for, logged):
    governance = client_for("gill.governance")
    location = receive(governance, requester_type="court", due_on=(uk_today() + timedelta(days=20)).isoformat())
    first, last = last_month()
    page = scope(governance, location, logged, period_from=first.isoformat(), period_to=last.isoformat())
    assert page.status_code == 200
    assert shown(page) == {"month, patient", "month, other patient", "month, filming"}
    assert "Happened from" in page.text and "happened " in page.text
    # Recorded today, happened last month: a period of today finds none of them.
    assert shown(scope(governance, location, logged, period_from=uk_today().isoformat())) == set()
    assert not ticked(page)  # a request naming no patient proposes nothing


def test_kind_and_clinician_narrow_the_list(client_for, logged):
    governance = client_for("gill.governance")
    location = receive(governance, requester_type="court", due_on=(uk_today() + timedelta(days=20)).isoformat())
    first, last = last_month()
    period = {"period_from": first.isoformat(), "period_to": last.isoformat()}
    assert shown(scope(governance, location, logged, kind="filming", **period)) == {"month, filming"}
    assert shown(scope(governance, location, logged, clinician="lee", **period)) == {"month, other patient"}
    assert shown(scope(governance, location, logged, kind="recording", clinician="SHAH", **period)) == {"month, patient"}
    assert shown(scope(governance, location, logged, clinician="100%_", **period)) == set()


def test_a_subject_access_request_with_an_nhs_number_proposes_every_record_about_that_patient(client_for, logged):
    governance = client_for("gill.governance")
    location = receive(governance, nhs_number="943 476 5919", received_on=uk_today().isoformat())
    page = scope(governance, location, logged)
    assert page.status_code == 200
    assert shown(page) == ticked(page) == {"month, patient", "long ago, patient"}  # at any time, by default
    assert "NHS number 943 476 5919" in page.text
    everyone = scope(governance, location, logged, patient="any")
    assert {"month, other patient", "month, filming"} <= shown(everyone) and not ticked(everyone)
    first, last = last_month()
    assert shown(scope(governance, location, logged, period_from=first.isoformat(), period_to=last.isoformat())) == {"month, patient"}
    # A scope of nothing is refused, with the patient's incidents still offered.
    refused = governance.post(f"{location}/scope", data={"csrf_token": csrf_from(page.text), "period_from": "", "period_to": ""})
    refused.logged = logged
    assert refused.status_code == 422 and shown(refused) == {"month, patient", "long ago, patient"} and not ticked(refused)
    # Once the scope is set, the page ticks what was chosen and nothing more.
    chosen = logged["long ago, patient"]
    saved = governance.post(f"{location}/scope", data={"csrf_token": csrf_from(page.text), "incident_ids": chosen, "kind": "recording", "patient": "request"})
    assert saved.status_code == 303, saved.text
    assert ticked(scope(governance, location, logged)) == {"long ago, patient"}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kind": "burglary"}, "Choose a kind of incident from the list"),
        ({"patient": "9434765919"}, "Choose the request&#39;s patient or any patient"),
        ({"clinician": "x" * 300}, "Enter at most 200 characters"),
        ({"period_from": "2026-02-30"}, "real date"),
    ],
)
def test_bad_filters_are_explained_on_the_page(client_for, logged, params, message):
    governance = client_for("gill.governance")
    location = receive(governance, nhs_number=PATIENT, received_on=uk_today().isoformat())
    page = scope(governance, location, logged, **params)
    assert page.status_code == 422
    assert "nhsuk-error-summary" in page.text and message in page.text


@pytest.mark.parametrize("typed, message", [("9434765918", "That is not a valid NHS number: check the digits"), ("12 34", "An NHS number has 10 digits")])
def test_a_bad_nhs_number_on_a_new_request_is_explained_beside_the_field(client_for, typed, message):
    governance = client_for("gill.governance")
    form = governance.get("/disclosures/new")
    answer = governance.post("/disclosures", data={
        "csrf_token": csrf_from(form.text), "submission_key": field_from(form.text, "submission_key"), "requester_type": "subject_access",
        "requester": "A patient", "reference": "SAR/1", "received_on": uk_today().isoformat(), "due_on": "", "nhs_number": typed,
    })  # fmt: skip
    assert answer.status_code == 422
    assert "nhsuk-error-summary" in answer.text and 'href="#nhs_number"' in answer.text and message in answer.text
    assert f'value="{typed}"' in answer.text  # what was typed is kept
