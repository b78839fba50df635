"""Dashboard figures in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from incidents.projections.sqlite import SQLiteFoldedView, to_micros

from . import Counters, FiguresView
from .fold import COUNTERS, INCIDENT_COLUMNS, FiguresFold

SELECT_INCIDENT = f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM figures_incidents WHERE incident_id = ?"
REPLACE_INCIDENT = (
    f"INSERT OR REPLACE INTO figures_incidents (incident_id, {', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in range(len(INCIDENT_COLUMNS) + 1))})"
)


def _seconds(reported_micros: int, closed_at: datetime) -> int:
    return (to_micros(closed_at) - reported_micros) // 1_000_000  # type: ignore[operator]


class SQLiteFiguresView(SQLiteFoldedView, FiguresView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = FiguresFold(self, to_micros, _seconds)

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

    def figures_incident(self, incident_id: UUID) -> list[Any] | None:
        found = self._load(SELECT_INCIDENT, (str(incident_id),))
        return list(found[0]) if found else None

    def _write_changes(self, c: Any) -> None:
        incidents, changes = self.fold.drain()
        c.executemany(REPLACE_INCIDENT, [(str(incident_id), *row) for incident_id, row in incidents])
        for table, rows in changes.items():
            with_seconds = table == "figures_closes_by_month"
            rows = [row for row in rows if row[-1] or (with_seconds and row[-2])]
            if rows:
                columns = COUNTERS[table]
                values = ", ".join("?" for _ in range(len(columns) + 1 + with_seconds))
                c.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}, count{', seconds' if with_seconds else ''}) "
                    f"VALUES ({values}) ON CONFLICT ({', '.join(columns)}) DO UPDATE SET count = count + excluded.count"
                    + (", seconds = seconds + excluded.seconds" if with_seconds else ""),
                    rows,
                )

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
