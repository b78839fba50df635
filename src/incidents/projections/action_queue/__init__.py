"""The action queue: what needs someone at a practice, each item due by a date from the events, never the
clock (so live and rebuilt views agree); docs/action-queue.md gives the rules of each item."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import singledispatchmethod
from typing import Any, Callable, Iterable
from uuid import UUID

from incidents.application.disclosures import DISCLOSURE_ROLES
from incidents.application.retention import RETENTION_ROLES
from incidents.domain.disclosure import DisclosureRequest
from incidents.domain.filming import WARNING_VALIDITY_MONTHS, FilmingIncident, person_filming
from incidents.domain.incident import Incident
from incidents.domain.practice_recording import PracticeRecording
from incidents.domain.kinds import kind_of
from incidents.domain.recording import RecordingEpisode
from incidents.domain.retention import INCIDENT as INCIDENT_RULE, SERIOUS_INCIDENT, HOLD_REASONS, RecordRetention, is_serious, is_use, request_rule
from incidents.domain.values import months_before
from incidents.projections.folding import FoldedView, FoldingProjection
from incidents.projections.summaries import searchable
from incidents.projections.working_days import UK, end_of_day, working_days_deadline

REVIEW_WORKING_DAYS = 2
COPY_FOLLOW_UP = timedelta(days=14)
RETENTION_YEARS = INCIDENT_RULE.years  # an incident's until something makes it serious
OVERSEERS = ("manager", "governance")  # who sees the dashboard


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    due_wording: str  # what the due date means, before the date: "Due by", "Window ends on"
    is_window: bool = False  # a window that ends, never overdue work
    from_due_date: bool = False  # shown only once due (a retention review, years ahead)
    roles: tuple[str, ...] = OVERSEERS  # who sees it: those who act on it or oversee it
    notice: timedelta | None = None  # shown only this long before it is due, and no longer once due


REVIEW = Action("review", "Review the incident", "Review by")
COPY = Action("copy", "Chase the copy of the recording", "Follow up by")
WARNING_WINDOW = Action(
    "warning_window", "Warning letter in force: a removal from the list may rely on it", "Window ends on", is_window=True
)
DISCLOSURE_DUE = Action("disclosure_due", "Respond to the disclosure request", "Respond by", roles=DISCLOSURE_ROLES)
RETENTION_REVIEW = Action(
    "retention_review", "Review for retention: keep or dispose of the record", "Review from", from_due_date=True, roles=RETENTION_ROLES
)
DESTROY_RECORDING = Action("destroy_recording", "Destroy the recording", "Destroy from", from_due_date=True)
RECORDING_REVIEW = Action(
    "recording_review", "Arrange the patient's review: they asked to see or hear the recording before it is used", "Asked on", from_due_date=True
)
CONSENT_ENDING = Action(
    "consent_ending", "The keeping period the patient agreed to ends soon: plan the recording's destruction", "Destroy from", notice=timedelta(days=30)
)
ACTIONS: dict[str, Action] = {
    a.code: a for a in (REVIEW, COPY, WARNING_WINDOW, DISCLOSURE_DUE, RETENTION_REVIEW, DESTROY_RECORDING, RECORDING_REVIEW, CONSENT_ENDING)
}
WINDOWS: tuple[str, ...] = tuple(a.code for a in ACTIONS.values() if a.is_window)
FROM_DUE_DATE: tuple[str, ...] = tuple(a.code for a in ACTIONS.values() if a.from_due_date)
CONSENT_NOTICE = CONSENT_ENDING.notice
assert CONSENT_NOTICE is not None and [a for a in ACTIONS.values() if a.notice] == [CONSENT_ENDING]  # the query reads one notice
ENDED_BY_CLOSE: tuple[str, ...] = (REVIEW.code, COPY.code)
DISCLOSURE = "disclosure"  # the kind of a disclosure request's items
PRACTICE_RECORDING = "practice_recording"  # the kind of a recording the practice made
# The events of an open incident that count as someone working on it.
ACTIVITY = (Incident.Responded, Incident.NoteAdded, Incident.Corrected, Incident.Reviewed)


def actions_seen_by(roles: Iterable[str] | None) -> tuple[str, ...]:
    """The codes of the actions any of these roles sees (every action when no roles are given)."""
    return tuple(a.code for a in ACTIONS.values() if roles is None or not set(a.roles).isdisjoint(roles))


@dataclass(frozen=True)
class Requester:
    """Who asked for a disclosure: the requester type (a code of REQUESTER_TYPES) and reference."""

    requester_type: str
    reference: str


@dataclass(frozen=True)
class ActionItem:
    incident_id: UUID  # the incident's id, or the disclosure request's
    kind: str  # the incident's kind ("recording" or "filming"), or "disclosure"
    action: str  # a code of ACTIONS
    label: str
    due_wording: str
    due_at: datetime  # UTC; for a window, when it ends
    since: datetime  # UTC: when the need arose (reported, copy first asked for, letter sent)
    overdue: bool  # never for a window
    is_window: bool
    requester: Requester | None = None  # a disclosure request's
    detail: str = ""  # for a warning letter: who it was given to, and its reference
    ref: str = ""  # a practice recording's short reference (an incident's is in the incident summaries)


# Who filmed, as an incident's row keeps it: the fact's code, the NHS number's last three digits
# and the visitor's description (with anything like a patient identifier blanked).
WHO_FILMED = ("filmer", "filmer_nhs_number", "filmer_description")


def who_filmed(filmer: str, nhs_number: str, description: str) -> str:
    return json.dumps([filmer, (nhs_number or "")[-3:], " ".join(searchable(description or "").split()).strip(" ,;:-")])


def warned(stored: str) -> str:
    """Who a warning letter went to, from an incident's row ('' when it is not known)."""
    try:
        filmer, ending, description = json.loads(stored) if stored else ("", "", "")
    except (ValueError, TypeError):
        return ""
    return person_filming(filmer, ending, description)


def letter_detail(filmer: str, reference: str) -> str:
    who = warned(filmer)
    detail = ", ".join(part for part in (f"given to: {who}" if who else "", f"letter reference {reference}" if reference else "") if part)
    return detail[:1].upper() + detail[1:]


@dataclass(frozen=True)
class HeldRecord:
    record_id: UUID
    kind: str  # the incident's kind, or "disclosure"
    reason: str  # a code of HOLD_REASONS
    since: datetime  # UTC: when the hold was placed
    ref: str = ""  # the record's short reference

    @property
    def reason_label(self) -> str:
        return HOLD_REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class DueReview:
    """A record whose retention review has come."""

    record_id: UUID
    kind: str
    ref: str
    due_at: datetime  # UTC: the first moment of its review day
    runs_from: datetime  # UTC: what its period ran from
    hold_reason: str  # a code of HOLD_REASONS, or ""


@dataclass(frozen=True)
class IdleIncident:
    incident_id: UUID
    kind: str
    idle_since: datetime  # UTC: its last activity


def action_tables(id_type: str, time_type: str) -> list[str]:
    """The view's tables on either database (tables in braces, see folding.FoldedView)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {{action_incidents}} (incident_id {id_type} PRIMARY KEY, practice text NOT NULL, "
        f"kind text NOT NULL, copy_since {time_type}, copy_due {time_type}, idle_since {time_type}, "
        "filmer text NOT NULL DEFAULT '')",
        "CREATE INDEX IF NOT EXISTS action_incidents_idle ON {action_incidents} (practice, idle_since)",
        f"CREATE TABLE IF NOT EXISTS {{action_items}} (incident_id {id_type} NOT NULL, action text NOT NULL, practice text NOT NULL, "
        f"kind text NOT NULL, due_at {time_type} NOT NULL, since {time_type} NOT NULL, detail text NOT NULL DEFAULT '', "
        "PRIMARY KEY (incident_id, action))",
        "CREATE INDEX IF NOT EXISTS action_items_due ON {action_items} (practice, due_at)",
        # A practice's windows are read by action, not among every item of the practice.
        "CREATE INDEX IF NOT EXISTS action_items_windows ON {action_items} (practice, action, due_at)",
        f"CREATE TABLE IF NOT EXISTS {{action_requests}} (request_id {id_type} PRIMARY KEY, requester_type text NOT NULL, "
        "reference text NOT NULL)",
        # Each record's place on the schedule: its period's years, the moment it runs from (none
        # while a request is open), a keep's review day, its hold, and whether disposal is decided.
        f"CREATE TABLE IF NOT EXISTS {{action_retention}} (record_id {id_type} PRIMARY KEY, practice text NOT NULL, "
        f"kind text NOT NULL, years integer NOT NULL, runs_from {time_type}, kept_until {time_type}, "
        f"hold_reason text NOT NULL DEFAULT '', hold_since {time_type}, disposal integer NOT NULL DEFAULT 0, ref text NOT NULL DEFAULT '')",
        "CREATE INDEX IF NOT EXISTS action_retention_held ON {action_retention} (practice, hold_since)",
        f"CREATE TABLE IF NOT EXISTS {{action_recordings}} (recording_id {id_type} PRIMARY KEY, practice text NOT NULL, "
        "ref text NOT NULL DEFAULT '')",
    ]


class ActionQueueView(FoldedView):
    record_rows = (
        ("{action_incidents}", "incident_id"), ("{action_items}", "incident_id"), ("{action_requests}", "request_id"),
        ("{action_retention}", "record_id"), ("{action_recordings}", "recording_id"),
    )
    """The rows the fold loads and the query, the same on both databases (folding.FoldedView)."""

    def action_incident(self, incident_id: UUID) -> list[Any] | None:
        found = self._load(
            "SELECT practice, kind, copy_since, copy_due, idle_since, filmer FROM {action_incidents} WHERE incident_id = %s", (incident_id,)
        )
        return list(found[0]) if found else None

    def action_item(self, key: tuple[UUID, str]) -> list[Any] | None:
        found = self._load("SELECT practice, kind, due_at, since, detail FROM {action_items} WHERE incident_id = %s AND action = %s", key)
        return list(found[0]) if found else None

    def action_retention(self, record_id: UUID) -> list[Any] | None:
        found = self._load(
            "SELECT practice, kind, years, runs_from, kept_until, hold_reason, hold_since, disposal, ref FROM {action_retention} "
            "WHERE record_id = %s",
            (record_id,),
        )
        return list(found[0]) if found else None

    def action_recording(self, recording_id: UUID) -> list[Any] | None:
        found = self._load("SELECT practice, ref FROM {action_recordings} WHERE recording_id = %s", (recording_id,))
        return list(found[0]) if found else None

    def windows_of(self, practice: str) -> list[tuple[tuple[UUID, str], list[Any]]]:
        rows = self._load(
            "SELECT incident_id, action, practice, kind, due_at, since, detail FROM {action_items} WHERE practice = %s AND action = ANY(%s)",
            (practice, list(WINDOWS)),
        )
        return [((self.id_of(row[0]), row[1]), list(row[2:])) for row in rows]

    def due(self, practice: str, now: datetime, limit: int = 100, roles: Iterable[str] | None = None) -> list[ActionItem]:
        """The practice's open items (those the roles see, if given), windows not yet
        ended: overdue first (oldest due first), then by due date."""
        actions = actions_seen_by(roles)
        if not actions:
            return []
        rows = self._select(
            "SELECT i.incident_id, i.kind, i.action, i.due_at, i.since, r.requester_type, r.reference, i.detail, a.filmer, p.ref "
            "FROM {action_items} i LEFT JOIN {action_requests} r ON r.request_id = i.incident_id "
            "LEFT JOIN {action_incidents} a ON a.incident_id = i.incident_id "
            "LEFT JOIN {action_recordings} p ON p.recording_id = i.incident_id "
            "WHERE i.practice = %s AND i.action = ANY(%s) AND NOT (i.due_at <= %s AND i.action = ANY(%s)) "
            "AND NOT (i.due_at > %s AND i.action = ANY(%s)) "
            "AND NOT (i.action = %s AND (i.due_at <= %s OR i.due_at > %s)) "
            "ORDER BY i.due_at, i.incident_id, i.action LIMIT %s",
            (practice, list(actions), now, list(WINDOWS), now, list(FROM_DUE_DATE), CONSENT_ENDING.code, now, now + CONSENT_NOTICE, limit),
        )
        items = []
        for incident_id, kind, code, due_at, since, requester_type, reference, detail, filmer, ref in rows:
            action, due_at = ACTIONS[code], self.moment_of(due_at)
            if code == WARNING_WINDOW.code:  # the item keeps the letter's reference; who was warned, the incident's row
                detail = letter_detail(filmer or "", detail)
            items.append(
                ActionItem(
                    self.id_of(incident_id), kind, code, action.label, action.due_wording, due_at, self.moment_of(since),
                    overdue=not action.is_window and not action.from_due_date and due_at < now, is_window=action.is_window,
                    requester=Requester(requester_type, reference or "") if requester_type else None, detail=detail, ref=ref or "",
                )
            )
        return items

    def held(self, practice: str, limit: int = 100) -> list[HeldRecord]:
        """The practice's records under legal hold, longest held first."""
        rows = self._select(
            "SELECT record_id, kind, hold_reason, hold_since, ref FROM {action_retention} WHERE practice = %s AND hold_since IS NOT NULL "
            "ORDER BY hold_since, record_id LIMIT %s",
            (practice, limit),
        )
        return [HeldRecord(self.id_of(i), kind, reason, self.moment_of(since), ref) for i, kind, reason, since, ref in rows]

    def reviews_due(self, practice: str, now: datetime, limit: int = 100) -> list[DueReview]:
        """The practice's records whose retention review has come, by review day (the review queue)."""
        rows = self._select(
            "SELECT i.incident_id, i.kind, r.ref, i.due_at, i.since, r.hold_reason FROM {action_items} i "
            "JOIN {action_retention} r ON r.record_id = i.incident_id "
            "WHERE i.practice = %s AND i.action = %s AND i.due_at <= %s ORDER BY i.due_at, i.incident_id LIMIT %s",
            (practice, RETENTION_REVIEW.code, now, limit),
        )
        return [DueReview(self.id_of(i), kind, ref, self.moment_of(due), self.moment_of(since), hold) for i, kind, ref, due, since, hold in rows]

    def idle(self, practice: str, before: datetime, limit: int = 100) -> list[IdleIncident]:
        """The practice's open incidents with no activity since before `before`, quietest first."""
        rows = self._select(
            "SELECT incident_id, kind, idle_since FROM {action_incidents} WHERE practice = %s AND idle_since <= %s "
            "ORDER BY idle_since, incident_id LIMIT %s",
            (practice, before, limit),
        )
        return [IdleIncident(self.id_of(i), kind, self.moment_of(since)) for i, kind, since in rows]


def uk_day_start(day: date) -> datetime:
    """The first moment of a UK calendar day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(timezone.utc)


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)


class ActionQueue(FoldingProjection):
    name = "action_queue"
    layout = 5  # 3: retention reviews and legal holds (action_retention); 4: who filmed, as JSON in filmer; 5: action_recordings

    def handler_of(self, event_class: type) -> Callable[[Any], None]:
        """An event of ACTIVITY also marks its incident active, before its own handler (if any) runs."""
        handler = self.handlers.get(event_class)
        if handler is None:
            handler = handled = super().handler_of(event_class)
            if issubclass(event_class, ACTIVITY):

                def handler(e: Any) -> None:
                    self.fold.incident_active(e.originator_id, e.timestamp)
                    handled(e)

                self.handlers[event_class] = handler
            if issubclass(event_class, Incident.Event) and not issubclass(event_class, Incident.Reported):
                before = handler

                def handler(e: Any) -> None:
                    before(e)
                    if is_use(e):
                        self.fold.record_used(e.originator_id, e.timestamp, is_serious(e))

                self.handlers[event_class] = handler
        return handler

    def folds(self, event_class: type) -> bool:
        return super().folds(event_class) or issubclass(event_class, Incident.Event)  # every one may be activity or use (handler_of)

    @singledispatchmethod
    def fold_event(self, domain_event: Any) -> None:
        pass

    @fold_event.register
    def _(self, e: Incident.Reported) -> None:
        due = working_days_deadline(e.timestamp, REVIEW_WORKING_DAYS)
        filmer = who_filmed(*(getattr(e, name, "") for name in WHO_FILMED)) if isinstance(e, FilmingIncident.Reported) else ""
        self.fold.incident_reported(e.originator_id, e.practice, kind_of(e).KIND, e.timestamp, due, filmer)
        self.fold.record_started(e.originator_id, e.practice, kind_of(e).KIND, RETENTION_YEARS, e.occurred_at, e.ref)

    @fold_event.register
    def _(self, e: Incident.Reviewed) -> None:
        self.fold.item_done(e.originator_id, (REVIEW.code,))

    @fold_event.register
    def _(self, e: RecordingEpisode.CopyRequested) -> None:
        self.fold.copy_requested(e.originator_id, e.occurred_at, e.occurred_at + COPY_FOLLOW_UP)

    @fold_event.register(RecordingEpisode.CopyReceived)
    @fold_event.register(RecordingEpisode.PatientDeclinedToShare)
    def _(self, e: Any) -> None:
        self.fold.copy_settled(e.originator_id)

    @fold_event.register
    def _(self, e: FilmingIncident.WarningLetterSent) -> None:
        ends = months_after(e.occurred_at, WARNING_VALIDITY_MONTHS)
        self.fold.letter_sent(e.originator_id, e.occurred_at, ends, e.reference)

    @fold_event.register
    def _(self, e: Incident.Corrected) -> None:
        if e.field in WHO_FILMED:
            self.fold.filmer_corrected(e.originator_id, WHO_FILMED.index(e.field), e.value)

    @fold_event.register
    def _(self, e: FilmingIncident.RemovalRequested) -> None:
        self.fold.item_done(e.originator_id, (WARNING_WINDOW.code,))

    @fold_event.register
    def _(self, e: Incident.Closed) -> None:
        self.fold.item_done(e.originator_id, ENDED_BY_CLOSE)
        self.fold.incident_closed(e.originator_id)

    @fold_event.register
    def _(self, e: Incident.Reopened) -> None:
        self.fold.incident_reopened(e.originator_id, e.timestamp)

    # Disclosure requests: their dates are calendar days (decoded by the application's DateAsISO).

    @fold_event.register
    def _(self, e: DisclosureRequest.Received) -> None:
        requester = Requester(e.requester_type, e.reference)
        received = datetime.combine(e.received_on, time(0), tzinfo=UK).astimezone(timezone.utc)  # the UK day's first moment
        self.fold.request_received(e.originator_id, e.practice, requester, received, end_of_day(e.due_on))
        self.fold.record_started(e.originator_id, e.practice, DISCLOSURE, request_rule(e.requester_type).years, None, getattr(e, "ref", ""))  # older events lack ref

    @fold_event.register(Incident.Referenced)
    @fold_event.register(DisclosureRequest.Referenced)
    def _(self, e: Any) -> None:
        self.fold.record_referenced(e.originator_id, e.ref)

    @fold_event.register
    def _(self, e: DisclosureRequest.Extended) -> None:
        self.fold.item_moved(e.originator_id, DISCLOSURE_DUE.code, end_of_day(e.due_on))

    @fold_event.register(DisclosureRequest.Disclosed)
    @fold_event.register(DisclosureRequest.Refused)
    @fold_event.register(DisclosureRequest.Closed)
    def _(self, e: Any) -> None:
        self.fold.item_done(e.originator_id, (DISCLOSURE_DUE.code,))
        self.fold.record_used(e.originator_id, e.timestamp, False)

    # Retention: holds and review decisions, on the record they are about.

    @fold_event.register
    def _(self, e: RecordRetention.HoldPlaced) -> None:
        self.fold.hold_placed(e.record_id, e.reason, e.timestamp)

    @fold_event.register
    def _(self, e: RecordRetention.HoldLifted) -> None:
        self.fold.hold_placed(e.record_id, "", None)

    @fold_event.register
    def _(self, e: RecordRetention.Kept) -> None:
        self.fold.record_kept(e.record_id, uk_day_start(e.review_on))

    @fold_event.register
    def _(self, e: RecordRetention.DisposalDecided) -> None:
        self.fold.disposal_decided(e.record_id)

    # Recordings the practice makes: when each is to be destroyed (DESTROY_RECORDING).

    @fold_event.register
    def _(self, e: PracticeRecording.Made) -> None:
        self.fold.recording_made(e.originator_id, e.practice, e.ref)
        due = uk_day_start(e.recorded_on + timedelta(days=1))
        self.fold.destruction_due(e.originator_id, due, e.timestamp, "No consent on record: it must not be used", e.practice)

    @fold_event.register
    def _(self, e: PracticeRecording.ConsentGiven) -> None:
        due = uk_day_start(e.keep_until + timedelta(days=1))
        self.fold.destruction_due(e.originator_id, due, e.timestamp, f"Kept until {e.keep_until:%d %b %Y}, as the patient agreed")
        self.fold.recording_item(e.originator_id, CONSENT_ENDING.code, due, e.timestamp, f"The patient agreed it is kept until {e.keep_until:%d %b %Y}")

    @fold_event.register
    def _(self, e: PracticeRecording.ReviewOffered) -> None:
        if e.answer == "accepted":
            self.fold.recording_item(e.originator_id, RECORDING_REVIEW.code, e.timestamp, e.timestamp, "Every use is refused until they have seen or heard it")
        else:
            self.fold.item_done(e.originator_id, (RECORDING_REVIEW.code,))

    @fold_event.register
    def _(self, e: PracticeRecording.Reviewed) -> None:
        self.fold.item_done(e.originator_id, (RECORDING_REVIEW.code,))

    @fold_event.register
    def _(self, e: PracticeRecording.ConsentWithdrawn) -> None:
        self.fold.destruction_due(e.originator_id, uk_day_start(e.withdrawn_on), e.timestamp, "The patient withdrew consent", sooner=True)
        self.fold.item_done(e.originator_id, (RECORDING_REVIEW.code, CONSENT_ENDING.code))

    @fold_event.register
    def _(self, e: PracticeRecording.Destroyed) -> None:
        self.fold.item_done(e.originator_id, (DESTROY_RECORDING.code, RECORDING_REVIEW.code, CONSENT_ENDING.code))

    @fold_event.register
    def _(self, e: RecordRetention.Disposed) -> None:
        self.view.drop_record(e.record_id)
