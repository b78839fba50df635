"""The evidence bundle through HTTP: the governance lead creates it from a disclosure request with a
scope and a legal basis, gets a zip that verifies against the deployment's key, holding every
event of every incident in scope, the corrections beside the originals and the chain of custody
ending with this very export; the export is then on the request's history and in each incident's
chain of custody, and the bundle can be marked as disclosed. Other roles are refused, a request
that is not ready is refused with nothing recorded, and another practice's request is not found."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import uuid
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from incidents.domain.dates import months_after
from incidents.evidence import verify_bundle
from tests.conftest import csrf_from, field_from
from tests.web.test_disclosures_web import other_governance, receive, token  # noqa: F401  (a fixture)
from tests.web.test_notices_web import publish
from tests.web.test_reception_slice import log_filming, recording_form

UK = ZoneInfo("Europe/London")


def log_recording(client) -> str:
    page = client.get("/incidents/new/recording")
    response = client.post("/incidents/new/recording", data=recording_form(page.text))
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def respond(client, incident: str, response: str, note: str) -> None:
    page = client.get(incident)
    now = datetime.now(UK)
    form = {
        "csrf_token": csrf_from(page.text),
        "submission_key": field_from(page.text, "submission_key"),
        "response": response,
        "occurred_date": now.strftime("%Y-%m-%d"),
        "occurred_time": now.strftime("%H:%M"),
        "reference": "",
        "note": note,
    }
    assert client.post(f"{incident}/responses", data=form).status_code == 303


def correct_area(client, incident: str) -> None:
    form = {"csrf_token": token(client, incident), "field": "area", "area": "reception", "reason": "The camera shows the desk"}
    assert client.post(f"{incident}/corrections", data=form).status_code == 303


def scope(governance, location: str, *incidents: str) -> None:
    ids = [i.split("/")[-1] for i in incidents]
    form = {"csrf_token": token(governance, location), "incident_ids": ids, "period_from": "", "period_to": ""}
    assert governance.post(f"{location}/scope", data=form).status_code == 303


def record_basis(governance, location: str) -> None:
    form = {"csrf_token": token(governance, location), "basis": "required_by_law", "note": "Right of access"}
    assert governance.post(f"{location}/legal-basis", data=form).status_code == 303


@pytest.fixture
def two_incidents(client_for) -> tuple[str, str]:
    reception = client_for("sue.reception")
    filmed = log_filming(reception)
    correct_area(reception, filmed)
    recorded = log_recording(reception)
    respond(reception, recorded, "AskedToRecordOpenly", "Asked to record openly at the start")
    respond(reception, recorded, "CopyRequested", "Asked for a copy for the record")
    return filmed, recorded


@pytest.fixture
def ready_request(client_for, two_incidents) -> str:
    governance = client_for("gill.governance")
    location = receive(governance)
    scope(governance, location, *two_incidents)
    record_basis(governance, location)
    return location


def export(client, location: str):
    return client.post(f"{location}/export", data={"csrf_token": token(client, location)})


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_governance_exports_a_bundle_that_verifies_and_holds_everything(client_for, web_app, two_incidents, ready_request, tmp_path):
    publish(client_for("mo.manager"), "waiting_room_poster", "Please do not film staff or other patients", datetime.now(UK).date() - timedelta(days=30))
    governance = client_for("gill.governance")
    for incident in two_incidents:
        governance.get(f"{incident}?request={ready_request.split('/')[-1]}")  # read for the request

    response = export(governance, ready_request)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    today = datetime.now(UK).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="disclosure-D-{datetime.now(UK).year}-0001-{today}.zip"'
    path = tmp_path / "bundle.zip"
    path.write_bytes(response.content)
    key_fingerprint = web_app.state.signing_key.fingerprint()
    assert verify_bundle(path, expected_fingerprint=key_fingerprint) == []

    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        manifest = archive.read("manifest.json")
        document = json.loads(archive.read("events.json"))
        pdf = archive.read("timeline.pdf")
    fingerprint = hashlib.sha256(manifest).hexdigest()
    assert response.headers["x-bundle-fingerprint"] == fingerprint

    # Every event of both incidents, in order, with who and both times.
    log = web_app.state.log
    actor, _ = log.authenticate("gill.governance", "a long enough password")
    expected = []
    for incident in two_incidents:
        incident_id = incident.split("/")[-1]
        expected += [(incident_id, e.originator_version, type(e).__name__) for e in log.history(actor, uuid.UUID(incident_id))]
    assert [(e["incident_id"], e["sequence"], e["event_type"]) for e in document["events"]] == expected
    assert [name for _, _, name in expected] == ["Reported", "Corrected", "Reported", "AskedToRecordOpenly", "CopyRequested"]
    corrected = document["events"][1]["correction"]
    assert corrected == {"field": "Where", "previous": "Waiting area", "new": "Reception desk", "reason": "The camera shows the desk", "corrects_sequence": 1}
    assert all(e["recorded_at"] and e["who"]["username"] for e in document["events"])
    assert document["events"][3]["occurred_at"] and document["events"][3]["note"] == "Asked to record openly at the start"
    assert document["request"]["legal_basis"] == "Required by law"
    assert document["request"]["decided_by"]["username"] == "gill.governance"
    for incident in document["incidents"]:  # as in force on the day each incident happened
        assert incident["notices_in_force"] == [
            {"channel": "Waiting-room poster", "wording": "Please do not film staff or other patients", "in_service_from": (datetime.now(UK).date() - timedelta(days=30)).isoformat()}
        ]
    custody = document["custody"]
    assert custody[-1]["action"] == "Exported the timeline in this bundle" and custody[-1]["who"]["username"] == "gill.governance"
    assert sum("Viewed the timeline" in c["action"] for c in custody) >= 4  # reception's and governance's views

    text = one_line(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    for phrase in ("Corrected: Where", "Waiting area", "Reception desk", "The camera shows the desk", "Chain of custody",
                   "Viewed the timeline", "Exported the timeline in this bundle", "Records certificate", "Required by law",
                   "Please do not film staff or other patients", "Asked to record openly at the start"):
        assert phrase in text, phrase

    # The export is on the request's history with its fingerprint, and in each incident's custody.
    page = governance.get(ready_request).text
    assert "Bundle exported" in page and " ".join(fingerprint[i : i + 16] for i in range(0, 64, 16)) in page
    assert key_fingerprint in page
    for incident in two_incidents:
        chain = governance.get(incident).text.split("Who has seen or exported this")[1]
        assert "Exported the timeline in a bundle, by Gill (Governance)" in chain

    # Marking it as disclosed names the bundle sent.
    done = governance.post(f"{ready_request}/disclosed", data={"csrf_token": token(governance, ready_request), "fingerprint": fingerprint, "note": "Sent by recorded post"})
    assert done.status_code == 303
    page = governance.get(done.headers["location"]).text
    assert "The disclosure is recorded" in page and "Sent by recorded post" in page
    assert "Create the evidence bundle" not in page  # a disclosed request takes no more exports
    again = export(governance, ready_request)
    assert again.status_code == 409 and "There is a problem" in again.text and "disclosed" in again.text


@pytest.mark.parametrize(
    "who, form_page, status",
    [("sue.reception", "/incidents/new/filming", 403), ("mo.manager", "/incidents/new/filming", 403), ("other_governance", "/disclosures", 404)],
    ids=["reception", "manager", "another-practices-governance"],
)
def test_only_the_practices_governance_exports_or_records_a_disclosure(client_for, ready_request, request, who, form_page, status):
    """Reception and managers may not (403); another practice's governance lead does not find the request (404)."""
    client = client_for(request.getfixturevalue(who) if who == "other_governance" else who)
    csrf = token(client, form_page)
    assert client.post(f"{ready_request}/export", data={"csrf_token": csrf}).status_code == status
    assert client.post(f"{ready_request}/disclosed", data={"csrf_token": csrf}).status_code == status


def test_a_request_without_a_legal_basis_is_not_exported_and_nothing_is_recorded(client_for, two_incidents):
    governance = client_for("gill.governance")
    location = receive(governance)
    unscoped = export(governance, location)
    assert unscoped.status_code == 422
    assert "There is a problem" in unscoped.text and "Set the scope" in unscoped.text
    scope(governance, location, *two_incidents)
    page = governance.get(location).text
    assert "Record the legal basis before creating the evidence bundle" in page and "Create the evidence bundle</button>" not in page
    refused = export(governance, location)
    assert refused.status_code == 422
    assert "Record the legal basis before exporting" in refused.text
    assert "Bundle exported" not in governance.get(location).text
    for incident in two_incidents:
        assert "Exported the timeline" not in governance.get(incident).text


def test_a_bundle_cannot_be_marked_disclosed_before_one_is_exported(client_for, ready_request):
    governance = client_for("gill.governance")
    response = governance.post(f"{ready_request}/disclosed", data={"csrf_token": token(governance, ready_request), "fingerprint": "", "note": ""})
    assert response.status_code == 422 and "Export a bundle before recording that it was disclosed" in response.text


def test_the_file_name_is_safe_whatever_the_reference(client_for, two_incidents):
    governance = client_for("gill.governance")
    location = receive(governance, reference='../../etc/pa"ss wd;\r\nX: y 李')
    scope(governance, location, two_incidents[0])
    record_basis(governance, location)
    response = export(governance, location)
    assert response.status_code == 200
    name = re.fullmatch(r'attachment; filename="(disclosure-[A-Za-z0-9._-]+\.zip)"', response.headers["content-disposition"])
    assert name and "/" not in name.group(1) and ".." not in name.group(1)
    assert Path(name.group(1)).name == name.group(1)


def test_a_character_no_font_can_draw_still_exports_and_the_page_says_so(client_for, web_app, tmp_path):
    reception = client_for("sue.reception")
    odd = "Zoë \U000f0000 Clarke held up a phone"  # a private-use character: no installed font has it
    incident = log_filming(reception, note=odd)
    governance = client_for("gill.governance")
    location = receive(governance)
    scope(governance, location, incident)
    record_basis(governance, location)
    response = export(governance, location)
    assert response.status_code == 200
    path = tmp_path / "bundle.zip"
    path.write_bytes(response.content)
    assert verify_bundle(path, expected_fingerprint=web_app.state.signing_key.fingerprint()) == []
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("events.json"))["events"][0]["note"] == odd
        assert json.loads(archive.read("manifest.json"))["timeline_pdf"]["standard"] == "none"
    page = governance.get(location).text
    assert "The last bundle was made with a warning" in page and "not PDF/A-2b" in page
    assert "The last bundle was made with a warning" not in governance.get(location).text  # said once


def test_a_bundle_downloads_again_byte_for_byte_named_by_the_request_and_listed_by_label_date_and_scope(client_for, web_app, ready_request, settings):
    governance = client_for("gill.governance")
    first = export(governance, ready_request)
    second = export(governance, ready_request)
    assert first.status_code == second.status_code == 200 and first.content != second.content
    request_id = uuid.UUID(ready_request.split("/")[-1])
    page = governance.get(ready_request)
    # "Mark as disclosed" tells the bundles apart by the request's label, when each was made and what it holds.
    bundles = re.findall(r'name="fingerprint" type="radio" value="([0-9a-f]{64})"', page.text)
    # Each named by its zip's SHA-256: two bundles made in the same second may share a manifest.
    assert bundles == [hashlib.sha256(second.content).hexdigest(), hashlib.sha256(first.content).hexdigest()]
    disclosed_form = page.text[page.text.index('id="disclosed-form"') :]
    disclosed_form = disclosed_form[: disclosed_form.index("</form>")]
    labels = re.findall(r'<label class="nhsuk-label nhsuk-radios__label"[^>]*>\s*(.*?)\s*</label>', disclosed_form, re.S)
    assert labels and all(re.match(r"D-\d{4}-\d{4}, made ", l) and "2 incidents (Someone filmed in the practice" in l for l in labels[:2]), labels
    assert not re.search(r">\s*[0-9a-f]{16} [0-9a-f]{16}", disclosed_form)  # no hex for a person to compare

    for response in (first, second):
        fingerprint = response.headers["x-bundle-fingerprint"]
        again = governance.get(f"{ready_request}/bundles/{hashlib.sha256(response.content).hexdigest()}")
        assert again.status_code == 200 and again.headers["content-type"] == "application/zip", re.findall(r"nhsuk-error-summary__list.*?</ul>", again.text, re.S)
        assert again.content == response.content
        assert again.headers["content-disposition"] == response.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="disclosure-D-\d{4}-\d{4}-\d{4}-\d{2}-\d{2}\.zip"', again.headers["content-disposition"])
        # The request's history recorded the zip's SHA-256 and its manifest's when it was exported.
        zip_sha256 = hashlib.sha256(again.content).hexdigest()
        with zipfile.ZipFile(io.BytesIO(again.content)) as archive:
            assert hashlib.sha256(archive.read("manifest.json")).hexdigest() == fingerprint
        grouped = lambda digits: " ".join(digits[i : i + 16] for i in range(0, 64, 16))  # noqa: E731
        assert f"<dt>SHA-256 of the zip</dt><dd>{grouped(zip_sha256)}</dd>" in page.text
        assert f"<dt>Fingerprint (manifest SHA-256)</dt><dd>{grouped(fingerprint)}</dd>" in page.text

    # Still there once disclosed; kept encrypted, readable by the owner only.
    chosen = hashlib.sha256(first.content).hexdigest()
    marked = governance.post(f"{ready_request}/disclosed", data={"csrf_token": token(governance, ready_request), "fingerprint": chosen, "note": "By secure email"})
    assert marked.status_code == 303
    page = governance.get(ready_request).text
    assert governance.get(f"{ready_request}/bundles/{chosen}").content == first.content
    listed = page[page.index('id="bundles-form"') :]
    disclosed = [m.start() for m in re.finditer(r"<strong class=\"nhsuk-tag[^\"]*\">\s*Disclosed\s*</strong>", listed)]
    assert len(disclosed) == 1 and listed.index(chosen) > disclosed[0] > listed.index(hashlib.sha256(second.content).hexdigest())
    kept = settings.data_dir / "bundles" / str(request_id) / f"{chosen}.zip.aes"
    assert kept.stat().st_mode & 0o777 == 0o600 and kept.parent.stat().st_mode & 0o777 == 0o700
    assert b"Filming" not in kept.read_bytes() and b"PK\x03\x04" not in kept.read_bytes()[:64]


def test_a_bundle_that_cannot_be_had_again_says_why(client_for, web_app, ready_request, settings):
    governance = client_for("gill.governance")
    fingerprint = hashlib.sha256(export(governance, ready_request).content).hexdigest()
    unknown = governance.get(f"{ready_request}/bundles/{'0' * 64}")
    assert unknown.status_code == 404 and "There is a problem" in unknown.text and "not exported for this request" in unknown.text
    assert governance.get(f"{ready_request}/bundles/not-a-fingerprint").status_code == 404
    kept = settings.data_dir / "bundles" / ready_request.split("/")[-1] / f"{fingerprint}.zip.aes"
    kept.write_bytes(kept.read_bytes()[:-1] + b"\0")
    damaged = governance.get(f"{ready_request}/bundles/{fingerprint}")
    assert damaged.status_code == 409 and "There is a problem" in damaged.text and "export a new one" in damaged.text
    kept.unlink()
    missing = governance.get(f"{ready_request}/bundles/{fingerprint}")
    assert missing.status_code == 409 and "not kept on this server" in missing.text
    assert client_for("mo.manager").get(f"{ready_request}/bundles/{fingerprint}").status_code == 403


def test_the_pdfs_custody_page_fits_a4_names_the_request_by_its_label_and_groups_reloads(client_for, two_incidents, tmp_path):
    governance, manager = client_for("gill.governance"), client_for("mo.manager")
    location = receive(governance, reference="SAR-2026-0007")
    scope(governance, location, two_incidents[0])
    record_basis(governance, location)
    opened = f"{two_incidents[0]}?request={location.split('/')[-1]}"
    for _ in range(5):
        assert governance.get(opened).status_code == 200
    assert manager.get(two_incidents[0]).status_code == 200
    for _ in range(3):
        assert governance.get(opened).status_code == 200
    response = export(governance, location)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (tmp_path / "timeline.pdf").write_bytes(archive.read("timeline.pdf"))
        custody = json.loads(archive.read("events.json"))["custody"]
    # events.json keeps every entry: the reception's own view after logging it, 9 views, and the export.
    assert len([c for c in custody if c["action"].startswith("Viewed")]) == 10

    pages = subprocess.run(["pdftotext", "-layout", str(tmp_path / "timeline.pdf"), "-"], capture_output=True, text=True, check=True).stdout.split("\f")
    custody_page = next(p for p in pages if "Chain of custody" in p)
    rows = [line for line in custody_page.splitlines() if re.search(r"\b(Viewed|Exported) the timeline", line)]
    counts = [int(re.search(r"\s(\d+)(\s+D-\d{4}-0001)?\s*$", line).group(1)) for line in rows]
    assert counts == [1, 5, 1, 3, 1], custody_page  # reception's view; 5 reloads; the manager's; 3 more; the export
    assert sum(len(re.findall(r"D-\d{4}-0001", line)) for line in rows) == 3  # the 8 views for the request and the export, whole
    assert len(re.findall(r"\d{2}:\d{2}:\d{2}–\d{2}:\d{2}:\d{2} (GMT|BST)", custody_page)) == 2  # the first and last of each run

    # Every word of the custody page lies within the A4 page, inside its margins.
    boxes = subprocess.run(["pdftotext", "-bbox", str(tmp_path / "timeline.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    page_boxes = [p for p in boxes.split("<page ")[1:] if ">Chain<" in p and ">custody<" in p]
    assert page_boxes
    width = float(re.search(r'width="([\d.]+)"', page_boxes[0]).group(1))
    assert abs(width - 595.3) < 1  # A4 portrait
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', page_boxes[0])]
    assert max(right_edges) <= width - 16 / 25.4 * 72 + 1


def test_the_bundle_gives_the_due_date_rule_and_each_extension_in_the_requests_words(client_for, two_incidents, tmp_path):
    governance = client_for("gill.governance")
    received = datetime.now(UK).date() - timedelta(days=2)
    location = receive(governance, received_on=received.isoformat(), reference="SAR-2026-0008")
    scope(governance, location, two_incidents[0])
    based = governance.post(f"{location}/legal-basis", data={"csrf_token": token(governance, location), "basis": "right_of_access", "note": ""})
    assert based.status_code == 303
    told = datetime.now(UK).date()
    extended = governance.post(f"{location}/extend", data={
        "csrf_token": token(governance, location), "due_on": months_after(received, 3).isoformat(),
        "reason": "Complex: records held at three sites", "told_on": told.isoformat(),
    })  # fmt: skip
    assert extended.status_code == 303
    response = export(governance, location)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (tmp_path / "timeline.pdf").write_bytes(archive.read("timeline.pdf"))
        request = json.loads(archive.read("events.json"))["request"]
    words = f"Extended from {months_after(received, 1):%d %b %Y} to {months_after(received, 3):%d %b %Y}: Complex: records held at three sites. The requester was told on {told:%d %b %Y}."
    assert request["extensions"] == [words] and re.fullmatch(r"D-\d{4}-\d{4}", request["label"])
    assert request["due_rule"].startswith("One calendar month from receipt (UK GDPR)")
    assert request["legal_basis"] == "Right of access (UK GDPR Article 15)"
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "timeline.pdf"), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert words in text and "One calendar month from receipt (UK GDPR)" in text and "Right of access (UK GDPR Article 15)" in text
