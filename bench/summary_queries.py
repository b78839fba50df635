"""The incident list's queries at a small and a large size, on SQLite and PostgreSQL.

DESIGN.md section 8, "Speed": a list page at 1,000,000 events is no more than 1.5x slower than
at 1,000. An incident has a handful of events, so ~200,000 summary rows stand for ~1,000,000
events. The view is filled directly (the projection's own insert statements, in bulk), for one
practice plus a small second one, with notes drawn from a fixed vocabulary; then each query of
the list page (filters, dates, text, a later page, and its capped count) is timed: the median
of repeated runs, each run being what one page view costs (rows + count).

    .venv/bin/python -m bench.summary_queries                      # 1,000 and 200,000 rows
    .venv/bin/python -m bench.summary_queries --sizes 1000 50000 --runs 15 --only sqlite
    .venv/bin/python -m bench.summary_queries --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

PostgreSQL: a database is created for each size and dropped afterwards (the server's URL must
allow CREATE DATABASE); VACUUM ANALYZE runs after the fill, as autovacuum would.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment

from bench import query_bench_arguments, scratch_postgres
from incidents.domain.filming import AREAS, FilmingIncident
from incidents.domain.recording import SETTINGS, RecordingEpisode
from incidents.projections.summaries import IncidentSummaries, IncidentSummary, SummaryQuery, searchable
from incidents.projections.summaries.postgres import PostgresIncidentSummaryView
from incidents.projections.summaries.sqlite import SQLiteIncidentSummaryView

PRACTICE, OTHER = "A81001", "B82002"
NEWEST = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
COMMON = (
    "patient phone filming waiting room staff asked stop left reception desk manager spoke calmly "
    "video recorded consultation doctor nurse copy record notice policy explained daughter husband "
    "queue morning afternoon appointment upset loud camera tablet shared posted online complaint"
).split()


def note_for(rng: random.Random, i: int) -> str:
    words = rng.choices(COMMON, k=rng.randint(4, 16))
    if i % 100 == 0:
        words.append("pharmacy")  # 1% of rows
    if i % 1000 == 7:
        words.append("brannigan")  # 0.1%
    if i in (3, 400, 900):
        words.append("zebracrossing")  # three rows, whatever the size
    return " ".join(words)


def rows(n: int) -> list[tuple[IncidentSummary, str]]:
    """n incidents of PRACTICE, one every 20 minutes back from NEWEST (older ones mostly closed),
    and n/20 of OTHER interleaved."""
    rng = random.Random(n)
    made = []
    for i in range(n + n // 20):
        practice = OTHER if i % 21 == 20 else PRACTICE
        kind = FilmingIncident.KIND if rng.random() < 0.5 else RecordingEpisode.KIND
        location = rng.choice(list(AREAS if kind == FilmingIncident.KIND else SETTINGS))
        occurred = NEWEST - timedelta(minutes=20 * i, seconds=rng.randint(0, 59))
        closed = i > 50 and rng.random() < 0.9
        made.append(
            (
                IncidentSummary(
                    incident_id=uuid.uuid4(), practice=practice, kind=kind, occurred_at=occurred,
                    reported_at=occurred + timedelta(minutes=5), location=location,
                    status="closed" if closed else "open", outcome="no_further_action" if closed else "",
                    clinician="Dr Shah" if kind == RecordingEpisode.KIND else "",
                ),
                searchable(note_for(rng, i)),
            )
        )
    return made


QUERIES: dict[str, dict[str, Any]] = {
    "list, no filter": {},
    "kind": {"kind": "filming"},
    "status open": {"status": "open"},
    "location + status": {"location": "reception", "status": "closed"},
    "kind + status + dates": {"kind": "recording", "status": "closed", "occurred_from": date(2026, 5, 26), "occurred_to": date(2026, 5, 31)},
    "page 10": {"page": 10},
    "text, common word": {"text": "waiting"},
    "text, prefix 'po'": {"text": "po"},
    "text, 1% word": {"text": "pharmacy"},
    "text, 0.1% word": {"text": "brannigan"},
    "text, 3 rows": {"text": "zebracrossing"},
    "text, no match": {"text": "qqqzzz"},
    "text, two words": {"text": "daughter pharm"},
    "text + kind + status": {"text": "camera", "kind": "filming", "status": "closed"},
    "text + dates": {"text": "phone", "occurred_from": date(2026, 5, 26), "occurred_to": date(2026, 5, 31)},
}


def sqlite_view(folder: Path, data: list[tuple[IncidentSummary, str]]) -> tuple[SQLiteIncidentSummaryView, Callable[[], None]]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "view.sqlite")}
    factory = InfrastructureFactory.construct(Environment(IncidentSummaries.name, env))
    view = factory.tracking_recorder(SQLiteIncidentSummaryView)
    fill(view, data)
    return view, factory.close


def fill(view: Any, data: list[tuple[IncidentSummary, str]]) -> None:
    """The rows as the projection's fold makes them, written 5,000 at a time."""
    view.start_batching()
    for position, (summary, note) in enumerate(data, 1):
        view.fold.add(summary, note)
        view.insert_tracking(Tracking("bench", position))
        if position % 5000 == 0:
            view.flush()
    view.flush()


def postgres_view(url: str, data: list[tuple[IncidentSummary, str]]) -> tuple[PostgresIncidentSummaryView, Callable[[], None]]:
    env, drop = scratch_postgres(url, "bench_summaries")
    factory = InfrastructureFactory.construct(Environment(IncidentSummaries.name, env))
    view = factory.tracking_recorder(PostgresIncidentSummaryView)
    fill(view, data)
    with view.datastore.get_connection() as connection:
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")

    def close() -> None:
        factory.close()
        drop()

    return view, close


def medians_ms(small: Any, large: Any, query: SummaryQuery, runs: int) -> tuple[float, float, int, int]:
    """Median ms of one page (rows + capped count) on each view, the runs alternating between
    them so that a busy machine slows both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    pages = [small.search(query), large.search(query)]  # warm
    for _ in range(runs):
        for view, spent in zip((small, large), times):
            started = time.perf_counter()
            view.search(query)
            spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1]), pages[0].total, pages[1].total


def main() -> None:
    args, engines = query_bench_arguments(__doc__, large=200_000, runs=41)
    small_size, large_size = args.sizes
    for engine in engines:
        with tempfile.TemporaryDirectory() as folder:
            views, closers = [], []
            try:
                for size in args.sizes:
                    data = rows(size)
                    started = time.perf_counter()
                    place = Path(folder) / str(size)
                    place.mkdir()
                    view, close = sqlite_view(place, data) if engine == "sqlite" else postgres_view(args.postgres_url, data)
                    views.append(view)
                    closers.append(close)
                    print(f"{engine}: filled {len(data):,} rows in {time.perf_counter() - started:.1f} s", flush=True)
                print(f"\n{engine}: median ms per page (rows + capped count), {args.runs} alternating runs; "
                      f"{small_size:,} vs {large_size:,} rows of one practice")
                print(f"{'query':<24}{'small':>9}{'large':>9}{'ratio':>8}   totals")
                for label, filters in QUERIES.items():
                    a, b, total_a, total_b = medians_ms(*views, SummaryQuery(practice=PRACTICE, **filters), args.runs)
                    print(f"{label:<24}{a:9.2f}{b:9.2f}{b / a:8.2f}   {total_a} / {total_b}", flush=True)
                print()
            finally:
                for close in closers:
                    close()


if __name__ == "__main__":
    main()
