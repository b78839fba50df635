"""Signed store checkpoints against someone with write access to the database: a row's bytes
changed, a row deleted, a forged row inserted, a checkpoint altered or removed. `verify_store`
names each (notification id, aggregate id, version); an untouched store verifies. Run on a SQLite
file and on PostgreSQL, editing the library's events table directly.
"""

from __future__ import annotations

import base64
import dataclasses
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from incidents.application.checkpoints import CheckpointChainBroken
from incidents.application.service import Actor, IncidentLog
from incidents.bootstrap import Opened, open_log
from incidents.domain.checkpoint import CHECKPOINT_LOG_ID
from incidents.evidence.signing import SigningKey, generate, load_or_create
from incidents.settings import Settings
from tests.integration.test_application_contract import filming, respond

RECEPTION = Actor(uuid.UUID(int=1), "sue.reception", "Sue Reception", "A81001", ("reception",))


class RawTable:
    """The library's events table, edited as someone with database access would."""

    def __init__(self, opened: Opened, url: str) -> None:
        self.kind = opened.store.kind
        self.table = opened.log.recorder.events_table_name
        if self.kind == "sqlite":
            self.connection: Any = sqlite3.connect(opened.store.location, isolation_level=None)
            self.id_column, self.mark = "rowid", "?"
        else:
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True)
            self.id_column, self.mark = "notification_id", "%s"

    def execute(self, sql: str, *params: Any) -> None:
        self.connection.execute(sql.replace("?", self.mark).format(table=self.table, id=self.id_column), params)

    def set_state(self, notification_id: int, state: bytes) -> None:
        self.execute("UPDATE {table} SET state = ? WHERE {id} = ?", state, notification_id)

    def delete(self, notification_id: int) -> None:
        self.execute("DELETE FROM {table} WHERE {id} = ?", notification_id)

    def insert(self, notification_id: int, originator_id: uuid.UUID, version: int, topic: str, state: bytes) -> None:
        originator = str(originator_id) if self.kind == "sqlite" else originator_id
        self.execute(
            "INSERT INTO {table} ({id}, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
            notification_id, originator, version, topic, state,
        )

    def close(self) -> None:
        self.connection.close()


@dataclass
class World:
    opened: Opened
    raw: RawTable
    key: SigningKey
    incidents: list[uuid.UUID]

    @property
    def log(self) -> IncidentLog:
        return self.opened.log

    def stored(self, notification_id: int) -> Notification:
        (notification,) = self.log.recorder.select_notifications(start=notification_id, limit=1)
        assert notification.id == notification_id
        return notification

    def verify(self):
        return self.log.verify_store(self.key.public)

    def checkpoint_row(self, number: int) -> Notification:
        for notification in self.log.recorder.select_notifications(start=1, limit=10_000):
            if notification.originator_id == CHECKPOINT_LOG_ID and notification.originator_version == number:
                return notification
        raise AssertionError(f"no checkpoint {number}")


def record_incidents(log: IncidentLog, count: int = 3) -> list[uuid.UUID]:
    ids = []
    for _ in range(count):
        incident_id = log.report_filming(filming(), RECEPTION).id
        respond(log, RECEPTION, incident_id, "AskedToStop")
        respond(log, RECEPTION, incident_id, "Stopped")
        ids.append(incident_id)
    return ids


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path: Path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    settings = Settings(data_dir=tmp_path, database_url=url)
    opened = open_log(settings)
    raw = RawTable(opened, url)
    world = World(opened, raw, load_or_create(settings.effective_signing_key_file), record_incidents(opened.log))
    yield world
    raw.close()
    opened.log.close()


def only(problems, kind: str):
    assert [p.kind for p in problems] == [kind], [p.message for p in problems]
    return problems[0]


def test_an_untouched_store_verifies_and_later_events_are_not_yet_covered(world: World):
    (first,) = world.log.record_checkpoint(world.key)
    # Each incident is four events: its number's entry, its report and two responses.
    assert (first.number, first.after, first.last, first.count) == (1, 0, 12, 12)
    result = world.verify()
    assert result.ok, [p.message for p in result.problems]
    assert (result.checkpoints, result.checked, result.uncovered) == (1, 12, 0)
    record_incidents(world.log, 1)
    result = world.verify()
    assert result.ok and result.uncovered == 4 and result.uncovered_from == first.notification_id + 1
    (second,) = world.log.record_checkpoint(world.key)
    assert second.after == first.last and second.count == 5  # the first checkpoint's own event, and four
    result = world.verify()
    assert result.ok and (result.checkpoints, result.checked, result.uncovered) == (2, 17, 0)
    assert world.log.record_checkpoint(world.key) == []  # nothing new but the second's own event


def test_an_event_whose_bytes_were_changed_is_located(world: World):
    world.log.record_checkpoint(world.key)
    target = world.stored(5)
    state = bytearray(target.state)
    state[-1] ^= 0x01
    world.raw.set_state(5, bytes(state))
    problem = only(world.verify().problems, "changed")
    assert (problem.notification_id, problem.aggregate_id, problem.version, problem.checkpoint) == (5, str(target.originator_id), target.originator_version, 1)
    assert problem.message.startswith(f"event #5 (aggregate {target.originator_id}, version {target.originator_version}) was changed since checkpoint 1 signed at ")


def test_an_event_overwritten_with_another_events_valid_bytes_is_located(world: World):
    """The cipher cannot see this one: the copied bytes decrypt, and the incident reads back
    with a different history. Only the checkpoint can."""
    world.log.record_checkpoint(world.key)
    stopped, asked = world.stored(8), world.stored(7)  # the second incident's "Stopped" and "AskedToStop"
    world.raw.execute("UPDATE {table} SET topic = ?, state = ? WHERE {id} = ?", asked.topic, asked.state, 8)
    assert world.log.repository.get(world.incidents[1]).version == 3  # still reads, without error
    problem = only(world.verify().problems, "changed")
    assert problem.notification_id == 8 and problem.aggregate_id == str(stopped.originator_id) and problem.version == 3


def test_a_deleted_event_is_located_by_aggregate_and_version(world: World):
    world.log.record_checkpoint(world.key)
    target = world.stored(8)
    world.raw.delete(8)
    problem = only(world.verify().problems, "missing")
    assert (problem.notification_id, problem.aggregate_id, problem.version) == (8, str(target.originator_id), target.originator_version)
    assert problem.message.startswith(f"event #8 (aggregate {target.originator_id}, version {target.originator_version}) is missing: checkpoint 1 signed at ")


def make_gap(world: World) -> int:
    """An id inside the next checkpoint's range that holds no event, as an insert that failed
    leaves on PostgreSQL; SQLite reuses ids, so there a row
    briefly held beyond the end does it."""
    if world.raw.kind == "postgres":
        before = world.log.recorder.max_notification_id()
        taken = world.stored(2)  # an event's own aggregate and version: the insert fails
        with pytest.raises(IntegrityError):
            world.log.recorder.insert_events([StoredEvent(taken.originator_id, taken.originator_version, taken.topic, taken.state)])
        after = world.log.report_filming(filming(), RECEPTION).notification_id
        assert after == before + 3  # the failed insert's id, then the new one's number entry and report
        return before + 1
    last = world.log.recorder.max_notification_id()
    world.raw.insert(last + 2, uuid.uuid4(), 1, "placeholder", b"")
    record_incidents(world.log, 1)
    world.raw.delete(last + 2)
    return last + 1


def test_an_inserted_event_is_located(world: World):
    gap = make_gap(world)
    world.log.record_checkpoint(world.key)
    assert world.verify().ok
    incident = world.incidents[0]
    model = world.stored(4)  # the incident's last event, a valid one to copy
    world.raw.insert(gap, incident, 4, model.topic, model.state)
    problem = only(world.verify().problems, "inserted")
    assert (problem.notification_id, problem.aggregate_id, problem.version) == (gap, str(incident), 4)
    assert problem.message.startswith(f"event #{gap} (aggregate {incident}, version 4) was inserted: it is inside the range of checkpoint 1")


def flip_in_checkpoint(world: World, field: str, index: int, bit: int) -> None:
    """Flip one bit of a base64 field of checkpoint 1, as someone holding the cipher key but not the signing key could."""
    row = world.checkpoint_row(1)
    event = world.log.mapper.to_domain_event(row)
    value = bytearray(base64.b64decode(getattr(event, field)))
    value[index] ^= bit
    forged = world.log.mapper.to_stored_event(dataclasses.replace(event, **{field: base64.b64encode(bytes(value)).decode()}))
    world.raw.set_state(row.id, forged.state)


def test_a_checkpoint_with_a_flipped_signature_byte_is_reported_and_not_extended(world: World):
    world.log.record_checkpoint(world.key)
    flip_in_checkpoint(world, "signature", 10, 0x80)
    problem = only(world.verify().problems, "checkpoint")
    assert problem.checkpoint == 1
    assert "checkpoint 1 signed at" in problem.message and "signature that does not verify" in problem.message
    record_incidents(world.log, 1)
    with pytest.raises(CheckpointChainBroken, match="Checkpoint 1 does not verify"):
        world.log.record_checkpoint(world.key)


def test_a_checkpoint_whose_digest_list_was_rewritten_is_reported(world: World):
    """Hiding a changed event by rewriting its digest in the checkpoint breaks the signed root."""
    world.log.record_checkpoint(world.key)
    flip_in_checkpoint(world, "digests", 0, 0x01)
    problems = world.verify().problems
    assert [p.kind for p in problems] == ["checkpoint", "changed"], [p.message for p in problems]
    assert "do not give the signed Merkle root" in problems[0].message and problems[1].notification_id == 1


def test_a_checkpoint_signed_by_another_key_is_reported(world: World):
    world.log.record_checkpoint(generate())
    problem = only(world.verify().problems, "checkpoint")
    assert "it names another key" in problem.message


def test_a_removed_checkpoint_breaks_the_chain_and_its_row_is_missing(world: World):
    for _ in range(3):
        world.log.record_checkpoint(world.key)
        record_incidents(world.log, 1)
    world.log.record_checkpoint(world.key)
    assert world.verify().ok and world.verify().checkpoints == 4
    second = world.checkpoint_row(2)
    world.raw.delete(second.id)
    problems = world.verify().problems
    messages = [p.message for p in problems]
    assert problems[0].kind == "checkpoint" and messages[0] == "checkpoint 2 missing from the store (removed): the chain of checkpoints is broken"
    assert problems[1].kind == "uncovered" and problems[1].checkpoint == 3, messages
    missing = [p for p in problems if p.kind == "missing"]
    assert [(p.notification_id, p.aggregate_id, p.version) for p in missing] == [(second.id, str(CHECKPOINT_LOG_ID), 2)], messages


def test_a_checkpoint_whose_stored_bytes_were_changed_is_reported(world: World):
    world.log.record_checkpoint(world.key)
    record_incidents(world.log, 1)
    world.log.record_checkpoint(world.key)
    first = world.checkpoint_row(1)
    world.raw.set_state(first.id, first.state[:-1] + bytes([first.state[-1] ^ 1]))
    problems = world.verify().problems
    assert problems[0].kind == "checkpoint" and problems[0].message.startswith("checkpoint 1 cannot be read (")
    assert [(p.kind, p.notification_id) for p in problems[1:]] == [("uncovered", None), ("changed", first.id)], [p.message for p in problems]
