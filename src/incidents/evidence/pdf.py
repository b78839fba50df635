"""timeline.pdf: the material typeset by Typst as PDF/A-2b from timeline.typ and JSON data.

The data goes in as one JSON string through `sys.inputs`, and the template places every value
as text. If a character has no glyph in any installed font, PDF/A refuses it; the export then
still succeeds as a plain PDF, with a warning saying so (events.json and timeline.csv keep the
exact text either way).
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typst

from .custody_table import custody_rows
from .material import EvidenceMaterial, Person

TEMPLATE = Path(__file__).with_name("timeline.typ")
UK = ZoneInfo("Europe/London")
PDF_STANDARD = "a-2b"


@dataclass(frozen=True)
class Seal:
    """What the PDF prints about the bundle it belongs to."""

    merkle_root: str
    fingerprint: str
    events_sha256: str


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pdf_a: bool
    warnings: list[str] = field(default_factory=list)


def uk_time(moment: datetime, seconds: bool = False) -> str:
    local = moment.astimezone(UK)
    return local.strftime("%d %b %Y, %H:%M:%S %Z" if seconds else "%d %b %Y, %H:%M %Z")


def uk_date(day: date) -> str:
    return day.strftime("%d %b %Y")


def who(p: Person) -> str:
    return f"{p.display_name} ({p.username})"


def custody_when(first: datetime, last: datetime) -> tuple[str, str]:
    """The day, and the time or the first and last times of a row's views (the last with its own
    day when it falls on another)."""
    a, b = first.astimezone(UK), last.astimezone(UK)
    if a == b:
        return uk_date(a.date()), a.strftime("%H:%M:%S %Z")
    end = b.strftime("%H:%M:%S %Z") if a.date() == b.date() else uk_time(last, seconds=True)
    return uk_date(a.date()), f"{a:%H:%M:%S}–{end}"


def _group(hex_digits: str) -> str:
    return " ".join(hex_digits[i : i + 4] for i in range(0, len(hex_digits), 4))


def typeset_data(m: EvidenceMaterial, seal: Seal) -> dict[str, Any]:
    """The template's input: every value already a display string."""
    r = m.request
    incidents = []
    for i in m.incidents:
        corrected_by: dict[int, list[dict[str, str]]] = {}
        for e in i.events:
            c = e.correction
            if c is not None and c.corrects_sequence is not None:
                corrected_by.setdefault(c.corrects_sequence, []).append(
                    {"sequence": str(e.sequence), "recorded": uk_time(e.recorded_at), "who": e.who.display_name,
                     "field": c.field, "previous": c.previous, "new": c.new}
                )  # fmt: skip
        events = []
        for e in i.events:
            c = e.correction
            events.append({
                "sequence": e.sequence,
                "title": e.title,
                "happened": uk_time(e.occurred_at) if e.occurred_at else "",
                "recorded": uk_time(e.recorded_at, seconds=True),
                "who": who(e.who),
                "details": [list(d) for d in e.details],
                "note": e.note,
                "correction": None if c is None else {
                    "field": c.field, "previous": c.previous, "new": c.new, "reason": c.reason,
                    "corrects": None if c.corrects_sequence is None else str(c.corrects_sequence),
                },
                "corrected_by": corrected_by.get(e.sequence, []),
            })  # fmt: skip
        incidents.append({
            "id": i.incident_id,
            "ref": i.ref,
            "kind": i.kind,
            "facts": [list(f) for f in i.facts],
            "notices": [{"channel": n.channel, "from": uk_date(n.in_service_from), "wording": n.wording} for n in i.notices_in_force],
            "events": events,
        })  # fmt: skip
    return {
        "practice": {"code": m.practice.code, "name": m.practice.name},
        "request": {
            "id": r.request_id, "label": r.label, "requester_type": r.requester_type, "reference": r.reference,
            "received": uk_date(r.received), "due": uk_date(r.due), "due_rule": r.due_rule,
            "extensions": list(r.extensions), "legal_basis": r.legal_basis, "decided_by": who(r.decided_by),
        },  # fmt: skip
        "exported_at": uk_time(m.exported_at, seconds=True),
        "exported_by": who(m.exported_by),
        "scope": ", ".join(i.incident_id for i in m.incidents),
        "event_count": m.event_count,
        "custody": [
            {"at": custody_when(row.first.at, row.last.at), "who": who(row.first.who), "action": row.first.action,
             "count": str(row.count), "request": row.first.request_label or row.first.request_id}
            for row in custody_rows(m.custody)
        ],
        "custody_entries": len(m.custody),
        "incidents": incidents,
        "redactions": [
            f"{r.reason}: " + (f"the fact “{r.fact}” of incident {r.incident_id}" if r.fact else f"words in entry #{r.sequence} of incident {r.incident_id}")
            for r in m.redactions
        ],
        "merkle_root": _group(seal.merkle_root),
        "merkle_root_short": seal.merkle_root[:16],
        "fingerprint": seal.fingerprint,
        "fingerprint_short": seal.fingerprint.replace(" ", "")[:16],
        "events_sha256": _group(seal.events_sha256),
    }


@cache
def _fonts() -> typst.Fonts:
    # Scanning the system's fonts takes a good part of a second: once per process.
    return typst.Fonts(include_system_fonts=True, include_embedded_fonts=True)


class PdfNotMade(Exception):
    """Typst could not typeset the timeline; the message is Typst's."""


def compile_pdf(inputs: str, made_at: datetime, pdf_a: bool = True) -> bytes:
    """The bare Typst compile of the template over a JSON string, in this process."""
    result = typst.compile(
        str(TEMPLATE),
        font_paths=_fonts(),
        sys_inputs={"data": inputs},
        pdf_standards=[PDF_STANDARD] if pdf_a else [],
        timestamp=made_at,
    )
    assert isinstance(result, bytes)
    return result


class _Worker:
    """A `pdf_worker` process: it says "ready" once it has scanned the fonts, then compiles once."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "incidents.evidence.pdf_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.ready = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        if not self.ready:
            assert self.process.stdout is not None
            self.ready = self.process.stdout.readline() == b"ready\n"

    def compile(self, request: bytes) -> tuple[bytes, bytes]:
        self.wait_ready()
        return self.process.communicate(request)


_spare: _Worker | None = None
_spare_lock = threading.Lock()


def warm_up(wait: bool = False) -> None:
    """Start a worker now (it scans the fonts), so that the next export need not wait for it."""
    global _spare
    with _spare_lock:
        if _spare is None or not _spare.alive():
            _spare = _Worker()
        if wait:
            _spare.wait_ready()


@atexit.register
def _let_the_spare_go() -> None:
    with _spare_lock:
        if _spare is not None and _spare.alive():
            _spare.process.communicate(b"")  # end of input: it exits without compiling


def _take_worker() -> _Worker:
    global _spare
    with _spare_lock:
        worker, _spare = _spare, None
    if worker is None or not worker.alive():
        worker = _Worker()
    return worker


def _compile(inputs: str, made_at: datetime, pdf_a: bool) -> tuple[bytes | None, str]:
    """A compile in a worker process: (the PDF, "") or (None, Typst's error)."""
    worker = _take_worker()
    request = json.dumps({"inputs": inputs, "made_at": made_at.isoformat(), "pdf_a": pdf_a}).encode()
    out, err = worker.compile(request)
    warm_up()  # the next worker scans the fonts while this export finishes
    status, _, pdf = out.partition(b"\n")
    try:
        answer = json.loads(status)
    except ValueError:
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {worker.process.returncode}"]
        raise PdfNotMade(f"The process typesetting the PDF failed: {detail[0]}") from None
    return (pdf, "") if answer["ok"] else (None, answer["error"])


def render_pdf(m: EvidenceMaterial, seal: Seal) -> RenderedPdf:
    inputs = json.dumps(typeset_data(m, seal), ensure_ascii=False)
    pdf, error = _compile(inputs, m.exported_at, pdf_a=True)
    if pdf is not None:
        return RenderedPdf(pdf, pdf_a=True)
    if "could not be displayed" not in error:
        raise PdfNotMade(f"Typst could not typeset the timeline: {error}")
    warning = (
        f"timeline.pdf is a plain PDF, not PDF/A-2b: {error}. No installed font can draw "
        "that text, so the PDF shows a placeholder; events.json carries the exact text."
    )
    pdf, error = _compile(inputs, m.exported_at, pdf_a=False)
    if pdf is None:
        raise PdfNotMade(f"Typst could not typeset the timeline: {error}")
    return RenderedPdf(pdf, pdf_a=False, warnings=[warning])
