"""The action queue in PostgreSQL."""

from __future__ import annotations

from typing import Any

from incidents.projections.postgres import PostgresFoldedView

from . import ActionQueueView
from .fold import ActionFold


class PostgresActionQueueView(PostgresFoldedView, ActionQueueView):
    tables = ("action_incidents", "action_items", "action_requests")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = ActionFold(self, self.stored)
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
