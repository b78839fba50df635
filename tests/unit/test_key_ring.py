"""The cipher's key ring (`incidents keys rotate`): new events are written with the newest key and
marked with its id, older events are read with the key that wrote them, and a store that never
rotated keeps the library's own layout. (Of records without keys of their own: the records'
keys are rewrapped by the new key, the last test.)"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent

from incidents.mapping import RING_MARK, EventMapper, KeptKeyAESCipher, cipher_key_id
from incidents.settings import Settings
from incidents.storage import CipherKeyError, _valid_key, cipher_key_fingerprints, new_cipher_key, rotate_cipher_key
from tests.unit.test_mapping import account_events as events, events as incident_events, mapper


def test_events_written_before_a_rotation_are_read_with_the_old_key_and_new_ones_with_the_new():
    old, new = new_cipher_key(), new_cipher_key()
    logged = events()
    before = [mapper(EventMapper, KeptKeyAESCipher, old, compressed=False).to_stored_event(event) for event in logged]
    ring = mapper(EventMapper, KeptKeyAESCipher, f"{new},{old}", compressed=False)
    after = [ring.to_stored_event(event) for event in logged]
    for stored, event in zip(before + after, logged + logged):
        assert ring.to_domain_event(stored).__dict__ == event.__dict__
    mark = RING_MARK + cipher_key_id(base64.b64decode(new))
    assert all(stored.state.startswith(mark) for stored in after)
    assert not any(stored.state.startswith(RING_MARK) for stored in before)
    # The new key alone still reads the new events; the old key alone says which key it lacks.
    assert mapper(EventMapper, KeptKeyAESCipher, new).to_domain_event(after[0]).__dict__ == logged[0].__dict__
    with pytest.raises(MapperDeserialisationError, match=f"Encrypted with the key {cipher_key_id(base64.b64decode(new)).hex()}, which is not among the keys given"):
        mapper(EventMapper, KeptKeyAESCipher, old).to_domain_event(after[0])


def test_a_single_key_writes_what_the_library_reads():
    key = new_cipher_key()
    event = events()[0]
    stored = mapper(EventMapper, KeptKeyAESCipher, key, compressed=False).to_stored_event(event)
    assert not stored.state.startswith(RING_MARK)
    assert mapper(Mapper, AESCipher, key, compressed=False).to_domain_event(stored).__dict__ == event.__dict__


def test_an_old_event_whose_nonce_begins_like_the_mark_is_still_read():
    old, new = new_cipher_key(), new_cipher_key()
    single = mapper(EventMapper, KeptKeyAESCipher, old, compressed=False).cipher
    original = KeptKeyAESCipher.random_bytes
    KeptKeyAESCipher.random_bytes = staticmethod(lambda n: (RING_MARK + cipher_key_id(base64.b64decode(new)) + b"\0" * 12)[:n])
    try:
        sealed = single.encrypt(b'{"a": 1}')
    finally:
        KeptKeyAESCipher.random_bytes = original
    assert sealed.startswith(RING_MARK + cipher_key_id(base64.b64decode(new)))
    ring = mapper(EventMapper, KeptKeyAESCipher, f"{new},{old}", compressed=False).cipher
    assert ring.decrypt(sealed) == b'{"a": 1}'


def test_a_damaged_event_is_refused_by_every_key_of_the_ring():
    old, new = new_cipher_key(), new_cipher_key()
    ring = mapper(EventMapper, KeptKeyAESCipher, f"{new},{old}", compressed=False)
    stored = ring.to_stored_event(events()[0])
    damaged = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, stored.state[:-1] + bytes([stored.state[-1] ^ 1]))
    with pytest.raises(MapperDeserialisationError, match="Invalid cipher tag"):
        ring.to_domain_event(damaged)


def test_rotation_puts_a_new_key_first_in_the_key_file_and_keeps_the_old(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    old = new_cipher_key()
    (tmp_path / "cipher.key").write_text(old + "\n")
    rotated = rotate_cipher_key(settings)
    lines = (tmp_path / "cipher.key").read_text().splitlines()
    assert len(lines) == 2 and lines[1] == old and lines[0] != old
    assert rotated.ring == ",".join(lines)
    assert _valid_key((tmp_path / "cipher.key").read_text(), "the file") == rotated.ring
    assert (tmp_path / "cipher.key").stat().st_mode & 0o777 == 0o600
    assert cipher_key_fingerprints(rotated.ring)[1] == cipher_key_fingerprints(old)[0]
    rotate_cipher_key(settings)
    assert (tmp_path / "cipher.key").read_text().splitlines()[1:] == lines
    assert [p.name for p in tmp_path.iterdir()] == ["cipher.key"]


def test_rotation_refuses_a_key_given_in_the_environment(tmp_path: Path):
    with pytest.raises(CipherKeyError, match="INCIDENTS_CIPHER_KEY is set, and a setting cannot be rewritten"):
        rotate_cipher_key(Settings(data_dir=tmp_path, cipher_key=new_cipher_key()))


def test_each_key_of_a_ring_is_checked():
    with pytest.raises(CipherKeyError, match="Key 2 of the encryption keys in the file must be 16, 24 or 32 bytes, not 3"):
        _valid_key(new_cipher_key() + "\nYWJj\n", "the file")


def sqlite_mapper(path: Path, key: str) -> Mapper:
    built = mapper(EventMapper, KeptKeyAESCipher, key, compressed=False)
    built.cipher._environment = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    return built


def test_a_rotation_rewraps_every_record_key_and_rewrites_no_event(tmp_path: Path):
    old, new = new_cipher_key(), new_cipher_key()
    logged = incident_events()
    stored = [sqlite_mapper(tmp_path / "s.sqlite", old).to_stored_event(event) for event in logged]
    ring = sqlite_mapper(tmp_path / "s.sqlite", f"{new},{old}")
    assert ring.cipher.record_keys.rewrap_all() == 1
    assert ring.cipher.record_keys.rewrap_all() == 0  # all wrapped by the newest already
    # The new key alone now opens the record's key, so the events written before the rotation.
    alone = sqlite_mapper(tmp_path / "s.sqlite", new)
    assert [alone.to_domain_event(s).__dict__ for s in stored] == [e.__dict__ for e in logged]
    with pytest.raises(MapperDeserialisationError, match="A record key is wrapped by the key .*, which is not among the keys given"):
        sqlite_mapper(tmp_path / "s.sqlite", old).to_domain_event(stored[0])
