"""Staff administration in the application and the StaffAccount aggregate: governance of one practice
adds, resets, disables and enables accounts of that practice only; a one-time password signs in
once; nobody can disable their own account; every change names who made it."""

from __future__ import annotations

import uuid

import pytest

from incidents.domain.acting import acting_as
from incidents.domain.practice_lists import list_id
from incidents.application import commands as c
from incidents.application.service import (
    AccountNotFound,
    IncidentLog,
    NotPermitted,
    PasswordChoiceExpired,
    SamePassword,
    UsernameTaken,
)
from incidents.domain.accounts import CannotDisableOwnAccount, OneTimePasswordUsed, StaffAccount
from tests.unit.conftest import PRACTICE_A, PRACTICE_B

NEW = "a password of my own"


@pytest.fixture
def governance(sign_up):
    return sign_up("gill.governance", PRACTICE_A, "governance").actor


def add(log: IncidentLog, governance, username="nell.nurse", role="reception"):
    return log.add_staff(c.AddStaff(username=username, display_name="Nell Nurse", roles=(role,)), governance)  # type: ignore[arg-type]


def test_an_added_account_is_listed_in_the_practice_and_signs_in_once(log, governance):
    issued = add(log, governance)
    assert issued.account_id in log.listed(PRACTICE_A, "staff")
    assert [a.username for a in log.staff(governance)] == ["gill.governance", "nell.nurse"]
    account = log.staff_account(governance, issued.account_id)
    assert account.practice == PRACTICE_A and account.must_choose_password

    actor, version = log.authenticate("nell.nurse", issued.password)
    assert log.needs_new_password(actor.user_id)
    assert log.authenticate("nell.nurse", issued.password) is None, "a one-time password signs in once"
    with pytest.raises(SamePassword):
        log.choose_password(actor.user_id, version, c.ChoosePassword(password=issued.password))
    actor, new_version = log.choose_password(actor.user_id, version, c.ChoosePassword(password=NEW))
    assert new_version > version and not log.needs_new_password(actor.user_id)
    assert log.authenticate("nell.nurse", NEW) is not None
    with pytest.raises(PasswordChoiceExpired):
        log.choose_password(actor.user_id, new_version, c.ChoosePassword(password="yet another password"))
    events = [type(e).__name__ for e in log.account_history(governance, issued.account_id)]
    assert events == ["Registered", "NewPasswordRequired", "OneTimePasswordUsed", "PasswordChanged"]


def test_a_username_is_taken_across_practices(log, governance, sign_up):
    sign_up("other.person", PRACTICE_B)
    with pytest.raises(UsernameTaken):
        add(log, governance, username="other.person")


def test_a_reset_ends_sessions_and_needs_a_new_password(log, governance, sign_up):
    nell = sign_up("nell.nurse")
    issued = log.reset_password(c.ResetPassword(account_id=nell.actor.user_id), governance)
    assert log.actor_for_session(nell.actor.user_id, nell.session_version) is None
    assert log.authenticate("nell.nurse", nell.password) is None
    actor, version = log.authenticate("nell.nurse", issued.password)
    assert log.needs_new_password(actor.user_id)
    reset = log.account_history(governance, nell.actor.user_id)[-2]
    assert type(reset).__name__ == "PasswordReset" and reset.actor == "gill.governance"


def test_disable_and_enable_name_who_did_it_and_repeat_harmlessly(log, governance, sign_up):
    nell = sign_up("nell.nurse")
    log.disable_account(c.DisableAccount(account_id=nell.actor.user_id, reason="Left"), governance)
    again = log.disable_account(c.DisableAccount(account_id=nell.actor.user_id), governance)
    assert not again.created
    assert log.actor_for_session(nell.actor.user_id, nell.session_version) is None
    assert log.authenticate("nell.nurse", nell.password) is None
    log.enable_account(c.EnableAccount(account_id=nell.actor.user_id), governance)
    assert log.authenticate("nell.nurse", nell.password) is not None
    history = log.account_history(governance, nell.actor.user_id)
    assert [(type(e).__name__, e.actor) for e in history[-2:]] == [("Disabled", "gill.governance"), ("Enabled", "gill.governance")]


def test_nobody_disables_their_own_account(log, governance):
    with pytest.raises(CannotDisableOwnAccount):
        log.disable_account(c.DisableAccount(account_id=governance.user_id), governance)
    assert not log.staff_account(governance, governance.user_id).disabled


def test_another_practices_account_or_another_record_is_not_found(log, governance, sign_up):
    other = sign_up("other.person", PRACTICE_B)
    for account_id in (other.actor.user_id, uuid.uuid4(), list_id(PRACTICE_A, "staff")):
        with pytest.raises(AccountNotFound):
            log.staff_account(governance, account_id)
        with pytest.raises(AccountNotFound):
            log.reset_password(c.ResetPassword(account_id=account_id), governance)
    assert log.authenticate("other.person", other.password) is not None


@pytest.mark.parametrize("role", ["reception", "manager"])
def test_only_governance_administers_staff(log, sign_up, role):
    actor = sign_up(f"someone.{role}", PRACTICE_A, role).actor
    with pytest.raises(NotPermitted):
        log.staff(actor)
    with pytest.raises(NotPermitted):
        add(log, actor)
    with pytest.raises(NotPermitted):
        log.disable_account(c.DisableAccount(account_id=actor.user_id), actor)


def test_the_aggregate_refuses_a_second_use_of_a_one_time_password():
    with acting_as("gill"):
        account = StaffAccount.register("nell.nurse", "Nell", PRACTICE_A, ["reception"], "$argon2id$x")
    with acting_as("gill"):
        account.require_new_password()
    with acting_as("nell.nurse"):
        account.use_one_time_password()
    with pytest.raises(OneTimePasswordUsed):
        account.use_one_time_password()
    with acting_as("nell.nurse"):
        account.change_password("$argon2id$y")
    assert not account.must_choose_password
    with pytest.raises(CannotDisableOwnAccount):
        with acting_as("nell.nurse"):
            account.disable("")
