"""Managers and governance see the practice's recordings (issue 19 point 5): the list filtered by
purpose, consent and clinician, or by what happened in a month (the monthly report links there);
bad filters come back 422 with the error summary; a P- reference typed in the incident list's
search box opens the recording."""

from __future__ import annotations

import io
import json
import re
import zipfile
from urllib.parse import urlencode

from tests.conftest import csrf_from, field_from
from tests.web.test_disclosures_web import receive
from tests.web.test_practice_recordings_web import TODAY, post


def made(client, clinician: str, purpose: str) -> str:
    form = client.get("/recordings/new")
    response = client.post("/recordings", data={
        "csrf_token": csrf_from(form.text), "submission_key": field_from(form.text, "submission_key"), "nhs_number": "943 476 5919",
        "clinician": clinician, "recorded_on": TODAY.isoformat(), "purpose": purpose, "medium": "audio",
    })
    assert response.status_code == 303, response.text
    return response.headers["location"]


def consent(client, location: str, purpose: str) -> None:
    page = client.get(location)
    response = client.post(f"{location}/consent", headers={"Content-Type": "application/x-www-form-urlencoded"}, content=urlencode([
        ("csrf_token", csrf_from(page.text)), ("form", "written"), ("given_on", TODAY.isoformat()), ("purposes", purpose),
        ("audiences", "trainer"), ("circumstances", "Tutorials only"), ("keep_until", TODAY.replace(year=TODAY.year + 1).isoformat()),
    ]))
    assert response.status_code == 303, response.text


def refs(html: str) -> set[str]:
    return set(re.findall(r">(P-\d{4}-\d{4})</a>", html))


def test_the_list_filters_by_purpose_consent_clinician_and_month(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    training = made(reception, "Dr Ada Registrar", "training")
    audit = made(reception, "Dr Bo Auditor", "audit")
    consent(reception, training, "training")
    post(reception, f"{audit}/withdraw", withdrawn_on=TODAY.isoformat(), how="x")  # refused: no consent yet, nothing changes
    everything = manager.get("/recordings")
    assert everything.status_code == 200 and len(refs(everything.text)) == 2
    first, second = sorted(refs(everything.text))
    assert refs(manager.get("/recordings?purpose=training").text) == {first}
    assert refs(manager.get("/recordings?consent=none").text) == {second}
    assert refs(manager.get("/recordings?consent=in_force").text) == {first}
    assert refs(manager.get("/recordings?clinician=auditor").text) == {second}
    month = TODAY.strftime("%Y-%m")
    assert refs(manager.get(f"/recordings?month={month}").text) == {first, second}
    assert refs(manager.get(f"/recordings?month={month}&happened=used").text) == set()
    assert "No recording matches these filters" in manager.get("/recordings?month=1999-01").text


def test_bad_filters_come_back_422_with_the_error_summary(client_for):
    manager = client_for("mo.manager")
    for query, message in [("purpose=nope", "Choose a purpose"), ("consent=maybe", "Choose where the consent stands"),
                           ("month=2026-13", "Enter the month as a year and month"), ("happened=used", "Enter the month it happened in"),
                           ("month=2026-01&happened=lost", "Choose made, used, withdrawn or destroyed"), ("clinician=" + "x" * 150, "at most 100")]:
        response = manager.get(f"/recordings?{query}")
        assert response.status_code == 422 and "nhsuk-error-summary" in response.text and message in response.text, query


def test_a_p_reference_in_the_incident_search_opens_the_recording(client_for):
    location = made(client_for("sue.reception"), "Dr Ada Registrar", "training")
    ref = re.search(r"P-(\d{4})-0001", client_for("mo.manager").get(location).text)
    assert ref
    for who in ("mo.manager", "gill.governance"):
        found = client_for(who).get(f"/incidents?q=p {ref.group(1)} 1", follow_redirects=False)
        assert found.status_code == 303 and found.headers["location"] == location, who
    # A reference no recording has is searched for as words, as before.
    assert client_for("mo.manager").get(f"/incidents?q=P-{ref.group(1)}-0099", follow_redirects=False).status_code == 200
    assert client_for("other.manager").get(f"/incidents?q={ref.group()}", follow_redirects=False).status_code == 200


def test_the_dashboard_shows_a_review_the_patient_asked_for_with_the_reference_linked_to_the_recording(client_for):
    reception = client_for("sue.reception")
    location = made(reception, "Dr Ada Registrar", "training")
    consent(reception, location, "training")
    assert post(reception, f"{location}/review-offered", answer="accepted").status_code == 303
    ref = re.search(r"P-\d{4}-\d{4}", reception.get(location).text).group()
    for who in ("mo.manager", "gill.governance"):
        dashboard = client_for(who).get("/dashboard").text
        item = re.search(rf'<a href="{location}">Arrange the patient&#39;s review[^<]*</a>\s*<p[^>]*>{ref}: A recording the practice made', dashboard)
        assert item, who
    assert post(reception, f"{location}/reviewed", reviewed_on=TODAY.isoformat()).status_code == 303
    assert "Arrange the patient" not in client_for("mo.manager").get("/dashboard").text


def test_the_monthly_report_counts_recordings_and_each_count_leads_to_its_list(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    first, second = made(reception, "Dr Ada Registrar", "training"), made(reception, "Dr Bo Auditor", "training")
    made(reception, "Dr Bo Auditor", "audit")
    consent(reception, first, "training")
    consent(reception, second, "training")
    assert post(reception, f"{first}/file", kept_at="Drive", sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", size="4").status_code == 303
    for _ in range(2):
        assert post(manager, f"{first}/uses", used_on=TODAY.isoformat(), shown_to="trainer", shown_to_names="Dr T", purpose="training").status_code == 303
    assert post(reception, f"{second}/withdraw", withdrawn_on=TODAY.isoformat(), how="By phone").status_code == 303
    assert post(manager, f"{second}/destroy", destroyed_on=TODAY.isoformat(), how="Deleted").status_code == 303
    month = TODAY.strftime("%Y-%m")
    html = manager.get("/reports/monthly", params={"month": month}).text
    counts = dict(re.findall(r'<a href="(/recordings\?[^"]+)">(\d+)<', html.replace("&amp;", "&")))
    assert counts == {
        f"/recordings?month={month}&happened=made&purpose=training": "2",
        f"/recordings?month={month}&happened=made&purpose=audit": "1",
        f"/recordings?month={month}&happened=used": "2",
        f"/recordings?month={month}&happened=withdrawn": "1",
        f"/recordings?month={month}&happened=destroyed": "1",
    }
    assert "Uses recorded (of 1 recording)" in html
    # Each link leads to a list with that many recordings (uses: the one recording used).
    for link, count in counts.items():
        listed = refs(manager.get(link).text)
        assert len(listed) == (1 if "used" in link else int(count)), link
    rows = {(r[2], r[3]): r[4] for r in (line.split(",") for line in manager.get("/reports/monthly.csv", params={"month": month}).text.splitlines()[1:])}
    assert rows[("recording_purpose", "Training or assessment")] == "2" and rows[("recording_custody", "Consents withdrawn")] == "1"


def test_a_subject_access_request_lists_the_patients_recordings_on_its_page_and_scope(client_for):
    reception, governance = client_for("sue.reception"), client_for("gill.governance")
    location = made(reception, "Dr Ada Registrar", "training")
    ref = re.search(r"P-\d{4}-\d{4}", reception.get(location).text).group()
    about_patient = receive(governance, received_on=TODAY.isoformat(), nhs_number="943 476 5919")
    about_someone_else = receive(governance, received_on=TODAY.isoformat(), nhs_number="401 023 2137")
    for path in (about_patient, f"{about_patient}/scope"):
        page = governance.get(path).text
        assert "Recordings the practice made of this patient" in page and f'<a href="{location}">{ref}</a>' in page, path
    for path in (about_someone_else, f"{about_someone_else}/scope"):
        assert ref not in governance.get(path).text, path


def test_a_patient_with_recordings_and_no_incidents_gets_a_bundle_and_a_request_with_nothing_shows_its_error(client_for):
    reception, governance = client_for("sue.reception"), client_for("gill.governance")
    made(reception, "Dr Ada Registrar", "training")
    about_patient = receive(governance, received_on=TODAY.isoformat(), nhs_number="943 476 5919")
    picker = governance.get(f"{about_patient}/scope")
    assert "With no incident ticked, the bundle carries these recordings alone" in picker.text
    scoped = governance.post(f"{about_patient}/scope", data={"csrf_token": csrf_from(picker.text), "period_from": "", "period_to": ""})
    assert scoped.status_code == 303, scoped.text
    page = governance.get(scoped.headers["location"])
    assert "Set the scope and record the legal basis" not in page.text and "the bundle carries the patient&#39;s recordings alone" in page.text
    based = governance.post(f"{about_patient}/legal-basis", data={"csrf_token": csrf_from(page.text), "basis": "right_of_access", "note": ""})
    assert based.status_code == 303
    page = governance.get(based.headers["location"])
    assert "Create the evidence bundle" in page.text
    exported = governance.post(f"{about_patient}/export", data={"csrf_token": csrf_from(page.text)})
    assert exported.status_code == 200 and exported.content.startswith(b"PK"), exported.text[:500]
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bundle:
        carried = json.loads(bundle.read("events.json"))["incidents"]
    assert [c["kind"] for c in carried] == ["A recording the practice made"]

    about_someone_else = receive(governance, received_on=TODAY.isoformat(), nhs_number="401 023 2137")
    picker = governance.get(f"{about_someone_else}/scope")
    nothing = governance.post(f"{about_someone_else}/scope", data={"csrf_token": csrf_from(picker.text), "period_from": "", "period_to": ""})
    assert nothing.status_code == 422 and "There is a problem" in nothing.text
    assert "Choose at least one incident, or a request whose patient has recordings" in nothing.text and 'href="#incident_ids"' in nothing.text
    assert "Create the evidence bundle" not in governance.get(about_someone_else).text
