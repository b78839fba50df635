"""Counting failed sign-ins where every app instance sees them, so guessing is slow but staff are not locked out.

The design, and why:

- Per account (per username typed, whether or not it exists, so the answers reveal nothing): an
  attempt is reserved, atomically in the shared store, before the password is checked. Once an
  account's attempts in the window reach the limit, further attempts are refused (429 with
  Retry-After) without checking, so simultaneous guesses cannot all be checked. A right password
  clears the account's count.
- Per client address: failures only slow down the failed answers from that address. An address
  never refuses anyone: behind a proxy or a practice's shared connection, one address is every
  member of staff, and failures there must not stop another person's right password.

Counts live in a fixed window per key (a start time and a count), one atomic upsert per attempt:
in a SQLite file beside the event store, or a table in the PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

WINDOW_SECONDS = 15 * 60
LOCK_AFTER = 10  # attempts per account in a window before further ones are refused unchecked
SLOW_AFTER = 3  # failures per account before its failed answers are delayed
ADDRESS_SLOW_AFTER = 30  # failures per address before its failed answers are delayed
MAX_DELAY_SECONDS = 4.0
PRUNE_EVERY_SECONDS = 60.0


class AttemptStore(Protocol):
    def add(self, key: str, now: float, window: float) -> tuple[int, float]:
        """Counts one more attempt for the key; returns the count and the window's start."""

    def take_back(self, key: str) -> None:
        """Forgets one attempt (a reservation that turned out right)."""

    def clear(self, key: str) -> None: ...

    def count(self, key: str, now: float, window: float) -> int: ...

    def prune(self, before: float) -> None: ...

    def close(self) -> None: ...


SQL_ADD = """
INSERT INTO sign_in_attempts (key, started, count) VALUES ({p}, {p}, 1)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN sign_in_attempts.started <= {p} THEN 1 ELSE sign_in_attempts.count + 1 END,
  started = CASE WHEN sign_in_attempts.started <= {p} THEN excluded.started ELSE sign_in_attempts.started END
RETURNING count, started
"""
SQL_TAKE_BACK = "UPDATE sign_in_attempts SET count = count - 1 WHERE key = {p} AND count > 0"
SQL_CLEAR = "DELETE FROM sign_in_attempts WHERE key = {p}"
SQL_COUNT = "SELECT count FROM sign_in_attempts WHERE key = {p} AND started > {p}"
SQL_PRUNE = "DELETE FROM sign_in_attempts WHERE started <= {p}"
SQL_CREATE = "CREATE TABLE IF NOT EXISTS sign_in_attempts (key TEXT PRIMARY KEY, started DOUBLE PRECISION NOT NULL, count INTEGER NOT NULL)"


class _Statements:
    """The store's operations, the same on both databases; each subclass runs a statement."""

    def _run(self, sql: str, *args: object) -> list[tuple]:
        raise NotImplementedError

    def add(self, key: str, now: float, window: float) -> tuple[int, float]:
        count, started = self._run(SQL_ADD, key, now, now - window, now - window)[0]
        return int(count), float(started)

    def take_back(self, key: str) -> None:
        self._run(SQL_TAKE_BACK, key)

    def clear(self, key: str) -> None:
        self._run(SQL_CLEAR, key)

    def count(self, key: str, now: float, window: float) -> int:
        rows = self._run(SQL_COUNT, key, now - window)
        return int(rows[0][0]) if rows else 0

    def prune(self, before: float) -> None:
        self._run(SQL_PRUNE, before)


class SqliteAttemptStore(_Statements):
    """A small SQLite file (":memory:" for an in-memory event store); each statement is atomic
    across every process that opens the file."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():  # readable by the service's owner only, like the other files it makes
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, stat.S_IRUSR | stat.S_IWUSR))
        self._db = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SQL_CREATE)

    def _run(self, sql: str, *args: object) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql.format(p="?"), args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresAttemptStore(_Statements):
    """A table in the deployment's PostgreSQL database, shared by every app instance."""

    def __init__(self, conninfo: str, idle_seconds: float = 10.0) -> None:
        from psycopg_pool import ConnectionPool

        from incidents.postgres_store import SCHEMA_LOCK_CLASS, process_name

        # Two connections at most, none kept once idle, named like the process's other pools: part of the connection budget.
        self._pool = ConnectionPool(
            conninfo, min_size=0, max_size=2, max_idle=max(idle_seconds, 1.0),
            kwargs={"autocommit": True, "application_name": process_name()}, open=True,
        )
        # Made under a transaction's advisory lock: CREATE TABLE IF NOT EXISTS run by two apps started
        # together fails in one of them (a duplicate type or key), so they take turns.
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (SCHEMA_LOCK_CLASS, zlib.crc32(b"sign_in_attempts") - 2**31))
            conn.execute(SQL_CREATE)

    def _run(self, sql: str, *args: object) -> list[tuple]:
        with self._pool.connection() as conn:
            cursor = conn.execute(sql.format(p="%s"), args)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        self._pool.close()


@dataclass(frozen=True)
class Reservation:
    """One attempt, counted before its password is checked."""

    account_key: str
    address_key: str
    refused_for: float  # seconds until the account may try again; 0 when this attempt may be checked


def account_key(username: str) -> str:
    """A digest of the name as typed: whatever it holds (a NUL, a password typed in the wrong
    field) is neither stored readable nor refused by the database."""
    name = username.strip().lower().encode("utf-8", "surrogatepass")
    return "user:" + hashlib.sha256(name).hexdigest()


def address_key(address: str) -> str:
    return "addr:" + address


@dataclass(eq=False)
class SignInThrottle:
    """The rules above, over a store every instance shares. Blocking: call it from a thread."""

    store: AttemptStore
    window: float = WINDOW_SECONDS
    lock_after: int = LOCK_AFTER
    slow_after: int = SLOW_AFTER
    address_slow_after: int = ADDRESS_SLOW_AFTER
    _pruned: float = field(default=0.0, init=False)

    def reserve(self, username: str, address: str) -> Reservation:
        now = time.time()
        self._prune(now)
        key = account_key(username)
        count, started = self.store.add(key, now, self.window)
        if count > self.lock_after:
            self.store.take_back(key)  # a refused attempt is not checked, so it does not count
            return Reservation(key, address_key(address), max(1.0, started + self.window - now))
        return Reservation(key, address_key(address), 0.0)

    def succeeded(self, reservation: Reservation) -> None:
        self.store.clear(reservation.account_key)

    def failed(self, reservation: Reservation) -> float:
        """Counts the failure against the address; returns how long to hold back the answer."""
        now = time.time()
        address_count, _ = self.store.add(reservation.address_key, now, self.window)
        account_count = self.store.count(reservation.account_key, now, self.window)
        extra = max(account_count - self.slow_after + 1, (address_count - self.address_slow_after + 1) / 10)
        return min(MAX_DELAY_SECONDS, 0.5 * extra) if extra > 0 else 0.0

    def _prune(self, now: float) -> None:
        if now - self._pruned > PRUNE_EVERY_SECONDS:
            self._pruned = now
            self.store.prune(now - self.window)

    def close(self) -> None:
        self.store.close()


def attempt_store_for(kind: str, location: str, database_url: str, idle_seconds: float = 10.0) -> AttemptStore:
    """The store beside the deployment's events: kind and location as storage.Store gives them."""
    if kind == "postgres":
        return PostgresAttemptStore(database_url, idle_seconds)
    if kind == "sqlite":
        events = Path(location)
        return SqliteAttemptStore(events.with_name(events.stem + "-sign-in-attempts.sqlite"))
    return SqliteAttemptStore(":memory:")
