"""The projections in a process of their own (another core than the app's requests), woken through its
stdin (WAKE, HURRY; its end means stop), saying on a second pipe whether it runs, restarted if it exits."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from incidents.settings import PREFIX, Settings

logger = logging.getLogger("incidents.projections")

CHILD_MODULE = "incidents.projections.running.child_process"
RUNNING = "running"  # what the child says on its status pipe
WAITING = "waiting: "
WAKE = b"\n"  # the store has new events
HURRY = b"!"  # and someone is waiting for the views to have them
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 60.0
STOP_SECONDS = 20.0


class ProjectionsChild:
    """The app's side: starts the child, wakes it, starts it again if it fails, stops it."""

    def __init__(self, settings: Settings) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
        self.env = {**env, **settings.to_env()}
        self.process: subprocess.Popen[bytes] | None = None
        self.state = "starting"  # what the child last said: "starting", "running", "waiting: <why>"
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._started = 0.0

    def start(self) -> ProjectionsChild:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="incidents-projections-child", daemon=True)
        self._watcher.start()
        return self

    def _spawn(self) -> None:
        with self._lock:  # never after stop() has begun
            if self._stopping.is_set():
                return
            status_read, status_write = os.pipe()
            try:
                process = subprocess.Popen(
                    [sys.executable, "-m", CHILD_MODULE, str(status_write)],
                    stdin=subprocess.PIPE, env=self.env, pass_fds=(status_write,),
                )
            except BaseException:
                os.close(status_read)
                raise
            finally:
                os.close(status_write)
            assert process.stdin is not None
            os.set_blocking(process.stdin.fileno(), False)
            self.process = process
            self.state = "starting"
            self._started = time.monotonic()
            threading.Thread(target=self._hear, args=(process, status_read), name="projections-child-status", daemon=True).start()

    def _hear(self, process: subprocess.Popen[bytes], status_read: int) -> None:
        """Keep what the child says of itself, one line at a time, until it exits."""
        with os.fdopen(status_read, "rb") as status:
            for line in status:
                if self.process is process:
                    self.state = line.decode(errors="replace").strip()

    def _watch(self) -> None:
        pause = FIRST_PAUSE_SECONDS
        while not self._stopping.is_set():
            process = self.process
            code = process.wait() if process is not None else None
            if self._stopping.is_set():
                return
            if time.monotonic() - self._started >= LONGEST_PAUSE_SECONDS:
                pause = FIRST_PAUSE_SECONDS  # it had been running well: not a failure that repeats at once
            logger.error("The projections process stopped (exit code %s); starting it again in %.0f s", code, pause)
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
            try:
                self._spawn()
            except OSError:
                logger.exception("Could not start the projections process")
                with self._lock:
                    self.process = None

    @property
    def running(self) -> bool:
        """The child is alive and writing the views (not starting, nor waiting for the lock)."""
        process = self.process
        return process is not None and process.poll() is None and self.state == RUNNING

    @property
    def waiting(self) -> str:
        """Why a live child is not running its projections yet ("" when it is, or has died)."""
        process = self.process
        alive = process is not None and process.poll() is None
        return self.state.removeprefix(WAITING) if alive and self.state.startswith(WAITING) else ""

    def wake(self) -> None:
        """Called after each write to the store: one byte tells the child to read (never blocks)."""
        self._send(WAKE)

    def hurry(self) -> None:
        """Called by a page waiting for the views: the child reads now, not at its next interval."""
        self._send(HURRY)

    def _send(self, byte: bytes) -> None:
        process = self.process
        if process is None or process.stdin is None:
            return
        try:
            os.write(process.stdin.fileno(), byte)
        except (BlockingIOError, BrokenPipeError, ValueError, OSError):
            pass  # the pipe is full (the child has a wake-up waiting already) or the child is gone

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None:
            return
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
