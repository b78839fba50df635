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


def test_the_views_are_given_an_event_no_view_folds_unread_and_every_other_read():
    """A number's entry in a practice's log is folded by no view: it is not decrypted, yet it
    comes with its place (each view records its position); an event some view folds, or whose
    topic names no class (to be set aside as unreadable), is read."""
    from uuid import uuid4

    from eventsourcing.persistence import StoredEvent
    from eventsourcing.utils import get_topic

    from incidents.domain.filming import FilmingIncident
    from incidents.domain.practice_lists import Listed
    from incidents.projections.catalogue import CATALOGUE
    from incidents.projections.folding import Unfolded, reading_folded

    projections = [spec.projection(SimpleNamespace(fold=[])) for spec in CATALOGUE]
    read: list[str] = []
    to_domain_event = reading_folded(lambda stored: read.append(stored.topic) or stored.topic, projections)
    entry, incident, unknown = (
        StoredEvent(uuid4(), 1, topic, b"sealed")
        for topic in (get_topic(Listed), get_topic(FilmingIncident.Reported), "incidents.domain.gone:Nothing")
    )
    for _ in range(2):  # the second time from what was found the first
        unread = to_domain_event(entry)
        assert isinstance(unread, Unfolded)
        assert (unread.originator_id, unread.originator_version) == (entry.originator_id, 1)
        assert to_domain_event(incident) == incident.topic
        assert to_domain_event(unknown) == unknown.topic
    assert read == [incident.topic, unknown.topic] * 2
    assert not any(projection.folds(Listed) for projection in projections)
    assert all(projection.folds(FilmingIncident.Reported) for projection in projections)
