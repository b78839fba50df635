"""The summaries folded in memory (how a rebuild writes them, summary_fold.py) leave exactly the
rows the live statements leave: the same values, sort keys and search words, for random series
of the view's writes, many of them in one millisecond and moved between milliseconds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from incidents.projections.catalogue import spec_named
from incidents.projections.summaries import IncidentSummaries, IncidentSummary, SummaryQuery
from incidents.projections.summaries_sqlite import SQLiteIncidentSummaryView
from incidents.projections.summary_fold import ROW_COLUMNS
from tests.integration.folds import FLUSH, check_fold_leaves_what_live_writes_leave

SUMMARIES = spec_named(IncidentSummaries.name)
PRACTICE = "A81001"
BASE = datetime(2026, 3, 29, 0, 59, 59, 999000, tzinfo=timezone.utc)  # the hour UK clocks go forward
MOMENTS = [BASE, BASE + timedelta(microseconds=500), BASE + timedelta(milliseconds=1), BASE + timedelta(days=40)]
IDS = [uuid.UUID(int=i + 1) for i in range(3)]
WORDS = st.sampled_from(["", "spoke calmly", "waiting room", "Dr Shah"])

write = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(IDS), st.sampled_from(MOMENTS), st.sampled_from(["filming", "recording"]), WORDS),
    st.tuples(st.just("record_response"), st.sampled_from(IDS), st.sampled_from(["PolicyExplained", "CopyRequested"]), st.sampled_from(MOMENTS), WORDS),
    st.tuples(st.just("add_note"), st.sampled_from(IDS), WORDS),
    st.tuples(st.just("correct"), st.sampled_from(IDS), st.sampled_from([None, "occurred_at", "location", "clinician"]), st.sampled_from(MOMENTS), WORDS),
    st.tuples(st.just("mark_reviewed"), st.sampled_from(IDS), st.sampled_from(MOMENTS), WORDS),
    st.tuples(st.just("mark_closed"), st.sampled_from(IDS), st.sampled_from(["warning_letter", "no_further_action"]), st.sampled_from(MOMENTS), WORDS),
    st.tuples(st.just("mark_reopened"), st.sampled_from(IDS), WORDS),
    st.just(FLUSH),
)


def apply(target: Any, step: tuple[Any, ...], tracking: Tracking, seen: set[uuid.UUID]) -> None:
    name, *args = step
    if name == "add":
        incident_id, moment, kind, note = args
        location = "waiting_area" if kind == "filming" else "telephone"
        summary = IncidentSummary(incident_id, PRACTICE, kind, moment, moment + timedelta(minutes=5), location, notes=1 if note else 0)
        target.add(summary, note, tracking)
    elif name == "correct":
        incident_id, column, moment, reason = args
        value = {"occurred_at": moment, "location": "reception", "clinician": "Nurse Patel", None: "x"}[column]
        target.correct(incident_id, column, value, reason, tracking)
    else:
        getattr(target, name)(*args, tracking)


def contents(view: Any) -> tuple[list[tuple[Any, ...]], list[list[uuid.UUID]], int | None]:
    table = "incident_summaries" if isinstance(view, SQLiteIncidentSummaryView) else f'"{view.datastore.schema}".incident_summaries'
    with view.datastore.transaction(commit=False) as c:
        c.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM {table} ORDER BY incident_id")
        rows = [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in c.fetchall()]
    searches = [
        [row.incident_id for row in view.search(SummaryQuery(practice=PRACTICE, text=text, page_size=100)).rows]
        for text in ("", "spoke", "wait", "shah", "warning", "reception")
    ]
    return rows, searches, view.max_tracking_id("incidents")


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(write, min_size=1, max_size=30))
@example(steps=[  # moved within its millisecond, where it holds the highest key: it takes the next
    ("add", IDS[0], MOMENTS[0], "filming", ""), ("add", IDS[1], MOMENTS[1], "recording", ""),
    ("correct", IDS[1], "occurred_at", MOMENTS[0], ""),
])
@example(steps=[  # words appended to none begin with a space, kept as they are
    ("add", IDS[0], MOMENTS[0], "filming", ""), ("add_note", IDS[0], "spoke calmly"), ("add_note", IDS[0], ""),
])
def test_folded_rows_equal_the_rows_the_live_statements_leave(new_view, steps):
    check_fold_leaves_what_live_writes_leave(new_view, SUMMARIES, steps, apply, contents)
