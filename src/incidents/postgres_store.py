"""The library's PostgreSQL factory, with two things a deployment of several processes needs.

- Tables are made under a session advisory lock, one process at a time: PostgreSQL's
  CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE of the same object ("tuple
  concurrently updated", a duplicate type), so processes started together on an empty database
  would otherwise fail.
- A pool's connections beyond its size are closed once unused for POSTGRES_POOL_MAX_IDLE seconds
  (one at a time, as psycopg_pool shrinks), where the library keeps them ten minutes.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing import postgres
from eventsourcing.persistence import OperationalError

from .record_keys import INSERT_POSTGRES, RecordKeys

# pg_advisory_lock(int4, int4): the projections lock is (0x1C1D, schema); table creation is this class.
SCHEMA_LOCK_CLASS = 0x1C1E
POOL_MAX_IDLE = "POSTGRES_POOL_MAX_IDLE"


class KeyedPostgresApplicationRecorder(postgres.PostgresApplicationRecorder):
    """Writes a new record's own key in the transaction of its first event (record_keys.py)."""

    record_keys: RecordKeys | None = None  # set by the application whose mapper has them

    def _insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if self.record_keys is not None:
            rows = self.record_keys.rows_to_write(stored_events)
            if rows:
                curs.executemany(INSERT_POSTGRES, rows)

    def insert_events(self, stored_events: Any, **kwargs: Any) -> Any:
        try:
            ids = super().insert_events(stored_events, **kwargs)
        except BaseException:
            if self.record_keys is not None:
                self.record_keys.settled(stored_events, committed=False)
            raise
        if self.record_keys is not None:
            self.record_keys.settled(stored_events, committed=True)
        return ids


class PostgresFactory(postgres.PostgresFactory):
    application_recorder_class = KeyedPostgresApplicationRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        assert isinstance(self.datastore.pool.kwargs, dict)
        # Named in pg_stat_activity, so an operator counting connections sees whose they are.
        self.datastore.pool.kwargs.setdefault("application_name", process_name())
        idle = self.env.get(POOL_MAX_IDLE)
        if idle:
            self.datastore.pool.max_idle = float(idle)  # read when the pool opens, on first use

    @contextmanager
    def _creating_tables(self) -> Iterator[None]:
        if not self.env_create_table():
            yield
            return
        with schema_lock(self.datastore):
            yield

    def aggregate_recorder(self, purpose: str = "events") -> Any:
        with self._creating_tables():
            return super().aggregate_recorder(purpose)

    def application_recorder(self) -> Any:
        with self._creating_tables():
            return super().application_recorder()

    def tracking_recorder(self, tracking_recorder_class: Any = None) -> Any:
        with self._creating_tables():
            return super().tracking_recorder(tracking_recorder_class)

    def process_recorder(self) -> Any:
        with self._creating_tables():
            return super().process_recorder()


@contextmanager
def schema_lock(datastore: postgres.PostgresDatastore) -> Iterator[None]:
    """Held on a connection of its own, so the tables are made with the pool's as usual."""
    kwargs = {k: v for k, v in dict(datastore.pool.kwargs or {}).items() if k not in ("row_factory", "application_name")}
    key = zlib.crc32(datastore.schema.encode()) - 2**31
    try:
        connection = psycopg.connect(
            **kwargs, autocommit=True, connect_timeout=int(datastore.pool.timeout) or 5, application_name="incidents: making tables"
        )
    except psycopg.OperationalError as error:
        raise OperationalError(str(error)) from error
    try:
        connection.execute("SELECT pg_advisory_lock(%s, %s)", (SCHEMA_LOCK_CLASS, key))
        try:
            yield
        finally:
            # Unlocked before closing: a closed session's locks go only when its server process has exited.
            connection.execute("SELECT pg_advisory_unlock(%s, %s)", (SCHEMA_LOCK_CLASS, key))
    finally:
        connection.close()


def process_name() -> str:
    command = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    verb = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else ""
    return f"{command} {verb} (process {os.getpid()})".replace("  ", " ")[:63]


# What psycopg_pool and PostgreSQL say when there is no connection to be had.
_OUT_OF_CONNECTIONS = ("couldn't get a connection", "too many clients", "too many connections", "remaining connection slots")


def out_of_connections(error: BaseException) -> bool:
    return any(text in str(error) for text in _OUT_OF_CONNECTIONS)


def connection_advice(pool_size: int, max_overflow: int) -> str:
    return (
        f"No database connection was free. Each pool of a process (the event store's and each view's) keeps "
        f"INCIDENTS_DB_POOL_SIZE={pool_size} open and opens up to INCIDENTS_DB_MAX_OVERFLOW={max_overflow} more under load; "
        "PostgreSQL's max_connections (100 by default) bounds every process together. Lower INCIDENTS_DB_MAX_OVERFLOW, "
        "run fewer processes, or raise max_connections (README: Connections)."
    )
