"""Recordings the practice makes, through HTTP without JavaScript: reception registers one and
records consent; the file's SHA-256 is pasted as sha256sum prints it (the form takes no file);
a manager records a use, and a use outside the consent comes back 422 with the guidance in the
error summary; the consent form is a PDF; another practice's recording is not found."""

from __future__ import annotations

import re
from urllib.parse import urlencode
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import csrf_from, field_from

TODAY = datetime.now(ZoneInfo("Europe/London")).date()
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def register(client) -> str:
    form = client.get("/recordings/new")
    assert form.status_code == 200
    made = client.post("/recordings", data={
        "csrf_token": csrf_from(form.text), "submission_key": field_from(form.text, "submission_key"), "nhs_number": "943 476 5919",
        "clinician": "Dr Ada Registrar", "recorded_on": TODAY.isoformat(), "purpose": "training", "medium": "video",
    })
    assert made.status_code == 303, made.text
    return made.headers["location"]


def post(client, path: str, **data):
    token = csrf_from(client.get("/recordings").text)
    return client.post(path, data={"csrf_token": token, **data})


def test_register_consent_fingerprint_use_and_a_refused_use(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    location = register(reception)
    page = reception.get(location)
    assert re.search(r"Recording P-\d{4}-0001", page.text) and "No consent on record" in page.text
    # The file form is not offered before consent; the consent form asks nothing of a file.
    assert 'id="file-form"' not in page.text and 'type="file"' not in page.text

    consent = reception.post(f"{location}/consent", headers={"Content-Type": "application/x-www-form-urlencoded"}, content=urlencode([
        ("csrf_token", csrf_from(page.text)), ("form", "written"), ("given_on", TODAY.isoformat()), ("purposes", "training"),
        ("audiences", "trainer"), ("audiences", "assessors"), ("circumstances", "Tutorials and the assessment only"),
        ("keep_until", TODAY.replace(year=TODAY.year + 1).isoformat()),
    ]))
    assert consent.status_code == 303, consent.text
    page = reception.get(consent.headers["location"])
    assert "The consent is on record" in page.text and "Assessors of the clinician" in page.text
    # The fingerprint form: a file input with no name, in a form that is not multipart.
    form = re.search(r'<form[^>]*id="file-form"[^>]*>(.*?)</form>', page.text, re.S)
    assert form and "enctype" not in form.group(0).split(">")[0]
    assert re.search(r'<input[^>]*type="file"[^>]*>', form.group(1)) and not re.search(r'<input[^>]*type="file"[^>]*name=', form.group(1))

    saved = post(reception, f"{location}/file", kept_at="Training drive", sha256=f"{SHA}  consultation.mp4", size="4")
    assert saved.status_code == 303
    page = reception.get(location)
    assert SHA in page.text and "Check a file" in page.text and "Note for the medical record" in page.text

    assert post(reception, f"{location}/uses", used_on=TODAY.isoformat(), shown_to="trainer", shown_to_names="Dr T", purpose="training").status_code == 403
    used = post(manager, f"{location}/uses", used_on=TODAY.isoformat(), shown_to="trainer", shown_to_names="Dr Trainer", purpose="training")
    assert used.status_code == 303
    refused = post(manager, f"{location}/uses", used_on=TODAY.isoformat(), shown_to="trainer", shown_to_names="Dr Trainer", purpose="research")
    assert refused.status_code == 422
    summary = refused.text.split('class="nhsuk-error-summary"', 1)[1].split("</div>", 2)[0]
    assert "did not consent to use for research" in summary and 'href="#used-form"' in summary
    page = manager.get(location)
    assert page.text.count('app-timeline__title">Used<') == 1  # the refused use left no trace

    noted = post(reception, f"{location}/noted", noted_on=TODAY.isoformat())
    assert noted.status_code == 303 and "Note added on" in reception.get(location).text


def test_bad_forms_come_back_with_the_error_summary_never_500(client_for):
    reception = client_for("sue.reception")
    form = reception.get("/recordings/new")
    bad = reception.post("/recordings", data={"csrf_token": csrf_from(form.text), "submission_key": field_from(form.text, "submission_key"), "nhs_number": "123"})
    assert bad.status_code == 422 and "nhsuk-error-summary" in bad.text and "NHS number has 10 digits" in bad.text
    location = register(reception)
    for path, data in [("consent", {"form": "oral", "given_on": TODAY.isoformat(), "purposes": "training", "audiences": "trainer", "circumstances": "x", "keep_until": TODAY.isoformat()}),
                       ("consent", {"form": "written", "given_on": "2026-02-30"}),
                       ("file", {"sha256": "nope", "size": "-1"}),
                       ("withdraw", {})]:
        response = post(reception, f"{location}/{path}", **data)
        assert 400 <= response.status_code < 500 and "nhsuk-error-summary" in response.text, (path, response.status_code)
    oral = post(reception, f"{location}/consent", form="oral", given_on=TODAY.isoformat(), purposes="training", audiences="trainer", circumstances="x", keep_until=TODAY.isoformat())
    assert "Oral consent needs a witness" in oral.text


def test_the_consent_form_is_a_pdf_and_other_practices_see_nothing(client_for):
    location = register(client_for("sue.reception"))
    pdf = client_for("gill.governance").get(f"{location}/consent-form.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client_for("other.manager").get(location).status_code == 404
    assert client_for("other.manager").get(f"{location}/consent-form.pdf").status_code == 404
