"""The material as a disclosure shows it: what its redactions hide replaced by "[redacted: reason]".

The bundle's PDF, CSV and JSON are made from this; the events' leaves from the material as
recorded (selective.py), so a redacted field still counts, by its digest alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .material import EvidenceMaterial, IncidentRecord, Redaction, TimelineEvent


def _hide(text: str, spans: Sequence[Redaction]) -> str:
    for r in spans:
        text = text.replace(r.text, r.marker)
    return text


def _event(e: TimelineEvent, facts: dict[str, str], spans: Sequence[Redaction]) -> TimelineEvent:
    spans = [r for r in spans if r.sequence == e.sequence]
    if not spans and not facts:
        return e
    details = tuple((label, facts.get(label) or _hide(value, spans)) for label, value in e.details)
    c = e.correction
    if c is not None:
        marker = facts.get(c.field)
        c = replace(c, previous=marker or _hide(c.previous, spans), new=marker or _hide(c.new, spans), reason=_hide(c.reason, spans))
    return replace(e, details=details, note=_hide(e.note, spans), correction=c)


def _incident(i: IncidentRecord, redactions: Sequence[Redaction]) -> IncidentRecord:
    facts = {r.fact: r.marker for r in redactions if r.fact}
    spans = [r for r in redactions if r.text]
    return replace(
        i,
        facts=tuple((label, facts.get(label) or _hide(value, spans)) for label, value in i.facts),
        events=tuple(_event(e, facts, spans) for e in i.events),
    )


def as_shown(m: EvidenceMaterial) -> EvidenceMaterial:
    """The material with every redaction applied (the same object when there is none)."""
    if not m.redactions:
        return m
    by_incident: dict[str, list[Redaction]] = {}
    for r in m.redactions:
        by_incident.setdefault(r.incident_id, []).append(r)
    return replace(m, incidents=tuple(_incident(i, by_incident[i.incident_id]) if i.incident_id in by_incident else i for i in m.incidents))


def listed(m: EvidenceMaterial) -> list[dict[str, object]]:
    """The redactions as the manifest lists them: where and why, never the hidden text."""
    return [
        {"incident_id": r.incident_id, "fact": r.fact or None, "sequence": r.sequence, "reason": r.reason}
        for r in m.redactions
    ]
