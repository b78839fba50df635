"""The action queue folded in memory (how a rebuild writes it, action_fold.py) leaves exactly the
tables the live statements leave, for random series of the view's writes: windows that end as
later incidents are reported, copies asked for again, settled and brought back by a reopening,
disclosure requests moved and done."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from incidents.projections.action_queue import ActionQueue, Requester
from incidents.projections.catalogue import spec_named
from tests.integration.folds import FLUSH, check_fold_leaves_what_live_writes_leave

QUEUE = spec_named(ActionQueue.name)
PRACTICES = ("A81001", "B82002")
T0 = datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)
MOMENTS = [T0, T0 + timedelta(days=1), T0 + timedelta(days=200), T0 + timedelta(days=400), T0 + timedelta(days=800)]
INCIDENTS = [uuid.UUID(int=i + 1) for i in range(3)]
REQUESTS = [uuid.UUID(int=100 + i) for i in range(2)]
moment = st.sampled_from(MOMENTS)
incident = st.sampled_from(INCIDENTS)

write = st.one_of(
    st.tuples(st.just("incident_reported"), incident, st.sampled_from(PRACTICES), moment),
    st.tuples(st.just("item_due"), incident, moment, moment),
    st.tuples(st.just("item_done"), st.sampled_from(INCIDENTS + REQUESTS), st.sampled_from([("review",), ("review", "copy"), ("warning_window",), ("disclosure_due",)])),
    st.tuples(st.just("copy_requested"), incident, moment),
    st.tuples(st.just("copy_settled"), incident),
    st.tuples(st.just("incident_reopened"), incident),
    st.tuples(st.just("request_received"), st.sampled_from(REQUESTS), st.sampled_from(PRACTICES), moment),
    st.tuples(st.just("item_moved"), st.sampled_from(REQUESTS), moment),
    st.just(FLUSH),
)


def apply(target: Any, step: tuple[Any, ...], tracking: Tracking, seen: set[uuid.UUID]) -> None:
    name, *args = step
    if name == "incident_reported":
        incident_id, practice, at = args
        if incident_id not in seen:  # an incident is reported once
            target.incident_reported(incident_id, practice, "filming", at, at + timedelta(days=2), tracking)
    elif name == "item_due":
        incident_id, since, ends = args
        target.item_due(incident_id, "warning_window", since, ends, tracking)
    elif name == "copy_requested":
        incident_id, at = args
        target.copy_requested(incident_id, at, at + timedelta(days=14), tracking)
    elif name == "request_received":
        request_id, practice, at = args
        if request_id not in seen:
            target.request_received(request_id, practice, Requester("solicitor", "REF 1"), at, at + timedelta(days=30), tracking)
    elif name == "item_moved":
        request_id, due = args
        target.item_moved(request_id, "disclosure_due", due, tracking)
    else:
        getattr(target, name)(*args, tracking)


def contents(view: Any) -> list[Any]:
    schema = "" if QUEUE.sqlite_view is type(view) else f'"{view.datastore.schema}".'
    tables = []
    with view.datastore.transaction(commit=False) as c:
        for table, order in (("action_incidents", "incident_id"), ("action_items", "incident_id, action"), ("action_requests", "request_id")):
            c.execute(f"SELECT * FROM {schema}{table} ORDER BY {order}")
            tables.append([tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in c.fetchall()])
    due = [view.due(practice, now) for practice in PRACTICES for now in (MOMENTS[0], MOMENTS[-1])]
    return [tables, due, view.max_tracking_id("incidents")]


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(write, min_size=1, max_size=30))
@example(steps=[  # a window ends when the practice's next incident is reported after it
    ("incident_reported", INCIDENTS[0], PRACTICES[0], MOMENTS[0]), ("item_due", INCIDENTS[0], MOMENTS[0], MOMENTS[2]),
    FLUSH, ("incident_reported", INCIDENTS[1], PRACTICES[0], MOMENTS[3]),
])
@example(steps=[  # ... and when it is reported at the very moment the window ends
    ("incident_reported", INCIDENTS[0], PRACTICES[0], MOMENTS[0]), ("item_due", INCIDENTS[0], MOMENTS[0], MOMENTS[2]),
    ("incident_reported", INCIDENTS[1], PRACTICES[1], MOMENTS[3]), ("incident_reported", INCIDENTS[2], PRACTICES[0], MOMENTS[2]),
])
@example(steps=[  # asked again, earlier: the copy is due 14 days after the latest, since the first
    ("incident_reported", INCIDENTS[0], PRACTICES[0], MOMENTS[0]), ("copy_requested", INCIDENTS[0], MOMENTS[1]),
    ("copy_requested", INCIDENTS[0], MOMENTS[0]),
])
@example(steps=[  # a second letter ending no later leaves the window as it was
    ("incident_reported", INCIDENTS[0], PRACTICES[0], MOMENTS[0]), ("item_due", INCIDENTS[0], MOMENTS[0], MOMENTS[2]),
    ("item_due", INCIDENTS[0], MOMENTS[1], MOMENTS[2]),
])
@example(steps=[  # a copy asked for twice, settled, asked again, and the incident closed and reopened
    ("incident_reported", INCIDENTS[0], PRACTICES[0], MOMENTS[0]), ("copy_requested", INCIDENTS[0], MOMENTS[1]),
    ("copy_requested", INCIDENTS[0], MOMENTS[0]), ("copy_settled", INCIDENTS[0]), ("copy_requested", INCIDENTS[0], MOMENTS[2]),
    ("item_done", INCIDENTS[0], ("review", "copy")), FLUSH, ("incident_reopened", INCIDENTS[0]),
])
def test_folded_tables_equal_the_tables_the_live_statements_leave(new_view, steps):
    check_fold_leaves_what_live_writes_leave(new_view, QUEUE, steps, apply, contents, once=("incident_reported", "request_received"))
