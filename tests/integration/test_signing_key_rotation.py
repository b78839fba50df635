"""`incidents keys rotate-signing`: the store keeps every signing key with the period it was in
use, checkpoints signed by an older key still verify, one signed by a key outside its period is
named, and a bundle signed before the rotation still verifies (with `incidents verify` and with
the standard tools), its VERIFY.txt naming the key that signed it."""

from __future__ import annotations

import io
import zipfile


from incidents.application.signing_key import deployment_key, rotate_signing_key, stored_key
from incidents.evidence.bundle import VERIFY, build_bundle
from incidents.evidence.sample import sample_material
from incidents.evidence.verify import check_bundle
from tests.integration.test_verify_store import record_incidents


def test_checkpoints_signed_before_and_after_a_rotation_all_verify(opened):
    log = opened.log
    old = deployment_key(log, opened.settings)
    record_incidents(log, 2)
    (first,) = log.record_checkpoint(old)
    replaced, new = rotate_signing_key(log)
    assert replaced.fingerprint() == old.fingerprint() != new.fingerprint()
    assert deployment_key(log, opened.settings).fingerprint() == new.fingerprint() == stored_key(log).fingerprint()
    record_incidents(log, 2)
    (second,) = log.record_checkpoint(deployment_key(log, opened.settings))  # follows a checkpoint of the old key

    result = log.verify_store(new.public)
    assert result.ok, [p.message for p in result.problems]
    assert result.checkpoints == 2 and result.uncovered == 0
    kept = log.signing_keys()
    assert [k.fingerprint for k in kept] == [old.fingerprint(), new.fingerprint()]
    assert kept[0].valid_from is None and kept[0].valid_until == kept[1].valid_from and kept[1].valid_until is None
    statements = {number: log.verify_store(new.public).chain[number] for number in (1, 2)}
    assert statements[1] == first.chain_hash and statements[2] == second.chain_hash


def test_a_checkpoint_signed_with_the_old_key_after_the_rotation_is_named(opened):
    log = opened.log
    old = deployment_key(log, opened.settings)
    record_incidents(log, 1)
    log.record_checkpoint(old)
    rotate_signing_key(log)
    record_incidents(log, 1)
    log.record_checkpoint(old)  # a process that kept the old key, or someone who stole it
    result = log.verify_store(deployment_key(log, opened.settings).public)
    assert [p.kind for p in result.problems] == ["checkpoint"], [p.message for p in result.problems]
    message = result.problems[0].message
    assert message.startswith("checkpoint 2 signed at ") and f"names the key {old.fingerprint()}, which was replaced at " in message


def test_a_bundle_signed_before_a_rotation_still_verifies_and_names_its_key(opened, tmp_path):
    log = opened.log
    old = deployment_key(log, opened.settings)
    bundle = build_bundle(sample_material(events=4), old)
    _, new = rotate_signing_key(log)
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle.data)
    result = check_bundle(path, old.fingerprint())
    assert result.problems == [] and result.fingerprint == old.fingerprint()
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert old.fingerprint() in files[VERIFY].decode() and new.fingerprint() not in files[VERIFY].decode()
    from tests.integration.test_verify_with_standard_tools import stranger_checks

    for step in stranger_checks(files, tmp_path / "unpacked"):
        assert step.returncode == 0, step.stdout + step.stderr
