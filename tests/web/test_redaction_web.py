"""Redacting for a disclosure request through HTTP, without JavaScript: the form on the request's
page hides a fact or words in an entry with a reason, bad input comes back (422) with the error
summary beside the field and what was typed, the redactions are listed and removable, and the
bundle exported shows the reason in place of what is hidden and still verifies."""

from __future__ import annotations

import io
import json
import zipfile

from incidents.evidence import verify_bundle
from tests.conftest import csrf_from
from tests.web.test_disclosures_web import receive, token
from tests.web.test_exports_web import export, record_basis, respond, scope
from tests.web.test_reception_slice import log_filming

NOTE = "Mrs Jones from the queue said she was filmed too"


def ready(client_for) -> tuple[str, str]:
    reception = client_for("sue.reception")
    incident = log_filming(reception)
    respond(reception, incident, "AskedToStop", NOTE)
    governance = client_for("gill.governance")
    location = receive(governance)
    scope(governance, location, incident)
    record_basis(governance, location)
    return location, incident.split("/")[-1]


def redact(governance, location: str, **form: str):
    return governance.post(f"{location}/redact", data={"csrf_token": token(governance, location), **form})


def test_governance_redacts_words_and_a_fact_and_the_bundle_shows_the_reasons(client_for, tmp_path):
    location, incident_id = ready(client_for)
    governance = client_for("gill.governance")
    page = governance.get(location).text
    assert "Nothing is redacted" in page
    assert f'<option value="entry:{incident_id}:2">Entry #2, Asked them to stop filming: {NOTE}</option>' in page
    assert f'<option value="fact:{incident_id}:filmer">Fact: Who was filming</option>' in page

    words = redact(governance, location, target=f"entry:{incident_id}:2", text="Mrs Jones", reason="Another patient")
    assert words.status_code == 303 and words.headers["location"] == f"{location}?saved=redacted"
    fact = redact(governance, location, target=f"fact:{incident_id}:filmer", text="", reason="Names who filmed")
    assert fact.status_code == 303
    page = governance.get(f"{location}?saved=redacted").text
    assert "The redaction is added" in page and "Nothing is redacted" not in page
    listed = page.split('id="redaction-list"')[1].split("</table>")[0]
    assert "Entry #2: “Mrs Jones”" in listed and "Another patient" in listed
    assert "Fact: Who was filming" in listed and "Names who filmed" in listed
    assert listed.count("Remove") >= 2

    response = export(governance, location)
    assert response.status_code == 200
    path = tmp_path / "bundle.zip"
    path.write_bytes(response.content)
    assert verify_bundle(path) == []
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert b"Mrs Jones" not in b"".join(files.values())
    events = json.loads(files["events.json"])["events"]
    assert events[1]["note"] == "[redacted: Another patient] from the queue said she was filmed too"
    assert "[redacted: Names who filmed]" in [d["value"] for d in events[0]["details"]]


def test_a_redaction_is_removed_before_the_export(client_for):
    location, incident_id = ready(client_for)
    governance = client_for("gill.governance")
    assert redact(governance, location, target=f"entry:{incident_id}:2", text="Mrs Jones", reason="Another patient").status_code == 303
    page = governance.get(location).text
    redaction_id = page.split('name="redaction_id" value="')[1].split('"')[0]
    removed = governance.post(f"{location}/unredact", data={"csrf_token": csrf_from(page), "redaction_id": redaction_id})
    assert removed.status_code == 303 and removed.headers["location"] == f"{location}?saved=unredacted"
    page = governance.get(removed.headers["location"]).text
    assert "The redaction is removed" in page and "Nothing is redacted" in page and "Redaction removed" in page
    again = governance.post(f"{location}/unredact", data={"csrf_token": csrf_from(page), "redaction_id": redaction_id})
    assert again.status_code == 422 and "There is a problem" in again.text and "not on this request" in again.text


def test_bad_redactions_come_back_with_the_error_beside_the_field_and_what_was_typed(client_for):
    location, incident_id = ready(client_for)
    governance = client_for("gill.governance")

    nothing = redact(governance, location, target="", text="", reason="")
    assert nothing.status_code == 422 and "There is a problem" in nothing.text
    assert 'href="#redact-target"' in nothing.text and "Choose what to redact" in nothing.text
    assert 'href="#redact-reason"' in nothing.text and "Enter the reason" in nothing.text

    absent = redact(governance, location, target=f"entry:{incident_id}:2", text="Mr Smith", reason="Another patient")
    assert absent.status_code == 422 and 'href="#redact-text"' in absent.text
    assert "That entry does not have those words" in absent.text
    assert 'id="redact-text-error"' in absent.text
    assert 'value="Mr Smith"' in absent.text and 'value="Another patient"' in absent.text
    assert f'<option value="entry:{incident_id}:2" selected>' in absent.text

    words_for_a_fact = redact(governance, location, target=f"fact:{incident_id}:filmer", text="A patient", reason="Why")
    assert words_for_a_fact.status_code == 422 and "A fact is hidden whole" in words_for_a_fact.text

    forged = redact(governance, location, target="entry:not-an-incident:1", text="x", reason="Why")
    assert forged.status_code == 422 and "Choose what to redact" in forged.text
    elsewhere = redact(governance, location, target="fact:00000000-0000-4000-8000-000000000000:filmer", text="", reason="Why")
    assert elsewhere.status_code == 422 and "That incident is not in this request" in elsewhere.text
    assert "Nothing is redacted" in governance.get(location).text


def test_only_governance_redacts(client_for):
    location, incident_id = ready(client_for)
    manager = client_for("mo.manager")
    response = manager.post(f"{location}/redact", data={"csrf_token": token(manager, "/"), "target": f"fact:{incident_id}:filmer", "reason": "Why"})
    assert response.status_code in (403, 404)
