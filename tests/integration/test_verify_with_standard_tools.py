"""A stranger checks a bundle as VERIFY.txt says, with openssl, sha256sum and python3 alone."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from incidents.evidence import signing
from incidents.evidence.bundle import CSV, MANIFEST, PDF, SIGNATURE, SUMS, VERIFY, build_bundle
from incidents.evidence.sample import sample_material

from .evidence_helpers import flip_byte, resum

pytestmark = pytest.mark.skipif(
    not (shutil.which("openssl") and shutil.which("sha256sum")), reason="needs openssl and sha256sum"
)


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return signing.generate()


@pytest.fixture(scope="module")
def files(key) -> dict[str, bytes]:
    bundle = build_bundle(sample_material(events=6), key)
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def unpack(files: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def commands_in(verify_txt: str) -> list[str]:
    """The commands VERIFY.txt tells the reader to run, in order."""
    return [line.strip() for line in verify_txt.splitlines() if re.match(r"^\s{5}(openssl|sha256sum|python3) ", line)]


def leaf_script(verify_txt: str) -> str:
    """The program VERIFY.txt gives between its marks, as the reader saves it."""
    match = re.search(r"^----- (\S+) -----\n(.*?)^----- end of \1 -----$", verify_txt, re.S | re.M)
    assert match and match.group(1) == "check-leaves.py"
    return match.group(2)


def stranger_checks(files: dict[str, bytes], folder: Path) -> list[subprocess.CompletedProcess]:
    """Every step of VERIFY.txt, run in the unpacked folder with the program saved as it says."""
    folder = unpack(files, folder)
    (folder / "check-leaves.py").write_text(leaf_script(files[VERIFY].decode()))
    return [run(c, folder) for c in commands_in(files[VERIFY].decode())]


def run(command: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=30)


def test_verify_txt_names_the_standard_commands(files):
    commands = commands_in(files[VERIFY].decode())
    assert commands == [
        "openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig",
        "sha256sum -c SHA256SUMS",
        "openssl pkey -pubin -in public-key.pem -outform DER | sha256sum",
        "python3 check-leaves.py",
    ]


def test_this_machines_openssl_verifies_raw_ed25519_signatures(tmp_path):
    key = signing.generate()
    (tmp_path / "key.pem").write_bytes(key.public_pem())
    (tmp_path / "data").write_bytes(b"some bytes\n")
    (tmp_path / "data.sig").write_bytes(key.sign(b"some bytes\n"))
    result = run("openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in data -sigfile data.sig", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_a_fresh_bundle_passes_every_step_and_the_fingerprint_matches(files, key, tmp_path):
    signature, sums, fingerprint, leaves = stranger_checks(files, tmp_path / "bundle")
    assert signature.returncode == 0 and "Signature Verified Successfully" in signature.stdout, signature.stderr
    assert sums.returncode == 0, sums.stdout
    assert sums.stdout.count(": OK") == 6
    digest = fingerprint.stdout.split()[0]
    assert signing.normalise_fingerprint(digest) == key.fingerprint()
    assert key.fingerprint() in files[VERIFY].decode()
    assert json.loads(files[MANIFEST])["public_key"]["fingerprint"] == key.fingerprint()
    assert leaves.returncode == 0, leaves.stdout + leaves.stderr
    assert leaves.stdout.strip() == "Every event and the Merkle root check out"


@pytest.mark.parametrize("name", [PDF, CSV, MANIFEST])
def test_a_changed_file_fails_sha256sum(files, tmp_path, name):
    tampered = {**files, name: flip_byte(files[name])}
    folder = unpack(tampered, tmp_path / "bundle")
    signature, sums, *_ = (run(c, folder) for c in commands_in(files[VERIFY].decode()))
    assert signature.returncode == 0  # the list itself is untouched
    assert sums.returncode != 0
    assert f"{name}: FAILED" in sums.stdout


def test_a_changed_file_with_sha256sums_rewritten_fails_the_signature(files, tmp_path):
    tampered = dict(files)
    tampered[CSV] = files[CSV].replace("Łukasz".encode(), b"Lukasz")
    resum(tampered)
    folder = unpack(tampered, tmp_path / "bundle")
    signature, sums, *_ = (run(c, folder) for c in commands_in(files[VERIFY].decode()))
    assert sums.returncode == 0  # the forger's sums agree with the forger's files...
    assert signature.returncode != 0  # ...but the practice's signature does not cover them
    assert "Signature Verified Successfully" not in signature.stdout


def test_a_damaged_signature_fails(files, tmp_path):
    folder = unpack({**files, SIGNATURE: flip_byte(files[SIGNATURE])}, tmp_path / "bundle")
    assert run(commands_in(files[VERIFY].decode())[0], folder).returncode != 0


def test_a_swapped_key_passes_the_tools_but_not_the_fingerprint_comparison(files, key, tmp_path):
    forger = signing.generate()
    tampered = dict(files)
    tampered["public-key.pem"] = forger.public_pem()
    resum(tampered)
    tampered[SIGNATURE] = forger.sign(tampered[SUMS])
    folder = unpack(tampered, tmp_path / "bundle")
    signature, sums, fingerprint, _ = (run(c, folder) for c in commands_in(files[VERIFY].decode()))
    assert signature.returncode == 0 and sums.returncode == 0
    assert signing.normalise_fingerprint(fingerprint.stdout.split()[0]) != key.fingerprint()
