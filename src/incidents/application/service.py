"""The incident log application: incidents, the staff accounts that record them, and the
notice register, disclosure desk, access audit and evidence exports it is built of (each on
`Records`: get, call, save)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError

from ..domain.accounts import StaffAccount, acceptable_password, username_of
from ..domain.checkpoint import CHECKPOINT_LOG_ID
from ..domain.incident import Incident
from ..domain.kinds import INCIDENT_KINDS  # noqa: F401  (the web layer reads the kinds from here)
from ..domain.references import Numbering
from ..domain.signing_key import SIGNING_KEY_ID
from ..domain.values import DomainError
from . import commands as c
from .call_recording import CallRecording
from .checkpoints import StoreCheckpoints
from .exports import EvidenceExports
from .filmers import PatientsFilming
from .references import EarlierReferences
from .retention import RecordsRetention
from .records import (  # the names web and the CLI import from here
    AccountNotFound,
    Actor,
    ConcurrentChange,
    IncidentNotFound,
    NotFound,
    NotPermitted,
    SAVE_ATTEMPTS,
    Saved,
)

STAFF = "staff"  # the practice's list of accounts


class UsernameTaken(DomainError):
    pass


class PasswordChoiceExpired(DomainError):
    """The one-time sign-in no longer stands (reset again, disabled, or done): sign in again."""


class SamePassword(DomainError):
    pass


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


class IncidentLog(EvidenceExports, StoreCheckpoints, EarlierReferences, RecordsRetention, CallRecording):
    """Incidents and the staff accounts that record them, in one event store."""

    name = "incidents"
    password_hasher = PasswordHasher()
    one_time_password_lifetime = timedelta(hours=72)  # the composition root sets INCIDENTS_ONE_TIME_PASSWORD_HOURS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_accounts: dict[UUID, _SessionAccount] = {}
        self.patients_filming = PatientsFilming(self)

    # Reporting ----------------------------------------------------------

    def report_filming(self, cmd: c.ReportFilming, actor: Actor) -> Saved:
        return self.report(cmd, actor)

    def report_recording(self, cmd: c.ReportRecording, actor: Actor) -> Saved:
        return self.report(cmd, actor)

    def report(self, cmd: c.Report, actor: Actor) -> Saved:
        """A new incident of the command's kind, with its kind's next short reference. A repeated
        submission finds the incident the first one made."""
        numbering = self._numbering(cmd, actor)
        incident_id = cmd.incident_class.create_id(actor.practice, cmd.submission_key)

        for _ in range(SAVE_ATTEMPTS):
            events = self._new_incident(cmd, actor, numbering)
            try:
                recordings = self.save(*events)
            except IntegrityError:
                if self._made_before(incident_id, numbering, events[-1].ref):
                    return self.unchanged(incident_id)
                continue  # another process took the number: at once with the next (a pause would let a process that reports without stopping take every number first)
            return Saved(incident_id, recordings[-1].notification.id)
        raise ConcurrentChange("The incident could not be saved just now. Nothing was saved: try again.")

    async def report_from_event_loop(self, cmd: c.Report, actor: Actor) -> Saved:
        """As report(), for a caller on an event loop, which goes on with other work while the
        store commits: on SQLite the save is handed to the store's writer thread (which commits
        the saves queued meanwhile together). A store without one saves here and now."""
        insert_from_loop = getattr(self.recorder, "insert_events_from_loop", None)
        if insert_from_loop is None:
            return self.report(cmd, actor)
        numbering = self._numbering(cmd, actor)
        incident_id = cmd.incident_class.create_id(actor.practice, cmd.submission_key)
        for _ in range(SAVE_ATTEMPTS):
            events = self._new_incident(cmd, actor, numbering)
            try:
                ids = await insert_from_loop([self.mapper.to_stored_event(event) for event in events])
            except IntegrityError:
                if self._made_before(incident_id, numbering, events[-1].ref):
                    return self.unchanged(incident_id)
                continue
            return Saved(incident_id, ids[-1])
        raise ConcurrentChange("The incident could not be saved just now. Nothing was saved: try again.")

    def close(self) -> None:
        stop_writer = getattr(self.recorder, "stop_writer", None)
        if stop_writer is not None:
            stop_writer()
        super().close()

    def _made_before(self, incident_id: UUID, numbering: Numbering, ref: str) -> bool:
        """After a save refused as a conflict: whether a form sent again made it before (its
        number is given back, unless another was given since); if not, another process took the
        number, and the store's last is read again. Checked only then, to keep the store out of
        the way of every report."""
        if self._exists(incident_id):
            self.references.give_back(numbering, ref)
            return True
        self.references.refresh(numbering)
        return False

    def _numbering(self, cmd: c.Report, actor: Actor) -> Numbering:
        actor.require(*INCIDENT_ROLES)
        with actor.acting():
            return Numbering(actor.practice, cmd.incident_class.PREFIX, self.references.year())

    def _new_incident(self, cmd: c.Report, actor: Actor, numbering: Numbering) -> list[Any]:
        """The entry that gives the new incident its number, then the incident's events (last, so
        the position saved is the incident's own, which the views wait for)."""
        with actor.acting():
            incident = cmd.incident_class.report(practice=actor.practice, ref=self.references.next(numbering), **cmd.model_dump())
            links = self.patients_filming.links(incident)
            return [self.references.entry(numbering, incident.id, incident.ref), *links, *incident.collect_events()]

    # Changing an incident ----------------------------------------------

    def respond(self, cmd: c.RecordResponse, actor: Actor) -> Saved:
        """A response; a removal from the list may rely on a warning letter to the same patient on
        another of the practice's incidents."""

        def call(incident: Incident) -> bool:
            if incident.has_submission(cmd.submission_key):
                return False
            related = self.patients_filming.related(incident) if cmd.response == "RemovalRequested" else []
            incident.respond(cmd.response, cmd.occurred_at, cmd.submission_key, reference=cmd.reference, note=cmd.note, related=related)
            return True

        return self._change_incident(actor, INCIDENT_ROLES, cmd.incident_id, call)

    def add_note(self, cmd: c.AddNote, actor: Actor) -> Saved:
        def call(incident: Incident) -> bool:
            if incident.has_submission(cmd.submission_key):
                return False
            incident.add_note(cmd.text, cmd.submission_key)
            return True

        return self._change_incident(actor, INCIDENT_ROLES, cmd.incident_id, call)

    def correct(self, cmd: c.CorrectIncident, actor: Actor) -> Saved:
        """A corrected fact; one that now names a patient filming puts the incident on that patient's log too."""
        actor.require(*INCIDENT_ROLES)

        def attempt() -> tuple[UUID, list[Any]]:
            incident = self.get_incident(actor, cmd.incident_id)
            named_before = getattr(incident, "patient_filming", "")
            incident.correct(cmd.field, cmd.new_value, cmd.reason)
            return incident.id, [*self.patients_filming.links(incident, named_before), incident]

        return self.saving(actor, attempt)

    def review_incident(self, cmd: c.ReviewIncident, actor: Actor) -> Saved:
        return self._change_incident(actor, MANAGER_ROLES, cmd.incident_id, lambda i: i.review(cmd.comment))

    def close_incident(self, cmd: c.CloseIncident, actor: Actor) -> Saved:
        return self._change_incident(actor, MANAGER_ROLES, cmd.incident_id, lambda i: i.close(cmd.outcome, cmd.note))

    def reopen_incident(self, cmd: c.ReopenIncident, actor: Actor) -> Saved:
        return self._change_incident(actor, MANAGER_ROLES, cmd.incident_id, lambda i: i.reopen(cmd.reason))

    def _change_incident(self, actor: Actor, roles: tuple[str, ...], incident_id: UUID, call: Callable[[Incident], object]) -> Saved:
        actor.require(*roles)
        return self.change(actor, lambda: self.get_incident(actor, incident_id), call)

    # Staff accounts ----------------------------------------------------

    def register_account(self, cmd: c.RegisterAccount, actor: str) -> Saved:
        """An account with a password its owner chose, or (one_time) a generated one handed to
        them that signs in once, in time, to choose their own (the CLI and the first run, which
        `actor` names)."""

        def make() -> StaffAccount:
            account = StaffAccount.register(
                cmd.username, cmd.display_name, cmd.practice, cmd.roles, self.password_hasher.hash(cmd.password)
            )
            if cmd.one_time:
                account.require_new_password()
            return account

        return self._add_account(Actor.process(actor, cmd.practice), cmd.username, make)

    def _add_account(self, actor: Actor, username: str, make: Callable[[], StaffAccount]) -> Saved:
        """Saves the account with its entry in the practice's staff list, in one transaction."""
        saved = self.add_listed(actor, STAFF, make)
        if not saved.created:
            raise UsernameTaken(f"The username {username_of(username)!r} is taken")
        return saved

    def one_time_password_expires_at(self, account_id: UUID) -> datetime | None:
        """When the account's outstanding one-time password stops working (None: it has none)."""
        account = self.repository.get(account_id)
        return account.one_time_password_expires_at(self.one_time_password_lifetime)

    def add_staff(self, cmd: c.AddStaff, actor: Actor) -> OneTimePassword:
        """A new account in the governance lead's practice, with a password that signs in once."""
        actor.require(*GOVERNANCE_ROLES)
        password = self.new_password()

        def make() -> StaffAccount:
            account = StaffAccount.register(
                cmd.username, cmd.display_name, actor.practice, cmd.roles, self.password_hasher.hash(password)
            )
            account.require_new_password()
            return account

        return self._issued(self._add_account(actor, cmd.username, make), password)

    def _issued(self, saved: Saved, password: str) -> OneTimePassword:
        expires_at = self.one_time_password_expires_at(saved.id)
        assert expires_at is not None
        return OneTimePassword(saved.id, saved.notification_id, password, expires_at)

    def staff(self, actor: Actor) -> list[StaffAccount]:
        """The accounts of the actor's practice, oldest first."""
        actor.require(*GOVERNANCE_ROLES)
        return list(self.listed_records(actor, STAFF))

    def staff_account(self, actor: Actor, account_id: UUID) -> StaffAccount:
        actor.require(*GOVERNANCE_ROLES)
        return self.get(actor, account_id, StaffAccount, AccountNotFound)

    def account_history(self, actor: Actor, account_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of one account, oldest first (the account page's history)."""
        self.staff_account(actor, account_id)
        return list(self.events.get(account_id))

    def reset_password(self, cmd: c.ResetPassword, actor: Actor) -> OneTimePassword:
        """A new password that signs in once; the account's sessions end everywhere."""
        password = self.new_password()
        password_hash = self.password_hasher.hash(password)
        return self._issued(self._change_account(actor, cmd.account_id, lambda a: a.reset_password(password_hash)), password)

    def disable_account(self, cmd: c.DisableAccount, actor: Actor) -> Saved:
        """Signs the person out everywhere at once; a repeated request changes nothing."""

        def call(account: StaffAccount) -> bool:
            account.check_not_own_account()
            if account.disabled:
                return False
            account.disable(cmd.reason)
            return True

        return self._change_account(actor, cmd.account_id, call)

    def enable_account(self, cmd: c.EnableAccount, actor: Actor) -> Saved:
        def call(account: StaffAccount) -> bool:
            if not account.disabled:
                return False
            account.enable()
            return True

        return self._change_account(actor, cmd.account_id, call)

    def change_roles(self, cmd: c.ChangeRoles, actor: Actor) -> Saved:
        """The account's roles; its pages follow at the person's next request, on every device."""
        return self._change_account(actor, cmd.account_id, lambda account: account.change_roles(cmd.roles))

    def _change_account(self, actor: Actor, account_id: UUID, call: Callable[[StaffAccount], object]) -> Saved:
        return self.change(actor, lambda: self.staff_account(actor, account_id), call)

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
        with self._actor(account).acting():
            account.change_password(self.password_hasher.hash(cmd.password))
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
        actor = self._actor(account)
        if account.must_choose_password:
            # A one-time password signs in once, for choosing a new password and nothing else.
            if account.one_time_password_used:
                return None
            account.check_one_time_password_in_time(self.one_time_password_lifetime, datetime.now(timezone.utc))
            with actor.acting():
                account.use_one_time_password()
            try:
                self.save(account)
            except IntegrityError:
                return None  # the same one-time password used at the same moment elsewhere
        elif self.password_hasher.check_needs_rehash(account.password_hash):
            with actor.acting():
                account.rehash_password(self.password_hasher.hash(password))
            self.save(account)
        return actor, account.session_version

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
        with self._actor(account).acting():
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
        return Actor(account.id, account.username, account.display_name, account.practice, account.roles)

    @staticmethod
    def new_password() -> str:
        """16 random URL-safe characters (96 bits), never a common password."""
        while True:
            password = secrets.token_urlsafe(12)
            try:
                return acceptable_password(password)
            except DomainError:
                continue
