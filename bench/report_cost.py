"""What one report costs in CPU, on each side: the app's save, and the projections that follow it.

    .venv/bin/python -m bench.report_cost [--reports 2000] [--runs 3] [--profile]

On a fresh SQLite store (`open_log`, as the app opens it), reports filming incidents through
`IncidentLog.report_from_event_loop` (the form bench.logging_http posts), 8 at a time on one
event loop as the app does, timed with `time.process_time()` (the loop and the
store's writer thread); then starts every projection of the catalogue in this process
(`start_projections`, the runner the projections child runs) and times the process CPU until the
views have caught up with those reports, per report. Neither side waits on the other, so these
are the two CPU costs a report adds to a loaded machine, without the HTTP layer. `--profile`
writes a cProfile of each side of one more run to bench/results/ (`report_cost-save.pstats`, the
loop's thread; `report_cost-project.pstats`, the projections' threads) and prints the top functions and the total number of calls, a
figure that does not depend on the machine's load. Runs on older commits too (the same
`open_log`, `report` and `start_projections`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from incidents.projections.running.runner import start_projections
from incidents.settings import Settings

RESULTS = Path(__file__).parent / "results"
CLIENTS = 8  # reports on their way at once, as bench.logging_http's clients


def one_run(reports: int, profile: bool) -> tuple[float, float, float, dict[str, pstats.Stats]]:
    with tempfile.TemporaryDirectory(prefix="bench-report-cost-") as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        log = opened.log
        actor = Actor(uuid.uuid4(), "bench.reception", "Bench", "A81001", ("reception",))
        when = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
        commands = [
            c.ReportFilming(
                submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient",
                people_captured="staff_and_patients", children_present="no", note="Held a phone up at the desk",
            )
            for _ in range(reports)
        ]
        log.report(c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient",
                                   people_captured="staff_and_patients", children_present="no", note="warm-up"), actor)
        stats: dict[str, pstats.Stats] = {}
        profiler = cProfile.Profile() if profile else None
        cpu = time.process_time()  # the store's writer thread commits for the loop: its CPU counts too
        waits = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
        if profiler:
            profiler.enable()
        asyncio.run(report_from_loop(log, actor, commands))
        if profiler:
            profiler.disable()
            stats["save"] = pstats.Stats(profiler)
        save = (time.process_time() - cpu) / reports
        switches = (resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - waits) / reports
        last = log.recorder.max_notification_id() or 0

        cpu = time.process_time()
        projections = start_projections(opened.store, opened.env)
        try:
            if not projections.wait(last, 300):
                raise RuntimeError(f"the views did not catch up (stopped: {projections.stopped()})")
        finally:
            projections.stop()
        project = (time.process_time() - cpu) / reports
        log.close()
        return save, project, switches, stats


async def report_from_loop(log: Any, actor: Actor, commands: list[Any], clients: int = CLIENTS) -> None:
    """As the app reports: on the event loop, a few at a time, the writer thread committing them together."""
    queue = list(reversed(commands))

    async def client() -> None:
        while queue:
            await log.report_from_event_loop(queue.pop(), actor)

    await asyncio.gather(*(client() for _ in range(clients)))


def profile_projections(reports: int) -> pstats.Stats:
    """The projections' thread, profiled: the runner runs in a thread of its own."""
    import threading

    with tempfile.TemporaryDirectory(prefix="bench-report-cost-") as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        log = opened.log
        actor = Actor(uuid.uuid4(), "bench.reception", "Bench", "A81001", ("reception",))
        when = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
        for _ in range(reports):
            log.report(c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient",
                                       people_captured="staff_and_patients", children_present="no", note="Held a phone up at the desk"), actor)
        last = log.recorder.max_notification_id() or 0
        profilers: list[cProfile.Profile] = []
        lock = threading.Lock()

        def start_profiling(*args: object) -> None:
            profiler = cProfile.Profile()
            with lock:
                profilers.append(profiler)
            profiler.enable()

        threading.setprofile(start_profiling)
        try:
            projections = start_projections(opened.store, opened.env)
        finally:
            threading.setprofile(None)
        try:
            if not projections.wait(last, 300):
                raise RuntimeError("the views did not catch up")
        finally:
            projections.stop()
        log.close()
        for profiler in profilers:
            profiler.disable()  # from this thread: it stops only collecting the stats
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        return stats


def total_calls(stats: pstats.Stats) -> int:
    return sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000, help="reports per run (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument("--profile", action="store_true", help="also profile each side once (cProfile) and print call counts")
    parser.add_argument("--top", type=int, default=25, help="functions to print per profile (default 25)")
    args = parser.parse_args()
    saves, projects, waits = [], [], []
    for run in range(args.runs):
        save, project, switches, _ = one_run(args.reports, False)
        saves.append(save)
        projects.append(project)
        waits.append(switches)
        print(f"run {run + 1}: save {1e6 * save:.0f} µs CPU per report (loop and writer), {switches:.2f} voluntary context switches "
              f"per report (a thread waiting: for the GIL, a lock or the disk), projections {1e6 * project:.0f} µs CPU per report (process)")
    print(f"medians: save {1e6 * statistics.median(saves):.0f} µs and {statistics.median(waits):.2f} switches, "
          f"projections {1e6 * statistics.median(projects):.0f} µs per report; load average {os.getloadavg()[0]:.2f}")
    if args.profile:
        RESULTS.mkdir(exist_ok=True)
        *_, stats = one_run(args.reports, True)
        sides = {"save": stats["save"], "project": profile_projections(args.reports)}
        for name, side in sides.items():
            side.dump_stats(RESULTS / f"report_cost-{name}.pstats")
            print(f"\n== {name}: {total_calls(side) / args.reports:.0f} Python calls per report ==")
            side.sort_stats("cumulative").print_stats(args.top)
            side.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
