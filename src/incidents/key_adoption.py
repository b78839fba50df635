"""`incidents keys adopt-record-keys`: the records stored before record keys re-encrypted in place
under keys of their own, so that they can be disposed of (docs/retention.md, "Records stored
before record keys").

The checkpoints cover each event's stored bytes, so rewriting them is only honest with a signed
statement beside them: a checkpoint is signed first (every event covered), then, in one SQLite
transaction, each older record gets its key (wrapped in `record_keys`), each of its events'
state is replaced by the same plaintext sealed with that key, and the statement is written as an
event of its own log (`RecordKeysAdopted`), naming that checkpoint and, per rewritten event, the
digest of its row before and after. `verify-store` checks the statement's signature and accepts a
row whose checkpoint holds the old digest only if it now has the new one. A checkpoint signed
after covers the statement.

On PostgreSQL the same transaction takes the library's lock of the events table, and the table is
rewritten after (VACUUM FULL) so that no dead tuple keeps an old state. The app and workers must be stopped
(the caller holds the projections lock), as a process that kept a record's "no key" in memory
would go on writing its events under the deployment key.
"""

from __future__ import annotations

import base64
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from .domain.checkpoint import ADOPTION_LOG_ID, RecordKeysAdopted
from .evidence.store_checkpoint import AdoptionStatement, event_digest
from .record_keys import CREATE, RECORD_MARK, TABLE, empty_wal, random_bytes, seal

PAGE = 5_000


@dataclass(frozen=True)
class Adopted:
    records: int
    events: int
    statement: AdoptionStatement | None  # None when there was nothing to re-encrypt
    skipped: int  # records with no key whose events the deployment key cannot read (disposed of, or damaged)


def older_records(log: Any) -> tuple[dict[UUID, list[tuple[Notification, bytes]]], int]:
    """Each record of a kind with its own key that has none (stored before record keys), with its
    events and their plaintext; and how many such records the deployment key cannot read."""
    mapper, cipher = log.mapper, log.mapper.cipher
    keys = cipher.record_keys
    events: dict[UUID, list[Notification]] = {}
    after = 0
    while True:
        page = log.recorder.select_notifications(start=after, limit=PAGE, inclusive_of_start=False)
        for n in page:
            if mapper.has_own_key(n.topic):
                events.setdefault(n.originator_id, []).append(n)
        if len(page) < PAGE:
            break
        after = page[-1].id
    found: dict[UUID, list[tuple[Notification, bytes]]] = {}
    skipped = 0
    for record_id, stored in events.items():
        if keys.key_of(record_id) is not None:
            continue
        try:
            found[record_id] = [(n, cipher.decrypt(n.state)) for n in stored]
        except ValueError:
            skipped += 1  # a disposed record's events begin with the record mark and no key reads them
    return found, skipped


def adopt_record_keys(log: Any, signing_key: Any, sqlite_path: str | None, after_checkpoint: Any) -> Adopted:
    """Re-encrypt every older record under a key of its own, with the signed statement, in one
    transaction; `after_checkpoint` is the last checkpoint (just signed), which covers every event.
    `sqlite_path` is the store's file, or None for a PostgreSQL store."""
    found, skipped = older_records(log)
    if not found:
        return Adopted(0, 0, None, skipped)
    cipher = log.mapper.cipher
    keys = cipher.record_keys
    rows: list[tuple[str, bytes, bytes]] = []
    updates: list[tuple[bytes, int, bytes]] = []
    entries: list[list] = []
    for record_id, stored in found.items():
        raw = random_bytes(32)
        key_id, wrapped = keys.wrap(record_id, raw)
        rows.append((str(record_id), key_id, wrapped))
        for n, plaintext in stored:
            if n.id > after_checkpoint.statement.last:
                raise RuntimeError(f"event #{n.id} is not covered by checkpoint {after_checkpoint.number}: sign one first")
            state = seal(raw, record_id, plaintext)
            assert state[:4] == RECORD_MARK
            new = Notification(id=n.id, originator_id=n.originator_id, originator_version=n.originator_version, topic=n.topic, state=state)
            updates.append((state, n.id, n.state))
            entries.append([n.id, str(record_id), n.originator_version, event_digest(n).hex(), event_digest(new).hex()])
    number = len(log.recorder.select_events(ADOPTION_LOG_ID)) + 1
    now = datetime.now(timezone.utc)
    statement = AdoptionStatement(
        number=number, after_checkpoint=after_checkpoint.number, after_chain_hash=after_checkpoint.statement.chain_hash,
        records=len(found), events=entries, signed_at=now.isoformat(), key=signing_key.fingerprint(),
    )
    data = statement.to_bytes()
    event = RecordKeysAdopted(
        originator_id=ADOPTION_LOG_ID, originator_version=number, timestamp=now,
        statement=data.decode(), signature=base64.b64encode(signing_key.sign(data)).decode(),
    )
    stored_statement = log.mapper.to_stored_event(event)
    if sqlite_path is None:
        _write_postgres(log, rows, updates, stored_statement)
    else:
        _write_sqlite(sqlite_path, rows, updates, stored_statement)
    return Adopted(len(found), len(entries), statement, skipped)


def _write_sqlite(sqlite_path: str, rows: list, updates: list, stored_statement: Any) -> None:
    db = sqlite3.connect(sqlite_path, timeout=10, isolation_level=None)
    try:
        # The freed bytes of each old state are overwritten, so the deployment key's ciphertext of a
        # record does not linger in a free block or page (VACUUM is not used: it may renumber the
        # rowids, which are the notification ids the checkpoints name).
        db.execute("PRAGMA secure_delete=ON")
        db.execute(CREATE)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", rows)
            for state, nid, old in updates:
                if db.execute("UPDATE stored_events SET state = ? WHERE rowid = ? AND state = ?", (state, nid, old)).rowcount != 1:
                    raise RuntimeError(f"event #{nid} changed while it was re-encrypted")
            db.execute(
                "INSERT INTO stored_events VALUES (?, ?, ?, ?)",
                (stored_statement.originator_id.hex, stored_statement.originator_version, stored_statement.topic, stored_statement.state),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        empty_wal(db)
    finally:
        db.close()


def _write_postgres(log: Any, rows: list, updates: list, stored_statement: Any) -> None:
    from psycopg.sql import SQL, Identifier

    recorder = log.recorder
    datastore = recorder.datastore
    log.mapper.cipher.record_keys.written_with_events()  # the table exists
    table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(recorder.events_table_name))
    with datastore.transaction(commit=True) as cursor:
        for statement in recorder.lock_table_statements:  # as the library's own insert: ids commit in order
            cursor.execute(statement, prepare=False)
        for originator_id, key_id, wrapped in rows:
            cursor.execute(f"INSERT INTO {TABLE} VALUES (%s, %s, %s)", (UUID(originator_id), key_id, wrapped))
        for state, nid, old in updates:
            cursor.execute(SQL("UPDATE {0} SET state = %s WHERE notification_id = %s AND state = %s").format(table), (state, nid, old))
            if cursor.rowcount != 1:
                raise RuntimeError(f"event #{nid} changed while it was re-encrypted")
        cursor.execute(
            SQL("INSERT INTO {0} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)").format(table),
            (stored_statement.originator_id, stored_statement.originator_version, stored_statement.topic, stored_statement.state),
        )
    # The old states' tuples stay in the table's pages until vacuumed; FULL writes the table anew.
    with datastore.get_connection() as connection:  # the pool's connections commit each statement
        connection.execute(SQL("VACUUM FULL {0}").format(table))
