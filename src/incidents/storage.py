"""Where events are stored, chosen by configuration alone, and the key that encrypts them.

- ``sqlite:///path/to/file.sqlite`` (the embedded default, under the data folder)
- ``postgresql://user:password@host:port/dbname``
- ``memory://`` (the library's in-memory store, for unit tests)

Stored events are encrypted with AES-GCM. The key never sits beside the data in the database;
losing it loses the data, so the first run says where it is.

Events are not compressed: an event is small, and decompressing it costs more than decrypting
it, on every page that loads an incident and in every rebuild. Compressed events still read
(mapping.EventMapper).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from .mapping import key_ring
from .settings import ConfigurationError, Settings

CIPHER_TOPIC = "incidents.mapping:KeptKeyAESCipher"  # the library's AESCipher, keeping its key schedule
MAPPER_TOPIC = "incidents.mapping:EventMapper"
TRANSCODER_TOPIC = "incidents.mapping:FastJSONTranscoder"
POSTGRES_FACTORY_TOPIC = "incidents.postgres_store:PostgresFactory"  # the library's, making tables under a lock


class CipherKeyError(ConfigurationError):
    pass


@dataclass(frozen=True)
class Store:
    kind: str  # "sqlite", "postgres" or "memory"
    env: dict[str, str]
    location: str


def store_for(settings: Settings) -> Store:
    url = settings.effective_database_url
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return Store("memory", {"PERSISTENCE_MODULE": "eventsourcing.popo"}, "memory")
    if parsed.scheme == "sqlite":
        path = Path(unquote(url[len("sqlite:///") :])) if url.startswith("sqlite:///") else None
        if not path or not str(path):
            raise ConfigurationError(f"A SQLite URL looks like sqlite:///data/incidents.sqlite, not {url!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": "incidents.sqlite_subscription:SQLitePollingApplicationRecorder",
        }
        return Store("sqlite", env, str(path))
    if parsed.scheme in ("postgres", "postgresql"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise ConfigurationError(f"The PostgreSQL URL {url!r} names no database")
        env = {
            "PERSISTENCE_MODULE": POSTGRES_FACTORY_TOPIC,
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            # Also how long a call waits for a free connection of its pool; the library tries ten
            # times, so a request finds out that none is to be had in about 20 seconds, not 50.
            "POSTGRES_CONNECT_TIMEOUT": "2",
            # Every pool of a process (the event store's, each view's) keeps this many open, and
            # opens up to the overflow more under load, closed again once idle (README: connections).
            "POSTGRES_POOL_SIZE": str(settings.db_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(settings.db_max_overflow),
            "POSTGRES_POOL_MAX_IDLE": repr(settings.db_idle_seconds),
        }
        return Store("postgres", env, f"postgresql://{parsed.hostname}:{parsed.port or 5432}/{dbname}")
    raise ConfigurationError(
        f"INCIDENTS_DATABASE_URL {url!r} is not sqlite:///..., postgresql://... or memory://"
    )


PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def keep_private(store: Store, settings: Settings) -> None:
    """Only the user the app runs as may read the data folder: the folder 0700, the files in it
    0600 (an existing folder is tightened), and what this process makes later likewise (umask)."""
    if store.kind == "memory":
        return
    os.umask(0o077)
    folders = {settings.data_dir}
    if store.kind == "sqlite":
        folders.add(Path(store.location).parent)
    for folder in folders:
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        _tighten(folder, PRIVATE_FOLDER)
        for entry in os.scandir(folder):  # not deeper: the folder may be set to one that holds more
            if entry.is_file(follow_symlinks=False):
                _tighten(Path(entry.path), PRIVATE_FILE)
            elif entry.is_dir(follow_symlinks=False):
                _tighten(Path(entry.path), PRIVATE_FOLDER)


def _tighten(path: Path, mode: int) -> None:
    """A file or folder of another user (a read-only key folder, say) is left as it is, with a
    warning: the process may still only need to read it."""
    try:
        os.chmod(path, mode)
    except PermissionError:
        if stat.S_IMODE(path.stat().st_mode) & ~mode:
            logging.getLogger("incidents").warning("%s is readable by others and not this user's to tighten (chmod %o)", path, mode)


def new_cipher_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _valid_key(key: str, where: str) -> str:
    """One key, or a key ring (newest first, separated by commas or lines), each key checked;
    returned as the cipher reads it, comma-separated."""
    ring = key_ring(key)
    if not ring:
        raise CipherKeyError(f"The encryption key in {where} is empty")
    for number, member in enumerate(ring, 1):
        name = f"The encryption key in {where}" if len(ring) == 1 else f"Key {number} of the encryption keys in {where}"
        try:
            raw = base64.b64decode(member, validate=True)
        except ValueError:
            raise CipherKeyError(f"{name} is not base64") from None
        if len(raw) not in (16, 24, 32):
            raise CipherKeyError(f"{name} must be 16, 24 or 32 bytes, not {len(raw)}")
    return ",".join(ring)


def key_fingerprint(key_base64: str, purpose: str) -> str:
    """Names a secret key without revealing it: an HMAC under the key of a constant, as the views'
    check of the patient index key is."""
    digest = hmac.new(base64.b64decode(key_base64), f"incidents-key-fingerprint:{purpose}".encode(), hashlib.sha256).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def cipher_key_fingerprints(ring: str) -> list[str]:
    """Each key of the ring by its fingerprint, newest first."""
    return [key_fingerprint(key, "cipher") for key in key_ring(ring)]


@dataclass(frozen=True)
class Rotated:
    path: Path
    ring: str  # newest first


def rotate_cipher_key(settings: Settings) -> Rotated:
    """A new key at the head of the key file's ring, the older keys kept after it to read what
    they wrote. The file is replaced whole (a new file, renamed over it)."""
    if settings.cipher_key:
        raise CipherKeyError(
            "INCIDENTS_CIPHER_KEY is set, and a setting cannot be rewritten: make a key "
            "(`python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'`), then set "
            "INCIDENTS_CIPHER_KEY to it, a comma, and the current value, in every process at once"
        )
    path = settings.effective_key_file
    if not path.exists():
        raise CipherKeyError(f"There is no key file at {path} to rotate")
    ring = new_cipher_key() + "," + _valid_key(path.read_text(), str(path))
    made = path.with_name(f".{path.name}.rotating.{os.getpid()}")
    fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as file:
        file.write("\n".join(key_ring(ring)) + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(made, path)
    return Rotated(path, ring)


@dataclass(frozen=True)
class CipherKey:
    key: str
    created_at: Path | None = None  # the key file, when this run created it


def cipher_key(settings: Settings, store: Store, allow_create: bool) -> CipherKey:
    """The key from INCIDENTS_CIPHER_KEY, or from the key file, made on first run if allowed."""
    if settings.cipher_key:
        return CipherKey(_valid_key(settings.cipher_key, "INCIDENTS_CIPHER_KEY"))
    path = settings.effective_key_file
    if path.exists():
        return CipherKey(_valid_key(path.read_text().strip(), str(path)))
    if not allow_create:
        raise CipherKeyError(
            f"No encryption key: {path} is missing and INCIDENTS_CIPHER_KEY is not set. "
            "The stored events cannot be read without the key they were written with; "
            "restore the key file from your backup."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_cipher_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return CipherKey(key, created_at=path)


def secret_from_file(path: Path) -> str:
    """A signing secret kept in the data folder, made on first use, readable by its owner only."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def patient_index_key(settings: Settings) -> str:
    """The key of the patient blind index: INCIDENTS_PATIENT_INDEX_KEY, or the key file beside the
    encryption key's, made (readable by its owner only) on first use."""
    if settings.patient_index_key:
        return settings.patient_index_key
    path = settings.effective_patient_index_key_file
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_cipher_key()
    made = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    try:
        os.link(made, path)  # whole or not at all: a process starting alongside reads the same key
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        made.unlink()
    return key
