"""Every query the dashboard, today's list and the incident list run, at 1,000 and 1,000,000 events.

DESIGN.md section 8 ("Speed"): a dashboard or list page at 1,000,000 events is no more than
1.5x slower than at 1,000.

    .venv/bin/python -m bench.page_queries [--db sqlite,postgres] [--repeat 200] [--copies 999]

For each database, in one run on one fresh store:
1. Small: 1,000 events of a realistic history (bench/history.py) saved through the app, and
   the views built from them by `rebuild` (every view of the catalogue). Each query is timed.
2. Large: the view tables are then grown in bulk, in SQL, to what 1,000,000 events would give:
   every row of every table of the views (tracking tables aside) is copied `--copies` times,
   each copy as if from another practice of the same deployment (a federation on one server,
   which is how PostgreSQL deployments grow), with its own incident ids and sort keys; FTS5
   indexes are rebuilt, statistics refreshed (ANALYZE). Building 1,000,000 events through the
   projections would take far longer than the queries are worth measuring here. The practice
   whose pages are timed keeps exactly its own rows, so the same answer is computed over tables
   1,000 times larger. Each query is timed again.
Each figure is the median of `--repeat` runs (after a warm-up), and the ratio large/small is
reported against the 1.5 target. The queries are those the pages run: the dashboard (figures,
action queue, recent incidents), today's list, and the incident list (first page, a filter, a
text search); a view missing from the catalogue is skipped.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from incidents.bootstrap import open_log
from incidents.projections.catalogue import CATALOGUE
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views

from .history import PRACTICES, fill
from .projections_rebuild import fresh_store, save_results

TARGET = 1.5


def page_queries(views: Any, practice: str) -> dict[str, Callable[[], Any]]:
    """The queries of the pages, as the routes call them (web/dashboard_routes.py, incident_routes,
    list_routes), for one practice; only those whose view is in the catalogue."""
    now = datetime.now(timezone.utc)
    queries: dict[str, Callable[[], Any]] = {}
    names = {spec.name for spec in CATALOGUE}
    if "dashboard_figures" in names:
        queries["dashboard: figures"] = lambda: views.view("dashboard_figures").figures(practice, now.date())
    if "action_queue" in names:
        queries["dashboard: action queue"] = lambda: views.view("action_queue").due(practice, now, 100)
        if hasattr(views.view("action_queue"), "idle"):
            queries["dashboard: quiet incidents"] = lambda: views.view("action_queue").idle(practice, now - timedelta(days=14), 100)
    summaries = views.summaries
    queries["dashboard: recent incidents"] = lambda: summaries.reported_between(practice, now - timedelta(days=30), now + timedelta(minutes=1), limit=10)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    queries["today's list"] = lambda: summaries.reported_between(practice, start, start + timedelta(days=1))
    try:
        from incidents.projections.summaries import SummaryQuery
    except ImportError:  # the list's search is not there yet
        return queries
    if hasattr(summaries, "search"):
        today = now.date()  # the home page lists the incidents that happened today, by the list's search
        queries["today's list"] = lambda: summaries.search(SummaryQuery(practice=practice, occurred_from=today, occurred_to=today, page_size=100))
        queries["list: first page"] = lambda: summaries.search(SummaryQuery(practice=practice))
        queries["list: open, filming"] = lambda: summaries.search(SummaryQuery(practice=practice, kind="filming", status="open"))
        queries["list: text search"] = lambda: summaries.search(SummaryQuery(practice=practice, text="phone recording"))
        queries["list: page 3 of a month"] = lambda: summaries.search(
            SummaryQuery(practice=practice, occurred_from=(now - timedelta(days=60)).date(), occurred_to=(now - timedelta(days=30)).date(), page=3)
        )
    return queries


def time_queries(queries: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    medians = {}
    for name, query in queries.items():
        for _ in range(max(repeat // 10, 3)):  # warm-up: caches, prepared statements
            query()
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            query()
            samples.append(time.perf_counter() - started)
        medians[name] = statistics.median(samples)
    return medians


# Growing the view tables in bulk ---------------------------------------------------------------


def copied(columns: list[str], incident_id: str, quoted: Callable[[str], str]) -> list[str]:
    """What each column of the n-th copy of a row holds: another practice, incident and sort key, the rest as it was."""
    changed = {"practice": "practice || '.' || copy.n", "incident_id": incident_id, "sort_key": "sort_key + copy.n"}
    return [changed.get(column, quoted(column)) for column in columns]


def grow_sqlite(store: Any, copies: int) -> dict[str, int]:
    counts = {}
    for spec in CATALOGUE:
        db = sqlite3.connect(spec.sqlite_file(store.location), isolation_level=None)
        virtual = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
            if row[0] != "tracking" and row[0] not in virtual and not any(row[0].startswith(v + "_") for v in virtual)
        ]
        db.execute("BEGIN")
        for table in tables:
            columns = [row[1] for row in db.execute(f"PRAGMA table_xinfo({table})") if row[6] == 0]  # not generated
            if "practice" not in columns:
                continue
            exprs = copied(columns, "substr(incident_id, 1, 24) || printf('%012x', copy.n)", lambda column: column)
            db.execute(
                f"WITH RECURSIVE copy(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copy WHERE n < {copies}) "
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM {table}, copy"
            )
            counts[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in virtual:
            db.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.close()
    return counts


def grow_postgres(url: str, copies: int) -> dict[str, int]:
    import psycopg

    counts = {}
    with psycopg.connect(url, autocommit=True) as db:
        events_tables = {"stored_events", "incidentlog_events"}
        tables = [
            row[0]
            for row in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if not row[0].endswith("_tracking") and row[0] not in events_tables and not row[0].endswith("_events")
        ]
        with db.transaction():
            for table in tables:
                columns = [
                    row[0]
                    for row in db.execute(
                        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                        "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                        (f"public.{table}",),
                    )
                ]
                if "practice" not in columns:
                    continue
                exprs = copied(columns, "md5(incident_id::text || copy.n)::uuid", lambda column: f'"{column}"')
                db.execute(
                    f'INSERT INTO public."{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                    f'SELECT {", ".join(exprs)} FROM public."{table}", generate_series(1, {copies}) AS copy(n)'
                )
                counts[table] = db.execute(f'SELECT count(*) FROM public."{table}"').fetchone()[0]
        db.execute("ANALYZE")
    return counts


def bench_one(db: str, repeat: int, copies: int) -> dict[str, Any]:
    with fresh_store(db) as settings:
        opened = open_log(settings)
        stored = fill(opened.log, 1000)
        rebuild(opened.store, opened.env, [], lambda position, last: None)
        views = open_views(opened.store, opened.env)
        practice = PRACTICES[0]
        small = time_queries(page_queries(views, practice), repeat)
        answers_small = {name: repr(query()) for name, query in page_queries(views, practice).items()}
        started = time.perf_counter()
        if db == "sqlite":
            counts = grow_sqlite(opened.store, copies)
        else:
            counts = grow_postgres(settings.effective_database_url, copies)
        print(f"  {db}: grew the view tables in {time.perf_counter() - started:.0f} s: {counts}")
        views = open_views(opened.store, opened.env)
        answers_large = {name: repr(query()) for name, query in page_queries(views, practice).items()}
        changed = [name for name in answers_small if answers_small[name] != answers_large[name]]
        large = time_queries(page_queries(views, practice), repeat)
        opened.log.close()
    return {
        "db": db, "events_small": stored, "events_large_equivalent": stored * (copies + 1), "rows": counts,
        "small_s": small, "large_s": large, "answers_changed": changed,
        "ratios": {name: large[name] / small[name] for name in small},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--copies", type=int, default=999)
    args = parser.parse_args()
    results = [bench_one(db.strip(), args.repeat, args.copies) for db in args.db.split(",")]
    print(f"\nmedians of {args.repeat} runs; load {os.getloadavg()[0]:.1f}")
    for r in results:
        print(f"\n{r['db']}: {r['events_small']:,} events, then the views of ~{r['events_large_equivalent']:,} events")
        print(f"  {'query':<28} {'small ms':>9} {'large ms':>9} {'ratio':>6}")
        for name in r["small_s"]:
            ratio = r["ratios"][name]
            print(f"  {name:<28} {r['small_s'][name] * 1000:>9.3f} {r['large_s'][name] * 1000:>9.3f} {ratio:>6.2f}  {'ok' if ratio <= TARGET else 'MISSED'}")
        small_page = sum(v for k, v in r["small_s"].items() if k.startswith("dashboard"))
        large_page = sum(v for k, v in r["large_s"].items() if k.startswith("dashboard"))
        print(f"  {'the dashboard page (sum)':<28} {small_page * 1000:>9.3f} {large_page * 1000:>9.3f} {large_page / small_page:>6.2f}")
        if r["answers_changed"]:
            print(f"  NOTE: answers differ after growing (should not): {r['answers_changed']}")
    print(f"(raw figures in {save_results('page_queries', results)})")


if __name__ == "__main__":
    main()
