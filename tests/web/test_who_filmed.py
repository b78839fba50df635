"""Who filmed, through HTTP: the report form asks for the patient's NHS number under "A patient"
and a description under "A visitor", refuses bad ones with its error summary, and a removal from
the list without a warning to the same patient is refused with the GMS guidance on the page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from tests.conftest import csrf_from
from tests.web.test_bad_input import post_report
from tests.web.test_reception_slice import log_filming


def test_the_report_form_asks_who_filmed_under_the_choice_it_belongs_to(client_for):
    html = client_for("sue.reception").get("/incidents/new/filming").text
    patient = html.index('value="patient"')
    visitor = html.index('value="visitor"')
    assert patient < html.index('name="filmer_nhs_number"') < visitor < html.index('name="filmer_description"')
    assert 'inputmode="numeric"' in html


@pytest.mark.parametrize(
    "facts, field, message",
    [
        (dict(filmer="patient", filmer_nhs_number="943 476 5918"), "filmer_nhs_number", "That is not a valid NHS number: check the digits"),
        (dict(filmer="patient", filmer_nhs_number="12345"), "filmer_nhs_number", "An NHS number has 10 digits"),
        (dict(filmer="visitor", filmer_description="x" * 81), "filmer_description", "The description can be at most 80 characters"),
    ],
)
def test_a_bad_nhs_number_or_description_is_refused_with_the_error_summary(client_for, facts, field, message):
    refused = post_report(client_for("sue.reception"), "filming", **facts)
    assert refused.status_code == 422
    summary = refused.text[refused.text.index("nhsuk-error-summary"):]
    assert message in summary and f'href="#{field}"' in summary
    assert f'id="{field}-error"' in refused.text


def test_an_answer_under_a_choice_not_made_is_not_kept(client_for, web_app):
    """Typed under "A patient", then "A visitor" chosen: the NHS number is not the visitor's."""
    location = log_filming(client_for("sue.reception"), filmer="visitor", filmer_nhs_number="943 476 5919", filmer_description="Tall man")
    incident = web_app.state.log.repository.get(UUID(location.rsplit("/", 1)[1]))
    assert (incident.filmer_nhs_number, incident.person) == ("", "a visitor (Tall man)")


def respond_form(client, location: str, response: str, reference: str = "") -> dict[str, str]:
    page = client.get(location)
    now = datetime.now(timezone.utc).astimezone() - timedelta(minutes=1)
    return {
        "csrf_token": csrf_from(page.text), "submission_key": uuid4().hex, "response": response, "reference": reference,
        "occurred_date": f"{now:%Y-%m-%d}", "occurred_time": f"{now:%H:%M}", "note": "",
    }


def test_a_removal_without_a_warning_to_the_same_patient_is_refused_with_the_guidance(client_for, web_app):
    mo = client_for("mo.manager")
    other = log_filming(mo, filmer="patient", filmer_nhs_number="401 023 2137")
    assert mo.post(f"{other}/responses", data=respond_form(mo, other, "WarningLetterSent")).status_code == 303
    location = log_filming(mo, filmer="patient", filmer_nhs_number="943 476 5919")
    refused = mo.post(f"{location}/responses", data=respond_form(mo, location, "RemovalRequested"))
    assert refused.status_code == 422
    text = re.sub(r"\s+", " ", refused.text)
    summary = text[text.index("nhsuk-error-summary"):]
    assert "needs a warning letter to the same person sent within the previous 12 months" in summary and 'href="#response"' in summary
    assert 'id="removal-guidance"' in text and "Under the GMS regulations" in text
    # With the police incident number it is recorded.
    saved = mo.post(f"{location}/responses", data=respond_form(mo, location, "RemovalRequested", reference="CAD 4521 25/11/25"))
    assert saved.status_code == 303
