"""Running the projections: in a child process (child.py), in the app's own process, or in a worker."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

from eventsourcing.persistence import InfrastructureFactory, ListenNotifySubscription, Tracking, TrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.utils import Environment

from incidents.application.service import IncidentLog
from incidents.mapping import UnreadableEvent
from incidents.settings import Settings
from incidents.sqlite_subscription import SQLitePollingApplicationRecorder, SQLitePollingSubscription
from incidents.storage import Store
from incidents.application.checkpoint_timer import CheckpointSchedule, CheckpointTimer
from incidents.projections.catalogue import CATALOGUE, opened_view
from incidents.projections.folding import reading_folded
from incidents.projections.summaries import IncidentSummaries, IncidentSummaryView

from .child import ProjectionsChild
from .layouts import is_stale
from .locks import (
    PROJECTIONS, Behind, LeaseLost, PostgresProjectionsLock, ProjectionsLock, RebuildRefused, WorkerSeen, WorkerWatch, lock_for,
)
from .quarantine import Quarantined, listed as listed_quarantined, record as record_quarantined, stops_the_view
from .rebuild import rebuild_holding_lock

logger = logging.getLogger("incidents.projections")


def view_env(store: Store, app_env: dict[str, str]) -> dict[str, str]:
    """The environment for the projections: the application's, plus where each view lives."""
    env = dict(app_env)
    if store.kind == "sqlite":
        for spec in CATALOGUE:
            env[spec.env_key("SQLITE_DBNAME")] = str(spec.sqlite_file(store.location))
    # On PostgreSQL each view's pool is sized like the event store's (INCIDENTS_DB_POOL_SIZE).
    return env


class _Part:
    """One projection of the catalogue, as the shared runner feeds it."""

    def __init__(self, projection: Projection[Any], after: int) -> None:
        self.projection = projection
        self.name = projection.name
        self.view: Any = projection.view
        self.after = after  # its view's position when the runner started: it has every event up to here
        self.error: Exception | None = None
        self.logged = False
        self.held: list[tuple[Any, Tracking]] = []  # the events of those held writes


class EveryProjection(Projection[Any]):
    """Every projection of the catalogue, fed by one subscription so that each event is decoded once;
    a view whose database fails stops alone, and an event it cannot write is set aside (quarantine.py)."""

    name = "every_projection"

    def __init__(self, parts: list[_Part]) -> None:
        super().__init__(view=None)
        self.parts = parts
        self._feeds = [(part, part.projection.process_event) for part in parts]
        self.read_all: Callable[[], bool] | None = None  # whether the subscription's batch is all read

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        position = tracking.notification_id
        for part, process_event in self._feeds:
            if part.error is None and position > part.after:
                if part.view.batching:
                    part.held.append((domain_event, tracking))
                try:
                    process_event(domain_event, tracking)
                except Exception as error:
                    self._failed(part, error, [(domain_event, tracking)])
        if self.read_all is not None and self.read_all():
            self.flush()

    def flush(self) -> None:
        """Commit what each (batching) view holds: called before the subscription reads again."""
        for part in self.parts:
            if part.error is None:
                try:
                    part.view.flush()
                except Exception as error:
                    self._failed(part, error, [])
                part.held = []

    def _failed(self, part: _Part, error: Exception, events: list[tuple[Any, Tracking]]) -> None:
        """Stop the view if its database failed; else set aside the event that fails on its own."""
        if stops_the_view(error):
            part.error = error
            return
        part.view.fold.forget()  # its write failed: the events are folded again
        if not part.view.batching:  # the write of this one event was rolled back: set it aside
            self._set_aside(part, events[0], error)
            return
        held, part.held = part.held, []
        for event, tracking in held:  # each alone, in a transaction of its own
            try:
                part.projection.process_event(event, tracking)
                part.view.flush()
            except Exception as failure:
                if stops_the_view(failure):
                    part.error = failure
                    return
                part.view.fold.forget()
                self._set_aside(part, (event, tracking), failure)
                if part.error is not None:
                    return

    @staticmethod
    def _set_aside(part: _Part, held: tuple[Any, Tracking], error: Exception) -> None:
        entry = Quarantined.of(part.name, *held, error)
        try:
            record_quarantined(part.view, part.name, [entry], held[1])
        except Exception as failure:  # the quarantine itself cannot be written: stop
            part.error = failure
            return
        logger.error(
            "The %s projection set aside event %s (%s): %s; see `incidents projections quarantine`",
            part.name, entry.notification_id, entry.topic, entry.error,
        )


@dataclass
class Projections:
    """The views by projection name, and the runner writing them when they run in this process."""

    views: dict[str, TrackingRecorder]
    runner: BaseProjectionRunner[IncidentLog] | None = None
    every: EveryProjection | None = None
    lock: ProjectionsLock | PostgresProjectionsLock | None = None
    checkpoint_timer: CheckpointTimer | None = None
    child: ProjectionsChild | None = None  # the process writing the views, when the app started one
    hurry: Callable[[], None] | None = None  # makes whoever writes the views read the store now
    worker: WorkerWatch | None = None  # whoever writes the views in another process, as its lease shows it

    @property
    def summaries(self) -> IncidentSummaryView:
        return self.views[IncidentSummaries.name]  # type: ignore[return-value]

    def view(self, name: str) -> Any:
        return self.views[name]

    def wait(self, notification_id: int, timeout: float) -> bool:
        """Block until every view has the event or the timeout passes, polling faster than the library's 100 ms."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        hurry = self.hurry
        for view in self.views.values():
            while (view.max_tracking_id(IncidentLog.name) or 0) < notification_id:
                if hurry is not None:
                    hurry()
                    hurry = None
                if time.monotonic() >= deadline or not self.someone_projects():
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        return True

    def someone_projects(self) -> bool:
        """False when another process should write the views and none holds the lease: nothing to wait for."""
        if self.worker is None:
            return True
        try:
            seen = self.worker.look()
        except Exception:  # the database is unreachable: the bounded wait decides
            return True
        return seen is not None and seen.projecting

    def worker_trouble(self, stale_seconds: float) -> dict[str, Any] | None:
        """What is wrong with the worker writing this app's views, if anything, for /healthz."""
        if self.worker is None:
            return None
        try:
            seen: WorkerSeen | None = self.worker.look()
        except Exception as error:
            return {"status": "no projections worker", "why": f"the lease cannot be read: {error}"}
        if seen is None:
            return {"status": "no projections worker", "why": "no worker has ever held the projections lock"}
        about = {"holder": seen.holder, "last_seen_seconds_ago": round(seen.seconds_ago, 1), "positions": seen.positions}
        if seen.doing != PROJECTIONS and not seen.expired:
            return {"status": "no projections worker", "why": f"{seen.doing} holds the projections lock", **about}
        if seen.seconds_ago > stale_seconds:
            return {"status": "no projections worker", "why": f"none seen for {seen.seconds_ago:.0f} s", **about}
        behind = seen.behind_seconds + seen.seconds_ago if seen.behind_seconds else 0.0
        if behind > stale_seconds:
            return {"status": "views behind", "behind_seconds": round(behind, 1), **about}
        return None

    def stopped(self) -> list[str]:
        """The projections of this process that have stopped on an error (each logged once)."""
        if self.child is not None:  # until it runs (it may wait for the lock), no view follows the store
            return [] if self.child.running else list(self.views)
        if self.runner is None or self.every is None:
            return []
        if self.runner.is_interrupted.is_set():
            try:
                self.runner.run_forever(timeout=0)  # raises the runner's own error, once
            except Exception:
                logger.exception("The projections have stopped")
            return [part.name for part in self.every.parts]
        names = []
        for part in self.every.parts:
            if part.error is not None:
                names.append(part.name)
                if not part.logged:
                    part.logged = True
                    logger.error("The %s projection has stopped", part.name, exc_info=part.error)
        return names

    def quarantined(self) -> dict[str, int]:
        """How many events each view has set aside (quarantine.py), for the views that have."""
        counts = {name: len(listed_quarantined(view, name)) for name, view in self.views.items()}
        return {name: n for name, n in counts.items() if n}

    def unreadable(self) -> set[str]:
        """The records whose events the views set aside because they could not be read at all."""
        return {
            entry.originator_id
            for name, view in self.views.items()
            for entry in listed_quarantined(view, name)
            if entry.error.startswith(f"{UnreadableEvent.__name__}:")
        }

    def waiting(self) -> str:
        """Why the process that should write the views does not yet (it waits for the lock)."""
        return self.child.waiting if self.child is not None else ""

    def run_forever(self) -> None:
        """Block until the runner stops, or raise the error of a projection that failed (or LostTheLock)."""
        assert self.runner is not None and self.every is not None
        while True:
            self.runner.run_forever(timeout=0.2)
            if isinstance(self.lock, PostgresProjectionsLock):
                try:
                    self.lock.check()
                except LeaseLost as lost:
                    self.runner.stop()  # before anything else is read: its writes would be refused
                    raise LostTheLock(f"Lost the projections lock: {lost}") from None
            if self.runner.is_interrupted.is_set():
                return
            for part in self.every.parts:
                if part.error is not None:
                    raise ProjectionFailed(f"The {part.name} projection has stopped: {part.error!r}") from part.error

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
        try:
            timer, self.checkpoint_timer = self.checkpoint_timer, None
            if timer is not None:
                timer.stop()  # while the lock is held: the last checkpoint is still ours alone
        finally:
            try:
                if self.runner is not None:
                    self.runner.__exit__(None, None, None)
            finally:
                if self.lock is not None:
                    self.lock.release()
                if self.worker is not None:
                    self.worker.close()


class ProjectionFailed(Exception):
    """A projection of the shared runner raised an error: its view has stopped following the store."""


class LostTheLock(ProjectionFailed):
    """Another process took the projections lease (this one froze, or lost the database)."""


def start_projections(
    store: Store, app_env: dict[str, str], checkpoints: CheckpointSchedule | None = None, rebuild_stale: bool = True
) -> Projections:
    """Run every projection in this process (views of an older layout rebuilt first), signing checkpoints."""
    lock = lock_for(store)  # a file lock on SQLite, a lease on PostgreSQL
    if lock is not None:
        lock.acquire(PROJECTIONS)
    projections = Projections({}, lock=lock)
    try:
        env = view_env(store, app_env)
        stale = stale_views(store, env)
        if stale and not rebuild_stale:
            raise ViewsOfAnOlderLayout(
                f"The views {', '.join(stale)} were built by an older layout of their projections: "
                "restart the app, which rebuilds them before it opens them"
            )
        if stale:
            _rebuild_stale(store, app_env, stale)
        projections.views = open_views(store, app_env).views
        parts = []
        for spec, view in zip(CATALOGUE, projections.views.values()):
            record_quarantined(view, spec.name, [])  # its table, made by the one writer: as a rebuild leaves it
            parts.append(_Part(spec.projection(view), view.max_tracking_id(IncidentLog.name) or 0))
        if isinstance(lock, PostgresProjectionsLock):
            for view in projections.views.values():
                lock.fence_writes_of(view)
        projections.every = every = EveryProjection(parts)
        projections.runner = runner = BaseProjectionRunner(
            projection=every,
            application_class=IncidentLog,
            # The subscription starts after the position of the view furthest behind.
            tracking_recorder=SimpleNamespace(max_tracking_id=lambda _: min(part.after for part in parts) or None),  # type: ignore[arg-type]
            topics=(),
            env=env,
        )
        runner.__enter__()
        # An event that cannot be read is set aside by each view, like one it cannot write.
        # An event no view folds is not even decrypted (folding.reading_folded).
        runner._subscription.mapper = SimpleNamespace(  # type: ignore[assignment]
            to_domain_event=reading_folded(runner.app.mapper.domain_event_or_unreadable, [part.projection for part in parts])
        )
        if isinstance(lock, PostgresProjectionsLock):
            lock.report = _progress_report(projections.views, runner.app.recorder)
        # Each view commits all the events of one read of the log in one transaction, flushed
        # before the subscription reads again (so none waits).
        subscription = getattr(runner._subscription, "subscription", None)  # the recorder's own
        if isinstance(subscription, SQLitePollingSubscription):
            subscription.before_reading = every.flush  # set first: a held write is always flushed
            projections.hurry = subscription.hurry
        elif isinstance(subscription, ListenNotifySubscription):
            every.read_all = lambda: subscription._notifications_index >= len(subscription._notifications)
            projections.hurry = subscription._has_been_notified.set
            _nudge_now_and_then(subscription)
        for part in parts if subscription is not None else ():
            part.view.start_batching()
        if checkpoints is not None:
            projections.checkpoint_timer = CheckpointTimer(checkpoints, app_env)
            projections.checkpoint_timer.start()
    except BaseException:
        projections.stop()
        raise
    return projections


NUDGE_SECONDS = 1.0


def _nudge_now_and_then(subscription: ListenNotifySubscription[Any]) -> None:
    """Read the store every NUDGE_SECONDS too: a NOTIFY sent before LISTEN starts (or in a reconnect) is lost."""

    def nudge() -> None:
        while not subscription._has_been_stopped:
            time.sleep(NUDGE_SECONDS)
            subscription._has_been_notified.set()

    threading.Thread(target=nudge, name="projections-nudge", daemon=True).start()


def _progress_report(views: dict[str, TrackingRecorder], recorder: Any) -> Callable[[], tuple[dict[str, int], float]]:
    """What the lease's renewal records: each view's position, and for how long the slowest has been behind."""
    behind = Behind()

    def report() -> tuple[dict[str, int], float]:
        latest = recorder.max_notification_id() or 0
        positions = {name: view.max_tracking_id(IncidentLog.name) or 0 for name, view in views.items()}
        return positions, behind.seconds(latest, min(positions.values(), default=latest))

    return report


class ViewsOfAnOlderLayout(RebuildRefused):
    """Views to rebuild before their projections run, which this process may not rebuild."""


def _rebuild_stale(store: Store, app_env: dict[str, str], stale: list[str]) -> None:
    logger.warning("Rebuilding %s: built by an older layout of the projection", ", ".join(stale))
    rebuild_holding_lock(store, app_env, stale, lambda position, last: None)
    logger.warning("Rebuilt %s", ", ".join(stale))


def rebuild_stale_views(store: Store, app_env: dict[str, str]) -> list[str]:
    """Rebuild the views of an older layout before an app opens them (on SQLite a later rebuild is a file it never sees)."""
    lock = lock_for(store)
    if lock is None:
        return []
    try:
        lock.acquire("a rebuild of the views of an older layout")
    except RebuildRefused:
        return []  # whoever holds it runs the projections, and checks the layouts itself
    try:
        stale = stale_views(store, view_env(store, app_env))
        if stale:
            _rebuild_stale(store, app_env, stale)
        return stale
    finally:
        lock.release()


def stale_views(store: Store, env: dict[str, str]) -> list[str]:
    """The views built by another layout of their projection than this code's (layouts.py)."""
    stale = []
    for spec in CATALOGUE:
        with spec.opened(store, env) as view:
            if is_stale(view, spec.name, spec.projection.layout, IncidentLog.name):
                stale.append(spec.name)
    return stale


def start_projections_child(store: Store, app_env: dict[str, str], settings: Settings, recorder: Any) -> Projections:
    """Read the views, and run the projections writing them in a child process (child.py)."""
    rebuild_stale_views(store, app_env)
    projections = open_views(store, app_env)
    child = ProjectionsChild(settings)
    if isinstance(recorder, SQLitePollingApplicationRecorder):
        recorder.listen(child)
    projections.child = child.start()
    projections.hurry = child.hurry
    return projections


def open_views(store: Store, app_env: dict[str, str], watch_worker: bool = False) -> Projections:
    """Read the views that another process writes (with watch_worker on PostgreSQL, watching its lease)."""
    env = view_env(store, app_env)
    views = {}
    for spec in CATALOGUE:
        factory = InfrastructureFactory.construct(Environment(spec.name, env))
        views[spec.name] = opened_view(factory, spec.view_class(store), env, agree=True)
    worker = WorkerWatch.from_env(store.env) if watch_worker and store.kind == "postgres" else None
    return Projections(views, worker=worker)
