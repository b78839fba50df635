"""The projections process the app starts (child.py says how it is started, woken and stopped)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Callable

from incidents.application.checkpoint_timer import CheckpointSchedule
from incidents.bootstrap import open_log
from incidents.settings import Settings
from incidents.sqlite_subscription import SQLitePollingApplicationRecorder

from .child import HURRY, RUNNING, WAITING
from .locks import RebuildRefused
from .runner import ProjectionFailed, start_projections

logger = logging.getLogger("incidents.projections")


def read_parent(fd: int, wake: Callable[[], None], hurry: Callable[[], None], parent_gone: threading.Event) -> None:
    """The child's side of the pipe: WAKE wakes the subscription, HURRY makes it read at once."""
    try:
        while True:
            data = os.read(fd, 4096)
            if not data:
                break
            if HURRY in data:
                hurry()
            else:
                wake()
    except OSError:
        pass
    finally:
        parent_gone.set()


def main() -> int:
    # Ctrl-C in a terminal reaches the whole process group: the child stops when the app does
    # (its pipe closes), after the app has stopped taking requests, not before.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    opened = open_log(settings)
    recorder = opened.log.recorder
    # On PostgreSQL the store notifies the subscription itself; the pipe still says when to stop.
    sqlite = isinstance(recorder, SQLitePollingApplicationRecorder)
    wake = recorder.wake_readers if sqlite else lambda: None
    hurry = recorder.hurry_readers if sqlite else lambda: None
    parent_gone = threading.Event()
    projections = None

    def stop_when_parent_goes() -> None:
        parent_gone.wait()
        if projections is not None and projections.runner is not None:
            projections.runner.stop()

    threading.Thread(target=read_parent, args=(0, wake, hurry, parent_gone), name="parent-pipe", daemon=True).start()
    status = os.fdopen(int(sys.argv[1]), "w", buffering=1) if len(sys.argv) > 1 else None

    def say(state: str) -> None:
        if status is not None:
            try:
                status.write(state.replace("\n", " ") + "\n")
            except OSError:
                pass  # the app is gone: the pipe on stdin says so too

    try:
        said = ""
        while projections is None:
            try:
                # On SQLite the app rebuilds views of an older layout before it opens them; a
                # rebuild here would make new files that the app, reading the old ones, never sees.
                projections = start_projections(
                    opened.store, opened.env, CheckpointSchedule.from_settings(settings), rebuild_stale=not sqlite
                )
            except RebuildRefused as refused:
                if str(refused) != said:  # once for each reason, not every second
                    said = str(refused)
                    logger.warning("The projections wait: %s", refused)
                    say(WAITING + said)
                if parent_gone.wait(1.0):
                    return 0
        say(RUNNING)
        threading.Thread(target=stop_when_parent_goes, name="stop-with-parent", daemon=True).start()
        try:
            projections.run_forever()
        except ProjectionFailed as failed:
            logger.error("%s", failed)
            return 1
        return 0
    finally:
        if projections is not None:
            projections.stop()
        opened.log.close()


if __name__ == "__main__":
    sys.exit(main())
