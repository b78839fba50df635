"""The projections lock, held by whoever writes or rebuilds the views: a file lock on SQLite, a renewed
lease row on PostgreSQL that a standby takes once it expires (README, "Rebuilding the views")."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
from eventsourcing.persistence import OperationalError
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from incidents.settings import ConfigurationError
from incidents.storage import Store

LEASE_SECONDS = 5.0
RENEW_SECONDS = 1.0
LOCK_WAIT_MS = 1000  # a statement on the lease waits this long for a row lock, then tries again later
TABLE = "incidents_projections_lease"
PROJECTIONS = "the projections"  # what a worker holds the lease for (a rebuild says otherwise)
logger = logging.getLogger("incidents.projections")


class RebuildRefused(ConfigurationError):
    """Projections are being written by someone else, or cannot be rebuilt here."""


class LockHeld(RebuildRefused):
    """Another process holds the projections lock; `holder` names it."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass
class ProjectionsLock:
    """An exclusive lock on `<data folder>/projections.lock` while projections are written."""

    path: Path
    _file: Any = None

    def acquire(self, doing: str) -> None:
        file = open(self.path, "a+")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            file.close()
            raise LockHeld(f"Cannot start {doing}: {holder} holds {self.path}. Stop it first.", holder=holder) from None
        file.seek(0)
        file.truncate()
        file.write(f"{doing} (process {os.getpid()})\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def lock_for(store: Store) -> ProjectionsLock | PostgresProjectionsLock | None:
    """The lock that whoever writes the views holds: none for the in-memory store."""
    if store.kind == "postgres":
        return PostgresProjectionsLock.from_env(store.env)
    return ProjectionsLock(Path(store.location).parent / "projections.lock") if store.kind == "sqlite" else None


@contextmanager
def holding_lock(store: Store, doing: str) -> Iterator[ProjectionsLock | PostgresProjectionsLock]:
    lock = lock_for(store)
    if lock is None:
        raise RebuildRefused("The in-memory store keeps no views")
    lock.acquire(doing)
    try:
        yield lock
    finally:
        lock.release()


class LeaseLost(OperationalError):
    """This process no longer holds the projections lease: another took it, or it could not renew it."""


def conninfo_from_env(env: dict[str, str]) -> dict[str, Any]:
    return {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env.get("POSTGRES_HOST", "127.0.0.1"),
        "port": env.get("POSTGRES_PORT", "5432"),
        "user": env.get("POSTGRES_USER", "postgres"),
        "password": env.get("POSTGRES_PASSWORD", ""),
        "connect_timeout": max(1, int(float(env.get("POSTGRES_CONNECT_TIMEOUT", "5")))),
        # A dropped network must fail a statement within seconds, not after TCP's many retries.
        "tcp_user_timeout": 3000, "keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2,
        "options": f"-c lock_timeout={LOCK_WAIT_MS} -c statement_timeout={LOCK_WAIT_MS * 3}",
    }


@dataclass
class _LeaseRow:
    """The lease row's database and schema, read by its holder (the lock) and by an app watching it."""

    conninfo: dict[str, Any]
    schema: str
    _connection: psycopg.Connection[Any] | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Any:
        return cls(conninfo_from_env(env), env.get("POSTGRES_SCHEMA", "").strip() or "public")

    @property
    def table(self) -> Any:
        return Identifier(self.schema, TABLE)

    def _connect(self, name: str) -> psycopg.Connection[Any]:
        return psycopg.connect(**self.conninfo, autocommit=True, application_name=name[:63], row_factory=dict_row)

    def _connected(self, name: str) -> psycopg.Connection[Any]:
        """The kept connection, made again once closed or dropped."""
        if self._connection is None or self._connection.closed:
            self._connection = self._connect(name)
        return self._connection

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _ensure_table(connection: psycopg.Connection[Any], table: Any) -> None:
    statement = SQL(
        "CREATE TABLE IF NOT EXISTS {0} (id smallint PRIMARY KEY CHECK (id = 1), token text NOT NULL, "
        "holder text NOT NULL, doing text NOT NULL, expires_at timestamptz NOT NULL, renewed_at timestamptz NOT NULL, "
        "session_pid integer, positions jsonb, behind_seconds double precision)"
    ).format(table)
    for attempt in range(3):
        try:
            connection.execute(statement)
            return
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
            if attempt == 2:  # another process made it at the same moment: it exists now
                raise
            time.sleep(0.05)


class Behind:
    """For how long the views have lacked an event that the store had, from samples of its last position."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def seconds(self, latest: int, slowest: int) -> float:
        now = time.monotonic()
        self.samples.append((now, latest))
        while self.samples and self.samples[0][1] <= slowest:
            self.samples.popleft()
        return now - self.samples[0][0] if self.samples else 0.0


@dataclass
class PostgresProjectionsLock(_LeaseRow):
    token: str = ""
    doing: str = ""
    report: Callable[[], tuple[dict[str, int], float] | None] | None = None  # positions, seconds behind
    lost: threading.Event = field(default_factory=threading.Event)
    lost_because: str = ""
    _renewed: float = 0.0  # monotonic time a successful renewal was sent
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def acquire(self, doing: str) -> None:
        holder = f"{doing} (process {os.getpid()} on {socket.gethostname()})"
        connection = self._connect(f"incidents: {holder}")
        try:
            _ensure_table(connection, self.table)
            token = uuid.uuid4().hex
            sent = time.monotonic()
            try:
                taken = connection.execute(
                    SQL(
                        "INSERT INTO {0} AS lease (id, token, holder, doing, expires_at, renewed_at, session_pid) "
                        "VALUES (1, %(token)s, %(holder)s, %(doing)s, now() + make_interval(secs => %(lease)s), now(), "
                        "pg_backend_pid()) "
                        "ON CONFLICT (id) DO UPDATE SET token = excluded.token, holder = excluded.holder, "
                        "doing = excluded.doing, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at, "
                        "session_pid = excluded.session_pid, positions = NULL, behind_seconds = NULL "
                        "WHERE lease.expires_at < now() "
                        "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = lease.session_pid) RETURNING token"
                    ).format(self.table),
                    {"token": token, "holder": holder, "doing": doing, "lease": LEASE_SECONDS},
                ).fetchone()
            except psycopg.errors.LockNotAvailable:  # the holder is inside a write: it still holds the lease
                taken = None
            if taken is None:
                row = connection.execute(SQL("SELECT holder FROM {0}").format(self.table)).fetchone()
                by = row["holder"] if row else "another process"
                raise LockHeld(
                    f"Cannot start {doing}: {by} holds the projections lock of schema {self.schema!r} "
                    f"in database {self.conninfo['dbname']!r}. Stop it first.",
                    holder=by,
                )
        except BaseException:
            connection.close()
            raise
        self._connection, self.token, self.doing, self._renewed = connection, token, doing, sent
        self.lost.clear()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._heartbeat, name="projections-lease", daemon=True)
        self._thread.start()

    def _heartbeat(self) -> None:
        while not self._stopping.wait(RENEW_SECONDS):
            try:
                status = self.report() if self.report is not None else None
            except Exception:  # the views cannot be read now: the lease is still renewed
                status = None
            sent = time.monotonic()
            try:
                mine = self._renew(status)
            except psycopg.Error as error:
                mine = None
                logger.warning("Could not renew the projections lease: %s", error)
                self._disconnect()  # connected again at the next renewal
            if mine:
                self._renewed = sent
            elif mine is False:
                self._lose("another process took the projections lease")
                return
            elif time.monotonic() - self._renewed >= LEASE_SECONDS - RENEW_SECONDS:
                self._lose(f"could not renew the projections lease for {LEASE_SECONDS:.0f} s")
                return

    def _renew(self, status: tuple[dict[str, int], float] | None) -> bool:
        positions, behind = status if status is not None else (None, None)
        row = self._connected(f"incidents: {self.doing} (process {os.getpid()})").execute(
            SQL(
                "UPDATE {0} SET expires_at = now() + make_interval(secs => %(lease)s), renewed_at = now(), "
                "session_pid = pg_backend_pid(), "
                "positions = coalesce(%(positions)s, positions), behind_seconds = coalesce(%(behind)s, behind_seconds) "
                "WHERE id = 1 AND token = %(token)s RETURNING token"
            ).format(self.table),
            {"lease": LEASE_SECONDS, "token": self.token, "behind": behind,
             "positions": Jsonb(positions) if positions is not None else None},
        ).fetchone()
        return row is not None

    def _lose(self, why: str) -> None:
        self.lost_because = why
        self.lost.set()
        logger.error("Lost the projections lock: %s; its views are no longer written here", why)

    def check(self) -> None:
        """Raise LeaseLost if the lease is lost, or might have run out by now without a renewal."""
        if not self.lost.is_set() and time.monotonic() - self._renewed >= LEASE_SECONDS - RENEW_SECONDS / 2:
            self._lose(f"could not renew the projections lease for {LEASE_SECONDS:.0f} s")
        if self.lost.is_set():
            raise LeaseLost(self.lost_because)

    def fence_writes_of(self, view: Any) -> None:
        """Make each write of the view check, in its transaction, that the lease is still this holder's."""
        write_tracking = view._insert_tracking

        def fenced(curs: Any, tracking: Any) -> None:
            if not self._holds(curs):
                self.lost_because = self.lost_because or "another process took the projections lease"
                self.lost.set()
                raise LeaseLost("another process holds the projections lease: nothing was written")
            write_tracking(curs, tracking)

        view._insert_tracking = fenced

    def fence(self, connection: psycopg.Connection[Any]) -> None:
        """In a transaction of the caller's connection (a rebuild's swap): the lease is still ours."""
        if not self._holds(connection.cursor(row_factory=dict_row)):
            raise LeaseLost("another process took the projections lease: the rebuilt views were not swapped in")

    def _holds(self, cursor: Any) -> bool:
        """Whether the lease is still this holder's, its row held until the transaction ends."""
        cursor.execute(SQL("SELECT token = %s AS mine FROM {0} WHERE id = 1 FOR SHARE").format(self.table), (self.token,), prepare=True)
        row = cursor.fetchone()
        return row is not None and row["mine"]

    def release(self) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=LOCK_WAIT_MS / 1000 * 4)
        try:
            # Ended now, so that a standby takes over at once (the row stays: /healthz reads it).
            self._connected(f"incidents: {self.doing} (stopping)").execute(
                SQL("UPDATE {0} SET expires_at = now() - interval '1 millisecond' WHERE id = 1 AND token = %s").format(self.table),
                (self.token,),
            )
        except psycopg.Error:
            pass  # the database is gone: the lease runs out by itself
        finally:
            self._disconnect()


@dataclass(frozen=True)
class WorkerSeen:
    holder: str
    doing: str
    seconds_ago: float  # since its last renewal
    expired: bool  # its lease ran out, or the server ended its session (it died): anyone may take it
    behind_seconds: float
    positions: dict[str, int]

    @property
    def projecting(self) -> bool:
        """A process holds the lease to write the views now (not a rebuild, not a lapsed lease)."""
        return not self.expired and self.doing == PROJECTIONS


@dataclass
class WorkerWatch(_LeaseRow):
    """An app's view of whoever writes its views in another process, from the lease row."""

    CACHE_SECONDS = 0.5
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _seen: tuple[float, WorkerSeen | None] | None = None

    def __post_init__(self) -> None:
        self.conninfo = {**self.conninfo, "options": f"-c statement_timeout={LOCK_WAIT_MS * 2}"}

    def look(self) -> WorkerSeen | None:
        """The lease as last renewed (None if no process ever held it), read at most every CACHE_SECONDS."""
        with self._lock:
            now = time.monotonic()
            if self._seen is not None and now - self._seen[0] < self.CACHE_SECONDS:
                return self._seen[1]
            seen = self._read()
            self._seen = (time.monotonic(), seen)
            return seen

    def _read(self) -> WorkerSeen | None:
        for attempt in range(2):
            try:
                connection = self._connected(f"incidents: watching the worker (process {os.getpid()})")
                found = connection.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (f'"{self.schema}"."{TABLE}"',)).fetchone()
                if not found or not found["found"]:
                    return None
                row = connection.execute(
                    SQL(
                        "SELECT holder, doing, extract(epoch FROM now() - renewed_at) AS ago, "
                        "expires_at < now() OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = session_pid) AS expired, "
                        "coalesce(behind_seconds, 0) AS behind, positions FROM {0} WHERE id = 1"
                    ).format(self.table)
                ).fetchone()
            except psycopg.Error:
                self._disconnect()
                if attempt:
                    raise
                continue
            if row is None:
                return None
            return WorkerSeen(row["holder"], row["doing"], float(row["ago"]), bool(row["expired"]), float(row["behind"]), row["positions"] or {})
        return None

    def close(self) -> None:
        with self._lock:
            self._disconnect()
