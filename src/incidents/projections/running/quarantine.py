"""Events a view could not write, set aside in its `<name>_quarantine` table so that one bad event never stops it."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, InternalError, OperationalError, Tracking
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import get_topic

from ..sqlite import in_sqlite
from .layouts import qualified

logger = logging.getLogger("incidents.projections")
MAX_ERROR_CHARS = 1000
# Errors of the database itself, not of one event: they stop the view (to start again later).
_STOPPING = (
    OperationalError, InterfaceError, InternalError, sqlite3.OperationalError, sqlite3.InterfaceError,
    sqlite3.InternalError, psycopg.OperationalError, psycopg.InterfaceError, psycopg.InternalError, MemoryError,
)


def stops_the_view(error: BaseException) -> bool:
    """Whether an error is the database's (stop, retry later) rather than one event's (set it aside)."""
    return isinstance(error, _STOPPING) or not isinstance(error, Exception)


@dataclass(frozen=True)
class Quarantined:
    view: str
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    error: str
    at: str  # when it was set aside, ISO 8601 UTC

    @classmethod
    def of(cls, view: str, event: Any, tracking: Tracking, error: BaseException) -> Quarantined:
        return cls(
            view, tracking.notification_id, str(getattr(event, "originator_id", "")),
            int(getattr(event, "originator_version", 0) or 0), getattr(event, "topic", None) or get_topic(type(event)), error_text(error),
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )


def error_text(error: BaseException) -> str:
    """The error as a quarantine row keeps it (PostgreSQL text cannot hold a NUL, which a message may quote)."""
    return f"{type(error).__name__}: {error}".replace("\x00", "\\x00")[:MAX_ERROR_CHARS]


COLUMNS = ("notification_id", "originator_id", "originator_version", "topic", "error", "quarantined_at")


def _run(cursor: Any, view: Any, name: str, text: str, params: Any = ()) -> None:
    """A statement in the views' shared form, `{table}` naming the view's quarantine."""
    text = text.replace("{table}", qualified(view, f"{name}_quarantine"))
    cursor.execute(in_sqlite(text) if isinstance(view.datastore, SQLiteDatastore) else text, params)


def record(view: Any, name: str, entries: list[Quarantined], tracking: Tracking | None = None) -> None:
    """Write the events set aside (making the table even if none), with the tracking position if given."""
    with view.datastore.transaction(commit=True) as cursor:
        _run(cursor, view, name, (
            "CREATE TABLE IF NOT EXISTS {table} (notification_id BIGINT PRIMARY KEY, originator_id TEXT NOT NULL, "
            "originator_version BIGINT NOT NULL, topic TEXT NOT NULL, error TEXT NOT NULL, quarantined_at TEXT NOT NULL)"
        ))
        for entry in entries:
            _run(
                cursor, view, name,
                f"INSERT INTO {{table}} ({', '.join(COLUMNS)}) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (notification_id) "
                "DO UPDATE SET error = excluded.error, quarantined_at = excluded.quarantined_at",
                (entry.notification_id, entry.originator_id, entry.originator_version, entry.topic, entry.error, entry.at),
            )
        if tracking is not None:
            view._insert_tracking(cursor, tracking)


def listed(view: Any, name: str) -> list[Quarantined]:
    """The events the view has set aside, in the order of the log."""
    with view.datastore.transaction(commit=False) as cursor:
        if isinstance(view.datastore, SQLiteDatastore):
            cursor.execute("SELECT count(*) AS found FROM sqlite_schema WHERE name = ?", (f"{name}_quarantine",))
        else:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (qualified(view, f"{name}_quarantine"),))
        if not cursor.fetchone()["found"]:
            return []
        _run(cursor, view, name, f"SELECT {', '.join(COLUMNS)} FROM {{table}} ORDER BY notification_id")
        return [Quarantined(name, *(row[column] for column in COLUMNS)) for row in cursor.fetchall()]


def remove(cursor: Any, view: Any, name: str, notification_id: int) -> None:
    _run(cursor, view, name, "DELETE FROM {table} WHERE notification_id = %s", (notification_id,))


def note_error(view: Any, name: str, notification_id: int, error: BaseException) -> None:
    """Keep the error of the latest retry."""
    with view.datastore.transaction(commit=True) as cursor:
        _run(cursor, view, name, "UPDATE {table} SET error = %s WHERE notification_id = %s", (error_text(error), notification_id))


class BuildAgain(Exception):
    """A view of a rebuild failed on an event: its group of views is built again without it."""


class RebuildQuarantine:
    """What a rebuild sets aside, from one attempt at a group of views to the next (a fold that raises
    may have changed rows half way); each attempt learns of one more event or page, so they end."""

    def __init__(self) -> None:
        self.skipped: dict[str, dict[int, Quarantined]] = {}
        self.careful: dict[str, set[int]] = {}  # per view, the first notification id of pages written event by event

    def failed(self, name: str, event: Any, tracking: Tracking, error: BaseException) -> None:
        """A view's fold raised on the event: leave it out next time (or fail, if the database did)."""
        if stops_the_view(error):
            raise error
        self.skipped.setdefault(name, {})[tracking.notification_id] = Quarantined.of(name, event, tracking, error)
        logger.warning("Rebuilding %s again without event %s: %r", name, tracking.notification_id, error)
        raise BuildAgain(name) from error

    def fold_page(self, name: str, projection: Any, view: Any, events: list[tuple[int, Any]], log_name: str) -> None:
        """One view's share of a page, folded without the events set aside, then written."""
        skipped = self.skipped.get(name, {})
        first = events[0][0]
        one_by_one = first in self.careful.get(name, ())
        handler_of = projection.handler_of
        for notification_id, event in events:
            try:
                if notification_id not in skipped:
                    handler_of(type(event))(event)
                if one_by_one:
                    view.insert_tracking(Tracking(log_name, notification_id))
                    view.flush()
            except Exception as error:
                self.failed(name, event, Tracking(log_name, notification_id), error)
        if one_by_one:
            return
        view.insert_tracking(Tracking(log_name, events[-1][0]))
        try:
            view.flush()
        except Exception as error:
            if stops_the_view(error):
                raise
            self.careful.setdefault(name, set()).add(first)
            logger.warning("Rebuilding %s again, writing the page from event %s event by event: %r", name, first, error)
            raise BuildAgain(name) from error

    def record(self, name: str, view: Any) -> None:
        record(view, name, sorted(self.skipped.get(name, {}).values(), key=lambda entry: entry.notification_id))
