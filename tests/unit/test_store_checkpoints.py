"""Store checkpoints on the in-memory store: what a checkpoint covers, how the chain grows, and
the comparison of stored rows against a checkpoint (on hand-made rows: the in-memory store's
rows cannot be edited behind the recorder's back; tests/integration/test_verify_store.py edits
real SQLite and PostgreSQL tables)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timezone

import pytest
from eventsourcing.persistence import Notification
from hypothesis import given
from hypothesis import strategies as st

from incidents.application.checkpoints import CheckpointChainBroken
from incidents.application.service import Actor, IncidentLog
from incidents.domain.checkpoint import CHECKPOINT_LOG_ID, CheckpointSigned
from incidents.evidence import merkle
from incidents.evidence.signing import generate, signature_valid
from incidents.evidence.store_checkpoint import Statement, compare, event_digest, ids_of, read_checkpoint, runs, seal

RECEPTION = Actor(uuid.UUID(int=7), "sue.reception", "Sue Reception", "A81001", ("reception",))
KEY = generate()


def report(log: IncidentLog, count: int = 1) -> None:
    """Each report is two events: its number's entry, and the incident."""
    from tests.integration.test_application_contract import filming

    for _ in range(count):
        log.report_filming(filming(), RECEPTION)


def row(nid: int, aggregate: uuid.UUID, version: int, state: bytes = b"state") -> Notification:
    return Notification(id=nid, originator_id=aggregate, originator_version=version, topic="t:T", state=state)


def checkpoint_of(rows: list[Notification], after: int = 0):
    fields = seal(rows, 1, after, "", datetime.now(timezone.utc), KEY)
    return read_checkpoint(CheckpointSigned(originator_id=CHECKPOINT_LOG_ID, originator_version=1, timestamp=datetime.now(timezone.utc), **fields))


# The digest and the encodings ------------------------------------------------------------


def test_the_digest_binds_every_column_of_the_row():
    a = uuid.uuid4()
    base = row(5, a, 2, b"\x01\x02")
    variants = [
        dataclasses.replace(base, id=6),
        dataclasses.replace(base, originator_id=uuid.uuid4()),
        dataclasses.replace(base, originator_version=3),
        dataclasses.replace(base, topic="t:U"),
        dataclasses.replace(base, state=b"\x01\x03"),
    ]
    digests = {event_digest(v) for v in variants} | {event_digest(base)}
    assert len(digests) == 6 and all(len(d) == 32 for d in digests)


def test_a_column_cannot_bleed_into_the_next():
    a = uuid.uuid4()
    moved = Notification(id=1, originator_id=a, originator_version=1, topic="t:Tx", state=b"")
    assert event_digest(moved) != event_digest(row(1, a, 1, b"x"))  # topic "t:T", state "x"


@given(st.lists(st.integers(min_value=1, max_value=10_000), unique=True))
def test_ids_round_trip_through_runs(ids):
    ids.sort()
    assert ids_of(runs(ids)) == ids


def test_runs_are_short_for_contiguous_ids():
    assert runs([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert runs(list(range(1, 10_001))) == "1-10000"


def test_the_statement_is_canonical_and_signed():
    a = uuid.uuid4()
    rows = [row(1, a, 1), row(2, a, 2)]
    checkpoint = checkpoint_of(rows)
    assert Statement.from_bytes(checkpoint.statement_bytes) == checkpoint.statement
    assert signature_valid(KEY.public, checkpoint.signature, checkpoint.statement_bytes)
    assert checkpoint.statement.merkle_root == merkle.root([event_digest(r) for r in rows]).hex()
    assert checkpoint.locations == [(str(a), 1), (str(a), 2)] and checkpoint.inconsistencies() == []
    spaced = checkpoint.statement_bytes.replace(b":", b": ", 1)
    with pytest.raises(ValueError, match="canonical"):
        Statement.from_bytes(spaced)


# Comparing rows with a checkpoint ------------------------------------------------------------


def test_compare_names_each_changed_missing_and_inserted_row():
    a, b = uuid.uuid4(), uuid.uuid4()
    signed = [row(1, a, 1), row(2, a, 2), row(4, b, 1), row(5, b, 2)]  # 3 was a failed insert
    checkpoint = checkpoint_of(signed)
    assert list(compare(checkpoint, signed)) == []
    now = [row(1, a, 1), row(2, a, 2, b"edited"), row(3, b, 3), row(5, b, 2)]
    problems = list(compare(checkpoint, now))
    assert [(p.kind, p.notification_id, p.aggregate_id, p.version) for p in problems] == [
        ("changed", 2, str(a), 2),
        ("inserted", 3, str(b), 3),
        ("missing", 4, str(b), 1),
    ]


def test_a_row_moved_to_another_aggregate_says_where_it_was():
    a, b = uuid.uuid4(), uuid.uuid4()
    checkpoint = checkpoint_of([row(1, a, 1)])
    (problem,) = compare(checkpoint, [row(1, b, 1)])
    assert problem.kind == "changed" and problem.message.endswith(f"; it was aggregate {a}, version 1 when signed")


def test_missing_rows_at_the_end_are_named():
    a = uuid.uuid4()
    checkpoint = checkpoint_of([row(1, a, 1), row(2, a, 2), row(3, a, 3)])
    assert [p.notification_id for p in compare(checkpoint, [row(1, a, 1)])] == [2, 3]


# Recording on the in-memory store ---------------------------------------------------------


def test_a_checkpoint_covers_everything_since_the_last_and_the_chain_links(log: IncidentLog):
    report(log, 2)
    (first,) = log.record_checkpoint(KEY)
    assert (first.number, first.after, first.last, first.count) == (1, 0, 4, 4)
    assert log.record_checkpoint(KEY) == []  # only its own event is new
    report(log)
    (second,) = log.record_checkpoint(KEY)
    assert (second.after, second.last, second.count) == (4, 7, 3)  # the first's own event, and the new two
    stored = log.recorder.select_events(CHECKPOINT_LOG_ID)
    statements = [read_checkpoint(log.mapper.to_domain_event(s)).statement for s in stored]
    assert statements[1].previous == statements[0].chain_hash == first.chain_hash
    assert log.verify_store(KEY.public).ok


def test_a_long_range_is_split_into_checkpoints_of_at_most_max_events(log: IncidentLog):
    report(log, 4)
    recorded = log.record_checkpoint(KEY, max_events=3)
    assert [(c.after, c.last) for c in recorded] == [(0, 3), (3, 6), (6, 8)]
    result = log.verify_store(KEY.public)
    assert result.ok and result.checkpoints == 3 and result.checked == 8 and result.uncovered == 0


def test_an_empty_store_has_nothing_to_sign_and_verifies(log: IncidentLog):
    assert log.record_checkpoint(KEY) == []
    result = log.verify_store(KEY.public)
    assert result.ok and result.checkpoints == 0 and result.head == 0


def test_a_chain_signed_by_another_key_is_not_extended(log: IncidentLog):
    report(log)
    log.record_checkpoint(generate())
    report(log)
    with pytest.raises(CheckpointChainBroken, match="does not verify"):
        log.record_checkpoint(KEY)


def test_verifying_with_another_key_reports_every_checkpoint(log: IncidentLog):
    report(log, 1)
    log.record_checkpoint(KEY, max_events=1)
    problems = log.verify_store(generate().public).problems
    assert [p.checkpoint for p in problems] == [1, 2] and all("does not verify" in p.message for p in problems)


def test_progress_reaches_the_head(log: IncidentLog):
    report(log, 4)
    log.record_checkpoint(KEY)
    seen = []
    log.verify_store(KEY.public, lambda position, last: seen.append((position, last)))
    assert seen[-1] == (log.recorder.max_notification_id(), log.recorder.max_notification_id())


# The note of the newest checkpoint, outside the store ----------------------------------------


def test_the_newest_checkpoint_is_noted_and_a_store_cut_back_is_named(log: IncidentLog, tmp_path):
    from incidents.evidence.checkpoint_head import compare_head, head_file, recall, remember

    path = head_file(tmp_path / "signing-key.pem")
    report(log, 2)
    first = log.record_checkpoint(KEY)
    remember(path, first)
    report(log)
    second = log.record_checkpoint(KEY)
    remember(path, second)
    remember(path, first)  # an older one never replaces a newer note
    noted = recall(path)
    assert (noted.number, noted.chain_hash) == (2, second[0].chain_hash)
    result = log.verify_store(KEY.public)
    assert compare_head(noted, result.chain, result.last_number) == []
    (cut,) = compare_head(noted, {1: first[0].chain_hash}, 1)
    assert "the store's last checkpoint is 1: checkpoint 2 missing" in cut.message
    (other,) = compare_head(noted, {1: first[0].chain_hash, 2: "0" * 64}, 2)
    assert "is not the one this machine signed" in other.message
