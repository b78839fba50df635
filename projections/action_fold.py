"""The action queue folded in memory: how a rebuild writes it (as summary_fold.py does for the
summaries).

Every method is the in-memory twin of the view method of the same name (action_queue_sqlite,
action_queue_postgres), changing the same rows the same way; tests/integration/test_action_fold.py
holds the two to the same tables. Times are kept as the view stores them (`stored`: UTC
microseconds on SQLite, the datetime itself on PostgreSQL), so that comparing two due dates gives
what the database's comparison gives.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from eventsourcing.persistence import Tracking

from .action_queue import COPY, DISCLOSURE, DISCLOSURE_DUE, REVIEW, WINDOWS, Requester

ItemKey = tuple[UUID, str]  # (incident or request id, action)
PRACTICE, KIND, COPY_SINCE, COPY_DUE = range(4)  # an incident: [practice, kind, copy_since, copy_due]
DUE_AT, SINCE = 2, 3  # an item: [practice, kind, due_at, since]


class ActionFold:
    def __init__(self, stored: Callable[[datetime], Any]) -> None:
        self.stored = stored
        self.incidents: dict[UUID, list[Any]] = {}
        self.items: dict[ItemKey, list[Any]] = {}
        self.requests: dict[UUID, Requester] = {}
        # A practice's windows by end, soonest first: (due_at, key), pushed whenever a window is
        # written; an entry whose window has gone or moved later is passed over when reached.
        self.windows: dict[str, list[tuple[Any, ItemKey]]] = {}
        self.changed_incidents: dict[UUID, list[Any]] = {}
        self.changed_items: set[ItemKey] = set()  # added, changed or deleted
        self.new_requests: dict[UUID, Requester] = {}
        self.tracking: Tracking | None = None  # of the last event folded

    def drain(self) -> tuple[list[tuple[UUID, list[Any]]], list[ItemKey], list[tuple[ItemKey, list[Any]]], list[tuple[UUID, Requester]]]:
        """What changed since the last drain: incidents (as they now are); the keys of every item
        added, changed or deleted (a writer deletes them all, then writes the items that exist);
        those items; and new requests."""
        incidents = list(self.changed_incidents.items())
        keys = list(self.changed_items)
        items = [(key, self.items[key]) for key in keys if key in self.items]
        requests = list(self.new_requests.items())
        self.changed_incidents, self.changed_items, self.new_requests = {}, set(), {}
        return incidents, keys, items, requests

    def _put(self, key: ItemKey, item: list[Any]) -> None:
        self.items[key] = item
        self.changed_items.add(key)
        if key[1] in WINDOWS:
            heapq.heappush(self.windows.setdefault(item[PRACTICE], []), (item[DUE_AT], key))

    def _delete(self, key: ItemKey) -> None:
        if self.items.pop(key, None) is not None:
            self.changed_items.add(key)

    def _end_windows(self, practice: str, at: Any) -> None:
        """Delete the practice's windows that end at or before `at`."""
        windows = self.windows.get(practice)
        while windows and windows[0][0] <= at:
            _, key = heapq.heappop(windows)
            item = self.items.get(key)
            if item is not None and item[DUE_AT] <= at:
                self._delete(key)

    def _copy_item(self, incident_id: UUID, replace: bool) -> None:
        """The copy item from the incident's outstanding request, if any (INSERT ... SELECT)."""
        incident = self.incidents.get(incident_id)
        if incident is None or incident[COPY_DUE] is None:
            return
        key = (incident_id, COPY.code)
        if replace or key not in self.items:
            self._put(key, [incident[PRACTICE], incident[KIND], incident[COPY_DUE], incident[COPY_SINCE]])

    # The view's writes -----------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        self.tracking = tracking

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, reported_at: datetime, review_due: datetime, tracking: Tracking
    ) -> None:
        self.tracking = tracking
        at = self.stored(reported_at)
        self.incidents[incident_id] = self.changed_incidents[incident_id] = [practice, kind, None, None]
        self._put((incident_id, REVIEW.code), [practice, kind, self.stored(review_due), at])
        self._end_windows(practice, at)

    def item_due(self, incident_id: UUID, action: str, since: datetime, due_at: datetime, tracking: Tracking) -> None:
        self.tracking = tracking
        incident = self.incidents.get(incident_id)
        if incident is None:
            return
        key, due = (incident_id, action), self.stored(due_at)
        item = self.items.get(key)
        if item is None:
            self._put(key, [incident[PRACTICE], incident[KIND], due, self.stored(since)])
        elif due > item[DUE_AT]:
            self._put(key, [item[PRACTICE], item[KIND], due, self.stored(since)])

    def item_done(self, incident_id: UUID, actions: tuple[str, ...], tracking: Tracking) -> None:
        self.tracking = tracking
        for action in actions:
            self._delete((incident_id, action))

    def copy_requested(self, incident_id: UUID, at: datetime, due_at: datetime, tracking: Tracking) -> None:
        self.tracking = tracking
        incident = self.incidents.get(incident_id)
        if incident is not None:
            since, due = self.stored(at), self.stored(due_at)
            incident[COPY_SINCE] = since if incident[COPY_SINCE] is None else min(incident[COPY_SINCE], since)
            incident[COPY_DUE] = due if incident[COPY_DUE] is None else max(incident[COPY_DUE], due)
            self.changed_incidents[incident_id] = incident
        self._copy_item(incident_id, replace=True)

    def copy_settled(self, incident_id: UUID, tracking: Tracking) -> None:
        self.tracking = tracking
        incident = self.incidents.get(incident_id)
        if incident is not None:
            incident[COPY_SINCE] = incident[COPY_DUE] = None
            self.changed_incidents[incident_id] = incident
        self._delete((incident_id, COPY.code))

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self.tracking = tracking
        self._copy_item(incident_id, replace=False)

    def request_received(
        self, request_id: UUID, practice: str, requester: Requester, since: datetime, due_at: datetime, tracking: Tracking
    ) -> None:
        self.tracking = tracking
        self.requests[request_id] = self.new_requests[request_id] = requester
        self._put((request_id, DISCLOSURE_DUE.code), [practice, DISCLOSURE, self.stored(due_at), self.stored(since)])

    def item_moved(self, item_id: UUID, action: str, due_at: datetime, tracking: Tracking) -> None:
        self.tracking = tracking
        item = self.items.get((item_id, action))
        if item is not None:
            self._put((item_id, action), [item[PRACTICE], item[KIND], self.stored(due_at), item[SINCE]])
