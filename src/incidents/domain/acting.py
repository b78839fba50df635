"""Who acted: the application names the person for the duration of a command, and every event
of a kept record says who it was (`actor`, their username, and `actor_name`), so no domain method
takes them as parameters. An event is recorded now, unless a loader of past records (the demo)
says when it was recorded, with `recorded_as_of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import KW_ONLY, field
from datetime import datetime

from eventsourcing.domain import Aggregate, datetime_now_with_tzinfo

from .values import DomainError, past_time

_acting: ContextVar[tuple[str, str]] = ContextVar("acting")
_recorded_as_of: ContextVar[datetime] = ContextVar("recorded_as_of")


class NobodyActing(DomainError):
    """A change was made outside any command: no one can be named as having made it."""


@contextmanager
def acting_as(username: str, name: str = "") -> Iterator[None]:
    """Every event made inside the block names this person (a process, such as the CLI, names itself)."""
    token = _acting.set((username, name or username))
    try:
        yield
    finally:
        _acting.reset(token)


def acting() -> tuple[str, str]:
    """The username and name of the person acting now."""
    try:
        return _acting.get()
    except LookupError:
        raise NobodyActing("A change to a record needs someone acting (acting_as)") from None


@contextmanager
def recorded_as_of(moment: datetime) -> Iterator[None]:
    """Every event made inside the block is recorded at this past moment rather than now: for
    loading records of the past (sample data), never used by the commands staff give."""
    token = _recorded_as_of.set(past_time(moment))
    try:
        yield
    finally:
        _recorded_as_of.reset(token)


def recorded_now() -> datetime:
    """The moment an event made now is recorded at (see recorded_as_of)."""
    return _recorded_as_of.get(None) or datetime_now_with_tzinfo()


class Record(Aggregate):
    """An aggregate whose every event records who acted."""

    class Event(Aggregate.Event):
        # Keyword-only, so each event's own fields may come before them without defaults.
        _: KW_ONLY
        actor: str = field(default_factory=lambda: acting()[0])
        actor_name: str = field(default_factory=lambda: acting()[1])

        @staticmethod
        def create_timestamp() -> datetime:
            return recorded_now()
