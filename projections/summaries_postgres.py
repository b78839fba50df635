"""Incident summaries in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composable, Identifier

from .summaries import IncidentSummary, IncidentSummaryView

COLUMNS = SQL(
    "incident_id, practice, kind, occurred_at, reported_at, location, status, last_response, "
    "last_response_at, responses, notes, corrections, reviewed_at, closed_at, outcome"
)


class PostgresIncidentSummaryView(PostgresTrackingRecorder, IncidentSummaryView):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = Identifier(self.datastore.schema, "incident_summaries")
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} ("
                    "incident_id uuid PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, "
                    "occurred_at timestamptz NOT NULL, reported_at timestamptz NOT NULL, location text NOT NULL, "
                    "status text NOT NULL, last_response text NOT NULL DEFAULT '', last_response_at timestamptz, "
                    "responses integer NOT NULL DEFAULT 0, notes integer NOT NULL DEFAULT 0, "
                    "corrections integer NOT NULL DEFAULT 0, reviewed_at timestamptz, closed_at timestamptz, "
                    "outcome text NOT NULL DEFAULT '')"
                ).format(self.table),
                SQL("CREATE INDEX IF NOT EXISTS incident_summaries_reported ON {0} (practice, reported_at)").format(self.table),
                SQL("CREATE INDEX IF NOT EXISTS incident_summaries_occurred ON {0} (practice, occurred_at)").format(self.table),
            ]
        )

    def _write(self, statement: Composable, params: tuple[Any, ...], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(statement, params)
            self._insert_tracking(curs, tracking)

    def add(self, summary: IncidentSummary, tracking: Tracking) -> None:
        self._write(
            SQL("INSERT INTO {0} ({1}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (incident_id) DO NOTHING").format(self.table, COLUMNS),
            (
                summary.incident_id, summary.practice, summary.kind, summary.occurred_at, summary.reported_at,
                summary.location, summary.status, summary.last_response, summary.last_response_at,
                summary.responses, summary.notes, summary.corrections, summary.reviewed_at, summary.closed_at,
                summary.outcome,
            ),
            tracking,
        )

    def record_response(self, incident_id: UUID, name: str, at: datetime, tracking: Tracking) -> None:
        self._write(
            SQL("UPDATE {0} SET last_response=%s, last_response_at=%s, responses=responses+1 "
                "WHERE incident_id=%s").format(self.table),
            (name, at, incident_id),
            tracking,
        )

    def count_note(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write(SQL("UPDATE {0} SET notes=notes+1 WHERE incident_id=%s").format(self.table), (incident_id,), tracking)

    def correct(self, incident_id: UUID, column: str | None, value: Any, tracking: Tracking) -> None:
        if column is None:
            statement = SQL("UPDATE {0} SET corrections=corrections+1 WHERE incident_id=%s").format(self.table)
            params: tuple[Any, ...] = (incident_id,)
        else:
            statement = SQL("UPDATE {0} SET corrections=corrections+1, {1}=%s WHERE incident_id=%s").format(
                self.table, Identifier(column)
            )
            params = (value, incident_id)
        self._write(statement, params, tracking)

    def mark_reviewed(self, incident_id: UUID, at: datetime, tracking: Tracking) -> None:
        self._write(
            SQL("UPDATE {0} SET reviewed_at=COALESCE(reviewed_at, %s) WHERE incident_id=%s").format(self.table),
            (at, incident_id),
            tracking,
        )

    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, tracking: Tracking) -> None:
        self._write(
            SQL("UPDATE {0} SET status='closed', outcome=%s, closed_at=%s, "
                "reviewed_at=COALESCE(reviewed_at, %s) WHERE incident_id=%s").format(self.table),
            (outcome, at, at, incident_id),
            tracking,
        )

    def mark_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write(
            SQL("UPDATE {0} SET status='open', outcome='', closed_at=NULL WHERE incident_id=%s").format(self.table),
            (incident_id,),
            tracking,
        )

    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {1} FROM {0} WHERE practice=%s AND reported_at>=%s AND reported_at<%s "
                    "ORDER BY reported_at DESC LIMIT %s").format(self.table, COLUMNS),
                (practice, start, end, limit),
            )
            return [IncidentSummary(**row) for row in curs.fetchall()]

    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {1} FROM {0} WHERE practice=%s AND incident_id=%s").format(self.table, COLUMNS),
                (practice, incident_id),
            )
            row = curs.fetchone()
            return IncidentSummary(**row) if row else None
