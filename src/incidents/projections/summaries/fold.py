"""The incident summaries' rows, changed in memory event by event (see folding.py): a row is a
list in ROW_COLUMNS order; a sort key is the next free slot of the incident's millisecond."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator
from uuid import UUID

from incidents.projections.folding import Fold

from . import ROW_COLUMNS, SORT_SLOTS, IncidentSummary, label_words, sort_base

(
    ID, PRACTICE, KIND, OCCURRED_AT, REPORTED_AT, LOCATION, STATUS, LAST_RESPONSE,
    LAST_RESPONSE_AT, RESPONSES, NOTES, CORRECTIONS, REVIEWED_AT, CLOSED_AT, OUTCOME, CLINICIAN, REF,
    SORT_KEY, KIND_WORDS, LOCATION_WORDS, OUTCOME_WORDS, RESPONSE_WORDS, NOTE_WORDS, PATIENT,
) = range(len(ROW_COLUMNS))


def _appended(words: str, more: str) -> str:
    """The words, and the more (when there are any) after a space."""
    return words + " " + more if more else words


class SummaryFold(Fold):
    def forget(self) -> None:
        self.rows: dict[UUID, list[Any] | None] = {}
        self.changed: dict[UUID, list[Any]] = {}
        self._slots: dict[int, set[int]] = {}  # a millisecond's sort_base -> the sort keys taken in it
        self.tracking = None

    def held(self) -> int:
        return len(self.rows)

    def drain(self) -> Iterator[list[Any]]:
        """The rows changed since the last drain (each once, as it now is)."""
        changed, self.changed = self.changed, {}
        return iter(changed.values())

    def _taken(self, key: int) -> set[int]:
        """The keys taken in the key's millisecond."""
        base = key - key % SORT_SLOTS
        taken = self._slots.get(base)
        if taken is None:
            taken = self._slots[base] = set() if self.complete else self.loader.sort_keys(base)
        return taken

    def _next_key(self, moment: datetime) -> int:
        """The next free slot of the moment's millisecond: one past the highest key taken in it."""
        base = sort_base(moment)
        taken = self._taken(base)
        return max(taken) + 1 if taken else base

    def _take(self, key: int) -> None:
        self._taken(key).add(key)

    def _free(self, key: int) -> None:
        self._taken(key).discard(key)

    def _row(self, incident_id: UUID) -> list[Any] | None:
        """The incident's row, marked changed (None, and nothing changes, if there is none)."""
        row = self._cached(self.rows, incident_id, self.loader.summary_row)
        if row is not None:
            self.changed[incident_id] = row
        return row

    # What the projection calls -----------------------------------------------------------------

    def add(self, summary: IncidentSummary, note: str, patient: str = "") -> None:
        if self.rows.get(summary.incident_id) is not None:  # a Reported event is its incident's first
            return
        key = self._next_key(summary.occurred_at)
        self._take(key)
        row = [
            summary.incident_id, summary.practice, summary.kind, self.stored(summary.occurred_at),
            self.stored(summary.reported_at), summary.location, summary.status, summary.last_response,
            self.stored(summary.last_response_at), summary.responses, summary.notes, summary.corrections,
            self.stored(summary.reviewed_at), self.stored(summary.closed_at), summary.outcome,
            summary.clinician, summary.ref, key, label_words(summary.kind), label_words(summary.location),
            label_words(summary.outcome), "", note, patient,
        ]
        self.rows[summary.incident_id] = self.changed[summary.incident_id] = row

    def record_response(self, incident_id: UUID, name: str, at: datetime, words: str) -> None:
        row = self._row(incident_id)
        if row is not None:
            row[LAST_RESPONSE], row[LAST_RESPONSE_AT] = name, self.stored(at)
            row[RESPONSES] += 1
            row[RESPONSE_WORDS] = _appended(row[RESPONSE_WORDS], words)

    def add_note(self, incident_id: UUID, words: str) -> None:
        row = self._row(incident_id)
        if row is not None:
            row[NOTES] += 1
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], words)

    def correct(self, incident_id: UUID, column: str | None, value: Any, reason: str) -> None:
        row = self._row(incident_id)
        if row is None:
            return
        row[CORRECTIONS] += 1
        row[NOTE_WORDS] = _appended(row[NOTE_WORDS], reason)
        if column == "occurred_at":
            key = self._next_key(value)  # counts the row's own key if it stays in its millisecond
            self._free(row[SORT_KEY])
            self._take(key)
            row[OCCURRED_AT], row[SORT_KEY] = self.stored(value), key
        elif column == "location":
            row[LOCATION], row[LOCATION_WORDS] = value, label_words(value)
        elif column == "clinician":
            row[CLINICIAN] = value
        elif column == "patient":
            row[PATIENT] = value

    def set_ref(self, incident_id: UUID, ref: str) -> None:
        row = self._row(incident_id)
        if row is not None:
            row[REF] = ref

    def mark_reviewed(self, incident_id: UUID, at: datetime, comment: str) -> None:
        row = self._row(incident_id)
        if row is not None:
            if row[REVIEWED_AT] is None:
                row[REVIEWED_AT] = self.stored(at)
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], comment)

    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, note: str) -> None:
        row = self._row(incident_id)
        if row is not None:
            at = self.stored(at)
            row[STATUS], row[OUTCOME], row[OUTCOME_WORDS], row[CLOSED_AT] = "closed", outcome, label_words(outcome), at
            if row[REVIEWED_AT] is None:
                row[REVIEWED_AT] = at
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], note)

    def mark_reopened(self, incident_id: UUID, reason: str) -> None:
        row = self._row(incident_id)
        if row is not None:
            row[STATUS], row[OUTCOME], row[OUTCOME_WORDS], row[CLOSED_AT] = "open", "", "", None
            row[NOTE_WORDS] = _appended(row[NOTE_WORDS], reason)
