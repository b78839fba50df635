"""A redacted bundle: what it hides is nowhere in it, it shows "[redacted: reason]" instead, and its
events still verify (by `incidents verify` and by VERIFY.txt's procedure) from field digests, with
the same leaves as the same events disclosed unredacted."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from incidents.evidence import signing
from incidents.evidence.bundle import CSV, EVENTS, MANIFEST, PDF, VERIFY, build_bundle
from incidents.evidence.canonical import canonical
from incidents.evidence.material import EvidenceError, Redaction
from incidents.evidence.sample import sample_material
from incidents.evidence.verify import verify_bundle

from tests.conftest import BIN

from .evidence_helpers import position, read_zip, resum, write_zip
from .test_verify_with_standard_tools import stranger_checks

HIDDEN_TEXT = "Zoë asked them to stop"
THIRD_PARTY = "A third party's words"
ANOTHER_PATIENT = "Another patient"


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return signing.generate()


@pytest.fixture(scope="module")
def material():
    """Two incidents; the words to hide are only in the first."""
    m = sample_material(events=6, incidents=2)
    second = m.incidents[1]
    reported = replace(second.events[0], note="A visitor filmed the car park from the door.")
    return replace(m, incidents=(m.incidents[0], replace(second, events=(reported, *second.events[1:]))))


@pytest.fixture(scope="module")
def redacted(material):
    return replace(material, redactions=(
        Redaction("INC-0001", ANOTHER_PATIENT, fact="Who was filming"),
        Redaction("INC-0001", THIRD_PARTY, sequence=1, text=HIDDEN_TEXT),
    ))  # fmt: skip


@pytest.fixture(scope="module")
def files(redacted, key, tmp_path_factory) -> dict[str, bytes]:
    return read_zip(build_bundle(redacted, key).write(tmp_path_factory.mktemp("redacted") / "bundle.zip"))


def events_of(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return json.loads(files[EVENTS])["events"]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def incidents_verify(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "incidents"), "verify", str(path)], cwd=path.parent, capture_output=True, text=True, timeout=60)


def test_a_redacted_bundle_verifies_with_our_software_and_with_standard_tools(files, tmp_path):
    path = write_zip(tmp_path / "b.zip", files)
    assert verify_bundle(path) == []
    cli = incidents_verify(path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "2 field(s) redacted for this disclosure" in cli.stdout
    if shutil.which("openssl") and shutil.which("sha256sum"):
        *_, leaves = stranger_checks(files, tmp_path / "unpacked")
        assert leaves.returncode == 0, leaves.stdout + leaves.stderr


def test_what_is_redacted_is_nowhere_in_the_bundle(files, material):
    reported = material.incidents[0].events[0]
    assert HIDDEN_TEXT in reported.note  # the sample has it, so its absence below means something
    everything = b"".join(files.values())
    assert HIDDEN_TEXT.encode() not in everything
    assert json.dumps(HIDDEN_TEXT)[1:-1].encode() not in everything
    assert HIDDEN_TEXT not in pdf_text(files[PDF])
    # The fact's value stays in the other incident, which nothing redacts.
    assert [e["details"][1]["value"] for e in events_of(files) if e["sequence"] == 1] == ["[redacted: Another patient]", "A patient"]


def test_the_pdf_csv_and_json_show_the_reason_in_its_place(files):
    marker, fact_marker = f"[redacted: {THIRD_PARTY}]", f"[redacted: {ANOTHER_PATIENT}]"
    first = events_of(files)[0]
    assert first["note"] == f"A patient filmed the reception desk on a phone; {marker}."
    assert first["details"][1] == {"label": "Who was filming", "value": fact_marker}
    assert json.loads(files[EVENTS])["incidents"][0]["facts"][1] == {"label": "Who was filming", "value": fact_marker}
    row = next(csv.DictReader(io.StringIO(files[CSV].decode("utf-8-sig"))))
    assert marker in row["note"] and fact_marker in row["details"]
    text = pdf_text(files[PDF])
    assert marker in text and fact_marker in text
    assert "Redacted Another patient: the fact “Who was filming” of incident INC-0001" in text  # on the first page
    assert f"Redacted {THIRD_PARTY}: words in entry #1 of incident INC-0001" in text
    manifest = json.loads(files[MANIFEST])
    assert manifest["redactions"] == [
        {"incident_id": "INC-0001", "fact": "Who was filming", "sequence": None, "reason": ANOTHER_PATIENT},
        {"incident_id": "INC-0001", "fact": None, "sequence": 1, "reason": THIRD_PARTY},
    ]


def test_a_redacted_field_is_given_by_its_digest_alone(files):
    disclosure = events_of(files)[0]["disclosure"]
    assert sorted(disclosure["redacted"]) == ["details.1.value", "note"]
    assert not set(disclosure["redacted"]) & set(disclosure["salts"])
    assert "details.0.value" in disclosure["salts"] and "who.username" in disclosure["salts"]


def test_the_same_events_unredacted_later_have_the_same_leaves_and_root(files, material, key, tmp_path):
    later = read_zip(build_bundle(replace(material, exported_at=material.exported_at.replace(year=2027)), key).write(tmp_path / "court.zip"))
    redacted_manifest, court_manifest = json.loads(files[MANIFEST]), json.loads(later[MANIFEST])
    assert court_manifest["events"] == redacted_manifest["events"]
    assert court_manifest["merkle"]["root"] == redacted_manifest["merkle"]["root"]
    court_first = events_of(later)[0]
    assert HIDDEN_TEXT in court_first["note"] and court_first["disclosure"]["redacted"] == {}


def test_another_deployments_key_gives_other_salts_and_the_secret_is_not_in_the_bundle(files, redacted, key, tmp_path):
    other = read_zip(build_bundle(redacted, signing.generate()).write(tmp_path / "other.zip"))
    assert events_of(other)[0]["disclosure"]["salts"] != events_of(files)[0]["disclosure"]["salts"]
    secret = key.salt_secret()
    everything = b"".join(files.values())
    assert secret not in everything and secret.hex().encode() not in everything


def test_a_redaction_needs_a_reason_and_one_thing_to_hide():
    with pytest.raises(EvidenceError):
        Redaction("INC-0001", " ", fact="Who was filming")
    with pytest.raises(EvidenceError):
        Redaction("INC-0001", "Why", fact="Who was filming", sequence=1, text="both")
    with pytest.raises(EvidenceError):
        Redaction("INC-0001", "Why", text="no event named")


# Tampering: `incidents verify` and the stranger's procedure both catch each case ----------------


def _change_redacted_digest(events: list[dict[str, Any]]) -> None:
    redacted = events[0]["disclosure"]["redacted"]
    redacted["note"] = ("0" if redacted["note"][0] != "0" else "1") + redacted["note"][1:]


def _remove_a_salt(events: list[dict[str, Any]]) -> None:
    del events[0]["disclosure"]["salts"]["details.0.value"]


def _show_other_words_in_a_redacted_field(events: list[dict[str, Any]]) -> None:
    events[0]["note"] = "A patient filmed the reception desk on a phone and apologised."


def _swap_two_events(events: list[dict[str, Any]]) -> None:
    i = position(events, "INC-0001", 2)
    events[i], events[i + 1] = events[i + 1], events[i]


TAMPERING: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str, str]] = {
    "a redacted field's digest changed": (
        _change_redacted_digest,
        "events.json: incident INC-0001 event #1, at position 1, differs from the event the manifest lists",
        "event 1 (incident INC-0001 #1): its leaf hash is",
    ),
    "a salt removed": (
        _remove_a_salt,
        "events.json: incident INC-0001 event #1, at position 1: its field details.0.value has neither a salt nor a redacted digest",
        "event 1 (incident INC-0001 #1): cannot be checked: the field details.0.value has neither a salt nor a redacted digest",
    ),
    "two events swapped": (
        _swap_two_events,
        "events.json: incident INC-0001 event #3 is at position 2, where the manifest has incident INC-0001 event #2: events reordered",
        "event 2 (incident INC-0001 #3): manifest.json has incident INC-0001 #2 here",
    ),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_with_a_redacted_bundle_is_caught_by_both(files, tmp_path, case):
    change, ours, theirs = TAMPERING[case]
    tampered = dict(files)
    document = json.loads(files[EVENTS])
    change(document["events"])
    tampered[EVENTS] = canonical(document)
    resum(tampered)  # the forger's sums agree with the forger's files

    path = write_zip(tmp_path / "t.zip", tampered)
    problems = verify_bundle(path)
    assert any(p.startswith(ours) for p in problems), problems
    assert any(p.startswith("events.json: the Merkle root of its events is") for p in problems)
    cli = incidents_verify(path)
    assert cli.returncode == 1 and "NOT verified" in cli.stdout
    assert ours in " ".join(cli.stdout.split()), cli.stdout

    if not (shutil.which("openssl") and shutil.which("sha256sum")):
        pytest.skip("needs openssl and sha256sum")
    signature, sums, _, leaves = stranger_checks(tampered, tmp_path / "unpacked")
    assert sums.returncode == 0 and signature.returncode != 0  # the signature catches the rewritten sums...
    assert leaves.returncode != 0  # ...and the events themselves no longer match the manifest
    assert theirs in leaves.stdout, leaves.stdout
    assert "Every event and the Merkle root check out" not in leaves.stdout


# Through the application: redacted for the requester, then disclosed whole to a court -------------


def test_a_request_redacts_its_bundle_and_the_same_events_later_unredacted_keep_their_leaves(tmp_path, key):
    import uuid as uuid_

    from incidents.application import commands as c
    from incidents.application.disclosures import Redact, RemoveRedaction

    from .test_export_bundle_contract import GOVERNANCE, RECEPTION, incident, request_for

    from incidents.bootstrap import open_log
    from incidents.settings import Settings

    opened = open_log(Settings(data_dir=tmp_path / "data"))
    log = opened.log
    try:
        incident_id = incident(log)
        log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid_.uuid4().hex, text="Mrs Jones, another patient, was filmed too"), RECEPTION)
        request = request_for(log, incident_id)
        log.redact(Redact(request_id=request, target=f"entry:{incident_id}:2", text="Mrs Jones", reason="Another patient"), GOVERNANCE)
        log.redact(Redact(request_id=request, target=f"fact:{incident_id}:filmer", reason="Names who filmed"), GOVERNANCE)
        redacted = log.export_bundle(GOVERNANCE, request, key)
        redaction_ids = list(log.get_request(GOVERNANCE, request).redactions)
        for redaction_id in redaction_ids:
            log.remove_redaction(RemoveRedaction(request_id=request, redaction_id=redaction_id), GOVERNANCE)
        whole = log.export_bundle(GOVERNANCE, request, key)
    finally:
        log.close()
    redacted_path, whole_path = tmp_path / "redacted.zip", tmp_path / "whole.zip"
    redacted_path.write_bytes(redacted.zip_bytes)
    whole_path.write_bytes(whole.zip_bytes)
    assert verify_bundle(redacted_path, key.fingerprint()) == [] and verify_bundle(whole_path, key.fingerprint()) == []
    redacted_files, whole_files = read_zip(redacted_path), read_zip(whole_path)
    assert b"Mrs Jones" not in b"".join(redacted_files.values()) and b"Mrs Jones" in whole_files[EVENTS]
    note = events_of(redacted_files)[1]["note"]
    assert note == "[redacted: Another patient], another patient, was filmed too"
    assert events_of(redacted_files)[0]["details"][1]["value"] == "[redacted: Names who filmed]"
    assert json.loads(redacted_files[MANIFEST])["events"] == json.loads(whole_files[MANIFEST])["events"]
    assert redacted.merkle_root == whole.merkle_root


def test_a_redacted_field_showing_other_words_is_named(files, tmp_path):
    """Its digest alone still matches, so the leaf cannot tell; the signature does, and so does `incidents verify`."""
    tampered = dict(files)
    document = json.loads(files[EVENTS])
    _show_other_words_in_a_redacted_field(document["events"])
    tampered[EVENTS] = canonical(document)
    resum(tampered)
    problems = verify_bundle(write_zip(tmp_path / "t.zip", tampered))
    assert any(p.startswith("SHA256SUMS.sig does not verify") for p in problems)
    assert "events.json: incident INC-0001 event #1, at position 1: its field note is redacted but does not say so (no \"[redacted: \" in what it shows)" in problems
