"""The projections lock on PostgreSQL: a session advisory lock held on a connection of its own.

Whoever writes the views (the app running them inline, or `incidents project`) holds it for as
long as its runners live, and a rebuild holds it while it builds and swaps; so a rebuild refuses
to start beside live projections, and they refuse to start during a rebuild, as the file lock
does on SQLite. The lock belongs to the connection: if the holder dies, PostgreSQL ends its
session and the lock goes with it.
"""

from __future__ import annotations

import os
import socket
import zlib
from dataclasses import dataclass, field
from typing import Any

import psycopg

# pg_try_advisory_lock(int4, int4): the first half names this product's locks, the second the
# schema whose views are locked, so two deployments sharing a server never block each other.
LOCK_CLASS = 0x1C1D


@dataclass
class PostgresProjectionsLock:
    conninfo: dict[str, Any]
    schema: str
    _connection: psycopg.Connection[Any] | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> PostgresProjectionsLock:
        conninfo = {
            "dbname": env["POSTGRES_DBNAME"],
            "host": env.get("POSTGRES_HOST", "127.0.0.1"),
            "port": env.get("POSTGRES_PORT", "5432"),
            "user": env.get("POSTGRES_USER", "postgres"),
            "password": env.get("POSTGRES_PASSWORD", ""),
            "connect_timeout": int(float(env.get("POSTGRES_CONNECT_TIMEOUT", "5"))),
        }
        return cls(conninfo, env.get("POSTGRES_SCHEMA", "").strip() or "public")

    @property
    def key(self) -> int:
        return zlib.crc32(self.schema.encode()) - 2**31  # a signed int4

    def acquire(self, doing: str) -> None:
        from .rebuild import RebuildRefused

        holder_name = f"incidents: {doing} (process {os.getpid()} on {socket.gethostname()})"[:63]
        connection = psycopg.connect(**self.conninfo, autocommit=True, application_name=holder_name)
        taken = connection.execute("SELECT pg_try_advisory_lock(%s, %s) AS taken", (LOCK_CLASS, self.key)).fetchone()
        if taken is None or not taken[0]:
            holder = self._holder(connection)
            connection.close()
            raise RebuildRefused(
                f"Cannot start {doing}: {holder} holds the projections lock of schema {self.schema!r} "
                f"in database {self.conninfo['dbname']!r}. Stop it first."
            )
        self._connection = connection

    def _holder(self, connection: psycopg.Connection[Any]) -> str:
        row = connection.execute(
            "SELECT a.application_name, a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (LOCK_CLASS, self.key & 0xFFFFFFFF),
        ).fetchone()
        if row is None:
            return "another session"
        name, pid, address = row
        where = f"server process {pid}" + (f" from {address}" if address else "")
        return f"{name.removeprefix('incidents: ') or 'another session'} ({where})"

    def release(self) -> None:
        if self._connection is not None:
            # Unlock before closing: a closed connection's server process lets go of its locks
            # only when it has exited, a moment later, and a rebuild started straight after a
            # stop would find the lock still held.
            try:
                self._connection.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.key))
            except psycopg.Error:
                pass  # the session is gone already, and its locks with it
            finally:
                self._connection.close()
                self._connection = None
