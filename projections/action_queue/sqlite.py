"""The action queue in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from typing import Any

from incidents.projections.sqlite import SQLiteFoldedView

from . import ActionQueueView
from .fold import ActionFold


class SQLiteActionQueueView(SQLiteFoldedView, ActionQueueView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = ActionFold(self, self.stored)

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
            # A practice's windows are read by action, not among every item of the practice.
            "CREATE INDEX IF NOT EXISTS action_items_windows ON action_items (practice, action, due_at)",
            "CREATE TABLE IF NOT EXISTS action_requests ("
            "request_id TEXT PRIMARY KEY, requester_type TEXT NOT NULL, reference TEXT NOT NULL)",
        ]

    def _write_changes(self, c: Any) -> None:
        incidents, keys, items, requests = self.fold.drain()
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
