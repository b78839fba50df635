"""A rebuild finds each projection's handler once per class of event (projections/handlers.py):
the handler it finds is the one process_event would run, subclasses and the default included."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from incidents.projections.handlers import AllHandlers


class Base:
    pass


class Special(Base):
    pass


class MoreSpecial(Special):
    pass


class Dispatching(Projection[Any]):
    name = "dispatching"

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @singledispatchmethod
    def process_event(self, event: Any, tracking: Tracking) -> None:
        self.seen.append(("default", event))

    @process_event.register
    def _(self, event: Special, tracking: Tracking) -> None:
        self.seen.append(("special", event))


class Plain(Projection[Any]):
    name = "plain"

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def process_event(self, event: Any, tracking: Tracking) -> None:
        self.seen.append(event)


def test_each_projection_handles_each_event_as_process_event_would():
    dispatching, plain, expected = Dispatching(), Plain(), Dispatching()
    handlers = AllHandlers([dispatching, plain])
    events = [Base(), Special(), MoreSpecial(), Special(), object()]
    tracking = Tracking("incidents", 1)
    for event in events:
        for handle in handlers.of(type(event)):
            handle(event, tracking)
        expected.process_event(event, tracking)
    assert dispatching.seen == expected.seen
    assert [kind for kind, _ in dispatching.seen] == ["default", "special", "special", "special", "default"]
    assert plain.seen == events
    assert handlers.of(Special) is handlers.of(Special)  # found once
