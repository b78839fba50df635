"""The bundle's machine-readable forms of the material: events.json's document and timeline.csv.

Both carry the exact text as typed. Times are ISO 8601 in UTC; dates are ISO 8601.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from .material import Correction, CustodyEntry, EvidenceMaterial, NoticeInForce, Person, TimelineEvent

FORMAT = "incidents-evidence-bundle/2"


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def person(p: Person) -> dict[str, str]:
    return {"username": p.username, "display_name": p.display_name}


def correction(c: Correction | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"field": c.field, "previous": c.previous, "new": c.new, "reason": c.reason, "corrects_sequence": c.corrects_sequence}


def event(incident_id: str, e: TimelineEvent) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "sequence": e.sequence,
        "event_type": e.event_type,
        "title": e.title,
        "who": person(e.who),
        "occurred_at": iso_time(e.occurred_at) if e.occurred_at else None,
        "recorded_at": iso_time(e.recorded_at),
        "details": [{"label": label, "value": value} for label, value in e.details],
        "note": e.note,
        "correction": correction(e.correction),
    }


def notice(n: NoticeInForce) -> dict[str, str]:
    return {"channel": n.channel, "wording": n.wording, "in_service_from": n.in_service_from.isoformat()}


def custody(c: CustodyEntry) -> dict[str, Any]:
    return {"who": person(c.who), "at": iso_time(c.at), "action": c.action, "request_id": c.request_id}


def request(m: EvidenceMaterial) -> dict[str, Any]:
    r = m.request
    return {
        "id": r.request_id,
        "label": r.label,
        "requester_type": r.requester_type,
        "reference": r.reference,
        "received": _date(r.received),
        "due": _date(r.due),
        "due_rule": r.due_rule,
        "extensions": list(r.extensions),
        "legal_basis": r.legal_basis,
        "decided_by": person(r.decided_by),
    }


def _date(d: date) -> str:
    return d.isoformat()


def events_document(m: EvidenceMaterial) -> dict[str, Any]:
    """events.json: the request, the incidents' facts and notices, every event in order, custody."""
    return {
        "format": FORMAT,
        "practice": {"code": m.practice.code, "name": m.practice.name},
        "request": request(m),
        "exported_at": iso_time(m.exported_at),
        "exported_by": person(m.exported_by),
        "incidents": [
            {
                "id": i.incident_id,
                "kind": i.kind,
                "facts": [{"label": label, "value": value} for label, value in i.facts],
                "notices_in_force": [notice(n) for n in i.notices_in_force],
                "event_count": len(i.events),
            }
            for i in m.incidents
        ],
        "events": [event(i.incident_id, e) for i in m.incidents for e in i.events],
        "custody": [custody(c) for c in m.custody],
    }


CSV_COLUMNS = [
    "incident_id", "sequence", "event_type", "title", "occurred_at", "recorded_at", "who_username",
    "who_display_name", "details", "note", "corrected_field", "previous_value", "new_value",
    "correction_reason", "corrects_sequence",
]  # fmt: skip


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text_cell(value: Any) -> Any:
    """Text typed by staff, made safe to open in a spreadsheet: a cell that would start a formula
    starts with an apostrophe instead, so it is shown as the text it is (events.json keeps the
    exact text, and VERIFY.txt says so)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def timeline_csv(events: list[dict[str, Any]]) -> bytes:
    """One row per event, UTF-8 with a byte-order mark so that spreadsheets read names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in events:
        c = e["correction"] or {}
        writer.writerow(map(as_text_cell, [
            e["incident_id"], e["sequence"], e["event_type"], e["title"], e["occurred_at"] or "", e["recorded_at"],
            e["who"]["username"], e["who"]["display_name"],
            "; ".join(f"{d['label']}: {d['value']}" for d in e["details"]), e["note"],
            c.get("field", ""), c.get("previous", ""), c.get("new", ""), c.get("reason", ""),
            "" if c.get("corrects_sequence") is None else c["corrects_sequence"],
        ]))  # fmt: skip
    return out.getvalue().encode("utf-8-sig")
