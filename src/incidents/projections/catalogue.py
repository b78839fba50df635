"""Every projection the product runs, with its view for each database: a new view is added here once."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.utils import Environment

from incidents.application.patient_index import PatientIndex
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

    def view_class(self, store: Store) -> type[TrackingRecorder]:
        if store.kind == "memory":
            raise ViewsUnavailable("The in-memory store has no projections")
        return self.sqlite_view if store.kind == "sqlite" else self.postgres_view

    @contextmanager
    def opened(self, store: Store, env: dict[str, str]) -> Iterator[TrackingRecorder]:
        """The view, read through a factory of its own, closed after."""
        factory = InfrastructureFactory.construct(Environment(self.name, env))
        try:
            yield opened_view(factory, self.view_class(store), env)
        finally:
            factory.close()

    def sqlite_file(self, events_file: str) -> Path:
        return Path(events_file).parent / f"view-{self.name}.sqlite"

    def env_key(self, setting: str) -> str:
        """The environment key the library reads for this projection's view, e.g. its SQLite file."""
        return f"{self.name.upper()}_{setting}"


def opened_view(
    factory: InfrastructureFactory, view_class: type[TrackingRecorder], env: dict[str, str], agree: bool = False
) -> TrackingRecorder:
    """The view the factory makes, given the patient index key if it finds patients (with `agree`, only the
    key it was written with: IncidentSummaryView.agree_on_patient_key)."""
    view = factory.tracking_recorder(view_class)
    if hasattr(view, "patient_index"):
        view.patient_index = PatientIndex.from_env(env)
        if agree:
            view.agree_on_patient_key()
    return view


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
