"""`incidents keys rotate` on a real deployment: refused while the app runs, then events written
before are still read, new ones are written with the new key, the views follow, and the store
verifies against its checkpoints (whose digests cover the stored bytes, left as they were)."""

from __future__ import annotations

import base64
import json
import sqlite3
from contextlib import closing

import pytest

from incidents.mapping import RING_MARK, cipher_key_id
from incidents.storage import cipher_key_fingerprints
from tests.conftest import wait_until
from tests.e2e.test_cli import no_traceback, one_line, run
from tests.e2e.test_server_restart_and_kill import client_for, log_filming, unique_note

pytestmark = pytest.mark.slow


def test_rotating_the_encryption_key_keeps_every_event_readable_and_the_store_verified(live_server_factory):
    server = live_server_factory()
    reception = server.add_account("sue.reception", "reception")
    manager = server.add_account("pat.manager", "manager")
    server.start()
    with closing(client_for(server, reception)) as client:
        first_note = unique_note("before rotation")
        first = log_filming(client, first_note)
    refused = run(server, "keys", "rotate")
    no_traceback(refused)
    assert refused.returncode == 2 and "Not rotated:" in one_line(refused.stderr), refused.stdout + refused.stderr
    assert len((server.data_dir / "cipher.key").read_text().split()) == 1
    server.stop()
    assert run(server, "checkpoint").returncode == 0  # covers the events written with the old key

    old_key = (server.data_dir / "cipher.key").read_text().strip()
    rotated = run(server, "keys", "rotate")
    no_traceback(rotated)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "Rotated the encryption key" in one_line(rotated.stdout) and "the 1 older key(s) stay after it" in one_line(rotated.stdout)
    assert "1 record key(s) are now wrapped by the new key" in one_line(rotated.stdout)  # the incident's
    new_key, kept = (server.data_dir / "cipher.key").read_text().split()
    assert kept == old_key and new_key != old_key

    server.start()
    with closing(client_for(server, reception)) as client:
        assert first_note in client.get(first).text
        second_note = unique_note("after rotation")
        second = log_filming(client, second_note)
        assert second_note in client.get(second).text
    with closing(client_for(server, manager)) as client:
        for location, words in ((first, "before rotation"), (second, "after rotation")):
            # The projections process reads both keys' events.
            wait_until(lambda: location in client.get("/incidents", params={"q": words}).text, timeout=10)
    server.stop()

    mark = RING_MARK + cipher_key_id(base64.b64decode(new_key))
    with sqlite3.connect(server.data_dir / "incidents.sqlite") as db:
        states = [state for (state,) in db.execute("SELECT state FROM stored_events ORDER BY rowid")]
    written_after = [state for state in states if state.startswith(mark)]
    assert written_after and not states[0].startswith(RING_MARK)

    assert run(server, "checkpoint").returncode == 0
    verified = run(server, "verify-store")
    assert verified.returncode == 0 and "verified" in one_line(verified.stdout), verified.stdout + verified.stderr
    assert "match 2 signed checkpoint(s)" in one_line(verified.stdout)

    # A backup names both keys; a restore with the new key alone is refused before it writes anything.
    backup = server.data_dir.parent / "backup-after-rotation"
    assert run(server, "backup", str(backup)).returncode == 0
    fingerprints = json.loads((backup / "manifest.json").read_text())["keys"]["cipher_key"]["fingerprints"]
    assert fingerprints == cipher_key_fingerprints(f"{new_key},{old_key}")
    target = live_server_factory()
    (target.data_dir / "cipher.key").write_text(new_key + "\n")
    lacking = run(target, "restore", str(backup))
    assert lacking.returncode == 2 and f"it lacks {fingerprints[1]}" in one_line(lacking.stderr)

    # The old key is still needed: without it the events it wrote cannot be read.
    (server.data_dir / "cipher.key").write_text(new_key + "\n")
    without_old = run(server, "verify-store")
    no_traceback(without_old)
    assert without_old.returncode == 2, without_old.stdout + without_old.stderr
    assert "The encryption key does not open the events stored in" in one_line(without_old.stderr)


def test_rotating_the_signing_key_keeps_the_store_verified(live_server_factory):
    server = live_server_factory(INCIDENTS_CHECKPOINT_SECONDS="0.5")
    reception = server.add_account("sue.reception", "reception")
    server.start()
    with closing(client_for(server, reception)) as client:
        log_filming(client, unique_note("before signing rotation"))
    refused = run(server, "keys", "rotate-signing")
    no_traceback(refused)
    assert refused.returncode == 2 and "Not rotated:" in one_line(refused.stderr)
    server.stop()
    old = one_line(run(server, "verify-store").stdout).split(", key ")[1].split(".")[0]

    rotated = run(server, "keys", "rotate-signing")
    no_traceback(rotated)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    out = one_line(rotated.stdout)
    assert f"the store keeps {old} and when it was in use" in out
    new = out.split("signed from now on with ")[1].split(";")[0]
    assert new != old

    server.start()  # its timer signs with the new key
    with closing(client_for(server, reception)) as client:
        log_filming(client, unique_note("after signing rotation"))
    server.stop()  # signs a final checkpoint
    verified = run(server, "verify-store")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f", key {new}." in one_line(verified.stdout) and "Not yet covered" not in verified.stdout
    with_old = run(server, "verify-store", "--fingerprint", old)
    assert with_old.returncode == 1 and f"{old} is an earlier key of this deployment, rotated out at" in one_line(with_old.stdout)
    assert run(server, "verify-store", "--fingerprint", new).returncode == 0
