"""A SQLite view that can hold its writes and commit those of many events in one transaction.

The same contract as the incident summaries' SQLite view: after start_batching(), each event's
statements are kept in order until flush(), which runs them all and records the tracking
position of the last event in one transaction. A crash before the flush loses both, so the
events are processed again: still exactly once. A projection must therefore never read the view
while it writes (a held write would not be visible): every change is expressed as statements
that read what they need from the view's own tables when they run.
"""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from .summaries_sqlite import relax_durability, write_without_journal

Statement = tuple[str, tuple[Any, ...]]


class BatchingSQLiteTrackingRecorder(SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        relax_durability(datastore)
        super().__init__(datastore, **kwargs)
        self._batch: list[Statement] | None = None
        self._batch_tracking: Tracking | None = None

    def start_batching(self) -> None:
        self._batch = []

    def start_rebuilding(self) -> BatchingSQLiteTrackingRecorder:
        """For a rebuild into a side file nobody reads until it is complete (see rebuild.py);
        the projection writes to the view itself."""
        self.start_batching()
        write_without_journal(self.datastore)
        return self

    def finish_rebuilding(self) -> None:
        self.flush()

    def flush(self) -> None:
        tracking = self._batch_tracking
        if self._batch is None or tracking is None:
            return
        with self.datastore.transaction(commit=True) as c:
            for sql, params in self._batch:
                c.execute(sql, params)
            self._insert_tracking(c, tracking)
        self._batch = []
        self._batch_tracking = None

    def discard_held(self) -> None:
        """Forget the held writes (their transaction failed): the events are processed again."""
        if self._batch is not None:
            self._batch = []
        self._batch_tracking = None

    def insert_tracking(self, tracking: Tracking) -> None:
        if self._batch is not None:
            self._batch_tracking = tracking
            return
        super().insert_tracking(tracking)

    def _write(self, statements: Sequence[Statement], tracking: Tracking) -> None:
        """Run the statements of one event, in order, with its tracking position."""
        if self._batch is not None:
            self._batch.extend(statements)
            self._batch_tracking = tracking
            return
        with self.datastore.transaction(commit=True) as c:
            for sql, params in statements:
                c.execute(sql, params)
            self._insert_tracking(c, tracking)

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return list(c.fetchall())
