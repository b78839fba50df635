"""Evidence exports: the governance lead turns a disclosure request into a signed bundle.

The material is read from the aggregates themselves (each incident in scope with every event,
the notices in force on the day it happened, and its chain of custody), typeset and signed with
the deployment's key, and the export is recorded on the request and in each incident's chain of
custody before the bundle is handed out. A bundle that could not be recorded is never returned.

The bundle's own chain of custody ends with this export: its entry carries the export time
stated in the manifest, while the stored export (BundleExported, TimelineExported) is timed when
it is saved, once the bundle is built, a second or so later; it cannot come first, because it
names the bundle by its fingerprint: the SHA-256 of the manifest.json inside the zip returned,
so the request's history names exactly the bundle that left the practice.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ..domain.custody import Access
from ..domain.disclosure import DisclosureRequest, ExportNotReady, KeptBundle, request_label
from ..domain.incident import Incident
from ..domain.practice_recording import PracticeRecording
from ..evidence import (
    Correction,
    CustodyEntry,
    EvidenceMaterial,
    IncidentRecord,
    NoticeInForce,
    Person,
    Practice,
    Redaction,
    RequestInfo,
    SigningKey,
    TimelineEvent,
    build_bundle,
)
from ..evidence.bundle import MANIFEST
from .disclosures import DisclosureDesk, RecordExport, due_rule_in_words, extension_in_words
from .kept_bundles import BundleShelf
from .practice_recordings import PracticeRecordings, consent_in_words, event_in_words
from .notices import NoticeRegister
from .practice import PracticeSettings
from .records import UK, Actor, RequestNotFound
from .retention import legal_hold_fact
from .timeline import TimelineEntry, timeline

EXPORT_ROLES = ("governance",)
UNNAMED_PRACTICE = "GP practice"  # until governance gives the name, the ODS code beside it names it
EXPORT_ACTION = "Exported the timeline in this bundle"


@dataclass(frozen=True)
class ExportedBundle:
    zip_bytes: bytes
    filename: str
    fingerprint: str  # SHA-256 of the bundle's manifest.json, as recorded on the request
    warnings: list[str] = field(default_factory=list)
    key_fingerprint: str = ""  # the deployment's signing key, as printed on the certificate page
    merkle_root: str = ""
    event_count: int = 0


def person(username: str, display_name: str) -> Person:
    return Person(username or "system", display_name or username or "The system")


def manifest_fingerprint(zip_bytes: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return hashlib.sha256(archive.read(MANIFEST)).hexdigest()


def safe_filename(label: str, day: date) -> str:
    """disclosure-<request label>-<date>.zip, with only letters, digits, dots, dashes and underscores."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip(".-_")[:60].strip(".-_") or "request"
    return f"disclosure-{slug}-{day.isoformat()}.zip"


@dataclass(frozen=True)
class KeptBundleFile:
    data: bytes
    filename: str
    bundle: KeptBundle


def facts_of(incident: Incident) -> tuple[tuple[str, str], ...]:
    kind_class = type(incident)
    facts = [
        (fact.label, fact.show(getattr(incident, fact.name, None)))
        for fact in kind_class.FACTS
        if not (fact.added_later and getattr(incident, fact.name, "") in ("", None))  # asked of some incidents only: shown when given
    ]
    facts.append(("Status", "Closed" if incident.status == "closed" else "Open"))
    if incident.outcome:
        facts.append(("Outcome", kind_class.OUTCOMES.get(incident.outcome, incident.outcome)))
    return tuple(facts)


def timeline_events(kind_class: type[Incident], entries: list[TimelineEntry]) -> tuple[TimelineEvent, ...]:
    """Every entry as the bundle's event; a correction names the entry whose value it replaced."""
    set_by: dict[str, int] = {}  # field -> the sequence of the event that last set it
    events = []
    for e in entries:
        correction = None
        if e.name == "Reported":
            set_by.update({f.name: e.version for f in kind_class.FACTS})
        if e.correction is not None:
            c = e.correction
            correction = Correction(c.label, c.previous, c.new, c.reason, set_by.get(c.field))
            set_by[c.field] = e.version
        events.append(
            TimelineEvent(
                sequence=e.version,
                event_type=e.name,
                title=e.title,
                who=person(e.actor, e.actor_name),
                recorded_at=e.recorded_at,
                occurred_at=e.occurred_at,
                details=tuple(e.details),
                note=e.note,
                correction=correction,
            )
        )
    return tuple(events)


def custody_entry(incident_id: UUID, access: Access, request_label: str = "") -> CustodyEntry:
    action = f"{access.title} of incident {incident_id}"
    if access.fingerprint:  # an earlier bundle, named as the request's history names it
        grouped = " ".join(access.fingerprint[i : i + 16] for i in range(0, len(access.fingerprint), 16))  # wraps in the PDF
        action += f" (manifest SHA-256 {grouped})"
    record = "" if access.fingerprint else str(incident_id)  # only views share a row
    return CustodyEntry(person(access.actor, access.actor_name), access.at, action, str(access.request_id or ""), request_label, record)


RECORDING_TITLE = "A recording the practice made"


def recording_facts(recording: PracticeRecording) -> tuple[tuple[str, str], ...]:
    """The recording as it now stands, its consent beside its file's fingerprint (the GMC: the
    consent record kept with the recording)."""
    facts = [
        ("Patient's NHS number", recording.patient), ("Clinician", recording.clinician), ("Recorded on", f"{recording.recorded_on:%d %b %Y}"),
        ("Purpose", recording.purpose_label), ("Medium", recording.medium_label),
        ("File kept at", recording.kept_at or "Not registered yet"),
        ("File SHA-256", f"{recording.sha256} ({recording.size:,} bytes)" if recording.sha256 else "Not registered yet"),
        ("Consent on record", consent_in_words(recording)),
        ("Uses", str(len(recording.uses))), ("Status", recording.status),
    ]
    if recording.destruction is not None:
        facts.append(("Destroyed", f"{recording.destruction.destroyed_on:%d %b %Y}: {recording.destruction.how}"))
    return tuple(facts)


def recording_events(events: list[Any]) -> tuple[TimelineEvent, ...]:
    """Every event of a recording as the bundle's events (its uses among them)."""
    described = []
    for e in events:
        title, details = event_in_words(e)
        described.append(TimelineEvent(
            sequence=e.originator_version, event_type=type(e).__name__, title=title, who=person(getattr(e, "actor", ""), getattr(e, "actor_name", "")),
            recorded_at=e.timestamp, occurred_at=None, details=tuple(details), note="", correction=None,
        ))  # fmt: skip
    return tuple(described)


class EvidenceExports(DisclosureDesk, NoticeRegister, PracticeSettings, PracticeRecordings):
    _bundle_shelf: BundleShelf | None = None

    @property
    def bundle_shelf(self) -> BundleShelf:
        """Where exported bundles are kept: in memory until `keep_bundles_in` names a folder."""
        if self._bundle_shelf is None:
            self._bundle_shelf = BundleShelf(self.mapper.cipher)  # type: ignore[arg-type]
        return self._bundle_shelf

    def keep_bundles_in(self, folder: Path) -> None:
        self._bundle_shelf = BundleShelf(self.mapper.cipher, folder)  # type: ignore[arg-type]

    def kept_bundle(self, actor: Actor, request_id: UUID, sha256: str) -> KeptBundleFile:
        """An exported bundle again, byte for byte, by its zip's SHA-256 (BundleNotKept,
        BundleDamaged, UnknownBundle)."""
        actor.require(*EXPORT_ROLES)
        request = self.get_request(actor, request_id)
        bundle = request.bundle(sha256)
        data = self.bundle_shelf.read(request.id, bundle.zip_sha256)
        return KeptBundleFile(data, safe_filename(request_label(request), bundle.made_at.astimezone(UK).date()), bundle)

    def export_bundle(self, actor: Actor, request_id: UUID, signing_key: SigningKey) -> ExportedBundle:
        """The request's bundle, signed with the deployment's key, and recorded as exported."""
        actor.require(*EXPORT_ROLES)
        request = self.get_request(actor, request_id)
        request.check_open()  # RequestClosed, RequestDecided: nothing more leaves for it
        request.check_ready_to_export()  # ExportNotReady: no scope, or no legal basis
        # Whole seconds: Typst refuses a PDF timestamp with microseconds.
        material = self.evidence_material(actor, request, datetime.now(UTC).replace(microsecond=0))
        bundle = build_bundle(material, signing_key)
        fingerprint = manifest_fingerprint(bundle.data)
        # Kept before it is recorded, so that every recorded bundle can be downloaded again.
        sha256 = self.bundle_shelf.keep(request.id, bundle.data)
        try:
            self.record_export(RecordExport(request_id=request.id, fingerprint=fingerprint, zip_sha256=sha256), actor)
        except BaseException:
            self.bundle_shelf.discard(request.id, sha256)
            raise
        return ExportedBundle(
            zip_bytes=bundle.data,
            filename=safe_filename(request_label(request), material.exported_at.astimezone(UK).date()),
            fingerprint=fingerprint,
            warnings=list(bundle.warnings),
            key_fingerprint=bundle.fingerprint,
            merkle_root=bundle.merkle_root,
            event_count=bundle.event_count,
        )

    def evidence_material(self, actor: Actor, request: DisclosureRequest, exported_at: datetime) -> EvidenceMaterial:
        """What the bundle holds, read from the aggregates, with this export last in the custody chain."""
        exporter = person(actor.username, actor.display_name)
        records, custody = [], []
        labels = {request.id: request_label(request)}

        def label_of(request_id: UUID | None) -> str:
            if request_id is None:
                return ""
            if request_id not in labels:
                labels[request_id] = request_label(self.get(actor, request_id, DisclosureRequest, RequestNotFound))
            return labels[request_id]

        for incident_id in request.incident_ids:
            incident = self.get_incident(actor, incident_id)
            kind_class = type(incident)
            entries = timeline(kind_class, self.history(actor, incident_id))
            on = incident.occurred_at.astimezone(UK).date()
            notices = [NoticeInForce(n.channel_label, n.wording, n.wording_from) for n in self.notices_in_force(actor, on)]
            hold = legal_hold_fact(self, actor.practice, incident_id)
            facts = facts_of(incident) + ((hold,) if hold else ())
            records.append(
                IncidentRecord(str(incident_id), kind_class.TITLE, facts, timeline_events(kind_class, entries), tuple(notices), incident.ref)
            )
            custody.extend(custody_entry(incident_id, a, label_of(a.request_id)) for a in self.custody_chain(actor, incident_id))
        for recording in self.patient_recordings(actor, request.nhs_number, request.period_from, request.period_to):
            events = self.practice_recording_history(actor, recording.id)
            records.append(IncidentRecord(str(recording.id), RECORDING_TITLE, recording_facts(recording), recording_events(events), (), recording.ref))
        if not records:  # a recordings-only scope whose recordings have since been disposed of
            raise ExportNotReady("Nothing left to disclose: the patient's recordings are gone and no incident is in the scope. Set the scope again")
        custody.sort(key=lambda c: c.at)
        custody.append(CustodyEntry(exporter, exported_at, EXPORT_ACTION, str(request.id), labels[request.id]))
        redactions = []
        for r in request.redactions_in_scope():
            if r.fact:
                fact = type(self.get_incident(actor, r.incident_id)).fact(r.fact)
                redactions.append(Redaction(str(r.incident_id), r.reason, fact=fact.label if fact else r.fact_label or r.fact))
            else:
                redactions.append(Redaction(str(r.incident_id), r.reason, sequence=r.sequence, text=r.text))
        decider = request.basis_decided_by or ("", "")
        details = self.practice_details(request.practice)
        return EvidenceMaterial(
            practice=Practice(request.practice, details.name if details else UNNAMED_PRACTICE),
            request=RequestInfo(
                request_id=str(request.id),
                requester_type=f"{request.requester_type_label}: {request.requester}",
                reference=request.reference,
                received=request.received_on,
                due=request.due_on,
                legal_basis=request.legal_basis_label,
                decided_by=person(*decider),
                label=labels[request.id],
                due_rule=due_rule_in_words(request),
                extensions=tuple(extension_in_words(e) for e in request.extensions),
            ),
            incidents=tuple(records),
            exported_at=exported_at,
            exported_by=exporter,
            custody=tuple(custody),
            redactions=tuple(redactions),
        )
