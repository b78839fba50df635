"""A projection's handler for each class of event, found once per class (for rebuilds).

`Projection.process_event` is a singledispatchmethod: each call builds a dispatching function
and looks the event's class up again, about a microsecond per event and projection. A rebuild
calls it for every stored event, so it asks for each class's handler once and calls that."""

from __future__ import annotations

import inspect
from functools import singledispatchmethod
from typing import Any, Callable

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

Handler = Callable[[Any, Tracking], None]


class Handlers:
    def __init__(self, projection: Projection[Any]) -> None:
        self.projection = projection
        self.dispatching = inspect.getattr_static(type(projection), "process_event")
        self.found: dict[type, Handler] = {}

    def of(self, event_class: type) -> Handler:
        handler = self.found.get(event_class)
        if handler is None:
            if isinstance(self.dispatching, singledispatchmethod):
                handler = self.dispatching.dispatcher.dispatch(event_class).__get__(self.projection)
            else:
                handler = self.projection.process_event
            self.found[event_class] = handler
        return handler


class AllHandlers:
    """Every projection's handler of each class of event, in the projections' order."""

    def __init__(self, projections: list[Projection[Any]]) -> None:
        self.each = [Handlers(projection) for projection in projections]
        self.found: dict[type, list[Handler]] = {}

    def of(self, event_class: type) -> list[Handler]:
        handlers = self.found.get(event_class)
        if handlers is None:
            handlers = self.found[event_class] = [each.of(event_class) for each in self.each]
        return handlers
