"""Rebuilding a view from scratch, without anyone seeing it half built.

On SQLite each view is built in a file of its own beside the live one, in batched transactions
(one per page of the notification log), and moved into place only when complete. On PostgreSQL
each view is built in a schema of its own and moved into place in one transaction
(rebuild_postgres). Whoever runs the projections holds the projections lock (a file lock in the
data folder on SQLite, a lease on PostgreSQL), so a rebuild refuses to start while the
app or a worker is running, and they refuse to start during a rebuild.

A view's projection writes to the view's fold in memory (summary_fold.py and its siblings), and
each page ends with the fold's changed rows written in bulk. With more than one core, groups of
views are built side by side by forked processes (side_by_side.py), and swapped in together.
"""

from __future__ import annotations

import fcntl
import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment

from incidents.application.service import IncidentLog
from incidents.settings import ConfigurationError
from incidents.storage import Store

from .handlers import AllHandlers
from .layouts import store_layout
from .quarantine import BuildAgain, RebuildQuarantine
from .side_by_side import groups_of, side_by_side, workers_here
from .stored_pages import pages_up_to

if TYPE_CHECKING:
    from .catalogue import ProjectionSpec
    from .postgres_lock import PostgresProjectionsLock

# Events per page: each page ends with one transaction per view. On PostgreSQL each of those is
# a round of statements (delete, COPY, counters, tracking) between two processes, and a row an
# incident's events change on two pages is written twice: with pages of 10,000 instead of 2,000
# the bench store rebuilt at about 32,000 events/s instead of 24,000 (bench/README.md, session 8).
PAGE_SIZE = 2000
POSTGRES_PAGE_SIZE = 10_000
# A rebuild only reads the event log: it makes no table (two rebuild processes making the log's
# tables, type and insert function at once collided on PostgreSQL's catalogue: "tuple concurrently updated").
READ_ONLY_LOG = {"CREATE_TABLE": "n"}


class RebuildRefused(ConfigurationError):
    """Projections are being written by someone else, or cannot be rebuilt here."""


class LockHeld(RebuildRefused):
    """Another process holds the projections lock; `holder` names it."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass
class ProjectionsLock:
    """An exclusive lock on `<data folder>/projections.lock` while projections are written."""

    path: Path
    _file: object | None = None

    @classmethod
    def for_store(cls, store: Store) -> ProjectionsLock | None:
        return cls(Path(store.location).parent / "projections.lock") if store.kind == "sqlite" else None

    def acquire(self, doing: str) -> None:
        file = open(self.path, "a+")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            file.close()
            raise LockHeld(f"Cannot start {doing}: {holder} holds {self.path}. Stop it first.", holder=holder) from None
        file.seek(0)
        file.truncate()
        file.write(f"{doing} (process {os.getpid()})\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # type: ignore[attr-defined]
            self._file = None


def lock_for(store: Store) -> ProjectionsLock | PostgresProjectionsLock | None:
    """The lock that whoever writes the views holds (a lease on PostgreSQL): none for the in-memory store."""
    if store.kind == "postgres":
        from .postgres_lock import PostgresProjectionsLock

        return PostgresProjectionsLock.from_env(store.env)
    return ProjectionsLock.for_store(store)


def rebuild(store: Store, app_env: dict[str, str], names: Sequence[str], progress: Callable[[int, int], None]) -> int:
    """Rebuild the named views (all when none is named) from every stored event, in one read of
    the notification log; returns how many events were read."""
    lock = lock_for(store)
    if lock is None:
        raise RebuildRefused("The in-memory store keeps no views to rebuild")
    lock.acquire("a rebuild of the projections")
    try:
        return rebuild_holding_lock(store, app_env, names, progress, fence=getattr(lock, "fence", None))
    finally:
        lock.release()


def rebuild_holding_lock(
    store: Store, app_env: dict[str, str], names: Sequence[str], progress: Callable[[int, int], None],
    fence: Callable[[Any], None] | None = None,
) -> int:
    """As rebuild(), for a caller that holds the projections lock already (start_projections,
    rebuilding views of an older layout before it runs them)."""
    from .catalogue import CATALOGUE, spec_named

    specs = [spec_named(name) for name in names] if names else list(CATALOGUE)
    log = IncidentLog(env={**app_env, **READ_ONLY_LOG, "POSTGRES_POOL_SIZE": "1"})
    try:
        last = log.recorder.max_notification_id() or 0  # every view is built up to here
    finally:
        log.close()
    groups = groups_of(specs, lambda spec: spec.rebuild_cost, workers_here())
    with collector_paused():
        if store.kind == "postgres":
            from .rebuild_postgres import rebuild_postgres

            return rebuild_postgres(store, app_env, groups, last, progress, POSTGRES_PAGE_SIZE, fence)
        return _rebuild_sqlite(store, app_env, groups, last, progress)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for the length of a rebuild. The folds hold every
    view's rows, a few objects per event, all alive until the end: each full collection walked
    them all again (five of them took 0.28 s of a 4.1 s rebuild of 100,000 events). A rebuild
    makes rows and strings, freed by their counts, not cycles; the collector finds any later."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _rebuild_sqlite(
    store: Store, app_env: dict[str, str], groups: list[list[ProjectionSpec]], last: int, progress: Callable[[int, int], None]
) -> int:
    """Build each group of views in its side files (side by side), then swap every one in."""
    specs = [spec for group in groups for spec in group]
    lives = [spec.sqlite_file(store.location) for spec in specs]
    buildings = [_building(live) for live in lives]
    for building in buildings:
        for leftover in _with_journals(building):
            leftover.unlink(missing_ok=True)
    tasks = [partial(_build_sqlite, store, app_env, group, last) for group in groups]
    count = side_by_side(tasks, progress)[0]
    # Nobody has the live files open (we hold the lock): drop their journals, then swap each in.
    for building, live in zip(buildings, lives):
        for journal in _with_journals(live)[1:]:
            journal.unlink(missing_ok=True)
        os.replace(building, live)
    return count


def _build_sqlite(
    store: Store, app_env: dict[str, str], specs: list[ProjectionSpec], last: int, progress: Callable[[int, int], None]
) -> int:
    """Build the views in their side files from the events up to `last`; returns how many were
    read. An event a view cannot write is set aside, and the views built again without it."""
    trouble = RebuildQuarantine()
    while True:
        try:
            return _build_sqlite_once(store, app_env, specs, last, progress, trouble)
        except BuildAgain:
            for spec in specs:
                for leftover in _with_journals(_building(spec.sqlite_file(store.location))):
                    leftover.unlink(missing_ok=True)


def _build_sqlite_once(
    store: Store, app_env: dict[str, str], specs: list[ProjectionSpec], last: int, progress: Callable[[int, int], None],
    trouble: RebuildQuarantine,
) -> int:
    factories, views, projections = [], [], []
    log = IncidentLog(env={**app_env, **READ_ONLY_LOG})
    try:
        for spec in specs:
            env = {**app_env, spec.env_key("SQLITE_DBNAME"): str(_building(spec.sqlite_file(store.location)))}
            factory = InfrastructureFactory.construct(Environment(spec.name, env))
            factories.append(factory)
            # Every SQLite view has a bulk mode for side files, and says what its projection
            # writes to: its fold in memory (or, for a view with no fold, itself, batching).
            view = factory.tracking_recorder(spec.sqlite_view)
            views.append(view)
            projections.append(spec.projection(view.start_rebuilding()))
        handlers = AllHandlers(projections)
        event_from, name, count = log.mapper.event_from, log.name, 0
        for page in pages_up_to(log.recorder, last, PAGE_SIZE):
            first = page[0][0]
            if trouble.needs_care(first, page[-1][0]):
                events = [(event_from(t, o, v, s), Tracking(name, n)) for n, o, v, t, s in page]
                for spec, projection, view, each in zip(specs, projections, views, handlers.each):
                    trouble.fold_page(spec.name, projection, each.of, view, events)
            else:
                try:
                    for notification_id, originator_id, version, topic, state in page:
                        handle = None
                        event = event_from(topic, originator_id, version, state)
                        tracking = Tracking(name, notification_id)
                        for handle in handlers.of(type(event)):
                            handle(event, tracking)
                except Exception as error:
                    if handle is None:  # not a view's fold: the event could not be read
                        raise
                    failing = specs[handlers.of(type(event)).index(handle)]
                    trouble.failed(failing.name, event, tracking, error)
                for spec, view in zip(specs, views):
                    trouble.flush(spec.name, view, first)
            count += len(page)
            progress(page[-1][0], last)
        for spec, view in zip(specs, views):
            view.finish_rebuilding()
            store_layout(view, spec.name, spec.layout)
            trouble.record(spec.name, view)
    finally:
        for factory in factories:
            factory.close()
        log.close()
    return count


def _building(live: Path) -> Path:
    return live.with_name(live.name + ".rebuild")


def _with_journals(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
