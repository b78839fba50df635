"""Dashboard figures in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from .figures import Counters, FiguresView, bucket_case
from .sqlite_batching import BatchingSQLiteTrackingRecorder
from .summaries_sqlite import to_micros

BY_INCIDENT = "FROM figures_incidents WHERE incident_id = ?"
CLOSE_BUCKET = bucket_case("close_seconds")


class SQLiteFiguresView(BatchingSQLiteTrackingRecorder, FiguresView):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS figures_incidents ("
            "incident_id TEXT PRIMARY KEY, practice TEXT NOT NULL, kind TEXT NOT NULL, month TEXT NOT NULL, "
            "location TEXT NOT NULL, reported_at INTEGER NOT NULL, status TEXT NOT NULL, "
            "close_month TEXT, outcome TEXT, close_bucket INTEGER, close_seconds INTEGER)",
            "CREATE TABLE IF NOT EXISTS figures_open ("
            "practice TEXT NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (practice, kind))",
            "CREATE TABLE IF NOT EXISTS figures_incidents_by_month ("
            "practice TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, location TEXT NOT NULL, "
            "count INTEGER NOT NULL, PRIMARY KEY (practice, month, kind, location))",
            "CREATE TABLE IF NOT EXISTS figures_responses_by_month ("
            "practice TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, response TEXT NOT NULL, "
            "count INTEGER NOT NULL, PRIMARY KEY (practice, month, kind, response))",
            "CREATE TABLE IF NOT EXISTS figures_closes_by_month ("
            "practice TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL, "
            "bucket INTEGER NOT NULL, count INTEGER NOT NULL, seconds INTEGER NOT NULL, "
            "PRIMARY KEY (practice, month, kind, outcome, bucket))",
        ]

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, month: str, location: str, reported_at: datetime, tracking: Tracking
    ) -> None:
        self._write(
            [
                (
                    "INSERT INTO figures_incidents (incident_id, practice, kind, month, location, reported_at, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'open')",
                    (str(incident_id), practice, kind, month, location, to_micros(reported_at)),
                ),
                (
                    "INSERT INTO figures_open (practice, kind, count) VALUES (?, ?, 1) "
                    "ON CONFLICT (practice, kind) DO UPDATE SET count = count + 1",
                    (practice, kind),
                ),
                (
                    "INSERT INTO figures_incidents_by_month (practice, month, kind, location, count) VALUES (?, ?, ?, ?, 1) "
                    "ON CONFLICT (practice, month, kind, location) DO UPDATE SET count = count + 1",
                    (practice, month, kind, location),
                ),
            ],
            tracking,
        )

    def response_recorded(self, incident_id: UUID, response: str, month: str, tracking: Tracking) -> None:
        self._write(
            [
                (
                    "INSERT INTO figures_responses_by_month (practice, month, kind, response, count) "
                    f"SELECT practice, ?, kind, ?, 1 {BY_INCIDENT} "
                    "ON CONFLICT (practice, month, kind, response) DO UPDATE SET count = count + 1",
                    (month, response, str(incident_id)),
                )
            ],
            tracking,
        )

    def incident_moved(self, incident_id: UUID, month: str | None, location: str | None, tracking: Tracking) -> None:
        key = str(incident_id)
        self._write(
            [
                (
                    "UPDATE figures_incidents_by_month SET count = count - 1 WHERE (practice, month, kind, location) = "
                    f"(SELECT practice, month, kind, location {BY_INCIDENT})",
                    (key,),
                ),
                (
                    "UPDATE figures_incidents SET month = COALESCE(?, month), location = COALESCE(?, location) "
                    "WHERE incident_id = ?",
                    (month, location, key),
                ),
                (
                    "INSERT INTO figures_incidents_by_month (practice, month, kind, location, count) "
                    f"SELECT practice, month, kind, location, 1 {BY_INCIDENT} "
                    "ON CONFLICT (practice, month, kind, location) DO UPDATE SET count = count + 1",
                    (key,),
                ),
            ],
            tracking,
        )

    def incident_closed(self, incident_id: UUID, outcome: str, closed_at: datetime, month: str, tracking: Tracking) -> None:
        key, at = str(incident_id), to_micros(closed_at)
        self._write(
            [
                (
                    "UPDATE figures_incidents SET status = 'closed', close_month = ?, outcome = ?, "
                    "close_seconds = (? - reported_at) / 1000000 WHERE incident_id = ?",
                    (month, outcome, at, key),
                ),
                (f"UPDATE figures_incidents SET close_bucket = {CLOSE_BUCKET} WHERE incident_id = ?", (key,)),
                (
                    f"UPDATE figures_open SET count = count - 1 WHERE (practice, kind) = (SELECT practice, kind {BY_INCIDENT})",
                    (key,),
                ),
                (
                    "INSERT INTO figures_closes_by_month (practice, month, kind, outcome, bucket, count, seconds) "
                    f"SELECT practice, close_month, kind, outcome, close_bucket, 1, close_seconds {BY_INCIDENT} "
                    "ON CONFLICT (practice, month, kind, outcome, bucket) "
                    "DO UPDATE SET count = count + 1, seconds = seconds + excluded.seconds",
                    (key,),
                ),
            ],
            tracking,
        )

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        key = str(incident_id)
        self._write(
            [
                (
                    f"UPDATE figures_closes_by_month SET count = count - 1, seconds = seconds - (SELECT close_seconds {BY_INCIDENT}) "
                    "WHERE (practice, month, kind, outcome, bucket) = "
                    f"(SELECT practice, close_month, kind, outcome, close_bucket {BY_INCIDENT})",
                    (key, key),
                ),
                (
                    f"INSERT INTO figures_open (practice, kind, count) SELECT practice, kind, 1 {BY_INCIDENT} "
                    "ON CONFLICT (practice, kind) DO UPDATE SET count = count + 1",
                    (key,),
                ),
                (
                    "UPDATE figures_incidents SET status = 'open', close_month = NULL, outcome = NULL, "
                    "close_bucket = NULL, close_seconds = NULL WHERE incident_id = ?",
                    (key,),
                ),
            ],
            tracking,
        )

    def _counters(self, practice: str, first: str, last: str) -> Counters:
        months = "WHERE practice = ? AND month >= ? AND month <= ?"
        with self.datastore.transaction(commit=False) as c:

            def rows(sql: str, params: tuple[Any, ...]) -> list[Any]:
                c.execute(sql, params)
                return [tuple(r) for r in c.fetchall()]

            return Counters(
                rows("SELECT kind, count FROM figures_open WHERE practice = ?", (practice,)),
                rows(f"SELECT month, kind, location, count FROM figures_incidents_by_month {months}", (practice, first, last)),
                rows(f"SELECT month, kind, response, count FROM figures_responses_by_month {months}", (practice, first, last)),
                rows(
                    f"SELECT month, kind, outcome, bucket, count, seconds FROM figures_closes_by_month {months}",
                    (practice, first, last),
                ),
            )
