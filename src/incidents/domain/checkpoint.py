"""A signed checkpoint of the event store: the fact that, at a moment, the stored events of one
range of the notification log had these exact bytes.

Checkpoints are the events of one log (`CHECKPOINT_LOG_ID`), numbered by their version from 1,
each starting where the one before it ended. What a checkpoint holds and how it is hashed and
signed is in `incidents.evidence.store_checkpoint`.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import DomainEvent

CHECKPOINT_LOG_ID = uuid.UUID("0c4e6b8a-3f1d-5a27-9b40-6e2d7c1f8a53")


class CheckpointSigned(DomainEvent):
    """One link of the checkpoint chain (its number is `originator_version`)."""

    statement: str  # the canonical JSON that was signed (see store_checkpoint.Statement)
    digests: str  # base64 of one 32-byte SHA-256 per event of the range, in notification order
    aggregates: list[str]  # the distinct aggregate ids of the range's events
    aggregate_of: list[int]  # per event, its aggregate's index in `aggregates`
    versions: list[int]  # per event, its aggregate version
    signature: str  # base64 Ed25519 signature over `statement`


# The log of the signed statements of `incidents keys adopt-record-keys` (one event per run).
ADOPTION_LOG_ID = uuid.UUID("5b0d3e72-9a41-4c6e-8f15-2d7a6c9e0b34")


class RecordKeysAdopted(DomainEvent):
    """Records stored before record keys were re-encrypted in place under keys of their own: the
    signed statement names, per rewritten event, the digest of its row before and after, so that
    the checkpoints signed before still verify (see store_checkpoint.AdoptionStatement)."""

    statement: str  # canonical JSON that was signed
    signature: str  # base64 Ed25519 signature over `statement`
