"""Check an evidence bundle offline, and name precisely what is wrong with it.

The checks a stranger makes with openssl and sha256sum (the signature over SHA256SUMS, each
file's sum), then each event's leaf hash, recomputed from its fields' salts and values and its
redacted fields' digests, against the manifest, the Merkle root, and the order of the events,
so that an altered, dropped, reordered or inserted event is named by its incident and sequence
number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import merkle, selective
from .bundle import ALL_FILES, CSV, EVENTS, MANIFEST, PDF, PUBLIC_KEY, SIGNATURE, SUMMED_FILES, SUMS
from .canonical import canonical, parse
from .signing import fingerprint, load_public_pem, normalise_fingerprint, signature_valid

MOST = 20  # of one kind of problem, named one by one
SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""
    merkle_root: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)
    event_count: int = 0
    redacted_fields: int = 0  # withheld from this disclosure, each checked by its digest alone

    @property
    def ok(self) -> bool:
        return not self.problems


def read_files(path: Path) -> dict[str, bytes]:
    """The bundle's files by name, from the zip or from the folder it was unpacked into."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def _names_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def verify_bundle(path: Path | str, expected_fingerprint: str | None = None) -> list[str]:
    """Every problem found with the bundle at path (a zip or an unpacked folder); [] if none."""
    return check_bundle(Path(path), expected_fingerprint).problems


def check_bundle(path: Path, expected_fingerprint: str | None = None) -> Verification:
    result = Verification()
    try:
        files = read_files(path)
        names = [] if path.is_dir() else _names_in(path)
    except (OSError, zipfile.BadZipFile) as error:
        result.problems.append(f"{path} cannot be read as a bundle: {error}")
        return result
    for name, count in Counter(names).items():
        if count > 1:  # unzip tools differ on which copy they keep
            result.problems.append(f"{name} appears {count} times in the zip")
    _check_names(files, result)
    _check_signature(files, result, expected_fingerprint)
    _check_sums(files, result)
    manifest = _json(files, MANIFEST, result, must_be_canonical=False)
    document = _json(files, EVENTS, result, must_be_canonical=True)
    if manifest is not None:
        _read_manifest(manifest, result)
    if manifest is not None and document is not None:
        _check_events(manifest, document, result)
        _check_request(manifest, document, result)
    if document is not None and CSV in files:
        _check_csv(files[CSV], document, result)
    if PDF in files and not files[PDF].startswith(b"%PDF-"):
        result.problems.append(f"{PDF} is not a PDF file")
    return result


def _check_names(files: dict[str, bytes], result: Verification) -> None:
    for name in ALL_FILES:
        if name not in files:
            result.problems.append(f"{name} is missing from the bundle")
    for name in files:
        if name not in ALL_FILES:
            result.problems.append(f"{name} is an extra file: it is not part of a bundle, and no signature covers it")


def _check_signature(files: dict[str, bytes], result: Verification, expected: str | None) -> None:
    if PUBLIC_KEY not in files:
        return
    try:
        public = load_public_pem(files[PUBLIC_KEY])
    except ValueError as error:
        result.problems.append(f"{PUBLIC_KEY} is not an Ed25519 public key in PEM form ({error})")
        return
    result.fingerprint = fingerprint(public)
    if SUMS in files and SIGNATURE in files and not signature_valid(public, files[SIGNATURE], files[SUMS]):
        result.problems.append(
            f"{SIGNATURE} does not verify: {SUMS} (or the signature) was changed after the bundle was signed, "
            f"or it was signed by another key than {PUBLIC_KEY}"
        )
    if expected is None:
        result.notes.append(
            f"The signing key ({result.fingerprint}) was not compared with the practice's own copy of its "
            "fingerprint: give --fingerprint to do so"
        )
        return
    try:
        wanted = normalise_fingerprint(expected)
    except ValueError as error:
        result.problems.append(str(error))
        return
    if wanted != result.fingerprint:
        result.problems.append(
            f"The bundle is signed by the key with fingerprint {result.fingerprint}, not the practice's key {wanted}"
        )


def _check_sums(files: dict[str, bytes], result: Verification) -> None:
    if SUMS not in files:
        return
    listed: dict[str, str] = {}
    try:
        lines = files[SUMS].decode("utf-8").splitlines()
    except UnicodeDecodeError:
        result.problems.append(f"{SUMS} is not text")
        return
    for number, line in enumerate(lines, start=1):
        match = SUM_LINE.match(line)
        if not match:
            result.problems.append(f"{SUMS} line {number} is not '<sha256>  <file name>': {line[:80]!r}")
            continue
        listed[match.group(2)] = match.group(1)
    for name, expected in listed.items():
        if name in (SUMS, SIGNATURE) or name not in SUMMED_FILES:
            result.problems.append(f"{SUMS} lists {name}, which is not a file it should list")
        elif name not in files:
            result.problems.append(f"{SUMS} lists {name}, which is missing from the bundle")
        else:
            actual = hashlib.sha256(files[name]).hexdigest()
            if actual != expected:
                result.problems.append(f"{name} has been altered: its SHA-256 is {actual}, but {SUMS} says {expected}")
    for name in SUMMED_FILES:
        if name in files and name not in listed:
            result.problems.append(f"{name} is not listed in {SUMS}, so nothing vouches for it")


def _json(files: dict[str, bytes], name: str, result: Verification, must_be_canonical: bool) -> Any:
    if name not in files:
        return None
    try:
        value = parse(files[name])
    except (ValueError, UnicodeDecodeError) as error:
        result.problems.append(f"{name} cannot be read as JSON: {error}")
        return None
    if not isinstance(value, dict):
        result.problems.append(f"{name} is not a JSON object")
        return None
    if must_be_canonical and canonical(value) != files[name]:
        result.problems.append(f"{name} is not in RFC 8785 canonical form, as the bundle wrote it")
    return value


def _read_manifest(manifest: dict[str, Any], result: Verification) -> None:
    try:
        stated = manifest["public_key"]["fingerprint"]
        result.merkle_root = manifest["merkle"]["root"]
        result.request = manifest["request"]
        result.incidents = list(manifest["scope"]["incidents"])
    except (KeyError, TypeError) as error:
        result.problems.append(f"{MANIFEST} lacks {error}")
        return
    if result.fingerprint and stated != result.fingerprint:
        result.problems.append(
            f"{MANIFEST} names the key {stated}, but {PUBLIC_KEY} is the key {result.fingerprint}"
        )


def _label(key: tuple[str, int]) -> str:
    return f"incident {key[0]} event #{key[1]}"


def _check_events(manifest: dict[str, Any], document: dict[str, Any], result: Verification) -> None:
    try:
        listed = [((e["incident_id"], e["sequence"]), e["leaf_hash"]) for e in manifest["events"]]
        stated_root = manifest["merkle"]["root"]
        events = document["events"]
        found = [((e["incident_id"], e["sequence"]), _leaf(e, position, result)) for position, e in enumerate(events, start=1)]
    except (KeyError, TypeError, AttributeError) as error:
        result.problems.append(f"{EVENTS} or {MANIFEST} lacks an event's {error}")
        return
    result.event_count = len(found)
    result.redacted_fields = sum(len((e.get(selective.DISCLOSURE) or {}).get("redacted") or {}) for e in events)
    listed_hash = dict(listed)
    found_keys = [k for k, _ in found]
    counts = Counter(found_keys)
    for key, count in counts.items():
        if count > 1:
            result.problems.append(f"{EVENTS}: {_label(key)} appears {count} times")
    for key, _ in listed:
        if key not in counts:
            result.problems.append(f"{EVENTS}: {_label(key)} is missing (the manifest lists it): an event was dropped")
    for position, (key, leaf) in enumerate(found, start=1):
        if key not in listed_hash:
            result.problems.append(
                f"{EVENTS}: {_label(key)}, at position {position}, is not in the manifest: an inserted event"
            )
        elif leaf and leaf.hex() != listed_hash[key]:
            result.problems.append(
                f"{EVENTS}: {_label(key)}, at position {position}, differs from the event the manifest lists "
                "(its hash does not match): altered or forged"
            )
    listed_keys = [k for k, _ in listed]
    if counts == Counter(listed_keys) and found_keys != listed_keys:
        _name_moved(found_keys, listed_keys, result)
    else:
        _check_order(found_keys, EVENTS, result)
    _check_order([k for k, _ in listed], MANIFEST, result)
    _check_gaps([k for k, _ in listed], result)
    try:
        tree_of_manifest = merkle.root_from_leaf_hashes([bytes.fromhex(h) for _, h in listed]).hex()
    except ValueError:
        result.problems.append(f"{MANIFEST} has a leaf hash that is not hex")
        return
    if tree_of_manifest != stated_root:
        result.problems.append(f"{MANIFEST}: the Merkle root {stated_root} is not the root of its own leaf hashes ({tree_of_manifest})")
    tree_of_events = merkle.root_from_leaf_hashes([leaf for _, leaf in found]).hex()
    if tree_of_events != stated_root:
        result.problems.append(f"{EVENTS}: the Merkle root of its events is {tree_of_events}, not the manifest's {stated_root}")


def _leaf(event: dict[str, Any], position: int, result: Verification) -> bytes:
    """The event's leaf hash from its fields; one that cannot be recomputed is named, and counts as
    no leaf (so the root does not match either)."""
    try:
        return selective.leaf_from(event, canonical)
    except selective.Unchecked as error:
        result.problems.append(f"{EVENTS}: {_label((event['incident_id'], event['sequence']))}, at position {position}: {error}")
        return b""


def _name_moved(found: list[tuple[str, int]], listed: list[tuple[str, int]], result: Verification) -> None:
    moved = [(position, f, l) for position, (f, l) in enumerate(zip(found, listed), start=1) if f != l]
    for position, f, l in moved[:MOST]:
        result.problems.append(
            f"{EVENTS}: {_label(f)} is at position {position}, where the manifest has {_label(l)}: events reordered"
        )
    if len(moved) > MOST:
        result.problems.append(f"{EVENTS}: and {len(moved) - MOST} more events out of place")


def _check_order(keys: list[tuple[str, int]], name: str, result: Verification) -> None:
    last: dict[str, int] = {}
    for incident, sequence in keys:
        before = last.get(incident)
        if before is not None and sequence < before:
            result.problems.append(
                f"{name}: incident {incident} event #{sequence} comes after event #{before}: the events are out of order"
            )
        last[incident] = max(sequence, before or sequence)


def _check_gaps(keys: list[tuple[str, int]], result: Verification) -> None:
    by_incident: dict[str, list[int]] = {}
    for incident, sequence in keys:
        by_incident.setdefault(incident, []).append(sequence)
    for incident, sequences in by_incident.items():
        expected = 1
        for sequence in sorted(set(sequences)):
            if sequence != expected:
                missing = f"#{expected}" if sequence == expected + 1 else f"#{expected} to #{sequence - 1}"
                result.problems.append(f"{MANIFEST}: incident {incident} has no event {missing}: its history is incomplete")
            expected = sequence + 1


def _check_request(manifest: dict[str, Any], document: dict[str, Any], result: Verification) -> None:
    if manifest.get("request") != document.get("request"):
        result.problems.append(f"{MANIFEST} and {EVENTS} name different requests")
    scope = (manifest.get("scope") or {}).get("incidents")
    incidents = [i.get("id") for i in document.get("incidents", []) if isinstance(i, dict)]
    if scope != incidents:
        result.problems.append(f"{MANIFEST}'s scope {scope} is not the incidents in {EVENTS} {incidents}")


def _check_csv(data: bytes, document: dict[str, Any], result: Verification) -> None:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    except (UnicodeDecodeError, csv.Error) as error:
        result.problems.append(f"{CSV} cannot be read: {error}")
        return
    in_csv = []
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[1].isdigit():
            result.problems.append(f"{CSV} row {number} is not an event: {','.join(row)[:80]!r}")
            return
        in_csv.append((row[0], int(row[1])))
    in_json = [(e.get("incident_id"), e.get("sequence")) for e in document.get("events", []) if isinstance(e, dict)]
    if in_csv != in_json:
        result.problems.append(f"{CSV} does not list the same events, in the same order, as {EVENTS}")
