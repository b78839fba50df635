"""The SQLite subscription reads a stream of writes in batches, at most once per interval, and
reads at once when someone waiting for the views hurries it."""

from __future__ import annotations

import threading
import time

from incidents import sqlite_subscription
from incidents.bootstrap import open_log
from incidents.settings import Settings
from tests.integration.test_summary_view_contract import actor_in, report

INTERVAL = 0.5


def test_a_stream_of_writes_waits_for_the_interval_unless_hurried(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_subscription, "MIN_READ_INTERVAL_SECONDS", INTERVAL)
    log = open_log(Settings(data_dir=tmp_path)).log
    try:
        manager = actor_in(log, "A81001")
        first = report(log, manager)
        subscription = log.recorder.subscribe(gt=first.notification_id - 1)
        try:
            assert next(subscription).id == first.notification_id  # the first read is at once

            second = report(log, manager)  # wakes the subscription, just after its last read
            started = time.monotonic()
            assert [next(subscription).id for _ in range(2)][-1] == second.notification_id  # its number's entry, then the report
            assert time.monotonic() - started >= INTERVAL * 0.6

            third = report(log, manager)
            started = time.monotonic()
            log.recorder.hurry_readers()
            assert [next(subscription).id for _ in range(2)][-1] == third.notification_id
            assert time.monotonic() - started < INTERVAL * 0.6
        finally:
            subscription.stop()
    finally:
        log.close()


def test_stopping_a_subscription_never_waits_for_the_listeners_lock(tmp_path):
    """The library stops a subscription from __del__, which the garbage collector may run while
    this thread holds the listeners' lock (a deadlock seen in CI): stop() must not take it."""
    log = open_log(Settings(data_dir=tmp_path)).log
    try:
        subscription = log.recorder.subscribe(gt=None)
        with sqlite_subscription._listeners_lock:
            stopping = threading.Thread(target=subscription.stop, daemon=True)
            stopping.start()
            stopping.join(timeout=5)
            assert not stopping.is_alive()
    finally:
        log.close()


def test_nothing_is_yielded_after_stop_even_from_a_page_already_read(tmp_path):
    """As the library's own subscriptions: once stopped, the iteration ends, though the page
    read last still holds notifications not yet yielded."""
    log = open_log(Settings(data_dir=tmp_path)).log
    try:
        manager = actor_in(log, "A81001")
        first = report(log, manager)
        report(log, manager)
        report(log, manager)
        subscription = log.recorder.subscribe(gt=first.notification_id - 1)
        yielded = []
        for notification in subscription:
            yielded.append(notification.id)
            subscription.stop()  # as a runner stopped while it consumes the iterator
        assert yielded == [first.notification_id]
    finally:
        log.close()
