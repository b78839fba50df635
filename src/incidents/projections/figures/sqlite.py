"""Dashboard figures in SQLite (the embedded default). Times are UTC microseconds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incidents.projections.sqlite import SQLiteFoldedView, in_sqlite, to_micros

from . import INCIDENT_COLUMNS, FiguresView, adding_to, figures_tables
from .fold import FiguresFold

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
            # Counters are clustered by practice and month (WITHOUT ROWID): a page's rows sit
            # together however many other practices and months the file holds.
            *map(in_sqlite, figures_tables("text", "integer", " WITHOUT ROWID")),
        ]

    def _write_changes(self, c: Any) -> None:
        incidents, changes = self.fold.drain()
        c.executemany(REPLACE_INCIDENT, [(str(incident_id), *row) for incident_id, row in incidents])
        for table, rows in changes.items():
            rows = [row for row in rows if row[-1] or (table == "figures_closes_by_month" and row[-2])]
            if rows:
                c.executemany(in_sqlite(adding_to(table, lambda names: f"VALUES ({', '.join('?' for _ in names)})")), rows)
