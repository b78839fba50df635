"""Builds the application from one settings object: the only place that knows both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .application.patient_index import ENV_KEY as PATIENT_INDEX_KEY
from .application.patient_index import valid_key
from .application.service import IncidentLog
from .mapping import DisposedRecordEvent
from .settings import Settings
from .storage import (
    CIPHER_TOPIC, MAPPER_TOPIC, TRANSCODER_TOPIC, CipherKeyError, Store, cipher_key, keep_private, new_cipher_key, patient_index_key,
    store_for,
)


@dataclass
class Opened:
    log: IncidentLog
    store: Store
    env: dict[str, str]
    new_key_file: Path | None = None


def application_env(store: Store, key: str, patient_key: str = "") -> dict[str, str]:
    """The environment of the log and of every view; the views find patients by `patient_key`
    (a fresh one when none is given, for a store that keeps nothing)."""
    return {
        **store.env,
        "CIPHER_TOPIC": CIPHER_TOPIC,
        "CIPHER_KEY": key,
        "MAPPER_TOPIC": MAPPER_TOPIC,
        "TRANSCODER_TOPIC": TRANSCODER_TOPIC,
        PATIENT_INDEX_KEY: patient_key or new_cipher_key(),
    }


def checked_patient_index_key(settings: Settings) -> str:
    key = patient_index_key(settings)
    where = "INCIDENTS_PATIENT_INDEX_KEY" if settings.patient_index_key else str(settings.effective_patient_index_key_file)
    valid_key(key, where)
    return key


def open_log(settings: Settings) -> Opened:
    """Open the event store, making a key on the very first run, and prove the key reads it."""
    keep_private(store_for(settings), settings)
    opened = _open_log(settings)
    keep_private(opened.store, settings)  # the event store's file, made just now on a first run
    opened.log.one_time_password_lifetime = timedelta(hours=settings.one_time_password_hours)
    if opened.store.kind != "memory":
        opened.log.keep_bundles_in(settings.data_dir / "bundles")
        opened.log.disposal_register = disposal_register(settings)
    return opened


def _open_log(settings: Settings) -> Opened:
    store = store_for(settings)
    if store.kind == "memory":
        env = application_env(store, settings.cipher_key or new_cipher_key(), settings.patient_index_key)
        return Opened(IncidentLog(env=env), store, env)
    try:
        key = cipher_key(settings, store, allow_create=False)
    except CipherKeyError:
        if settings.cipher_key or settings.effective_key_file.exists():
            raise
        log = IncidentLog(env=application_env(store, new_cipher_key()))
        has_events = log.recorder.max_notification_id() is not None
        log.close()
        if has_events:
            raise
        key = cipher_key(settings, store, allow_create=True)
    env = application_env(store, key.key, checked_patient_index_key(settings))
    log = IncidentLog(env=env)
    check_key_reads_store(log, store)
    return Opened(log, store, env, key.created_at)


def check_key_reads_store(log: IncidentLog, store: Store) -> None:
    last = log.recorder.max_notification_id()
    if last is None:
        return
    # The first and the last: after a rotation, the oldest and the newest keys of the ring.
    notifications = log.recorder.select_notifications(start=1, limit=1) + log.recorder.select_notifications(start=last, limit=1)
    try:
        for notification in notifications:
            try:
                log.mapper.to_domain_event(notification)
            except DisposedRecordEvent:
                continue  # a record disposed of: its key is destroyed on purpose, and says nothing of the deployment key
    except Exception as error:  # the cipher raises its own types for a wrong key or damaged data
        log.close()
        raise CipherKeyError(
            f"The encryption key does not open the events stored in {store.location} "
            f"({type(error).__name__}). Use the key they were written with (after `incidents keys rotate`, every key of the key file: it keeps them all, newest first)."
        ) from None


def disposal_register(settings: Settings) -> Path:
    """The register of the records disposed of, beside the encryption key (record_keys.py)."""
    return settings.effective_key_file.with_name("disposed-records")
