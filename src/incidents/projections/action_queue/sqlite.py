"""The action queue in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from typing import Any

from incidents.projections.sqlite import SQLiteFoldedView, in_sqlite

from . import ActionQueueView, action_tables
from .fold import ActionFold


class SQLiteActionQueueView(SQLiteFoldedView, ActionQueueView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = ActionFold(self, self.stored)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *map(in_sqlite, action_tables("text", "integer")),
        ]

    def _write_changes(self, c: Any) -> None:
        incidents, keys, items, requests, retention, recordings = self.fold.drain()
        c.executemany(
            "INSERT OR REPLACE INTO action_incidents (incident_id, practice, kind, copy_since, copy_due, idle_since, filmer) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(str(incident_id), *row) for incident_id, row in incidents],
        )
        c.executemany("DELETE FROM action_items WHERE incident_id = ? AND action = ?", [(str(i), a) for i, a in keys])
        c.executemany(
            "INSERT INTO action_items (incident_id, action, practice, kind, due_at, since, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(str(i), a, *item) for (i, a), item in items],
        )
        c.executemany(
            "INSERT INTO action_requests (request_id, requester_type, reference) VALUES (?, ?, ?)",
            [(str(request_id), r.requester_type, r.reference) for request_id, r in requests],
        )
        c.executemany(
            "INSERT OR REPLACE INTO action_retention (record_id, practice, kind, years, runs_from, kept_until, hold_reason, hold_since, disposal, ref) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(str(record_id), *row) for record_id, row in retention],
        )
        c.executemany(
            "INSERT OR REPLACE INTO action_recordings (recording_id, practice, ref) VALUES (?, ?, ?)",
            [(str(recording_id), *row) for recording_id, row in recordings],
        )
