"""Staff accounts: registering, signing in, and sessions that end everywhere at once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from incidents.domain.acting import acting_as
from incidents.application import commands as c
from incidents.application.service import IncidentLog, UsernameTaken
from incidents.domain.accounts import AccountDisabled, CannotDropOwnGovernance, StaffAccount, username_of
from incidents.domain.values import InvalidPractice, InvalidValue, TextTooLong

from .conftest import PASSWORD, PRACTICE_A, PRACTICE_B


REGISTERED = dict(
    username="rita.reception",
    display_name="Rita Reception",
    practice="A81001",
    roles=["reception"],
    password_hash="$argon2id$not-a-real-hash",
)


def register(**overrides) -> StaffAccount:
    with acting_as("admin"):
        return StaffAccount.register(**{**REGISTERED, **overrides})


def registration(**overrides) -> c.RegisterAccount:
    values = dict(username="nell.nurse", display_name="Nell Nurse", practice=PRACTICE_A, roles=("reception",), password=PASSWORD)
    return c.RegisterAccount(**{**values, **overrides})


def load(log: IncidentLog, username: str) -> StaffAccount:
    return log.repository.get(log.account_id(username))


# The aggregate ---------------------------------------------------------------------


def test_registering_triggers_registered_with_every_fact():
    account = register()
    [event] = account.collect_events()
    assert type(event).__name__ == "Registered"
    assert event.originator_id == account.id == StaffAccount.create_id("rita.reception")
    assert {name: getattr(event, name) for name in REGISTERED} == REGISTERED
    assert event.actor == "admin"
    assert account.session_version == 1
    assert account.disabled is False


def test_the_username_is_trimmed_and_lower_cased_and_the_practice_upper_cased():
    account = register(username="  Rita.Reception ", practice="a81001", display_name="  Rita  ")
    assert account.username == "rita.reception"
    assert account.practice == "A81001"
    assert account.display_name == "Rita"
    assert account.id == StaffAccount.create_id("RITA.RECEPTION")


@pytest.mark.parametrize("username", ["ab", "rita", "r.smith", "r_smith", "r-smith", "007", "a" * 64, "a1.b2_c3-d4"])
def test_usernames_of_2_to_64_letters_digits_dots_dashes_and_underscores_are_accepted(username):
    assert username_of(username) == username


@pytest.mark.parametrize(
    "username",
    ["", "a", "a" * 65, ".rita", "_rita", "-rita", "rita smith", "rita@practice", "rita/1", "rïta", "rita\nsmith", None],
)
def test_other_usernames_are_refused(username):
    with pytest.raises(InvalidValue, match="username"):
        username_of(username)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        register(username=username)


@pytest.mark.parametrize("role", ["admin", "Manager", "", "receptionist"])
def test_an_unknown_role_is_refused(role):
    with pytest.raises(InvalidValue, match="role"):
        register(roles=["reception", role])


def test_an_account_holds_at_least_one_role():
    with pytest.raises(InvalidValue, match="at least one role"):
        register(roles=[])


@pytest.mark.parametrize("role", sorted(StaffAccount.ROLES))
def test_every_known_role_is_accepted(role):
    assert register(roles=[role]).roles == (role,)


def test_an_account_holds_several_roles_each_once_in_the_order_roles_are_listed():
    assert register(roles=["governance", "manager", "governance"]).roles == ("manager", "governance")


@pytest.mark.parametrize("practice", ["", "A8", "A81 001", "A81001-B"])
def test_an_invalid_practice_is_refused(practice):
    with pytest.raises(InvalidPractice):
        register(practice=practice)


def test_a_display_name_is_required_and_at_most_200_characters():
    with pytest.raises(InvalidValue):
        register(display_name="   ")
    with pytest.raises(TextTooLong):
        register(display_name="n" * 201)
    assert register(display_name="n" * 200).display_name == "n" * 200


def test_signing_out_raises_the_session_version():
    account = register()
    with acting_as("rita.reception"):
        account.sign_out()
        assert account.session_version == 2
        account.sign_out()
    assert account.session_version == 3
    assert [type(e).__name__ for e in account.collect_events()] == ["Registered", "SignedOut", "SignedOut"]


@pytest.mark.parametrize(
    "change, event_name, session_version",
    [
        pytest.param("change_password", "PasswordChanged", 2, id="a changed password raises the session version"),
        pytest.param("rehash_password", "PasswordRehashed", 1, id="a rehashed password keeps sessions"),
    ],
)
def test_a_new_password_hash(change, event_name, session_version):
    account = register()
    with acting_as("rita.reception"):
        getattr(account, change)("$argon2id$new")
    assert account.password_hash == "$argon2id$new"
    assert account.session_version == session_version
    event = account.collect_events()[-1]
    assert type(event).__name__ == event_name
    assert event.password_hash == "$argon2id$new"
    assert event.actor == "rita.reception"


def test_disabling_raises_the_session_version_and_enabling_does_not():
    account = register()
    account.check_enabled()
    with acting_as("mo.manager"):
        account.disable("Left the practice")
    assert account.disabled is True
    assert account.session_version == 2
    with pytest.raises(AccountDisabled):
        account.check_enabled()
    with acting_as("mo.manager"):
        account.enable()
    assert account.disabled is False
    assert account.session_version == 2
    disabled = account.collect_events()[1]
    assert type(disabled).__name__ == "Disabled"
    assert disabled.reason == "Left the practice"
    assert disabled.actor == "mo.manager"


# Through the application ------------------------------------------------------------


def test_register_account_saves_an_account_that_can_sign_in(log):
    saved = log.register_account(registration(username=" nell.nurse ", practice=" A81001 "), actor="admin")
    assert saved.id == log.account_id("nell.nurse")
    assert saved.created is True
    assert saved.notification_id >= 1
    assert log.has_accounts()

    account = load(log, "nell.nurse")
    assert account.username == "nell.nurse"
    assert account.practice == PRACTICE_A
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_a_new_log_has_no_accounts(log):
    assert not log.has_accounts()


def test_a_username_can_be_registered_only_once(log):
    log.register_account(registration(username="nell.nurse"), actor="admin")
    with pytest.raises(UsernameTaken, match="nell.nurse"):
        log.register_account(registration(username="nell.nurse", practice=PRACTICE_B, roles=("manager",)), actor="admin")
    with pytest.raises(UsernameTaken):
        log.register_account(registration(username="  nell.nurse  "), actor="admin")
    account = load(log, "nell.nurse")
    assert account.practice == PRACTICE_A
    assert account.roles == ("reception",)
    assert len(list(log.events.get(log.account_id("nell.nurse")))) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"username": "a"},
        {"username": "rita smith"},
        {"display_name": ""},
        {"practice": "A8"},
        {"roles": ("admin",)},
        {"roles": ()},
        {"password": "short"},
        {"password": "p" * 257},
    ],
)
def test_a_bad_registration_command_is_a_validation_error(overrides):
    with pytest.raises(ValidationError):
        registration(**overrides)


@pytest.mark.parametrize("username, practice", [("Nell.Nurse", PRACTICE_A), ("nell.nurse", "a81001")])
def test_a_registration_command_normalises_the_case_of_username_and_practice(username, practice):
    command = registration(username=username, practice=practice)
    assert command.username == "nell.nurse"
    assert command.practice == PRACTICE_A


def test_authenticate_with_the_right_password_gives_the_actor_and_session_version(log, sign_up):
    signed_in = sign_up("nell.nurse", PRACTICE_B, "manager")
    actor, version = log.authenticate("nell.nurse", PASSWORD)
    assert actor == signed_in.actor
    assert actor.user_id == log.account_id("nell.nurse")
    assert actor.username == "nell.nurse"
    assert actor.display_name == "Nell Nurse"
    assert actor.practice == PRACTICE_B
    assert actor.roles == ("manager",)
    assert version == 1


def test_authenticate_ignores_the_case_and_spaces_of_the_username(log, sign_up):
    sign_up("nell.nurse")
    assert log.authenticate("  Nell.Nurse ", PASSWORD) is not None


@pytest.mark.parametrize("password", ["wrong password", "", PASSWORD.upper(), PASSWORD + " "])
def test_authenticate_with_a_wrong_password_gives_none(log, sign_up, password):
    sign_up("nell.nurse")
    assert log.authenticate("nell.nurse", password) is None


@pytest.mark.parametrize("username", ["nobody", "", "not a valid username", "x"])
def test_authenticate_an_unknown_or_malformed_username_gives_none(log, sign_up, username):
    sign_up("nell.nurse")
    assert log.authenticate(username, PASSWORD) is None


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(log, sign_up):
    signed_in = sign_up("nell.nurse")
    account = load(log, "nell.nurse")
    with acting_as("mo.manager"):
        account.disable("Left the practice")
    log.save(account)

    assert log.authenticate("nell.nurse", PASSWORD) is None
    assert log.actor_for_session(signed_in.actor.user_id, signed_in.session_version) is None
    assert log.actor_for_session(signed_in.actor.user_id, signed_in.session_version + 1) is None


def test_a_re_enabled_account_can_sign_in_again_with_a_new_session(log, sign_up):
    signed_in = sign_up("nell.nurse")
    account = load(log, "nell.nurse")
    with acting_as("mo.manager"):
        account.disable("On leave")
    with acting_as("mo.manager"):
        account.enable()
    log.save(account)

    actor, version = log.authenticate("nell.nurse", PASSWORD)
    assert version == signed_in.session_version + 1
    assert log.actor_for_session(actor.user_id, signed_in.session_version) is None
    assert log.actor_for_session(actor.user_id, version) == actor


def test_actor_for_session_gives_the_actor_for_the_current_version(log, sign_up):
    signed_in = sign_up("nell.nurse")
    assert log.actor_for_session(signed_in.actor.user_id, signed_in.session_version) == signed_in.actor


def test_signing_out_ends_the_session_on_every_device(log, sign_up):
    signed_in = sign_up("nell.nurse")
    log.sign_out(signed_in.actor.user_id)

    assert log.actor_for_session(signed_in.actor.user_id, signed_in.session_version) is None
    actor, version = log.authenticate("nell.nurse", PASSWORD)
    assert version == signed_in.session_version + 1
    assert log.actor_for_session(actor.user_id, version) == actor


def test_a_password_change_ends_sessions_and_only_the_new_password_works(log, sign_up):
    signed_in = sign_up("nell.nurse")
    account = load(log, "nell.nurse")
    with acting_as("nell.nurse"):
        account.change_password(log.password_hasher.hash("a brand new passphrase"))
    log.save(account)

    assert log.actor_for_session(signed_in.actor.user_id, signed_in.session_version) is None
    assert log.authenticate("nell.nurse", PASSWORD) is None
    assert log.authenticate("nell.nurse", "a brand new passphrase") is not None


@pytest.mark.parametrize("version", [0, 2, -1, 99])
def test_actor_for_session_with_any_other_version_gives_none(log, sign_up, version):
    signed_in = sign_up("nell.nurse")
    assert signed_in.session_version == 1
    assert log.actor_for_session(signed_in.actor.user_id, version) is None


def test_actor_for_session_with_an_unknown_id_gives_none(log):
    assert log.actor_for_session(uuid.uuid4(), 1) is None


def test_actor_for_session_with_an_incident_id_gives_none(log, sign_up):
    signed_in = sign_up("nell.nurse")
    saved = log.report_filming(
        c.ReportFilming(
            submission_key="filming-form-1",
            occurred_at=datetime.now(timezone.utc) - timedelta(minutes=5),
            area="reception",
            filmer="patient",
            people_captured="staff",
            children_present="no",
        ),
        signed_in.actor,
    )
    assert log.actor_for_session(saved.id, 1) is None


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in_without_ending_sessions(log, sign_up):
    signed_in = sign_up("nell.nurse")  # hashed with the cheap test parameters
    del log.password_hasher  # back to the production hasher of the class
    assert isinstance(log.password_hasher, PasswordHasher)
    assert log.password_hasher.check_needs_rehash(load(log, "nell.nurse").password_hash)

    actor, version = log.authenticate("nell.nurse", PASSWORD)

    assert version == signed_in.session_version
    account = load(log, "nell.nurse")
    assert not log.password_hasher.check_needs_rehash(account.password_hash)
    assert [type(e).__name__ for e in log.events.get(account.id)] == ["Registered", "PasswordRehashed"]
    assert log.actor_for_session(actor.user_id, signed_in.session_version) == actor


def test_registered_events_of_version_1_are_read_with_their_one_role_as_the_roles():
    state = {"username": "mo.manager", "display_name": "Mo", "practice": "A81001", "role": "manager", "password_hash": "x"}
    StaffAccount.Registered.upcast_v1_v2(state)
    assert state == {"username": "mo.manager", "display_name": "Mo", "practice": "A81001", "roles": ["manager"], "password_hash": "x"}
    assert StaffAccount.Registered.class_version == 2


def test_roles_change_once_and_governance_cannot_drop_its_own_governance_role():
    account = register(username="gill.governance", roles=["governance"])
    with acting_as("gill.governance"):
        assert account.change_roles(["governance", "manager"]) is True
        assert account.roles == ("manager", "governance")
        assert account.change_roles(["manager", "governance"]) is False  # the same roles: nothing recorded
        with pytest.raises(CannotDropOwnGovernance):
            account.change_roles(["manager"])
        with pytest.raises(InvalidValue, match="at least one role"):
            account.change_roles([])
    with acting_as("other.governance"):
        assert account.change_roles(["manager"]) is True
    assert [type(e).__name__ for e in account.collect_events()] == ["Registered", "RolesChanged", "RolesChanged"]


def test_a_changed_role_reaches_the_persons_session_at_once(log, sign_up):
    gill = sign_up("gill.governance", role="governance")
    mo = sign_up("mo.manager", role="manager")
    log.change_roles(c.ChangeRoles(account_id=mo.actor.user_id, roles=("manager", "governance")), gill.actor)
    actor = log.actor_for_session(mo.actor.user_id, mo.session_version)
    assert actor is not None and actor.roles == ("manager", "governance")
    assert [a.username for a in log.staff(actor)] == ["gill.governance", "mo.manager"]
