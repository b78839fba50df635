"""Signed checkpoints of the live event store, and comparing the store against them.

Why: the events are encrypted with AES-GCM, so a row changed without the cipher key no longer
decrypts; but whoever holds the cipher key (or simply deletes a row, or copies one row's bytes
over another) can still change history unseen. A checkpoint binds, with the deployment's Ed25519
key (`evidence.signing`), the exact stored bytes of every event of one range of the notification
log, so any later change to those rows is detected and located.

What one checkpoint holds, for the range of notification ids (after, last]:

- per event, `event_digest`: SHA-256 over the row exactly as the database holds it (notification
  id, aggregate id, aggregate version, topic, and the compressed, encrypted state bytes), read
  raw with `recorder.select_notifications`, never decrypted. 32 bytes per event: the list is kept
  whole so that a changed event is located by comparing digests one by one;
- per event, where it belongs (aggregate id and version; the aggregate ids listed once per
  checkpoint), so that a missing event can be named too, not only numbered;
- the RFC 9162 Merkle root of the digests (`evidence.merkle`: an event's inclusion can be proved
  alone), the ids as runs ("1-500,502-900": PostgreSQL leaves gaps where an insert failed), the
  SHA-256 of the locations, the chain hash (SHA-256 of the previous checkpoint's statement),
  when it was signed and by which key. Those form the *statement*, canonical JSON (RFC 8785)
  that is signed; the digests and locations are bound to it by the root and the hash.

Checkpoints are events of their own log in the same store (`domain.checkpoint`). So a backup or a
replica carries them with the events; a checkpoint's own event is covered by the next checkpoint;
a checkpoint cannot be rewritten without the signing key; and a removed or reordered checkpoint
breaks the numbering (the log's versions) and the chain. (A table of their own would add
nothing a DBA could not delete just as well, and would need its own backup and migration.) What
a store alone cannot show is a removed *tail* (the last checkpoints with their events, as when a
store is restored from an older backup): the signer notes its newest checkpoint beside the
signing key (`evidence.checkpoint_head`), and the verifier prints the last checkpoint's number
and chain hash for a person to compare where that note is not at hand.

A checkpoint keeps a 32-byte digest and a location per covered event: a small share of the
store (`python -m bench.store_checkpoints` measures it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Notification

from . import merkle
from .canonical import canonical_plain

KIND = "incidents event store checkpoint"
FORMAT = 1
DIGEST_BYTES = 32


class OriginatorText(dict):
    """str() of each aggregate id, made once: UUID.__str__ costs more than hashing an event."""

    def __missing__(self, originator_id: UUID | str) -> str:
        text = self[originator_id] = str(originator_id)
        return text


def event_digest(notification: Notification, texts: OriginatorText | None = None) -> bytes:
    """SHA-256 of one stored event's row: every column, lengths prefixed so none can bleed into
    the next; the state last, as the stored (compressed, encrypted) bytes."""
    originator = (texts[notification.originator_id] if texts is not None else str(notification.originator_id)).encode()
    topic = notification.topic.encode()
    return hashlib.sha256(
        b"".join(
            (
                notification.id.to_bytes(8, "big"),
                len(originator).to_bytes(2, "big"),
                originator,
                notification.originator_version.to_bytes(8, "big", signed=True),
                len(topic).to_bytes(4, "big"),
                topic,
                notification.state,
            )
        )
    ).digest()


def runs(ids: Sequence[int]) -> str:
    """Ascending ids as runs: [1, 2, 3, 5] -> "1-3,5"."""
    parts: list[str] = []
    start = previous = None
    for i in ids:
        if previous is not None and i == previous + 1:
            previous = i
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = i
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ",".join(parts)


def ids_of(text: str) -> list[int]:
    ids: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


def merkle_root(digests: Sequence[bytes]) -> str:
    return merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for d in digests]).hex()


def locations_hash(aggregates: Sequence[str], aggregate_of: Sequence[int], versions: Sequence[int]) -> str:
    return hashlib.sha256(
        canonical_plain({"aggregates": list(aggregates), "aggregate_of": list(aggregate_of), "versions": list(versions)})
    ).hexdigest()


class Canonical:
    """A signed statement's bytes: canonical JSON naming its kind and format, read back only if canonical."""

    KIND: ClassVar[str]
    WHAT: ClassVar[str]

    def to_bytes(self) -> bytes:
        return canonical_plain({"kind": self.KIND, "format": FORMAT, **self.__dict__})

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        value = json.loads(data)
        if not isinstance(value, dict) or value.pop("kind", None) != cls.KIND or value.pop("format", None) != FORMAT:
            raise ValueError(f"not a {cls.WHAT} of this format")
        try:
            statement = cls(**value)
        except TypeError as error:
            raise ValueError(f"unexpected fields: {error}") from None
        if statement.to_bytes() != data:
            raise ValueError("the statement is not in canonical form")
        return statement


@dataclass(frozen=True)
class Statement(Canonical):
    """What a checkpoint signs."""

    KIND = KIND
    WHAT = "checkpoint statement"

    number: int
    after: int  # the range starts after this notification id (the previous checkpoint's last)
    last: int
    count: int
    ids: str  # runs
    merkle_root: str
    locations: str  # SHA-256 of the aggregate ids and versions
    previous: str  # SHA-256 of the previous checkpoint's statement ("" for the first)
    signed_at: str  # ISO 8601, UTC
    key: str  # fingerprint of the signing key

    @property
    def chain_hash(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @property
    def signed_when(self) -> str:
        return datetime.fromisoformat(self.signed_at).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as read back: its statement, and what the statement commits to."""

    statement: Statement
    statement_bytes: bytes
    signature: bytes
    ids: list[int]
    digests: list[bytes]
    locations: list[tuple[str, int]]  # (aggregate id, version) per event

    @property
    def number(self) -> int:
        return self.statement.number

    def inconsistencies(self) -> list[str]:
        """Where the stored lists disagree with the signed statement (empty when they agree)."""
        s = self.statement
        found = []
        if not (len(self.ids) == len(self.digests) == len(self.locations) == s.count):
            found.append(
                f"holds {len(self.ids)} ids, {len(self.digests)} digests and {len(self.locations)} locations but signed {s.count}"
            )
        if self.ids and (self.ids[0] <= s.after or self.ids[-1] > s.last):
            found.append(f"lists events outside its range #{s.after + 1}–#{s.last}")
        if merkle_root(self.digests) != s.merkle_root:
            found.append("its event digests do not give the signed Merkle root")
        aggregates = sorted({a for a, _ in self.locations})
        index = {a: i for i, a in enumerate(aggregates)}
        if locations_hash(aggregates, [index[a] for a, _ in self.locations], [v for _, v in self.locations]) != s.locations:
            found.append("its aggregate ids and versions do not give the signed hash")
        return found


def seal(
    notifications: Sequence[Notification], number: int, after: int, previous: str, signed_at: datetime, key
) -> dict:
    """The fields of the `CheckpointSigned` event covering these notifications (ascending ids,
    all after `after`), signed with the deployment's `SigningKey`."""
    texts = OriginatorText()
    digests = [event_digest(n, texts) for n in notifications]
    originators = [texts[n.originator_id] for n in notifications]
    aggregates = sorted(set(originators))
    index = {a: i for i, a in enumerate(aggregates)}
    aggregate_of = [index[a] for a in originators]
    versions = [n.originator_version for n in notifications]
    ids = [n.id for n in notifications]
    statement = Statement(
        number=number,
        after=after,
        last=ids[-1] if ids else after,
        count=len(ids),
        ids=runs(ids),
        merkle_root=merkle_root(digests),
        locations=locations_hash(aggregates, aggregate_of, versions),
        previous=previous,
        signed_at=signed_at.isoformat(),
        key=key.fingerprint(),
    )
    data = statement.to_bytes()
    return {
        "statement": data.decode(),
        "digests": base64.b64encode(b"".join(digests)).decode(),
        "aggregates": aggregates,
        "aggregate_of": aggregate_of,
        "versions": versions,
        "signature": base64.b64encode(key.sign(data)).decode(),
    }


def read_checkpoint(event) -> Checkpoint:
    """The checkpoint of a `CheckpointSigned` event; ValueError if it cannot be made sense of."""
    data = event.statement.encode()
    statement = Statement.from_bytes(data)
    if statement.number != event.originator_version:
        raise ValueError(f"it says it is checkpoint {statement.number}")
    raw = base64.b64decode(event.digests, validate=True)
    if len(raw) % DIGEST_BYTES:
        raise ValueError("its digests are not whole SHA-256 values")
    digests = [raw[i : i + DIGEST_BYTES] for i in range(0, len(raw), DIGEST_BYTES)]
    aggregates = list(event.aggregates)
    locations = [(aggregates[i], v) for i, v in zip(event.aggregate_of, event.versions, strict=True)]
    return Checkpoint(statement, data, base64.b64decode(event.signature, validate=True), ids_of(statement.ids), digests, locations)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the store, located as precisely as it can be."""

    kind: str  # changed, missing, inserted, uncovered, checkpoint
    message: str
    notification_id: int | None = None
    aggregate_id: str | None = None
    version: int | None = None
    checkpoint: int | None = None


def where(aggregate_id: UUID | str, version: int) -> str:
    return f"aggregate {aggregate_id}, version {version}"


def compare(
    checkpoint: Checkpoint, stored: Iterable[Notification], replaced: dict[int, tuple[bytes, bytes]] | None = None
) -> Iterator[Problem]:
    """The events of the checkpoint's range as stored now against the checkpoint, both in
    ascending id order: each changed, missing or inserted event. `replaced` names the events a
    signed adoption statement re-encrypted: their old digest, and the new one they must have now."""
    s = checkpoint.statement
    since = f"checkpoint {s.number} signed at {s.signed_when}"
    signed = iter(zip(checkpoint.ids, checkpoint.digests, checkpoint.locations))
    texts = OriginatorText()
    expected = next(signed, None)

    def missing(entry: tuple[int, bytes, tuple[str, int]]) -> Problem:
        nid, _, (aggregate, version) = entry
        return Problem(
            "missing", f"event #{nid} ({where(aggregate, version)}) is missing: {since} holds it", nid, aggregate, version, s.number
        )

    for notification in stored:
        while expected is not None and expected[0] < notification.id:
            yield missing(expected)
            expected = next(signed, None)
        nid, aggregate, version = notification.id, texts[notification.originator_id], notification.originator_version
        if expected is None or expected[0] > nid:
            yield Problem(
                "inserted",
                f"event #{nid} ({where(aggregate, version)}) was inserted: it is inside the range of {since} "
                f"(events #{s.after + 1}–#{s.last}) but not in it",
                nid, aggregate, version, s.number,
            )
            continue
        digest = event_digest(notification, texts)
        if digest != expected[1] and not (replaced and replaced.get(nid) == (expected[1], digest)):
            was = expected[2]
            moved = "" if was == (aggregate, version) else f"; it was {where(*was)} when signed"
            yield Problem(
                "changed", f"event #{nid} ({where(aggregate, version)}) was changed since {since}{moved}", nid, aggregate, version, s.number
            )
        expected = next(signed, None)
    while expected is not None:
        yield missing(expected)
        expected = next(signed, None)


ADOPTION_KIND = "incidents record keys adoption"


@dataclass(frozen=True)
class AdoptionStatement(Canonical):
    """What a re-encryption of older records under keys of their own signs: the checkpoint it
    follows and, per rewritten event, its row's digest before (what earlier checkpoints hold) and
    after (what the store holds from then on)."""

    KIND = ADOPTION_KIND
    WHAT = "record keys adoption statement"

    number: int
    after_checkpoint: int
    after_chain_hash: str
    records: int
    events: list[list]  # [notification id, aggregate id, version, old digest hex, new digest hex]
    signed_at: str
    key: str

    @property
    def replaced(self) -> dict[int, tuple[bytes, bytes]]:
        return {int(e[0]): (bytes.fromhex(e[3]), bytes.fromhex(e[4])) for e in self.events}

    @property
    def signed_when(self) -> str:
        return datetime.fromisoformat(self.signed_at).strftime("%Y-%m-%d %H:%M:%S UTC")
