"""The summaries folded in memory (how a rebuild writes them, summary_fold.py) leave exactly the
rows the live statements leave: the same values, sort keys and search words, for random series
of the view's writes, many of them in one millisecond and moved between milliseconds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import psycopg
import pytest
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from incidents.projections.summaries import IncidentSummaries, IncidentSummary, SummaryQuery
from incidents.projections.summaries_postgres import PostgresIncidentSummaryView
from incidents.projections.summaries_sqlite import SQLiteIncidentSummaryView
from incidents.projections.summary_fold import ROW_COLUMNS

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
    st.just(("flush",)),
)


def apply(target: Any, step: tuple[Any, ...], tracking: Tracking) -> None:
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


@pytest.fixture(params=["sqlite", "postgres"])
def new_view(request, tmp_path_factory) -> Iterator[Callable[[], Any]]:
    """Makes an empty summaries view: a new SQLite file, or a new schema of one PostgreSQL database."""
    made: list[Any] = []

    def sqlite() -> Any:
        path = tmp_path_factory.mktemp("fold") / "view.sqlite"
        return made_view(SQLiteIncidentSummaryView, {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})

    def postgres() -> Any:
        url = urlparse(request.getfixturevalue("postgres_url"))
        schema = f"fold_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url.geturl(), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "", "POSTGRES_PORT": str(url.port), "POSTGRES_USER": url.username or "",
            "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema, "POSTGRES_POOL_SIZE": "1",
        }
        return made_view(PostgresIncidentSummaryView, env)

    def made_view(view_class: type, env: dict[str, str]) -> Any:
        factory = InfrastructureFactory.construct(Environment(IncidentSummaries.name, {**env, "CREATE_TABLE": "y"}))
        made.append(factory)
        return factory.tracking_recorder(view_class)

    def close_all() -> None:
        while made:
            made.pop().close()

    maker = sqlite if request.param == "sqlite" else postgres
    maker.close_all = close_all  # type: ignore[attr-defined]
    yield maker
    close_all()


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
    live, rebuilt = new_view(), new_view()
    try:
        fold = rebuilt.start_rebuilding()
        for position, step in enumerate(steps, start=1):
            tracking = Tracking("incidents", position)
            if step == ("flush",):
                live.insert_tracking(tracking)
                fold.insert_tracking(tracking)
                rebuilt.flush()
                continue
            apply(live, step, tracking)
            apply(fold, step, tracking)
        getattr(rebuilt, "finish_rebuilding", rebuilt.flush)()
        assert contents(rebuilt) == contents(live)
    finally:
        new_view.close_all()
