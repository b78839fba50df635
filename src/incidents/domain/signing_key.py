"""The deployment's signing key, kept in the event store so that every process signs with it.

It is one event at a fixed id and version 1: the store's optimistic concurrency lets exactly one
process record it, and every other process reads the one recorded. Like every stored event it is
encrypted with the deployment's cipher key. `incidents keys rotate-signing` records the next
version with a new key: the newest signs from its event's time on, and each older one stays, with
the period it was in use, to check what it signed then.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import DomainEvent

SIGNING_KEY_ID = uuid.UUID("5b1f0c2e-8d4a-5e37-a6c9-2f7e1d3b9a64")


class SigningKeyKept(DomainEvent):
    """The Ed25519 private key (PKCS8 PEM) that signs checkpoints and evidence bundles."""

    private_key: str
    fingerprint: str
    origin: str  # "made" by the first process to start, the key file it was adopted from, or "rotated"
