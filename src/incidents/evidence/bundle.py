"""The evidence bundle: a zip a stranger can read, and check with standard tools alone.

    timeline.pdf     the timeline for people (PDF/A-2b)
    events.json      the same events, RFC 8785 canonical JSON
    timeline.csv     one row per event
    manifest.json    request, scope, legal basis, each event's RFC 9162 leaf hash, the Merkle root,
                     the signing key's fingerprint
    public-key.pem   the deployment's Ed25519 public key
    VERIFY.txt       how to check all this with openssl and sha256sum
    SHA256SUMS       `sha256sum -c` lines for every file above
    SHA256SUMS.sig   Ed25519 signature over SHA256SUMS's bytes
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import merkle, records
from .canonical import canonical_plain, canonical_with_array
from .material import EvidenceMaterial
from .pdf import UK, Seal, render_pdf, uk_time
from .signing import SigningKey

PDF, EVENTS, CSV, MANIFEST, PUBLIC_KEY, VERIFY = (
    "timeline.pdf", "events.json", "timeline.csv", "manifest.json", "public-key.pem", "VERIFY.txt",
)  # fmt: skip
SUMS, SIGNATURE = "SHA256SUMS", "SHA256SUMS.sig"
SUMMED_FILES = (PDF, EVENTS, CSV, MANIFEST, PUBLIC_KEY, VERIFY)
ALL_FILES = SUMMED_FILES + (SUMS, SIGNATURE)
LEAF_RULE = "SHA-256(0x00 || the RFC 8785 JSON of one element of events.json's \"events\")"
TREE_RULE = "RFC 9162 section 2.1 Merkle tree hash (SHA-256) over the leaf hashes, in events.json's order"


@dataclass(frozen=True)
class Bundle:
    data: bytes  # the zip
    merkle_root: str  # hex
    fingerprint: str  # the public key's, in 4-digit groups
    event_count: int
    pdf_a: bool
    warnings: list[str] = field(default_factory=list)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.data)
        return path


def manifest(m: EvidenceMaterial, document: dict[str, Any], leaves: list[bytes], root: bytes, key: SigningKey, pdf_a: bool, warnings: list[str]) -> dict[str, Any]:  # fmt: skip
    return {
        "format": records.FORMAT,
        "practice": document["practice"],
        "request": document["request"],
        "legal_basis": m.request.legal_basis,
        "scope": {"incidents": [i.incident_id for i in m.incidents], "event_count": len(leaves)},
        "exported_at": document["exported_at"],
        "exported_by": document["exported_by"],
        "events": [
            {"incident_id": e["incident_id"], "sequence": e["sequence"], "leaf_hash": leaf.hex()}
            for e, leaf in zip(document["events"], leaves)
        ],
        "merkle": {"leaf": LEAF_RULE, "tree": TREE_RULE, "tree_size": len(leaves), "root": root.hex()},
        "public_key": {
            "file": PUBLIC_KEY,
            "algorithm": "Ed25519",
            "fingerprint": key.fingerprint(),
            "fingerprint_rule": "SHA-256 of the DER SubjectPublicKeyInfo",
        },
        "timeline_pdf": {"standard": "PDF/A-2b" if pdf_a else "none", "warnings": warnings},
        "how_to_check": f"{VERIFY} explains how to check this bundle with openssl and sha256sum alone",
    }


def manifest_json(value: dict[str, Any]) -> bytes:
    """Indented for people to read, but one line per event: the stdlib indents in pure Python, slowly."""
    placeholder = f"events-{uuid.uuid4().hex}"
    outline = json.dumps({**value, "events": placeholder}, indent=2, ensure_ascii=False)
    events = ",\n    ".join(json.dumps(e, ensure_ascii=False) for e in value["events"])
    return (outline.replace(json.dumps(placeholder), "[\n    " + events + "\n  ]", 1) + "\n").encode()


def verify_text(m: EvidenceMaterial, fingerprint: str, root: str) -> str:
    return f"""\
How to check this evidence bundle
=================================

Practice: {m.practice.name} ({m.practice.code})
Request:  {m.request.request_id}, reference {m.request.reference}
Exported: {uk_time(m.exported_at, seconds=True)}

You need only openssl (version 3) and sha256sum; nothing from the practice's software.
Unpack the zip into an empty folder and run these commands in it.

1. Check that the list of fingerprints was signed by the practice's key:

     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig

   It prints "Signature Verified Successfully". Anything else: the list has been altered.

2. Check every file against the signed list:

     sha256sum -c SHA256SUMS

   Every line must end in "OK".

3. Check that the key is the practice's own. A forger could make a new key, sign their own list
   and ship their key; only the practice's copy of the fingerprint catches that. Compute it:

     openssl pkey -pubin -in public-key.pem -outform DER | sha256sum

   It must equal the fingerprint the practice keeps (and prints on the records certificate page
   of timeline.pdf, signed by an officer of the practice). For this bundle it reads:

     {fingerprint}

The events themselves: events.json is RFC 8785 canonical JSON. For each element of its "events"
array, manifest.json lists a leaf hash, {LEAF_RULE}.
The Merkle root, {TREE_RULE}, is:

     {root}

so a single event can be proven part of this bundle with a standard RFC 9162 inclusion proof.
events.json holds the exact text staff recorded. timeline.csv is the same events for a
spreadsheet: a cell whose text would begin with = + - or @ begins with an apostrophe there, so
that a spreadsheet shows it as text and never runs it as a formula.
With the practice's software installed, `incidents verify BUNDLE.zip --fingerprint HEX` does all
of the above and names anything that is wrong.
"""


def sums_file(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in SUMMED_FILES).encode()


def build_bundle(m: EvidenceMaterial, key: SigningKey) -> Bundle:
    document = records.events_document(m)
    entries = [canonical_plain(e) for e in document["events"]]
    events_json = canonical_with_array(document, "events", entries)
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    root = merkle.root_from_leaf_hashes(leaves)
    seal = Seal(root.hex(), key.fingerprint(), hashlib.sha256(events_json).hexdigest())
    rendered = render_pdf(m, seal)
    files = {
        PDF: rendered.data,
        EVENTS: events_json,
        CSV: records.timeline_csv(document["events"]),
        MANIFEST: manifest_json(manifest(m, document, leaves, root, key, rendered.pdf_a, rendered.warnings)),
        PUBLIC_KEY: key.public_pem(),
        VERIFY: verify_text(m, seal.fingerprint, root.hex()).encode(),
    }
    files[SUMS] = sums_file(files)
    files[SIGNATURE] = key.sign(files[SUMS])
    return Bundle(zip_files(files, m), root.hex(), seal.fingerprint, len(leaves), rendered.pdf_a, rendered.warnings)


def zip_files(files: dict[str, bytes], m: EvidenceMaterial) -> bytes:
    stamp = m.exported_at.astimezone(UK).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in ALL_FILES:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = 0o644 << 16
            # The PDF's streams are compressed already.
            info.compress_type = zipfile.ZIP_STORED if name == PDF else zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=1)
    return out.getvalue()


def write_bundle(m: EvidenceMaterial, key: SigningKey, path: Path) -> Bundle:
    bundle = build_bundle(m, key)
    bundle.write(path)
    return bundle
