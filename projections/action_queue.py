"""The action queue: what needs someone at a practice, each item with its due date and incident.

An item is a row while the work is open and is deleted when it is done, so the queue holds only
open work (plus each incident's practice and kind, which later events do not carry, and an
outstanding copy request to restore on reopening). Due dates are computed from the events, never
from the clock, so a view built live and one rebuilt from scratch agree; the clock only decides,
when the queue is read, which items are overdue.

Items (ACTIONS):
- review: every incident, until a manager reviews it; due by the end of the second working day
  (England and Wales: weekdays except bank holidays) after the UK day it was reported.
  Closing also ends it: only a manager can close, the domain records a close as reviewed
  (`Incident._closed` sets `reviewed`), and after a reopen the incident stays reviewed.
- copy: a copy of a recording asked for (CopyRequested) and not yet received, due 14 days after
  the latest request (asking again is the follow-up, so it restarts the 14 days; `since` stays
  the first request). Ends with CopyReceived or PatientDeclinedToShare; closing the incident
  ends the chase (a closed incident takes no responses), and reopening it brings the chase back
  with its original due date.
- warning_window: a warning letter sent (WarningLetterSent) opens a 12-month window in which a
  removal from the practice list may rely on it (FilmingIncident.check_removal_justified). It is
  not work: it shows as "window ends on <date>", is never overdue, and leaves the queue when a
  removal is requested (the window was used) or when it ends (hidden at once by the query; the
  row is deleted when the practice's next incident is reported). A later letter extends it.
  Closing the incident does not end it: the warning stands for 12 months whatever the incident's
  status, and a reopened incident can still rely on it.

Issue 5 adds disclosure-request deadlines: add an Action here (e.g. "disclosure_due"), a view
method that registers a request's id, practice and kind ("disclosure") in action_incidents as
incident_reported does for an incident (items take their practice and kind from there), and
handlers for the DisclosureRequest events that call `item_due` (received, extended) and
`item_done` (disclosed, refused, closed) with the request's id in place of an incident id. Items
are keyed by (id, action), and `due()` and ActionItem need no change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import singledispatchmethod
from typing import Any, Iterable
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from incidents.domain.filming import WARNING_VALIDITY_MONTHS, FilmingIncident
from incidents.domain.incident import Incident
from incidents.domain.recording import RecordingEpisode
from incidents.domain.values import months_before

from .working_days import working_days_deadline

REVIEW_WORKING_DAYS = 2
COPY_FOLLOW_UP = timedelta(days=14)


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    due_wording: str  # what the due date means, before the date: "Due by", "Window ends on"
    is_window: bool = False  # a window that ends, never overdue work


REVIEW = Action("review", "Review the incident", "Review by")
COPY = Action("copy", "Chase the copy of the recording", "Follow up by")
WARNING_WINDOW = Action(
    "warning_window", "Warning letter in force: a removal from the list may rely on it", "Window ends on", is_window=True
)
ACTIONS: dict[str, Action] = {a.code: a for a in (REVIEW, COPY, WARNING_WINDOW)}
WINDOWS: tuple[str, ...] = tuple(a.code for a in ACTIONS.values() if a.is_window)
ENDED_BY_CLOSE: tuple[str, ...] = (REVIEW.code, COPY.code)


@dataclass(frozen=True)
class ActionItem:
    incident_id: UUID
    kind: str  # the incident's kind: "recording" or "filming"
    action: str  # a code of ACTIONS
    label: str
    due_wording: str
    due_at: datetime  # UTC; for a window, when it ends
    since: datetime  # UTC: when the need arose (reported, copy first asked for, letter sent)
    overdue: bool  # never for a window
    is_window: bool


class ActionQueueView(TrackingRecorder, ABC):
    # Writes: each one event's changes, with its tracking position, in one transaction.

    @abstractmethod
    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, reported_at: datetime, review_due: datetime, tracking: Tracking
    ) -> None:
        """Remember the incident, add its review item, and drop the practice's ended windows."""

    @abstractmethod
    def item_due(self, incident_id: UUID, action: str, since: datetime, due_at: datetime, tracking: Tracking) -> None:
        """Add an item, or replace an existing one whose due date is earlier (a later letter)."""

    @abstractmethod
    def item_done(self, incident_id: UUID, actions: tuple[str, ...], tracking: Tracking) -> None: ...

    @abstractmethod
    def copy_requested(self, incident_id: UUID, at: datetime, due_at: datetime, tracking: Tracking) -> None:
        """Remember the outstanding request (for a reopen) and add or move its item."""

    @abstractmethod
    def copy_settled(self, incident_id: UUID, tracking: Tracking) -> None: ...

    @abstractmethod
    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        """Restore the copy item if a request is still outstanding."""

    @abstractmethod
    def _item_rows(self, practice: str, now: datetime, limit: int) -> Iterable[tuple[UUID, str, str, datetime, datetime]]:
        """(incident_id, kind, action, due_at, since) of open items, windows not yet ended,
        by due date then incident id."""

    def due(self, practice: str, now: datetime, limit: int = 100) -> list[ActionItem]:
        """The practice's open items: overdue first (oldest due first), then by due date."""
        items = []
        for incident_id, kind, code, due_at, since in self._item_rows(practice, now, limit):
            action = ACTIONS[code]
            items.append(
                ActionItem(
                    incident_id, kind, code, action.label, action.due_wording, due_at, since,
                    overdue=not action.is_window and due_at < now, is_window=action.is_window,
                )
            )
        return items


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)


class ActionQueue(Projection[ActionQueueView]):
    name = "action_queue"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, e: FilmingIncident.Reported, tracking: Tracking) -> None:
        self._reported(e, FilmingIncident.KIND, tracking)

    @process_event.register
    def _(self, e: RecordingEpisode.Reported, tracking: Tracking) -> None:
        self._reported(e, RecordingEpisode.KIND, tracking)

    def _reported(self, e: Any, kind: str, tracking: Tracking) -> None:
        due = working_days_deadline(e.timestamp, REVIEW_WORKING_DAYS)
        self.view.incident_reported(e.originator_id, e.practice, kind, e.timestamp, due, tracking)

    @process_event.register
    def _(self, e: Incident.Reviewed, tracking: Tracking) -> None:
        self.view.item_done(e.originator_id, (REVIEW.code,), tracking)

    @process_event.register
    def _(self, e: RecordingEpisode.CopyRequested, tracking: Tracking) -> None:
        self.view.copy_requested(e.originator_id, e.occurred_at, e.occurred_at + COPY_FOLLOW_UP, tracking)

    @process_event.register
    def _(self, e: RecordingEpisode.CopyReceived, tracking: Tracking) -> None:
        self.view.copy_settled(e.originator_id, tracking)

    @process_event.register
    def _(self, e: RecordingEpisode.PatientDeclinedToShare, tracking: Tracking) -> None:
        self.view.copy_settled(e.originator_id, tracking)

    @process_event.register
    def _(self, e: FilmingIncident.WarningLetterSent, tracking: Tracking) -> None:
        ends = months_after(e.occurred_at, WARNING_VALIDITY_MONTHS)
        self.view.item_due(e.originator_id, WARNING_WINDOW.code, e.occurred_at, ends, tracking)

    @process_event.register
    def _(self, e: FilmingIncident.RemovalRequested, tracking: Tracking) -> None:
        self.view.item_done(e.originator_id, (WARNING_WINDOW.code,), tracking)

    @process_event.register
    def _(self, e: Incident.Closed, tracking: Tracking) -> None:
        self.view.item_done(e.originator_id, ENDED_BY_CLOSE, tracking)

    @process_event.register
    def _(self, e: Incident.Reopened, tracking: Tracking) -> None:
        self.view.incident_reopened(e.originator_id, tracking)
