"""What the PostgreSQL views share: statements naming their tables, composed once."""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from .folding import FoldedView


class PostgresFoldedView(FoldedView, PostgresTrackingRecorder):
    tables: tuple[str, ...] = ()

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.t = {name: Identifier(self.datastore.schema, name) for name in self.tables}
        self._composed: dict[str, str] = {}

    def _sql(self, text: str) -> str:
        """The statement with this view's tables for `{name}`, composed once (it costs more than the server's work)."""
        statement = self._composed.get(text)
        if statement is None:
            statement = self._composed[text] = SQL(text).format(**self.t).as_string()
        return statement

    def _create(self, *statements: str) -> None:
        self.sql_create_statements.extend(SQL(text).format(**self.t) for text in statements)

    unsynced = "SET LOCAL synchronous_commit TO OFF"  # a crashed rebuild's scratch tables are dropped anyway

    def _statement(self, text: str, params: Any) -> tuple[str, Any]:
        return self._sql(text), params

    def _erase_freed(self) -> None:
        """The deleted rows' tuples removed now, not when autovacuum comes to them."""
        with self.datastore.get_connection() as connection:  # psycopg's own connection
            connection.autocommit = True
            try:
                for table, _ in self.record_rows:
                    connection.execute(self._sql(f"VACUUM {table}"))
            finally:
                connection.autocommit = False

    def _select_all(self, queries: list[tuple[str, Any]]) -> list[list[tuple[Any, ...]]]:
        with self.datastore.transaction(commit=False) as curs:
            found = []
            for text, params in queries:
                curs.execute(self._sql(text), params)
                found.append([tuple(row.values()) for row in curs.fetchall()])
            return found

