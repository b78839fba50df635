"""Exported evidence bundles, kept so that the same bytes can be downloaded again.

A bundle holds personal data and may run to megabytes. It is kept as a file in the data folder,
under its request, encrypted with the event store's key (AES-GCM, as every stored event is), the
folder 0700 and the file 0600, written to a temporary file, synced and renamed, so a reader finds
the whole bundle or none. Not in the event store: every projection, rebuild and store check reads
every stored event, and a file can be removed when the bundle's retention ends.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol
from uuid import UUID

from ..domain.values import DomainError

PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600


class BundleNotKept(DomainError):
    """The bundle's bytes are not on this server (made before bundles were kept, or elsewhere)."""


class BundleDamaged(DomainError):
    """The kept bytes do not match the SHA-256 recorded at export."""


class Cipher(Protocol):
    def encrypt(self, plaintext: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes) -> bytes: ...


def zip_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BundleShelf:
    """Bundles by request and the SHA-256 of the zip (two bundles made in the same second can share
    a manifest, never their bytes); in memory when no folder is given (a store that keeps nothing)."""

    def __init__(self, cipher: Cipher, folder: Path | None = None) -> None:
        self.cipher = cipher
        self.folder = folder
        self._memory: dict[tuple[UUID, str], bytes] = {}

    def path(self, request_id: UUID, sha256: str) -> Path:
        assert self.folder is not None
        return self.folder / str(request_id) / f"{sha256}.zip.aes"

    def keep(self, request_id: UUID, data: bytes) -> str:
        """Keeps the bundle; its SHA-256."""
        sha256 = zip_sha256(data)
        sealed = self.cipher.encrypt(data)
        if self.folder is None:
            self._memory[(request_id, sha256)] = sealed
            return sha256
        target = self.path(request_id, sha256)
        for folder in (self.folder, target.parent):
            folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(sealed)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)
        return sha256

    def discard(self, request_id: UUID, sha256: str) -> None:
        if self.folder is None:
            self._memory.pop((request_id, sha256), None)
        else:
            self.path(request_id, sha256).unlink(missing_ok=True)

    def discard_request(self, request_id: UUID) -> int:
        """Every bundle kept for a request removed (its disposal); how many."""
        if self.folder is None:
            kept = [key for key in self._memory if key[0] == request_id]
            for key in kept:
                del self._memory[key]
            return len(kept)
        folder = self.folder / str(request_id)
        files = list(folder.iterdir()) if folder.is_dir() else []
        for file in files:
            file.unlink(missing_ok=True)
        if folder.is_dir():
            folder.rmdir()
        return len(files)

    def read(self, request_id: UUID, sha256: str) -> bytes:
        """The bundle's bytes, checked against the SHA-256 the request recorded for them."""
        if not sha256:
            raise BundleNotKept("This bundle was exported before bundles were kept: export a new one")
        if self.folder is None:
            sealed = self._memory.get((request_id, sha256))
        else:
            try:
                sealed = self.path(request_id, sha256).read_bytes()
            except FileNotFoundError:
                sealed = None
        if sealed is None:
            raise BundleNotKept("This bundle is not kept on this server: export a new one")
        try:
            data = self.cipher.decrypt(sealed)
        except ValueError:
            raise BundleDamaged("The kept bundle cannot be read with the store's key: export a new one") from None
        if zip_sha256(data) != sha256:
            raise BundleDamaged("The kept bundle is not the one exported (its SHA-256 differs): export a new one")
        return data
