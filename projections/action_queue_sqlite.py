"""The action queue in SQLite (the embedded default). Times are UTC microseconds.

A view file of an older layout (before disclosure requests, without action_requests) is emptied,
tracking included, when it is opened, so the projection fills it again from the first event: its
tracking is past requests it ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable
from uuid import UUID

from eventsourcing.persistence import Tracking

from .action_fold import ActionFold
from .action_queue import COPY, DISCLOSURE, DISCLOSURE_DUE, WINDOWS, ActionQueueView, Requester
from .sqlite_batching import BatchingSQLiteTrackingRecorder
from .summaries_sqlite import from_micros, to_micros

COPY_ITEM = (
    "INSERT INTO action_items (incident_id, action, practice, kind, due_at, since) "
    f"SELECT incident_id, '{COPY.code}', practice, kind, copy_due, copy_since FROM action_incidents "
    "WHERE incident_id = ? AND copy_due IS NOT NULL "
)


def _in(codes: tuple[str, ...]) -> str:
    return f"({', '.join('?' for _ in codes)})"


DELETE_ENDED_WINDOWS = f"DELETE FROM action_items WHERE practice = ? AND due_at <= ? AND action IN {_in(WINDOWS)}"


class SQLiteActionQueueView(BatchingSQLiteTrackingRecorder, ActionQueueView):
    _fold: ActionFold | None = None

    def start_rebuilding(self) -> ActionFold:  # type: ignore[override]
        """For a rebuild into a side file: the projection writes to the returned fold (the whole
        queue in memory, see action_fold.py), and each flush() writes what it changed."""
        super().start_rebuilding()
        self._fold = ActionFold(to_micros)
        return self._fold

    def flush(self) -> None:
        fold = self._fold
        if fold is None:
            super().flush()
            return
        if fold.tracking is None:
            return
        incidents, keys, items, requests = fold.drain()
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                "INSERT OR REPLACE INTO action_incidents (incident_id, practice, kind, copy_since, copy_due) VALUES (?, ?, ?, ?, ?)",
                [(str(incident_id), *row) for incident_id, row in incidents],
            )
            c.executemany("DELETE FROM action_items WHERE incident_id = ? AND action = ?", [(str(i), a) for i, a in keys])
            c.executemany(
                "INSERT INTO action_items (incident_id, action, practice, kind, due_at, since) VALUES (?, ?, ?, ?, ?, ?)",
                [(str(i), a, *item) for (i, a), item in items],
            )
            c.executemany(
                "INSERT INTO action_requests (request_id, requester_type, reference) VALUES (?, ?, ?)",
                [(str(request_id), r.requester_type, r.reference) for request_id, r in requests],
            )
            self._insert_tracking(c, fold.tracking)
        fold.tracking = None

    def finish_rebuilding(self) -> None:
        self.flush()
        self._fold = None

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT name FROM sqlite_schema WHERE name IN ('action_items', 'action_requests')")
            tables = {row[0] for row in c.fetchall()}
            if "action_items" in tables and "action_requests" not in tables:
                for table in ("action_items", "action_incidents", "tracking"):
                    c.execute(f"DROP TABLE IF EXISTS {table}")
        super().create_table()

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS action_incidents ("
            "incident_id TEXT PRIMARY KEY, practice TEXT NOT NULL, kind TEXT NOT NULL, "
            "copy_since INTEGER, copy_due INTEGER)",
            "CREATE TABLE IF NOT EXISTS action_items ("
            "incident_id TEXT NOT NULL, action TEXT NOT NULL, practice TEXT NOT NULL, kind TEXT NOT NULL, "
            "due_at INTEGER NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (incident_id, action))",
            "CREATE INDEX IF NOT EXISTS action_items_due ON action_items (practice, due_at)",
            # Each new incident drops its practice's ended windows: found by action, not among
            # every overdue item of the practice (which grow with its history).
            "CREATE INDEX IF NOT EXISTS action_items_windows ON action_items (practice, action, due_at)",
            "CREATE TABLE IF NOT EXISTS action_requests ("
            "request_id TEXT PRIMARY KEY, requester_type TEXT NOT NULL, reference TEXT NOT NULL)",
        ]

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, reported_at: datetime, review_due: datetime, tracking: Tracking
    ) -> None:
        key, at = str(incident_id), to_micros(reported_at)
        self._write(
            [
                ("INSERT INTO action_incidents (incident_id, practice, kind) VALUES (?, ?, ?)", (key, practice, kind)),
                (
                    "INSERT INTO action_items (incident_id, action, practice, kind, due_at, since) "
                    "VALUES (?, 'review', ?, ?, ?, ?)",
                    (key, practice, kind, to_micros(review_due), at),
                ),
                (
                    DELETE_ENDED_WINDOWS,
                    (practice, at, *WINDOWS),
                ),
            ],
            tracking,
        )

    def item_due(self, incident_id: UUID, action: str, since: datetime, due_at: datetime, tracking: Tracking) -> None:
        self._write(
            [
                (
                    "INSERT INTO action_items (incident_id, action, practice, kind, due_at, since) "
                    "SELECT incident_id, ?, practice, kind, ?, ? FROM action_incidents WHERE incident_id = ? "
                    "ON CONFLICT (incident_id, action) DO UPDATE SET due_at = excluded.due_at, since = excluded.since "
                    "WHERE excluded.due_at > action_items.due_at",
                    (action, to_micros(due_at), to_micros(since), str(incident_id)),
                )
            ],
            tracking,
        )

    def item_done(self, incident_id: UUID, actions: tuple[str, ...], tracking: Tracking) -> None:
        self._write(
            [(f"DELETE FROM action_items WHERE incident_id = ? AND action IN {_in(actions)}", (str(incident_id), *actions))],
            tracking,
        )

    def copy_requested(self, incident_id: UUID, at: datetime, due_at: datetime, tracking: Tracking) -> None:
        key, since, due = str(incident_id), to_micros(at), to_micros(due_at)
        self._write(
            [
                (
                    "UPDATE action_incidents SET copy_since = MIN(COALESCE(copy_since, ?), ?), "
                    "copy_due = MAX(COALESCE(copy_due, ?), ?) WHERE incident_id = ?",
                    (since, since, due, due, key),
                ),
                (
                    COPY_ITEM + "ON CONFLICT (incident_id, action) DO UPDATE SET due_at = excluded.due_at, since = excluded.since",
                    (key,),
                ),
            ],
            tracking,
        )

    def copy_settled(self, incident_id: UUID, tracking: Tracking) -> None:
        key = str(incident_id)
        self._write(
            [
                ("UPDATE action_incidents SET copy_since = NULL, copy_due = NULL WHERE incident_id = ?", (key,)),
                ("DELETE FROM action_items WHERE incident_id = ? AND action = ?", (key, COPY.code)),
            ],
            tracking,
        )

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self._write([(COPY_ITEM + "ON CONFLICT (incident_id, action) DO NOTHING", (str(incident_id),))], tracking)

    def request_received(
        self, request_id: UUID, practice: str, requester: Requester, since: datetime, due_at: datetime, tracking: Tracking
    ) -> None:
        key = str(request_id)
        self._write(
            [
                (
                    "INSERT INTO action_requests (request_id, requester_type, reference) VALUES (?, ?, ?)",
                    (key, requester.requester_type, requester.reference),
                ),
                (
                    "INSERT INTO action_items (incident_id, action, practice, kind, due_at, since) VALUES (?, ?, ?, ?, ?, ?)",
                    (key, DISCLOSURE_DUE.code, practice, DISCLOSURE, to_micros(due_at), to_micros(since)),
                ),
            ],
            tracking,
        )

    def item_moved(self, item_id: UUID, action: str, due_at: datetime, tracking: Tracking) -> None:
        self._write(
            [("UPDATE action_items SET due_at = ? WHERE incident_id = ? AND action = ?", (to_micros(due_at), str(item_id), action))],
            tracking,
        )

    def _item_rows(
        self, practice: str, now: datetime, limit: int, actions: tuple[str, ...]
    ) -> Iterable[tuple[UUID, str, str, datetime, datetime, str | None, str | None]]:
        rows = self._select(
            "SELECT i.incident_id, i.kind, i.action, i.due_at, i.since, r.requester_type, r.reference "
            "FROM action_items i LEFT JOIN action_requests r ON r.request_id = i.incident_id "
            f"WHERE i.practice = ? AND i.action IN {_in(actions)} "
            f"AND NOT (i.due_at <= ? AND i.action IN {_in(WINDOWS)}) ORDER BY i.due_at, i.incident_id, i.action LIMIT ?",
            (practice, *actions, to_micros(now), *WINDOWS, limit),
        )
        return [(UUID(r[0]), r[1], r[2], from_micros(r[3]), from_micros(r[4]), r[5], r[6]) for r in rows]  # type: ignore[misc]
