"""Incident summaries in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from .summaries import IncidentSummaries, IncidentSummary, IncidentSummaryView

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


def sqlite_view_path(events_file: str) -> Path:
    """The view's own file, beside the event store's (a file per view: one tracking table each)."""
    return Path(events_file).parent / f"view-{IncidentSummaries.name}.sqlite"


def relax_durability(datastore: SQLiteDatastore) -> None:
    """Open the view's connections with ``PRAGMA synchronous=NORMAL``: in WAL mode a commit is no
    longer fsynced (the WAL is, at each checkpoint). A crash may lose the last few view commits,
    never corrupt the file, and each lost row goes with its tracking position (same file, same
    transaction), so the projection simply processes those events again on restart. The view is
    derived and rebuildable; the event store keeps the library's full durability."""
    pool = datastore.pool
    if pool.is_sqlite_memory_mode or getattr(pool, "_relaxed", False):
        return
    create_connection = pool._create_connection

    def create_relaxed_connection() -> Any:
        connection = create_connection()
        connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        return connection

    pool._create_connection = create_relaxed_connection  # type: ignore[method-assign]
    pool._relaxed = True  # type: ignore[attr-defined]


class SQLiteIncidentSummaryView(SQLiteTrackingRecorder, IncidentSummaryView):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        relax_durability(datastore)
        super().__init__(datastore, **kwargs)
        self._batch: list[tuple[str, tuple[Any, ...]]] | None = None
        self._batch_tracking: Tracking | None = None

    def start_batching(self) -> None:
        """From now on, hold writes until flush(), which commits them in one transaction with
        the tracking position of the last event. Until then nothing of them is written, not even
        the tracking, so a crash before the flush means the events are processed again: still
        exactly once. The runner flushes whenever the subscription is about to read again."""
        self._batch = []

    def flush(self) -> None:
        tracking = self._batch_tracking
        if self._batch is None or tracking is None:
            return
        with self.datastore.transaction(commit=True) as c:
            for sql, params in self._batch:
                c.execute(sql, params)
            self._insert_tracking(c, tracking)
        self._batch = []
        self._batch_tracking = None

    def insert_tracking(self, tracking: Tracking) -> None:
        if self._batch is not None:
            self._batch_tracking = tracking
            return
        super().insert_tracking(tracking)

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
        if self._batch is not None:
            self._batch.append((sql, params))
            self._batch_tracking = tracking
            return
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


