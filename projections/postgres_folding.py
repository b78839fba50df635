"""How a PostgreSQL view writes in a rebuild: its projection writes to a fold in memory, and each
flush() writes what the fold changed since the last, with the fold's tracking position, in one
transaction. The view says how (`_write_fold`); this says when.

A rebuild's transactions are committed without waiting for the write-ahead log to reach the
disk (`synchronous_commit` off, for them alone): the tables are in a scratch schema nobody reads,
a crash leaves them to be dropped by the next rebuild, and the swap into place is committed as
every other transaction is. Each commit had waited for a flush of the log, three per page."""

from __future__ import annotations

from typing import Any

NOT_WAITING_FOR_THE_DISK = "SET LOCAL synchronous_commit TO OFF"


class FoldWriting:
    """Mixed into a PostgreSQL view (before PostgresTrackingRecorder)."""

    _fold: Any = None

    def flush(self) -> None:
        fold = self._fold
        if fold is None or fold.tracking is None:
            return
        with self.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
            curs.execute(NOT_WAITING_FOR_THE_DISK)
            self._write_fold(curs, fold)
            self._insert_tracking(curs, fold.tracking)  # type: ignore[attr-defined]
        fold.tracking = None

    def _write_fold(self, curs: Any, fold: Any) -> None:
        raise NotImplementedError
