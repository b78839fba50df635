"""The action queue in PostgreSQL."""

from __future__ import annotations

from typing import Any

from incidents.projections.postgres import PostgresFoldedView

from . import ActionQueueView, action_tables
from .fold import ActionFold


class PostgresActionQueueView(PostgresFoldedView, ActionQueueView):
    tables = ("action_incidents", "action_items", "action_requests", "action_retention", "action_recordings")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = ActionFold(self, self.stored)
        self._create(*action_tables("uuid", "timestamptz"))

    def _write_changes(self, curs: Any) -> None:
        """What changed, deleted then copied in (COPY)."""
        incidents, keys, items, requests, retention, recordings = self.fold.drain()
        curs.execute(self._sql("DELETE FROM {action_incidents} WHERE incident_id = ANY(%s)"), ([i for i, _ in incidents],))
        with curs.copy(self._sql("COPY {action_incidents} (incident_id, practice, kind, copy_since, copy_due, idle_since, filmer) FROM STDIN")) as copy:
            for incident_id, row in incidents:
                copy.write_row((incident_id, *row))
        curs.execute(
            self._sql("DELETE FROM {action_items} WHERE (incident_id, action) IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))"),
            ([i for i, _ in keys], [a for _, a in keys]),
        )
        with curs.copy(self._sql("COPY {action_items} (incident_id, action, practice, kind, due_at, since, detail) FROM STDIN")) as copy:
            for (item_id, action), item in items:
                copy.write_row((item_id, action, *item))
        with curs.copy(self._sql("COPY {action_requests} (request_id, requester_type, reference) FROM STDIN")) as copy:
            for request_id, requester in requests:
                copy.write_row((request_id, requester.requester_type, requester.reference))
        curs.execute(self._sql("DELETE FROM {action_retention} WHERE record_id = ANY(%s)"), ([i for i, _ in retention],))
        columns = "record_id, practice, kind, years, runs_from, kept_until, hold_reason, hold_since, disposal, ref"
        with curs.copy(self._sql(f"COPY {{action_retention}} ({columns}) FROM STDIN")) as copy:
            for record_id, row in retention:
                copy.write_row((record_id, *row))
        curs.execute(self._sql("DELETE FROM {action_recordings} WHERE recording_id = ANY(%s)"), ([i for i, _ in recordings],))
        with curs.copy(self._sql("COPY {action_recordings} (recording_id, practice, ref) FROM STDIN")) as copy:
            for recording_id, row in recordings:
                copy.write_row((recording_id, *row))
