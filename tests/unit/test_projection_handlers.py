"""A projection finds its handler once per class of event (projections/folding.py): the handler
it finds is the one its fold_event would run, subclasses and the default included."""

from __future__ import annotations

from functools import singledispatchmethod
from types import SimpleNamespace
from typing import Any

from eventsourcing.persistence import Tracking

from incidents.projections.folding import FoldingProjection


class Base:
    pass


class Special(Base):
    pass


class MoreSpecial(Special):
    pass


class Dispatching(FoldingProjection):
    name = "dispatching"

    @singledispatchmethod
    def fold_event(self, event: Any) -> None:
        self.fold.append(("default", event))

    @fold_event.register
    def _(self, event: Special) -> None:
        self.fold.append(("special", event))


def test_each_event_is_folded_by_its_handler_and_advances_the_tracking():
    tracked: list[Tracking] = []
    view = SimpleNamespace(fold=[], insert_tracking=tracked.append)
    projection, expected = Dispatching(view), Dispatching(SimpleNamespace(fold=[]))
    events = [Base(), Special(), MoreSpecial(), Special(), object()]
    for position, event in enumerate(events, start=1):
        projection.process_event(event, Tracking("incidents", position))
        expected.fold_event(event)
    assert view.fold == expected.fold
    assert [kind for kind, _ in view.fold] == ["default", "special", "special", "special", "default"]
    assert [t.notification_id for t in tracked] == [1, 2, 3, 4, 5]
    assert projection.handler_of(Special) is projection.handler_of(Special)  # found once
