"""The incident log application: every command is load, call, save, return ids.

Every command and query is scoped to the acting user's practice. An incident of another
practice does not exist for that user, whatever id is guessed.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, TypeVar
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError

from ..domain.accounts import StaffAccount, acceptable_password, username_of
from ..domain.checkpoint import CHECKPOINT_LOG_ID
from ..domain.incident import Incident
from ..domain.kinds import INCIDENT_KINDS  # noqa: F401  (the web layer reads the kinds from here)
from ..domain.practice_index import PracticeIndex
from ..domain.signing_key import SIGNING_KEY_ID
from ..domain.values import DomainError
from . import commands as c
from .checkpoints import StoreCheckpoints
from .disclosures import DisclosureDesk
from .exports import EvidenceExports
from .notices import NoticeRegister

T = TypeVar("T", bound=Incident)
SAVE_ATTEMPTS = 20


class IncidentNotFound(DomainError):
    pass


class NotPermitted(DomainError):
    pass


class UsernameTaken(DomainError):
    pass


class AccountNotFound(DomainError):
    pass


class PasswordChoiceExpired(DomainError):
    """The one-time sign-in no longer stands (reset again, disabled, or done): sign in again."""


class SamePassword(DomainError):
    pass


class ConcurrentChange(DomainError):
    """Others kept changing the same incident; nothing of this change was saved."""


@dataclass(frozen=True)
class Actor:
    """The signed-in member of staff a command is made by."""

    user_id: UUID
    username: str
    display_name: str
    practice: str
    role: str

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise NotPermitted(f"Only {' or '.join(roles)} staff can do this")


@dataclass(frozen=True)
class Saved:
    """What a command returns: the aggregate's id and the position of its last event."""

    id: UUID
    notification_id: int
    created: bool = True


@dataclass(frozen=True)
class _SessionAccount:
    """What a session check needs of an account, as of one version of it."""

    version: int
    session_version: int
    actor: Actor | None  # None: the account is disabled


SESSION_ACCOUNTS_KEPT = 5000
INCIDENT_ROLES = ("reception", "manager", "governance")
MANAGER_ROLES = ("manager",)
GOVERNANCE_ROLES = ("governance",)


@dataclass(frozen=True)
class OneTimePassword:
    """A password given out once (to a new account, or on a reset): shown once, never stored."""

    account_id: UUID
    notification_id: int
    password: str
    expires_at: datetime


class IncidentLog(EvidenceExports, NoticeRegister, DisclosureDesk, StoreCheckpoints, Application[UUID]):
    """Incidents and the staff accounts that record them, in one event store."""

    name = "incidents"
    password_hasher = PasswordHasher()
    one_time_password_lifetime = timedelta(hours=72)  # the composition root sets INCIDENTS_ONE_TIME_PASSWORD_HOURS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_accounts: dict[UUID, _SessionAccount] = {}

    # Reporting ----------------------------------------------------------

    def report_filming(self, cmd: c.ReportFilming, actor: Actor) -> Saved:
        return self.report(cmd, actor)

    def report_recording(self, cmd: c.ReportRecording, actor: Actor) -> Saved:
        return self.report(cmd, actor)

    def report(self, cmd: c.Report, actor: Actor) -> Saved:
        """A new incident of the command's kind. A repeated submission finds the incident the first one made."""
        incident = self._new_incident(cmd, actor)
        try:
            recordings = self.save(incident)
        except IntegrityError:
            return self._made_before(incident.id)
        return Saved(incident.id, recordings[-1].notification.id)

    async def report_from_event_loop(self, cmd: c.Report, actor: Actor) -> Saved:
        """As report(), for a caller on an event loop, which goes on with other work while the
        store commits: on SQLite the save is handed to the store's writer thread (which commits
        the saves queued meanwhile together). A store without one saves here and now."""
        insert_from_loop = getattr(self.recorder, "insert_events_from_loop", None)
        if insert_from_loop is None:
            return self.report(cmd, actor)
        incident = self._new_incident(cmd, actor)
        stored = [self.mapper.to_stored_event(event) for event in incident.collect_events()]
        try:
            ids = await insert_from_loop(stored)
        except IntegrityError:
            return self._made_before(incident.id)
        return Saved(incident.id, ids[-1])

    def close(self) -> None:
        stop_writer = getattr(self.recorder, "stop_writer", None)
        if stop_writer is not None:
            stop_writer()
        super().close()

    def _new_incident(self, cmd: c.Report, actor: Actor) -> Incident:
        actor.require(*INCIDENT_ROLES)
        return cmd.incident_class.report(practice=actor.practice, actor=actor.username, actor_name=actor.display_name, **cmd.model_dump())

    def _made_before(self, incident_id: UUID) -> Saved:
        """The answer to a save refused as a conflict: the incident a repeated submission made."""
        if not self._exists(incident_id):
            raise ConcurrentChange("The incident could not be saved just now. Nothing was saved: try again.")
        return Saved(incident_id, self.recorder.max_notification_id() or 0, created=False)

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    # Changing an incident ----------------------------------------------

    def respond(self, cmd: c.RecordResponse, actor: Actor) -> Saved:
        actor.require(*INCIDENT_ROLES)

        def change(incident: Incident) -> bool:
            if incident.has_submission(cmd.submission_key):
                return False
            incident.respond(
                cmd.response,
                cmd.occurred_at,
                actor.username,
                actor.display_name,
                cmd.submission_key,
                reference=cmd.reference,
                note=cmd.note,
            )
            return True

        return self._change(cmd.incident_id, actor, change)

    def add_note(self, cmd: c.AddNote, actor: Actor) -> Saved:
        actor.require(*INCIDENT_ROLES)

        def change(incident: Incident) -> bool:
            if incident.has_submission(cmd.submission_key):
                return False
            incident.add_note(cmd.text, actor.username, actor.display_name, cmd.submission_key)
            return True

        return self._change(cmd.incident_id, actor, change)

    def correct(self, cmd: c.CorrectIncident, actor: Actor) -> Saved:
        actor.require(*INCIDENT_ROLES)
        return self._change(
            cmd.incident_id,
            actor,
            lambda i: i.correct(cmd.field, cmd.new_value, cmd.reason, actor.username, actor.display_name),
        )

    def review_incident(self, cmd: c.ReviewIncident, actor: Actor) -> Saved:
        actor.require(*MANAGER_ROLES)
        return self._change(
            cmd.incident_id, actor, lambda i: i.review(cmd.comment, actor.username, actor.display_name)
        )

    def close_incident(self, cmd: c.CloseIncident, actor: Actor) -> Saved:
        actor.require(*MANAGER_ROLES)
        return self._change(
            cmd.incident_id, actor, lambda i: i.close(cmd.outcome, cmd.note, actor.username, actor.display_name)
        )

    def reopen_incident(self, cmd: c.ReopenIncident, actor: Actor) -> Saved:
        actor.require(*MANAGER_ROLES)
        return self._change(
            cmd.incident_id, actor, lambda i: i.reopen(cmd.reason, actor.username, actor.display_name)
        )

    def _change(self, incident_id: UUID, actor: Actor, change: Callable[[Incident], bool | None]) -> Saved:
        """Load, change, save; a concurrent change to the same incident is retried on fresh state."""
        for attempt in range(SAVE_ATTEMPTS):
            incident = self.get_incident(actor, incident_id)
            if change(incident) is False:
                return Saved(incident_id, self.recorder.max_notification_id() or 0, created=False)
            try:
                recordings = self.save(incident)
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.005) * (attempt + 1))  # let the other writer finish
                continue
            return Saved(incident_id, recordings[-1].notification.id)
        raise ConcurrentChange("Someone else was changing this incident at the same moment. Nothing was saved: try again.")

    # Reading an incident -----------------------------------------------

    def get_incident(self, actor: Actor, incident_id: UUID) -> Incident:
        try:
            incident = self.repository.get(incident_id)
        except AggregateNotFoundError:
            raise IncidentNotFound("No such incident") from None
        if not isinstance(incident, Incident) or incident.practice != actor.practice:
            raise IncidentNotFound("No such incident")
        return incident

    def history(self, actor: Actor, incident_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of one incident, oldest first (the incident page's timeline)."""
        self.get_incident(actor, incident_id)
        return list(self.events.get(incident_id))

    # A practice's short, exact lists (staff, notices, disclosure requests) ----

    def listed(self, practice: str, listing: str) -> list[UUID]:
        """The ids a practice's index holds for one kind of record, oldest first."""
        try:
            index = self.repository.get(PracticeIndex.create_id(practice, listing))
        except AggregateNotFoundError:
            return []
        return list(index.entries)

    def save_listed(self, practice: str, listing: str, record: Any) -> Saved:
        """Save a new record and its entry in the practice's index in one transaction.

        A concurrent addition to the same index is retried on fresh state; a record that already
        is already listed (a repeated submission) raises AlreadyListed, one that exists unlisted
        raises IntegrityError: the caller answers either.
        """
        # Collected once: save() takes an aggregate's pending events even when the save fails, so
        # a retry that passed the record again would list it without saving it.
        pending = record.collect_events()
        for attempt in range(SAVE_ATTEMPTS):
            index_id = PracticeIndex.create_id(practice, listing)
            try:
                index = self.repository.get(index_id)
            except AggregateNotFoundError:
                index = PracticeIndex(practice=practice, listing=listing)
            index.add(record.id)
            try:
                recordings = self.save(*pending, index)
            except IntegrityError:
                if self._exists(record.id):
                    raise
                time.sleep(random.uniform(0.001, 0.005) * (attempt + 1))
                continue
            return Saved(record.id, recordings[-1].notification.id)
        raise ConcurrentChange("Others were adding to the same list at the same moment. Nothing was saved: try again.")

    # Staff accounts ----------------------------------------------------

    def register_account(self, cmd: c.RegisterAccount, actor: str) -> Saved:
        """An account with a password its owner chose, or (one_time) a generated one handed to
        them that signs in once, in time, to choose their own (the CLI and the first run)."""
        self._check_username_free(cmd.username)
        account = StaffAccount.register(
            username=cmd.username,
            display_name=cmd.display_name,
            practice=cmd.practice,
            role=cmd.role,
            password_hash=self.password_hasher.hash(cmd.password),
            actor=actor,
        )
        if cmd.one_time:
            account.require_new_password(actor)
        return self._save_new_account(account)

    def one_time_password_expires_at(self, account_id: UUID) -> datetime | None:
        """When the account's outstanding one-time password stops working (None: it has none)."""
        account = self.repository.get(account_id)
        return account.one_time_password_expires_at(self.one_time_password_lifetime)

    def _check_username_free(self, username: str) -> None:
        if self._exists(StaffAccount.create_id(username)):
            raise UsernameTaken(f"The username {username!r} is taken")

    def _save_new_account(self, account: StaffAccount) -> Saved:
        """Saves the account with its entry in the practice's staff list, in one transaction."""
        try:
            return self.save_listed(account.practice, "staff", account)
        except IntegrityError:
            raise UsernameTaken(f"The username {account.username!r} is taken") from None

    def add_staff(self, cmd: c.AddStaff, actor: Actor) -> OneTimePassword:
        """A new account in the governance lead's practice, with a password that signs in once."""
        actor.require(*GOVERNANCE_ROLES)
        self._check_username_free(cmd.username)
        password = self.new_password()
        account = StaffAccount.register(
            username=cmd.username,
            display_name=cmd.display_name,
            practice=actor.practice,
            role=cmd.role,
            password_hash=self.password_hasher.hash(password),
            actor=actor.username,
        )
        account.require_new_password(actor.username)
        saved = self._save_new_account(account)
        return self._issued(saved, password)

    def _issued(self, saved: Saved, password: str) -> OneTimePassword:
        expires_at = self.one_time_password_expires_at(saved.id)
        assert expires_at is not None
        return OneTimePassword(saved.id, saved.notification_id, password, expires_at)

    def staff(self, actor: Actor) -> list[StaffAccount]:
        """The accounts of the actor's practice, oldest first."""
        actor.require(*GOVERNANCE_ROLES)
        return [self.repository.get(account_id) for account_id in self.listed(actor.practice, "staff")]

    def staff_account(self, actor: Actor, account_id: UUID) -> StaffAccount:
        actor.require(*GOVERNANCE_ROLES)
        try:
            account = self.repository.get(account_id)
        except AggregateNotFoundError:
            raise AccountNotFound("No such account") from None
        if not isinstance(account, StaffAccount) or account.practice != actor.practice:
            raise AccountNotFound("No such account")
        return account

    def account_history(self, actor: Actor, account_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of one account, oldest first (the account page's history)."""
        self.staff_account(actor, account_id)
        return list(self.events.get(account_id))

    def reset_password(self, cmd: c.ResetPassword, actor: Actor) -> OneTimePassword:
        """A new password that signs in once; the account's sessions end everywhere."""
        password = self.new_password()
        password_hash = self.password_hasher.hash(password)
        saved = self._change_account(cmd.account_id, actor, lambda a: a.reset_password(password_hash, actor.username))
        return self._issued(saved, password)

    def disable_account(self, cmd: c.DisableAccount, actor: Actor) -> Saved:
        """Signs the person out everywhere at once; a repeated request changes nothing."""

        def change(account: StaffAccount) -> bool:
            account.check_not_own_account(actor.username)
            if account.disabled:
                return False
            account.disable(cmd.reason, actor.username)
            return True

        return self._change_account(cmd.account_id, actor, change)

    def enable_account(self, cmd: c.EnableAccount, actor: Actor) -> Saved:
        def change(account: StaffAccount) -> bool:
            if not account.disabled:
                return False
            account.enable(actor.username)
            return True

        return self._change_account(cmd.account_id, actor, change)

    def _change_account(self, account_id: UUID, actor: Actor, change: Callable[[StaffAccount], bool | None]) -> Saved:
        for attempt in range(SAVE_ATTEMPTS):
            account = self.staff_account(actor, account_id)
            if change(account) is False:
                return Saved(account_id, self.recorder.max_notification_id() or 0, created=False)
            try:
                recordings = self.save(account)
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.005) * (attempt + 1))
                continue
            return Saved(account_id, recordings[-1].notification.id)
        raise ConcurrentChange("Someone else was changing this account at the same moment. Nothing was saved: try again.")

    def needs_new_password(self, user_id: UUID) -> bool:
        """Whether the account signed in with a one-time password and must now choose its own."""
        account = self.repository.get(user_id)
        return bool(account.must_choose_password)

    def choose_password(self, user_id: UUID, session_version: int, cmd: c.ChoosePassword) -> tuple[Actor, int]:
        """The person's own password in place of a one-time one; their other sessions end."""
        try:
            account = self.repository.get(user_id)
        except AggregateNotFoundError:
            raise PasswordChoiceExpired("Sign in again") from None
        if not isinstance(account, StaffAccount) or account.disabled or account.session_version != session_version or not account.must_choose_password:
            raise PasswordChoiceExpired("Sign in again")
        try:
            self.password_hasher.verify(account.password_hash, cmd.password)
        except (VerificationError, InvalidHashError):
            pass
        else:
            raise SamePassword("Choose a password different from the one-time password")
        account.change_password(self.password_hasher.hash(cmd.password), actor=account.username)
        self.save(account)
        return self._actor(account), account.session_version

    def authenticate(self, username: str, password: str) -> tuple[Actor, int] | None:
        """The actor and session version for a right username and password, else None.

        Raises OneTimePasswordExpired for a right one-time password given out too long ago."""
        try:
            account = self.repository.get(StaffAccount.create_id(username_of(username)))
        except (AggregateNotFoundError, DomainError):
            # Spend the same time as a real check, so timing does not reveal which names exist.
            self.password_hasher.hash(password or "-")
            return None
        try:
            self.password_hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if account.disabled:
            return None
        if account.must_choose_password:
            # A one-time password signs in once, for choosing a new password and nothing else.
            if account.one_time_password_used:
                return None
            account.check_one_time_password_in_time(self.one_time_password_lifetime, datetime.now(timezone.utc))
            account.use_one_time_password()
            try:
                self.save(account)
            except IntegrityError:
                return None  # the same one-time password used at the same moment elsewhere
        elif self.password_hasher.check_needs_rehash(account.password_hash):
            account.rehash_password(self.password_hasher.hash(password))
            self.save(account)
        return self._actor(account), account.session_version

    def actor_for_session(self, user_id: UUID, session_version: int) -> Actor | None:
        """The actor a session cookie names, if that session is still current.

        Asked on every request, so it is kept cheap: what a session needs of an account is kept
        by account version, and each call only asks the store whether the account has any newer
        event (one indexed read, nothing to decrypt). Any change, a sign-out or a disabled account
        made by any process, is seen at once; only then is the account loaded again.
        """
        known = self._session_accounts.get(user_id)
        if known is not None and not self.recorder.select_events(user_id, gt=known.version, limit=1):
            return known.actor if known.session_version == session_version else None
        try:
            account = self.repository.get(user_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(account, StaffAccount):
            return None
        known = _SessionAccount(account.version, account.session_version, None if account.disabled else self._actor(account))
        if len(self._session_accounts) >= SESSION_ACCOUNTS_KEPT:
            self._session_accounts.clear()
        self._session_accounts[user_id] = known
        return known.actor if known.session_version == session_version else None

    def sign_out(self, user_id: UUID) -> None:
        account = self.repository.get(user_id)
        account.sign_out()
        self.save(account)

    @staticmethod
    def account_id(username: str) -> UUID:
        return StaffAccount.create_id(username)

    def has_accounts(self) -> bool:
        """Whether anything but the deployment's own records (its signing key, checkpoints) is stored."""
        own = {CHECKPOINT_LOG_ID, SIGNING_KEY_ID}
        notifications = self.recorder.select_notifications(start=1, limit=20)  # the own records come first, a few at most
        return any(n.originator_id not in own for n in notifications)

    @staticmethod
    def _actor(account: StaffAccount) -> Actor:
        return Actor(account.id, account.username, account.display_name, account.practice, account.role)

    @staticmethod
    def new_password() -> str:
        """16 random URL-safe characters (96 bits), never a common password."""
        while True:
            password = secrets.token_urlsafe(12)
            try:
                return acceptable_password(password)
            except DomainError:
                continue
