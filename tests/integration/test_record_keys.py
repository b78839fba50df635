"""A record's own key is written in the transaction of its first event, on SQLite and PostgreSQL:
a record saved has its key, and a save that is refused (the same form sent twice) leaves no key
of its own behind, so the record keeps reading with the key that encrypted it."""

from __future__ import annotations

import threading
import uuid

import pytest
from eventsourcing.persistence import IntegrityError

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.domain.filming import FilmingIncident
from incidents.bootstrap import open_log
from tests import reports

PRACTICE = "A81001"


def test_a_new_record_s_key_is_saved_with_its_first_event_and_a_refused_save_leaves_none(settings):
    reception = Actor(uuid.uuid4(), "sue.reception", "Sue Reception", PRACTICE, ("reception",))
    opened = open_log(settings)
    try:
        keys = opened.log.mapper.cipher.record_keys
        before = keys.count()
        command = reports.filming(note="The Kingfisher waiting room")
        first = opened.log.report(command, reception)
        assert keys.count() == before + 1

        again = opened.log.report(command, reception)  # the same form sent again: its save is refused, the first found
        assert (again.id, again.created) == (first.id, False)
        assert keys.count() == before + 1

        both = reports.filming(note="The Heron corridor")  # two threads send one form at the same time
        saved = []
        threads = [threading.Thread(target=lambda: saved.append(opened.log.report(both, reception))) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({s.id for s in saved}) == 1 and sum(s.created for s in saved) == 1
        assert keys.count() == before + 2

        # A new record saved with a change that conflicts: the whole save is refused, the new record's key with it.
        stale = opened.log.repository.get(first.id)
        opened.log.add_note(c.AddNote(incident_id=first.id, submission_key=reports.new_key(), text="A later note"), reception)
        with reception.acting():
            stale.add_note(text="A note on an old copy", submission_key=reports.new_key())
            facts = {name: value for name, value in reports.FILMING.items() if name != "note"}
            newcomer = FilmingIncident.report(PRACTICE, reports.new_key(), "Never saved", occurred_at=reports.minutes_ago(5), **facts)
        with pytest.raises(IntegrityError):
            opened.log.save(newcomer, stale)
        assert keys.count() == before + 2
        assert newcomer.id not in {row[0] for row in keys._backend.every()}
    finally:
        opened.log.close()

    reopened = open_log(settings)  # a new process: every key read from the table, none from memory
    try:
        assert reopened.log.history(reception, first.id)[0].note == "The Kingfisher waiting room"
        assert reopened.log.history(reception, saved[0].id)[0].note == "The Heron corridor"
    finally:
        reopened.log.close()
