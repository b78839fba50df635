"""Disposal by destroying a record's key (crypto-shredding), through HTTP on SQLite: governance
carries out a disposal decided; after it no file of the data folder (the event store, its
write-ahead log, every view's file) holds the record's words, its NHS number in any format or
its clinician's name; the record's page says it was disposed of (410); the store still verifies
against its signed checkpoints and says which record was disposed of; a legal hold blocks it."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.mapping import DisposedRecordEvent
from incidents.settings import Settings
from incidents.domain.acting import recorded_as_of
from tests.conftest import BIN, wait_until
from tests.web.conftest import PASSWORD
from tests.web.test_retention_web import post

# Unique, so that finding none of them in the files means something.
NOTE = "Zorblaxian quintessence flummoxed the hippogriff"
CLINICIAN = "Dr Wolfgang Quetzalcoatl-Pemberton"
NHS_NUMBER = "9434765919"
FORMS = (NHS_NUMBER, "943 476 5919", "943-476-5919")


def old_recording(web_app, note: str = NOTE, clinician: str = CLINICIAN, nhs_number: str = NHS_NUMBER, years: int = 11) -> str:
    log = web_app.state.log
    actor, _ = log.authenticate("sue.reception", PASSWORD)
    then = datetime.now(timezone.utc) - timedelta(days=365 * years + 10)
    with recorded_as_of(then + timedelta(minutes=5)):
        saved = log.report_recording(
            c.ReportRecording(
                submission_key=uuid.uuid4().hex, occurred_at=then, clinician=clinician, setting="consulting_room",
                openness="announced", media="audio", nhs_number=nhs_number, note=note,
            ),
            actor,
        )
    return str(saved.id)


def everything_in(folder: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def found_in(files: dict[str, bytes], *texts: str) -> list[tuple[str, str]]:
    return [(name, text) for name, data in files.items() for text in texts if text.encode() in data or text.encode("utf-16-le") in data]


def decide_disposal(governance, record: str) -> None:
    page = f"/retention/{record}"
    done = post(governance, f"{page}/dispose", page, reason="Past its period, no claim open", authorised_by="Dr Shah, Caldicott Guardian")
    assert done.status_code == 303, done.text


def test_a_disposed_record_leaves_nothing_readable_in_the_data_folder(web_app, client_for, settings):
    record = old_recording(web_app)
    other = old_recording(web_app, note="Kept record mentions Brobdingnagian teacups", clinician="Dr Kept Tennyson", nhs_number="4010232137")
    governance = client_for("gill.governance")
    assert NOTE in governance.get(f"/incidents/{record}").text
    assert f"/incidents/{record}" in governance.get("/incidents", params={"q": "Zorblaxian"}).text  # in the search index
    key = web_app.state.log.mapper.cipher.record_keys._backend.select(uuid.UUID(record))
    assert key is not None
    before = everything_in(settings.data_dir)
    assert found_in(before, "Quetzalcoatl")  # the views hold the clinician's name: the test can find it

    decide_disposal(governance, record)
    page = f"/retention/{record}"
    erased = post(governance, f"{page}/erase", page)
    assert erased.status_code == 303 and erased.headers["location"] == f"{page}?saved=erased"
    shown = governance.get(erased.headers["location"]).text
    assert "The record is disposed of" in shown and "Disposed of" in shown and "Dr Shah, Caldicott Guardian" in shown
    assert "Download the disposal certificate" in shown
    assert "Review: keep the record" not in shown and "Place a legal hold" not in shown and "Due for review" not in shown

    gone = governance.get(f"/incidents/{record}")
    assert gone.status_code == 410
    assert "was disposed of" in gone.text and "authorised by Dr Shah, Caldicott Guardian" in gone.text
    assert f"/incidents/{record}" not in governance.get("/incidents", params={"q": "Zorblaxian"}).text
    assert f"/incidents/{record}" not in governance.get("/incidents").text
    assert client_for("mo.manager").get(f"/incidents/{record}").status_code == 410
    assert client_for("mo.manager").get("/dashboard").status_code == 200

    wait_until(lambda: not found_in(everything_in(settings.data_dir), "Zorblaxian"), timeout=10)  # the views follow the disposal
    files = everything_in(settings.data_dir)
    assert not found_in(files, NOTE, "Zorblaxian", "hippogriff", CLINICIAN, "Quetzalcoatl", *FORMS)
    assert not found_in(files, key[1].hex()) and not any(key[1] in data for data in files.values())  # nor its wrapped key
    assert found_in(files, "Dr Kept Tennyson") and found_in(files, "Brobdingnagian")  # the other record is untouched

    again = post(governance, f"{page}/erase", page)  # sent twice: nothing more to do
    assert again.status_code == 303


def test_a_legal_hold_blocks_disposal_and_only_governance_may_carry_it_out(web_app, client_for):
    record = old_recording(web_app)
    governance = client_for("gill.governance")
    page = f"/retention/{record}"
    not_decided = post(governance, f"{page}/erase", page)
    assert not_decided.status_code == 409 and "There is a problem" in not_decided.text and "a review must decide it first" in not_decided.text
    decide_disposal(governance, record)
    assert "Destroy the record&#39;s key" in governance.get(page).text or "Destroy the record's key" in governance.get(page).text
    post(governance, f"{page}/hold", page, reason="claim", text="Letter of claim")
    assert "Destroy the record" not in governance.get(page).text
    held = post(governance, f"{page}/erase", page)
    assert held.status_code == 409 and "There is a problem" in held.text and "under legal hold for a claim" in held.text
    assert governance.get(f"/incidents/{record}").status_code == 200
    for who in ("sue.reception", "mo.manager"):
        client = client_for(who)
        refused = client.post(f"{page}/erase", data={"csrf_token": "x"})
        assert refused.status_code in (403, 400), who
    assert governance.get(f"/incidents/{record}").status_code == 200


def cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    env.update(INCIDENTS_DATA_DIR=str(settings.data_dir), INCIDENTS_PRACTICE="A81001")
    return subprocess.run([str(BIN / "incidents"), *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_store_verifies_after_a_disposal_and_after_both_key_rotations_and_names_the_disposal(web_app, client_for, settings):
    record, kept = old_recording(web_app), old_recording(web_app, note="Kept after rotations", clinician="Dr Kept", nhs_number="4010232137")
    governance = client_for("gill.governance")
    decide_disposal(governance, record)
    assert post(governance, f"/retention/{record}/erase", f"/retention/{record}").status_code == 303
    ref = web_app.state.log.disposals()[0].ref
    for stop in web_app.state.on_shutdown:  # the app stops, as a rotation needs
        stop()
    web_app.state.on_shutdown = []
    web_app.state.log.close()

    assert cli(settings, "checkpoint").returncode == 0
    for step in ((), ("keys", "rotate"), ("keys", "rotate-signing")):
        if step:
            rotated = cli(settings, *step)
            assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        assert cli(settings, "checkpoint").returncode == 0
        verified = cli(settings, "verify-store")
        out = " ".join(verified.stdout.split())
        assert verified.returncode == 0 and out.startswith("verified "), (step, verified.stdout + verified.stderr)
        assert "1 record(s) disposed of" in out
        assert f"- {ref} (" in out and "authorised by Dr Shah, Caldicott Guardian: Past its period, no claim open" in out

    # A rebuild of the views passes over the disposed record's events quietly: none set aside.
    rebuilt = cli(settings, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    set_aside = cli(settings, "projections", "quarantine")
    assert "No view has set aside any event." in set_aside.stdout, set_aside.stdout + set_aside.stderr
    assert not found_in(everything_in(settings.data_dir), NOTE, CLINICIAN, *FORMS)
    assert found_in(everything_in(settings.data_dir), "Kept after rotations")

    # The record kept is still read, with the rewrapped key, after both rotations.
    opened = open_log(settings)
    try:
        assert next(iter(opened.log.events.get(uuid.UUID(kept)))).note == "Kept after rotations"
        assert opened.log.mapper.cipher.record_keys.count() == 1
    finally:
        opened.log.close()


def test_the_disposal_certificate_says_what_was_destroyed_and_on_whose_authority(web_app, client_for, tmp_path):
    record = old_recording(web_app)
    governance = client_for("gill.governance")
    page = f"/retention/{record}"
    assert governance.get(f"{page}/certificate.pdf").status_code == 404  # not disposed of yet
    decide_disposal(governance, record)
    post(governance, f"{page}/erase", page)
    ref = web_app.state.log.disposals()[0].ref
    pdf = governance.get(f"{page}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert f'filename="disposal-{ref}.pdf"' in pdf.headers["content-disposition"]
    (tmp_path / "c.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for expected in (f"The record {ref} was disposed of on", "Past its period, no claim open", "Dr Shah, Caldicott Guardian", "Gill", record):
        assert expected in flat, expected
    assert "Zorblaxian" not in flat and CLINICIAN not in flat
    assert client_for("mo.manager").get(f"{page}/certificate.pdf").status_code == 403


def test_a_restore_of_a_backup_taken_before_a_disposal_does_not_bring_the_record_back(web_app, client_for, settings, tmp_path):
    record = old_recording(web_app)
    kept = old_recording(web_app, note="Kept across the restore", clinician="Dr Kept Restored", nhs_number="4010232137")
    backup = tmp_path / "backup"
    made = cli(settings, "backup", str(backup))
    assert made.returncode == 0, made.stdout + made.stderr
    governance = client_for("gill.governance")
    decide_disposal(governance, record)
    assert post(governance, f"/retention/{record}/erase", f"/retention/{record}").status_code == 303
    register = settings.data_dir / "disposed-records"
    assert register.read_text().startswith(f"{record} ")  # kept beside the key, never in the store
    assert "Quetzalcoatl" not in register.read_text() and NOTE not in register.read_text()

    # The disk is lost; the key folder (the keys and the register) is put back, then the backup restored.
    target = Settings(data_dir=tmp_path / "restored", practice="A81001")
    target.data_dir.mkdir(mode=0o700)
    for name in ("cipher.key", "patient-index.key", "disposed-records"):
        if (settings.data_dir / name).exists():
            (target.data_dir / name).write_bytes((settings.data_dir / name).read_bytes())
    restored = cli(target, "restore", str(backup))
    out = " ".join(restored.stdout.split())
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "1 record(s) disposed of since the backup, or in it, had their keys destroyed again" in out

    opened = open_log(target)
    try:
        with pytest.raises(DisposedRecordEvent):
            opened.log.repository.get(uuid.UUID(record))
        assert next(iter(opened.log.events.get(uuid.UUID(kept)))).note == "Kept across the restore"
    finally:
        opened.log.close()
    files = everything_in(target.data_dir)
    assert not found_in(files, NOTE, "Zorblaxian", CLINICIAN, "Quetzalcoatl", *FORMS)
    assert found_in(files, "Dr Kept Restored")  # the views were rebuilt, with the other record
    assert cli(target, "checkpoint").returncode == 0
    verified = cli(target, "verify-store")
    assert verified.returncode == 0, verified.stdout + verified.stderr
