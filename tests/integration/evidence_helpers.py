"""Making bundles, and tampering with them the ways a forger would, for the evidence tests."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from incidents.evidence import merkle, selective
from incidents.evidence.bundle import EVENTS, MANIFEST, SUMMED_FILES, SUMS
from incidents.evidence.canonical import canonical


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def flip_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def resum(files: dict[str, bytes]) -> None:
    """What a forger does next: rewrite SHA256SUMS to match the changed files (but cannot re-sign)."""
    files[SUMS] = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in SUMMED_FILES).encode()


def tamper_events(
    source: Path, target: Path, change: Callable[[list[dict[str, Any]]], None], manifest_too: bool = False, rewrite_sums: bool = False
) -> Path:
    files = read_zip(source)
    document = json.loads(files[EVENTS])
    change(document["events"])
    files[EVENTS] = canonical(document)
    if manifest_too:
        manifest = json.loads(files[MANIFEST])
        leaves = [selective.leaf_from(e, canonical) for e in document["events"]]
        manifest["events"] = [
            {"incident_id": e["incident_id"], "sequence": e["sequence"], "leaf_hash": leaf.hex()}
            for e, leaf in zip(document["events"], leaves)
        ]
        manifest["merkle"]["root"] = merkle.root_from_leaf_hashes(leaves).hex()
        manifest["merkle"]["tree_size"] = len(leaves)
        files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    if rewrite_sums:
        resum(files)
    return write_zip(target, files)


def position(events: list[dict[str, Any]], incident: str, sequence: int) -> int:
    return next(i for i, e in enumerate(events) if e["incident_id"] == incident and e["sequence"] == sequence)
