"""What the SQLite views share: times as UTC microseconds, their connections, and their flush."""

from __future__ import annotations

import json
import re
import time
import sqlite3
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT, SQLiteDatastore, SQLiteTrackingRecorder

from .folding import FoldedView

RELAXED_PRAGMAS = ("PRAGMA synchronous=NORMAL",)
REBUILDING_PRAGMAS = ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144")
STATEMENTS_KEPT = 256


def to_micros(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1_000_000)


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1_000_000, tz=timezone.utc)


@lru_cache(maxsize=None)
def in_sqlite(text: str) -> str:
    """A statement written for both databases, as SQLite reads it (a list comes as JSON: SQLite has no arrays)."""
    text = re.sub(r"\{(\w+)\}", r"\1", text).replace("= ANY(%s)", "IN (SELECT value FROM json_each(?))")
    return text.replace("%s", "?")


def sqlite_params(params: Any) -> list[Any]:
    return [
        str(p) if isinstance(p, UUID) else to_micros(p) if isinstance(p, datetime) else json.dumps(p) if isinstance(p, list) else p
        for p in params
    ]


def _reopened(pool: Any, connection: Any, pragmas: tuple[str, ...]) -> Any:
    """The pool's connection on a new SQLite connection keeping many prepared statements (the library's keeps one)."""
    connection._sqlite_conn.close()  # first: leaving WAL mode needs the file to itself
    kept = sqlite3.connect(
        pool.db_name, uri=True, check_same_thread=False, isolation_level=None,
        cached_statements=STATEMENTS_KEPT, timeout=pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
    )
    kept.row_factory = sqlite3.Row
    for pragma in pragmas:
        kept.execute(pragma)
    connection._sqlite_conn = kept
    return connection


def _open_connections_with(datastore: SQLiteDatastore, pragmas: tuple[str, ...]) -> None:
    pool = datastore.pool
    create_connection = pool._create_connection
    pool._create_connection = lambda: _reopened(pool, create_connection(), pragmas)  # type: ignore[method-assign]


class SQLiteFoldedView(FoldedView, SQLiteTrackingRecorder):
    """A view in a file of its own, not fsynced: a crash loses rows with their tracking position, folded again."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        if not datastore.pool.is_sqlite_memory_mode and not getattr(datastore.pool, "_relaxed", False):
            _open_connections_with(datastore, RELAXED_PRAGMAS)
            datastore.pool._relaxed = True  # type: ignore[attr-defined]
        super().__init__(datastore, **kwargs)

    def start_rebuilding(self) -> SQLiteFoldedView:
        """A rebuild's side file, thrown away if it fails: no journal, no fsync, a 256 MB page cache."""
        if not self.datastore.pool.is_sqlite_memory_mode:
            _open_connections_with(self.datastore, REBUILDING_PRAGMAS)
            with self.datastore.get_connection(commit=True) as connection:
                _reopened(self.datastore.pool, connection, REBUILDING_PRAGMAS)
        super().start_rebuilding()
        return self

    def _statement(self, text: str, params: Any) -> tuple[str, Any]:
        return in_sqlite(text), sqlite_params(params)

    def _erase_freed(self) -> None:
        """The file rewritten without the freed pages (VACUUM) and its write-ahead log emptied."""
        if self.datastore.pool.is_sqlite_memory_mode:
            return
        with self.datastore.get_connection(commit=True) as pooled:
            connection = pooled._sqlite_conn  # the library's wrapper would begin a transaction, where VACUUM cannot run
            connection.execute("VACUUM")
            for _ in range(50):  # a reader in the middle of a read keeps the log: tried again
                busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy[0]:
                    return
                time.sleep(0.1)
            raise OSError(f"The write-ahead log of {self.datastore.pool.db_name} could not be emptied after a disposal: a reader kept it busy")

    stored = staticmethod(to_micros)
    moment_of = staticmethod(from_micros)
    id_of = staticmethod(UUID)

    def _select_all(self, queries: list[tuple[str, Any]]) -> list[list[Any]]:
        with self.datastore.transaction(commit=False) as c:
            found = []
            for text, params in queries:
                c.execute(in_sqlite(text), sqlite_params(params))
                found.append(list(c.fetchall()))
            return found

    def _load(self, text: str, params: Any) -> list[Any]:
        """Rows the fold lacks, on a connection of its own (the pool's transaction costs more than the read)."""
        reader = self.__dict__.get("_reader")
        if reader is None:
            if self.datastore.pool.is_sqlite_memory_mode:
                return self._select(text, params)
            reader = self._reader = sqlite3.connect(self.datastore.pool.db_name, uri=True, check_same_thread=False)
        return reader.execute(in_sqlite(text), sqlite_params(params)).fetchall()

