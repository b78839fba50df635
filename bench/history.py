"""A realistic stored history for the benchmarks, written fast.

Incidents of both kinds, made by the domain's own methods (so the events are exactly what the
app stores), with the demo's paths of responses, notes, reviews, closes and the odd correction
and reopening, saved through the application's `save` many incidents at a time (so each event is
compressed and encrypted by the app's mapper and recorded in the one notification log).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from incidents.application.service import IncidentLog
from incidents.demo import CLINICIANS, FILMING_PATHS, NOTES_FILMING, NOTES_RECORDING, RECORDING_PATHS
from incidents.domain.acting import acting_as
from incidents.domain.filming import FilmingIncident
from incidents.domain.incident import Incident
from incidents.domain.recording import RecordingEpisode

PRACTICES = ("A81001", "B82002", "C83003", "D84004", "E85005")
ACTOR, ACTOR_NAME = "bench", "Bench Manager"


def one_incident(rng: random.Random, now: datetime, days_back: int) -> Incident:
    moment = (now - timedelta(days=rng.random() * days_back)).replace(microsecond=rng.randrange(1_000_000))
    practice = rng.choice(PRACTICES)
    key = uuid.uuid4().hex
    incident: Incident
    if rng.random() < 0.55:
        incident = FilmingIncident.report(
            practice=practice, submission_key=key, occurred_at=moment,
            area=rng.choice(["reception", "waiting_area", "entrance"]), filmer=rng.choice(["patient", "visitor", "unknown"]),
            people_captured=rng.choice(["staff", "staff_and_patients", "patients", "unknown"]),
            children_present=rng.choice(["no", "yes", "unknown"]), note=rng.choice(NOTES_FILMING),
        )
        path = rng.choice(FILMING_PATHS)
        outcome = "warning_letter" if "WarningLetterSent" in path else rng.choice(["resolved_at_desk", "no_further_action"])
    else:
        incident = RecordingEpisode.report(
            practice=practice, submission_key=key, occurred_at=moment, clinician=rng.choice(CLINICIANS),
            setting=rng.choice(["consulting_room", "telephone", "video", "home_visit"]),
            openness=rng.choice(["announced", "noticed_during", "discovered_later"]), media=rng.choice(["audio", "video", "unknown"]),
            nhs_number="", note=rng.choice(NOTES_RECORDING),
        )
        path = rng.choice(RECORDING_PATHS)
        outcome = "copy_added_to_record" if "CopyAddedToMedicalRecord" in path else "no_further_action"
    for step, response in enumerate(path, start=1):
        incident.respond(response, min(moment + timedelta(minutes=3 * step), now), uuid.uuid4().hex)
    if rng.random() < 0.4:
        incident.add_note("Spoke to the patient again; they were calm and apologetic.", uuid.uuid4().hex)
    if rng.random() < 0.05 and isinstance(incident, FilmingIncident) and incident.area != "reception":
        incident.correct("area", "reception", "The desk, not the waiting area")
    if rng.random() < 0.7:
        incident.review("Handled well.")
        if rng.random() < 0.8:
            incident.close(outcome, "")
            if rng.random() < 0.05:
                incident.reopen("The patient complained afterwards")
    return incident


def fill(log: IncidentLog, events: int, progress: Callable[[int], None] = lambda n: None, seed: int = 2026, days_back: int = 365) -> int:
    """Store at least `events` events; returns how many were stored."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc) - timedelta(hours=1)
    stored = 0
    while stored < events:
        batch = []
        pending = 0
        while pending < 2000 and stored + pending < events:
            with acting_as(ACTOR, ACTOR_NAME):
                incident = one_incident(rng, now, days_back)
            pending += len(incident.pending_events)
            batch.append(incident)
        log.save(*batch)
        stored += pending
        progress(stored)
    return stored
