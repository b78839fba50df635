"""A recording the practice makes, in a real Chromium at tablet size (820x1180): reception
registers it and records consent, fingerprints the file on the device (no request carries its
bytes), prints the consent form (the PDF's text read back) and checks a file against the
fingerprint; a manager records a use, then one outside the consent is refused with the guidance
in the error summary; a withdrawal puts "Destroy the recording" in the manager's action queue."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_reception_tablet import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = {"width": 820, "height": 1180}


def test_consent_fingerprint_form_use_refusal_and_withdrawal(live_server_factory, new_tablet, tmp_path: Path):
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception")
    manager = server.add_account("mo.manager", "manager")
    server.start()
    recording_bytes = b"CONSULTATION-VIDEO-" + os.urandom(200_000)
    other_bytes = b"ANOTHER-FILE-" + os.urandom(1_000)

    tablet = new_tablet(viewport=SIZE, accept_downloads=True)
    tablet.watch.expected_page_statuses.update({422})
    page: Page = tablet.page
    bodies: list[bytes] = []
    page.on("request", lambda r: bodies.append(r.post_data_buffer or b""))
    sign_in(page, server, reception)

    page.get_by_role("link", name="Practice recordings").first.click()
    page.get_by_role("button", name="Register a recording").click()
    page.get_by_role("button", name="Register the recording").click()  # nothing filled in
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the patient's NHS number")
    screenshot(page, "80-practice-recording-new-errors")
    page.get_by_label("Patient's NHS number").fill("943 476 5919")
    page.get_by_label("Clinician making the recording").fill("Dr Ada Registrar")
    page.get_by_label("Training or assessment").check()
    page.get_by_label("Video", exact=True).check()
    page.get_by_role("button", name="Register the recording").click()
    expect(page.get_by_text(re.compile(r"Recording P-\d{4}-0001"))).to_be_visible()

    consent = page.locator("#consent-form")
    consent.get_by_label("In writing (signed form)").check()
    consent.get_by_label("The clinician's trainer or educational supervisor").check()
    consent.get_by_label("When may it be shown?").fill("Only in a private tutorial, never in public")
    consent.get_by_label("Keep it until").fill(date.today().replace(year=date.today().year + 1).isoformat())
    consent.get_by_role("button", name="Save the consent").click()
    expect(page.get_by_role("status").first).to_contain_text("The consent is on record")

    # The fingerprint is worked out on the device; the file's bytes go nowhere.
    page.locator("#pick-file").set_input_files({"name": "consultation.mp4", "mimeType": "video/mp4", "buffer": recording_bytes})
    expect(page.locator("#sha256")).to_have_value(hashlib.sha256(recording_bytes).hexdigest())
    expect(page.locator("#size")).to_have_value(str(len(recording_bytes)))
    page.get_by_label("Where the file is kept").fill("Training drive, registrar folder")
    screenshot(page, "81-practice-recording-fingerprint")
    page.get_by_role("button", name="Save the fingerprint").click()
    expect(page.get_by_role("status").first).to_contain_text("it was not sent here")

    with page.expect_download() as download:
        page.get_by_role("link", name="Print the consent form (PDF)").click()
    pdf = tmp_path / "consent.pdf"
    pdf.write_bytes(Path(download.value.path()).read_bytes())
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    for words in ("Your consent to a video recording", "NHS number 943 476 5919", "Dr Ada Registrar", "The clinician's trainer or educational supervisor",
                  "Only in a private tutorial, never in public", "Your right to change your mind", "withdraw your consent", "Patient's signature", "Witness's signature"):
        assert words in text, words

    page.locator("#check-file").set_input_files({"name": "consultation.mp4", "mimeType": "video/mp4", "buffer": recording_bytes})
    expect(page.locator("[data-check-result]")).to_contain_text("matches: it is the recording that was made")
    page.locator("#check-file").set_input_files({"name": "other.mp4", "mimeType": "video/mp4", "buffer": other_bytes})
    expect(page.locator("[data-check-result]")).to_contain_text("does not match")
    expect(page.get_by_text("Without JavaScript")).to_be_hidden()
    screenshot(page, "82-practice-recording-check-a-file")
    marker = recording_bytes[19:51]  # random bytes of the file, unlike anything a form sends
    assert bodies and not any(marker in body or b"CONSULTATION-VIDEO-" in body for body in bodies)

    # A manager records a use, then one the consent does not cover.
    location = page.url.split("?")[0]
    desk = new_tablet(viewport=SIZE)
    desk.watch.expected_page_statuses.update({422})
    page = desk.page
    sign_in(page, server, manager)
    page.goto(location)
    use = page.locator("#used-form")
    use.get_by_label("The clinician's trainer or educational supervisor").check()
    use.get_by_label("Who, by name or role").fill("Dr Trainer")
    use.get_by_label("Training or assessment").check()
    use.get_by_role("button", name="Record the use").click()
    expect(page.get_by_role("status").first).to_contain_text("The use is on record")
    use = page.locator("#used-form")
    use.get_by_label("The practice's clinical team").check()
    use.get_by_label("Who, by name or role").fill("Practice meeting")
    use.get_by_label("Research", exact=True).check()
    use.get_by_role("button", name="Record the use").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("did not consent to use for research")
    expect(page).to_have_title(re.compile("^Error: "))
    screenshot(page, "83-practice-recording-refused-use")

    page.locator("#withdrawn-form").get_by_label("How did the patient withdraw?").fill("Phoned the practice")
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_role("status").first).to_contain_text("The withdrawal is on record")
    page.goto(server.url + "/dashboard")
    item = page.locator(".app-queue li").filter(has_text="Destroy the recording")
    expect(item).to_contain_text("the patient withdrew consent")
    screenshot(page, "84-practice-recording-destroy-in-queue")
    item.get_by_role("link", name="Destroy the recording").click()
    page.locator("#destroyed-form").get_by_label("How were the file and every copy destroyed?").fill("Deleted from the drive and its backup")
    page.get_by_role("button", name="Record the destruction").click()
    expect(page.get_by_role("status").first).to_contain_text("The destruction is on record")
    page.goto(server.url + "/dashboard")
    expect(page.locator(".app-queue li").filter(has_text="Destroy the recording")).to_have_count(0)
    tablet.watch.assert_clean()
    desk.watch.assert_clean()


def test_without_javascript_the_fingerprint_is_pasted_from_sha256sum(live_server_factory, new_tablet):
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception")
    server.start()
    tablet = new_tablet(viewport=SIZE, java_script_enabled=False)
    page: Page = tablet.page
    sign_in(page, server, reception)
    page.goto(server.url + "/recordings/new")
    page.get_by_label("Patient's NHS number").fill("9434765919")
    page.get_by_label("Clinician making the recording").fill("Dr Ada Registrar")
    page.get_by_label("Audit").check()
    page.get_by_label("Audio").check()
    page.get_by_role("button", name="Register the recording").click()
    consent = page.locator("#consent-form")
    consent.get_by_label("In writing (signed form)").check()
    consent.get_by_label("The practice's clinical auditors").check()
    consent.get_by_label("Audit", exact=True).uncheck()
    consent.get_by_role("button", name="Save the consent").click()  # no purpose, nor when it may be shown, nor until when
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Say in which circumstances it may be shown")
    consent = page.locator("#consent-form")
    expect(consent.get_by_label("The practice's clinical auditors")).to_be_checked()  # what was ticked comes back
    consent.get_by_label("Audit", exact=True).check()
    consent.get_by_label("When may it be shown?").fill("Only at the practice's audit meeting")
    consent.get_by_label("Keep it until").fill(date.today().replace(year=date.today().year + 1).isoformat())
    consent.get_by_role("button", name="Save the consent").click()
    expect(page.locator("#pick-file")).to_be_hidden()  # only a script can fingerprint a picked file
    sha = hashlib.sha256(b"an audit recording").hexdigest()
    page.get_by_label("Where the file is kept").fill("Audit share")
    page.get_by_label("SHA-256").fill(f"{sha}  audit.m4a")
    page.get_by_label("Size in bytes").fill("18")
    page.get_by_role("button", name="Save the fingerprint").click()
    expect(page.locator(".app-fingerprint")).to_have_text(sha)
    expect(page.locator(".app-file-check")).to_contain_text("Without JavaScript: run sha256sum on the file")
    screenshot(page, "85-practice-recording-without-javascript")
