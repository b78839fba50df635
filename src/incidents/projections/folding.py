"""How every view is written, live and in rebuilds alike: its projection folds events into rows in
memory, and a flush writes the changed rows with the tracking position in one transaction."""

from __future__ import annotations

import logging

import inspect
from typing import Any, Callable

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import resolve_topic

from incidents.mapping import Unreadable

KEPT_ROWS = 50_000  # rows a live fold keeps between flushes before it forgets them


class Fold:
    """A view's rows in memory. `loader` is the view: the fold asks it for what it lacks."""

    def __init__(self, loader: Any, stored: Callable[[Any], Any]) -> None:
        self.loader = loader
        self.stored = stored  # a moment as the view's database stores it
        self.complete = False  # it holds every row there is (a rebuild): never load
        self.tracking: Tracking | None = None
        self.forget()

    def forget(self) -> None:
        """Drop every row held and every change not yet written."""
        raise NotImplementedError

    def held(self) -> int:
        raise NotImplementedError

    def _cached(self, cache: dict[Any, Any], key: Any, load: Callable[[Any], Any]) -> Any:
        """The row of `key`, read once from the view when it is not held (None: there is none)."""
        if key in cache:
            return cache[key]
        row = cache[key] = None if self.complete else load(key)
        return row


class FoldedView:
    """Mixed into a view's database class (which says how to write the fold's changes): this says when."""

    fold: Fold
    batching = False  # flush() is called by the runner, after a batch of events
    rebuilding = False
    # A moment and an id as the database keeps them, and back (SQLite differs: sqlite.py).
    stored: Callable[[Any], Any] = staticmethod(lambda value: value)
    moment_of: Callable[[Any], Any] = stored
    id_of: Callable[[Any], Any] = stored
    unsynced = ""  # a rebuild's statement committing without waiting for the disk (PostgreSQL's)
    # The view's tables (in braces) and the column naming a record in each: a disposed record's rows are deleted.
    record_rows: tuple[tuple[str, str], ...] = ()

    def _select_all(self, queries: list[tuple[str, Any]]) -> list[list[Any]]:
        """The rows of each statement (tables in braces, `%s` marks, `= ANY(%s)` for a list), in one transaction."""
        raise NotImplementedError

    def _select(self, text: str, params: Any) -> list[Any]:
        return self._select_all([(text, params)])[0]

    _load = _select  # rows the fold lacks (SQLite reads them on a connection of their own)

    def start_batching(self) -> None:
        self.batching = True

    def start_rebuilding(self) -> FoldedView:
        """For a view built from scratch, nobody reading it until it is complete (rebuild.py)."""
        self.batching = self.rebuilding = self.fold.complete = True
        return self

    def finish_rebuilding(self) -> None:
        self.flush()

    def insert_tracking(self, tracking: Tracking) -> None:
        """The event at `tracking` is folded: written now, or with its batch."""
        self.fold.tracking = tracking
        if not self.batching:
            self.flush()

    def drop_record(self, record_id: Any) -> None:
        """A record disposed of: its rows go with the next flush, after what was folded before."""
        self.__dict__.setdefault("_dropped", []).append(record_id)

    def flush(self) -> None:
        fold = self.fold
        if fold.tracking is None:
            return
        dropped: list[Any] = self.__dict__.pop("_dropped", [])
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            if self.rebuilding and self.unsynced:
                cursor.execute(self.unsynced)
            self._write_changes(cursor)
            for record_id in dropped:
                self._drop_rows(cursor, record_id)
            self._insert_tracking(cursor, fold.tracking)  # type: ignore[attr-defined]
        fold.tracking = None
        if dropped and not self.rebuilding:
            fold.forget()  # the rows it kept of the record, with the rest: read again as needed
            try:
                self._erase_freed()
            except Exception:  # the rows are gone; the next disposal tries the clean-up again
                logging.getLogger("incidents").exception("After a disposal, %s could not be cleaned of the freed rows", type(self).__name__)
        elif not self.rebuilding and fold.held() > KEPT_ROWS:
            fold.forget()

    def _drop_rows(self, cursor: Any, record_id: Any) -> None:
        for table, column in self.record_rows:
            cursor.execute(*self._statement(f"DELETE FROM {table} WHERE {column} = %s", (record_id,)))

    def _statement(self, text: str, params: Any) -> tuple[str, Any]:
        raise NotImplementedError

    def _erase_freed(self) -> None:
        """After a disposal's deletes: nothing of the deleted rows left in the view's files."""

    def _write_changes(self, cursor: Any) -> None:
        raise NotImplementedError


class FoldingProjection(Projection[Any]):
    """Events to fold calls, by the subclass's `fold_event`; every event advances the tracking position."""

    layout = 1  # raise it when what the projection writes changes: every view is then rebuilt (layouts.py)
    rebuild_cost = 1  # what rebuilding the view costs beside the others (side_by_side.py)

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.fold: Any = view.fold
        self.handlers: dict[type, Callable[[Any], None]] = {}

    def handler_of(self, event_class: type) -> Callable[[Any], None]:
        """The handler of a class of event, found once per class (a singledispatchmethod dispatches anew each call)."""
        handler = self.handlers.get(event_class)
        if handler is None and event_class is Unreadable:
            handler = self.handlers[event_class] = Unreadable.refuse
        if handler is None:
            dispatch = inspect.getattr_static(type(self), "fold_event").dispatcher.dispatch
            handler = self.handlers[event_class] = dispatch(event_class).__get__(self)
        return handler

    def folds(self, event_class: type) -> bool:
        """Whether an event of this class may change the view (its position aside)."""
        dispatch = inspect.getattr_static(type(self), "fold_event").dispatcher.dispatch
        return dispatch(event_class) is not dispatch(object)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.handler_of(type(domain_event))(domain_event)
        self.view.insert_tracking(tracking)


class Unfolded:
    """A stored event of a class no view folds (a number's entry in a practice's log), given to
    the views unread, so that each records its position without decrypting it."""

    def __init__(self, stored: Any) -> None:
        self.topic = stored.topic
        self.originator_id = stored.originator_id
        self.originator_version = stored.originator_version


def reading_folded(to_domain_event: Callable[[Any], Any], projections: list[FoldingProjection]) -> Callable[[Any], Any]:
    """`to_domain_event` for the events of a class some projection folds, an Unfolded for the rest.
    A topic that names no class is read, to be set aside as unreadable."""
    folded: dict[str, bool] = {}

    def read(stored: Any) -> Any:
        topic = stored.topic
        is_folded = folded.get(topic)
        if is_folded is None:
            try:
                event_class = resolve_topic(topic)
            except Exception:  # noqa: BLE001 - the mapper says why
                return to_domain_event(stored)
            is_folded = folded[topic] = any(projection.folds(event_class) for projection in projections)
        return to_domain_event(stored) if is_folded else Unfolded(stored)

    return read
