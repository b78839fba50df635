"""The dashboard's queries (figures, a month's report, the action queue) at 1,000 and 1,000,000
events, on SQLite and PostgreSQL.

DESIGN.md section 8, "Speed": a dashboard page at 1,000,000 events is no more than 1.5x slower
than at 1,000. The views are filled through their own write methods (the statements the
projections run for each event), from a synthetic history of a federation of practices over five
years: each incident is reported, gets responses (copies asked for and received, warning
letters), sometimes a correction of when or where it happened, is reviewed and closed, sometimes
reopened and closed again; the incidents of the last weeks are still open. Then each query is
timed: the median of repeated runs for one practice.

    .venv/bin/python -m bench.dashboard_queries                          # 1,000 and 1,000,000 events
    .venv/bin/python -m bench.dashboard_queries --sizes 1000 100000 --only sqlite
    .venv/bin/python -m bench.dashboard_queries --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

PostgreSQL: a database is created for each size and dropped afterwards; the views are built on
SQLite by the same history and copied in (COPY), then ANALYZE runs, as autovacuum would.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment

from bench import query_bench_arguments, scratch_postgres
from incidents.domain.filming import AREAS, FilmingIncident
from incidents.domain.recording import SETTINGS, RecordingEpisode
from incidents.projections.action_queue import COPY_FOLLOW_UP, ENDED_BY_CLOSE, REVIEW, ActionQueue, months_after
from incidents.projections.action_queue.postgres import PostgresActionQueueView
from incidents.projections.action_queue.sqlite import SQLiteActionQueueView
from incidents.projections.figures import Figures, month_key
from incidents.projections.figures.postgres import PostgresFiguresView
from incidents.projections.figures.sqlite import SQLiteFiguresView
from incidents.projections.sqlite import from_micros
from incidents.projections.working_days import UK, working_days_deadline

PRACTICES = [f"A{81001 + i}" for i in range(50)]
PRACTICE = PRACTICES[0]
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
SPAN = timedelta(days=5 * 365)
CHUNK = 5000


def history(events: int) -> list[tuple[str, Any, Any, tuple[Any, ...]]]:
    """About `events` view changes: (figures method, its args, queue method, its args).

    The practice whose dashboard is timed reports one incident every two days, back from NOW,
    at every size (up to five years of them); the other practices of the federation make up the
    rest of the events. So both sizes time the same practice's page, the larger with a store
    that holds a thousand times more."""
    rng = random.Random(events)
    ops: list[tuple[str, Any, Any, tuple[Any, ...]]] = []
    total = max(1, events // 5)
    own = min(total, SPAN.days // 2)
    times = [(NOW - timedelta(days=2 * k, minutes=rng.randint(0, 600)), PRACTICE) for k in range(own)]
    times += [(NOW - SPAN * rng.random(), rng.choice(PRACTICES[1:])) for _ in range(total - own)]
    times.sort()
    for reported, practice in times:
        occurred = reported - timedelta(minutes=rng.randint(1, 600))
        kind = FilmingIncident.KIND if rng.random() < 0.5 else RecordingEpisode.KIND
        location = rng.choice(list(AREAS if kind == FilmingIncident.KIND else SETTINGS))
        i = uuid.uuid4()
        ops.append(("incident_reported", (i, practice, kind, month_key(occurred), location, reported),
                    "incident_reported", (i, practice, kind, reported, working_days_deadline(reported, 2), "A patient")))
        t = reported
        for _ in range(rng.randint(1, 3)):
            t += timedelta(hours=rng.randint(1, 48))
            if kind == RecordingEpisode.KIND:
                name = rng.choice(["CopyRequested", "CopyReceived", "AskedToRecordOpenly"])
                queue = ("copy_requested", (i, t, t + COPY_FOLLOW_UP)) if name == "CopyRequested" else (
                    ("copy_settled", (i,)) if name == "CopyReceived" else (None, ()))
            else:
                name = rng.choice(["AskedToStop", "PolicyExplained", "WarningLetterSent"])
                queue = ("letter_sent", (i, t, months_after(t, 12), "")) if name == "WarningLetterSent" else (None, ())
            ops.append(("response_recorded", (i, name, month_key(t)), *queue))
        if rng.random() < 0.05:
            ops.append(("incident_moved", (i, month_key(occurred - timedelta(days=20)), None), None, ()))
        if NOW - reported < timedelta(days=21):
            continue  # recent: still open, not yet reviewed
        t += timedelta(hours=rng.randint(1, 72))
        ops.append((None, (), "item_done", (i, (REVIEW.code,))))
        t += timedelta(hours=rng.randint(1, 400))
        ops.append(("incident_closed", (i, "no_further_action", t, month_key(t)), "item_done", (i, ENDED_BY_CLOSE)))
        ops.append((None, (), "incident_closed", (i,)))
        if rng.random() < 0.03:
            ops.append(("incident_reopened", (i,), "incident_reopened", (i, t)))
            t += timedelta(days=2)
            ops.append(("incident_closed", (i, "resolved_at_desk", t, month_key(t)), "item_done", (i, ENDED_BY_CLOSE)))
            ops.append((None, (), "incident_closed", (i,)))
    return ops


def fill(figures: Any, queue: Any, ops: Sequence[tuple[str, Any, Any, tuple[Any, ...]]], flush: Callable[[], None]) -> None:
    for position, (f, f_args, q, q_args) in enumerate(ops, 1):
        tracking = Tracking("bench", position)
        if f:
            getattr(figures.fold, f)(*f_args)
        figures.insert_tracking(tracking)
        if q:
            getattr(queue.fold, q)(*q_args)
        queue.insert_tracking(tracking)
        if position % CHUNK == 0:
            flush()
    flush()


def sqlite_views(folder: Path, ops: Sequence[Any]) -> tuple[Any, Any, Callable[[], None]]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "figures.sqlite")}
    figures_factory = InfrastructureFactory.construct(Environment(Figures.name, env))
    figures = figures_factory.tracking_recorder(SQLiteFiguresView)
    env = {**env, "SQLITE_DBNAME": str(folder / "queue.sqlite")}
    queue_factory = InfrastructureFactory.construct(Environment(ActionQueue.name, env))
    queue = queue_factory.tracking_recorder(SQLiteActionQueueView)
    figures.start_batching()
    queue.start_batching()
    fill(figures, queue, ops, lambda: (figures.flush(), queue.flush()))

    def close() -> None:
        figures_factory.close()
        queue_factory.close()

    return figures, queue, close


TIMES = {"reported_at", "due_at", "since", "copy_since", "copy_due", "idle_since"}


def postgres_views(url: str, built_figures: Any, built_queue: Any, position: int) -> tuple[Any, Any, Callable[[], None]]:
    """The same views in PostgreSQL, copied table by table (COPY) from the SQLite views built by
    the history: a million single-event transactions would take most of an hour here."""
    env, drop = scratch_postgres(url, "bench_dashboard")
    figures_factory = InfrastructureFactory.construct(Environment(Figures.name, env))
    figures = figures_factory.tracking_recorder(PostgresFiguresView)
    queue_factory = InfrastructureFactory.construct(Environment(ActionQueue.name, env))
    queue = queue_factory.tracking_recorder(PostgresActionQueueView)
    for built, target in ((built_figures, figures), (built_queue, queue)):
        with built.datastore.transaction(commit=False) as c:
            c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%tracking%'")
            for (table,) in [tuple(r) for r in c.fetchall()]:
                c.execute(f"SELECT * FROM {table}")
                rows = c.fetchall()
                if not rows:
                    continue
                columns = list(rows[0].keys())
                with target.datastore.transaction(commit=True) as curs:
                    with curs.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row([_pg(column, value) for column, value in zip(columns, row)])
        target.insert_tracking(Tracking("bench", position))
    with figures.datastore.get_connection() as connection:
        connection.autocommit = True
        connection.execute("ANALYZE")

    def close() -> None:
        figures_factory.close()
        queue_factory.close()
        drop()

    return figures, queue, close


def _pg(column: str, value: Any) -> Any:
    return from_micros(value) if column in TIMES else value


def queries(figures: Any, queue: Any) -> dict[str, Callable[[], Any]]:
    today = NOW.astimezone(UK).date()
    return {
        "figures (12 months)": lambda: figures.figures(PRACTICE, today),
        "month report": lambda: figures.month_report(PRACTICE, 2026, 5),
        "action queue (50)": lambda: queue.due(PRACTICE, NOW, 50),
        "quiet incidents (50)": lambda: queue.idle(PRACTICE, NOW - timedelta(days=14), 50),
    }


def median_ms(query: Callable[[], Any], runs: int) -> float:
    query()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        query()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    args, engines = query_bench_arguments(__doc__, large=1_000_000, runs=50)
    results: dict[str, dict[int, dict[str, float]]] = {engine: {} for engine in engines}
    for size in args.sizes:
        ops = history(size)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            figures, queue, close_sqlite = sqlite_views(Path(folder), ops)
            print(f"{len(ops):,} events into both SQLite views in {time.perf_counter() - started:.1f} s; "
                  f"{len(queue.due(PRACTICE, NOW, 10_000))} open items for {PRACTICE}", flush=True)
            try:
                if "sqlite" in engines:
                    results["sqlite"][size] = {label: median_ms(q, args.runs) for label, q in queries(figures, queue).items()}
                if "postgres" in engines:
                    pg_figures, pg_queue, close_postgres = postgres_views(args.postgres_url, figures, queue, len(ops))
                    try:
                        results["postgres"][size] = {
                            label: median_ms(q, args.runs) for label, q in queries(pg_figures, pg_queue).items()
                        }
                    finally:
                        close_postgres()
            finally:
                close_sqlite()
    small, large = args.sizes
    for engine in engines:
        print(f"\n{engine}: median ms per query, {args.runs} runs, practice {PRACTICE} of {len(PRACTICES)}")
        print(f"{'query':<22}{'small':>9}{'large':>9}{'ratio':>8}")
        for label in results[engine][small]:
            a, b = results[engine][small][label], results[engine][large][label]
            print(f"{label:<22}{a:9.3f}{b:9.3f}{b / a:8.2f}")


if __name__ == "__main__":
    main()
