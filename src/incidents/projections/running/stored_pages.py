"""The notification log read as plain rows for a rebuild, without the library's notification objects."""

from __future__ import annotations

from typing import Any, Callable, Iterator
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

# notification id, originator id, originator version, topic, state (still encrypted)
StoredRow = tuple[int, Any, int, str, bytes]
StoredPages = Callable[[int, int, int], list[StoredRow]]  # (after, last, limit) -> rows


def pages_up_to(recorder: Any, last: int, page_size: int) -> Iterator[list[StoredRow]]:
    """Every stored event up to `last`, a page at a time, one UUID object per aggregate (found by identity)."""
    read = page_reader(recorder)
    ids: dict[Any, UUID] = {}
    position = 0
    while position < last:
        page = read(position, last, page_size)
        if not page:
            return
        yield [(n, ids.get(o) or ids.setdefault(o, o if isinstance(o, UUID) else UUID(o)), v, t, s) for n, o, v, t, s in page]
        position = page[-1][0]


def page_reader(recorder: Any) -> StoredPages:
    if isinstance(recorder, SQLiteApplicationRecorder):
        lite = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
        )

        def read_sqlite(after: int, last: int, limit: int) -> list[StoredRow]:
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.sqlite_cursor.row_factory = None  # plain tuples, not sqlite3.Row
                cursor.execute(lite, (after, last, limit))
                return cursor.fetchall()  # type: ignore[no-any-return]

        return read_sqlite
    if not isinstance(recorder, PostgresApplicationRecorder):
        raise TypeError(f"No plain page reader for {type(recorder).__name__}")
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {0}.{1} "
        "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))

    def read(after: int, last: int, limit: int) -> list[StoredRow]:
        with recorder.datastore.get_connection() as connection:
            with connection.cursor(row_factory=tuple_row, binary=True) as cursor:
                cursor.execute(statement, (after, last, limit), prepare=True)
                return cursor.fetchall()

    return read
