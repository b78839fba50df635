"""A subscription for the library's SQLite application recorder, which has none of its own.

It pages through the notification log as the library's ListenNotifySubscription does, and decides
when to look again: after a write made through any recorder of the same file in this process
(at once after a quiet spell, else at most once per MIN_READ_INTERVAL_SECONDS, so a stream of
writes is read in batches), and every poll interval for writes made by other processes. Someone
waiting to read what the views hold (a page) hurries it: the next read is then at once.

Unlike ListenNotifySubscription it has no threads of its own: the thread that iterates (the
projection runner's) reads the next page itself when it has used up the last one. That saves
two thread hand-offs (and a polling thread) per read. Just before it goes back to the database,
it calls ``before_reading`` if one is set: a view that buffers its writes flushes them there, so
the events of one read share one view transaction and none waits in a buffer for more.
Plugged in by the environment alone: APPLICATION_RECORDER_TOPIC names the recorder class.

The recorder also commits concurrent saves together (group commit). SQLite lets one writer in at
a time, and under load a writer spends most of its turn waiting for the GIL between its BEGIN,
INSERT and COMMIT calls while other threads run, so the turn, not the disk, limits how many saves
a second get through. Each save joins a queue; whichever saving thread finds no one writing takes
everything queued and writes it in one transaction, and the others are answered from that. An
event loop does not wait like a thread: `insert_events_from_loop` queues its save for a writer
thread and returns a future, and the loop takes other requests while the disk syncs. If the
shared transaction fails (a conflict: a repeated submission, a concurrent change to the same
aggregate), each save is retried in a transaction of its own, so only the conflicting one fails.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent, Subscription
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder

from .record_keys import INSERT_SQLITE, RecordKeys

POLL_INTERVAL_SECONDS = 0.25
# Under a stream of writes, each read takes a fifth of a second of events: the views' cost per
# event falls with the size of their batch (their transactions, the search index's segments),
# and a page that needs them sooner hurries the read.
MIN_READ_INTERVAL_SECONDS = 0.2
PAGE_SIZE = 500

logger = logging.getLogger(__name__)
_listeners: dict[str, weakref.WeakSet[Any]] = {}
_listeners_lock = threading.Lock()


def _wake(db_name: str, hurry: bool = False) -> None:
    """Call each listener's wake() (or hurry()). A listener that fails is logged and passed
    over: the writer thread calls this after each commit, and must go on answering saves."""
    with _listeners_lock:
        listeners = list(_listeners.get(db_name, ()))
    for listener in listeners:
        try:
            if hurry:
                listener.hurry()
            else:
                listener.wake()
        except Exception:  # noqa: BLE001
            logger.exception("Could not wake %r", listener)


def _listen(db_name: str, listener: Any) -> None:
    with _listeners_lock:
        _listeners.setdefault(db_name, weakref.WeakSet()).add(listener)


class _QueuedSave:
    __slots__ = ("stored_events", "ids", "error", "done", "future")

    def __init__(self, stored_events: Sequence[StoredEvent], future: asyncio.Future[Sequence[int]] | None = None) -> None:
        self.stored_events = stored_events
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.done = False
        self.future = future  # an event loop's save, answered through the loop


def _answer(saves: list[_QueuedSave]) -> None:
    for save in saves:
        assert save.future is not None
        if save.future.cancelled():
            continue
        if save.error is not None:
            save.future.set_exception(save.error)
        else:
            save.future.set_result(save.ids or [])


class SQLitePollingApplicationRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self._saves = threading.Condition()
        self._queued: list[_QueuedSave] = []
        self._writing = False
        self._writer: threading.Thread | None = None
        self._closing = False
        self.record_keys: RecordKeys | None = None  # set by the application whose mapper has them

    def listen(self, listener: Any) -> None:
        """Call `listener.wake()` after each write to this file through this process's recorders,
        and `listener.hurry()` when someone asks them to (held weakly, as the subscriptions are):
        how the app wakes its projections process."""
        _listen(self.datastore.pool.db_name, listener)

    def wake_readers(self) -> None:
        """Wake this process's subscriptions to this file: for a process told of writes made by
        another (projections/running/child_process.py)."""
        _wake(self.datastore.pool.db_name)

    def hurry_readers(self) -> None:
        """Wake them to read at once, not at the end of their interval: someone is waiting."""
        _wake(self.datastore.pool.db_name, hurry=True)

    def insert_events_from_loop(self, stored_events: Sequence[StoredEvent]) -> asyncio.Future[Sequence[int]]:
        """Save from an event loop without blocking it: the save is queued for the writer thread,
        which commits whatever is queued together, and the future is answered on the loop."""
        loop = asyncio.get_running_loop()
        save = _QueuedSave(stored_events, loop.create_future())
        with self._saves:
            if self._closing:
                raise RuntimeError("The event store is closing")
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_queued, name="incidents-writer", daemon=True)
                self._writer.start()
            self._queued.append(save)
            self._saves.notify_all()
        assert save.future is not None
        return save.future

    def _write_queued(self) -> None:
        """The writer thread: commits what the event loop queues (and what saving threads queue
        meanwhile), until the store closes."""
        while True:
            with self._saves:
                while not self._closing and (self._writing or not self._queued):
                    self._saves.wait()
                if self._closing and not self._queued:
                    return
                if self._writing:  # closing, but a saving thread is still writing: it may take the rest
                    self._saves.wait(0.05)
                    continue
                batch = self._take_batch()
            self._write_and_answer(batch)

    def stop_writer(self) -> None:
        """Let the writer thread finish what is queued, then stop it (before the store closes)."""
        with self._saves:
            self._closing = True
            self._saves.notify_all()
            writer = self._writer
        if writer is not None:
            writer.join(timeout=30)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if any(value is not None for value in kwargs.values()):  # tracking and the like: not ours to combine
            try:
                ids = super().insert_events(stored_events, **kwargs)
            except BaseException:
                self._settled(stored_events, committed=False)
                raise
            self._settled(stored_events, committed=True)
            self.wake_readers()
            return ids
        save = _QueuedSave(stored_events)
        batch: list[_QueuedSave] = []
        with self._saves:
            self._queued.append(save)
            while self._writing and not save.done:
                self._saves.wait()
            if not save.done:
                batch = self._take_batch()
        if batch:
            self._write_and_answer(batch)
        if save.error is not None:
            raise save.error
        return save.ids

    def _take_batch(self) -> list[_QueuedSave]:
        """Everything queued, for the caller to write (holding self._saves)."""
        self._writing = True
        batch, self._queued = self._queued, []
        return batch

    def _write_and_answer(self, batch: list[_QueuedSave]) -> None:
        """Write the batch; then let the saving threads see their answers, and the event loops
        whose saves were among them get theirs (one call per loop)."""
        try:
            self._write(batch)
        finally:
            with self._saves:
                self._writing = False
                for queued in batch:
                    queued.done = True
                self._saves.notify_all()
            by_loop: dict[asyncio.AbstractEventLoop, list[_QueuedSave]] = {}
            for queued in batch:
                if queued.future is not None:
                    by_loop.setdefault(queued.future.get_loop(), []).append(queued)
            for loop, saves in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_answer, saves)
                except RuntimeError:  # that loop has closed: no one is waiting for the answer
                    pass
        self.wake_readers()

    def _write(self, batch: list[_QueuedSave]) -> None:
        if len(batch) > 1:
            try:
                with self.datastore.transaction(commit=True) as c:
                    ids = [self._insert_events(c, queued.stored_events) for queued in batch]
            except Exception:  # noqa: BLE001 - each is tried alone below, and fails alone
                pass
            else:
                for queued, queued_ids in zip(batch, ids):
                    queued.ids = queued_ids
                    self._settled(queued.stored_events, committed=True)
                return
        for queued in batch:
            try:
                with self.datastore.transaction(commit=True) as c:
                    queued.ids = self._insert_events(c, queued.stored_events)
            except Exception as error:  # noqa: BLE001 - handed to the thread whose save it was
                queued.error = error
            self._settled(queued.stored_events, committed=queued.error is None)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """A new record's own key is written in the transaction of its first event (record_keys.py)."""
        if self.record_keys is not None:
            rows = self.record_keys.rows_to_write(stored_events)
            if rows:
                c.executemany(INSERT_SQLITE, [(str(originator_id), key_id, wrapped) for originator_id, key_id, wrapped in rows])
        return super()._insert_events(c, stored_events, **kwargs)

    def _settled(self, stored_events: Sequence[StoredEvent], committed: bool) -> None:
        if self.record_keys is not None:
            self.record_keys.settled(stored_events, committed)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[Any]:
        return SQLitePollingSubscription(self, gt=gt, topics=topics)


class SQLitePollingSubscription(Subscription[SQLitePollingApplicationRecorder]):
    def __init__(self, recorder: SQLitePollingApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._page: Sequence[Notification] = []
        self._index = 0
        self._has_been_notified = threading.Event()
        self._has_been_notified.set()  # first read what is already recorded
        self._hurried = threading.Event()  # also set by stop(), to end the wait for the interval
        self._last_read = 0.0
        self._more_pages = False
        self.before_reading: Callable[[], None] | None = None
        self._db_name = recorder.datastore.pool.db_name
        _listen(self._db_name, self)

    def wake(self) -> None:
        self._has_been_notified.set()

    def hurry(self) -> None:
        """Read now, even within the interval since the last read: someone is waiting."""
        self._hurried.set()
        self._has_been_notified.set()

    def __next__(self) -> Notification:
        if self._has_been_stopped:  # not even the rest of the page read last
            raise StopIteration
        while self._index >= len(self._page):
            if self.before_reading is not None:
                self.before_reading()
            if self._has_been_stopped:
                raise StopIteration
            if not self._more_pages and self._has_been_notified.wait(POLL_INTERVAL_SECONDS):  # woken, else poll
                # At most one read per interval: a lone write is read at once, a stream of them
                # in batches (one view transaction each) instead of one by one.
                too_soon = self._last_read + MIN_READ_INTERVAL_SECONDS - time.monotonic()
                if too_soon > 0:
                    self._hurried.wait(too_soon)
            if self._has_been_stopped:
                raise StopIteration
            # Cleared before the read, so a write committed after the read wakes the next wait.
            self._hurried.clear()
            self._has_been_notified.clear()
            self._last_read = time.monotonic()
            self._page = self._recorder.select_notifications(
                start=self._last_notification_id or 0,
                limit=PAGE_SIZE,
                topics=self._topics,
                inclusive_of_start=False,
            )
            self._index = 0
            if self._page:
                self._last_notification_id = self._page[-1].id
            self._more_pages = len(self._page) == PAGE_SIZE  # if so, read the next page at once
        notification = self._page[self._index]
        self._index += 1
        return notification

    def stop(self) -> None:
        # It stays among the listeners until it is collected (they are held weakly; waking a
        # stopped subscription does nothing). Taking _listeners_lock here could deadlock: the
        # library calls stop() from __del__, which the garbage collector may run in a thread that
        # holds the lock already (seen in CI: _listen making a WeakSet collected an old runner).
        super().stop()
        self._hurried.set()
        self._has_been_notified.set()
