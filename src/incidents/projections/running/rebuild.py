"""Rebuilding views from scratch aside (side files on SQLite, scratch schemas on PostgreSQL),
then swapped in whole, under the projections lock; one read of the log feeds every view."""

from __future__ import annotations

import gc
import os
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from incidents.application.service import IncidentLog
from incidents.projections.catalogue import CATALOGUE, ProjectionSpec, opened_view, spec_named
from incidents.storage import Store

from . import rebuild_postgres as postgres
from .layouts import stored_layout
from .locks import holding_lock
from .quarantine import BuildAgain, RebuildQuarantine
from .side_by_side import groups_of, side_by_side, workers_here
from .stored_pages import pages_up_to

# Events per page: each page ends with one transaction per view. On PostgreSQL each is a round
# of statements between two processes, and a row changed on two pages is written twice.
PAGE_SIZE = 2000
POSTGRES_PAGE_SIZE = 10_000
# A rebuild only reads the event log: it makes no table (two rebuild processes making the log's
# tables at once collided on PostgreSQL's catalogue: "tuple concurrently updated").
READ_ONLY_LOG = {"CREATE_TABLE": "n"}
ONE_CONNECTION = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}  # not the app's 8 each
Progress = Callable[[int, int], None]


def rebuild(store: Store, app_env: dict[str, str], names: Sequence[str], progress: Progress) -> int:
    """Rebuild the named views (all when none is named) from every stored event; returns how many were read."""
    with holding_lock(store, "a rebuild of the projections") as lock:
        return rebuild_holding_lock(store, app_env, names, progress, fence=getattr(lock, "fence", None))


def rebuild_holding_lock(
    store: Store, app_env: dict[str, str], names: Sequence[str], progress: Progress,
    fence: Callable[[Any], None] | None = None,
) -> int:
    """As rebuild(), for a caller that holds the projections lock already."""
    specs = [spec_named(name) for name in names] if names else list(CATALOGUE)
    log = IncidentLog(env={**app_env, **READ_ONLY_LOG, "POSTGRES_POOL_SIZE": "1"})
    try:
        last = log.recorder.max_notification_id() or 0  # every view is built up to here
    finally:
        log.close()
    groups = groups_of(specs, lambda spec: spec.projection.rebuild_cost, workers_here())
    # The cycle collector paused: the folds keep every row alive, and each full collection
    # walked them all again (rows and strings make no cycles).
    collecting = gc.isenabled()
    gc.disable()
    try:
        asides = [Aside(store, app_env, group) for group in groups]
        for aside in asides:
            aside.clear()
        count = side_by_side([partial(_build, aside, last) for aside in asides], progress)[0]
        if store.kind == "postgres":
            postgres.swap_in(app_env, specs, fence)
            return count
    except BaseException:
        if store.kind == "postgres":
            postgres.make_scratch(app_env, specs, empty=False)
        raise
    finally:
        if collecting:
            gc.enable()
    # Nobody has the live files open (we hold the lock): drop their journals, then swap each in.
    for spec in specs:
        live = spec.sqlite_file(store.location)
        for journal in _with_journals(live)[1:]:
            journal.unlink(missing_ok=True)
        os.replace(_building(live), live)
    return count


class Aside:
    """Where a group of views is built: side files on SQLite, scratch schemas on PostgreSQL."""

    def __init__(self, store: Store, app_env: dict[str, str], specs: list[ProjectionSpec]) -> None:
        self.store, self.app_env, self.specs = store, app_env, specs

    def env(self, spec: ProjectionSpec) -> dict[str, str]:
        if self.store.kind == "postgres":
            return {**self.app_env, **ONE_CONNECTION, **postgres.scratch_env(spec)}
        return {**self.app_env, spec.env_key("SQLITE_DBNAME"): str(_building(spec.sqlite_file(self.store.location)))}

    def clear(self) -> None:
        """Throw away what an earlier attempt built."""
        if self.store.kind == "postgres":
            postgres.make_scratch(self.app_env, self.specs)
            return
        for spec in self.specs:
            for leftover in _with_journals(_building(spec.sqlite_file(self.store.location))):
                leftover.unlink(missing_ok=True)


def _build(aside: Aside, last: int, progress: Progress) -> int:
    """Build the group's views aside from the events up to `last`, again without any event a view cannot write."""
    trouble = RebuildQuarantine()
    while True:
        try:
            return _build_once(aside, last, progress, trouble)
        except BuildAgain:
            aside.clear()


def _build_once(aside: Aside, last: int, progress: Progress, trouble: RebuildQuarantine) -> int:
    factories, views = [], []
    log = IncidentLog(env={**aside.app_env, **ONE_CONNECTION, **READ_ONLY_LOG})
    try:
        for spec in aside.specs:
            env = aside.env(spec)
            factories.append(factory := InfrastructureFactory.construct(Environment(spec.name, env)))
            views.append(opened_view(factory, spec.view_class(aside.store), env, agree=True).start_rebuilding())
        projections = [spec.projection(view) for spec, view in zip(aside.specs, views)]
        event_from, name, count = log.mapper.event_or_unreadable, log.name, 0  # an unreadable event is set aside
        page_size = POSTGRES_PAGE_SIZE if aside.store.kind == "postgres" else PAGE_SIZE
        for page in pages_up_to(log.recorder, last, page_size):
            events = [(n, event_from(topic, originator_id, version, state)) for n, originator_id, version, topic, state in page]
            for spec, projection, view in zip(aside.specs, projections, views):  # one view at a time
                trouble.fold_page(spec.name, projection, view, events, name)
            count += len(page)
            progress(page[-1][0], last)
        for spec, view in zip(aside.specs, views):
            view.finish_rebuilding()
            stored_layout(view, spec.name, spec.projection.layout)
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
