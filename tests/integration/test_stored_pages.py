"""A rebuild reads the notification log as plain rows (stored_pages.py) and turns each into its
domain event (EventMapper.event_from): the same events, in the same order, within the same
bounds, as the library's select_notifications and to_domain_event, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from uuid import UUID

from incidents.application import commands as c
from incidents.application.service import IncidentLog
from incidents.projections.running.stored_pages import page_reader, pages_up_to

from .test_summary_rebuild import managers, play

STEPS = [
    ("report", "filming", "A81001"), ("report", "recording", "B82002"), ("respond", 0, 3), ("note", 1),
    ("report", "filming", "B82002"), ("correct", 2), ("close", 0), ("reopen", 0), ("respond", 1, 7), ("note", 2),
]


def test_the_pages_hold_every_event_up_to_the_last_in_order_as_the_library_reads_them(opened):
    log = opened.log
    play(log, managers(log), STEPS)
    last = log.recorder.max_notification_id()
    assert last > 2 * 5  # the accounts and the incidents, with more than two pages of 5
    notifications = log.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)

    pages = list(pages_up_to(log.recorder, last, 5))
    assert [len(page) for page in pages[:-1]] == [5] * (len(pages) - 1)
    rows = [row for page in pages for row in page]
    assert [row[0] for row in rows] == [n.id for n in notifications]
    for (notification_id, originator_id, version, topic, state), n in zip(rows, notifications):
        assert (originator_id, version, topic, state) == (n.originator_id, n.originator_version, n.topic, n.state)
        event, expected = log.mapper.event_from(topic, originator_id, version, state), log.mapper.to_domain_event(n)
        assert type(event) is type(expected)
        assert event.__dict__ == expected.__dict__
    ids: dict[UUID, UUID] = {}
    for _, originator_id, _, _, _ in rows:  # one UUID object per aggregate
        assert type(originator_id) is UUID and ids.setdefault(originator_id, originator_id) is originator_id
    assert len(ids) < len(rows)

    # Bounded by `last` and by the page's limit, and from just after the position given.
    middle = notifications[len(notifications) // 2].id
    assert [row[0] for row in page_reader(log.recorder)(3, middle, 1000)] == [n.id for n in notifications if 3 < n.id <= middle]
    assert [row[0] for page in pages_up_to(log.recorder, middle, 4) for row in page] == [n.id for n in notifications if n.id <= middle]
    assert list(pages_up_to(log.recorder, 0, 4)) == []



def test_a_store_written_compressed_before_and_plain_since_reads_whole(opened):
    """Events were stored zlib-compressed until session 8 (storage.py): an incident begun then and
    continued now loads, and a rebuild's pages read both kinds."""
    before = IncidentLog(env={**opened.env, "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"})
    try:
        actors = managers(before)
        play(before, actors, STEPS[:2])
        written_before = before.recorder.max_notification_id()
    finally:
        before.close()
    log = opened.log
    begun = [n.originator_id for n in log.recorder.select_notifications(start=0, limit=100) if n.topic.endswith("Reported")]
    for incident_id in begun:
        actor = actors[log.repository.get(incident_id).practice]
        log.add_note(c.AddNote(incident_id=incident_id, submission_key=uuid.uuid4().hex, text="continued"), actor)
    last = log.recorder.max_notification_id()
    rows = [row for page in pages_up_to(log.recorder, last, 5) for row in page]
    plaintexts = [log.mapper.cipher.decrypt_record(row[1], row[4])[:1] for row in rows]  # an incident's own key, or the deployment key
    assert {p for row, p in zip(rows, plaintexts) if row[0] <= written_before} == {b"\x78"}
    assert {p for row, p in zip(rows, plaintexts) if row[0] > written_before} == {b"{"}
    assert [type(log.mapper.event_from(t, o, v, s)).__name__ for _, o, v, t, s in rows][-2:] == ["NoteAdded", "NoteAdded"]
    for incident_id in begun:
        incident = log.repository.get(incident_id)
        assert (incident.version, incident.notes_count) == (2, 1)  # reported before, a note added since
