"""Valid report commands to start from: each fills every field a report needs, so that a test
names only the values it is about."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from incidents.application import commands as c

FILMING = dict(area="waiting_area", filmer="patient", people_captured="staff_and_patients", children_present="no", note="Filming the queue")
RECORDING = dict(clinician="Dr Patel", setting="consulting_room", openness="announced", media="audio", nhs_number="943 476 5919")


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def new_key() -> str:
    return uuid.uuid4().hex


def filming(key: str | None = None, **overrides) -> c.ReportFilming:
    return c.ReportFilming(**{"submission_key": key or new_key(), "occurred_at": minutes_ago(20), **FILMING, **overrides})


def recording(key: str | None = None, **overrides) -> c.ReportRecording:
    return c.ReportRecording(**{"submission_key": key or new_key(), "occurred_at": minutes_ago(20), **RECORDING, **overrides})


def report_filming(log, actor, **overrides) -> uuid.UUID:
    """A filming incident reported through the application; its id."""
    return log.report_filming(filming(**overrides), actor).id
