"""Dashboard figures in PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from .figures import Counters, FiguresView, bucket_case
from .figures_fold import COUNTERS, INCIDENT_COLUMNS, FiguresFold, Times
from .postgres_folding import FoldWriting
from .postgres_statements import TableStatements

Statement = tuple[str, tuple[Any, ...]]
SECOND = timedelta(seconds=1)  # floor(extract(epoch FROM closed - reported)), in Python


def _adding_to(table: str, columns: tuple[str, ...]) -> str:
    """INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT: add each change to its
    counter (the closes' seconds too)."""
    with_seconds = table == "figures_closes_by_month"
    names = [*columns, "count", *(["seconds"] if with_seconds else [])]
    types = ["integer" if name in ("bucket", "count") else "bigint" if name == "seconds" else "text" for name in names]
    return (
        f"INSERT INTO {{{table}}} AS c ({', '.join(names)}) "
        f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) "
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET count = c.count + excluded.count"
        + (", seconds = c.seconds + excluded.seconds" if with_seconds else "")
    )


class PostgresFiguresView(TableStatements, FoldWriting, PostgresTrackingRecorder, FiguresView):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = self.datastore.schema
        self.t = {
            name: Identifier(schema, name)
            for name in ("figures_incidents", "figures_open", "figures_incidents_by_month", "figures_responses_by_month", "figures_closes_by_month")
        }
        # Each counter's change from a rebuild's page, added to its row (made if it is missing):
        # one statement per table and page, the changes passed as one array per column.
        self._add_to_counters = {table: self._sql(_adding_to(table, columns)) for table, columns in COUNTERS.items()}
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {figures_incidents} ("
                    "incident_id uuid PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, month text NOT NULL, "
                    "location text NOT NULL, reported_at timestamptz NOT NULL, status text NOT NULL, "
                    "close_month text, outcome text, close_bucket integer, close_seconds bigint)"
                ).format(**self.t),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {figures_open} ("
                    "practice text NOT NULL, kind text NOT NULL, count integer NOT NULL, PRIMARY KEY (practice, kind))"
                ).format(**self.t),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {figures_incidents_by_month} ("
                    "practice text NOT NULL, month text NOT NULL, kind text NOT NULL, location text NOT NULL, "
                    "count integer NOT NULL, PRIMARY KEY (practice, month, kind, location))"
                ).format(**self.t),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {figures_responses_by_month} ("
                    "practice text NOT NULL, month text NOT NULL, kind text NOT NULL, response text NOT NULL, "
                    "count integer NOT NULL, PRIMARY KEY (practice, month, kind, response))"
                ).format(**self.t),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {figures_closes_by_month} ("
                    "practice text NOT NULL, month text NOT NULL, kind text NOT NULL, outcome text NOT NULL, "
                    "bucket integer NOT NULL, count integer NOT NULL, seconds bigint NOT NULL, "
                    "PRIMARY KEY (practice, month, kind, outcome, bucket))"
                ).format(**self.t),
            ]
        )

    def start_rebuilding(self) -> FiguresFold:
        """For a rebuild into a scratch schema: the projection writes to the returned fold (every
        incident in memory, see figures_fold.py), and each flush() writes the incidents it
        changed (deleted, then copied in) and adds each counter's change, with its tracking
        position, in one transaction."""
        self._fold = FiguresFold(Times(lambda moment: moment, lambda reported, closed: (closed - reported) // SECOND))
        return self._fold

    def _write_fold(self, curs: Any, fold: FiguresFold) -> None:
        incidents, changes = fold.drain()
        curs.execute(self._sql("DELETE FROM {figures_incidents} WHERE incident_id = ANY(%s)"), ([i for i, _ in incidents],))
        with curs.copy(self._sql(f"COPY {{figures_incidents}} (incident_id, {', '.join(INCIDENT_COLUMNS)}) FROM STDIN")) as copy:
            for incident_id, row in incidents:
                copy.write_row((incident_id, *row))
        for table, rows in changes.items():
            if rows:
                curs.execute(self._add_to_counters[table], [list(column) for column in zip(*rows)])

    def _write(self, statements: Sequence[Statement], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement, params in statements:
                curs.execute(statement, params)
            self._insert_tracking(curs, tracking)

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, month: str, location: str, reported_at: datetime, tracking: Tracking
    ) -> None:
        self._write(
            [
                (
                    self._sql(
                        "INSERT INTO {figures_incidents} (incident_id, practice, kind, month, location, reported_at, status) "
                        "VALUES (%s, %s, %s, %s, %s, %s, 'open')"
                    ),
                    (incident_id, practice, kind, month, location, reported_at),
                ),
                (
                    self._sql(
                        "INSERT INTO {figures_open} AS o (practice, kind, count) VALUES (%s, %s, 1) "
                        "ON CONFLICT (practice, kind) DO UPDATE SET count = o.count + 1"
                    ),
                    (practice, kind),
                ),
                (
                    self._sql(
                        "INSERT INTO {figures_incidents_by_month} AS m (practice, month, kind, location, count) "
                        "VALUES (%s, %s, %s, %s, 1) "
                        "ON CONFLICT (practice, month, kind, location) DO UPDATE SET count = m.count + 1"
                    ),
                    (practice, month, kind, location),
                ),
            ],
            tracking,
        )

    def response_recorded(self, incident_id: UUID, response: str, month: str, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql(
                        "INSERT INTO {figures_responses_by_month} AS r (practice, month, kind, response, count) "
                        "SELECT practice, %s, kind, %s, 1 FROM {figures_incidents} WHERE incident_id = %s "
                        "ON CONFLICT (practice, month, kind, response) DO UPDATE SET count = r.count + 1"
                    ),
                    (month, response, incident_id),
                )
            ],
            tracking,
        )

    def incident_moved(self, incident_id: UUID, month: str | None, location: str | None, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql(
                        "UPDATE {figures_incidents_by_month} SET count = count - 1 WHERE (practice, month, kind, location) = "
                        "(SELECT practice, month, kind, location FROM {figures_incidents} WHERE incident_id = %s)"
                    ),
                    (incident_id,),
                ),
                (
                    self._sql(
                        "UPDATE {figures_incidents} SET month = COALESCE(%s, month), location = COALESCE(%s, location) "
                        "WHERE incident_id = %s"
                    ),
                    (month, location, incident_id),
                ),
                (
                    self._sql(
                        "INSERT INTO {figures_incidents_by_month} AS m (practice, month, kind, location, count) "
                        "SELECT practice, month, kind, location, 1 FROM {figures_incidents} WHERE incident_id = %s "
                        "ON CONFLICT (practice, month, kind, location) DO UPDATE SET count = m.count + 1"
                    ),
                    (incident_id,),
                ),
            ],
            tracking,
        )

    def incident_closed(self, incident_id: UUID, outcome: str, closed_at: datetime, month: str, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql(
                        "UPDATE {figures_incidents} SET status = 'closed', close_month = %s, outcome = %s, "
                        "close_seconds = floor(extract(epoch FROM (%s::timestamptz - reported_at)))::bigint "
                        "WHERE incident_id = %s"
                    ),
                    (month, outcome, closed_at, incident_id),
                ),
                (
                    SQL("UPDATE {0} SET close_bucket = {1} WHERE incident_id = %s").format(
                        self.t["figures_incidents"], SQL(bucket_case("close_seconds"))  # type: ignore[arg-type]
                    ),
                    (incident_id,),
                ),
                (
                    self._sql(
                        "UPDATE {figures_open} SET count = count - 1 WHERE (practice, kind) = "
                        "(SELECT practice, kind FROM {figures_incidents} WHERE incident_id = %s)"
                    ),
                    (incident_id,),
                ),
                (
                    self._sql(
                        "INSERT INTO {figures_closes_by_month} AS c (practice, month, kind, outcome, bucket, count, seconds) "
                        "SELECT practice, close_month, kind, outcome, close_bucket, 1, close_seconds "
                        "FROM {figures_incidents} WHERE incident_id = %s "
                        "ON CONFLICT (practice, month, kind, outcome, bucket) "
                        "DO UPDATE SET count = c.count + 1, seconds = c.seconds + excluded.seconds"
                    ),
                    (incident_id,),
                ),
            ],
            tracking,
        )

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql(
                        "UPDATE {figures_closes_by_month} SET count = count - 1, "
                        "seconds = seconds - (SELECT close_seconds FROM {figures_incidents} WHERE incident_id = %s) "
                        "WHERE (practice, month, kind, outcome, bucket) = (SELECT practice, close_month, kind, outcome, "
                        "close_bucket FROM {figures_incidents} WHERE incident_id = %s)"
                    ),
                    (incident_id, incident_id),
                ),
                (
                    self._sql(
                        "INSERT INTO {figures_open} AS o (practice, kind, count) "
                        "SELECT practice, kind, 1 FROM {figures_incidents} WHERE incident_id = %s AND status = 'closed' "
                        "ON CONFLICT (practice, kind) DO UPDATE SET count = o.count + 1"
                    ),
                    (incident_id,),
                ),
                (
                    self._sql(
                        "UPDATE {figures_incidents} SET status = 'open', close_month = NULL, outcome = NULL, "
                        "close_bucket = NULL, close_seconds = NULL WHERE incident_id = %s"
                    ),
                    (incident_id,),
                ),
            ],
            tracking,
        )

    def _counters(self, practice: str, first: str, last: str) -> Counters:
        months = " WHERE practice = %s AND month >= %s AND month <= %s"
        with self.datastore.transaction(commit=False) as curs:

            def rows(text: str, params: tuple[Any, ...]) -> list[Any]:
                curs.execute(self._sql(text), params)
                return [tuple(row.values()) for row in curs.fetchall()]

            return Counters(
                rows("SELECT kind, count FROM {figures_open} WHERE practice = %s", (practice,)),
                rows("SELECT month, kind, location, count FROM {figures_incidents_by_month}" + months, (practice, first, last)),
                rows("SELECT month, kind, response, count FROM {figures_responses_by_month}" + months, (practice, first, last)),
                rows(
                    "SELECT month, kind, outcome, bucket, count, seconds FROM {figures_closes_by_month}" + months,
                    (practice, first, last),
                ),
            )
