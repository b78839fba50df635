"""The library's cipher, mapper and JSON transcoder, doing the same work in less time.

Every read of the store (a page loading an incident, the projections, a rebuild reading every
event) turns stored events back into domain events. The library's AESCipher makes a new AES-GCM
object, and so schedules the key again, for each event; its Mapper looks up the event's class,
its version and its id's type for each event. Here each is done once: the key once per cipher,
the rest once per topic; and the JSON is parsed by orjson (FastJSONTranscoder). Stored bytes
are the same (the same nonce, tag, ciphertext layout, the same JSON), so a store written by
either is read by both.

Events are stored uncompressed (storage.py says why); those written compressed, before, are
still read: EventMapper decompresses a plaintext that begins with zlib's header.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import zlib
from typing import Any, Callable, Hashable, cast
from uuid import UUID

import orjson

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import JSONTranscoder, Mapper, MapperDeserialisationError, StoredEvent, find_id_convertor
from eventsourcing.utils import Environment, get_topic, resolve_topic

from .record_keys import RECORD_MARK, RecordKeyDestroyed, RecordKeys, open_sealed


# An event encrypted after a key rotation begins with this mark and the 4-byte id of its key; one
# written before (the library's layout, nonce first) is tried with each key, the oldest first.
RING_MARK = b"\xffIKR"


def cipher_key_id(raw: bytes) -> bytes:
    return hashlib.sha256(b"incidents-cipher-key-id:" + raw).digest()[:4]


def key_ring(text: str) -> list[str]:
    """The keys of CIPHER_KEY, newest first: one key, or several separated by commas or lines."""
    return [key.strip() for key in text.replace("\n", ",").split(",") if key.strip()]


class KeptKeyAESCipher(AESCipher):
    """AESCipher with one AES-GCM object per key, made when the cipher is (AESGCM is immutable).

    CIPHER_KEY may hold a key ring, newest first (`incidents keys rotate`): new events are
    encrypted with the newest key and marked with its id, and older events stay as they were,
    read with the key that wrote them. Re-encrypting them would change the stored bytes that the
    signed checkpoints cover."""

    def __init__(self, environment: Environment) -> None:
        ring = key_ring(environment.get(self.CIPHER_KEY) or "")
        if not ring:
            raise OSError(f"'{self.CIPHER_KEY}' not in env")
        raws = [base64.b64decode(key.encode("utf8")) for key in ring]
        for raw in raws:
            AESCipher.check_key_size(len(raw))
        self.key = raws[0]
        self._aesgcm = AESGCM(self.key)
        self._by_id = {cipher_key_id(raw): AESGCM(raw) for raw in raws}
        self._oldest_first = [AESGCM(raw) for raw in reversed(raws)]
        # A single key writes the library's own layout, so a store that never rotated stays as it was.
        self._mark = RING_MARK + cipher_key_id(self.key) if len(raws) > 1 else b""
        self.newest_key_id = cipher_key_id(self.key)
        self.oldest_key_id = cipher_key_id(raws[-1])
        self._environment = environment
        self._record_keys: RecordKeys | None = None

    @property
    def record_keys(self) -> RecordKeys:
        """The records' own keys, wrapped by this ring (record_keys.py), opened on first use."""
        if self._record_keys is None:
            self._record_keys = RecordKeys.from_env(self, self._environment)
        return self._record_keys

    def aesgcm_of(self, key_id: bytes) -> AESGCM:
        try:
            return self._by_id[key_id]
        except KeyError:
            raise ValueError(f"A record key is wrapped by the key {key_id.hex()}, which is not among the keys given") from None

    def encrypt_record(self, originator_id: UUID, originator_version: int, plaintext: bytes) -> bytes:
        """An event of a record that has (or, at its first event, gets) a key of its own; a record
        begun before record keys keeps the deployment key."""
        keys = self.record_keys
        if originator_version == 1:
            key = keys.key_for_new(originator_id)
        elif keys.has_no_key(originator_id):
            return self.encrypt(plaintext)
        else:
            key = keys.key_of(originator_id)
            assert key is not None
        nonce = self.random_bytes(12)
        sealed = key.encrypt(nonce, plaintext, originator_id.bytes)
        return RECORD_MARK + nonce + sealed[-16:] + sealed[:-16]

    def decrypt_record(self, originator_id: Any, ciphertext: bytes) -> bytes:
        if ciphertext[:4] == RECORD_MARK:
            if not isinstance(originator_id, UUID):
                originator_id = UUID(str(originator_id))
            key = self.record_keys.key_of(originator_id)
            if key is not None:
                try:
                    return open_sealed(key, originator_id, ciphertext)
                except InvalidTag as error:
                    raise ValueError("Invalid cipher tag") from error
            try:
                return self.decrypt(ciphertext)  # an event of the deployment key whose nonce begins with the mark
            except ValueError:
                raise RecordKeyDestroyed(f"The key of the record {originator_id} is destroyed: it was disposed of") from None
        return self.decrypt(ciphertext)

    # OpenSSL's generator, as strong as os.urandom, keeps the GIL: os.urandom's system call lets it
    # go, and an app saving on its event loop then waits for its writer thread to hand it back.
    random_bytes = staticmethod(ssl.RAND_bytes)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = self.random_bytes(12)
        sealed = self._aesgcm.encrypt(nonce, plaintext, None)
        return self._mark + nonce + sealed[-16:] + sealed[:-16]  # the tag first, as the library stores it

    def decrypt(self, ciphertext: bytes) -> bytes:
        marked = ciphertext[:4] == RING_MARK
        if marked and ciphertext[4:8] in self._by_id:
            try:
                return self._open(self._by_id[ciphertext[4:8]], ciphertext[8:])
            except ValueError:
                pass  # an unmarked event whose nonce happens to begin with the mark
        if len(self._oldest_first) == 1 and not marked:
            return self._open(self._aesgcm, ciphertext)
        for aesgcm in self._oldest_first:
            try:
                return self._open(aesgcm, ciphertext)
            except ValueError:
                continue
        if marked and ciphertext[4:8] not in self._by_id:
            raise ValueError(f"Encrypted with the key {ciphertext[4:8].hex()}, which is not among the keys given")
        raise ValueError("Invalid cipher tag")

    @staticmethod
    def _open(aesgcm: AESGCM, ciphertext: bytes) -> bytes:
        nonce, tag, encrypted = ciphertext[:12], ciphertext[12:28], ciphertext[28:]
        if len(nonce) != 12:
            raise ValueError("Damaged cipher text: invalid nonce length")
        if len(tag) != 16:
            raise ValueError("Damaged cipher text: invalid tag length")
        try:
            return aesgcm.decrypt(nonce, encrypted + tag, None)
        except InvalidTag as error:
            raise ValueError("Invalid cipher tag") from error


class FastJSONTranscoder(JSONTranscoder):
    """JSONTranscoder whose decode parses with orjson, then turns each encoded object (a datetime,
    a UUID...) back, innermost first, as the library's object_hook does: the same result. The
    json module's parse, with a Python call per object, was the largest part of decoding an
    event. A document orjson refuses or may read differently goes to the library's own decoder:
    NaN, and any number that comes out a float (orjson makes an integer past 64 bits one; events
    hold no floats)."""

    def decode(self, data: bytes) -> Any:
        try:
            return self._revived(orjson.loads(data))
        except (orjson.JSONDecodeError, _ReadByTheLibrary):
            return super().decode(data)

    def _revived(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                kind = type(item)
                if kind is dict:
                    # Most are one encoded value, {"_type_": "datetime_iso", "_data_": "2026-..."}:
                    # nothing inside to revive first.
                    if len(item) == 2 and type(item.get("_type_")) is str and type(item.get("_data_")) is str:
                        value[key] = self._decode_obj(item)
                    else:
                        value[key] = self._revived(item)
                elif kind is list:
                    value[key] = self._revived(item)
                elif kind is float:
                    raise _ReadByTheLibrary
            # What _decode_obj turns back: exactly two keys, "_type_" and "_data_".
            return self._decode_obj(value) if len(value) == 2 and "_type_" in value else value
        if kind is list:
            for index, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[index] = self._revived(item)
                elif kind is float:
                    raise _ReadByTheLibrary
        elif kind is float:
            raise _ReadByTheLibrary
        return value


class _ReadByTheLibrary(Exception):
    pass


# The first byte of a zlib stream with the default window (RFC 1950); an event's JSON begins "{".
ZLIB_HEADER = b"\x78"


DISPOSED_TOPIC_END = ":RecordRetention.Disposed"


class UnreadableEvent(MapperDeserialisationError):
    """A stored event that cannot be turned back into a domain event: damaged, encrypted with
    another key, or of a class this code does not know. `verify-store` says which and why."""

    def __init__(self, message: str, originator_id: Any, originator_version: int) -> None:
        super().__init__(message)
        self.originator_id = originator_id
        self.originator_version = originator_version


class DisposedRecordEvent(UnreadableEvent):
    """An event of a record disposed of: its key is destroyed, as disposal meant. Not damage."""


class Unreadable:
    """In place of an event that cannot be read, for a reader that must go on past it (the
    projections): where it is, what it claims to be, and why it cannot be read."""

    def __init__(self, error: UnreadableEvent, topic: str) -> None:
        self.error = error
        self.originator_id = error.originator_id
        self.originator_version = error.originator_version
        self.topic = topic

    def refuse(self) -> None:
        """What a projection does with it: raise its error, so that it is set aside like any
        event a view cannot write; an event of a record disposed of is passed over (its rows
        were dropped when its disposal was read)."""
        if isinstance(self.error, DisposedRecordEvent):
            return
        raise self.error


class EventMapper(Mapper[UUID]):
    """Mapper whose to_domain_event keeps, per topic and id type, the event class, its version
    and the id's converter (the library finds each again for every event)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes: dict[tuple[str, type], tuple[type, int, Callable[[Any], Any]]] = {}
        self._own_key: dict[str, bool] = {}

    def has_own_key(self, topic: str) -> bool:
        """Whether events of this topic belong to a record with a key of its own: an event class
        nested in an aggregate whose class says OWN_KEY (an incident, a disclosure request)."""
        found = self._own_key.get(topic)
        if found is None:
            module, _, qualname = topic.partition(":")
            try:
                outer = resolve_topic(f"{module}:{qualname.rsplit('.', 1)[0]}") if "." in qualname else None
            except Exception:
                outer = None
            found = self._own_key[topic] = bool(getattr(outer, "OWN_KEY", False))
        return found

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cipher = self.cipher
        if not isinstance(cipher, KeptKeyAESCipher):
            return super().to_stored_event(domain_event)
        topic = get_topic(type(domain_event))
        if not self.has_own_key(topic):
            return super().to_stored_event(domain_event)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        plaintext = self.transcoder.encode(event_state)
        if self.compressor:
            plaintext = self.compressor.compress(plaintext)
        return StoredEvent(
            originator_id=originator_id, originator_version=originator_version, topic=topic,
            state=cipher.encrypt_record(originator_id, originator_version, plaintext),
        )

    def _class_of(self, topic: str, id_type: type) -> tuple[type, int, Callable[[Any], Any]]:
        cls = resolve_topic(topic)
        found = (cls, getattr(cls, "class_version", 1), find_id_convertor(cls, cast(Hashable, id_type)))
        self._classes[(topic, id_type)] = found
        return found

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.event_from(stored_event.topic, stored_event.originator_id, stored_event.originator_version, stored_event.state)

    def event_or_unreadable(self, topic: str, originator_id: Any, originator_version: int, stored_state: bytes) -> Any:
        """As event_from, with an Unreadable in place of an event that cannot be read."""
        try:
            return self.event_from(topic, originator_id, originator_version, stored_state)
        except UnreadableEvent as error:
            return Unreadable(error, topic)

    def domain_event_or_unreadable(self, stored_event: StoredEvent) -> Any:
        return self.event_or_unreadable(stored_event.topic, stored_event.originator_id, stored_event.originator_version, stored_event.state)

    def event_from(self, topic: str, originator_id: Any, originator_version: int, stored_state: bytes) -> Any:
        """The domain event of one stored row's columns (a rebuild reads rows, not StoredEvents)."""
        try:
            found = self._classes.get((topic, type(originator_id)))
            cls, class_version, id_convertor = found or self._class_of(topic, type(originator_id))
            if isinstance(self.cipher, KeptKeyAESCipher):
                stored_state = self.cipher.decrypt_record(originator_id, stored_state)
            elif self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if stored_state[:1] == ZLIB_HEADER:  # written compressed (see storage.py)
                stored_state = zlib.decompress(stored_state)
            event_state: dict[str, Any] = self.transcoder.decode(stored_state)
        except RecordKeyDestroyed as error:
            raise DisposedRecordEvent(
                f"The event {originator_version} of the record {originator_id} cannot be read: the record was disposed of and its key destroyed",
                originator_id, originator_version,
            ) from error
        except Exception as error:
            raise UnreadableEvent(
                f"Failed to deserialise state of stored event with topic '{topic}', "
                f"originator_id '{originator_id}' and originator_version {originator_version}: {error}",
                originator_id, originator_version,
            ) from error
        event_state["originator_id"] = id_convertor(originator_id)
        event_state["originator_version"] = originator_version
        if topic.endswith(DISPOSED_TOPIC_END) and isinstance(self.cipher, KeptKeyAESCipher):
            self.cipher.record_keys.forget(event_state["record_id"])  # a key this process kept, destroyed by another
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return domain_event
