"""Rebuilding the projections, against a raw scan of the event table, in the same run.

DESIGN.md section 8 ("Speed"): rebuilding projections processes at least 25% of the rate of a
raw scan of the event table, where the raw scan is the recorder's own `select_notifications`
paging through every stored event without decoding.

    .venv/bin/python -m bench.projections_rebuild [--events 100000] [--runs 3] [--db sqlite,postgres] [--profile]

For each database: a fresh store (a temporary SQLite file; a new PostgreSQL database, dropped at
the end) is filled with a realistic history (bench/history.py; the fill is not measured). On
PostgreSQL, ANALYZE follows, as autovacuum would: without statistics the planner sorted every
remaining row of the log for each page, for the scan and the rebuild alike. Then, alternating,
R times each: (a) the raw scan, pages through the application recorder's
`select_notifications`, nothing decoded, at the rebuild's page size for that database and at
2,000 events, the faster of the two; (b) `rebuild(...)` of every view
in the catalogue, exactly what `incidents projections rebuild` runs (lock, one read of the log,
decrypting and decoding each event once, every view written in batched transactions, the swap).
Reported: events/s of each run, the medians, and the ratio of the medians (target >= 0.25).
--breakdown also times decoding alone (the raw scan plus decrypting and parsing each event) and
each view rebuilt alone; --profile runs one more rebuild under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from incidents.bootstrap import open_log
from incidents.projections import rebuild as rebuild_module
from incidents.projections.catalogue import CATALOGUE
from incidents.projections.rebuild import rebuild
from incidents.settings import Settings

from .history import fill

PG = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
RESULTS = Path(__file__).parent / "results"
TARGET = 0.25


@contextmanager
def fresh_store(db: str) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as folder:
        if db == "sqlite":
            yield Settings(data_dir=Path(folder))
            return
        import psycopg

        name = f"incidents_bench_{uuid.uuid4().hex[:10]}"
        for attempt in range(30):  # a shared server may be full for a moment
            try:
                with psycopg.connect(PG + "/postgres", autocommit=True) as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                if attempt == 29:
                    raise
                time.sleep(2)
        try:
            yield Settings(data_dir=Path(folder), database_url=f"{PG}/{name}")
        finally:
            with psycopg.connect(PG + "/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_scan(recorder: Any, page_size: int) -> int:
    position, count = 0, 0
    while True:
        page = recorder.select_notifications(start=position, limit=page_size, inclusive_of_start=False)
        if not page:
            return count
        count += len(page)
        position = page[-1].id


def decoding_scan(log: Any, page_size: int) -> int:
    """The raw scan plus decrypting and decoding every event (and decompressing those stored
    compressed), through the library's notifications: the cost of decoding beside the raw scan
    (a rebuild reads the rows more cheaply, stored_pages.py)."""
    position, count = 0, 0
    while True:
        page = log.recorder.select_notifications(start=position, limit=page_size, inclusive_of_start=False)
        if not page:
            return count
        for notification in page:
            log.mapper.to_domain_event(notification)
        count += len(page)
        position = page[-1].id


def timed(function: Any) -> tuple[int, float]:
    started = time.perf_counter()
    count = function()
    return count, time.perf_counter() - started


def bench_one(db: str, events: int, runs: int, profile: bool, detail: bool) -> dict[str, Any]:
    with fresh_store(db) as settings:
        opened = open_log(settings)
        started = time.perf_counter()
        stored = fill(opened.log, events, lambda n: print(f"\r  {db}: filled {n:,} events", end="", flush=True))
        print(f" in {time.perf_counter() - started:.0f} s")
        if settings.database_url:
            import psycopg

            with psycopg.connect(settings.database_url, autocommit=True) as connection:
                connection.execute("ANALYZE")  # as autovacuum would (it is off on the server here)
        page_size = rebuild_module.POSTGRES_PAGE_SIZE if db == "postgres" else rebuild_module.PAGE_SIZE
        # The raw scan at the rebuild's page size and at 2,000, the faster taken: the baseline is
        # never slowed by a page size chosen for the rebuild.
        scan_sizes = sorted({page_size, 2000})
        scans, rebuilds = [], []
        for run in range(runs):
            rates = []
            for size in scan_sizes:
                count, seconds = timed(lambda: raw_scan(opened.log.recorder, size))
                assert count == stored, (count, stored)
                rates.append(count / seconds)
            scans.append(max(rates))
            count, seconds = timed(lambda: rebuild(opened.store, opened.env, [], lambda position, last: None))
            assert count == stored, (count, stored)
            rebuilds.append(count / seconds)
            print(f"  {db} run {run + 1}: raw scan {scans[-1]:>9,.0f} events/s   rebuild {rebuilds[-1]:>8,.0f} events/s")
        breakdown = {}
        if detail:
            count, seconds = timed(lambda: decoding_scan(opened.log, page_size))
            breakdown["decode only"] = count / seconds
            for spec in CATALOGUE:
                count, seconds = timed(lambda: rebuild(opened.store, opened.env, [spec.name], lambda position, last: None))
                breakdown[spec.name + " alone"] = count / seconds
            for name, rate in breakdown.items():
                print(f"  {db}: {name:<28} {rate:>9,.0f} events/s  ({rate / statistics.median(scans):.2f} of the raw scan)")
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            rebuild(opened.store, opened.env, [], lambda position, last: None)
            profiler.disable()
            print(f"  {db}: where one rebuild's time goes (cProfile, cumulative):")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
        opened.log.close()
    scan, built = statistics.median(scans), statistics.median(rebuilds)
    return {
        "db": db, "events": stored, "page_size": page_size, "views": [spec.name for spec in CATALOGUE],
        "raw_scan_events_per_s": scans, "rebuild_events_per_s": rebuilds,
        "median_raw_scan": scan, "median_rebuild": built, "ratio": built / scan, "breakdown_events_per_s": breakdown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="also time decoding alone, and each view rebuilt alone")
    args = parser.parse_args()
    results = []
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"projections_rebuild-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for db in args.db.split(","):
        results.append(bench_one(db.strip(), args.events, args.runs, args.profile, args.breakdown))
        out.write_text(json.dumps(results, indent=2))  # kept as each database is done
    sizes = ", ".join(f"{r['db']} {r['page_size']}" for r in results)
    print(f"\nviews rebuilt: {', '.join(results[0]['views'])}; page sizes {sizes}; load {os.getloadavg()[0]:.1f}")
    print(f"{'database':<10} {'events':>8} {'raw scan /s':>12} {'rebuild /s':>11} {'ratio':>6}  target >= {TARGET:.2f}")
    for r in results:
        verdict = "ok" if r["ratio"] >= TARGET else "MISSED"
        print(f"{r['db']:<10} {r['events']:>8,} {r['median_raw_scan']:>12,.0f} {r['median_rebuild']:>11,.0f} {r['ratio']:>6.2f}  {verdict}")
    print(f"(raw figures in {out})")


if __name__ == "__main__":
    main()
