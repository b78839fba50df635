"""Rebuilding views side by side (projections/running/side_by_side.py): groups of equal cost, results
in order, the slowest child's progress, and a child's failure raised in the parent with the
other children stopped."""

from __future__ import annotations

import os
import signal
import time

import pytest

from incidents.projections.running.side_by_side import groups_of, side_by_side


def test_groups_share_the_cost_and_keep_the_order():
    costs = {"summaries": 2, "figures": 1, "queue": 1}
    assert groups_of(list(costs), costs.get, 2) == [["summaries"], ["figures", "queue"]]
    assert groups_of(list(costs), costs.get, 1) == [["summaries", "figures", "queue"]]
    assert groups_of(list(costs), costs.get, 8) == [["summaries"], ["figures"], ["queue"]]
    assert groups_of(["figures"], costs.get, 2) == [["figures"]]


def test_each_child_s_result_comes_back_in_order_with_the_slowest_progress():
    def task(seconds: float, result: int):
        def run(progress):
            for position in range(1, 4):
                progress(position, 3)
                time.sleep(seconds)
            return result

        return run

    seen: list[tuple[int, int]] = []
    pid = lambda progress: (progress(3, 3), os.getpid())[1]  # noqa: E731
    results = side_by_side([task(0.15, 10), task(0.01, 20), pid], lambda *now: seen.append(now))
    assert results[:2] == [10, 20]
    assert results[2] != os.getpid()  # each ran in a process of its own
    assert seen[-1] == (3, 3)
    assert seen[0][0] < 3  # the slow child's position, while the quick one had finished


def test_a_child_s_failure_is_raised_in_the_parent_and_the_others_are_stopped(tmp_path):
    marker = tmp_path / "finished"
    # As in a server whose loop has taken SIGTERM: the children must not inherit that.
    previous = signal.signal(signal.SIGTERM, lambda number, frame: None)

    def fails(progress):
        raise LookupError("no such view")

    def slow(progress):
        time.sleep(5)
        marker.write_text("finished")
        return 1

    started = time.perf_counter()
    try:
        with pytest.raises(LookupError, match="no such view") as raised:
            side_by_side([slow, fails], lambda position, last: None)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert time.perf_counter() - started < 4  # not waiting for the slow one
    assert any("In the rebuild process" in note for note in raised.value.__notes__)
    time.sleep(0.2)
    assert not marker.exists()


def test_a_child_that_dies_without_a_word_is_reported():
    def killed(progress):
        os.kill(os.getpid(), signal.SIGKILL)
        return 0

    with pytest.raises(RuntimeError, match="killed by signal 9"):
        side_by_side([killed, lambda progress: 1], lambda position, last: None)


class Particular(Exception):
    def __init__(self, what: str, where: str) -> None:  # pickles, but cannot be made again from its args
        super().__init__(f"{what} in {where}")


def test_an_exception_that_cannot_come_back_whole_comes_back_as_its_text():
    def fails(progress):
        raise Particular("no space", "the side file")

    with pytest.raises(RuntimeError, match="Particular: no space in the side file"):
        side_by_side([fails, lambda progress: 1], lambda position, last: None)


def test_a_child_signalled_before_it_has_its_own_handlers_never_returns_into_the_caller():
    """A parent whose SIGTERM raises KeyboardInterrupt (as `incidents project` sets it) stops a
    child the moment another fails: the child must end, never carry on as a copy of the caller."""
    me = os.getpid()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for _ in range(30):

            def killed(progress):
                os.kill(os.getpid(), signal.SIGKILL)
                return 0

            with pytest.raises(RuntimeError, match="killed by signal 9"):
                side_by_side([killed, lambda progress: time.sleep(5) or 1], lambda position, last: None)
            assert os.getpid() == me, "a child came back into the test"
    finally:
        signal.signal(signal.SIGTERM, previous)
