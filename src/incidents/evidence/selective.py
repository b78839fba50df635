"""Each event's fields committed one by one as salted hashes, in the manner of SD-JWT selective
disclosure (RFC 9901), so that a field can be withheld and the event still checked:

    fields        every value in the event (not its "disclosure" member), named by its path:
                  "note", "who.username", "details.0.value", "correction.previous", ...
    field digest  SHA-256(RFC 8785 JSON of [salt, field name, value]), in hex
    leaf          SHA-256(0x00 || RFC 8785 JSON of the event's field digests, sorted)
    disclosure    {"salts": {name: salt}, "redacted": {name: digest}}: a field shown has its
                  salt, a redacted one only its digest (its value shows "[redacted: reason]")

A salt is HMAC-SHA256, under a secret derived from the deployment's signing key, of the event's
identity and the field's name (first 16 bytes, in hex): the same event gets the same salts, so the
same leaf, in every bundle, redacted or not; and without the salt a withheld value cannot be
guessed by hashing candidates. The secret is never in a bundle.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

from . import merkle
from .canonical import canonical_plain

DISCLOSURE = "disclosure"  # the member of an event holding its salts and redacted digests
SALT_BYTES = 16
FIELD_RULE = "SHA-256 of the RFC 8785 JSON array [salt, field name, value], in lowercase hex"
LEAF_RULE = "SHA-256(0x00 || the RFC 8785 JSON array of the event's field digests, sorted)"
FIELD_NAMES = (
    "each value of an element of events.json's \"events\" other than its \"disclosure\", named by its path "
    "with dots: incident_id, note, who.username, details.0.label, correction.previous, ..."
)
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
MARKER = "[redacted: "  # what a redacted field shows, with the reason

Encode = Callable[[Any], bytes]


def _flatten(value: Any, path: str, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, f"{path}.{index}", out)
    else:
        out.append((path, value))


def fields(event: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in event.items():
        if key != DISCLOSURE:
            _flatten(value, key, out)
    return out


def scalar_json(value: Any) -> str:
    """RFC 8785 of a plain scalar (text, an integer below 2**53, a boolean or null), built directly:
    an export encodes a dozen of these per event, where json.dumps costs most of the time."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) < 2**53:
        return str(value)
    raise TypeError(f"{value!r} is not a plain scalar")


def salt(secret: bytes, incident_id: str, sequence: int, name: str) -> str:
    return hmac.digest(secret, canonical_plain([incident_id, sequence, name]), "sha256")[:SALT_BYTES].hex()


def field_digest(salt_hex: str, name: str, value: Any, encode: Encode = canonical_plain) -> str:
    return hashlib.sha256(encode([salt_hex, name, value])).hexdigest()


def leaf_of(digests: list[str], encode: Encode = canonical_plain) -> bytes:
    return merkle.leaf_hash(encode(sorted(digests)))


def _leaf_of_hex(digests: list[str]) -> bytes:
    """leaf_of for lowercase hex digests, whose JSON needs no escaping."""
    return merkle.leaf_hash(('["' + '","'.join(sorted(digests)) + '"]').encode())


class Salter:
    """salt() for many fields, as HMAC-SHA256 (RFC 2104) from hash states keyed once: the keyed
    inner and outer states are copied for each field instead of keying an HMAC each time."""

    def __init__(self, secret: bytes) -> None:
        key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()
        key = key.ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def for_event(self, incident_id: str, sequence: int) -> Any:
        inner = self.inner.copy()
        inner.update(("[" + encode_basestring(incident_id) + "," + scalar_json(sequence) + ",").encode())
        return inner

    def salt(self, event: Any, quoted_name: str) -> str:
        inner = event.copy()
        inner.update((quoted_name + "]").encode())
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:SALT_BYTES].hex()


def disclose(original: dict[str, Any], shown: dict[str, Any], salter: Salter) -> tuple[dict[str, Any], bytes]:
    """The event as shown, with its disclosure member, and its leaf hash (that of the original).

    A field whose shown value differs from the original's was redacted: only its digest is given.
    """
    # The same bytes as salt() and field_digest() with canonical_plain, built by hand (tested equal).
    event = salter.for_event(original["incident_id"], original["sequence"])
    shown_values = None if shown is original else dict(fields(shown))
    salts: dict[str, str] = {}
    redacted: dict[str, str] = {}
    digests = []
    for name, value in fields(original):
        quoted = encode_basestring(name)
        salt_hex = salter.salt(event, quoted)
        digest = hashlib.sha256(('["' + salt_hex + '",' + quoted + "," + scalar_json(value) + "]").encode()).hexdigest()
        digests.append(digest)
        if shown_values is not None and shown_values.get(name, value) != value:
            redacted[name] = digest
        else:
            salts[name] = salt_hex
    return {**shown, DISCLOSURE: {"salts": salts, "redacted": redacted}}, _leaf_of_hex(digests)


class Unchecked(ValueError):
    """An event whose leaf cannot be recomputed from what it carries; the message says why."""


def leaf_from(element: dict[str, Any], encode: Encode) -> bytes:
    """The leaf hash recomputed from an event as received: its shown fields' salts and values,
    its redacted fields' digests."""
    disclosure = element.get(DISCLOSURE)
    salts = disclosure.get("salts") if isinstance(disclosure, dict) else None
    redacted = disclosure.get("redacted") if isinstance(disclosure, dict) else None
    if not isinstance(salts, dict) or not isinstance(redacted, dict):
        raise Unchecked(f'it has no "{DISCLOSURE}" with its "salts" and "redacted" fields: it cannot be checked')
    digests, names = [], set()
    for name, value in fields(element):
        names.add(name)
        if name in salts and name in redacted:
            raise Unchecked(f"its field {name} has both a salt and a redacted digest")
        if name in salts:
            if not isinstance(salts[name], str):
                raise Unchecked(f"the salt of its field {name} is not text")
            digests.append(field_digest(salts[name], name, value, encode))
        elif name in redacted:
            digest = redacted[name]
            if not isinstance(digest, str) or not HEX_DIGEST.fullmatch(digest):
                raise Unchecked(f"the redacted digest of its field {name} is not 64 lowercase hexadecimal digits")
            if not isinstance(value, str) or MARKER not in value:
                # What is shown of a redacted field is vouched for by the signature alone: it must say so.
                raise Unchecked(f"its field {name} is redacted but does not say so (no \"{MARKER}\" in what it shows)")
            digests.append(digest)
        else:
            raise Unchecked(f"its field {name} has neither a salt nor a redacted digest: it cannot be checked")
    unknown = sorted((set(salts) | set(redacted)) - names)
    if unknown:
        raise Unchecked(f"its disclosure names fields it does not have: {', '.join(unknown[:5])}")
    return leaf_of(digests, encode)
