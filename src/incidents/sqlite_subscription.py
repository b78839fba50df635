"""A subscription for the library's SQLite application recorder, which has none of its own.

It reuses the library's ListenNotifySubscription (paging, queueing, stopping) and only decides
when to look again: at once after a write made through any recorder of the same file in this
process, and every poll interval for writes made by other processes.
Plugged in by the environment alone: APPLICATION_RECORDER_TOPIC names the recorder class.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ListenNotifySubscription, StoredEvent, Subscription
from eventsourcing.sqlite import SQLiteApplicationRecorder

POLL_INTERVAL_SECONDS = 0.25

_listeners: dict[str, weakref.WeakSet[SQLitePollingSubscription]] = {}
_listeners_lock = threading.Lock()


def _wake(db_name: str) -> None:
    with _listeners_lock:
        subscriptions = list(_listeners.get(db_name, ()))
    for subscription in subscriptions:
        subscription.wake()


class SQLitePollingApplicationRecorder(SQLiteApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        _wake(self.datastore.pool.db_name)
        return ids

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[Any]:
        return SQLitePollingSubscription(self, gt=gt, topics=topics)


class SQLitePollingSubscription(ListenNotifySubscription[SQLitePollingApplicationRecorder]):
    def __init__(self, recorder: SQLitePollingApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._db_name = recorder.datastore.pool.db_name
        with _listeners_lock:
            _listeners.setdefault(self._db_name, weakref.WeakSet()).add(self)
        self._poll_thread = threading.Thread(target=self._poll, daemon=True, name="sqlite-subscription-poll")
        self._poll_thread.start()

    def wake(self) -> None:
        self._has_been_notified.set()

    def _poll(self) -> None:
        stopped = threading.Event()
        while not self._has_been_stopped:
            stopped.wait(POLL_INTERVAL_SECONDS)
            self._has_been_notified.set()

    def stop(self) -> None:
        super().stop()
        with _listeners_lock:
            _listeners.get(self._db_name, weakref.WeakSet()).discard(self)

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()
