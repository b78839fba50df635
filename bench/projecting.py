"""What projecting one event costs in Python, apart from reading, decoding and writing it.

    .venv/bin/python -m bench.projecting [--events 3000] [--runs 5]

Reports filming incidents (as bench.logging_http does) into a fresh SQLite store, decodes them
once, then times, in one thread, `EveryProjection.process_event` over them with every view of the
catalogue batching (its held writes are dropped between runs, never written). The baseline, in
the same run, is decoding the same notifications (`Mapper.to_domain_event`). Reported: medians of
the runs, in microseconds per event, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from incidents.projections.catalogue import CATALOGUE
from incidents.projections.running.runner import EveryProjection, _Part, view_env
from incidents.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-projecting-") as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        log = opened.log
        actor = Actor(uuid.uuid4(), "bench.reception", "Bench", "A81001", ("reception",))
        when = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
        for _ in range(args.events):
            log.report(
                c.ReportFilming(
                    submission_key=uuid.uuid4().hex, occurred_at=when, area="waiting_area", filmer="patient",
                    people_captured="staff_and_patients", children_present="no", note="Held a phone up at the desk",
                ),
                actor,
            )
        env = view_env(opened.store, opened.env)
        notifications = log.recorder.select_notifications(start=0, limit=args.events, inclusive_of_start=False)
        events = [(log.mapper.to_domain_event(n), Tracking(log.name, n.id)) for n in notifications]

        def fresh_views() -> EveryProjection:
            """Every view of the catalogue, batching, so nothing is written while projecting."""
            parts = []
            for spec in CATALOGUE:
                factory = InfrastructureFactory.construct(Environment(spec.name, env))
                view = factory.tracking_recorder(spec.view_class(opened.store))
                view.start_batching()
                parts.append(_Part(spec.projection(view), 0))
            return EveryProjection(parts)

        def decoding() -> float:
            started = time.perf_counter()
            for notification in notifications:
                log.mapper.to_domain_event(notification)
            return time.perf_counter() - started

        def projecting(every: EveryProjection) -> float:
            started = time.perf_counter()
            for event, tracking in events:
                every.process_event(event, tracking)
            return time.perf_counter() - started

        projecting(fresh_views())  # warm up: the first events import the bank holidays
        decoded, projected = [], []
        for _ in range(args.runs):
            decoded.append(decoding() / len(events))
            projected.append(projecting(fresh_views()) / len(events))
        d, p = statistics.median(decoded), statistics.median(projected)
        print(f"{len(events):,} filming reports, {args.runs} runs, medians:")
        print(f"  decoding (baseline)      {1e6 * d:6.1f} us per event")
        print(f"  projecting, every view   {1e6 * p:6.1f} us per event  ({p / d:.2f}x decoding)")
        log.close()


if __name__ == "__main__":
    main()
