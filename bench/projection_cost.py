"""What the projections cost the app's process when they run in it (INCIDENTS_PROJECTIONS=inline).

    .venv/bin/python -m bench.projection_cost [--rate 1000] [--seconds 5] [--runs 3]

Reports incidents at a steady rate through IncidentLog.report on a fresh SQLite store, once with
no projections running and once with every projection of the catalogue running in this process
(as the embedded default runs them), and reports the process CPU per incident of each (medians
over the runs), and their difference: the projections' CPU per event, which an app running them
itself spends beside its requests. The views must have caught up at the end of each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from incidents.projections.running.runner import start_projections
from incidents.settings import Settings


def report_steadily(log, actor: Actor, rate: int, seconds: float) -> int:
    when = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
    count = int(rate * seconds)
    started = time.perf_counter()
    for i in range(count):
        log.report(
            c.ReportFilming(
                submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient",
                people_captured="staff_and_patients", children_present="no", note="Held a phone up at the desk",
            ),
            actor,
        )
        ahead = started + (i + 1) / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    return count


def cpu_per_event(with_projections: bool, rate: int, seconds: float) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-projection-cost-") as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        actor = Actor(uuid.uuid4(), "bench.reception", "Bench", "A81001", ("reception",))
        projections = start_projections(opened.store, opened.env) if with_projections else None
        try:
            time.sleep(0.5)
            cpu = time.process_time()
            count = report_steadily(opened.log, actor, rate, seconds)
            if projections is not None and not projections.wait(opened.log.recorder.max_notification_id() or 0, 60):
                raise RuntimeError(f"the views did not catch up (stopped: {projections.stopped()})")
            return (time.process_time() - cpu) / count
        finally:
            if projections is not None:
                projections.stop()
            opened.log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="incidents per second (default 1000)")
    parser.add_argument("--seconds", type=float, default=5, help="seconds per run (default 5)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating (default 3)")
    args = parser.parse_args()
    without, with_ = [], []
    for run in range(args.runs):
        for projections, into in ((False, without), (True, with_)) if run % 2 == 0 else ((True, with_), (False, without)):
            into.append(cpu_per_event(projections, args.rate, args.seconds))
            print(f"run {run + 1}, {'with' if projections else 'without'} projections: {1e3 * into[-1]:.3f} ms CPU per incident")
    a, b = statistics.median(without), statistics.median(with_)
    print(f"median CPU per incident: {1e3 * a:.3f} ms without projections, {1e3 * b:.3f} ms with them in this process")
    print(f"the projections: {1e3 * (b - a):.3f} ms CPU per event ({(b - a) / a:.0%} of the save itself); load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
