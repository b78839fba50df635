"""Every projection the product runs, with its view for each database.

The runner, the worker, `projections status` and `projections rebuild` all read this list, so a
new view is added here once. On SQLite each view lives in a file of its own beside the event
store (one tracking table per file); on PostgreSQL the views share the event store's database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.projection import Projection

from incidents.storage import Store

from .action_queue import ActionQueue
from .action_queue_postgres import PostgresActionQueueView
from .action_queue_sqlite import SQLiteActionQueueView
from .figures import Figures
from .figures_postgres import PostgresFiguresView
from .figures_sqlite import SQLiteFiguresView
from .summaries import IncidentSummaries
from .summaries_postgres import PostgresIncidentSummaryView
from .summaries_sqlite import SQLiteIncidentSummaryView


class ViewsUnavailable(Exception):
    pass


@dataclass(frozen=True)
class ProjectionSpec:
    projection: type[Projection[Any]]
    sqlite_view: type[TrackingRecorder]
    postgres_view: type[TrackingRecorder]

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def layout(self) -> int:
        """The layout of what the projection writes (see layouts.py)."""
        return self.projection.layout  # type: ignore[attr-defined, no-any-return]

    @property
    def rebuild_cost(self) -> int:
        """What rebuilding the view costs beside the others (to share a rebuild between processes)."""
        return getattr(self.projection, "rebuild_cost", 1)  # type: ignore[no-any-return]

    def view_class(self, store: Store) -> type[TrackingRecorder]:
        if store.kind == "memory":
            raise ViewsUnavailable("The in-memory store has no projections")
        return self.sqlite_view if store.kind == "sqlite" else self.postgres_view

    def sqlite_file(self, events_file: str) -> Path:
        return view_file(events_file, self.name)

    def env_key(self, setting: str) -> str:
        """The environment key the library reads for this projection's view, e.g. its SQLite file."""
        return f"{self.name.upper()}_{setting}"


def view_file(events_file: str, name: str) -> Path:
    return Path(events_file).parent / f"view-{name}.sqlite"


CATALOGUE: tuple[ProjectionSpec, ...] = (
    ProjectionSpec(IncidentSummaries, SQLiteIncidentSummaryView, PostgresIncidentSummaryView),
    ProjectionSpec(Figures, SQLiteFiguresView, PostgresFiguresView),
    ProjectionSpec(ActionQueue, SQLiteActionQueueView, PostgresActionQueueView),
)


def spec_named(name: str) -> ProjectionSpec:
    for spec in CATALOGUE:
        if spec.name == name:
            return spec
    raise KeyError(f"No projection is called {name!r}; there are: {', '.join(s.name for s in CATALOGUE)}")
