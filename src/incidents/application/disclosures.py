"""The disclosure desk: the governance lead receives requests, sets their scope and legal basis,
extends, exports, discloses, refuses and closes them. Every step is an event of the request; an
export is also an entry in the chain of custody of each incident it carried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Callable
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from ..domain.custody import IncidentAccessLog
from ..domain.disclosure import DUE_RULES, LEGAL_BASES, REQUESTER_TYPES, STATUSES, DisclosureRequest, Extension, NothingToRedact, WordsNotInEntry, fingerprint_of, request_label
from ..domain.values import DomainError
from . import commands as c
from .custody import AccessAudit
from .practice_recordings import PracticeRecordings
from .days import Day, OptionalDay
from .records import UK, Actor, RequestNotFound, Saved, uk_today
from .timeline import TimelineEntry, timeline

REQUESTS = "disclosure_requests"  # the practice's list
DISCLOSURE_ROLES = ("governance",)


def _fingerprint(value: str) -> str:
    try:
        return fingerprint_of(value)
    except DomainError as error:
        raise ValueError(str(error)) from None


Fingerprint = Annotated[str, AfterValidator(_fingerprint)]


class ReceiveRequest(c.Command):
    submission_key: c.SubmissionKey
    requester_type: Annotated[str, c._choice(REQUESTER_TYPES, "who made the request")]
    requester: Annotated[c.ShortText, StringConstraints(min_length=1)]
    reference: Annotated[c.ShortText, StringConstraints(min_length=1)]
    received_on: Day
    due_on: OptionalDay = None  # blank: computed from the requester type
    nhs_number: c.ShortText = ""  # the patient the request is about (a subject access request's): the scope proposes their records
    call_at: datetime | None = None  # a call recording request's call (UK time on the form)
    caller_number: c.ShortText = ""  # the number the call was from or to, when known


class ExtendRequest(c.Command):
    request_id: UUID
    due_on: Day
    reason: Annotated[c.Note, StringConstraints(min_length=1)]
    told_on: OptionalDay = None  # the day the requester was told (needed for a subject access request)


class SetRequestScope(c.Command):
    request_id: UUID
    incident_ids: Annotated[list[UUID], Field(max_length=500)] = []  # none: the patient's recordings alone
    period_from: OptionalDay = None
    period_to: OptionalDay = None


class RecordLegalBasis(c.Command):
    request_id: UUID
    basis: Annotated[str, c._choice(LEGAL_BASES, "the legal basis")]
    note: c.Note = ""


class RecordExport(c.Command):
    request_id: UUID
    fingerprint: Fingerprint  # the SHA-256 of the bundle's manifest
    zip_sha256: str = ""  # the SHA-256 of the zip as kept


class RecordDisclosure(c.Command):
    request_id: UUID
    fingerprint: str = ""  # blank: the latest bundle exported
    note: c.Note = ""


def _target(value: str) -> str:
    kind, _, rest = value.partition(":")
    incident, _, what = rest.partition(":")
    try:
        UUID(incident)
    except ValueError:
        raise ValueError("Choose what to redact") from None
    if kind not in ("fact", "entry") or not what or (kind == "entry" and not what.isdigit()):
        raise ValueError("Choose what to redact")
    return value


class Redact(c.Command):
    """Hide a fact (target "fact:<incident>:<fact name>") or words in an entry (target
    "entry:<incident>:<sequence>", with the words as text) in this request's bundle."""

    request_id: UUID
    target: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), AfterValidator(_target)]
    text: c.ShortText = ""
    reason: Annotated[c.ShortText, StringConstraints(min_length=1)]


class RemoveRedaction(c.Command):
    request_id: UUID
    redaction_id: UUID


@dataclass(frozen=True)
class RedactionRow:
    """A redaction as the request's page lists it."""

    redaction_id: UUID
    incident: str  # the incident's kind and when it happened
    what: str  # "Fact: <label>" or "Entry #n (<title>): “<words>”"
    reason: str


@dataclass(frozen=True)
class RedactionTarget:
    """Something of an incident in scope that can be redacted, as the form offers it."""

    value: str
    text: str


class RefuseRequest(c.Command):
    request_id: UUID
    reason: Annotated[c.Note, StringConstraints(min_length=1)]


class CloseRequest(c.Command):
    request_id: UUID
    note: c.Note = ""


@dataclass(frozen=True)
class RequestSummary:
    """One line of the requests list."""

    request_id: UUID
    requester_type: str
    requester_type_label: str
    requester: str
    reference: str
    received_on: date
    due_on: date
    days_left: int  # negative once overdue
    overdue: bool
    status: str
    status_label: str
    legal_basis_label: str
    incident_count: int
    ref: str = ""  # the practice's short reference (D-2026-0001)


TITLES = {
    "Received": "Request received",
    "Extended": "Due date extended",
    "ScopeSet": "Scope set",
    "LegalBasisRecorded": "Legal basis recorded",
    "BundleExported": "Bundle exported",
    "Disclosed": "Disclosed",
    "Refused": "Refused",
    "Closed": "Closed",
    "Redacted": "Redaction added",
    "RedactionRemoved": "Redaction removed",
}


def _day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "Not set"


def _period(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "Not limited"
    return f"{_day(start) if start else 'Any time'} to {_day(end) if end else 'now'}"


def extension_in_words(extension: Extension) -> str:
    """One extension as the request records it: the dates, the reason as typed, when the requester was told."""
    told = f"The requester was told on {_day(extension.told_on)}." if extension.told_on else "When the requester was told is not recorded."
    reason = extension.reason.strip()
    reason += "" if reason.endswith((".", "!", "?")) else "."
    return f"Extended from {_day(extension.previous_due_on)} to {_day(extension.due_on)}: {reason} {told}"


def due_rule_in_words(request: DisclosureRequest) -> str:
    return DUE_RULES[request.requester_type].explanation


def _hex(digits: str) -> str:
    """A SHA-256 in groups of sixteen, so that a narrow page wraps it."""
    return " ".join(digits[i : i + 16] for i in range(0, len(digits), 16))


def _details(event: Any) -> tuple[tuple[str, str], ...]:
    name = type(event).__name__
    if name == "Received":
        return (
            ("Requester", f"{event.requester} ({REQUESTER_TYPES[event.requester_type]})"),
            ("Their reference", event.reference),
            ("Received", _day(event.received_on)),
            ("Due", _day(event.due_on)),
            *((("Call", f"{event.call_at.astimezone(UK):%d %b %Y at %H:%M}"), ("Caller's number", getattr(event, "caller_number", "") or "Not given"))
              if getattr(event, "call_at", None) else ()),
        )
    if name == "Extended":
        told_on = getattr(event, "told_on", None)
        return (
            ("Was due", _day(event.previous_due_on)),
            ("Now due", _day(event.due_on)),
            ("Reason", event.reason),
            ("Requester told", _day(told_on) if told_on else "Not recorded"),
        )
    if name == "ScopeSet":
        return (
            ("Incidents", str(len(event.incident_ids))),
            ("Patient's recordings", str(len(getattr(event, "recording_ids", None) or []))),
            ("Period", _period(event.period_from, event.period_to)),
        )
    if name == "LegalBasisRecorded":
        return (("Legal basis", LEGAL_BASES[event.basis]), ("Decided by", event.actor_name), ("Note", event.note))
    if name == "BundleExported":
        return (
            ("Fingerprint (manifest SHA-256)", _hex(event.fingerprint)),
            ("SHA-256 of the zip", _hex(getattr(event, "zip_sha256", "")) or "Not recorded (made before bundles were kept)"),
            ("Incidents", str(len(event.incident_ids))),
        )
    if name == "Disclosed":
        zip_sha256 = getattr(event, "zip_sha256", "")
        return (("Bundle fingerprint", _hex(event.fingerprint)), ("SHA-256 of the zip", _hex(zip_sha256)), ("Note", event.note))
    if name == "Refused":
        return (("Reason", event.reason),)
    if name == "Closed":
        return (("Note", event.note),)
    if name == "Redacted":
        hidden = ("Fact", event.fact_label or event.fact) if event.fact else (f"Words in entry #{event.sequence}", event.text)
        return (("Incident", str(event.incident_id)), hidden, ("Reason", event.reason))
    if name == "RedactionRemoved":
        return (("Redaction", str(event.redaction_id)),)
    return ()


def entry_text(e: TimelineEntry) -> str:
    """All an entry says that words may be redacted from: its note, details and correction."""
    c = e.correction
    parts = [e.note, *(value for _, value in e.details), *((c.previous, c.new, c.reason) if c else ())]
    return "\n".join(p for p in parts if p)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DisclosureDesk(AccessAudit, PracticeRecordings):
    def receive_request(self, cmd: ReceiveRequest, actor: Actor, today: date | None = None) -> Saved:
        actor.require(*DISCLOSURE_ROLES)
        return self.add_listed(
            actor, REQUESTS, lambda ref: DisclosureRequest.receive(practice=actor.practice, today=today or uk_today(), ref=ref, **cmd.model_dump()),
            prefix=DisclosureRequest.PREFIX,
        )

    def extend_request(self, cmd: ExtendRequest, actor: Actor, today: date | None = None) -> Saved:
        day = today or uk_today()
        return self._change_request(actor, cmd.request_id, lambda r: r.extend(cmd.due_on, cmd.reason, cmd.told_on, day))

    def set_request_scope(self, cmd: SetRequestScope, actor: Actor) -> Saved:
        actor.require(*DISCLOSURE_ROLES)
        for incident_id in cmd.incident_ids:
            self.get_incident(actor, incident_id)  # another practice's: not found

        def scoped(r: DisclosureRequest) -> None:
            found = [rec.id for rec in self.patient_recordings(actor, r.nhs_number, cmd.period_from, cmd.period_to)]
            r.set_scope(cmd.incident_ids, cmd.period_from, cmd.period_to, found)

        return self._change_request(actor, cmd.request_id, scoped)

    def record_legal_basis(self, cmd: RecordLegalBasis, actor: Actor) -> Saved:
        return self._change_request(actor, cmd.request_id, lambda r: r.record_legal_basis(cmd.basis, cmd.note))

    def record_export(self, cmd: RecordExport, actor: Actor) -> Saved:
        """A bundle made for the request: on the request, and in the custody chain of each of its
        incidents, all in one transaction."""
        actor.require(*DISCLOSURE_ROLES)

        def attempt() -> tuple[UUID, list[Any]]:
            request = self.get_request(actor, cmd.request_id)
            request.export_bundle(cmd.fingerprint, cmd.zip_sha256)
            accesses = [
                self._next_access(
                    actor, incident_id, IncidentAccessLog.TimelineExported, request_id=request.id, fingerprint=cmd.fingerprint
                )
                for incident_id in request.incident_ids
            ]
            return request.id, [request, *accesses]

        return self.saving(actor, attempt)

    def redact(self, cmd: Redact, actor: Actor) -> Saved:
        """A fact or words hidden from this request's bundle, checked against the incident."""
        actor.require(*DISCLOSURE_ROLES)
        kind, incident, what = cmd.target.split(":", 2)
        incident_id = UUID(incident)
        request = self.get_request(actor, cmd.request_id)
        request.check_in_scope(incident_id)  # before reading it: another practice's is not in scope
        kind_class = type(self.get_incident(actor, incident_id))
        if kind == "fact":
            if cmd.text:
                raise WordsNotInEntry("A fact is hidden whole: leave the words blank, or choose an entry to hide words in it")
            facts = {f.name: f.label for f in kind_class.FACTS}
            return self._change_request(actor, cmd.request_id, lambda r: r.redact_fact(incident_id, what, cmd.reason, facts))
        entry = next((e for e in timeline(kind_class, self.history(actor, incident_id)) if e.version == int(what)), None)
        if entry is None:
            raise NothingToRedact("Choose an entry of that incident")
        return self._change_request(
            actor, cmd.request_id, lambda r: r.redact_text(incident_id, entry.version, cmd.text, cmd.reason, entry_text(entry))
        )

    def remove_redaction(self, cmd: RemoveRedaction, actor: Actor) -> Saved:
        return self._change_request(actor, cmd.request_id, lambda r: r.remove_redaction(cmd.redaction_id))

    def record_disclosure(self, cmd: RecordDisclosure, actor: Actor) -> Saved:
        return self._change_request(actor, cmd.request_id, lambda r: r.disclose(cmd.note, fingerprint=cmd.fingerprint))

    def refuse_request(self, cmd: RefuseRequest, actor: Actor) -> Saved:
        return self._change_request(actor, cmd.request_id, lambda r: r.refuse(cmd.reason))

    def close_request(self, cmd: CloseRequest, actor: Actor) -> Saved:
        return self._change_request(actor, cmd.request_id, lambda r: r.close(cmd.note))

    def _change_request(self, actor: Actor, request_id: UUID, call: Callable[[DisclosureRequest], object]) -> Saved:
        return self.change(actor, lambda: self.get_request(actor, request_id), call)

    # Queries --------------------------------------------------------------

    def get_request(self, actor: Actor, request_id: UUID) -> DisclosureRequest:
        actor.require(*DISCLOSURE_ROLES)
        return self.get(actor, request_id, DisclosureRequest, RequestNotFound)

    def request_labels(self, actor: Actor, request_ids: set[UUID]) -> dict[UUID, str]:
        """How each request is named (its short reference), for those the actor may read."""
        if not actor.holds(*DISCLOSURE_ROLES):
            return {}
        return {request_id: request_label(self.get_request(actor, request_id)) for request_id in request_ids}

    def request_by_ref(self, actor: Actor, ref: str) -> UUID | None:
        """The practice's request with this short reference (the list is short), or None."""
        actor.require(*DISCLOSURE_ROLES)
        return next((r.id for r in self.listed_records(actor, REQUESTS) if r.ref == ref), None)

    def requests(self, actor: Actor, today: date | None = None) -> list[RequestSummary]:
        """The practice's requests: open ones first, soonest due first; then the rest, newest first."""
        actor.require(*DISCLOSURE_ROLES)
        today = today or uk_today()
        summaries = [self._summary(r, today) for r in self.listed_records(actor, REQUESTS)]
        open_ = sorted((s for s in summaries if s.status == "open"), key=lambda s: (s.due_on, s.received_on))
        rest = sorted((s for s in summaries if s.status != "open"), key=lambda s: s.received_on, reverse=True)
        return open_ + rest

    @staticmethod
    def _summary(request: DisclosureRequest, today: date) -> RequestSummary:
        return RequestSummary(
            request_id=request.id,
            requester_type=request.requester_type,
            requester_type_label=request.requester_type_label,
            requester=request.requester,
            reference=request.reference,
            received_on=request.received_on,
            due_on=request.due_on,
            days_left=request.days_left(today),
            overdue=request.is_overdue(today),
            status=request.status,
            status_label=STATUSES[request.status],
            legal_basis_label=request.legal_basis_label,
            incident_count=len(request.incident_ids),
            ref=request.ref,
        )

    def redaction_rows(self, actor: Actor, request: DisclosureRequest) -> list[RedactionRow]:
        """The redactions the next bundle applies, in the order they were made."""
        rows = []
        for r in request.redactions_in_scope():
            incident = self.get_incident(actor, r.incident_id)
            kind_class = type(incident)
            if r.fact:
                fact = kind_class.fact(r.fact)
                what = f"Fact: {fact.label if fact else r.fact}"
            else:
                what = f"Entry #{r.sequence}: “{r.text}”"
            rows.append(RedactionRow(r.redaction_id, f"{kind_class.TITLE}, {incident.occurred_at.astimezone(UK):%d %b %Y}", what, r.reason))
        return rows

    def redaction_targets(self, actor: Actor, request: DisclosureRequest) -> list[tuple[str, list[RedactionTarget]]]:
        """What the redaction form offers, by incident in scope: its facts, then its entries that say something."""
        groups = []
        for incident_id in request.incident_ids:
            incident = self.get_incident(actor, incident_id)
            kind_class = type(incident)
            targets = [RedactionTarget(f"fact:{incident_id}:{f.name}", f"Fact: {f.label}") for f in kind_class.FACTS]
            for e in timeline(kind_class, self.history(actor, incident_id)):
                said = entry_text(e)
                if said:
                    targets.append(RedactionTarget(f"entry:{incident_id}:{e.version}", f"Entry #{e.version}, {e.title}: {_short(said)}"))
            groups.append((f"{kind_class.TITLE}, {incident.occurred_at.astimezone(UK):%d %b %Y}", targets))
        return groups

    def request_history(self, actor: Actor, request_id: UUID) -> list[TimelineEntry]:
        """Every event of one request as people read it, oldest first."""
        self.get_request(actor, request_id)
        return [
            TimelineEntry(
                version=e.originator_version,
                name=type(e).__name__,
                title=TITLES.get(type(e).__name__, type(e).__name__),
                recorded_at=e.timestamp,
                actor=getattr(e, "actor", ""),
                actor_name=getattr(e, "actor_name", ""),
                details=list(_details(e)),
            )
            for e in self.events.get(request_id)
        ]
