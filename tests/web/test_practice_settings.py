"""Practice settings through HTTP: the governance lead gives the practice's name and address beside
its ODS code; bad input is answered with the error summary and what was typed; evidence bundles
and their records certificate then name the practice "Riverside Surgery (A81001)"."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from tests.conftest import csrf_from
from tests.web.test_exports_web import export, one_line, ready_request, two_incidents  # noqa: F401  (fixtures)

ADDRESS = "1 River Road\nLeeds\nLS1 4AP"


def save(client, **form: str):
    token = csrf_from(client.get("/practice").text)
    return client.post("/practice", data={"csrf_token": token, **form})


def test_governance_names_the_practice_and_the_page_keeps_it(client_for):
    gill = client_for("gill.governance")
    blank = gill.get("/practice")
    assert blank.status_code == 200
    assert "A81001" in blank.text and "GP practice (A81001)" in blank.text  # what bundles say until it is named
    saved = save(gill, name="  Riverside Surgery ", address=ADDRESS)
    assert saved.status_code == 303 and saved.headers["location"] == "/practice?saved=details"
    page = gill.get(saved.headers["location"]).text
    assert "now name the practice Riverside Surgery (A81001)" in page
    assert 'value="Riverside Surgery"' in page and "1 River Road\nLeeds\nLS1 4AP</textarea>" in page
    assert save(gill, name="Riverside Surgery", address=ADDRESS).status_code == 303
    details = gill.get("/practice").text
    assert details.count("Riverside Surgery") >= 1


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"name": "", "address": ADDRESS}, "name", "Enter the practice&#39;s name"),
        ({"name": "Riverside Surgery", "address": "   "}, "address", "Enter the practice&#39;s address"),
        ({"name": "x" * 201, "address": ADDRESS}, "name", "at most 200 characters"),
        ({"name": "Riverside\nSurgery", "address": ADDRESS}, "name", "one line"),
        ({"name": "Riverside \u202eSurgery", "address": ADDRESS}, "name", "cannot be stored"),
        ({"name": "Riverside Surgery", "address": "y" * 301}, "address", "at most 300 characters"),
    ],
)
def test_bad_input_is_answered_with_the_error_summary_and_what_was_typed(client_for, form, field, message):
    gill = client_for("gill.governance")
    refused = save(gill, **form)
    assert refused.status_code == 422
    assert "nhsuk-error-summary" in refused.text and f'href="#{field}"' in refused.text and message in refused.text
    assert "<title>Error: " in refused.text
    assert f'id="{field}-error"' in refused.text  # beside the field too
    assert "GP practice (A81001)" in gill.get("/practice").text, "nothing saved"


def test_bundles_and_the_records_certificate_name_the_practice(client_for, ready_request):  # noqa: F811
    assert save(client_for("gill.governance"), name="Riverside Surgery", address=ADDRESS).status_code == 303
    response = export(client_for("gill.governance"), ready_request)
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        events = json.loads(archive.read("events.json"))
        pdf = archive.read("timeline.pdf")
        readme = " ".join(archive.read(name).decode() for name in archive.namelist() if name.endswith((".txt", ".md")))
    assert events["practice"] == {"code": "A81001", "name": "Riverside Surgery"}
    text = one_line(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    certificate = text.split("Records certificate", 1)[1]
    assert "Riverside Surgery (A81001)" in certificate
    assert "GP practice" not in text and "GP practice" not in readme


def test_an_address_typed_with_a_browsers_line_ends_is_shown_back_as_typed(client_for):
    """A textarea's lines come as CR LF: a refused form shows them as lines, not as refused characters."""
    refused = save(client_for("gill.governance"), name="", address="1 River Road\r\nLeeds")
    assert refused.status_code == 422
    assert ">1 River Road\nLeeds</textarea>" in refused.text and "\ufffd" not in refused.text
