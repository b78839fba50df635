"""Signing store checkpoints and verifying the store against them, at 100,000 events.

    .venv/bin/python -m bench.store_checkpoints [--events 100000] [--runs 3] [--db sqlite,postgres]

For each database: a fresh store filled with a realistic history (bench/history.py; the fill is
not measured). Then, in the same run:
- the raw scan: `select_notifications` paging through every stored event, nothing decoded (the
  floor for anything that reads every row, as DESIGN.md section 8 uses it);
- `record_checkpoint` covering every event (the first checkpoints of an existing store);
- `record_checkpoint` after 1,000 more events (what the timer does each interval);
- `verify_store` over everything, R times (median);
- the space the checkpoints take: their stored bytes per covered event.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from incidents.bootstrap import open_log
from incidents.domain.checkpoint import CHECKPOINT_LOG_ID
from incidents.evidence.signing import generate

from .history import fill
from .projections_rebuild import fresh_store, raw_scan, save_results


def timed(function: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def checkpoint_bytes(log: Any) -> int:
    return sum(len(stored.state) for stored in log.recorder.select_events(CHECKPOINT_LOG_ID))


def bench_one(db: str, events: int, runs: int) -> dict[str, Any]:
    key = generate()
    with fresh_store(db) as settings:
        opened = open_log(settings)
        log = opened.log
        try:
            filled, fill_seconds = timed(lambda: fill(log, events))
            print(f"{db}: filled {filled:,} events in {fill_seconds:.1f} s", flush=True)
            scans = [timed(lambda: raw_scan(log.recorder, 5000))[1] for _ in range(runs)]
            first, first_seconds = timed(lambda: log.record_checkpoint(key))
            covered = sum(c.count for c in first)
            space = checkpoint_bytes(log)
            state_bytes = sum(len(n.state) for n in log.recorder.select_notifications(start=1, limit=10**9))
            fill(log, 1000, seed=7)
            later, later_seconds = timed(lambda: log.record_checkpoint(key))
            verifications = []
            for _ in range(runs):
                result, seconds = timed(lambda: log.verify_store(key.public))
                assert result.ok, [p.message for p in result.problems[:5]]
                verifications.append(seconds)
        finally:
            log.close()
    scan = statistics.median(scans)
    verify = statistics.median(verifications)
    report = {
        "db": db,
        "events": covered,
        "raw_scan_seconds": scan,
        "raw_scan_events_per_second": covered / scan,
        "first_checkpoints": len(first),
        "record_all_seconds": first_seconds,
        "record_all_events_per_second": covered / first_seconds,
        "record_1000_more_seconds": later_seconds,
        "record_1000_more_covered": sum(c.count for c in later),
        "verify_seconds_median": verify,
        "verify_runs": verifications,
        "verify_events_per_second": result.checked / verify,
        "verify_vs_raw_scan": verify / scan,
        "checkpoint_bytes_per_event": space / covered,
        "stored_event_bytes_per_event": state_bytes / covered,
    }
    print(
        f"{db}: {covered:,} events; raw scan {scan:.2f} s ({covered / scan:,.0f}/s); "
        f"record_checkpoint over all {first_seconds:.2f} s ({len(first)} checkpoints, {covered / first_seconds:,.0f} events/s); "
        f"after 1,000 more {later_seconds * 1000:.0f} ms; verify_store median {verify:.2f} s "
        f"({result.checked / verify:,.0f} events/s, {verify / scan:.1f}x the raw scan); "
        f"checkpoints take {space / covered:.1f} bytes per event (an event itself {state_bytes / covered:.0f} bytes of state)",
        flush=True,
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    reports = [bench_one(db, args.events, args.runs) for db in args.db.split(",")]
    print(f"results: {save_results('store_checkpoints', reports)}")


if __name__ == "__main__":
    main()
