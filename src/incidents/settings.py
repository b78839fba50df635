"""One settings object, read from the environment once, for the composition root."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

PREFIX = "INCIDENTS_"
PROJECTIONS_MODES = ("child", "inline", "worker")


class ConfigurationError(Exception):
    """The deployment is set up wrongly; the message says how to put it right."""


def _number(kind: type, name: str, text: str):
    try:
        value = kind(text)
    except ValueError:
        raise ConfigurationError(f"{PREFIX}{name} must be a number, not {text!r}") from None
    if value < 0:
        raise ConfigurationError(f"{PREFIX}{name} cannot be negative")
    return value


def check_trusted_proxies(text: str) -> None:
    for part in filter(None, text.split(",")):
        if part == "*":
            continue
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ConfigurationError(
                f"{PREFIX}TRUSTED_PROXIES lists addresses or networks (10.0.0.5,10.1.0.0/16), not {part!r}"
            ) from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    cipher_key: str = ""
    cipher_key_file: Path | None = None
    signing_key_file: Path | None = None
    session_secret: str = ""
    patient_index_key: str = ""  # base64; blank: the key file beside the encryption key's
    idle_timeout_minutes: float = 10
    one_time_password_hours: float = 72
    secure_cookies: bool = False
    practice: str = "A00001"
    view_wait_seconds: float = 2.0
    worker_stale_seconds: float = 15.0  # worker mode: /healthz says 503 when no worker was seen for longer
    quiet_days: int = 14  # an open incident with no activity for longer is listed as needing someone
    projections: str = "child"
    checkpoint_seconds: float = 60.0
    session_max_hours: float = 12
    trusted_proxies: str = ""  # addresses or CIDRs whose X-Forwarded-For names the client
    db_host: str = ""
    db_port: str = ""
    db_name: str = ""
    db_user: str = ""
    db_password: str = ""
    db_pool_size: int = 1
    db_max_overflow: int = 3
    db_idle_seconds: float = 10.0
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(PREFIX + name, default).strip()

        data_dir = Path(get("DATA_DIR", "data"))
        idle = _number(float, "IDLE_TIMEOUT_MINUTES", get("IDLE_TIMEOUT_MINUTES", "10"))
        wait = _number(float, "VIEW_WAIT_SECONDS", get("VIEW_WAIT_SECONDS", "2"))
        worker_stale = _number(float, "WORKER_STALE_SECONDS", get("WORKER_STALE_SECONDS", "15"))
        quiet_days = _number(int, "QUIET_DAYS", get("QUIET_DAYS", "14"))
        if quiet_days < 1:
            raise ConfigurationError(f"{PREFIX}QUIET_DAYS must be a whole number of days, at least 1")
        one_time_hours = _number(float, "ONE_TIME_PASSWORD_HOURS", get("ONE_TIME_PASSWORD_HOURS", "72"))
        if not one_time_hours:
            raise ConfigurationError(f"{PREFIX}ONE_TIME_PASSWORD_HOURS must be more than 0")
        key_file = get("CIPHER_KEY_FILE")
        checkpoint_seconds = _number(float, "CHECKPOINT_SECONDS", get("CHECKPOINT_SECONDS", "60"))
        projections = get("PROJECTIONS", "child")
        session_max_hours = _number(float, "SESSION_MAX_HOURS", get("SESSION_MAX_HOURS", "12"))
        trusted_proxies = ",".join(part.strip() for part in get("TRUSTED_PROXIES").split(",") if part.strip())
        check_trusted_proxies(trusted_proxies)
        if projections not in PROJECTIONS_MODES:
            raise ConfigurationError(
                "INCIDENTS_PROJECTIONS is 'child' (the app runs them in a process of its own), 'inline' "
                "(in the app's process) or 'worker' (run by `incidents project`)"
            )
        return cls(
            data_dir=data_dir,
            database_url=get("DATABASE_URL"),
            cipher_key=get("CIPHER_KEY"),
            cipher_key_file=Path(key_file) if key_file else None,
            signing_key_file=Path(get("SIGNING_KEY_FILE")) if get("SIGNING_KEY_FILE") else None,
            session_secret=get("SESSION_SECRET"),
            patient_index_key=get("PATIENT_INDEX_KEY"),
            idle_timeout_minutes=idle,
            one_time_password_hours=one_time_hours,
            secure_cookies=get("SECURE_COOKIES", "0").lower() in ("1", "true", "yes"),
            practice=get("PRACTICE", "A00001"),
            view_wait_seconds=wait,
            worker_stale_seconds=worker_stale,
            quiet_days=quiet_days,
            projections=projections,
            checkpoint_seconds=checkpoint_seconds,
            session_max_hours=session_max_hours,
            trusted_proxies=trusted_proxies,
            db_host=get("DB_HOST"),
            db_port=get("DB_PORT"),
            db_name=get("DB_NAME"),
            db_user=get("DB_USER"),
            db_password=env.get(PREFIX + "DB_PASSWORD", ""),  # not stripped: a password may end in a space
            db_pool_size=_number(int, "DB_POOL_SIZE", get("DB_POOL_SIZE", "1")),
            db_max_overflow=_number(int, "DB_MAX_OVERFLOW", get("DB_MAX_OVERFLOW", "3")),
            db_idle_seconds=_number(float, "DB_IDLE_SECONDS", get("DB_IDLE_SECONDS", "10")),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that `from_env` reads back as these settings (for a child process)."""
        values = {
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.database_url,
            "CIPHER_KEY": self.cipher_key,
            "CIPHER_KEY_FILE": str(self.cipher_key_file or ""),
            "SIGNING_KEY_FILE": str(self.signing_key_file or ""),
            "SESSION_SECRET": self.session_secret,
            "PATIENT_INDEX_KEY": self.patient_index_key,
            "IDLE_TIMEOUT_MINUTES": repr(self.idle_timeout_minutes),
            "ONE_TIME_PASSWORD_HOURS": repr(self.one_time_password_hours),
            "SECURE_COOKIES": "1" if self.secure_cookies else "0",
            "PRACTICE": self.practice,
            "VIEW_WAIT_SECONDS": repr(self.view_wait_seconds),
            "WORKER_STALE_SECONDS": repr(self.worker_stale_seconds),
            "QUIET_DAYS": str(self.quiet_days),
            "PROJECTIONS": self.projections,
            "CHECKPOINT_SECONDS": repr(self.checkpoint_seconds),
            "SESSION_MAX_HOURS": repr(self.session_max_hours),
            "TRUSTED_PROXIES": self.trusted_proxies,
            "DB_HOST": self.db_host,
            "DB_PORT": self.db_port,
            "DB_NAME": self.db_name,
            "DB_USER": self.db_user,
            "DB_PASSWORD": self.db_password,
            "DB_POOL_SIZE": str(self.db_pool_size),
            "DB_MAX_OVERFLOW": str(self.db_max_overflow),
            "DB_IDLE_SECONDS": repr(self.db_idle_seconds),
        }
        # Unset, not empty: the event store's library reads INCIDENTS_<its setting> too (the
        # application is called "incidents"), and would take an empty CIPHER_KEY for a key.
        return {PREFIX + name: value for name, value in values.items() if value}

    @property
    def effective_database_url(self) -> str:
        if not self.database_url and (self.db_host or self.db_name):
            # Each part quoted: a password with /, # or ? stays one password.
            user = quote(self.db_user or "postgres", safe="")
            password = f":{quote(self.db_password, safe='')}" if self.db_password else ""
            port = f":{self.db_port}" if self.db_port else ""
            return f"postgresql://{user}{password}@{self.db_host or '127.0.0.1'}{port}/{quote(self.db_name or 'incidents', safe='')}"
        return self.database_url or f"sqlite:///{self.data_dir / 'incidents.sqlite'}"

    @property
    def effective_key_file(self) -> Path:
        return self.cipher_key_file or self.data_dir / "cipher.key"

    @property
    def effective_signing_key_file(self) -> Path:
        """The Ed25519 key that signs evidence bundles and store checkpoints: beside the encryption key by default."""
        return self.signing_key_file or self.effective_key_file.parent / "signing-key.pem"

    @property
    def effective_patient_index_key_file(self) -> Path:
        """The key of the patient blind index (HMACs of NHS numbers in the views): beside the encryption key."""
        return self.effective_key_file.parent / "patient-index.key"
