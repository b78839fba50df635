"""An evidence bundle end to end: a real `incidents serve`, the governance lead exporting over HTTP
from a disclosure request, and `incidents verify` run on the download as a recipient would, in an
empty folder with nothing configured: the untouched bundle verifies against the practice's key
fingerprint (exit 0), and one flipped byte is caught (exit 1)."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.conftest import BIN, csrf_from, field_from, sign_in
from tests.integration.evidence_helpers import flip_byte, read_zip, write_zip

UK = ZoneInfo("Europe/London")


def verify(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "incidents"), "verify", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def log_filming(client: httpx.Client) -> str:
    page = client.get("/incidents/new/filming")
    when = datetime.now(UK) - timedelta(minutes=3)
    form = {
        "csrf_token": csrf_from(page.text), "submission_key": field_from(page.text, "submission_key"),
        "area": "waiting_area", "filmer": "patient", "people_captured": "staff_and_patients", "children_present": "no",
        "occurred_date": when.strftime("%Y-%m-%d"), "occurred_time": when.strftime("%H:%M"), "note": "Filmed the desk, Zoë asked them to stop",
    }  # fmt: skip
    response = client.post("/incidents/new/filming", data=form)
    assert response.status_code == 303, response.text
    incident = response.headers["location"].split("?")[0]
    page = client.get(incident)
    response = client.post(f"{incident}/responses", data={
        "csrf_token": csrf_from(page.text), "submission_key": field_from(page.text, "submission_key"), "response": "AskedToStop",
        "occurred_date": when.strftime("%Y-%m-%d"), "occurred_time": when.strftime("%H:%M"), "reference": "", "note": "They stopped",
    })  # fmt: skip
    assert response.status_code == 303, response.text
    return incident.split("/")[-1]


def ready_request(client: httpx.Client, incident_id: str) -> str:
    page = client.get("/disclosures/new")
    response = client.post("/disclosures", data={
        "csrf_token": csrf_from(page.text), "submission_key": field_from(page.text, "submission_key"),
        "requester_type": "police", "requester": "Thames Valley Police", "reference": "TVP/2026/0042",
        "received_on": datetime.now(UK).date().isoformat(), "due_on": "",
    })  # fmt: skip
    assert response.status_code == 303, response.text
    location = response.headers["location"].split("?")[0]
    token = csrf_from(client.get(location).text)
    scoped = client.post(f"{location}/scope", data={"csrf_token": token, "incident_ids": incident_id, "period_from": "", "period_to": ""})
    assert scoped.status_code == 303, scoped.text
    based = client.post(f"{location}/legal-basis", data={"csrf_token": token, "basis": "required_by_law", "note": "Crime and Disorder Act request"})
    assert based.status_code == 303, based.text
    return location


def test_a_bundle_exported_over_http_verifies_offline_and_a_flipped_byte_is_caught(live_server_factory, tmp_path):
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception")
    governance_account = server.add_account("gill.governance", "governance")
    server.start()
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=120) as desk, httpx.Client(base_url=server.url, follow_redirects=False, timeout=120) as governance:
        sign_in(desk, reception)
        incident_id = log_filming(desk)
        sign_in(governance, governance_account)
        location = ready_request(governance, incident_id)
        page = governance.get(location).text
        fingerprint = html.unescape(re.search(r'<code id="key-fingerprint">([^<]+)</code>', page).group(1))
        response = governance.post(f"{location}/export", data={"csrf_token": csrf_from(page)})
        assert response.status_code == 200, response.text
        assert re.fullmatch(r'attachment; filename="disclosure-D-\d{4}-0001-\d{4}-\d{2}-\d{2}\.zip"', response.headers["content-disposition"])
        history = governance.get(location).text
        manifest = response.headers["x-bundle-fingerprint"]
        assert "Bundle exported" in history and " ".join(manifest[i : i + 16] for i in range(0, 64, 16)) in history

    recipient = tmp_path / "recipient"
    recipient.mkdir()
    bundle = recipient / "bundle.zip"
    bundle.write_bytes(response.content)
    verified = verify(str(bundle), "--fingerprint", fingerprint, cwd=recipient)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    out = " ".join(verified.stdout.split())
    assert f"verified {bundle}: 2 events of 1 incident(s) ({incident_id})" in out

    files = read_zip(bundle)
    files["events.json"] = flip_byte(files["events.json"])
    tampered = write_zip(recipient / "tampered.zip", files)
    caught = verify(str(tampered), "--fingerprint", fingerprint, cwd=recipient)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "events.json has been altered" in " ".join(caught.stdout.split())
