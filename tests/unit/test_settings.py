"""Settings read from the environment, and written back for a child process."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidents.settings import ConfigurationError, Settings


def test_the_environment_a_child_is_given_reads_back_as_the_same_settings():
    settings = Settings(
        data_dir=Path("/srv/incidents"), database_url="postgresql://u@h:5432/db", cipher_key_file=Path("/keys/cipher.key"),
        signing_key_file=Path("/keys/signing.pem"), session_secret="s3cret", idle_timeout_minutes=0.5, secure_cookies=True,
        practice="A81001", view_wait_seconds=1.5, projections="child", checkpoint_seconds=0.0,
    )
    assert Settings.from_env(settings.to_env()) == settings


def test_settings_left_empty_are_left_out_of_the_childs_environment():
    """The event store's library reads INCIDENTS_CIPHER_KEY as its own CIPHER_KEY: an empty one
    would be taken for a key."""
    env = Settings(data_dir=Path("data")).to_env()
    assert "INCIDENTS_CIPHER_KEY" not in env and "INCIDENTS_DATABASE_URL" not in env
    assert Settings.from_env(env) == Settings(data_dir=Path("data"))


def test_the_projections_run_in_a_child_process_unless_told_otherwise():
    assert Settings.from_env({}).projections == "child"
    assert Settings.from_env({"INCIDENTS_PROJECTIONS": "inline"}).projections == "inline"
    with pytest.raises(ConfigurationError, match="'child'"):
        Settings.from_env({"INCIDENTS_PROJECTIONS": "thread"})


def test_trusted_proxies_and_the_session_lifetime_are_read_checked_and_handed_on():
    settings = Settings.from_env({"INCIDENTS_TRUSTED_PROXIES": " 10.0.0.5, 10.1.0.0/16 ", "INCIDENTS_SESSION_MAX_HOURS": "8"})
    assert (settings.trusted_proxies, settings.session_max_hours) == ("10.0.0.5,10.1.0.0/16", 8)
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES"):
        Settings.from_env({"INCIDENTS_TRUSTED_PROXIES": "proxy.example"})


def test_database_settings_survive_any_password():
    """INCIDENTS_DB_* instead of a URL: a password with /, # or ? stays one password."""
    from incidents.storage import store_for

    password = "p/ss#wo?rd@:% "
    settings = Settings.from_env({
        "INCIDENTS_DB_HOST": "db", "INCIDENTS_DB_PORT": "6543", "INCIDENTS_DB_NAME": "incidents",
        "INCIDENTS_DB_USER": "incidents", "INCIDENTS_DB_PASSWORD": password,
    })
    store = store_for(settings)
    assert store.kind == "postgres"
    assert (store.env["POSTGRES_HOST"], store.env["POSTGRES_PORT"], store.env["POSTGRES_DBNAME"]) == ("db", "6543", "incidents")
    assert (store.env["POSTGRES_USER"], store.env["POSTGRES_PASSWORD"]) == ("incidents", password)
    assert Settings.from_env(settings.to_env()) == settings


def test_every_pool_is_sized_by_the_settings():
    from incidents.storage import store_for

    settings = Settings.from_env({
        "INCIDENTS_DATABASE_URL": "postgresql://u@h/db", "INCIDENTS_DB_POOL_SIZE": "2", "INCIDENTS_DB_MAX_OVERFLOW": "5",
        "INCIDENTS_DB_IDLE_SECONDS": "30",
    })
    env = store_for(settings).env
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"], env["POSTGRES_POOL_MAX_IDLE"]) == ("2", "5", "30.0")
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ConfigurationError, match="INCIDENTS_DB_MAX_OVERFLOW must be a number"):
        Settings.from_env({"INCIDENTS_DB_MAX_OVERFLOW": "lots"})


def test_the_days_an_open_incident_may_stay_quiet_are_read_checked_and_handed_on():
    assert Settings.from_env({}).quiet_days == 14
    settings = Settings.from_env({"INCIDENTS_QUIET_DAYS": "30"})
    assert settings.quiet_days == 30 and Settings.from_env(settings.to_env()).quiet_days == 30
    for bad in ("0", "two weeks", "-3"):
        with pytest.raises(ConfigurationError, match="INCIDENTS_QUIET_DAYS"):
            Settings.from_env({"INCIDENTS_QUIET_DAYS": bad})
