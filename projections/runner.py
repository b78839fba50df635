"""Running the projections: in the app's process on the embedded default, or in a worker.

The library's ProjectionRunner subscribes to the event store (LISTEN/NOTIFY on PostgreSQL, the
polling subscription on SQLite) and writes each view with its tracking position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eventsourcing.projection import ProjectionRunner

from incidents.application.service import IncidentLog
from incidents.storage import Store

from .summaries import IncidentSummaries, IncidentSummaryView
from .summaries_postgres import PostgresIncidentSummaryView
from .summaries_sqlite import SQLiteIncidentSummaryView


class ViewsUnavailable(Exception):
    pass


def view_env(store: Store, app_env: dict[str, str]) -> dict[str, str]:
    """The environment for the projections: the application's, plus where each view lives."""
    env = dict(app_env)
    if store.kind == "sqlite":
        folder = Path(store.location).parent
        env[f"{IncidentSummaries.name.upper()}_SQLITE_DBNAME"] = str(folder / f"view-{IncidentSummaries.name}.sqlite")
    return env


@dataclass
class Projections:
    runner: ProjectionRunner[IncidentLog, IncidentSummaryView]

    @property
    def summaries(self) -> IncidentSummaryView:
        return self.runner.view

    def wait(self, notification_id: int, timeout: float) -> None:
        """Block until the views have processed the given event (bounded by the timeout)."""
        try:
            self.runner.wait(notification_id, timeout=timeout)
        except TimeoutError:
            pass

    def stop(self) -> None:
        self.runner.__exit__(None, None, None)


def start_projections(store: Store, app_env: dict[str, str]) -> Projections:
    if store.kind == "memory":
        raise ViewsUnavailable("The in-memory store has no projections")
    view_class = SQLiteIncidentSummaryView if store.kind == "sqlite" else PostgresIncidentSummaryView
    runner = ProjectionRunner(
        application_class=IncidentLog,
        projection_class=IncidentSummaries,
        view_class=view_class,
        env=view_env(store, app_env),
    )
    runner.__enter__()
    return Projections(runner)
