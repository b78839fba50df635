"""Dashboard figures in PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from incidents.projections.postgres import PostgresFoldedView

from . import COUNTERS, INCIDENT_COLUMNS, FiguresView, adding_to, figures_tables
from .fold import FiguresFold

SECOND = timedelta(seconds=1)


def _unnested(names: list[str]) -> str:
    """The changes passed as one array per column."""
    types = ["integer" if name in ("bucket", "count") else "bigint" if name == "seconds" else "text" for name in names]
    return f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)})"


class PostgresFiguresView(PostgresFoldedView, FiguresView):
    tables = ("figures_incidents", *COUNTERS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = FiguresFold(self, lambda moment: moment, lambda reported, closed: (closed - reported) // SECOND)
        # Each counter's change, added to its row (made if it is missing): one statement per
        # table and flush, the changes passed as one array per column.
        self._add_to_counters = {table: self._sql(adding_to(table, _unnested)) for table in COUNTERS}
        self._create(*figures_tables("uuid", "timestamptz", ""))

    def _write_changes(self, curs: Any) -> None:
        """The incidents changed, deleted then copied in, and each counter's change added."""
        incidents, changes = self.fold.drain()
        curs.execute(self._sql("DELETE FROM {figures_incidents} WHERE incident_id = ANY(%s)"), ([i for i, _ in incidents],))
        with curs.copy(self._sql(f"COPY {{figures_incidents}} (incident_id, {', '.join(INCIDENT_COLUMNS)}) FROM STDIN")) as copy:
            for incident_id, row in incidents:
                copy.write_row((incident_id, *row))
        for table, rows in changes.items():
            if rows:
                curs.execute(self._add_to_counters[table], [list(column) for column in zip(*rows)])
