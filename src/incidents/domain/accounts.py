"""Staff accounts: who may sign in, to which practice, in which roles (one person may hold several).

Every change is an event with who made it (see acting.py). The session version rises whenever existing
sessions must end (sign-out, a new password, a disabled account), so a cookie that names an
older version is refused on every device at once.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar, Iterable

from eventsourcing.domain import event

from .acting import Record, acting
from .values import SHORT_TEXT_MAX_CHARS, DomainError, InvalidValue, practice_code, required_text

ACCOUNT_NAMESPACE = uuid.UUID("0b7c5a52-4d7e-4f0a-9a51-2f3f7c0d9e4b")
ROLES = {
    "reception": "Reception",
    "manager": "Practice manager",
    "governance": "Governance lead",
}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountDisabled(DomainError):
    pass


class CannotDisableOwnAccount(DomainError):
    pass


class CannotDropOwnGovernance(DomainError):
    pass


class OneTimePasswordUsed(DomainError):
    pass


class OneTimePasswordExpired(DomainError):
    pass


class UnacceptablePassword(InvalidValue):
    pass


PASSWORD_MIN_CHARS = 12
PASSWORD_MAX_CHARS = 256


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (from leaked password sets), lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def acceptable_password(value: str) -> str:
    """A password a person may choose: 12 to 256 characters, and not one of the common ones."""
    if not PASSWORD_MIN_CHARS <= len(value) <= PASSWORD_MAX_CHARS:
        raise UnacceptablePassword(f"A password is {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters")
    common = _common_passwords()
    lowered = value.strip().lower()
    if lowered in common:
        raise UnacceptablePassword("This password is one of the most common, and easy to guess: choose another")
    # Most lists hold short passwords; a long one is often a common one with digits or symbols added.
    base = lowered.rstrip(_ADDED_CHARACTERS)
    if len(base) >= 4 and base in common:
        raise UnacceptablePassword(
            "This password is one of the most common with digits or symbols added, and easy to guess: choose another"
        )
    return value


_ADDED_CHARACTERS = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def roles_of(values: Iterable[str]) -> tuple[str, ...]:
    """The roles given, each once, in the order ROLES lists them: at least one, each a known one."""
    if isinstance(values, str):  # its letters would be read as roles
        raise TypeError(f"Roles are a list, not the string {values!r}")
    chosen = set(values)
    if not chosen:
        raise InvalidValue("Choose at least one role")
    if unknown := chosen - ROLES.keys():
        raise InvalidValue(f"The roles are: {', '.join(ROLES)} (not {', '.join(sorted(unknown))})")
    return tuple(r for r in ROLES if r in chosen)


def username_of(value: str) -> str:
    name = (value or "").strip().lower()
    if not _USERNAME.match(name):
        raise InvalidValue("A username is 2 to 64 lower-case letters, digits, dots, dashes or underscores")
    return name


class StaffAccount(Record):
    ROLES: ClassVar[dict[str, str]] = ROLES

    @staticmethod
    def create_id(username: str) -> uuid.UUID:
        return uuid.uuid5(ACCOUNT_NAMESPACE, username_of(username))

    class Registered(Record.Created):
        """Version 2 holds the account's roles; version 1 held one `role`."""

        class_version = 2
        username: str
        display_name: str
        practice: str
        roles: list[str]
        password_hash: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["roles"] = [state.pop("role")]

    @event(Registered)
    def __init__(self, username: str, display_name: str, practice: str, roles: list[str], password_hash: str) -> None:
        self.username = username
        self.display_name = display_name
        self.practice = practice
        self.roles = tuple(roles)
        self.password_hash = password_hash
        self.session_version = 1
        self.disabled = False
        self.must_choose_password = False  # a one-time password was issued: the person chooses their own
        self.one_time_password_used = False
        self.one_time_password_issued_at: datetime | None = None

    @classmethod
    def register(cls, username: str, display_name: str, practice: str, roles: Iterable[str], password_hash: str) -> StaffAccount:
        display_name = required_text(display_name, SHORT_TEXT_MAX_CHARS, "A name", InvalidValue("Give the person's name"))
        return cls(
            username=username_of(username),
            display_name=display_name,
            practice=practice_code(practice),
            roles=list(roles_of(roles)),
            password_hash=password_hash,
        )

    def change_roles(self, roles: Iterable[str]) -> bool:
        """Whether the roles changed; the person's pages follow at their next request. Governance
        cannot drop its own governance role, so a practice is never left without one by accident."""
        chosen = roles_of(roles)
        if chosen == self.roles:
            return False
        if acting()[0] == self.username and "governance" in self.roles and "governance" not in chosen:
            raise CannotDropOwnGovernance("You cannot remove your own governance role: ask another governance lead")
        self._change_roles(list(chosen))
        return True

    @event("RolesChanged")
    def _change_roles(self, roles: list[str]) -> None:
        self.roles = tuple(roles)

    def check_enabled(self) -> None:
        if self.disabled:
            raise AccountDisabled("This account is disabled")

    @event("PasswordChanged")
    def change_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self.session_version += 1
        self.must_choose_password = False

    @event("PasswordRehashed")
    def rehash_password(self, password_hash: str) -> None:
        self.password_hash = password_hash

    @event("SignedOut")
    def sign_out(self) -> None:
        self.session_version += 1

    def check_not_own_account(self) -> None:
        if acting()[0] == self.username:
            raise CannotDisableOwnAccount("You cannot disable your own account: ask another governance lead")

    def disable(self, reason: str) -> None:
        self.check_not_own_account()
        self._disable(reason)

    @event("Disabled")
    def _disable(self, reason: str) -> None:
        self.disabled = True
        self.session_version += 1

    @event("Enabled")
    def enable(self) -> None:
        self.disabled = False

    class NewPasswordRequired(Record.Event):
        """Keeps when the one-time password was given out (its event's time), for its expiry."""

        def apply(self, aggregate: Any) -> None:
            aggregate.one_time_password_issued_at = self.timestamp

    @event(NewPasswordRequired)
    def require_new_password(self) -> None:
        """The password was given out by someone else: it signs in once, then the person chooses their own."""
        self.must_choose_password = True
        self.one_time_password_used = False

    class PasswordReset(Record.Event):
        """Keeps when the one-time password was given out (its event's time), for its expiry."""

        password_hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.one_time_password_issued_at = self.timestamp

    @event(PasswordReset)
    def reset_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self.session_version += 1
        self.must_choose_password = True
        self.one_time_password_used = False

    def check_one_time_password_unused(self) -> None:
        if self.must_choose_password and self.one_time_password_used:
            raise OneTimePasswordUsed("This one-time password has been used: ask for a new one")

    def one_time_password_expires_at(self, lifetime: timedelta) -> datetime | None:
        """When the one-time password given out stops working (None: none is outstanding)."""
        if not self.must_choose_password or self.one_time_password_issued_at is None:
            return None
        return self.one_time_password_issued_at + lifetime

    def check_one_time_password_in_time(self, lifetime: timedelta, now: datetime) -> None:
        expires_at = self.one_time_password_expires_at(lifetime)
        if expires_at is not None and now >= expires_at:
            raise OneTimePasswordExpired(
                "This one-time password has expired: ask your governance lead (or whoever runs the "
                "system) for a new one"
            )

    def use_one_time_password(self) -> None:
        self.check_one_time_password_unused()
        self._use_one_time_password()

    @event("OneTimePasswordUsed")
    def _use_one_time_password(self) -> None:
        self.one_time_password_used = True
