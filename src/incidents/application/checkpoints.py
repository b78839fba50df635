"""Signed checkpoints of the event store, recorded by the application and checked against it.

`record_checkpoint` covers, in checkpoints of at most CHECKPOINT_MAX_EVENTS events, everything
recorded since the last checkpoint; whoever runs the projections calls it every
INCIDENTS_CHECKPOINT_SECONDS (`checkpoint_timer.py`), and `incidents checkpoint` calls it
once. Two writers cannot fork the chain: checkpoint n is version n of one log, so the second
writer of the same n gets an IntegrityError, reads the new last checkpoint and goes on from it.
A range is read up to the highest notification id at that moment; no event with a lower id can
commit later (SQLite writes one at a time, and the library's PostgreSQL recorder locks the table
for each insert, so commit order is id order).

`verify_store` reads every checkpoint, checks its signature, numbering and chain, and compares
each range's stored rows with the checkpoint's digests (see `evidence.store_checkpoint` for what
a checkpoint holds and why it is stored as events).
"""

from __future__ import annotations

import base64

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from ..domain.checkpoint import ADOPTION_LOG_ID, CHECKPOINT_LOG_ID, CheckpointSigned
from ..domain.signing_key import SIGNING_KEY_ID
from ..domain.values import DomainError
from ..evidence.signing import SigningKey, fingerprint, from_pem, signature_valid
from ..evidence.store_checkpoint import AdoptionStatement, Checkpoint, Problem, Statement, compare, read_checkpoint, seal

CHECKPOINT_MAX_EVENTS = 10_000  # 320 KB of digests: one checkpoint event stays small
PAGE = 5_000
CONFLICTS_TOLERATED = 20


class CheckpointChainBroken(DomainError):
    """The last checkpoint cannot be read or does not verify, so no checkpoint can follow it."""


@dataclass(frozen=True)
class CheckpointRecorded:
    number: int
    after: int
    last: int
    count: int
    signed_at: str
    chain_hash: str
    notification_id: int  # of the checkpoint's own event, covered by the next checkpoint


@dataclass
class StoreVerification:
    head: int  # the highest notification id when the check started
    checkpoints: int = 0
    checked: int = 0  # stored events compared with a checkpoint
    uncovered: int = 0  # events recorded after the last checkpoint (information, not a problem)
    uncovered_from: int | None = None
    last: Statement | None = None
    key: str = ""  # fingerprint of the key checked against
    last_number: int = 0  # the highest checkpoint number in the store, readable or not
    chain: dict[int, str] = field(default_factory=dict)  # chain hash by checkpoint number
    problems: list[Problem] = field(default_factory=list)
    adoptions: list[AdoptionStatement] = field(default_factory=list)  # re-encryptions of older records, each verified

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class KeptSigningKey:
    """A signing key the store keeps, and when it was the one that signed."""

    fingerprint: str
    public: Ed25519PublicKey
    valid_from: datetime | None  # None for the first: it may have signed before the store kept it (adopted from a file)
    valid_until: datetime | None  # when the next key replaced it; None for the newest


class StoreCheckpoints:
    """Mixed into IncidentLog: `self` is the application."""

    if TYPE_CHECKING:
        recorder: Any
        mapper: Any
        save: Any

    def record_checkpoint(self, key: SigningKey, max_events: int = CHECKPOINT_MAX_EVENTS) -> list[CheckpointRecorded]:
        """Sign checkpoints covering every event recorded since the last one; none if nothing
        but the last checkpoint's own event is new."""
        recorded: list[CheckpointRecorded] = []
        conflicts = 0
        head = self.recorder.max_notification_id() or 0  # not beyond: our own checkpoints come after it
        last = self._last_checkpoint(key.public)
        while True:
            after = last.statement.last if last else 0
            batch = list(self._stored_after(after, head, max_events))
            if not batch or self._only_a_checkpoint(batch):
                return recorded
            number = last.number + 1 if last else 1
            now = datetime.now(timezone.utc)
            previous = last.statement.chain_hash if last else ""
            fields = seal(batch, number, after, previous, now, key)
            event = CheckpointSigned(originator_id=CHECKPOINT_LOG_ID, originator_version=number, timestamp=now, **fields)
            try:
                recordings = self.save(event)
            except IntegrityError:  # another process signed checkpoint `number` first: follow it
                conflicts += 1
                if conflicts > CONFLICTS_TOLERATED:
                    raise
                last = self._last_checkpoint(key.public)
                continue
            last = read_checkpoint(event)  # the one just saved: no need to read it back
            statement = last.statement
            recorded.append(
                CheckpointRecorded(
                    number, after, statement.last, statement.count, statement.signed_when, statement.chain_hash,
                    recordings[-1].notification.id,
                )
            )
            if len(batch) < max_events or statement.last >= head:
                return recorded

    def _only_a_checkpoint(self, batch: list[Notification]) -> bool:
        """Whether nothing but the last checkpoint's own event was recorded after it."""
        if len(batch) > 1 or batch[0].originator_id != CHECKPOINT_LOG_ID:
            return False
        return not self.recorder.select_notifications(start=batch[0].id, limit=1, inclusive_of_start=False)

    def verify_store(self, public_key: Ed25519PublicKey, progress: Callable[[int, int], None] | None = None) -> StoreVerification:
        """Every checkpoint checked, and every stored event compared with the checkpoint covering it."""
        head = self.recorder.max_notification_id() or 0
        result = StoreVerification(head=head, key=fingerprint(public_key))
        kept = {key.fingerprint: key for key in self.signing_keys()}
        report = result.problems.append
        replaced = self._adoptions(public_key, kept, result)
        expected_number, previous_hash, position = 1, "", 0
        for stored in self._stored_checkpoints():
            number = result.last_number = stored.originator_version
            if number != expected_number:
                gone = f"checkpoint {expected_number}" if number == expected_number + 1 else f"checkpoints {expected_number}–{number - 1}"
                report(Problem("checkpoint", f"{gone} missing from the store (removed): the chain of checkpoints is broken", checkpoint=expected_number))
                previous_hash = None
            expected_number = number + 1
            try:
                checkpoint = read_checkpoint(self.mapper.to_domain_event(stored))
            except Exception as error:  # the cipher, the decompressor or the JSON: the stored bytes were changed
                report(Problem("checkpoint", f"checkpoint {number} cannot be read ({type(error).__name__}): its stored bytes were changed", checkpoint=number))
                previous_hash = None
                continue
            s = checkpoint.statement
            result.chain[number] = s.chain_hash
            title = f"checkpoint {number} signed at {s.signed_when}"
            checked_with, out_of_period = self._key_for(s, public_key, kept)
            if not signature_valid(checked_with, checkpoint.signature, checkpoint.statement_bytes):
                other = "" if s.key in kept or s.key == result.key else f" (it names another key, {s.key})"
                report(Problem("checkpoint", f"{title} has a signature that does not verify with this deployment's signing key{other}: it was altered or forged", checkpoint=number))
            elif out_of_period:
                report(Problem("checkpoint", f"{title} {out_of_period}: it was forged with an old key, or signed by a process that kept the old key after the rotation", checkpoint=number))
            for text in checkpoint.inconsistencies():
                report(Problem("checkpoint", f"{title} {text}: its stored contents were altered", checkpoint=number))
            if previous_hash is not None and s.previous != previous_hash:
                report(Problem("checkpoint", f"{title} does not follow checkpoint {number - 1} (the chain hash differs): checkpoints were removed, reordered or replaced", checkpoint=number))
            if s.after > position:
                unchecked = sum(1 for _ in self._stored_between(position, s.after))
                if unchecked:
                    report(Problem("uncovered", f"{unchecked} events (#{position + 1}–#{s.after}) could not be checked: the checkpoint covering them is missing or unreadable", checkpoint=number))
            elif s.after < position:
                report(Problem("checkpoint", f"{title} starts after event #{s.after}, inside the range already covered up to #{position}", checkpoint=number))
            stored_range = self._stored_between(s.after, s.last, progress, head)
            for problem in compare(checkpoint, _counted(stored_range, result), replaced):
                report(problem)
            position = max(position, s.last)
            previous_hash = s.chain_hash
            result.checkpoints += 1
            result.last = s
        for notification in self._stored_between(position, None, progress, head):
            if notification.originator_id == CHECKPOINT_LOG_ID:
                continue  # a checkpoint is signed itself; the next checkpoint covers its row too
            result.uncovered += 1
            if result.uncovered_from is None:
                result.uncovered_from = notification.id
        for adoption in result.adoptions:
            if result.chain.get(adoption.after_checkpoint) != adoption.after_chain_hash:
                report(Problem("checkpoint", f"the re-encryption {adoption.number} signed at {adoption.signed_when} names checkpoint {adoption.after_checkpoint} with a chain hash that checkpoint does not have: checkpoints were replaced", checkpoint=adoption.after_checkpoint))
        if progress is not None:
            progress(head, head)
        return result

    def _adoptions(self, public_key: Ed25519PublicKey, kept: dict[str, KeptSigningKey], result: StoreVerification) -> dict[int, tuple[bytes, bytes]]:
        """The events re-encrypted by `incidents keys adopt-record-keys`, from its signed
        statements: per notification id, its digest before and after. A statement that does not
        verify is a problem and vouches for nothing."""
        replaced: dict[int, tuple[bytes, bytes]] = {}
        for stored in self.recorder.select_events(ADOPTION_LOG_ID):
            number = stored.originator_version
            try:
                event = self.mapper.to_domain_event(stored)
                data = event.statement.encode()
                adoption = AdoptionStatement.from_bytes(data)
                signature = base64.b64decode(event.signature, validate=True)
            except Exception as error:
                result.problems.append(Problem("checkpoint", f"re-encryption statement {number} cannot be read ({type(error).__name__}): its stored bytes were changed"))
                continue
            as_checkpoint = Statement(0, 0, 0, 0, "", "", "", "", adoption.signed_at, adoption.key)
            checked_with, out_of_period = self._key_for(as_checkpoint, public_key, kept)
            if not signature_valid(checked_with, signature, data) or out_of_period:
                result.problems.append(Problem("checkpoint", f"re-encryption statement {number} signed at {adoption.signed_when} does not verify with the signing key in use then: it was altered or forged"))
                continue
            replaced.update(adoption.replaced)
            result.adoptions.append(adoption)
        return replaced

    def signing_keys(self) -> list[KeptSigningKey]:
        """Every signing key the store keeps, oldest first, each with the period it signed in."""
        events = [self.mapper.to_domain_event(stored) for stored in self.recorder.select_events(SIGNING_KEY_ID)]
        kept = []
        for number, (event, following) in enumerate(zip(events, [*events[1:], None])):
            public = from_pem(event.private_key, "kept in the event store").public
            kept.append(KeptSigningKey(fingerprint(public), public, event.timestamp if number else None, following.timestamp if following else None))
        return kept

    def _key_for(self, statement: Statement, public_key: Ed25519PublicKey, kept: dict[str, KeptSigningKey]) -> tuple[Ed25519PublicKey, str]:
        """The key a checkpoint is checked with: the kept key it names, if it was in use when the
        checkpoint says it was signed (else why not), or the key given."""
        named = kept.get(statement.key)
        if named is None:
            return public_key, ""
        signed_at = datetime.fromisoformat(statement.signed_at)
        if named.valid_from is not None and signed_at < named.valid_from:
            return named.public, f"names the key {named.fingerprint}, which was not in use before {named.valid_from:%Y-%m-%d %H:%M:%S UTC}"
        if named.valid_until is not None and signed_at > named.valid_until:
            return named.public, f"names the key {named.fingerprint}, which was replaced at {named.valid_until:%Y-%m-%d %H:%M:%S UTC}"
        return named.public, ""

    def last_checkpoint(self, public_key: Ed25519PublicKey) -> Checkpoint | None:
        """The newest checkpoint, read and verified (CheckpointChainBroken if it does not verify)."""
        return self._last_checkpoint(public_key)

    # Reading the store raw --------------------------------------------

    def _last_checkpoint(self, public_key: Ed25519PublicKey) -> Checkpoint | None:
        stored = self.recorder.select_events(CHECKPOINT_LOG_ID, desc=True, limit=1)
        if not stored:
            return None
        number = stored[0].originator_version
        try:
            checkpoint = read_checkpoint(self.mapper.to_domain_event(stored[0]))
        except Exception as error:
            raise CheckpointChainBroken(
                f"Checkpoint {number} cannot be read ({type(error).__name__}), so no checkpoint can follow it: "
                "run `incidents verify-store` to see what was changed"
            ) from None
        kept = {key.fingerprint: key for key in self.signing_keys()}
        if not signature_valid(self._key_for(checkpoint.statement, public_key, kept)[0], checkpoint.signature, checkpoint.statement_bytes):
            raise CheckpointChainBroken(
                f"Checkpoint {number} does not verify with this deployment's signing key, so no checkpoint can follow it: "
                "run `incidents verify-store` to see what was changed"
            )
        return checkpoint

    def _stored_checkpoints(self) -> Iterator[StoredEvent]:
        after = None
        while True:
            page = self.recorder.select_events(CHECKPOINT_LOG_ID, gt=after, limit=20)
            yield from page
            if len(page) < 20:
                return
            after = page[-1].originator_version

    def _stored_after(self, after: int, head: int, limit: int) -> Iterator[Notification]:
        """At most `limit` stored events in (after, head], as the database holds them."""
        while limit > 0:
            page = self.recorder.select_notifications(start=after, stop=head, limit=min(PAGE, limit), inclusive_of_start=False)
            yield from page
            if len(page) < min(PAGE, limit):
                return
            after, limit = page[-1].id, limit - len(page)

    def _stored_between(
        self, after: int, last: int | None, progress: Callable[[int, int], None] | None = None, head: int = 0
    ) -> Iterator[Notification]:
        """The stored events with ids in (after, last], in pages."""
        while last is None or after < last:
            page = self.recorder.select_notifications(start=after, stop=last, limit=PAGE, inclusive_of_start=False)
            yield from page
            if progress is not None and page:
                progress(page[-1].id, max(head, page[-1].id))
            if len(page) < PAGE:
                return
            after = page[-1].id


def _counted(notifications: Iterator[Notification], result: StoreVerification) -> Iterator[Notification]:
    for notification in notifications:
        result.checked += 1
        yield notification
