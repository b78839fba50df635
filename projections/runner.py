"""Running the projections: in the app's process on the embedded default, or in a worker.

The library's ProjectionRunner subscribes to the event store (LISTEN/NOTIFY on PostgreSQL, the
polling subscription on SQLite) and writes each view with its tracking position. An app whose
projections run in a separate worker opens the same views read-only and waits on their tracking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from incidents.application.service import IncidentLog
from incidents.sqlite_subscription import SQLitePollingSubscription
from incidents.storage import Store

from .rebuild import ProjectionsLock
from .summaries import IncidentSummaries, IncidentSummaryView
from .summaries_postgres import PostgresIncidentSummaryView
from .summaries_sqlite import SQLiteIncidentSummaryView, sqlite_view_path


class ViewsUnavailable(Exception):
    pass


def view_env(store: Store, app_env: dict[str, str]) -> dict[str, str]:
    """The environment for the projections: the application's, plus where each view lives."""
    env = dict(app_env)
    if store.kind == "sqlite":
        env[f"{IncidentSummaries.name.upper()}_SQLITE_DBNAME"] = str(sqlite_view_path(store.location))
    return env


def summary_view_class(store: Store) -> type[IncidentSummaryView]:
    if store.kind == "memory":
        raise ViewsUnavailable("The in-memory store has no projections")
    return SQLiteIncidentSummaryView if store.kind == "sqlite" else PostgresIncidentSummaryView


@dataclass
class Projections:
    summaries: IncidentSummaryView
    runner: ProjectionRunner[IncidentLog, IncidentSummaryView] | None = None
    lock: ProjectionsLock | None = None

    def wait(self, notification_id: int, timeout: float) -> bool:
        """Block until the views have processed the given event, or the timeout passes.

        Polls from 2 ms up to 50 ms: the library's own wait sleeps 100 ms before its second
        look, far longer than a projection usually needs.
        """
        deadline = time.monotonic() + timeout
        delay = 0.002
        while (self.summaries.max_tracking_id(IncidentLog.name) or 0) < notification_id:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True

    def all(self) -> dict[str, IncidentSummaryView]:
        """Every view by its projection's name."""
        return {IncidentSummaries.name: self.summaries}

    def run_forever(self) -> None:
        assert self.runner is not None
        self.runner.run_forever()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.__exit__(None, None, None)
        if self.lock is not None:
            self.lock.release()


def start_projections(store: Store, app_env: dict[str, str]) -> Projections:
    """Run the projections in this process (the embedded default, or the worker)."""
    lock = ProjectionsLock.for_store(store)
    if lock is not None:
        lock.acquire("the projections")
    try:
        runner = ProjectionRunner(
            application_class=IncidentLog,
            projection_class=IncidentSummaries,
            view_class=summary_view_class(store),
            env=view_env(store, app_env),
        )
        runner.__enter__()
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    batch_view_writes(runner)
    return Projections(runner.view, runner, lock)


def batch_view_writes(runner: ProjectionRunner[IncidentLog, IncidentSummaryView]) -> None:
    """On SQLite, let the view commit all the events of one read of the notification log in one
    transaction, flushed just before the subscription reads again (so none waits for more)."""
    subscription = getattr(runner._subscription, "subscription", None)  # the recorder's own
    view = runner.view
    if isinstance(subscription, SQLitePollingSubscription) and isinstance(view, SQLiteIncidentSummaryView):
        subscription.before_reading = view.flush  # set first: a buffered write is always flushed
        view.start_batching()


def open_views(store: Store, app_env: dict[str, str]) -> Projections:
    """Read the views that a separate `incidents project` worker keeps up to date."""
    env = Environment(IncidentSummaries.name, view_env(store, app_env))
    view = InfrastructureFactory.construct(env).tracking_recorder(summary_view_class(store))
    return Projections(view)
