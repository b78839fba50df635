"""Signs a checkpoint of the event store every INCIDENTS_CHECKPOINT_SECONDS, in the process that
runs the projections, and once more when it stops.

That process holds the projections lock (a file lock on SQLite, a lease on PostgreSQL),
so exactly one process records checkpoints on a timer; `incidents checkpoint` may still record
one by hand meanwhile (two writers cannot fork the chain: see application/checkpoints.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from incidents.application.checkpoints import CheckpointChainBroken
from incidents.application.service import IncidentLog
from incidents.evidence.checkpoint_head import head_file, remember
from incidents.application.signing_key import deployment_key
from incidents.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointSchedule:
    settings: Settings
    seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckpointSchedule | None:
        """None when INCIDENTS_CHECKPOINT_SECONDS is 0 (no checkpoints on a timer)."""
        if not settings.checkpoint_seconds:
            return None
        return cls(settings, settings.checkpoint_seconds)

    @property
    def key_file(self) -> Path:
        return self.settings.effective_signing_key_file


class CheckpointTimer:
    def __init__(self, schedule: CheckpointSchedule, app_env: dict[str, str]) -> None:
        self.schedule = schedule
        self.log = IncidentLog(env=app_env)
        try:
            self.key = deployment_key(self.log, schedule.settings)  # the deployment's, kept in the store
        except BaseException:
            self.log.close()
            raise
        self._stopping = threading.Event()
        self._last_complaint = ""
        self._thread = threading.Thread(target=self._run, name="store-checkpoints", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.schedule.seconds):
            self.record()

    def record(self) -> None:
        try:
            recorded = self.log.record_checkpoint(self.key)
            remember(head_file(self.schedule.key_file), recorded)
            for checkpoint in recorded:
                logger.info("Signed store checkpoint %d: events #%d-#%d", checkpoint.number, checkpoint.after + 1, checkpoint.last)
        except CheckpointChainBroken as error:
            if str(error) != self._last_complaint:  # said once, not every interval
                logger.error("%s", error)
                self._last_complaint = str(error)
        except Exception:  # a database that is down now may be back at the next interval
            logger.exception("Could not sign a store checkpoint")

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)
        try:
            self.record()  # a clean stop leaves every event covered
        finally:
            self.log.close()
