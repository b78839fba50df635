"""The deployment's Ed25519 signing key, and the fingerprint people compare by eye.

The private key is kept in the event store (application/signing_key.py), so every process of a
deployment signs with the same one; a PEM file (INCIDENTS_SIGNING_KEY_FILE) is only read, to
adopt a key made before the store kept it or to name the key a process must sign with. Its
public key's fingerprint (SHA-256 of the DER
SubjectPublicKeyInfo, the same as `openssl pkey -pubin -outform DER | sha256sum`) is printed on
each bundle's certificate page and kept by the practice, so a bundle signed by a swapped key is
noticed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..settings import ConfigurationError


SALT_SECRET_LABEL = b"incidents evidence bundle: field salts/1"


class SigningKeyError(ConfigurationError):
    pass


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    created_at: Path | None = None  # the key file, when this call made it
    made: bool = False  # made by this call and kept in the event store
    adopted_from: Path | None = None  # the key file this call adopted into the event store

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def public_pem(self) -> bytes:
        return public_pem(self.public)

    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def salt_secret(self) -> bytes:
        """The secret a bundle's field salts are derived from: one-way from the private key, so the
        same event gets the same salts in every bundle this deployment signs, and a salt given out
        reveals nothing of the key (HMAC-SHA256 under the raw private key, with a label of its own)."""
        raw = self.private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        return hmac.digest(raw, SALT_SECRET_LABEL, "sha256")


def generate() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def load_or_create(path: Path) -> SigningKey:
    """The key in the PEM file at path, made (mode 0600) if the file does not exist yet."""
    if path.exists():
        return SigningKey(_read(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:  # another process made it first: use theirs
        return SigningKey(_read(path))
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return SigningKey(private, created_at=path)


def read_key_file(path: Path) -> SigningKey | None:
    """The key in the PEM file at path, or None if there is no such file."""
    try:
        return SigningKey(_read(path))
    except FileNotFoundError:
        return None


def from_pem(pem: str, where: str) -> SigningKey:
    return SigningKey(_parse(pem.encode(), where))


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except PermissionError:
        raise SigningKeyError(f"The signing key {path} cannot be read by this user: check its owner and mode") from None
    return _parse(data, str(path))


def _parse(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"The signing key {where} cannot be read as an unencrypted PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"The signing key {where} is not an Ed25519 key")
    return key


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, as 16 groups of 4 hex digits."""
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(der).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, with spaces or colons) in the grouped form, or ValueError."""
    digits = re.sub(r"[\s:]", "", text).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digits):
        raise ValueError(f"A key fingerprint is 64 hex digits (SHA-256), not {text!r}")
    return " ".join(digits[i : i + 4] for i in range(0, 64, 4))


def signature_valid(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True
