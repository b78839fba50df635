"""A disposal certificate (PDF, Typst, from disposal.typ): what was destroyed and on whose authority."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import typst

from .pdf import PDF_STANDARD, _fonts, uk_date, uk_time

TEMPLATE = Path(__file__).with_name("disposal.typ")


def certificate_data(practice: str, record_id: UUID, disposal: Any) -> dict[str, str]:
    d = disposal
    return {
        "practice": practice,
        "record_id": str(record_id),
        "ref": d.ref or str(record_id),
        "kind": d.kind,
        "began": uk_date(d.began_at.date()) if d.began_at else "Not recorded",
        "review_on": uk_date(d.review_on) if d.review_on else "None",
        "reason": d.decision.reason,
        "authorised_by": d.decision.authorised_by,
        "decided_by": d.decision.decided_by,
        "decided_at": uk_time(d.decision.decided_at),
        "disposed_by": d.disposed_by,
        "disposed_at": uk_time(d.disposed_at),
    }


def disposal_certificate(practice: str, record_id: UUID, disposal: Any) -> bytes:
    """The certificate as PDF/A-2b, or a plain PDF when a character has no font to draw it."""
    inputs = json.dumps(certificate_data(practice, record_id, disposal), ensure_ascii=False)
    made_at: datetime = disposal.disposed_at.replace(microsecond=0)
    try:
        pdf = typst.compile(str(TEMPLATE), font_paths=_fonts(), sys_inputs={"data": inputs}, pdf_standards=[PDF_STANDARD], timestamp=made_at)
    except typst.TypstError:
        pdf = typst.compile(str(TEMPLATE), font_paths=_fonts(), sys_inputs={"data": inputs}, timestamp=made_at)
    assert isinstance(pdf, bytes)
    return pdf
