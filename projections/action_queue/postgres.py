"""The action queue in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable
from uuid import UUID

from incidents.projections.postgres import PostgresFoldedView

from . import WINDOWS, ActionQueueView
from .fold import ActionFold, ItemKey


class PostgresActionQueueView(PostgresFoldedView, ActionQueueView):
    tables = ("action_incidents", "action_items", "action_requests")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = ActionFold(self, lambda moment: moment)
        self._create(
            "CREATE TABLE IF NOT EXISTS {action_incidents} ("
            "incident_id uuid PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, "
            "copy_since timestamptz, copy_due timestamptz)",
            "CREATE TABLE IF NOT EXISTS {action_items} ("
            "incident_id uuid NOT NULL, action text NOT NULL, practice text NOT NULL, kind text NOT NULL, "
            "due_at timestamptz NOT NULL, since timestamptz NOT NULL, PRIMARY KEY (incident_id, action))",
            "CREATE INDEX IF NOT EXISTS action_items_due ON {action_items} (practice, due_at)",
            # A practice's windows are read by action, not among every item of the practice.
            "CREATE INDEX IF NOT EXISTS action_items_windows ON {action_items} (practice, action, due_at)",
            "CREATE TABLE IF NOT EXISTS {action_requests} ("
            "request_id uuid PRIMARY KEY, requester_type text NOT NULL, reference text NOT NULL)",
        )

    def action_incident(self, incident_id: UUID) -> list[Any] | None:
        found = self._select("SELECT practice, kind, copy_since, copy_due FROM {action_incidents} WHERE incident_id = %s", (incident_id,))
        return list(found[0]) if found else None

    def action_item(self, key: ItemKey) -> list[Any] | None:
        found = self._select("SELECT practice, kind, due_at, since FROM {action_items} WHERE incident_id = %s AND action = %s", key)
        return list(found[0]) if found else None

    def windows_of(self, practice: str) -> list[tuple[ItemKey, list[Any]]]:
        rows = self._select(
            "SELECT incident_id, action, practice, kind, due_at, since FROM {action_items} WHERE practice = %s AND action = ANY(%s)",
            (practice, list(WINDOWS)),
        )
        return [((row[0], row[1]), list(row[2:])) for row in rows]

    def _write_folded(self, curs: Any) -> None:
        """What changed, deleted then copied in (COPY)."""
        incidents, keys, items, requests = self.fold.drain()
        curs.execute(self._sql("DELETE FROM {action_incidents} WHERE incident_id = ANY(%s)"), ([i for i, _ in incidents],))
        with curs.copy(self._sql("COPY {action_incidents} (incident_id, practice, kind, copy_since, copy_due) FROM STDIN")) as copy:
            for incident_id, row in incidents:
                copy.write_row((incident_id, *row))
        curs.execute(
            self._sql("DELETE FROM {action_items} WHERE (incident_id, action) IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))"),
            ([i for i, _ in keys], [a for _, a in keys]),
        )
        with curs.copy(self._sql("COPY {action_items} (incident_id, action, practice, kind, due_at, since) FROM STDIN")) as copy:
            for (item_id, action), item in items:
                copy.write_row((item_id, action, *item))
        with curs.copy(self._sql("COPY {action_requests} (request_id, requester_type, reference) FROM STDIN")) as copy:
            for request_id, requester in requests:
                copy.write_row((request_id, requester.requester_type, requester.reference))

    def _item_rows(
        self, practice: str, now: datetime, limit: int, actions: tuple[str, ...]
    ) -> Iterable[tuple[UUID, str, str, datetime, datetime, str | None, str | None]]:
        return self._select(  # type: ignore[return-value]
            "SELECT i.incident_id, i.kind, i.action, i.due_at, i.since, r.requester_type, r.reference "
            "FROM {action_items} i LEFT JOIN {action_requests} r ON r.request_id = i.incident_id "
            "WHERE i.practice = %s AND i.action = ANY(%s) AND NOT (i.due_at <= %s AND i.action = ANY(%s)) "
            "ORDER BY i.due_at, i.incident_id, i.action LIMIT %s",
            (practice, list(actions), now, list(WINDOWS), limit),
        )
