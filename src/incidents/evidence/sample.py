"""Sample material for tests, benchmarks and trying the export: names in several scripts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from .material import (
    Correction,
    CustodyEntry,
    EvidenceMaterial,
    IncidentRecord,
    NoticeInForce,
    Person,
    Practice,
    RequestInfo,
    TimelineEvent,
)

STAFF = (
    Person("zoe.clarke", "Zoë Clarke"),
    Person("lukasz.nowak", "Łukasz Nowak"),
    Person("li.lei", "李雷"),
    Person("mohammed.a", "محمد عبد الله"),
)
RESPONSES = (
    ("AskedToStop", "Asked to stop filming", "The person was asked politely to stop filming in the waiting room."),
    ("PolicyExplained", "Filming policy explained", "Explained the practice's policy and pointed to the poster."),
    ("NoticePointedOut", "Notice pointed out", "Showed the waiting-room notice by the front desk."),
    ("NoteAdded", "Note added", "Spoke to the patient's companion; they said they would put the phone away."),
)


def sample_material(events: int = 12, incidents: int = 1, start: datetime | None = None) -> EvidenceMaterial:
    """Incidents of `events` events each: reported, responses, a correction, reviewed, closed."""
    start = start or datetime(2026, 3, 28, 9, 15, tzinfo=UTC)  # the clocks change on the 29th
    records = []
    custody = []
    for number in range(1, incidents + 1):
        incident_id = f"INC-{number:04d}"
        timeline = [
            TimelineEvent(
                1, "Reported", "Filming in the practice", STAFF[0], start + timedelta(minutes=5), start,
                details=(("Area of the practice", "Waiting room"), ("Who was filming", "A patient")),
                note="A patient filmed the reception desk on a phone; Zoë asked them to stop.",
            )
        ]  # fmt: skip
        for sequence in range(2, events + 1):
            who = STAFF[sequence % len(STAFF)]
            occurred = start + timedelta(minutes=7 * sequence)
            recorded = occurred + timedelta(minutes=3, seconds=sequence % 60)
            if sequence == 3:
                timeline.append(TimelineEvent(
                    sequence, "Corrected", "Corrected: Area of the practice", STAFF[1], recorded,
                    correction=Correction("Area of the practice", "Waiting room", "Reception desk",
                                          "The reception camera shows the phone at the desk, not in the waiting room.", 1),
                ))  # fmt: skip
                continue
            event_type, title, note = RESPONSES[sequence % len(RESPONSES)]
            timeline.append(TimelineEvent(
                sequence, event_type, title, who, recorded, occurred if event_type != "NoteAdded" else None,
                note=f"{note} (entry {sequence}, recorded by {who.display_name})",
            ))  # fmt: skip
        records.append(IncidentRecord(
            incident_id, "Filming in the practice",
            facts=(("Area of the practice", "Reception desk"), ("Who was filming", "A patient"),
                   ("Happened", start.strftime("%d %b %Y, %H:%M"))),
            events=tuple(timeline),
            notices_in_force=(
                NoticeInForce("Waiting-room poster", "Please do not film or photograph staff or other patients.", date(2025, 1, 6)),
                NoticeInForce("Telephone message", "Calls to the surgery are recorded for training and safety.", date(2024, 9, 2)),
            ),
        ))  # fmt: skip
        custody.append(CustodyEntry(STAFF[2], start + timedelta(days=2), "Viewed the timeline", "DR-0007"))
    custody.append(CustodyEntry(STAFF[3], start + timedelta(days=30), "Exported the bundle", "DR-0007"))
    return EvidenceMaterial(
        practice=Practice("A00001", "Riverside Surgery"),
        request=RequestInfo(
            "DR-0007", "Subject access request", "SAR/2026/114", date(2026, 4, 20), date(2026, 5, 20),
            "Required by law", STAFF[3],
        ),
        incidents=tuple(records),
        exported_at=start + timedelta(days=30),
        exported_by=STAFF[3],
        custody=tuple(custody),
    )
