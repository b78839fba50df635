"""What the notice register, the disclosure desk and the access audit share: a changed record
saved with retries, new records listed in their practice's index, and calendar dates in events.

These are mixins of IncidentLog (service.py); service.py imports them, so they reach its names
(Saved, ConcurrentChange) only when called, never at import.
"""

from __future__ import annotations

import random
import time
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from ..domain.practice_index import AlreadyListed

if TYPE_CHECKING:
    from .service import Saved

UK = ZoneInfo("Europe/London")
A = TypeVar("A", bound=Aggregate)


def uk_today() -> date:
    return datetime.now(UK).date()


class DateAsISO(Transcoding):
    """Calendar dates (in service from, received on, due on) as ISO strings in stored events."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _service() -> Any:
    from . import service

    return service


class RecordKeeping:
    """Helpers for the mixins; `self` is the IncidentLog application."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)  # type: ignore[misc]
        transcoder.register(DateAsISO())

    def _saved(self, record_id: UUID, recordings: Any, created: bool = True) -> Saved:
        return _service().Saved(record_id, recordings[-1].notification.id, created)

    def _unchanged(self, record_id: UUID) -> Saved:
        return _service().Saved(record_id, self.recorder.max_notification_id() or 0, created=False)  # type: ignore[attr-defined]

    def _create_listed(self, practice: str, listing: str, record: Aggregate) -> Saved:
        """A new record and its index entry; a repeated submission finds the first one."""
        try:
            return self.save_listed(practice, listing, record)  # type: ignore[attr-defined]
        except AlreadyListed:
            return self._unchanged(record.id)

    def _update(self, load: Callable[[], A], change: Callable[[A], None]) -> Saved:
        """Load, change, save; a concurrent change to the same record is retried on fresh state."""
        service = _service()
        for attempt in range(service.SAVE_ATTEMPTS):
            record = load()
            change(record)
            try:
                recordings = self.save(record)  # type: ignore[attr-defined]
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.005) * (attempt + 1))
                continue
            return self._saved(record.id, recordings)
        raise service.ConcurrentChange("Someone else was changing this record at the same moment. Nothing was saved: try again.")
