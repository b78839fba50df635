"""The action queue's rows, changed in memory event by event (see folding.py), times as the view
stores them."""

from __future__ import annotations

import heapq
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from incidents.projections.folding import Fold

from incidents.domain.retention import hold_reason_phrase, years_after

from . import COPY, DESTROY_RECORDING, DISCLOSURE, PRACTICE_RECORDING, DISCLOSURE_DUE, RETENTION_REVIEW, REVIEW, SERIOUS_INCIDENT, WARNING_WINDOW, WINDOWS, Requester, uk_day_start, who_filmed

ItemKey = tuple[UUID, str]  # (incident or request id, action)
# An incident: [practice, kind, copy_since, copy_due, idle_since (None once closed), filmer (who_filmed)].
PRACTICE, KIND, COPY_SINCE, COPY_DUE, IDLE_SINCE, FILMER = range(6)
DUE_AT, SINCE, DETAIL = 2, 3, 4  # an item: [practice, kind, due_at, since, detail (a warning letter's: its reference)]
# A record's place on the schedule: [practice, kind, years, runs_from, kept_until, hold_reason, hold_since, disposal, ref].
YEARS, RUNS_FROM, KEPT_UNTIL, HOLD_REASON, HOLD_SINCE, DISPOSAL, REF = range(2, 9)


class ActionFold(Fold):
    def forget(self) -> None:
        self.incidents: dict[UUID, list[Any] | None] = {}
        self.items: dict[ItemKey, list[Any] | None] = {}  # None: no such item
        # A practice's windows by end, soonest first: (due_at, key), pushed whenever a window is
        # written or read; an entry whose window has gone or moved later is passed over when reached.
        self.windows: dict[str, list[tuple[Any, ItemKey]]] = {}
        self.changed_incidents: dict[UUID, list[Any]] = {}
        self.changed_items: set[ItemKey] = set()  # added, changed or deleted
        self.new_requests: dict[UUID, Requester] = {}
        self.recordings: dict[UUID, list[Any] | None] = {}  # a practice recording: [practice, ref]
        self.new_recordings: dict[UUID, list[Any]] = {}
        self.retention: dict[UUID, list[Any] | None] = {}
        self.changed_retention: set[UUID] = set()
        self.tracking = None

    def held(self) -> int:
        return len(self.incidents) + len(self.items) + len(self.retention) + len(self.recordings)

    def drain(
        self,
    ) -> tuple[
        list[tuple[UUID, list[Any]]], list[ItemKey], list[tuple[ItemKey, list[Any]]], list[tuple[UUID, Requester]], list[tuple[UUID, list[Any]]],
        list[tuple[UUID, list[Any]]],
    ]:
        """What changed since the last drain: incidents (as they now are); the keys of every item
        added, changed or deleted (a writer deletes them all, then writes the items that exist);
        those items; new requests; records' places on the schedule (as they now are); and new
        practice recordings ([practice, ref])."""
        incidents = list(self.changed_incidents.items())
        keys = list(self.changed_items)
        items = [(key, item) for key in keys if (item := self.items[key]) is not None]
        requests = list(self.new_requests.items())
        retention = [(record_id, row) for record_id in self.changed_retention if (row := self.retention[record_id]) is not None]
        recordings = list(self.new_recordings.items())
        self.changed_incidents, self.changed_items, self.new_requests, self.changed_retention, self.new_recordings = {}, set(), {}, set(), {}
        return incidents, keys, items, requests, retention, recordings

    def _incident(self, incident_id: UUID) -> list[Any] | None:
        return self._cached(self.incidents, incident_id, self.loader.action_incident)  # type: ignore[no-any-return]

    def _item(self, key: ItemKey) -> list[Any] | None:
        return self._cached(self.items, key, self.loader.action_item)  # type: ignore[no-any-return]

    def _put(self, key: ItemKey, item: list[Any]) -> None:
        self.items[key] = item
        self.changed_items.add(key)
        if key[1] in WINDOWS:
            heapq.heappush(self._windows(item[PRACTICE]), (item[DUE_AT], key))

    def _delete(self, key: ItemKey) -> None:
        if self._item(key) is not None:
            self.items[key] = None
            self.changed_items.add(key)

    def _windows(self, practice: str) -> list[tuple[Any, ItemKey]]:
        """The practice's windows, read from the view the first time."""
        windows = self.windows.get(practice)
        if windows is None:
            windows = self.windows[practice] = []
            for key, row in [] if self.complete else self.loader.windows_of(practice):
                item = self.items.setdefault(key, row)
                if item is not None:
                    windows.append((item[DUE_AT], key))
            heapq.heapify(windows)
        return windows

    def _end_windows(self, practice: str, at: Any) -> None:
        """Delete the practice's windows that end at or before `at`."""
        windows = self._windows(practice)
        while windows and windows[0][0] <= at:
            _, key = heapq.heappop(windows)
            item = self.items.get(key)
            if item is not None and item[DUE_AT] <= at:
                self._delete(key)

    def _copy_item(self, incident_id: UUID, replace: bool) -> None:
        """The copy item from the incident's outstanding request, if any."""
        incident = self._incident(incident_id)
        if incident is None or incident[COPY_DUE] is None:
            return
        key = (incident_id, COPY.code)
        if replace or self._item(key) is None:
            self._put(key, [incident[PRACTICE], incident[KIND], incident[COPY_DUE], incident[COPY_SINCE], ""])

    # What the projection calls -----------------------------------------------------------------

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, reported_at: datetime, review_due: datetime, filmer: str
    ) -> None:
        at = self.stored(reported_at)
        self.incidents[incident_id] = self.changed_incidents[incident_id] = [practice, kind, None, None, at, filmer]
        self._put((incident_id, REVIEW.code), [practice, kind, self.stored(review_due), at, ""])
        self._end_windows(practice, at)

    def _set_idle_since(self, incident_id: UUID, at: Any) -> None:
        incident = self._incident(incident_id)
        if incident is not None:
            incident[IDLE_SINCE] = at
            self.changed_incidents[incident_id] = incident

    def incident_active(self, incident_id: UUID, at: datetime) -> None:
        """Someone worked on the incident: it is quiet from now (a closed one stays closed)."""
        incident = self._incident(incident_id)
        if incident is not None and incident[IDLE_SINCE] is not None:
            self._set_idle_since(incident_id, self.stored(at))

    def incident_closed(self, incident_id: UUID) -> None:
        self._set_idle_since(incident_id, None)

    def letter_sent(self, incident_id: UUID, sent: datetime, window_ends: datetime, reference: str) -> None:
        """A warning letter's window: added, or replacing one that ends earlier (a later letter)."""
        incident = self._incident(incident_id)
        if incident is None:
            return
        key, due = (incident_id, WARNING_WINDOW.code), self.stored(window_ends)
        item = self._item(key)
        if item is None or due > item[DUE_AT]:
            self._put(key, [incident[PRACTICE], incident[KIND], due, self.stored(sent), reference])

    def filmer_corrected(self, incident_id: UUID, part: int, value: str) -> None:
        """One part of who filmed (an index of WHO_FILMED) as corrected."""
        incident = self._incident(incident_id)
        if incident is None:
            return
        try:
            parts = json.loads(incident[FILMER]) if incident[FILMER] else ["", "", ""]
        except ValueError:
            parts = ["", "", ""]
        parts[part] = value
        incident[FILMER] = who_filmed(*parts)
        self.changed_incidents[incident_id] = incident

    def item_done(self, incident_id: UUID, actions: tuple[str, ...]) -> None:
        for action in actions:
            self._delete((incident_id, action))

    def copy_requested(self, incident_id: UUID, at: datetime, due_at: datetime) -> None:
        """Remember the outstanding request (for a reopen) and add or move its item."""
        incident = self._incident(incident_id)
        if incident is not None:
            since, due = self.stored(at), self.stored(due_at)
            incident[COPY_SINCE] = since if incident[COPY_SINCE] is None else min(incident[COPY_SINCE], since)
            incident[COPY_DUE] = due if incident[COPY_DUE] is None else max(incident[COPY_DUE], due)
            self.changed_incidents[incident_id] = incident
        self._copy_item(incident_id, replace=True)

    def copy_settled(self, incident_id: UUID) -> None:
        incident = self._incident(incident_id)
        if incident is not None:
            incident[COPY_SINCE] = incident[COPY_DUE] = None
            self.changed_incidents[incident_id] = incident
        self._delete((incident_id, COPY.code))

    def incident_reopened(self, incident_id: UUID, at: datetime) -> None:
        """Open and quiet from now; the copy item back if a request is still outstanding."""
        self._set_idle_since(incident_id, self.stored(at))
        self._copy_item(incident_id, replace=False)

    def request_received(self, request_id: UUID, practice: str, requester: Requester, since: datetime, due_at: datetime) -> None:
        self.new_requests[request_id] = requester
        self._put((request_id, DISCLOSURE_DUE.code), [practice, DISCLOSURE, self.stored(due_at), self.stored(since), ""])

    def item_moved(self, item_id: UUID, action: str, due_at: datetime) -> None:
        """Give an open item another due date (an extension), keeping when it arose."""
        item = self._item((item_id, action))
        if item is not None:
            self._put((item_id, action), [item[PRACTICE], item[KIND], self.stored(due_at), item[SINCE], item[DETAIL]])

    def destruction_due(self, record_id: UUID, due_at: datetime, since: datetime, detail: str, practice: str | None = None, sooner: bool = False) -> None:
        """A practice recording's destruction item: made with its practice, then moved (the reason
        with it); `sooner` never moves it later (a withdrawal after the agreed period ended)."""
        key = (record_id, DESTROY_RECORDING.code)
        item = self._item(key) if practice is None else None
        if practice is None and item is None:
            return
        due = self.stored(due_at)
        if sooner and item is not None and item[DUE_AT] < due:
            due = item[DUE_AT]
        self._put(key, [practice or item[PRACTICE], PRACTICE_RECORDING, due, self.stored(since), detail])  # type: ignore[index]

    def recording_made(self, recording_id: UUID, practice: str, ref: str) -> None:
        if self._recording(recording_id) is None:  # its Made event is its first
            self.recordings[recording_id] = self.new_recordings[recording_id] = [practice, ref]

    def _recording(self, recording_id: UUID) -> list[Any] | None:
        return self._cached(self.recordings, recording_id, self.loader.action_recording)  # type: ignore[no-any-return]

    def recording_item(self, recording_id: UUID, action: str, due_at: datetime, since: datetime, detail: str) -> None:
        """An item of a practice recording the view knows (none for one it does not)."""
        recording = self._recording(recording_id)
        if recording is not None:
            self._put((recording_id, action), [recording[0], PRACTICE_RECORDING, self.stored(due_at), self.stored(since), detail])

    # Retention ---------------------------------------------------------------------------------

    def _retention(self, record_id: UUID) -> list[Any] | None:
        return self._cached(self.retention, record_id, self.loader.action_retention)  # type: ignore[no-any-return]

    def _review(self, record_id: UUID, row: list[Any]) -> None:
        """The record's retention review item, from its row: due the UK day its period ends (or a
        later one a keep gave); none while its period has not started or once disposal is decided."""
        self.retention[record_id] = row
        self.changed_retention.add(record_id)
        key = (record_id, RETENTION_REVIEW.code)
        if row[RUNS_FROM] is None or row[DISPOSAL]:
            self._delete(key)
            return
        due = self.stored(uk_day_start(years_after(self.loader.moment_of(row[RUNS_FROM]), row[YEARS])))
        if row[KEPT_UNTIL] is not None:
            due = max(due, row[KEPT_UNTIL])
        detail = f"Under legal hold: {hold_reason_phrase(row[HOLD_REASON])}" if row[HOLD_SINCE] is not None else ""
        self._put(key, [row[PRACTICE], row[KIND], due, row[RUNS_FROM], detail])

    def record_started(self, record_id: UUID, practice: str, kind: str, years: int, runs_from: datetime | None, ref: str) -> None:
        self._review(record_id, [practice, kind, years, None if runs_from is None else self.stored(runs_from), None, "", None, 0, ref])

    def record_referenced(self, record_id: UUID, ref: str) -> None:
        row = self._retention(record_id)
        if row is not None:
            row[REF] = ref
            self.retention[record_id] = row
            self.changed_retention.add(record_id)

    def record_used(self, record_id: UUID, at: datetime, serious: bool) -> None:
        """The record came back into use (or a request closed): its period runs from now."""
        row = self._retention(record_id)
        if row is None:
            return
        at_stored = self.stored(at)
        row[RUNS_FROM] = at_stored if row[RUNS_FROM] is None else max(row[RUNS_FROM], at_stored)
        if serious:
            row[YEARS] = max(row[YEARS], SERIOUS_INCIDENT.years)
        self._review(record_id, row)

    def record_kept(self, record_id: UUID, review_from: datetime) -> None:
        row = self._retention(record_id)
        if row is not None:
            row[KEPT_UNTIL] = self.stored(review_from)
            self._review(record_id, row)

    def hold_placed(self, record_id: UUID, reason: str, since: datetime | None) -> None:
        """A hold placed (or, with no reason and time, lifted)."""
        row = self._retention(record_id)
        if row is not None:
            row[HOLD_REASON], row[HOLD_SINCE] = reason, None if since is None else self.stored(since)
            self._review(record_id, row)

    def disposal_decided(self, record_id: UUID) -> None:
        row = self._retention(record_id)
        if row is not None:
            row[DISPOSAL] = 1
            self._review(record_id, row)
