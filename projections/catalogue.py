"""Every projection the product runs, with its view for each database.

The runner, the worker, `projections status` and `projections rebuild` all read this list, so a
new view is added here once. On SQLite each view lives in a file of its own beside the event
store (one tracking table per file); on PostgreSQL the views share the event store's database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


from eventsourcing.persistence import TrackingRecorder

from incidents.storage import Store

from .action_queue import ActionQueue
from .action_queue.postgres import PostgresActionQueueView
from .action_queue.sqlite import SQLiteActionQueueView
from .figures import Figures
from .figures.postgres import PostgresFiguresView
from .figures.sqlite import SQLiteFiguresView
from .folding import FoldingProjection
from .summaries import IncidentSummaries
from .summaries.postgres import PostgresIncidentSummaryView
from .summaries.sqlite import SQLiteIncidentSummaryView


class ViewsUnavailable(Exception):
    pass


@dataclass(frozen=True)
class ProjectionSpec:
    projection: type[FoldingProjection]
    sqlite_view: type[TrackingRecorder]
    postgres_view: type[TrackingRecorder]

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def layout(self) -> int:
        return self.projection.layout

    @property
    def rebuild_cost(self) -> int:
        return self.projection.rebuild_cost

    def view_class(self, store: Store) -> type[TrackingRecorder]:
        if store.kind == "memory":
            raise ViewsUnavailable("The in-memory store has no projections")
        return self.sqlite_view if store.kind == "sqlite" else self.postgres_view

    def sqlite_file(self, events_file: str) -> Path:
        return Path(events_file).parent / f"view-{self.name}.sqlite"

    def env_key(self, setting: str) -> str:
        """The environment key the library reads for this projection's view, e.g. its SQLite file."""
        return f"{self.name.upper()}_{setting}"


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
