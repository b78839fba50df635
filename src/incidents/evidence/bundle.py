"""The evidence bundle: a zip a stranger can read, and check with standard tools alone.

    timeline.pdf     the timeline for people (PDF/A-2b)
    events.json      the same events, RFC 8785 canonical JSON
    timeline.csv     one row per event
    manifest.json    request, scope, legal basis, redactions, each event's RFC 9162 leaf hash (from
                     its field digests, selective.py), the Merkle root, the signing key's fingerprint
    public-key.pem   the deployment's Ed25519 public key
    VERIFY.txt       how to check all this with openssl, sha256sum and python3
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

from . import merkle, records, redaction, selective
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
LEAF_RULE = selective.LEAF_RULE
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
        "redactions": redaction.listed(m),
        "merkle": {
            "fields": selective.FIELD_NAMES,
            "field_digest": selective.FIELD_RULE,
            "leaf": LEAF_RULE,
            "tree": TREE_RULE,
            "tree_size": len(leaves),
            "root": root.hex(),
        },
        "public_key": {
            "file": PUBLIC_KEY,
            "algorithm": "Ed25519",
            "fingerprint": key.fingerprint(),
            "fingerprint_rule": "SHA-256 of the DER SubjectPublicKeyInfo",
        },
        "timeline_pdf": {"standard": "PDF/A-2b" if pdf_a else "none", "warnings": warnings},
        "how_to_check": f"{VERIFY} explains how to check this bundle with openssl, sha256sum and python3 alone",
    }


def manifest_json(value: dict[str, Any]) -> bytes:
    """Indented for people to read, but one line per event: the stdlib indents in pure Python, slowly."""
    placeholder = f"events-{uuid.uuid4().hex}"
    outline = json.dumps({**value, "events": placeholder}, indent=2, ensure_ascii=False)
    events = ",\n    ".join(json.dumps(e, ensure_ascii=False) for e in value["events"])
    return (outline.replace(json.dumps(placeholder), "[\n    " + events + "\n  ]", 1) + "\n").encode()


CHECK_LEAVES = r'''import hashlib, json, sys

def canonical(value):  # RFC 8785 for the plain values of events.json (no floats)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

def fields(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from fields(item, path + "." + key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from fields(item, path + "." + str(index))
    else:
        yield path, value

def leaf(event):
    salts, redacted = event["disclosure"]["salts"], event["disclosure"]["redacted"]
    digests = []
    for key, value in event.items():
        for name, value in ([] if key == "disclosure" else fields(value, key)):
            if name in salts:
                digests.append(hashlib.sha256(canonical([salts[name], name, value])).hexdigest())
            elif name in redacted:
                digests.append(redacted[name])
            else:
                raise ValueError(f"the field {name} has neither a salt nor a redacted digest")
    return hashlib.sha256(b"\x00" + canonical(sorted(digests))).digest()

def tree(hashes):  # RFC 9162 section 2.1
    if len(hashes) < 2:
        return hashes[0] if hashes else hashlib.sha256(b"").digest()
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + tree(hashes[:k]) + tree(hashes[k:])).digest()

events = json.load(open("events.json", encoding="utf-8"))["events"]
manifest = json.load(open("manifest.json", encoding="utf-8"))
listed, leaves, wrong = manifest["events"], [], 0
if len(events) != len(listed):
    print(f"events.json has {len(events)} events, manifest.json lists {len(listed)}")
    wrong += 1
for position, (event, entry) in enumerate(zip(events, listed), start=1):
    name = f"event {position} (incident {event.get('incident_id')} #{event.get('sequence')})"
    try:
        leaves.append(leaf(event))
    except (KeyError, TypeError, ValueError) as error:
        print(f"{name}: cannot be checked: {error}")
        wrong += 1
        continue
    if (event["incident_id"], event["sequence"]) != (entry["incident_id"], entry["sequence"]):
        print(f"{name}: manifest.json has incident {entry['incident_id']} #{entry['sequence']} here")
        wrong += 1
    if leaves[-1].hex() != entry["leaf_hash"]:
        print(f"{name}: its leaf hash is {leaves[-1].hex()}, manifest.json says {entry['leaf_hash']}")
        wrong += 1
if not wrong and tree(leaves).hex() != manifest["merkle"]["root"]:
    print(f"the Merkle root of the events is {tree(leaves).hex()}, manifest.json says {manifest['merkle']['root']}")
    wrong += 1
print("Every event and the Merkle root check out" if not wrong else f"{wrong} problems: the events do not match the manifest")
sys.exit(1 if wrong else 0)
'''


def verify_text(m: EvidenceMaterial, fingerprint: str, root: str) -> str:
    return f"""\
How to check this evidence bundle
=================================

Practice: {m.practice.name} ({m.practice.code})
Request:  {m.request.request_id}, reference {m.request.reference}
Exported: {uk_time(m.exported_at, seconds=True)}

You need only openssl (version 3), sha256sum and python3; nothing from the practice's software.
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

4. Check every event against the Merkle root. Each field of an event is committed on its own as
   a salted hash, so that a field withheld from you (another person's data) still counts: the
   field shows "[redacted: reason]" and its "disclosure" gives its digest alone. Save the lines
   between the two marks below as check-leaves.py beside the files, and run:

     python3 check-leaves.py

   It prints "Every event and the Merkle root check out". Anything else names the event at fault.

----- check-leaves.py -----
{CHECK_LEAVES}----- end of check-leaves.py -----

   What it does, to check it by other means: the fields of an event are {selective.FIELD_NAMES}.
   A shown field's digest is the {selective.FIELD_RULE} (its salt is in the event's
   "disclosure" "salts"); a redacted field's digest is in its "disclosure" "redacted". The leaf
   hash is {LEAF_RULE}, and must equal the event's "leaf_hash" in manifest.json, in the same
   order. The Merkle root, {TREE_RULE}, is:

     {root}

   so a single event can be proven part of this bundle with a standard RFC 9162 inclusion proof.
   The same event disclosed again, redacted differently or not at all, has the same leaf hash.

events.json holds the exact text staff recorded, except where redacted for this disclosure
(manifest.json lists each redaction and its reason). Where only part of a text was redacted, the
rest of it is shown but the field counts by its digest alone, so that rest is vouched for by the
signature of step 1, not by the leaf. timeline.csv is the same events for a
spreadsheet: a cell whose text would begin with = + - or @ begins with an apostrophe there, so
that a spreadsheet shows it as text and never runs it as a formula.
With the practice's software installed, `incidents verify BUNDLE.zip --fingerprint HEX` does all
of the above and names anything that is wrong.
"""


def sums_file(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in SUMMED_FILES).encode()


def committed_events(m: EvidenceMaterial, shown: EvidenceMaterial, document: dict[str, Any], secret: bytes) -> tuple[list[bytes], list[bytes]]:
    """Each event of events.json (as shown, with its disclosure) as canonical bytes, and its leaf hash."""
    originals = document["events"] if shown is m else [records.event(i.incident_id, e) for i in m.incidents for e in i.events]
    entries, leaves = [], []
    salter = selective.Salter(secret)
    for original, as_shown in zip(originals, document["events"]):
        element, leaf = selective.disclose(original, as_shown, salter)
        entries.append(canonical_plain(element))
        leaves.append(leaf)
    return entries, leaves


def build_bundle(m: EvidenceMaterial, key: SigningKey) -> Bundle:
    shown = redaction.as_shown(m)
    document = records.events_document(shown)
    entries, leaves = committed_events(m, shown, document, key.salt_secret())
    events_json = canonical_with_array(document, "events", entries)
    root = merkle.root_from_leaf_hashes(leaves)
    seal = Seal(root.hex(), key.fingerprint(), hashlib.sha256(events_json).hexdigest())
    rendered = render_pdf(shown, seal)
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
