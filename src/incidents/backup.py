"""`incidents backup DEST` and `incidents restore SRC`: a consistent copy of what cannot be
rebuilt, while the app runs, and its way back into an empty data folder.

What is copied: the event store alone. It holds every event (encrypted), the signed checkpoints
and the signing key (encrypted like any event). On SQLite it is read through SQLite's online
backup API inside one read transaction, so the copy is the store at one instant however many
writes arrive meanwhile (WAL mode: the writers do not wait for it). On PostgreSQL `pg_dump`
copies the events table in one snapshot.

What is not copied: the views (`view-*.sqlite`, or their PostgreSQL tables) are rebuilt from the
events by the restore, and they hold the words of notes in plain text, which a backup of
ciphertext alone does not; the sign-in attempts (a 15-minute window) and the session secret (a
restored service asks everyone to sign in again). The keys are not copied either, unless asked,
and then into a file of their own: the manifest names each by a fingerprint, so a restore can
say which key it needs and refuse a wrong one before it writes anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .settings import ConfigurationError, Settings
from .mapping import key_ring
from .storage import Store, cipher_key_fingerprints, key_fingerprint, store_for

FORMAT = "incidents-backup/1"
MANIFEST = "manifest.json"
SQLITE_COPY = "incidents.sqlite"
PG_COPY = "incidents-events.pgdump"
PG_EVENTS_TABLE = "incidents_events"  # the library's table for an application named "incidents"
RECORD_KEYS_TABLE = "record_keys"  # each record's own key, wrapped (record_keys.py)
PAGES_PER_STEP = 256  # 1 MB of 4 kB pages between progress updates
CHUNK = 1 << 20
REFERENCES_GIVEN = "references-given"
Progress = Callable[[int, int], None]
PG_DUMP_MISSING = (
    "pg_dump is not installed, and a PostgreSQL store is backed up with it: install PostgreSQL's client tools "
    "of the server's version or newer (Debian: apt install postgresql-client), or follow the pg_dump procedure "
    "in the README (Backup and restore) on a machine that has them"
)


class BackupError(ConfigurationError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def sha256_of(path: Path, progress: Progress | None = None, done: int = 0, total: int = 0) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _private_file(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    return os.fdopen(fd, "w")


# Backup ------------------------------------------------------------------------------------


@dataclass
class BackupMade:
    folder: Path
    manifest: dict[str, Any]
    keys_file: Path | None


def backup(settings: Settings, dest: Path, progress: Progress, keys_file: Path | None = None) -> BackupMade:
    """Copy the event store into `dest` (a new or empty folder) with its manifest; with
    `keys_file`, the keys too, into that file alone (it must not exist, and not be in `dest`)."""
    from .bootstrap import checked_patient_index_key
    from .storage import cipher_key

    store = store_for(settings)
    if store.kind == "memory":
        raise BackupError("The in-memory store keeps nothing to back up")
    _check_empty_destination(dest)
    if store.kind == "postgres" and shutil.which("pg_dump") is None:
        raise BackupError(PG_DUMP_MISSING)
    if keys_file is not None:
        keys_file = keys_file.absolute()
        if keys_file.exists():
            raise BackupError(f"The keys file {keys_file} exists already: name a new file, so no key is overwritten")
        if dest.absolute() in keys_file.parents:
            raise BackupError(f"Keep the keys apart from the backup: {keys_file} is inside {dest}")
    if store.kind == "sqlite" and not Path(store.location).exists():
        raise BackupError(f"There is no event store at {store.location} to back up (INCIDENTS_DATA_DIR, INCIDENTS_DATABASE_URL)")
    key = cipher_key(settings, store, allow_create=False).key
    patient_key = checked_patient_index_key(settings)
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    if store.kind == "sqlite":
        _copy_sqlite(Path(store.location), dest / SQLITE_COPY, progress)
        copy_store = Store("sqlite", {**store.env, "SQLITE_DBNAME": str(dest / SQLITE_COPY)}, str(dest / SQLITE_COPY))
        contents = _contents(copy_store, key, patient_key)  # before the checksum: opening the copy may touch its header
        files = [_file_entry(dest, SQLITE_COPY, "the event store: every event (encrypted), the signed checkpoints, the signing key (encrypted)")]
    else:
        # Read before the dump, which holds at least these events (the log only grows).
        contents = _contents(store, key, patient_key)
        _dump_postgres(store, dest / PG_COPY)
        files = [_file_entry(dest, PG_COPY, f"pg_dump --format=custom of the table {PG_EVENTS_TABLE}: every event (encrypted), the signed checkpoints, the signing key (encrypted)")]
    manifest = {
        "format": FORMAT,
        "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "store": {"kind": store.kind, "location": store.location},
        "files": files,
        **contents,
        "references_given": (settings.data_dir / REFERENCES_GIVEN).exists(),
        "not_copied": {
            "views": "view-*.sqlite (or the views' PostgreSQL tables): rebuilt from the events by `incidents restore`; they hold notes' words in plain text",
            "sign-in attempts": "a 15-minute window of failed sign-ins",
            "session secret": "after a restore everyone signs in again",
            "checkpoint-head.json": "this machine's note of the newest checkpoint it signed; compare the last checkpoint below instead",
        },
        "keys": {
            "cipher_key": {
                "needed": True,
                "fingerprints": cipher_key_fingerprints(key),  # newest first: each key that may have written events (`incidents keys rotate`)
                "why": "decrypts every stored event; without it the backup cannot be read",
                "from": "INCIDENTS_CIPHER_KEY" if settings.cipher_key else str(settings.effective_key_file),
            },
            "patient_index_key": {
                "needed": False,
                "fingerprint": key_fingerprint(patient_key, "patient-index"),
                "why": "finds a patient's incidents by NHS number; with another key the restore rebuilds the views under it, and processes that share the old key must be given the new one",
                "from": "INCIDENTS_PATIENT_INDEX_KEY" if settings.patient_index_key else str(settings.effective_patient_index_key_file),
            },
            "record_key_store": {
                "needed": False,
                "location": "the record_keys table, in the copied store: each record's own key, wrapped by the cipher key",
                "fingerprint": None,
                "why": "not a key of its own: the records' keys are in the store and need the cipher key. A record disposed of after "
                       "this backup is named in the register of disposals kept beside the cipher key (disposed-records); a restore "
                       "with that register in place destroys its key again (README: Backup and restore)",
            },
        },
        "keys_file": keys_file.name if keys_file else None,
    }
    with _private_file(dest / MANIFEST) as file:
        json.dump(manifest, file, indent=2)
        file.write("\n")
    if keys_file is not None:
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        with _private_file(keys_file) as file:
            json.dump({"format": FORMAT, "cipher_key": key, "patient_index_key": patient_key}, file, indent=2)
            file.write("\n")
    return BackupMade(dest, manifest, keys_file)


def _check_empty_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} is not an empty folder: back up into a new one, so no earlier backup is overwritten or mixed in")


def _copy_sqlite(source: Path, target: Path, progress: Progress) -> None:
    """The online backup, in steps, inside one read transaction: a snapshot (WAL mode lets the
    app's writes go on meanwhile, and they do not make the backup start again)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None, timeout=30) as reading:
        reading.execute("BEGIN")
        reading.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the snapshot
        copy = sqlite3.connect(target)
        try:
            reading.backup(copy, pages=PAGES_PER_STEP, progress=lambda _status, remaining, total: progress(total - remaining, total))
        finally:
            copy.close()
        reading.execute("COMMIT")
    os.chmod(target, 0o600)


def _dump_postgres(store: Store, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(PG_DUMP_MISSING)
    env = store.env
    result = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--table={PG_EVENTS_TABLE}", f"--table={RECORD_KEYS_TABLE}", f"--file={target}",
         "--host", env["POSTGRES_HOST"], "--port", env["POSTGRES_PORT"], "--username", env["POSTGRES_USER"], env["POSTGRES_DBNAME"]],
        env={**os.environ, "PGPASSWORD": env["POSTGRES_PASSWORD"]}, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    os.chmod(target, 0o600)
    listing = subprocess.run([shutil.which("pg_restore") or "pg_restore", "--list", str(target)], capture_output=True, text=True)
    if PG_EVENTS_TABLE not in listing.stdout:
        raise BackupError(f"The dump holds no table {PG_EVENTS_TABLE}: is INCIDENTS_DATABASE_URL this deployment's database?")


def _file_entry(folder: Path, name: str, what: str) -> dict[str, Any]:
    path = folder / name
    return {"name": name, "bytes": path.stat().st_size, "sha256": sha256_of(path), "what": what}


def _contents(store: Store, key: str, patient_key: str) -> dict[str, Any]:
    """What the copy holds, read from the copy itself: its events, its last checkpoint, and the
    signing key it keeps."""
    from .application.service import IncidentLog
    from .application.signing_key import stored_key
    from .bootstrap import application_env
    from .evidence.store_checkpoint import read_checkpoint
    from .domain.checkpoint import CHECKPOINT_LOG_ID

    log = IncidentLog(env={**application_env(store, key, patient_key), "CREATE_TABLE": "n"})
    try:
        last_event = log.recorder.max_notification_id() or 0
        signing = stored_key(log)
        history = [
            {"fingerprint": kept.fingerprint, "valid_from": kept.valid_from.isoformat() if kept.valid_from else None,
             "valid_until": kept.valid_until.isoformat() if kept.valid_until else None}
            for kept in log.signing_keys()
        ]
        checkpoints = log.recorder.select_events(CHECKPOINT_LOG_ID, desc=True, limit=1)
        last_checkpoint = None
        if checkpoints:
            statement = read_checkpoint(log.mapper.to_domain_event(checkpoints[0])).statement
            last_checkpoint = {"number": statement.number, "last_event": statement.last, "signed_at": statement.signed_when, "chain_hash": statement.chain_hash}
    finally:
        log.close()
    return {
        "last_event": last_event,
        "last_checkpoint": last_checkpoint,
        "signing_key": {
            "kept": "in the event store, encrypted with the cipher key", "fingerprint": signing.fingerprint() if signing else None,
            "history": history,  # every key that signed checkpoints or bundles, oldest first, with when it was in use
        },
    }


# Restore -----------------------------------------------------------------------------------


@dataclass
class Restored:
    store: Store
    manifest: dict[str, Any]
    wrote_keys: list[Path]


def read_manifest(src: Path) -> dict[str, Any]:
    path = src / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{src} holds no {MANIFEST}: it is not a backup made by `incidents backup`") from None
    except ValueError:
        raise BackupError(f"{path} is not readable JSON: the backup is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a manifest of the format {FORMAT}")
    return manifest


def check_files(src: Path, manifest: dict[str, Any], progress: Progress) -> None:
    total = sum(entry["bytes"] for entry in manifest["files"])
    done = 0
    for entry in manifest["files"]:
        path = src / entry["name"]
        if not path.is_file():
            raise BackupError(f"The backup lacks {entry['name']}, which its manifest lists")
        if path.stat().st_size != entry["bytes"] or sha256_of(path, progress, done, total) != entry["sha256"]:
            raise BackupError(f"{entry['name']} in {src} is not the file the manifest lists (its size or SHA-256 differs): the backup is damaged")
        done += entry["bytes"]


def restore(settings: Settings, src: Path, progress: Progress, keys_file: Path | None = None) -> Restored:
    """Check the backup and the keys, then copy the event store into the empty data folder (or
    empty PostgreSQL database) that the settings name. The caller rebuilds the views."""
    manifest = read_manifest(src)
    store = store_for(settings)
    if store.kind == "memory":
        raise BackupError("Restore into a data folder or a PostgreSQL database, not the in-memory store")
    if manifest["store"]["kind"] != store.kind:
        raise BackupError(
            f"This backup is of a {manifest['store']['kind']} store and the settings name a {store.kind} one "
            "(INCIDENTS_DATABASE_URL): restore it into the same kind"
        )
    keys = _read_keys_file(keys_file) if keys_file else {}
    _check_empty_target(settings, store)
    _place_keys(settings, manifest, keys, write=False)  # a wrong or missing key is said before the long check
    check_files(src, manifest, progress)
    wrote = _place_keys(settings, manifest, keys, write=True)
    if store.kind == "sqlite":
        _copy_file(src / SQLITE_COPY, Path(store.location), progress)
    else:
        _restore_postgres(store, src / PG_COPY)
    if manifest.get("references_given"):
        (settings.data_dir / REFERENCES_GIVEN).touch()
    return Restored(store, manifest, wrote)


def _read_keys_file(path: Path) -> dict[str, str]:
    try:
        keys = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"There is no keys file {path}") from None
    except ValueError:
        raise BackupError(f"{path} is not a keys file made by `incidents backup --keys-file`") from None
    if not isinstance(keys, dict) or keys.get("format") != FORMAT or "cipher_key" not in keys:
        raise BackupError(f"{path} is not a keys file made by `incidents backup --keys-file`")
    return keys


def _key_files(settings: Settings) -> set[Path]:
    """What may be in the target before a restore: the keys, and the register of disposals kept with them."""
    from .bootstrap import disposal_register

    return {settings.effective_key_file.absolute(), settings.effective_patient_index_key_file.absolute(), disposal_register(settings).absolute()}


def _check_empty_target(settings: Settings, store: Store) -> None:
    """Only into an empty folder (the key files it needs, put back first, aside), so nothing of
    another store is overwritten or mixed with the restored one."""
    # On PostgreSQL the database holds the store; the data folder, only keys and secrets.
    folders = {settings.data_dir.absolute(), Path(store.location).parent.absolute()} if store.kind == "sqlite" else set()
    allowed = _key_files(settings)
    for folder in folders:
        if folder.exists() and not folder.is_dir():
            raise BackupError(f"{folder} is a file, not a data folder")
        others = sorted(entry.name for entry in folder.iterdir() if entry.absolute() not in allowed) if folder.exists() else []
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            raise BackupError(
                f"The data folder {folder} is not empty (it holds {shown}): restore only into an empty folder "
                "(INCIDENTS_DATA_DIR), so nothing already there is overwritten or mixed with the restored store. "
                "Only the key files may be put back in it first."
            )
    if store.kind == "postgres":
        import psycopg

        env = store.env
        try:
            with psycopg.connect(
                host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"],
                dbname=env["POSTGRES_DBNAME"], connect_timeout=5,
            ) as db:
                tables = db.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                ).fetchone()[0]
        except psycopg.Error as error:
            raise BackupError(f"Cannot open the database {env['POSTGRES_DBNAME']} to restore into: {error}") from None
        if tables:
            raise BackupError(
                f"The database {env['POSTGRES_DBNAME']} is not empty (it holds {tables} tables): restore only into a new, empty "
                "database (createdb), so nothing already there is overwritten or mixed with the restored store"
            )


def _place_keys(settings: Settings, manifest: dict[str, Any], keys: dict[str, str], write: bool) -> list[Path]:
    """The keys already in place, or those of the keys file, checked against the manifest's
    fingerprints; with `write`, the keys file's written where the settings look for them."""
    from .storage import _valid_key

    wrote: list[Path] = []
    wanted = manifest["keys"]["cipher_key"]["fingerprints"]
    shown = ", ".join(wanted)
    if keys:
        given = _valid_key(keys["cipher_key"], "the keys file")
        if not set(wanted) <= set(cipher_key_fingerprints(given)):
            raise BackupError(f"The keys file's encryption keys are not those this backup needs ({shown})")
    if settings.cipher_key:
        present: str | None = settings.cipher_key
    elif settings.effective_key_file.exists():
        present = settings.effective_key_file.read_text()
    else:
        present = None
    if present is None and keys:
        if not write:
            return wrote
        settings.effective_key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _private_file(settings.effective_key_file) as file:
            file.write("\n".join(key_ring(keys["cipher_key"])) + "\n")
        wrote.append(settings.effective_key_file)
    elif present is None:
        raise BackupError(
            f"No encryption key: this backup needs the key whose fingerprint is {shown}. Put it back in "
            f"{settings.effective_key_file} or INCIDENTS_CIPHER_KEY first, or give the keys file (--keys-file)"
        )
    else:
        have = cipher_key_fingerprints(_valid_key(present, "the encryption key"))
        lacking = [fingerprint for fingerprint in wanted if fingerprint not in have]
        if lacking:
            raise BackupError(
                f"The encryption key here ({'INCIDENTS_CIPHER_KEY' if settings.cipher_key else settings.effective_key_file}) is not "
                f"the one this backup needs: it lacks {', '.join(lacking)} (it has {', '.join(have)})"
            )
    patient_file = settings.effective_patient_index_key_file
    if write and keys.get("patient_index_key") and not settings.patient_index_key and not patient_file.exists():
        with _private_file(patient_file) as file:
            file.write(keys["patient_index_key"] + "\n")
        wrote.append(patient_file)
    return wrote


def _copy_file(source: Path, target: Path, progress: Progress) -> None:
    """Whole or not at all: copied beside the target under another name, then renamed."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    total = source.stat().st_size
    done = 0
    with open(source, "rb") as reading, _private_binary(partial) as writing:
        while chunk := reading.read(CHUNK):
            writing.write(chunk)
            done += len(chunk)
            progress(done, total)
        writing.flush()
        os.fsync(writing.fileno())
    os.rename(partial, target)


def _private_binary(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    return os.fdopen(fd, "wb")


def _restore_postgres(store: Store, dump: Path) -> None:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError(
            "pg_restore is not installed, and a PostgreSQL backup is restored with it: install PostgreSQL's client tools "
            "(Debian: apt install postgresql-client)"
        )
    env = store.env
    result = subprocess.run(
        [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", "--host", env["POSTGRES_HOST"], "--port", env["POSTGRES_PORT"],
         "--username", env["POSTGRES_USER"], "--dbname", env["POSTGRES_DBNAME"], str(dump)],
        env={**os.environ, "PGPASSWORD": env["POSTGRES_PASSWORD"]}, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
