"""The app's cipher, mapper and transcoder (incidents.mapping) store and read exactly what the
library's do: a store written by either is read by the other, and damage is still refused."""

from __future__ import annotations

from datetime import date, datetime, timezone
from uuid import UUID

import pytest
from hypothesis import example, given, strategies as st
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import (
    DatetimeAsISO, JSONTranscoder, Mapper, MapperDeserialisationError, StoredEvent, TranscodingNotRegisteredError, UUIDAsHex,
)
from eventsourcing.utils import Environment

from incidents.application.records import DateAsISO
from incidents.domain.acting import acting_as
from incidents.domain.filming import FilmingIncident
from incidents.mapping import EventMapper, FastJSONTranscoder, KeptKeyAESCipher
from incidents.storage import new_cipher_key


def mapper(mapper_class: type[Mapper], cipher_class: type[AESCipher], key: str, compressed: bool = True) -> Mapper:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    compressor = ZlibCompressor() if compressed else None
    return mapper_class(transcoder=transcoder, compressor=compressor, cipher=cipher_class(Environment(env={"CIPHER_KEY": key})))


def events() -> list:
    with acting_as("r", "Reception"):
        incident = FilmingIncident.report(
            practice="A81001", submission_key="k" * 32, occurred_at=datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc),
            area="waiting_area", filmer="patient", people_captured="staff", children_present="no", note="Filmed the desk",
        )
        incident.respond("PolicyExplained", datetime(2026, 3, 29, 0, 40, tzinfo=timezone.utc), "s" * 32)
    return incident.collect_events()


@pytest.mark.parametrize("writer, reader", [((Mapper, AESCipher), (EventMapper, KeptKeyAESCipher)), ((EventMapper, KeptKeyAESCipher), (Mapper, AESCipher))])
def test_what_one_stores_the_other_reads(writer, reader):
    key = new_cipher_key()
    write, read = mapper(*writer, key), mapper(*reader, key)
    for event in events():
        stored = write.to_stored_event(event)
        again = read.to_domain_event(stored)
        assert type(again) is type(event)
        assert again.__dict__ == event.__dict__
        assert read.to_domain_event(stored).__dict__ == event.__dict__  # and again, from what it kept


@pytest.mark.parametrize("compressed", [False, True], ids=["as the app stores now", "compressed, as it stored before"])
def test_the_app_reads_events_stored_compressed_or_not_and_stores_them_uncompressed(compressed):
    key = new_cipher_key()
    app = mapper(EventMapper, KeptKeyAESCipher, key, compressed=False)  # as bootstrap.application_env makes it
    write = mapper(Mapper, AESCipher, key, compressed=compressed)
    for event in events():
        assert app.to_domain_event(write.to_stored_event(event)).__dict__ == event.__dict__
        stored = app.to_stored_event(event)
        assert app.cipher.decrypt(stored.state).startswith(b'{"')  # plain JSON under the encryption
        assert mapper(Mapper, AESCipher, key, compressed=False).to_domain_event(stored).__dict__ == event.__dict__


def test_damaged_or_foreign_events_are_refused():
    key = new_cipher_key()
    event = events()[0]
    stored = mapper(EventMapper, KeptKeyAESCipher, key).to_stored_event(event)
    damaged = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, stored.state[:-1] + bytes([stored.state[-1] ^ 1]))
    with pytest.raises(MapperDeserialisationError, match="Invalid cipher tag"):
        mapper(EventMapper, KeptKeyAESCipher, key).to_domain_event(damaged)
    with pytest.raises(MapperDeserialisationError, match="Invalid cipher tag"):
        mapper(EventMapper, KeptKeyAESCipher, new_cipher_key()).to_domain_event(stored)


def transcoders() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    library, fast = JSONTranscoder(), FastJSONTranscoder()
    for transcoder in (library, fast):
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), DateAsISO()):
            transcoder.register(transcoding)
    return library, fast


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(), st.uuids(),
    st.datetimes(timezones=st.just(timezone.utc)), st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["_type_", "_data_", "a", "b", "note"]) | st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), values, max_size=6))
@example({"timestamp": datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), "nested": [{"when": date(2026, 1, 2)}, [UUID(int=7)]]})
@example({"big": 2**70, "nan": float("nan")})  # what orjson refuses, the library's decoder reads
@example({"looks encoded": {"_type_": "a", "b": 1}, "three keys": {"_type_": "uuid_hex", "_data_": "x", "c": 1}})
def test_the_fast_transcoder_decodes_exactly_what_the_library_does(state):
    library, fast = transcoders()
    data = library.encode(state)
    assert fast.encode(state) == data
    assert outcome(fast, data) == outcome(library, data)


def outcome(transcoder: JSONTranscoder, data: bytes) -> tuple[str, str]:
    """What decoding gives, by its repr (so NaN equals itself and types show), or what it raises
    (an object that looks encoded but names no transcoding is refused by both)."""
    try:
        return "decoded", repr(transcoder.decode(data))
    except Exception as error:
        return "raised", type(error).__name__


def test_an_encoded_object_of_an_unknown_type_is_refused_by_both():
    library, fast = transcoders()
    data = b'{"a":[{"_type_":"money","_data_":"12.00"}]}'
    for transcoder in (library, fast):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.decode(data)
