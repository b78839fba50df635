"""Groups of views of about equal cost, each rebuilt by a forked child (that opens its own connections)."""

from __future__ import annotations

import os
import pickle
import select
import signal
import traceback
from multiprocessing.sharedctypes import RawArray
from typing import Any, Callable, Sequence, TypeVar

Progress = Callable[[int, int], None]
Spec = TypeVar("Spec")
POLL_SECONDS = 0.1
STOPPING_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def groups_of(specs: Sequence[Spec], cost: Callable[[Spec], int], workers: int) -> list[list[Spec]]:
    """At most `workers` groups of about equal total cost, each keeping the specs' order."""
    groups: list[list[Spec]] = [[] for _ in range(max(1, min(workers, len(specs))))]
    totals = [0] * len(groups)
    for spec in sorted(specs, key=cost, reverse=True):
        cheapest = totals.index(min(totals))
        groups[cheapest].append(spec)
        totals[cheapest] += cost(spec)
    order = {id(spec): i for i, spec in enumerate(specs)}
    return [sorted(group, key=lambda spec: order[id(spec)]) for group in groups if group]


def workers_here() -> int:
    """How many processes a rebuild may use: one per core, where processes can be forked."""
    if not hasattr(os, "fork"):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def side_by_side(tasks: Sequence[Callable[[Progress], int]], progress: Progress) -> list[int]:
    """What each task returned, run in a forked child each (the only one here), reporting the slowest's progress."""
    if len(tasks) == 1:
        return [tasks[0](progress)]
    shared = RawArray("q", 2 * len(tasks))  # each child's position and last
    children: list[tuple[int, int]] = []  # (pid, read end of its result pipe)
    finished: set[int] = set()  # pids whose result has come back whole
    try:
        for index, task in enumerate(tasks):
            read, write = os.pipe()
            # SIGTERM and SIGINT wait until the child has its own handlers: one sent by the
            # parent's clean-up at once must not run the parent's handler in the child.
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING_SIGNALS)
            pid = os.fork()
            if pid == 0:  # the child: whatever happens, it leaves here, never back into the caller
                try:
                    os.close(read)
                    _own_signals()
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                    _run_child(task, index, shared, write)
                finally:
                    os._exit(1)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os.close(write)
            children.append((pid, read))
        return _gather(children, shared, progress, finished)
    finally:
        for pid, read in children:
            if pid not in finished:  # the rebuild failed elsewhere: this child's work is not wanted
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:  # it has ended already
                    pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # already waited for (it ended without a word)
                pass
            os.close(read)


def _run_child(task: Callable[[Progress], int], index: int, shared: Any, write: int) -> None:
    code = 0
    try:

        def report(position: int, last: int) -> None:
            shared[2 * index], shared[2 * index + 1] = position, last

        outcome: tuple[Any, ...] = ("ok", task(report))
    except BaseException as error:  # everything goes back to the parent, which raises it
        code = 1
        outcome = ("error", error, traceback.format_exc())
    try:
        try:
            data = pickle.dumps(outcome)
            pickle.loads(data)  # some exceptions pickle but cannot be made again from what they keep
        except Exception:  # then its text goes back instead
            data = pickle.dumps(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}"), outcome[2]))
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
    finally:
        os._exit(code)


def _own_signals() -> None:
    """The default SIGTERM and SIGINT: a server's event loop that took them in the parent does not run here."""
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:  # not the main thread: nothing was set for it
        pass
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)


def _gather(children: list[tuple[int, int]], shared: Any, progress: Progress, finished: set[int]) -> list[int]:
    """Each child's result, in order, as the children finish; the first failure is raised at once."""
    pids = {read: pid for pid, read in children}
    received = {read: bytearray() for _, read in children}
    results: dict[int, int] = {}
    reported = None
    while len(results) < len(children):
        ready, _, _ = select.select([r for r in received if pids[r] not in finished], [], [], POLL_SECONDS)
        for read in ready:
            chunk = os.read(read, 1 << 16)
            if chunk:
                received[read] += chunk
                continue
            finished.add(pids[read])
            results[read] = _outcome(pids[read], bytes(received[read]))
        now = (min(shared[0::2]), max(shared[1::2]))
        if now != reported and now[1]:
            progress(*now)
            reported = now
    return [results[read] for _, read in children]


def _outcome(pid: int, data: bytes) -> int:
    if not data:
        _, status = os.waitpid(pid, 0)
        how = f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
        raise RuntimeError(f"A rebuild process ended without a word ({how})")
    outcome = pickle.loads(data)
    if outcome[0] == "error":
        error: BaseException = outcome[1]
        error.add_note("In the rebuild process:\n" + outcome[2])
        raise error
    return int(outcome[1])

