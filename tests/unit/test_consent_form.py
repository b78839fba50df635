"""The printable consent form for a recording the practice makes: its words come from the record,
it always carries the right to withdraw and a signature block, and what staff typed is text,
never Typst markup."""

from __future__ import annotations

import subprocess
from datetime import date

from incidents.domain.acting import acting_as
from incidents.domain.practice_recording import PracticeRecording
from incidents.evidence.consent_form import consent_form_pdf


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "consent.pdf"
    path.write_bytes(pdf)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split())


def test_the_form_says_what_was_agreed_the_right_to_withdraw_and_where_to_sign(tmp_path):
    with acting_as("sue.reception"):
        recording = PracticeRecording.make("A81001", "k" * 16, "9434765919", "Dr Ann Registrar", date(2026, 3, 10), "audit", "audio", ref="P-2026-0007")
        recording.give_consent("oral", "Nurse Jones", date(2026, 3, 10), ["audit"], ["auditors"], '#set text(fill: red) ] "quoted" \\ only', date(2027, 3, 10))
    text = text_of(consent_form_pdf(recording, "Riverside Surgery"), tmp_path)
    for words in ("Your consent to an audio recording", "Riverside Surgery", "Reference P-2026-0007", "NHS number 943 476 5919", "The practice's clinical auditors",
                  '#set text(fill: red) ] "quoted" \\ only', "Until 10 March 2027", "withdraw your consent altogether", "quoting reference P-2026-0007",
                  "Patient's signature", "Witness's signature", "Clinician's signature"):
        assert words in text, words
    assert "Clinicians caring for the patient" not in text  # only the audiences agreed to


def test_before_consent_the_form_offers_every_audience_to_cross_out(tmp_path):
    with acting_as("sue.reception"):
        recording = PracticeRecording.make("A81001", "k" * 16, "9434765919", "Dr Ann Registrar", date(2026, 3, 10), "training", "video", ref="P-2026-0008")
    text = text_of(consent_form_pdf(recording, "A81001"), tmp_path)
    assert "Your consent to a video recording" in text and "Clinicians caring for the patient" in text and "Until the date written here" in text
