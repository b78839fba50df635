"""The demo's sample data is recorded as a practice would have recorded it: each event some time
after what it records, over the months of the plan, with recent incidents still open."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from incidents.application.service import IncidentLog
from incidents.demo import DemoPlan, load_demo
from incidents.domain.acting import acting_as, recorded_as_of
from incidents.domain.incident import Incident
from incidents.domain.kinds import FilmingIncident
from incidents.domain.values import OccurredInFuture
from tests.unit.conftest import PRACTICE_A


@pytest.fixture
def demo_events(log: IncidentLog, sign_up):
    reception, manager = sign_up("demo.reception").actor, sign_up("demo.manager", role="manager").actor
    count = load_demo(log, reception, manager, DemoPlan(months=6), lambda: None)
    notifications = log.recorder.select_notifications(start=1, limit=100_000)
    events = [e for e in map(log.mapper.to_domain_event, notifications) if isinstance(e, Incident.Event)]
    return count, events, datetime.now(timezone.utc)


def test_the_demo_records_each_incident_when_it_happened_and_its_follow_up_later(demo_events):
    count, events, now = demo_events
    by_incident: dict = defaultdict(list)
    for e in events:
        by_incident[e.originator_id].append(e)
    assert len(by_incident) == count > 50
    reported = [history[0] for history in by_incident.values()]
    assert all(timedelta(0) < e.timestamp - e.occurred_at <= timedelta(hours=2) for e in reported)
    assert now - min(e.timestamp for e in reported) > timedelta(days=150)
    assert len({e.timestamp.date() for e in reported}) > 40  # spread over the months, not the day the demo ran
    assert all(e.timestamp < now for e in events)
    for history in by_incident.values():  # each incident's events in the order they were recorded
        assert [e.timestamp for e in history] == sorted(e.timestamp for e in history)
    # The store holds the events in the order they were recorded, as a practice's would.
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)

    closes = [(h[0].timestamp, e.timestamp) for h in by_incident.values() for e in h if isinstance(e, Incident.Closed)]
    to_close = [closed - reported for reported, closed in closes]
    assert len(closes) > count // 2
    assert min(to_close) > timedelta(days=1) and max(to_close) > timedelta(days=30)
    reviews = [e.timestamp - h[0].timestamp for h in by_incident.values() for e in h if isinstance(e, Incident.Reviewed)]
    assert min(reviews) > timedelta(hours=12)
    later = [e for e in events if isinstance(e, Incident.Responded) and e.timestamp - e.occurred_at > timedelta(minutes=5)]
    assert later, "some responses are recorded a while after they were done"


def test_some_demo_incidents_stay_open_with_older_activity(demo_events):
    _, events, now = demo_events
    last_activity: dict = {}
    closed: set = set()
    for e in events:
        last_activity[e.originator_id] = e.timestamp
        if isinstance(e, Incident.Closed):
            closed.add(e.originator_id)
    open_and_quiet = [i for i, at in last_activity.items() if i not in closed and now - at > timedelta(days=14)]
    recent_and_open = [i for i, at in last_activity.items() if i not in closed and now - at < timedelta(days=7)]
    assert len(open_and_quiet) >= 3
    assert recent_and_open


FACTS = {"area": "reception", "filmer": "patient", "people_captured": "staff", "children_present": "no"}


def test_an_event_is_recorded_now_unless_a_loader_of_past_records_says_when():
    with acting_as("sue", "Sue"):
        happened = datetime(2026, 3, 2, 9, 40, tzinfo=timezone.utc)
        now = FilmingIncident.report(PRACTICE_A, "key-1", "", occurred_at=happened, **FACTS)
        assert datetime.now(timezone.utc) - now.collect_events()[0].timestamp < timedelta(seconds=5)
        then = datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc)
        with recorded_as_of(then):
            past = FilmingIncident.report(PRACTICE_A, "key-2", "", occurred_at=happened, **FACTS)
            past.review("Handled well.")
        assert [e.timestamp for e in past.collect_events()] == [then, then]
        with pytest.raises(OccurredInFuture):
            with recorded_as_of(datetime.now(timezone.utc) + timedelta(days=3)):
                pass
