"""The action queue in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable
from uuid import UUID

from incidents.projections.sqlite import SQLiteFoldedView, from_micros, to_micros

from . import WINDOWS, ActionQueueView
from .fold import ActionFold, ItemKey


def _in(codes: tuple[str, ...]) -> str:
    return f"({', '.join('?' for _ in codes)})"


class SQLiteActionQueueView(SQLiteFoldedView, ActionQueueView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = ActionFold(self, to_micros)

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

    def action_incident(self, incident_id: UUID) -> list[Any] | None:
        found = self._load(
            "SELECT practice, kind, copy_since, copy_due FROM action_incidents WHERE incident_id = ?", (str(incident_id),)
        )
        return list(found[0]) if found else None

    def action_item(self, key: ItemKey) -> list[Any] | None:
        found = self._load(
            "SELECT practice, kind, due_at, since FROM action_items WHERE incident_id = ? AND action = ?", (str(key[0]), key[1])
        )
        return list(found[0]) if found else None

    def windows_of(self, practice: str) -> list[tuple[ItemKey, list[Any]]]:
        rows = self._load(
            f"SELECT incident_id, action, practice, kind, due_at, since FROM action_items WHERE practice = ? AND action IN {_in(WINDOWS)}",
            (practice, *WINDOWS),
        )
        return [((UUID(row[0]), row[1]), list(row[2:])) for row in rows]

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
