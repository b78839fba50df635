"""Dashboard figures in SQLite (the embedded default). Times are UTC microseconds.

The runner (and a rebuild) make this view hold its writes until flush(), which writes them with
the tracking position of the last event in one transaction. Here the held writes are not
statements but their net effect: the incidents changed (their rows, as they now are) and the
change of each counter. A thousand events of a month in one flush touch a few dozen counter rows
once each, instead of a few thousand upserts. To know an incident's practice, kind, month and
place, the view reads it once from the table (whose committed rows are exact: every earlier
change was flushed) and then keeps it in memory, changed as events come, until it is flushed.
Without start_batching(), every event is flushed at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from .figures import Counters, FiguresView, bucket_of
from .sqlite_batching import BatchingSQLiteTrackingRecorder
from .summaries_sqlite import to_micros

INCIDENT_COLUMNS = (
    "incident_id, practice, kind, month, location, reported_at, status, close_month, outcome, close_bucket, close_seconds"
)
# The counter tables: name -> key columns (a count, and for closes a sum of seconds, beside them).
COUNTERS = {
    "figures_open": ("practice", "kind"),
    "figures_incidents_by_month": ("practice", "month", "kind", "location"),
    "figures_responses_by_month": ("practice", "month", "kind", "response"),
    "figures_closes_by_month": ("practice", "month", "kind", "outcome", "bucket"),
}
KEPT_INCIDENTS = 50_000  # incidents kept in memory between flushes (a rebuild reads each once)


class SQLiteFiguresView(BatchingSQLiteTrackingRecorder, FiguresView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._incidents: dict[str, list[Any]] = {}  # incident id -> its row's values (after the id)
        self._changed: set[str] = set()
        self._deltas: dict[str, dict[tuple[Any, ...], list[int]]] = {table: {} for table in COUNTERS}
        self._tracking: Tracking | None = None

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

    # Held changes ---------------------------------------------------------

    def _incident(self, incident_id: UUID) -> list[Any] | None:
        key = str(incident_id)
        row = self._incidents.get(key)
        if row is None:
            found = self._select(f"SELECT {INCIDENT_COLUMNS} FROM figures_incidents WHERE incident_id = ?", (key,))
            if not found:
                return None
            row = self._incidents[key] = list(found[0])[1:]
        return row

    def _count(self, table: str, key: tuple[Any, ...], by: int, seconds: int = 0) -> None:
        delta = self._deltas[table].setdefault(key, [0, 0])
        delta[0] += by
        delta[1] += seconds

    def _done(self, tracking: Tracking) -> None:
        self._tracking = tracking
        if self._batch is None:
            self.flush()

    def insert_tracking(self, tracking: Tracking) -> None:
        self._done(tracking)

    def flush(self) -> None:
        tracking = self._tracking
        if tracking is None:
            return
        with self.datastore.transaction(commit=True) as c:
            if self._changed:
                c.executemany(
                    f"INSERT OR REPLACE INTO figures_incidents ({INCIDENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(key, *self._incidents[key]) for key in self._changed],
                )
            for table, deltas in self._deltas.items():
                changes = [(*key, count, seconds) for key, (count, seconds) in deltas.items() if count or seconds]
                if not changes:
                    continue
                columns = COUNTERS[table]
                with_seconds = table == "figures_closes_by_month"
                values = ", ".join("?" for _ in range(len(columns) + 1 + with_seconds))
                c.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}, count{', seconds' if with_seconds else ''}) "
                    f"VALUES ({values}) ON CONFLICT ({', '.join(columns)}) DO UPDATE SET count = count + excluded.count"
                    + (", seconds = seconds + excluded.seconds" if with_seconds else ""),
                    [change if with_seconds else change[:-1] for change in changes],
                )
            self._insert_tracking(c, tracking)
        self._changed.clear()
        for deltas in self._deltas.values():
            deltas.clear()
        self._tracking = None
        if len(self._incidents) > KEPT_INCIDENTS:
            self._incidents.clear()

    # Events ---------------------------------------------------------------

    def incident_reported(
        self, incident_id: UUID, practice: str, kind: str, month: str, location: str, reported_at: datetime, tracking: Tracking
    ) -> None:
        key = str(incident_id)
        self._incidents[key] = [practice, kind, month, location, to_micros(reported_at), "open", None, None, None, None]
        self._changed.add(key)
        self._count("figures_open", (practice, kind), +1)
        self._count("figures_incidents_by_month", (practice, month, kind, location), +1)
        self._done(tracking)

    def response_recorded(self, incident_id: UUID, response: str, month: str, tracking: Tracking) -> None:
        row = self._incident(incident_id)
        if row is not None:
            practice, kind = row[0], row[1]
            self._count("figures_responses_by_month", (practice, month, kind, response), +1)
        self._done(tracking)

    def incident_moved(self, incident_id: UUID, month: str | None, location: str | None, tracking: Tracking) -> None:
        row = self._incident(incident_id)
        if row is not None:
            practice, kind = row[0], row[1]
            self._count("figures_incidents_by_month", (practice, row[2], kind, row[3]), -1)
            row[2] = month or row[2]
            row[3] = location or row[3]
            self._count("figures_incidents_by_month", (practice, row[2], kind, row[3]), +1)
            self._changed.add(str(incident_id))
        self._done(tracking)

    def incident_closed(self, incident_id: UUID, outcome: str, closed_at: datetime, month: str, tracking: Tracking) -> None:
        row = self._incident(incident_id)
        if row is not None:
            practice, kind = row[0], row[1]
            seconds = (to_micros(closed_at) - row[4]) // 1_000_000  # type: ignore[operator]
            row[5:] = ["closed", month, outcome, bucket_of(seconds), seconds]
            self._count("figures_open", (practice, kind), -1)
            self._count("figures_closes_by_month", (practice, month, kind, outcome, row[8]), +1, seconds)
            self._changed.add(str(incident_id))
        self._done(tracking)

    def incident_reopened(self, incident_id: UUID, tracking: Tracking) -> None:
        row = self._incident(incident_id)
        if row is not None and row[5] == "closed":
            practice, kind = row[0], row[1]
            self._count("figures_closes_by_month", (practice, row[6], kind, row[7], row[8]), -1, -row[9])
            self._count("figures_open", (practice, kind), +1)
            row[5:] = ["open", None, None, None, None]
            self._changed.add(str(incident_id))
        self._done(tracking)

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
