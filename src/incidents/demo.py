"""Realistic sample data: a few months of both kinds of incident, with what staff did."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from .application import commands as c
from .application.service import Actor, IncidentLog
from .domain.acting import recorded_as_of
from .domain.values import UK

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
VISITORS = ["Man in a grey hoodie", "Partner of a patient", "Delivery driver", ""]
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


# Responses done days after the incident (letters, copies, advice), not at the desk there and then.
LATER_RESPONSES = {"WarningLetterSent", "CopyReceived", "CopyAddedToMedicalRecord", "DefenceOrganisationConsulted", "PatientDeclinedToShare"}


def working_hours(moment: datetime) -> datetime:
    """The moment, or the next weekday morning when it falls outside the practice's hours (UK)."""
    local = moment.astimezone(UK)
    if local.hour >= 18:
        local = (local + timedelta(days=1)).replace(hour=8, minute=30)
    elif local.hour < 8:
        local = local.replace(hour=8, minute=30)
    while local.weekday() >= 5:
        local = (local + timedelta(days=1)).replace(hour=8, minute=30)
    return local.astimezone(timezone.utc)


def load_demo(log: IncidentLog, reception: Actor, manager: Actor, plan: DemoPlan, advance: Callable[[], None]) -> int:
    """Log the plan's incidents with their responses, reviews and closes, each recorded when it
    would have been (minutes to days after what it records), in the order they were recorded;
    what would happen after now is left undone, so recent incidents stay open. Returns how many
    incidents were created."""
    rng = random.Random(plan.seed)
    now = datetime.now(timezone.utc)
    latest = now - timedelta(minutes=1)
    ids: dict[int, uuid.UUID] = {}
    steps: list[tuple[datetime, int, Callable[[], object]]] = []  # (recorded at, order made, step)

    def then(at: datetime, step: Callable[[], object]) -> None:
        if at <= latest:
            steps.append((at, len(steps), step))

    for number, moment in enumerate(incident_times(plan, now)):
        reported = min(moment + timedelta(minutes=rng.randint(5, 90)), latest)
        if rng.random() < 0.55:
            area = rng.choice(["reception", "waiting_area", "waiting_area", "entrance"])
            filmer = rng.choice(["patient", "patient", "visitor", "unknown"])
            report: c.Report = c.ReportFilming(
                submission_key=uuid.uuid4().hex,
                occurred_at=moment,
                area=area,
                filmer=filmer,
                # Who filmed, by the incident's number (not the generator, so the rest of the data stays as it was).
                filmer_nhs_number=NHS_NUMBERS[number % len(NHS_NUMBERS)] if filmer == "patient" else "",
                filmer_description=VISITORS[number % len(VISITORS)] if filmer == "visitor" else "",
                people_captured=rng.choice(["staff", "staff_and_patients", "patients", "unknown"]),
                children_present=rng.choice(["no", "no", "yes", "unknown"]),
                note=rng.choice(NOTES_FILMING),
            )
            path = rng.choice(FILMING_PATHS)
            outcome = "warning_letter" if "WarningLetterSent" in path else rng.choice(["resolved_at_desk", "no_further_action"])
        else:
            report = c.ReportRecording(
                submission_key=uuid.uuid4().hex,
                occurred_at=moment,
                clinician=rng.choice(CLINICIANS),
                setting=rng.choice(["consulting_room", "consulting_room", "telephone", "video", "home_visit"]),
                openness=rng.choice(["announced", "noticed_during", "discovered_later"]),
                media=rng.choice(["audio", "audio", "video", "unknown"]),
                nhs_number=rng.choice(NHS_NUMBERS),
                note=rng.choice(NOTES_RECORDING),
            )
            path = rng.choice(RECORDING_PATHS)
            outcome = "copy_added_to_record" if "CopyAddedToMedicalRecord" in path else "no_further_action"

        def reported_step(number: int = number, report: c.Report = report) -> None:
            ids[number] = log.report(report, reception).id
            advance()

        then(reported, reported_step)
        done, last = moment, reported
        for step, response in enumerate(path, start=1):
            if response in LATER_RESPONSES:
                done = working_hours(done + timedelta(days=rng.randint(1, 9), hours=rng.random() * 4))
                last = done + timedelta(minutes=rng.randint(10, 240))
            else:
                done = done + timedelta(minutes=rng.randint(1, 5))
                last = max(last, reported) + timedelta(minutes=1)

            def responded(number: int = number, response: str = response, done: datetime = done) -> None:
                log.respond(c.RecordResponse(incident_id=ids[number], submission_key=uuid.uuid4().hex, response=response, occurred_at=done), reception)

            then(last, responded)
        reviewed = working_hours(last + timedelta(days=rng.randint(1, 5), hours=rng.random() * 6))
        then(reviewed, lambda number=number: log.review_incident(c.ReviewIncident(incident_id=ids[number], comment="Handled well."), manager))
        if rng.random() < 0.8:
            closed = working_hours(reviewed + timedelta(days=rng.choice([0, 1, 3, 6, 10, 20, 35]), hours=rng.random() * 8))
            then(closed, lambda number=number, outcome=outcome: log.close_incident(c.CloseIncident(incident_id=ids[number], outcome=outcome), manager))

    for at, _, step in sorted(steps, key=lambda s: s[:2]):
        with recorded_as_of(at):
            step()
    return len(ids)


def planned_count(plan: DemoPlan) -> int:
    return len(incident_times(plan, datetime.now(timezone.utc)))


