"""One signing key per deployment, kept in the event store, the same for every process.

The first process to need it records it (`SigningKeyKept` at a fixed id and version 1): the key
of an existing signing-key.pem (INCIDENTS_SIGNING_KEY_FILE) is adopted, otherwise one is made.
Two processes racing both try to record version 1; the store lets one win, and the other reads
the winner's. A key file that differs from the stored key is never signed with: named in the
setting, it stops the process; left in a data folder by an older version, it is only warned of.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError

from ..domain.checkpoint import CHECKPOINT_LOG_ID
from ..domain.signing_key import SIGNING_KEY_ID, SigningKeyKept
from ..evidence.signing import SigningKey, SigningKeyError, from_pem, generate, read_key_file
from ..evidence.store_checkpoint import read_checkpoint
from ..settings import Settings

if TYPE_CHECKING:
    from .service import IncidentLog

logger = logging.getLogger(__name__)


def stored_key(log: IncidentLog) -> SigningKey | None:
    """The newest key kept in the store: the one that signs now."""
    stored = log.recorder.select_events(SIGNING_KEY_ID, desc=True, limit=1)
    if not stored:
        return None
    event = log.mapper.to_domain_event(stored[0])
    return from_pem(event.private_key, "kept in the event store")


def rotate_signing_key(log: IncidentLog) -> tuple[SigningKey, SigningKey]:
    """Record a new signing key after the newest; the older ones stay, to check what they signed.
    Returns the key replaced and the new one."""
    stored = log.recorder.select_events(SIGNING_KEY_ID, desc=True, limit=1)
    if not stored:
        raise SigningKeyError("The event store keeps no signing key yet: there is nothing to rotate (`incidents checkpoint` makes one)")
    old = from_pem(log.mapper.to_domain_event(stored[0]).private_key, "kept in the event store")
    new = generate()
    event = SigningKeyKept(
        originator_id=SIGNING_KEY_ID, originator_version=stored[0].originator_version + 1, timestamp=datetime.now(timezone.utc),
        private_key=new.private_pem(), fingerprint=new.fingerprint(), origin="rotated",
    )
    log.save(event)  # an IntegrityError: another rotation went first
    return old, new


def _checkpoints_key(log: IncidentLog) -> str | None:
    """The fingerprint the newest readable checkpoint names, if there is one."""
    stored = log.recorder.select_events(CHECKPOINT_LOG_ID, desc=True, limit=1)
    if not stored:
        return None
    try:
        return read_checkpoint(log.mapper.to_domain_event(stored[0])).statement.key
    except Exception:  # unreadable: verify-store names it; it cannot name a key here
        return None


def deployment_key(log: IncidentLog, settings: Settings, record: bool = True) -> SigningKey:
    """The key every process of this deployment signs with, recorded in the store on first use
    (unless record is False, as for a check that must not write). SigningKeyError says why a
    process may not sign."""
    path = settings.effective_signing_key_file
    named = settings.signing_key_file is not None
    for _ in range(3):
        kept = stored_key(log)
        if kept is not None:
            _check_file_agrees(kept, _leftover(path) if not named else read_key_file(path), path, named)
            return kept
        from_file = read_key_file(path)
        if named and from_file is None:
            raise SigningKeyError(f"INCIDENTS_SIGNING_KEY_FILE names {path}, which does not exist")
        signed_with = _checkpoints_key(log)
        if signed_with is not None and (from_file is None or from_file.fingerprint() != signed_with):
            holding = f"the key file {path} holds the key {from_file.fingerprint()}" if from_file else f"there is no key file at {path}"
            raise SigningKeyError(
                f"The store's checkpoints are signed with the key {signed_with}, which the store does not keep yet, "
                f"and {holding}. Start first the process that has that key (its INCIDENTS_SIGNING_KEY_FILE, or "
                "signing-key.pem in its data folder): it keeps the key in the store for every other process."
            )
        key = from_file or generate()
        if not record:
            if from_file is None:
                raise SigningKeyError(
                    f"No signing key: the event store keeps none and there is no key file at {path}. "
                    "Checkpoints are checked with the key that signed them: restore it, or set INCIDENTS_SIGNING_KEY_FILE."
                )
            return from_file
        event = SigningKeyKept(
            originator_id=SIGNING_KEY_ID, originator_version=1, timestamp=datetime.now(timezone.utc),
            private_key=key.private_pem(), fingerprint=key.fingerprint(), origin=str(path) if from_file else "made",
        )
        try:
            log.save(event)
        except IntegrityError:  # another process recorded it first: read theirs
            continue
        if from_file:
            logger.warning("Adopted the signing key %s (%s) into the event store: every process now signs with it", path, key.fingerprint())
            return SigningKey(key.private, adopted_from=path)
        logger.warning("Made the deployment's signing key %s and kept it in the event store", key.fingerprint())
        return SigningKey(key.private, made=True)
    raise SigningKeyError("The signing key could not be read back from the event store after recording it")


def _leftover(path) -> SigningKey | None:
    """A key file in a data folder, which the stored key makes unused: unreadable, it is only warned of."""
    try:
        return read_key_file(path)
    except SigningKeyError as error:
        logger.warning("%s; it is not used: this deployment signs with the key kept in its event store", error)
        return None


def _check_file_agrees(kept: SigningKey, from_file: SigningKey | None, path, named: bool) -> None:
    if from_file is None or from_file.fingerprint() == kept.fingerprint():
        return
    if named:
        raise SigningKeyError(
            f"INCIDENTS_SIGNING_KEY_FILE {path} holds the key {from_file.fingerprint()}, but this deployment signs "
            f"with the key kept in its event store, {kept.fingerprint()}: a process signing with another key would "
            "make checkpoints and bundles that do not verify. Unset INCIDENTS_SIGNING_KEY_FILE (the stored key is used) "
            "or point it to the stored key."
        )
    logger.warning(
        "The key file %s (%s) is not this deployment's signing key (%s, kept in the event store) and is not used: "
        "keep it only to check what it signed before, then remove it",
        path, from_file.fingerprint(), kept.fingerprint(),
    )
