"""Retention: where each record stands on the schedule, and the governance lead's legal holds and
review decisions (keep to a later review, or dispose). A disposal decision only marks the record
as awaiting disposal; nothing here erases anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from datetime import date
from typing import Annotated, Any, Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import MapperDeserialisationError
from eventsourcing.utils import get_topic
from pydantic import StringConstraints

from ..domain.disclosure import DisclosureRequest
from ..domain.incident import Incident
from ..domain.values import DomainError
from ..record_keys import disposed_in, note_disposed
from ..domain.retention import (
    DECISIONS,
    HOLD_REASONS,
    Decision,
    AlreadyDisposed,
    Disposal,
    Hold,
    NotAwaitingDisposal,
    RecordRetention,
    RetentionDue,
    INCIDENT as INCIDENT_RULE,
    OTHER_REQUEST,
    hold_reason_phrase,
    incident_retention,
    request_retention,
)
from . import commands as c
from .days import Day
from .records import UK, Actor, NotFound, Records, Saved, uk_today

RETENTION_ROLES = ("governance",)


class RecordNotFound(NotFound):
    what = "record"


class PlaceHold(c.Command):
    record_id: UUID
    reason: Annotated[str, c._choice(HOLD_REASONS, "the reason for the hold")]
    text: Annotated[c.Note, StringConstraints(min_length=1)]


class LiftHold(c.Command):
    record_id: UUID
    reason: Annotated[c.Note, StringConstraints(min_length=1)]


class KeepRecord(c.Command):
    record_id: UUID
    review_on: Day
    reason: Annotated[c.Note, StringConstraints(min_length=1)]


class CarryOutDisposal(c.Command):
    record_id: UUID


class NoKeyOfItsOwn(DomainError):
    """A record stored before records had keys of their own: destroying a key would not erase it."""


class DisposeOfRecord(c.Command):
    record_id: UUID
    reason: Annotated[c.Note, StringConstraints(min_length=1)]
    authorised_by: Annotated[c.ShortText, StringConstraints(min_length=1)]


@dataclass(frozen=True)
class RetentionState:
    """What the record's page and its retention page show."""

    record_id: UUID
    kind: str  # the incident's kind, or "disclosure"
    ref: str
    title: str
    due: RetentionDue
    review_on: date | None  # the schedule's date, or a later one a keep gave
    hold: Hold | None
    lifted: list[tuple[Hold, Any, str]]  # earlier holds: the hold, when lifted, why
    decisions: list[Decision]
    awaiting_disposal: bool
    today: date
    disposal: Disposal | None = None

    @property
    def is_due(self) -> bool:
        return self.review_on is not None and self.review_on <= self.today and not self.awaiting_disposal and self.disposal is None

    @property
    def address(self) -> str:
        return f"/disclosures/{self.record_id}" if self.kind == "disclosure" else f"/incidents/{self.record_id}"


LEGAL_HOLD_FACT = "Legal hold"


def legal_hold_fact(records: Records, practice: str, record_id: UUID) -> tuple[str, str] | None:
    """The line a bundle carries for a record under legal hold: since when and its kind of reason
    (never the hold's own text, which may name a claimant), else None."""
    try:
        retention = records.repository.get(RecordRetention.create_id(practice, record_id))
    except AggregateNotFoundError:
        return None
    hold = retention.hold
    if hold is None:
        return None
    return LEGAL_HOLD_FACT, f"Under legal hold since {hold.placed_at.astimezone(UK):%d %b %Y} ({hold_reason_phrase(hold.reason)}): it must not be disposed of"


class RecordsRetention(Records):
    """Holds and review decisions on the practice's incidents and disclosure requests."""

    disposal_register: Path | None = None  # beside the deployment key (bootstrap.py): see apply_disposals

    def _kept_record(self, actor: Actor, record_id: UUID) -> Incident | DisclosureRequest:
        try:
            record = self.repository.get(record_id)
        except AggregateNotFoundError:
            raise RecordNotFound() from None
        if not isinstance(record, (Incident, DisclosureRequest)) or record.practice != actor.practice:
            raise RecordNotFound()
        return record

    def _due(self, record: Incident | DisclosureRequest) -> RetentionDue:
        events = self.events.get(record.id)
        return request_retention(events) if isinstance(record, DisclosureRequest) else incident_retention(events)

    def _retention(self, actor: Actor, record: Incident | DisclosureRequest) -> RecordRetention | None:
        try:
            return self.repository.get(RecordRetention.create_id(actor.practice, record.id))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None

    def disposal_of(self, actor: Actor, record_id: UUID) -> Disposal | None:
        """The disposal of one of the actor's practice's records, if it was disposed of."""
        try:
            retention = self.repository.get(RecordRetention.create_id(actor.practice, record_id))
        except AggregateNotFoundError:
            return None
        return retention.disposal  # type: ignore[no-any-return]

    def _disposed_state(self, actor: Actor, record_id: UUID) -> RetentionState:
        retention: RecordRetention = self.repository.get(RecordRetention.create_id(actor.practice, record_id))
        d = retention.disposal
        assert d is not None
        due = RetentionDue(OTHER_REQUEST if retention.record_kind == "disclosure" else INCIDENT_RULE, d.began_at)
        return RetentionState(
            record_id, retention.record_kind, d.ref, d.kind, due, d.review_on, None, list(retention.holds),
            list(retention.decisions), False, uk_today(), d,
        )

    def retention_of(self, actor: Actor, record_id: UUID) -> RetentionState:
        """The record's place on the schedule, its hold and its review decisions (anyone who may
        see the record); of a record disposed of, its disposal."""
        try:
            record = self._kept_record(actor, record_id)
        except MapperDeserialisationError:
            if self.disposal_of(actor, record_id) is None:
                raise
            return self._disposed_state(actor, record_id)
        retention, due = self._retention(actor, record), self._due(record)
        review_on = retention.review_due_on(due) if retention is not None else due.due_on
        kind = "disclosure" if isinstance(record, DisclosureRequest) else record.KIND
        title = record.requester_type_label if isinstance(record, DisclosureRequest) else record.TITLE
        return RetentionState(
            record.id, kind, record.ref, title, due, review_on,
            retention.hold if retention else None, list(retention.holds) if retention else [],
            list(retention.decisions) if retention else [], bool(retention and retention.awaiting_disposal), uk_today(),
        )

    def _change_retention(self, actor: Actor, record_id: UUID, call: Callable[[RecordRetention, RetentionDue], object]) -> Saved:
        actor.require(*RETENTION_ROLES)

        def attempt() -> tuple[UUID, list[Any]]:
            try:
                record = self._kept_record(actor, record_id)
            except MapperDeserialisationError:
                if self.disposal_of(actor, record_id) is None:
                    raise
                raise AlreadyDisposed("This record is already disposed of: there is nothing left to hold or review") from None
            retention = self._retention(actor, record)
            if retention is None:
                kind = "disclosure" if isinstance(record, DisclosureRequest) else record.KIND
                retention = RecordRetention(practice=actor.practice, record_id=record.id, record_kind=kind)
            call(retention, self._due(record))
            return record.id, [retention]

        return self.saving(actor, attempt)

    def place_hold(self, cmd: PlaceHold, actor: Actor) -> Saved:
        return self._change_retention(actor, cmd.record_id, lambda r, _: r.place_hold(cmd.reason, cmd.text))

    def lift_hold(self, cmd: LiftHold, actor: Actor) -> Saved:
        return self._change_retention(actor, cmd.record_id, lambda r, _: r.lift_hold(cmd.reason))

    def keep_record(self, cmd: KeepRecord, actor: Actor) -> Saved:
        return self._change_retention(actor, cmd.record_id, lambda r, due: r.keep(cmd.review_on, cmd.reason, r.review_due_on(due), uk_today()))

    def disposals(self) -> list[Disposal]:
        """Every record disposed of, in the order of their disposals (`verify-store` names them)."""
        topic, found, start = get_topic(RecordRetention.Disposed), [], 1
        while True:
            batch = self.recorder.select_notifications(start=start, limit=500, topics=[topic])
            for notification in batch:
                retention: RecordRetention = self.repository.get(notification.originator_id)
                if retention.disposal is not None:
                    found.append(retention.disposal)
            if len(batch) < 500:
                return found
            start = batch[-1].id + 1

    def carry_out_disposal(self, cmd: CarryOutDisposal, actor: Actor) -> Saved:
        """Destroy the record's key, after recording its disposal (in its retention stream, under
        the deployment key): its events stay in the log, signed, and nobody can read them."""
        actor.require(*RETENTION_ROLES)
        keys = self.mapper.cipher.record_keys

        def attempt() -> tuple[UUID, list[Any]]:
            try:
                record = self._kept_record(actor, cmd.record_id)
            except MapperDeserialisationError:
                if self.disposal_of(actor, cmd.record_id) is None:
                    raise
                return cmd.record_id, []  # disposed of already: its key is destroyed again below, if a crash left it
            retention = self._retention(actor, record)
            if retention is None or not retention.awaiting_disposal:
                retention_check = retention or RecordRetention(practice=actor.practice, record_id=record.id, record_kind="")
                retention_check.check_not_held()
                raise NotAwaitingDisposal("Disposal of this record is not decided: a review must decide it first")
            retention.check_not_held()
            if keys.key_of(record.id) is None:
                raise NoKeyOfItsOwn(
                    "This record was stored before records had keys of their own, so destroying a key would not erase it: "
                    "it can be disposed of once whoever runs the service has given it one (`incidents keys adopt-record-keys`; docs/retention.md: Records stored before record keys)"
                )
            due = self._due(record)
            title = f"Disclosure request: {record.requester_type_label}" if isinstance(record, DisclosureRequest) else record.TITLE
            retention.dispose(record.ref, title, due.runs_from, retention.review_due_on(due))
            return record.id, [retention]

        saved = self.saving(actor, attempt)
        keys.destroy(cmd.record_id)
        self.bundle_shelf.discard_request(cmd.record_id)  # a request's bundles are part of its record, and go with it
        if self.disposal_register is not None:
            disposal = self.disposal_of(actor, cmd.record_id)
            if disposal is not None and cmd.record_id not in disposed_in(self.disposal_register):
                note_disposed(self.disposal_register, cmd.record_id, f"{disposal.ref} disposed of {disposal.disposed_at.isoformat()}")
        return saved

    def apply_disposals(self, register: Path | None) -> list[UUID]:
        """After a restore: destroy again the key of every record disposed of, as the restored
        store's disposals and the register kept beside the key (disposals made after the
        backup) name them; the records whose keys were destroyed now."""
        keys = self.mapper.cipher.record_keys
        named = {d.record_id for d in self.disposals() if d.record_id is not None} | set(disposed_in(register) if register else [])
        return [record_id for record_id in sorted(named) if keys.destroy(record_id)]

    def dispose_of_record(self, cmd: DisposeOfRecord, actor: Actor) -> Saved:
        return self._change_retention(
            actor, cmd.record_id, lambda r, due: r.decide_disposal(cmd.reason, cmd.authorised_by, r.review_due_on(due), uk_today())
        )


__all__ = ["DECISIONS", "HOLD_REASONS", "RETENTION_ROLES", "RecordsRetention", "RetentionState"]
