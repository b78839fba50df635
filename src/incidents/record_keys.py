"""Each record's own data key (envelope encryption), so that disposing of a record is destroying its key.

The events of an incident, a disclosure request or a practice recording (the aggregates whose class says OWN_KEY) are
encrypted with a key of the record's own, made when its first event is written. The key is
kept wrapped (AES-GCM) by the deployment's newest key, in a table of the same database as the
events (`record_keys`), never in the immutable event log: deleting its row is what disposal
does, and the record's events stay in the log, signed and unreadable. `incidents keys rotate`
rewraps every row with the new deployment key; no event is rewritten.

A record whose first event was written before record keys (a store made earlier) has no row:
its events stay under the deployment key until `incidents keys adopt-record-keys` gives it one
(key_adoption.py; docs/retention.md says what that means for disposal).
"""

from __future__ import annotations

import os
import ssl
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeptKeyAESCipher(Protocol):
    """The deployment's cipher (mapping.py), which wraps the records' keys."""

    newest_key_id: bytes
    oldest_key_id: bytes

    def aesgcm_of(self, key_id: bytes) -> AESGCM: ...

# A record-keyed event begins with this mark, then the nonce, the tag and the ciphertext.
RECORD_MARK = b"\xffIRK"
# OpenSSL's generator (as strong as os.urandom) keeps the GIL, so a save on the event loop does not hand it to the writer thread.
random_bytes = ssl.RAND_bytes
WRAP_AAD = b"incidents-record-key:"
TABLE = "record_keys"


def note_disposed(register: Path, record_id: UUID, line: str) -> None:
    """Add a record to the register of disposals kept beside the deployment key (never in the
    store, so that a restore of an older backup finds it and destroys the key again)."""
    fd = os.open(register, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as file:
        file.write(f"{record_id} {line}\n")
        file.flush()
        os.fsync(file.fileno())


def disposed_in(register: Path) -> list[UUID]:
    """The records the register names; none if there is no register."""
    if not register.exists():
        return []
    return [UUID(line.split()[0]) for line in register.read_text().splitlines() if line.strip()]


class RecordKeyDestroyed(ValueError):
    """The record's key is gone: the record was disposed of (or its key row was removed)."""


def seal(key: bytes, originator_id: UUID, plaintext: bytes) -> bytes:
    nonce = random_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, originator_id.bytes)
    return RECORD_MARK + nonce + sealed[-16:] + sealed[:-16]


def open_sealed(aesgcm: AESGCM, originator_id: UUID, ciphertext: bytes) -> bytes:
    nonce, tag, encrypted = ciphertext[4:16], ciphertext[16:32], ciphertext[32:]
    return aesgcm.decrypt(nonce, encrypted + tag, originator_id.bytes)


class RecordKeys:
    """The wrapped record keys of one store, with the unwrapped ones kept per process (a key
    destroyed by another process is forgotten here when its disposal is read: `forget`)."""

    def __init__(self, cipher: KeptKeyAESCipher, backend: _Backend) -> None:
        self._cipher = cipher
        self._backend = _OneAtATime(backend)
        self._keys: dict[UUID, AESGCM] = {}
        self._none: set[UUID] = set()  # records known to have no key of their own
        self._pending: dict[UUID, tuple[AESGCM, bytes, bytes]] = {}  # new keys the event store's recorder writes
        self._with_events = False
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, cipher: KeptKeyAESCipher, env: Any) -> RecordKeys:
        module = env.get("PERSISTENCE_MODULE") or ""
        if "sqlite" in module and env.get("SQLITE_DBNAME") and "memory" not in env.get("SQLITE_DBNAME"):
            return cls(cipher, _SQLite(env.get("SQLITE_DBNAME")))
        if "postgres" in module.lower():
            return cls(cipher, _Postgres(env))
        return cls(cipher, _MEMORY.setdefault(cipher.oldest_key_id, _Memory()))

    # Wrapping -------------------------------------------------------------

    def _wrap(self, originator_id: UUID, raw: bytes) -> tuple[bytes, bytes]:
        key_id = self._cipher.newest_key_id
        nonce = random_bytes(12)
        return key_id, nonce + self._cipher.aesgcm_of(key_id).encrypt(nonce, raw, WRAP_AAD + originator_id.bytes)

    def wrap(self, originator_id: UUID, raw: bytes) -> tuple[bytes, bytes]:
        """A key given to an older record (key_adoption.py): its newest key id and wrapped form."""
        return self._wrap(originator_id, raw)

    def _unwrap(self, originator_id: UUID, key_id: bytes, wrapped: bytes) -> bytes:
        return self._cipher.aesgcm_of(key_id).decrypt(wrapped[:12], wrapped[12:], WRAP_AAD + originator_id.bytes)

    # Use -------------------------------------------------------------------

    def written_with_events(self) -> None:
        """From now on a new key is written by the event store's recorder, in the transaction of
        the record's first event (rows_to_write, settled), not in a commit of its own."""
        self._backend.ensure()
        self._with_events = True

    def rows_to_write(self, stored_events: Any) -> list[tuple[UUID, bytes, bytes]]:
        with self._lock:
            pending = [(e.originator_id, self._pending.get(e.originator_id)) for e in stored_events if e.originator_version == 1]
        return [(originator_id, found[1], found[2]) for originator_id, found in pending if found is not None]

    def settled(self, stored_events: Any, committed: bool) -> None:
        """The transaction that wrote these events ended: a key it wrote is now the record's."""
        with self._lock:
            for e in stored_events:
                found = self._pending.pop(e.originator_id, None) if e.originator_version == 1 else None
                if found is not None and committed:
                    self._keys[e.originator_id] = found[0]

    def key_for_new(self, originator_id: UUID) -> AESGCM:
        """The key of a record whose first event is being written: made now, or the one another
        writer of the same first event made (a form sent twice)."""
        found = self._keys.get(originator_id)
        if found is not None:
            return found
        if self._with_events:
            with self._lock:
                pending = self._pending.get(originator_id)
                if pending is None:
                    raw = random_bytes(32)
                    pending = self._pending[originator_id] = (AESGCM(raw), *self._wrap(originator_id, raw))
            return pending[0]
        key_id, wrapped = self._wrap(originator_id, random_bytes(32))
        self._backend.insert(originator_id, key_id, wrapped)
        found = self.key_of(originator_id)
        assert found is not None
        return found

    def key_of(self, originator_id: UUID) -> AESGCM | None:
        found = self._keys.get(originator_id)
        if found is not None or originator_id in self._none:
            return found
        row = self._backend.select(originator_id)
        if row is None:
            return None
        try:
            aesgcm = AESGCM(self._unwrap(originator_id, *row))
        except InvalidTag:
            raise ValueError("Invalid cipher tag: the record's key is wrapped by another deployment key") from None
        with self._lock:
            self._keys[originator_id] = aesgcm
        return aesgcm

    def has_no_key(self, originator_id: UUID) -> bool:
        """Whether a record written before record keys has none (checked once per process)."""
        if originator_id in self._keys:
            return False
        if originator_id in self._none:
            return True
        if self._backend.select(originator_id) is None:
            with self._lock:
                self._none.add(originator_id)
            return True
        return False

    def confirm(self, originator_id: UUID) -> None:
        """Forget a key kept here whose row is gone (a disposal by another process of the deployment)."""
        if originator_id in self._keys and self._backend.select(originator_id) is None:
            self.forget(originator_id)

    def forget(self, originator_id: UUID) -> None:
        with self._lock:
            self._keys.pop(originator_id, None)

    def destroy(self, originator_id: UUID) -> bool:
        """Delete the record's key row so that no page of the database keeps it; True if there was one."""
        self.forget(originator_id)
        return self._backend.delete(originator_id)

    def rewrap_all(self) -> int:
        """Every key wrapped again by the newest deployment key; the number rewrapped."""
        count = 0
        for originator_id, key_id, wrapped in self._backend.every():
            if key_id == self._cipher.newest_key_id:
                continue
            new_id, new_wrapped = self._wrap(originator_id, self._unwrap(originator_id, key_id, wrapped))
            self._backend.replace(originator_id, key_id, new_id, new_wrapped)
            count += 1
        return count

    def count(self) -> int:
        return sum(1 for _ in self._backend.every())


class _Backend:
    def ensure(self) -> None: ...
    def insert(self, originator_id: UUID, key_id: bytes, wrapped: bytes) -> None: ...
    def select(self, originator_id: UUID) -> tuple[bytes, bytes] | None: ...
    def delete(self, originator_id: UUID) -> bool: ...
    def every(self) -> list[tuple[UUID, bytes, bytes]]: ...
    def replace(self, originator_id: UUID, old_id: bytes, key_id: bytes, wrapped: bytes) -> None: ...


class _OneAtATime(_Backend):
    """A backend's calls one at a time: it has one connection (a process's threads would
    otherwise open one each), and a key is looked up once per record and process."""

    def __init__(self, backend: _Backend) -> None:
        self._inner = backend
        self._lock = threading.Lock()

    def ensure(self) -> None:
        with self._lock:
            self._inner.ensure()

    def insert(self, originator_id: UUID, key_id: bytes, wrapped: bytes) -> None:
        with self._lock:
            self._inner.insert(originator_id, key_id, wrapped)

    def select(self, originator_id: UUID) -> tuple[bytes, bytes] | None:
        with self._lock:
            return self._inner.select(originator_id)

    def delete(self, originator_id: UUID) -> bool:
        with self._lock:
            return self._inner.delete(originator_id)

    def every(self) -> list[tuple[UUID, bytes, bytes]]:
        with self._lock:
            return self._inner.every()

    def replace(self, originator_id: UUID, old_id: bytes, key_id: bytes, wrapped: bytes) -> None:
        with self._lock:
            self._inner.replace(originator_id, old_id, key_id, wrapped)


class _Memory(_Backend):
    def __init__(self) -> None:
        self.rows: dict[UUID, tuple[bytes, bytes]] = {}

    def insert(self, originator_id: UUID, key_id: bytes, wrapped: bytes) -> None:
        self.rows.setdefault(originator_id, (key_id, wrapped))

    def select(self, originator_id: UUID) -> tuple[bytes, bytes] | None:
        return self.rows.get(originator_id)

    def delete(self, originator_id: UUID) -> bool:
        return self.rows.pop(originator_id, None) is not None

    def every(self) -> list[tuple[UUID, bytes, bytes]]:
        return [(i, k, w) for i, (k, w) in self.rows.items()]

    def replace(self, originator_id: UUID, old_id: bytes, key_id: bytes, wrapped: bytes) -> None:
        self.rows[originator_id] = (key_id, wrapped)


# A memory store's keys, shared by the process's mappers of the same deployment key (its oldest,
# which a rotation keeps), as the views of a memory store read with mappers of their own.
_MEMORY: dict[bytes, _Memory] = {}

INSERT_SQLITE = f"INSERT INTO {TABLE} VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
INSERT_POSTGRES = f"INSERT INTO {TABLE} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (originator_id TEXT PRIMARY KEY, key_id BLOB NOT NULL, wrapped BLOB NOT NULL)"


class _SQLite(_Backend):
    """A connection of its own to the events' file; deletes overwrite the freed bytes
    (secure_delete) and the write-ahead log is emptied after, so no page or frame keeps a key."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db_made: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._db_made is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA secure_delete=ON")
            db.execute(CREATE)
            self._db_made = db
        return self._db_made

    def ensure(self) -> None:
        self._db()

    def insert(self, originator_id: UUID, key_id: bytes, wrapped: bytes) -> None:
        self._db().execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (str(originator_id), key_id, wrapped))

    def select(self, originator_id: UUID) -> tuple[bytes, bytes] | None:
        # Every row fetched, so the statement ends with its read transaction: one left open would
        # make this connection's next write fail at once (a snapshot another writer moved past).
        rows = self._db().execute(f"SELECT key_id, wrapped FROM {TABLE} WHERE originator_id = ?", (str(originator_id),)).fetchall()
        return (bytes(rows[0][0]), bytes(rows[0][1])) if rows else None

    def delete(self, originator_id: UUID) -> bool:
        db = self._db()
        deleted = db.execute(f"DELETE FROM {TABLE} WHERE originator_id = ?", (str(originator_id),)).rowcount > 0
        empty_wal(db)
        return deleted

    def every(self) -> list[tuple[UUID, bytes, bytes]]:
        return [(UUID(i), bytes(k), bytes(w)) for i, k, w in self._db().execute(f"SELECT originator_id, key_id, wrapped FROM {TABLE}")]

    def replace(self, originator_id: UUID, old_id: bytes, key_id: bytes, wrapped: bytes) -> None:
        db = self._db()
        db.execute(f"UPDATE {TABLE} SET key_id = ?, wrapped = ? WHERE originator_id = ? AND key_id = ?", (key_id, wrapped, str(originator_id), old_id))
        empty_wal(db)


def empty_wal(db: sqlite3.Connection, attempts: int = 50) -> None:
    """Copy the write-ahead log into the file and cut it to nothing (frames of a deleted row's
    page stay in the log until then); a reader in the middle of a read delays it, so tried again."""
    for _ in range(attempts):
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(0.1)
    raise OSError("The write-ahead log could not be emptied: a reader kept it busy. Run the disposal again.")


class _Postgres(_Backend):
    def __init__(self, env: Any) -> None:
        self._kwargs = dict(
            dbname=env.get("POSTGRES_DBNAME"), host=env.get("POSTGRES_HOST"), port=env.get("POSTGRES_PORT"),
            user=env.get("POSTGRES_USER"), password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT") or 5), application_name="incidents record keys",
        )
        self._db_made: Any = None

    def _db(self) -> Any:
        import psycopg

        if self._db_made is None or self._db_made.closed or self._db_made.broken:
            db = psycopg.connect(**self._kwargs)
            db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (originator_id UUID PRIMARY KEY, key_id BYTEA NOT NULL, wrapped BYTEA NOT NULL)")
            self._db_made = db
        return self._db_made

    def ensure(self) -> None:
        self._db()

    def insert(self, originator_id: UUID, key_id: bytes, wrapped: bytes) -> None:
        self._db().execute(f"INSERT INTO {TABLE} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", (originator_id, key_id, wrapped))

    def select(self, originator_id: UUID) -> tuple[bytes, bytes] | None:
        row = self._db().execute(f"SELECT key_id, wrapped FROM {TABLE} WHERE originator_id = %s", (originator_id,)).fetchone()
        return (bytes(row[0]), bytes(row[1])) if row else None

    def delete(self, originator_id: UUID) -> bool:
        db = self._db()
        deleted = db.execute(f"DELETE FROM {TABLE} WHERE originator_id = %s", (originator_id,)).rowcount > 0
        db.execute(f"VACUUM {TABLE}")  # the deleted row's tuple is otherwise kept until autovacuum reaches it
        return deleted

    def every(self) -> list[tuple[UUID, bytes, bytes]]:
        return [(i, bytes(k), bytes(w)) for i, k, w in self._db().execute(f"SELECT originator_id, key_id, wrapped FROM {TABLE}")]

    def replace(self, originator_id: UUID, old_id: bytes, key_id: bytes, wrapped: bytes) -> None:
        self._db().execute(
            f"UPDATE {TABLE} SET key_id = %s, wrapped = %s WHERE originator_id = %s AND key_id = %s", (key_id, wrapped, originator_id, old_id)
        )
