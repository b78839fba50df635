"""A rebuild reads the notification log as plain rows (stored_pages.py) and turns each into its
domain event (EventMapper.event_from): the same events, in the same order, within the same
bounds, as the library's select_notifications and to_domain_event, on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from incidents.projections.stored_pages import page_reader, pages_up_to

from .test_summary_rebuild import managers, play

STEPS = [
    ("report", "filming", "A81001"), ("report", "recording", "B82002"), ("respond", 0, 3), ("note", 1),
    ("report", "filming", "B82002"), ("correct", 2), ("close", 0), ("reopen", 0), ("respond", 1, 7), ("note", 2),
]


def test_the_pages_hold_every_event_up_to_the_last_in_order_as_the_library_reads_them(opened):
    log = opened.log
    play(log, managers(log), STEPS)
    last = log.recorder.max_notification_id()
    assert last > 15  # the accounts and the incidents, with more than two pages of 7
    notifications = log.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)

    pages = list(pages_up_to(log.recorder, last, 7))
    assert [len(page) for page in pages[:-1]] == [7] * (len(pages) - 1)
    rows = [row for page in pages for row in page]
    assert [row[0] for row in rows] == [n.id for n in notifications]
    for (notification_id, originator_id, version, topic, state), n in zip(rows, notifications):
        assert (UUID(str(originator_id)), version, topic, state) == (n.originator_id, n.originator_version, n.topic, n.state)
        event, expected = log.mapper.event_from(topic, originator_id, version, state), log.mapper.to_domain_event(n)
        assert type(event) is type(expected)
        assert event.__dict__ == expected.__dict__

    # Bounded by `last` and by the page's limit, and from just after the position given.
    middle = notifications[len(notifications) // 2].id
    assert [row[0] for row in page_reader(log.recorder)(3, middle, 1000)] == [n.id for n in notifications if 3 < n.id <= middle]
    assert [row[0] for page in pages_up_to(log.recorder, middle, 4) for row in page] == [n.id for n in notifications if n.id <= middle]
    assert list(pages_up_to(log.recorder, 0, 4)) == []
