"""The action queue in PostgreSQL.

Tables of an older layout (before disclosure requests, without action_requests) are dropped when
the view is opened, and its tracking emptied, so the projection fills it again from the first
event: its tracking is past requests it ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from .action_fold import ActionFold
from .action_queue import COPY, DISCLOSURE, DISCLOSURE_DUE, WINDOWS, ActionQueueView, Requester
from .postgres_folding import FoldWriting
from .postgres_statements import TableStatements

Statement = tuple[str, tuple[Any, ...]]


class PostgresActionQueueView(TableStatements, FoldWriting, PostgresTrackingRecorder, ActionQueueView):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = self.datastore.schema
        self.t = {name: Identifier(schema, name) for name in ("action_incidents", "action_items", "action_requests")}
        self.sql_create_statements.extend(
            [
                self._composable(
                    "CREATE TABLE IF NOT EXISTS {action_incidents} ("
                    "incident_id uuid PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, "
                    "copy_since timestamptz, copy_due timestamptz)"
                ),
                self._composable(
                    "CREATE TABLE IF NOT EXISTS {action_items} ("
                    "incident_id uuid NOT NULL, action text NOT NULL, practice text NOT NULL, kind text NOT NULL, "
                    "due_at timestamptz NOT NULL, since timestamptz NOT NULL, PRIMARY KEY (incident_id, action))"
                ),
                self._composable("CREATE INDEX IF NOT EXISTS action_items_due ON {action_items} (practice, due_at)"),
                # Each new incident drops its practice's ended windows: found by action, not among
                # every overdue item of the practice (which grow with its history).
                self._composable("CREATE INDEX IF NOT EXISTS action_items_windows ON {action_items} (practice, action, due_at)"),
                self._composable(
                    "CREATE TABLE IF NOT EXISTS {action_requests} ("
                    "request_id uuid PRIMARY KEY, requester_type text NOT NULL, reference text NOT NULL)"
                ),
            ]
        )
        self.copy_item = self._sql(
            "INSERT INTO {action_items} AS i (incident_id, action, practice, kind, due_at, since) "
            "SELECT incident_id, %s, practice, kind, copy_due, copy_since FROM {action_incidents} "
            "WHERE incident_id = %s AND copy_due IS NOT NULL "
        )

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            schema = self.datastore.schema
            curs.execute(
                "SELECT to_regclass(%s) AS items, to_regclass(%s) AS requests, to_regclass(%s) AS tracking",
                (f"{schema}.action_items", f"{schema}.action_requests", f"{schema}.{self.tracking_table_name}"),
            )
            found = curs.fetchone()
            if found and found["items"] and not found["requests"]:
                curs.execute(self._sql("DROP TABLE IF EXISTS {action_items}, {action_incidents}"))
                if found["tracking"]:
                    # Keep the library's own migration marker: only this view's positions go.
                    curs.execute(
                        SQL("DELETE FROM {0} WHERE application_name <> %s").format(
                            Identifier(schema, self.tracking_table_name)
                        ),
                        (self.table_migration_identifier,),
                    )
        super().create_table()

    def start_rebuilding(self) -> ActionFold:
        """For a rebuild into a scratch schema: the projection writes to the returned fold (the
        whole queue in memory, see action_fold.py), and each flush() writes what it changed,
        deleted then copied in (COPY), with its tracking position, in one transaction."""
        self._fold = ActionFold(lambda moment: moment)
        return self._fold

    def _write_fold(self, curs: Any, fold: ActionFold) -> None:
        incidents, keys, items, requests = fold.drain()
        curs.execute(self._sql("DELETE FROM {action_incidents} WHERE incident_id = ANY(%s)"), ([i for i, _ in incidents],))
        with curs.copy(self._sql("COPY {action_incidents} (incident_id, practice, kind, copy_since, copy_due) FROM STDIN")) as copy:
            for incident_id, row in incidents:
                copy.write_row((incident_id, *row))
        curs.execute(
            self._sql(
                "DELETE FROM {action_items} WHERE (incident_id, action) IN "
                "(SELECT * FROM unnest(%s::uuid[], %s::text[]))"
            ),
            ([i for i, _ in keys], [a for _, a in keys]),
        )
        with curs.copy(self._sql("COPY {action_items} (incident_id, action, practice, kind, due_at, since) FROM STDIN")) as copy:
            for (item_id, action), item in items:
                copy.write_row((item_id, action, *item))
        with curs.copy(self._sql("COPY {action_requests} (request_id, requester_type, reference) FROM STDIN")) as copy:
            for request_id, requester in requests:
                copy.write_row((request_id, requester.requester_type, requester.reference))

    def _write(self, statements: Sequence[Statement], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement, params in statements:
                curs.execute(statement, params)
            self._insert_tracking(curs, tracking)

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, reported_at: datetime, review_due: datetime, tracking: Tracking
    ) -> None:
        self._write(
            [
                (
                    self._sql("INSERT INTO {action_incidents} (incident_id, practice, kind) VALUES (%s, %s, %s)"),
                    (incident_id, practice, kind),
                ),
                (
                    self._sql(
                        "INSERT INTO {action_items} (incident_id, action, practice, kind, due_at, since) "
                        "VALUES (%s, 'review', %s, %s, %s, %s)"
                    ),
                    (incident_id, practice, kind, review_due, reported_at),
                ),
                (
                    self._sql("DELETE FROM {action_items} WHERE practice = %s AND due_at <= %s AND action = ANY(%s)"),
                    (practice, reported_at, list(WINDOWS)),
                ),
            ],
            tracking,
        )

    def item_due(self, incident_id: UUID, action: str, since: datetime, due_at: datetime, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql(
                        "INSERT INTO {action_items} AS i (incident_id, action, practice, kind, due_at, since) "
                        "SELECT incident_id, %s, practice, kind, %s, %s FROM {action_incidents} WHERE incident_id = %s "
                        "ON CONFLICT (incident_id, action) DO UPDATE SET due_at = excluded.due_at, since = excluded.since "
                        "WHERE excluded.due_at > i.due_at"
                    ),
                    (action, due_at, since, incident_id),
                )
            ],
            tracking,
        )

    def item_done(self, incident_id: UUID, actions: tuple[str, ...], tracking: Tracking) -> None:
        self._write(
            [(self._sql("DELETE FROM {action_items} WHERE incident_id = %s AND action = ANY(%s)"), (incident_id, list(actions)))],
            tracking,
        )

    def copy_requested(self, incident_id: UUID, at: datetime, due_at: datetime, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql(
                        "UPDATE {action_incidents} SET copy_since = LEAST(copy_since, %s), copy_due = GREATEST(copy_due, %s) "
                        "WHERE incident_id = %s"
                    ),
                    (at, due_at, incident_id),
                ),
                (
                    self.copy_item + "ON CONFLICT (incident_id, action) DO UPDATE SET due_at = excluded.due_at, since = excluded.since",
                    (COPY.code, incident_id),
                ),
            ],
            tracking,
        )

    def copy_settled(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write(
            [
                (
                    self._sql("UPDATE {action_incidents} SET copy_since = NULL, copy_due = NULL WHERE incident_id = %s"),
                    (incident_id,),
                ),
                (self._sql("DELETE FROM {action_items} WHERE incident_id = %s AND action = %s"), (incident_id, COPY.code)),
            ],
            tracking,
        )

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write(
            [(self.copy_item + "ON CONFLICT (incident_id, action) DO NOTHING", (COPY.code, incident_id))], tracking
        )

    def request_received(
        self, request_id: UUID, practice: str, requester: Requester, since: datetime, due_at: datetime, tracking: Tracking
    ) -> None:
        self._write(
            [
                (
                    self._sql("INSERT INTO {action_requests} (request_id, requester_type, reference) VALUES (%s, %s, %s)"),
                    (request_id, requester.requester_type, requester.reference),
                ),
                (
                    self._sql(
                        "INSERT INTO {action_items} (incident_id, action, practice, kind, due_at, since) "
                        "VALUES (%s, %s, %s, %s, %s, %s)"
                    ),
                    (request_id, DISCLOSURE_DUE.code, practice, DISCLOSURE, due_at, since),
                ),
            ],
            tracking,
        )

    def item_moved(self, item_id: UUID, action: str, due_at: datetime, tracking: Tracking) -> None:
        self._write(
            [(self._sql("UPDATE {action_items} SET due_at = %s WHERE incident_id = %s AND action = %s"), (due_at, item_id, action))],
            tracking,
        )

    def _item_rows(
        self, practice: str, now: datetime, limit: int, actions: tuple[str, ...]
    ) -> Iterable[tuple[UUID, str, str, datetime, datetime, str | None, str | None]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT i.incident_id, i.kind, i.action, i.due_at, i.since, r.requester_type, r.reference "
                    "FROM {action_items} i LEFT JOIN {action_requests} r ON r.request_id = i.incident_id "
                    "WHERE i.practice = %s AND i.action = ANY(%s) AND NOT (i.due_at <= %s AND i.action = ANY(%s)) "
                    "ORDER BY i.due_at, i.incident_id, i.action LIMIT %s"
                ),
                (practice, list(actions), now, list(WINDOWS), limit),
            )
            return [tuple(row.values()) for row in curs.fetchall()]  # type: ignore[misc]
