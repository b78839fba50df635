"""One deployment, one signing key, whichever process signs: two app instances in worker mode on
one PostgreSQL database each export an evidence bundle, and two workers in turn each sign store
checkpoints; every bundle verifies against the one fingerprint the practice keeps, and
`verify-store` finds every checkpoint signed by that same key."""

from __future__ import annotations

import html
import re
import subprocess
from contextlib import closing

import httpx
import pytest

from tests.conftest import BIN, sign_in
from tests.e2e.test_export_bundle_http import log_filming, ready_request, verify
from tests.e2e.test_standby_worker import Worker, apps_in_worker_mode

pytestmark = pytest.mark.slow


def export(server, account, incident_id: str) -> tuple[str, bytes]:
    """The fingerprint the instance shows the governance lead, and the bundle it exports."""
    with closing(httpx.Client(base_url=server.url, follow_redirects=False, timeout=120)) as governance:
        sign_in(governance, account)
        location = ready_request(governance, incident_id)
        page = governance.get(location).text
        fingerprint = html.unescape(re.search(r'<code id="key-fingerprint">([^<]+)</code>', page).group(1))
        response = governance.post(f"{location}/export", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
        assert response.status_code == 200, response.text
        return fingerprint, response.content


def test_bundles_from_each_instance_and_checkpoints_from_each_worker_verify_with_one_key(postgres_url, live_server_factory, tmp_path):
    apps = apps_in_worker_mode(postgres_url, live_server_factory)
    for app in apps:
        app.env["INCIDENTS_CHECKPOINT_SECONDS"] = "1"  # for the workers started from here on
    reception = apps[0].add_account("sue.reception", "reception")
    governance = apps[0].add_account("gill.governance", "governance")
    first = Worker(apps[0], "first")
    try:
        first.wait_for("Projecting events")
        with closing(httpx.Client(base_url=apps[0].url, follow_redirects=False, timeout=120)) as desk:
            sign_in(desk, reception)
            incident_id = log_filming(desk)
        exported = [export(app, governance, incident_id) for app in apps]
    finally:
        first.end()  # SIGTERM: its final checkpoint
    second = Worker(apps[1], "second")
    try:
        second.wait_for("Projecting events")
        with closing(httpx.Client(base_url=apps[1].url, follow_redirects=False, timeout=120)) as desk:
            sign_in(desk, reception)
            log_filming(desk)
    finally:
        second.end()

    fingerprints = {fingerprint for fingerprint, _ in exported}
    assert len(fingerprints) == 1, fingerprints
    (fingerprint,) = fingerprints
    for number, (_, content) in enumerate(exported):
        bundle = tmp_path / f"bundle-{number}.zip"
        bundle.write_bytes(content)
        verified = verify(str(bundle), "--fingerprint", fingerprint, cwd=tmp_path)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    for app in apps:
        checked = subprocess.run([str(BIN / "incidents"), "verify-store", "--fingerprint", fingerprint], env=app.env, capture_output=True, text=True, timeout=120)
        said = " ".join(checked.stdout.split())
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "(the practice's key)" in said and re.search(r"match ([2-9]|\d\d+) signed checkpoint\(s\)", said), said
