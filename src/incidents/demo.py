"""Realistic sample data: a few months of both kinds of incident, with what staff did."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from .application import commands as c
from .application.service import Actor, IncidentLog

NOTES_FILMING = [
    "Filmed the queue at reception on a phone after being told there were no appointments.",
    "Held phone up towards the desk while arguing about a prescription.",
    "Teenager filming friends in the waiting area; other patients in shot.",
    "Said they were recording 'for social media' after a long wait.",
    "",
]
NOTES_RECORDING = [
    "Patient said at the start that they would record on their phone to help them remember.",
    "Clinician noticed a phone recording on the desk part way through.",
    "Patient mentioned in a complaint letter that they had recorded the consultation.",
    "",
]
CLINICIANS = ["Dr Shah", "Dr O'Neill", "Nurse Zoë Adams", "Dr Łukasz Nowak", "Pharmacist Li Lei", "Dr Muhammad Rahman"]
NHS_NUMBERS = ["9434765919", "9434765870", "9434765862", ""]
FILMING_PATHS = [
    ["PolicyExplained", "AskedToStop", "Stopped"],
    ["NoticePointedOut", "AskedToStop", "RefusedToStop", "ManagerAttended", "LeftPremises"],
    ["PolicyExplained", "AskedToStop", "Stopped", "AskedToDeleteFootage"],
    ["AskedToStop", "RefusedToStop", "ManagerAttended", "PoliceCalled", "WarningLetterSent"],
]
RECORDING_PATHS = [
    ["AskedToRecordOpenly", "CopyRequested", "CopyReceived", "CopyAddedToMedicalRecord"],
    ["CopyRequested", "PatientDeclinedToShare"],
    ["AskedToRecordOpenly"],
    ["FoundPublishedOnline", "DefenceOrganisationConsulted"],
]


@dataclass(frozen=True)
class DemoPlan:
    months: int = 6
    per_week: int = 3
    seed: int = 2026


def incident_times(plan: DemoPlan, now: datetime) -> list[datetime]:
    rng = random.Random(plan.seed)
    weeks = plan.months * 52 // 12
    times = []
    for week in range(weeks):
        for _ in range(rng.randint(max(plan.per_week - 2, 0), plan.per_week + 2)):
            moment = now - timedelta(weeks=week, days=rng.random() * 7)
            moment = moment.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=0, microsecond=0)
            times.append(min(moment, now - timedelta(minutes=30)))
    return sorted(times)


def load_demo(log: IncidentLog, reception: Actor, manager: Actor, plan: DemoPlan, advance: Callable[[], None]) -> int:
    """Log the plan's incidents with their responses; returns how many were created."""
    rng = random.Random(plan.seed)
    now = datetime.now(timezone.utc)
    count = 0
    for moment in incident_times(plan, now):
        if rng.random() < 0.55:
            saved = log.report_filming(
                c.ReportFilming(
                    submission_key=uuid.uuid4().hex,
                    occurred_at=moment,
                    area=rng.choice(["reception", "waiting_area", "waiting_area", "entrance"]),
                    filmer=rng.choice(["patient", "patient", "visitor", "unknown"]),
                    people_captured=rng.choice(["staff", "staff_and_patients", "patients", "unknown"]),
                    children_present=rng.choice(["no", "no", "yes", "unknown"]),
                    note=rng.choice(NOTES_FILMING),
                ),
                reception,
            )
            path = rng.choice(FILMING_PATHS)
            outcome = "warning_letter" if "WarningLetterSent" in path else rng.choice(["resolved_at_desk", "no_further_action"])
        else:
            saved = log.report_recording(
                c.ReportRecording(
                    submission_key=uuid.uuid4().hex,
                    occurred_at=moment,
                    clinician=rng.choice(CLINICIANS),
                    setting=rng.choice(["consulting_room", "consulting_room", "telephone", "video", "home_visit"]),
                    openness=rng.choice(["announced", "noticed_during", "discovered_later"]),
                    media=rng.choice(["audio", "audio", "video", "unknown"]),
                    nhs_number=rng.choice(NHS_NUMBERS),
                    note=rng.choice(NOTES_RECORDING),
                ),
                reception,
            )
            path = rng.choice(RECORDING_PATHS)
            outcome = "copy_added_to_record" if "CopyAddedToMedicalRecord" in path else "no_further_action"
        for step, response in enumerate(path, start=1):
            log.respond(
                c.RecordResponse(
                    incident_id=saved.id,
                    submission_key=uuid.uuid4().hex,
                    response=response,
                    occurred_at=min(moment + timedelta(minutes=3 * step), now),
                ),
                reception,
            )
        age = now - moment
        if age > timedelta(days=3):
            log.review_incident(c.ReviewIncident(incident_id=saved.id, comment="Handled well."), manager)
        if age > timedelta(days=14) and rng.random() < 0.8:
            log.close_incident(c.CloseIncident(incident_id=saved.id, outcome=outcome), manager)
        count += 1
        advance()
    return count


def planned_count(plan: DemoPlan) -> int:
    return len(incident_times(plan, datetime.now(timezone.utc)))


