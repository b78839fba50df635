"""A standby `incidents project` worker: it takes over once the projections lock is free."""

from __future__ import annotations

import threading
from typing import Callable

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError

from .locks import LockHeld
from .runner import Projections

STANDBY_POLL_SECONDS = 0.5


def when_free(start: Callable[[], Projections], stopping: threading.Event, say: Callable[[str], None]) -> Projections | None:
    """start() as soon as the projections lock is free (None if `stopping` is set first)."""
    said = ""
    while not stopping.is_set():
        try:
            return start()
        except LockHeld as held:
            if held.holder != said:
                said = held.holder
                say(f"standing by: {held.holder} holds the projections lock")
        except (psycopg.OperationalError, OperationalError, InterfaceError) as error:  # the database is away: wait for it
            if str(error) != said:
                said = str(error)
                say(f"standing by: cannot reach the database: {error}")
        stopping.wait(STANDBY_POLL_SECONDS)
    return None
