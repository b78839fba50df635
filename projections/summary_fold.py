"""The incident summaries folded in memory: how a rebuild writes them.

Live, each event is a statement that changes one row in the database (summaries_sqlite,
summaries_postgres). A rebuild reads every event of every incident, so it keeps every row in
memory instead, changes it there event by event, exactly as those statements would, and hands
the rows changed since the last page to the view, which writes them in bulk with the tracking
position of the page's last event. Each method here is the in-memory twin of the view method of
the same name; tests/integration/test_summary_fold.py holds the two to the same results, the
sort keys and the search words included.

Memory: one row per incident, for the length of the rebuild (the three views' folds together
hold about 2.5 kB per incident: README.md, "Rebuilding the views").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator
from uuid import UUID

from eventsourcing.persistence import Tracking

from .summaries import SORT_SLOTS, IncidentSummary, label_words, sort_base

# A row, as a list in this order (the views write these columns by name).
ROW_COLUMNS = (
    "incident_id", "practice", "kind", "occurred_at", "reported_at", "location", "status", "last_response",
    "last_response_at", "responses", "notes", "corrections", "reviewed_at", "closed_at", "outcome", "clinician",
    "sort_key", "kind_words", "location_words", "outcome_words", "response_words", "note_words",
)
(
    ID, PRACTICE, KIND, OCCURRED_AT, REPORTED_AT, LOCATION, STATUS, LAST_RESPONSE,
    LAST_RESPONSE_AT, RESPONSES, NOTES, CORRECTIONS, REVIEWED_AT, CLOSED_AT, OUTCOME, CLINICIAN,
    SORT_KEY, KIND_WORDS, LOCATION_WORDS, OUTCOME_WORDS, RESPONSE_WORDS, NOTE_WORDS,
) = range(len(ROW_COLUMNS))
TIME_COLUMNS = (OCCURRED_AT, REPORTED_AT, LAST_RESPONSE_AT, REVIEWED_AT, CLOSED_AT)


def _appended(words: str, more: str) -> str:
    """`words || ' ' || more`, as the live statements append (and nothing when there is no more)."""
    return words + " " + more if more else words


class SummaryFold:
    """Every incident's summary row, changed in memory as the view's statements change it."""

    def __init__(self) -> None:
        self.rows: dict[UUID, list[Any]] = {}
        self.changed: dict[UUID, list[Any]] = {}
        self.tracking: Tracking | None = None  # of the last event folded
        self._slots: dict[int, set[int]] = {}  # a millisecond's sort_base -> the sort keys taken in it

    def drain(self) -> Iterator[list[Any]]:
        """The rows changed since the last drain (each once, as it now is)."""
        changed, self.changed = self.changed, {}
        return iter(changed.values())

    def _next_key(self, moment: datetime) -> int:
        """The next free slot of the moment's millisecond: one past the highest key taken in it."""
        base = sort_base(moment)
        taken = self._slots.get(base)
        return max(taken) + 1 if taken else base

    def _take(self, key: int) -> None:
        self._slots.setdefault(key - key % SORT_SLOTS, set()).add(key)

    def _free(self, key: int) -> None:
        self._slots[key - key % SORT_SLOTS].discard(key)

    def _row(self, incident_id: UUID, tracking: Tracking) -> list[Any] | None:
        """The incident's row, marked changed (None, as an UPDATE of no row, if there is none)."""
        self.tracking = tracking
        row = self.rows.get(incident_id)
        if row is not None:
            self.changed[incident_id] = row
        return row

    # The view's writes -----------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        self.tracking = tracking

    def add(self, summary: IncidentSummary, note: str, tracking: Tracking) -> None:
        self.tracking = tracking
        if summary.incident_id in self.rows:  # ON CONFLICT (incident_id) DO NOTHING
            return
        key = self._next_key(summary.occurred_at)
        self._take(key)
        row = [
            summary.incident_id, summary.practice, summary.kind, summary.occurred_at, summary.reported_at,
            summary.location, summary.status, summary.last_response, summary.last_response_at, summary.responses,
            summary.notes, summary.corrections, summary.reviewed_at, summary.closed_at, summary.outcome,
            summary.clinician, key, label_words(summary.kind), label_words(summary.location),
            label_words(summary.outcome), "", note,
        ]
        self.rows[summary.incident_id] = self.changed[summary.incident_id] = row

    def record_response(self, incident_id: UUID, name: str, at: datetime, words: str, tracking: Tracking) -> None:
        row = self._row(incident_id, tracking)
        if row is not None:
            row[LAST_RESPONSE], row[LAST_RESPONSE_AT] = name, at
            row[RESPONSES] += 1
            row[RESPONSE_WORDS] = _appended(row[RESPONSE_WORDS], words)

    def add_note(self, incident_id: UUID, words: str, tracking: Tracking) -> None:
        row = self._row(incident_id, tracking)
        if row is not None:
            row[NOTES] += 1
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], words)

    def correct(self, incident_id: UUID, column: str | None, value: Any, reason: str, tracking: Tracking) -> None:
        row = self._row(incident_id, tracking)
        if row is None:
            return
        row[CORRECTIONS] += 1
        row[NOTE_WORDS] = _appended(row[NOTE_WORDS], reason)
        if column == "occurred_at":
            key = self._next_key(value)  # counts the row's own key if it stays in its millisecond
            self._free(row[SORT_KEY])
            self._take(key)
            row[OCCURRED_AT], row[SORT_KEY] = value, key
        elif column == "location":
            row[LOCATION], row[LOCATION_WORDS] = value, label_words(value)
        elif column == "clinician":
            row[CLINICIAN] = value

    def mark_reviewed(self, incident_id: UUID, at: datetime, comment: str, tracking: Tracking) -> None:
        row = self._row(incident_id, tracking)
        if row is not None:
            if row[REVIEWED_AT] is None:
                row[REVIEWED_AT] = at
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], comment)

    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, note: str, tracking: Tracking) -> None:
        row = self._row(incident_id, tracking)
        if row is not None:
            row[STATUS], row[OUTCOME], row[OUTCOME_WORDS], row[CLOSED_AT] = "closed", outcome, label_words(outcome), at
            if row[REVIEWED_AT] is None:
                row[REVIEWED_AT] = at
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], note)

    def mark_reopened(self, incident_id: UUID, reason: str, tracking: Tracking) -> None:
        row = self._row(incident_id, tracking)
        if row is not None:
            row[STATUS], row[OUTCOME], row[OUTCOME_WORDS], row[CLOSED_AT] = "open", "", "", None
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], reason)
