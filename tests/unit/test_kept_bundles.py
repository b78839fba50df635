"""Exported bundles kept for downloading again: encrypted with the store's key, the owner's alone,
whole or not at all, and refused when the bytes are not those recorded; and the request naming
its bundles by the zip's SHA-256, as two bundles made in one second may share a manifest."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import date

import pytest

from incidents.application.disclosures import RecordDisclosure, RecordExport
from incidents.application.kept_bundles import BundleDamaged, BundleNotKept, BundleShelf
from incidents.domain.disclosure import UnknownBundle, request_label

from .conftest import receive
from .test_disclosure_requests import ready

ZIP = b"PK\x03\x04 Filming in the waiting room, Zo\xc3\xab" * 50


@pytest.fixture
def shelf(log, tmp_path) -> BundleShelf:
    return BundleShelf(log.mapper.cipher, tmp_path / "bundles")


def test_a_bundle_is_kept_encrypted_for_its_owner_alone_and_read_back_byte_for_byte(shelf):
    request_id = uuid.uuid4()
    before = os.umask(0o022)  # even where the process would make files others can read
    try:
        sha256 = shelf.keep(request_id, ZIP)
    finally:
        os.umask(before)
    assert sha256 == hashlib.sha256(ZIP).hexdigest()
    path = shelf.path(request_id, sha256)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert shelf.folder is not None and shelf.folder.stat().st_mode & 0o777 == 0o700
    assert b"Filming" not in path.read_bytes() and sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left
    assert shelf.read(request_id, sha256) == ZIP


def test_a_bundle_not_kept_or_not_the_one_recorded_is_refused(shelf):
    request_id = uuid.uuid4()
    with pytest.raises(BundleNotKept, match="before bundles were kept"):
        shelf.read(request_id, "")
    with pytest.raises(BundleNotKept, match="not kept on this server"):
        shelf.read(request_id, "ab" * 32)
    sha256 = shelf.keep(request_id, ZIP)
    other = shelf.keep(request_id, ZIP + b"!")
    os.replace(shelf.path(request_id, other), shelf.path(request_id, sha256))  # another bundle's bytes in its place
    with pytest.raises(BundleDamaged, match="SHA-256 differs"):
        shelf.read(request_id, sha256)
    shelf.path(request_id, sha256).write_bytes(b"\0" * 64)
    with pytest.raises(BundleDamaged, match="cannot be read"):
        shelf.read(request_id, sha256)


def test_a_request_s_bundles_are_removed_together_and_no_other_s(shelf):
    """A disclosure request disposed of takes its kept bundles with it."""
    disposed, other = uuid.uuid4(), uuid.uuid4()
    shelf.keep(disposed, b"first bundle")
    shelf.keep(disposed, b"second bundle")
    kept = shelf.keep(other, b"another request's bundle")
    assert shelf.discard_request(disposed) == 2
    assert not (shelf.folder / str(disposed)).exists()
    assert shelf.read(other, kept) == b"another request's bundle"
    assert shelf.discard_request(disposed) == 0


def test_in_memory_when_the_store_keeps_nothing(log):
    shelf = BundleShelf(log.mapper.cipher)
    request_id = uuid.uuid4()
    assert shelf.read(request_id, shelf.keep(request_id, ZIP)) == ZIP
    shelf.discard(request_id, hashlib.sha256(ZIP).hexdigest())
    with pytest.raises(BundleNotKept):
        shelf.read(request_id, hashlib.sha256(ZIP).hexdigest())


def test_two_bundles_sharing_a_manifest_are_told_apart_by_their_zips(log, governance_a, reception_a):
    request_id, incidents = ready(log, governance_a, reception_a)
    manifest, first, second = "ab" * 32, "01" * 32, "02" * 32
    log.record_export(RecordExport(request_id=request_id, fingerprint=manifest, zip_sha256=first), governance_a)
    log.record_export(RecordExport(request_id=request_id, fingerprint=manifest, zip_sha256=second), governance_a)
    request = log.get_request(governance_a, request_id)
    assert [(b.fingerprint, b.zip_sha256, b.incident_ids) for b in request.bundles] == [(manifest, first, tuple(incidents)), (manifest, second, tuple(incidents))]
    assert request.bundle(manifest).zip_sha256 == second  # by the manifest alone: the latest made with it
    with pytest.raises(UnknownBundle):
        request.bundle("cd" * 32)
    log.record_disclosure(RecordDisclosure(request_id=request_id, fingerprint=first, note=""), governance_a)
    request = log.get_request(governance_a, request_id)
    assert (request.disclosed_fingerprint, request.disclosed_zip_sha256) == (manifest, first)


def test_a_request_is_named_by_its_short_reference_or_else_the_requester_s_in_one_line_and_briefly(log, governance_a):
    request = log.get_request(governance_a, receive(log, governance_a, received_on=date(2026, 1, 3)))
    assert request_label(request) == f"D-{log.references.year()}-0001"
    request.ref = ""  # as a request received before there were short references
    assert request_label(request) == "SAR/2026/01"
    request.reference = "  KB-2026-000123 \n Riverside v Example, Leeds County Court, claim 42"
    assert request_label(request) == "KB-2026-000123 Riverside v Example, Lee…" and len(request_label(request)) == 40
