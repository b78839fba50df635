"""What the store alone cannot show: that its last checkpoints were cut off, with the events they
covered (a store cut back, or restored from an older backup). Whoever signs a checkpoint also
notes the newest one in a small file beside the signing key, outside the database;
`incidents verify-store` on the same machine compares the store's chain with it. Where the file
is not there (the checkpoints were signed on another machine), the verifier prints the last
checkpoint's number and chain hash for a person to compare instead.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .store_checkpoint import Problem

FILE_NAME = "checkpoint-head.json"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    number: int
    chain_hash: str
    last: int  # the last event it covered
    signed_at: str


def head_file(signing_key_file: Path) -> Path:
    return signing_key_file.with_name(FILE_NAME)


def remember(path: Path, recorded: Sequence) -> None:
    """Note the newest of the checkpoints just recorded, unless a newer one is noted already."""
    if not recorded:
        return
    newest = recorded[-1]
    known = recall(path)
    if known is not None and known.number >= newest.number:
        return
    head = Head(newest.number, newest.chain_hash, newest.last, newest.signed_at)
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-head-")
        with os.fdopen(fd, "w") as file:
            json.dump(head.__dict__, file)
        os.replace(temporary, path)
    except OSError as error:  # a read-only folder: the checkpoint is recorded all the same
        logger.warning("Could not note checkpoint %d in %s (%s): verify-store will print its chain hash to compare by eye", newest.number, path, error)


def recall(path: Path) -> Head | None:
    try:
        return Head(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return None  # unreadable: compare by eye, as without the file


def compare_head(head: Head, chain: dict[int, str], last_number: int) -> list[Problem]:
    """Problems when the store's chain lacks or differs from the checkpoint noted here."""
    if head.number > last_number:
        gone = f"checkpoint {head.number}" if head.number == last_number + 1 else f"checkpoints {last_number + 1}–{head.number}"
        return [
            Problem(
                "checkpoint",
                f"this machine signed checkpoint {head.number} at {head.signed_at} (covering events up to #{head.last}), but the "
                f"store's last checkpoint is {last_number or 'none'}: {gone} missing, as the store was cut back or restored "
                "from an older backup; events recorded since may be lost",
                checkpoint=head.number,
            )
        ]
    if head.number in chain and chain[head.number] != head.chain_hash:
        return [
            Problem(
                "checkpoint",
                f"checkpoint {head.number} in the store is not the one this machine signed at {head.signed_at} (its chain hash differs)",
                checkpoint=head.number,
            )
        ]
    return []
