"""A subject access request from start to finish in a real Chromium against a real `incidents
serve`: created from the patient's NHS number, it proposes that patient's incidents and not
another's; a third party's name in a note is redacted; the bundle is exported, downloaded again
with the same bytes, and verifies (`incidents verify`) without the redacted words anywhere in it."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incidents.application.records import uk_today
from tests.browser.conftest import PASSWORD, screenshot
from tests.browser.test_accessibility import http_client
from tests.browser.test_manager_dashboard import sign_in_at_desk
from tests.conftest import BIN
from tests.web.test_reception_slice import recording_form

pytestmark = [pytest.mark.browser, pytest.mark.slow]
THIRD_PARTY = "Mrs Jones from next door"


def log_recording(client, nhs_number: str, note: str) -> str:
    page = client.get("/incidents/new/recording").text
    made = client.post("/incidents/new/recording", data=recording_form(page, nhs_number=nhs_number, note=note))
    assert made.status_code == 303, made.text
    return made.headers["location"].split("?")[0].rsplit("/", 1)[1]


def test_a_subject_access_request_found_by_nhs_number_redacted_exported_twice_and_verified(live_server_factory, new_tablet, tmp_path):
    server = live_server_factory()
    server.add_account("sue.reception", "reception", password=PASSWORD)
    governance = server.add_account("gill.governance", "governance", password=PASSWORD)
    server.start()
    with http_client(server, "sue.reception") as reception:
        theirs = log_recording(reception, "9434765919", f"Filmed on her phone; {THIRD_PARTY} was in the room")
        another = log_recording(reception, "9434765870", "Recorded the call with the GP")

    tablet = new_tablet(accept_downloads=True)
    page = tablet.page
    sign_in_at_desk(page, server, governance)
    page.goto(server.url + "/disclosures/new")
    page.get_by_label("Patient (subject access request)").check()
    page.get_by_label("Name of the requester").fill("The patient")
    page.get_by_label("Reference").fill("Letter of 1 December")
    page.get_by_label("Received on").fill(uk_today().isoformat())
    page.get_by_label("Patient's NHS number (optional)").fill("943 476 5919")
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_text("The request is in the list")).to_be_visible()
    request_path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]

    page.get_by_role("button", name="Choose the incidents").click()
    boxes = page.locator("input[name=incident_ids]")
    expect(boxes.first).to_be_visible()
    ticked = [b.get_attribute("value") for b in boxes.all() if b.is_checked()]
    assert ticked == [theirs] and another not in [b.get_attribute("value") for b in boxes.all()]
    page.get_by_role("button", name="Set the scope").click()
    expect(page.get_by_text("The scope is set.")).to_be_visible()

    page.get_by_label("Right of access (UK GDPR Article 15)").check()
    page.get_by_role("button", name="Record legal basis").click()
    expect(page.get_by_role("status")).to_be_visible()

    section = page.locator("#redactions")
    entry = section.locator("#redact-target option", has_text=THIRD_PARTY)
    section.get_by_label("What to hide").select_option(entry.get_attribute("value"))
    section.get_by_label("Words to hide (for an entry)").fill(THIRD_PARTY)
    section.get_by_label("Reason").fill("Another person's name")
    section.get_by_role("button", name="Redact").click()
    expect(page.locator("#redaction-list")).to_contain_text("Another person's name")
    screenshot(page, "subject-access-redacted")

    with page.expect_download() as made:
        page.get_by_role("button", name="Create the evidence bundle").click()
    first = Path(made.value.path()).read_bytes()
    assert re.fullmatch(r"disclosure-D-\d{4}-0001-\d{4}-\d{2}-\d{2}\.zip", made.value.suggested_filename)
    page.goto(server.url + request_path)
    with page.expect_download() as again:
        page.get_by_role("link", name=re.compile("Download this bundle again")).click()
    assert Path(again.value.path()).read_bytes() == first

    bundle = tmp_path / made.value.suggested_filename
    bundle.write_bytes(first)
    verified = subprocess.run([str(BIN / "incidents"), "verify", str(bundle)], capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout and "1 incident(s)" in " ".join(verified.stdout.split())
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        events = archive.read("events.json").decode()
        assert THIRD_PARTY not in events and "[redacted: Another person's name]" in events
        assert THIRD_PARTY not in archive.read("timeline.csv").decode("utf-8-sig")
        (tmp_path / "timeline.pdf").write_bytes(archive.read("timeline.pdf"))
        assert json.loads(archive.read("manifest.json"))["scope"]["incidents"] == [theirs]
    shown = subprocess.run(["pdftotext", str(tmp_path / "timeline.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert THIRD_PARTY not in " ".join(shown.split()) and "redacted" in shown
    tablet.watch.assert_clean()
