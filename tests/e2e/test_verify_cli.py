"""`incidents verify BUNDLE` as someone handed a bundle runs it: offline, nothing configured."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from incidents.evidence import signing
from incidents.evidence.bundle import build_bundle
from incidents.evidence.sample import sample_material
from tests.conftest import BIN
from tests.integration.evidence_helpers import flip_byte, read_zip, write_zip


def verify(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # A folder with no data and no keys: verifying needs neither.
    return subprocess.run([str(BIN / "incidents"), "verify", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return signing.generate()


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory, key) -> Path:
    return build_bundle(sample_material(events=5), key).write(tmp_path_factory.mktemp("cli") / "bundle.zip")


def test_an_untouched_bundle_is_verified_against_the_practices_fingerprint(bundle_path, key, tmp_path):
    result = verify(str(bundle_path), "--fingerprint", key.fingerprint().replace(" ", ":"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = one_line(result.stdout)
    assert out.startswith(f"verified {bundle_path}: 5 events of 1 incident(s) (INC-0001) for request DR-0007")
    assert f"signed by the key {key.fingerprint()} (the practice's key)" in out
    assert not list(tmp_path.iterdir())  # nothing created: no data folder, no key


def test_a_tampered_bundle_is_not_verified_and_each_problem_is_listed(bundle_path, tmp_path):
    files = read_zip(bundle_path)
    files["timeline.pdf"] = flip_byte(files["timeline.pdf"])
    tampered = write_zip(tmp_path / "tampered.zip", files)
    result = verify(str(tampered), cwd=tmp_path)
    assert result.returncode == 1
    out = one_line(result.stdout)
    assert "NOT verified" in out and "1 problem(s)" in out
    assert "- timeline.pdf has been altered: its SHA-256 is" in out


def test_another_key_than_the_practices_is_not_verified(bundle_path, tmp_path):
    result = verify(str(bundle_path), "--fingerprint", "ab" * 32, cwd=tmp_path)
    assert result.returncode == 1
    assert "not the practice's key" in one_line(result.stdout)


def test_a_fingerprint_that_is_not_one_is_a_usage_error(bundle_path, tmp_path):
    result = verify(str(bundle_path), "--fingerprint", "12345", cwd=tmp_path)
    assert result.returncode == 2
    assert "64 hex digits" in one_line(result.stderr)
    assert "Traceback" not in result.stderr
