"""Dashboard figures in SQLite (the embedded default). Times are UTC microseconds.

The runner (and a rebuild) make this view hold its writes until flush(), which writes them with
the tracking position of the last event in one transaction. Here the held writes are not
statements but their net effect: the incidents changed (their rows, as they now are) and the
change of each counter. A thousand events of a month in one flush touch a few dozen counter rows
once each, instead of a few thousand upserts. To know an incident's practice, kind, month and
place, the view reads it once from the table (whose committed rows are exact: every earlier
change was flushed) and then keeps it in memory, changed as events come, until it is flushed.
Without start_batching(), every event is flushed at once. The fold itself (figures_fold.py) is
shared with the PostgreSQL view's rebuild.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from .figures import Counters, FiguresView
from .figures_fold import COUNTERS, INCIDENT_COLUMNS, FiguresFold, Times
from .sqlite_batching import BatchingSQLiteTrackingRecorder
from .summaries_sqlite import to_micros

KEPT_INCIDENTS = 50_000  # incidents kept in memory between flushes (a rebuild reads each once)
SELECT_INCIDENT = f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM figures_incidents WHERE incident_id = ?"
REPLACE_INCIDENT = (
    f"INSERT OR REPLACE INTO figures_incidents (incident_id, {', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in range(len(INCIDENT_COLUMNS) + 1))})"
)


def _seconds(reported_micros: int, closed_at: datetime) -> int:
    return (to_micros(closed_at) - reported_micros) // 1_000_000  # type: ignore[operator]


class SQLiteFiguresView(BatchingSQLiteTrackingRecorder, FiguresView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fold = FiguresFold(Times(to_micros, _seconds), self._load)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS figures_incidents ("
            "incident_id TEXT PRIMARY KEY, practice TEXT NOT NULL, kind TEXT NOT NULL, month TEXT NOT NULL, "
            "location TEXT NOT NULL, reported_at INTEGER NOT NULL, status TEXT NOT NULL, "
            "close_month TEXT, outcome TEXT, close_bucket INTEGER, close_seconds INTEGER)",
            # Counters are clustered by practice and month (WITHOUT ROWID): a page's rows sit
            # together however many other practices and months the file holds.
            "CREATE TABLE IF NOT EXISTS figures_open ("
            "practice TEXT NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (practice, kind)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS figures_incidents_by_month ("
            "practice TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, location TEXT NOT NULL, "
            "count INTEGER NOT NULL, PRIMARY KEY (practice, month, kind, location)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS figures_responses_by_month ("
            "practice TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, response TEXT NOT NULL, "
            "count INTEGER NOT NULL, PRIMARY KEY (practice, month, kind, response)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS figures_closes_by_month ("
            "practice TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL, "
            "bucket INTEGER NOT NULL, count INTEGER NOT NULL, seconds INTEGER NOT NULL, "
            "PRIMARY KEY (practice, month, kind, outcome, bucket)) WITHOUT ROWID",
        ]

    def _load(self, incident_id: UUID) -> list[Any] | None:
        found = self._select(SELECT_INCIDENT, (str(incident_id),))
        return list(found[0]) if found else None

    def start_rebuilding(self) -> FiguresFold:  # type: ignore[override]
        """For a rebuild into a side file: the projection writes to the fold itself."""
        super().start_rebuilding()
        return self._fold

    def _done(self) -> None:
        if self._batch is None:
            self.flush()

    def discard_held(self) -> None:
        """Forget the fold's unwritten changes and the rows it holds (read again from the view)."""
        super().discard_held()
        self._fold.drain()
        self._fold.forget()
        self._fold.tracking = None

    def insert_tracking(self, tracking: Tracking) -> None:
        self._fold.insert_tracking(tracking)
        self._done()

    def flush(self) -> None:
        fold = self._fold
        tracking = fold.tracking
        if tracking is None:
            return
        incidents, changes = fold.drain()
        with self.datastore.transaction(commit=True) as c:
            if incidents:
                c.executemany(REPLACE_INCIDENT, [(str(incident_id), *row) for incident_id, row in incidents])
            for table, rows in changes.items():
                with_seconds = table == "figures_closes_by_month"
                rows = [row for row in rows if row[-1] or (with_seconds and row[-2])]
                if not rows:
                    continue
                columns = COUNTERS[table]
                values = ", ".join("?" for _ in range(len(columns) + 1 + with_seconds))
                c.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}, count{', seconds' if with_seconds else ''}) "
                    f"VALUES ({values}) ON CONFLICT ({', '.join(columns)}) DO UPDATE SET count = count + excluded.count"
                    + (", seconds = seconds + excluded.seconds" if with_seconds else ""),
                    rows,
                )
            self._insert_tracking(c, tracking)
        fold.tracking = None
        if len(fold.incidents) > KEPT_INCIDENTS:
            fold.forget()

    # Events ---------------------------------------------------------------

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, month: str, location: str, reported_at: datetime, tracking: Tracking
    ) -> None:
        self._fold.incident_reported(incident_id, practice, kind, month, location, reported_at, tracking)
        self._done()

    def response_recorded(self, incident_id: UUID, response: str, month: str, tracking: Tracking) -> None:
        self._fold.response_recorded(incident_id, response, month, tracking)
        self._done()

    def incident_moved(self, incident_id: UUID, month: str | None, location: str | None, tracking: Tracking) -> None:
        self._fold.incident_moved(incident_id, month, location, tracking)
        self._done()

    def incident_closed(self, incident_id: UUID, outcome: str, closed_at: datetime, month: str, tracking: Tracking) -> None:
        self._fold.incident_closed(incident_id, outcome, closed_at, month, tracking)
        self._done()

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        self._fold.incident_reopened(incident_id, tracking)
        self._done()

    # Queries --------------------------------------------------------------

    def _counters(self, practice: str, first: str, last: str) -> Counters:
        months = "WHERE practice = ? AND month >= ? AND month <= ?"
        with self.datastore.transaction(commit=False) as c:

            def rows(sql: str, params: tuple[Any, ...]) -> list[Any]:
                c.execute(sql, params)
                return [tuple(r) for r in c.fetchall()]

            return Counters(
                rows("SELECT kind, count FROM figures_open WHERE practice = ?", (practice,)),
                rows(f"SELECT month, kind, location, count FROM figures_incidents_by_month {months}", (practice, first, last)),
                rows(f"SELECT month, kind, response, count FROM figures_responses_by_month {months}", (practice, first, last)),
                rows(
                    f"SELECT month, kind, outcome, bucket, count, seconds FROM figures_closes_by_month {months}",
                    (practice, first, last),
                ),
            )
