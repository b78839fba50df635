"""An incident's history as people read it: what happened, when, and who recorded it.

Each entry keeps both times: when it happened (as staff said) and when it was recorded (the
event's own timestamp). A correction is its own entry showing the value it replaced, so the
original is never lost from view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import filming, recording
from ..domain.incident import Incident
from ..domain.values import format_nhs_number

CHOICES: dict[str, dict[str, str]] = {
    "area": filming.AREAS,
    "filmer": filming.FILMERS,
    "people_captured": filming.PEOPLE_CAPTURED,
    "children_present": filming.CHILDREN_PRESENT,
    "setting": recording.SETTINGS,
    "openness": recording.OPENNESS,
    "media": recording.MEDIA,
}
REPORTED_FIELDS: dict[str, list[str]] = {
    filming.FilmingIncident.KIND: ["area", "filmer", "people_captured", "children_present"],
    recording.RecordingEpisode.KIND: ["clinician", "setting", "openness", "media", "nhs_number"],
}


@dataclass(frozen=True)
class Correction:
    field: str
    label: str
    previous: str
    new: str
    reason: str


@dataclass(frozen=True)
class TimelineEntry:
    version: int
    name: str
    title: str
    recorded_at: datetime
    actor: str
    actor_name: str
    occurred_at: datetime | None = None
    details: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    correction: Correction | None = None


def show_value(kind_class: type[Incident], name: str, value: Any) -> str:
    if value in (None, ""):
        return "Not given"
    if name in CHOICES:
        return CHOICES[name].get(str(value), str(value))
    if name == "nhs_number":
        return format_nhs_number(str(value).replace(" ", ""))
    if name == "occurred_at":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return moment.astimezone(ZoneInfo("Europe/London")).strftime("%d %b %Y, %H:%M")
    return str(value)


def timeline(kind_class: type[Incident], events: list[Any]) -> list[TimelineEntry]:
    return [entry(kind_class, e) for e in events]


def entry(kind_class: type[Incident], e: Any) -> TimelineEntry:
    name = type(e).__name__
    common = dict(
        version=e.originator_version,
        name=name,
        recorded_at=e.timestamp,
        actor=getattr(e, "actor", ""),
        actor_name=getattr(e, "actor_name", ""),
    )
    if name == "Reported":
        details = [
            (kind_class.FIELDS[f].label, show_value(kind_class, f, getattr(e, f)))
            for f in REPORTED_FIELDS[kind_class.KIND]
        ]
        return TimelineEntry(
            title=kind_class.TITLE, occurred_at=e.occurred_at, details=details, note=e.note, **common
        )
    if name in kind_class.RESPONSES:
        spec = kind_class.RESPONSES[name]
        details = [(spec.reference_label or "Reference", e.reference)] if e.reference else []
        return TimelineEntry(title=spec.label, occurred_at=e.occurred_at, details=details, note=e.note, **common)
    if name == "NoteAdded":
        return TimelineEntry(title="Note added", note=e.text, **common)
    if name == "Corrected":
        spec = kind_class.FIELDS.get(e.field)
        label = spec.label if spec else e.field
        correction = Correction(
            e.field,
            label,
            show_value(kind_class, e.field, e.previous_value),
            show_value(kind_class, e.field, e.new_value),
            e.reason,
        )
        return TimelineEntry(title=f"Corrected: {label}", correction=correction, **common)
    if name == "Reviewed":
        return TimelineEntry(title="Reviewed by a manager", note=e.comment, **common)
    if name == "Closed":
        outcome = kind_class.OUTCOMES.get(e.outcome, e.outcome)
        return TimelineEntry(title="Closed", details=[("Outcome", outcome)], note=e.note, **common)
    if name == "Reopened":
        return TimelineEntry(title="Reopened", note=e.reason, **common)
    return TimelineEntry(title=name, **common)
