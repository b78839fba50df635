"""A bundle says which of its records is under legal hold (its kind of reason and since when,
never the hold's own text), in events.json and in the PDF, and still verifies; on a SQLite file
and on PostgreSQL."""

from __future__ import annotations

import json
import subprocess

from incidents.application.retention import LiftHold, PlaceHold
from incidents.evidence import verify_bundle

from .test_export_bundle_contract import GOVERNANCE, files, incident, key, log, request_for  # noqa: F401 (fixtures)


def facts(bundle) -> dict[str, dict[str, str]]:
    shown = json.loads(files(bundle.zip_bytes)["events.json"])
    return {i["id"]: {f["label"]: f["value"] for f in i["facts"]} for i in shown["incidents"]}


def test_a_held_record_is_marked_in_its_bundle(log, key, tmp_path):  # noqa: F811
    held, free = incident(log), incident(log)
    log.place_hold(PlaceHold(record_id=held, reason="claim", text="Letter of claim from Smith & Co"), GOVERNANCE)
    request = request_for(log, held, free)
    bundle = log.export_bundle(GOVERNANCE, request, key)
    path = tmp_path / bundle.filename
    path.write_bytes(bundle.zip_bytes)
    assert verify_bundle(path, expected_fingerprint=key.fingerprint()) == []
    shown = facts(bundle)
    assert shown[str(held)]["Legal hold"].startswith("Under legal hold since ") and "(a claim)" in shown[str(held)]["Legal hold"]
    assert "Legal hold" not in shown[str(free)]
    assert b"Smith" not in b"".join(files(bundle.zip_bytes).values())
    pdf_name = next(name for name in files(bundle.zip_bytes) if name.endswith(".pdf"))
    (tmp_path / "bundle.pdf").write_bytes(files(bundle.zip_bytes)[pdf_name])
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "bundle.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "Legal hold" in text and "Under legal hold since" in text

    log.lift_hold(LiftHold(record_id=held, reason="Claim withdrawn"), GOVERNANCE)
    assert "Legal hold" not in facts(log.export_bundle(GOVERNANCE, request, key))[str(held)]
