"""Incident summaries in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from .summaries import IncidentSummary, IncidentSummaryView

COLUMNS = (
    "incident_id, practice, kind, occurred_at, reported_at, location, status, last_response, "
    "last_response_at, responses, notes, corrections, reviewed_at, closed_at, outcome"
)


def to_micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    return int(value.timestamp() * 1_000_000)


def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1_000_000, tz=timezone.utc)


class SQLiteIncidentSummaryView(SQLiteTrackingRecorder, IncidentSummaryView):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS incident_summaries ("
            "incident_id TEXT PRIMARY KEY, practice TEXT NOT NULL, kind TEXT NOT NULL, "
            "occurred_at INTEGER NOT NULL, reported_at INTEGER NOT NULL, location TEXT NOT NULL, "
            "status TEXT NOT NULL, last_response TEXT NOT NULL DEFAULT '', last_response_at INTEGER, "
            "responses INTEGER NOT NULL DEFAULT 0, notes INTEGER NOT NULL DEFAULT 0, "
            "corrections INTEGER NOT NULL DEFAULT 0, reviewed_at INTEGER, closed_at INTEGER, "
            "outcome TEXT NOT NULL DEFAULT '')",
            "CREATE INDEX IF NOT EXISTS incident_summaries_reported "
            "ON incident_summaries (practice, reported_at)",
            "CREATE INDEX IF NOT EXISTS incident_summaries_occurred "
            "ON incident_summaries (practice, occurred_at)",
        ]

    def _write(self, sql: str, params: tuple[Any, ...], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(sql, params)
            self._insert_tracking(c, tracking)

    def add(self, summary: IncidentSummary, tracking: Tracking) -> None:
        self._write(
            f"INSERT INTO incident_summaries ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (incident_id) DO NOTHING",
            (
                str(summary.incident_id), summary.practice, summary.kind, to_micros(summary.occurred_at),
                to_micros(summary.reported_at), summary.location, summary.status, summary.last_response,
                to_micros(summary.last_response_at), summary.responses, summary.notes, summary.corrections,
                to_micros(summary.reviewed_at), to_micros(summary.closed_at), summary.outcome,
            ),
            tracking,
        )

    def record_response(self, incident_id: UUID, name: str, at: datetime, tracking: Tracking) -> None:
        self._write(
            "UPDATE incident_summaries SET last_response=?, last_response_at=?, responses=responses+1 "
            "WHERE incident_id=?",
            (name, to_micros(at), str(incident_id)),
            tracking,
        )

    def count_note(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write("UPDATE incident_summaries SET notes=notes+1 WHERE incident_id=?", (str(incident_id),), tracking)

    def correct(self, incident_id: UUID, column: str | None, value: Any, tracking: Tracking) -> None:
        if column is None:
            sql, params = "UPDATE incident_summaries SET corrections=corrections+1 WHERE incident_id=?", (str(incident_id),)
        else:
            stored = to_micros(value) if column == "occurred_at" else value
            sql = f"UPDATE incident_summaries SET corrections=corrections+1, {column}=? WHERE incident_id=?"
            params = (stored, str(incident_id))
        self._write(sql, params, tracking)

    def mark_reviewed(self, incident_id: UUID, at: datetime, tracking: Tracking) -> None:
        self._write(
            "UPDATE incident_summaries SET reviewed_at=COALESCE(reviewed_at, ?) WHERE incident_id=?",
            (to_micros(at), str(incident_id)),
            tracking,
        )

    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, tracking: Tracking) -> None:
        self._write(
            "UPDATE incident_summaries SET status='closed', outcome=?, closed_at=?, "
            "reviewed_at=COALESCE(reviewed_at, ?) WHERE incident_id=?",
            (outcome, to_micros(at), to_micros(at), str(incident_id)),
            tracking,
        )

    def mark_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write(
            "UPDATE incident_summaries SET status='open', outcome='', closed_at=NULL WHERE incident_id=?",
            (str(incident_id),),
            tracking,
        )

    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {COLUMNS} FROM incident_summaries WHERE practice=? AND reported_at>=? AND reported_at<? "
                "ORDER BY reported_at DESC LIMIT ?",
                (practice, to_micros(start), to_micros(end), limit),
            )
            return [self._row(r) for r in c.fetchall()]

    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {COLUMNS} FROM incident_summaries WHERE practice=? AND incident_id=?",
                (practice, str(incident_id)),
            )
            row = c.fetchone()
            return self._row(row) if row else None

    @staticmethod
    def _row(r: Any) -> IncidentSummary:
        return IncidentSummary(
            incident_id=UUID(r["incident_id"]),
            practice=r["practice"],
            kind=r["kind"],
            occurred_at=from_micros(r["occurred_at"]),  # type: ignore[arg-type]
            reported_at=from_micros(r["reported_at"]),  # type: ignore[arg-type]
            location=r["location"],
            status=r["status"],
            last_response=r["last_response"],
            last_response_at=from_micros(r["last_response_at"]),
            responses=r["responses"],
            notes=r["notes"],
            corrections=r["corrections"],
            reviewed_at=from_micros(r["reviewed_at"]),
            closed_at=from_micros(r["closed_at"]),
            outcome=r["outcome"],
        )


