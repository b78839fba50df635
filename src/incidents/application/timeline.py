"""An incident's history as people read it: what happened, when, and who recorded it.

Each entry keeps both times: when it happened (as staff said) and when it was recorded (the
event's own timestamp). A correction is its own entry showing the value it replaced, so the
original is never lost from view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.incident import Incident


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
        # A fact asked only since some reports were made, or only under another answer, is shown when given.
        details = [
            (f.label, f.show(getattr(e, f.name, None)))
            for f in kind_class.FACTS
            if f.entry != "time" and not (f.added_later and getattr(e, f.name, "") in ("", None))
        ]
        if getattr(e, "ref", ""):
            details.append(("Our reference", e.ref))
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
        fact = kind_class.fact(e.field)
        label = fact.label if fact else e.field
        show = fact.show if fact else str
        correction = Correction(e.field, label, show(e.previous_value), show(e.new_value), e.reason)
        return TimelineEntry(title=f"Corrected: {label}", correction=correction, **common)
    if name == "Reviewed":
        return TimelineEntry(title="Reviewed by a manager", note=e.comment, **common)
    if name == "Closed":
        outcome = kind_class.OUTCOMES.get(e.outcome, e.outcome)
        return TimelineEntry(title="Closed", details=[("Outcome", outcome)], note=e.note, **common)
    if name == "Referenced":
        return TimelineEntry(title="Given its short reference", details=[("Our reference", e.ref)], **common)
    if name == "Reopened":
        return TimelineEntry(title="Reopened", note=e.reason, **common)
    return TimelineEntry(title=name, **common)
