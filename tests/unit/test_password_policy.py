"""Passwords (OWASP ASVS level 2): at least 12 characters, none of the common ones (compared
without regard to case), and a generated password handed to a person signs in once, within
INCIDENTS_ONE_TIME_PASSWORD_HOURS of being given out."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from incidents.domain.acting import acting_as
from incidents.application import commands as c
from incidents.application.service import IncidentLog
from incidents.domain.accounts import OneTimePasswordExpired, StaffAccount, UnacceptablePassword, acceptable_password
from incidents.settings import ConfigurationError, Settings
from tests.unit.conftest import PRACTICE_A


def register(password: str, **extra) -> c.RegisterAccount:
    return c.RegisterAccount(username="nell.nurse", display_name="Nell", practice=PRACTICE_A, roles=("reception",), password=password, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("password", ["elevenchars", "a" * 257, ""])
def test_a_password_is_12_to_256_characters(password):
    with pytest.raises(ValidationError, match="12 to 256 characters"):
        register(password)
    with pytest.raises(ValidationError, match="12 to 256 characters"):
        c.ChoosePassword(password=password)


@pytest.mark.parametrize("password", ["qwertyuiop123", "QwertyUiop123", "PASSWORD1234", "iloveyou1234", "123456789123", "Summer2024!!", " LeaveMeAlone "])
def test_a_common_password_is_refused_whatever_its_case(password):
    with pytest.raises(UnacceptablePassword, match="most common"):
        acceptable_password(password)
    with pytest.raises(ValidationError, match="most common"):
        register(password)
    with pytest.raises(ValidationError, match="most common"):
        c.ChoosePassword(password=password)


def test_an_uncommon_long_password_is_accepted():
    assert acceptable_password("twelve chars") == "twelve chars"
    assert register("correct horse battery staple").password == "correct horse battery staple"


def test_generated_passwords_are_acceptable():
    assert all(acceptable_password(IncidentLog.new_password()) for _ in range(50))


def test_the_one_time_password_lifetime_is_a_setting():
    assert Settings.from_env({}).one_time_password_hours == 72
    assert Settings.from_env({"INCIDENTS_ONE_TIME_PASSWORD_HOURS": "0.5"}).one_time_password_hours == 0.5
    with pytest.raises(ConfigurationError, match="ONE_TIME_PASSWORD_HOURS"):
        Settings.from_env({"INCIDENTS_ONE_TIME_PASSWORD_HOURS": "0"})
    settings = Settings(one_time_password_hours=5.0)
    assert Settings.from_env(settings.to_env()) == settings


def test_an_account_registered_with_a_one_time_password_must_choose_its_own(log):
    log.register_account(register("generated password 1", one_time=True), actor="cli")
    account_id = log.account_id("nell.nurse")
    expires_at = log.one_time_password_expires_at(account_id)
    assert expires_at is not None
    assert abs(expires_at - (datetime.now(timezone.utc) + timedelta(hours=72))) < timedelta(minutes=1)
    actor, version = log.authenticate("nell.nurse", "generated password 1")
    assert log.needs_new_password(actor.user_id)
    assert log.authenticate("nell.nurse", "generated password 1") is None, "it signs in once"
    actor, version = log.choose_password(actor.user_id, version, c.ChoosePassword(password="my very own password"))
    assert log.one_time_password_expires_at(account_id) is None
    assert log.authenticate("nell.nurse", "my very own password") is not None


def test_a_chosen_password_does_not_expire(log):
    log.register_account(register("a chosen password"), actor="cli")
    assert log.one_time_password_expires_at(log.account_id("nell.nurse")) is None
    log.one_time_password_lifetime = timedelta(seconds=0.2)
    time.sleep(0.3)
    assert log.authenticate("nell.nurse", "a chosen password") is not None


def test_an_expired_one_time_password_is_refused_with_a_message(log):
    log.one_time_password_lifetime = timedelta(seconds=0.5)
    log.register_account(register("generated password 1", one_time=True), actor="cli")
    time.sleep(0.6)
    with pytest.raises(OneTimePasswordExpired, match="expired: ask your governance lead"):
        log.authenticate("nell.nurse", "generated password 1")
    assert log.authenticate("nell.nurse", "a wrong password") is None  # only the right password learns it expired
    events = [type(e).__name__ for e in log.events.get(log.account_id("nell.nurse"))]
    assert events == ["Registered", "NewPasswordRequired"]  # nothing was used


def test_the_expiry_counts_from_the_reset_as_stored(log):
    """A one-time password's expiry comes from the time of the event that gave it out, as stored:
    the events keep their shape, so accounts reset before expiry was checked load as they were."""
    log.register_account(register("a chosen password"), actor="cli")
    account = log.repository.get(log.account_id("nell.nurse"))
    with acting_as("gill"):
        account.reset_password(log.password_hasher.hash("reset password 1"))
    reset = account.pending_events[-1]
    object.__setattr__(reset, "timestamp", datetime.now(timezone.utc) - timedelta(hours=73))
    log.save(account)
    loaded = log.repository.get(account.id)
    assert isinstance(loaded, StaffAccount)
    assert loaded.one_time_password_issued_at == reset.timestamp
    assert set(type(reset).__dataclass_fields__) == {"originator_id", "originator_version", "timestamp", "password_hash", "actor", "actor_name"}
    with pytest.raises(OneTimePasswordExpired):
        log.authenticate("nell.nurse", "reset password 1")
    log.one_time_password_lifetime = timedelta(hours=74)
    assert log.authenticate("nell.nurse", "reset password 1") is not None
