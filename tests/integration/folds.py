"""Shared by the fold tests: the same writes given to a live view and to a rebuilding view's
fold, and what each leaves compared."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from eventsourcing.persistence import Tracking

from incidents.projections.catalogue import ProjectionSpec

FLUSH = ("flush",)  # a step: the rebuilding view writes what its fold holds (a page's end)


def check_fold_leaves_what_live_writes_leave(
    new_view: Any,
    spec: ProjectionSpec,
    steps: Sequence[tuple[Any, ...]],
    apply: Callable[[Any, tuple[Any, ...], Tracking, set[Any]], None],
    contents: Callable[[Any], Any],
    once: tuple[str, ...] = (),
) -> None:
    """Give each step to a live view of the spec and to a new view's fold, then compare what
    `contents` reads from each. `apply(target, step, tracking, seen)` makes the write; a step
    named in `once` (a report, a request received) records its id in `seen` after both."""
    live, rebuilt = new_view(spec), new_view(spec)
    try:
        fold = rebuilt.start_rebuilding()
        seen: set[Any] = set()
        for position, step in enumerate(steps, start=1):
            tracking = Tracking("incidents", position)
            if step == FLUSH:
                live.insert_tracking(tracking)
                fold.insert_tracking(tracking)
                rebuilt.flush()
                continue
            apply(live, step, tracking, seen)
            apply(fold, step, tracking, seen)
            if step[0] in once:
                seen.add(step[1])
        getattr(rebuilt, "finish_rebuilding", rebuilt.flush)()
        assert contents(rebuilt) == contents(live)
    finally:
        new_view.close_all()
