"""Running the projections: in the app's process on the embedded default, or in a worker.

Each projection of the catalogue has its own library `ProjectionRunner`, which subscribes to the
event store (LISTEN/NOTIFY on PostgreSQL, the polling subscription on SQLite) and writes its view
with its tracking position. An app whose projections run in a separate worker opens the same
views read-only and waits on their tracking.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from incidents.application.service import IncidentLog
from incidents.sqlite_subscription import SQLitePollingSubscription
from incidents.storage import Store

from .catalogue import CATALOGUE, ProjectionSpec, ViewsUnavailable
from .checkpoint_timer import CheckpointSchedule, CheckpointTimer
from .postgres_lock import PostgresProjectionsLock
from .rebuild import ProjectionsLock, lock_for
from .summaries import IncidentSummaries, IncidentSummaryView

__all__ = ["Projections", "ViewsUnavailable", "open_views", "start_projections", "view_env"]


VIEW_POOL_SIZE, VIEW_POOL_OVERFLOW = "2", "4"
logger = logging.getLogger("incidents.projections")


def view_env(store: Store, app_env: dict[str, str]) -> dict[str, str]:
    """The environment for the projections: the application's, plus where each view lives."""
    env = dict(app_env)
    if store.kind == "sqlite":
        for spec in CATALOGUE:
            env[spec.env_key("SQLITE_DBNAME")] = str(spec.sqlite_file(store.location))
    elif store.kind == "postgres":
        # Each runner reads the log with one connection (and listens on another) and writes its
        # view with one: small pools, so the app, a worker and their views stay far below the
        # server's connection limit (the library opens a pool's connections up front).
        env.update(POSTGRES_POOL_SIZE=VIEW_POOL_SIZE, POSTGRES_MAX_OVERFLOW=VIEW_POOL_OVERFLOW)
    return env


@dataclass
class Projections:
    """The views by projection name, and the runners writing them when they run in this process."""

    views: dict[str, TrackingRecorder]
    runners: list[ProjectionRunner[IncidentLog, Any]] = field(default_factory=list)
    lock: ProjectionsLock | PostgresProjectionsLock | None = None
    checkpoint_timer: CheckpointTimer | None = None

    @property
    def summaries(self) -> IncidentSummaryView:
        return self.views[IncidentSummaries.name]  # type: ignore[return-value]

    def view(self, name: str) -> Any:
        return self.views[name]

    def wait(self, notification_id: int, timeout: float) -> bool:
        """Block until every view has processed the given event, or the timeout passes.

        Polls from 2 ms up to 50 ms: the library's own wait sleeps 100 ms before its second
        look, far longer than a projection usually needs.
        """
        deadline = time.monotonic() + timeout
        delay = 0.002
        for view in self.views.values():
            while (view.max_tracking_id(IncidentLog.name) or 0) < notification_id:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        return True

    def all(self) -> dict[str, TrackingRecorder]:
        """Every view by its projection's name."""
        return dict(self.views)

    def stopped(self) -> list[str]:
        """The projections of this process whose runner has stopped by itself, on an error: their
        views no longer follow the store until the projections are started again. Each error is
        logged the first time it is seen here."""
        names = []
        for runner in self.runners:
            if runner.is_interrupted.is_set():
                names.append(runner.projection.name)
                try:
                    runner.run_forever(timeout=0)  # raises the runner's error, once
                except Exception:
                    logger.exception("The %s projection has stopped", runner.projection.name)
        return names

    def run_forever(self) -> None:
        """Block until a runner stops; a runner's error is raised here."""
        assert self.runners
        while True:
            for runner in self.runners:
                runner.run_forever(timeout=0.2)
                if runner.is_interrupted.is_set():
                    return

    def stop(self) -> None:
        try:
            timer, self.checkpoint_timer = self.checkpoint_timer, None
            if timer is not None:
                timer.stop()  # while the lock is held: the last checkpoint is still ours alone
        finally:
            try:
                for runner in self.runners:
                    runner.__exit__(None, None, None)
            finally:
                if self.lock is not None:
                    self.lock.release()


def start_projections(store: Store, app_env: dict[str, str], checkpoints: CheckpointSchedule | None = None) -> Projections:
    """Run every projection in this process (the embedded default, or the worker), and sign
    store checkpoints on the given schedule."""
    lock = lock_for(store)  # a file lock on SQLite, an advisory lock on PostgreSQL
    if lock is not None:
        lock.acquire("the projections")
    projections = Projections({}, [], lock)
    try:
        env = view_env(store, app_env)
        for spec in CATALOGUE:
            runner = _start_runner(spec, store, env)
            projections.runners.append(runner)
            projections.views[spec.name] = runner.view
        if checkpoints is not None:
            projections.checkpoint_timer = CheckpointTimer(checkpoints, app_env)
            projections.checkpoint_timer.start()
    except BaseException:
        projections.stop()
        raise
    return projections


def _start_runner(spec: ProjectionSpec, store: Store, env: dict[str, str]) -> ProjectionRunner[IncidentLog, Any]:
    runner: ProjectionRunner[IncidentLog, Any] = ProjectionRunner(
        application_class=IncidentLog,
        projection_class=spec.projection,
        view_class=spec.view_class(store),
        env=env,
    )
    runner.__enter__()
    batch_view_writes(runner)
    return runner


def batch_view_writes(runner: ProjectionRunner[IncidentLog, Any]) -> None:
    """On SQLite, let a view that can batch commit all the events of one read of the notification
    log in one transaction, flushed just before the subscription reads again (so none waits)."""
    subscription = getattr(runner._subscription, "subscription", None)  # the recorder's own
    view = runner.view
    if isinstance(subscription, SQLitePollingSubscription) and hasattr(view, "start_batching"):
        subscription.before_reading = view.flush  # set first: a buffered write is always flushed
        view.start_batching()


def open_views(store: Store, app_env: dict[str, str]) -> Projections:
    """Read the views that a separate `incidents project` worker keeps up to date."""
    env = view_env(store, app_env)
    views = {}
    for spec in CATALOGUE:
        factory = InfrastructureFactory.construct(Environment(spec.name, env))
        views[spec.name] = factory.tracking_recorder(spec.view_class(store))
    return Projections(views)
