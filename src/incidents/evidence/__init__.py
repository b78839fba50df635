"""Evidence bundles: a timeline a stranger can read (PDF/A), and can check with standard tools.

    material  = EvidenceMaterial(...)          # plain values: request, incidents, events, custody
    key       = deployment_key(log, settings)  # Ed25519, kept in the event store (application/signing_key.py)
    bundle    = build_bundle(material, key)    # Bundle: .data (the zip), .merkle_root, .warnings, ...
    problems  = verify_bundle(path, expected_fingerprint=None)   # [] when all is well

The layout of a bundle, and how to check it with openssl, sha256sum and python3, are in bundle.py.
"""

from .bundle import Bundle, build_bundle, write_bundle
from .material import (
    Correction,
    CustodyEntry,
    EvidenceError,
    EvidenceMaterial,
    EventsOutOfOrder,
    IncidentRecord,
    NaiveTime,
    NoLegalBasis,
    NoticeInForce,
    NothingToExport,
    Person,
    Practice,
    Redaction,
    RequestInfo,
    TimelineEvent,
)
from .pdf import PdfNotMade, warm_up
from .signing import SigningKey, SigningKeyError
from .verify import Verification, check_bundle, verify_bundle

__all__ = [
    "Bundle", "build_bundle", "write_bundle", "Correction", "CustodyEntry", "EvidenceError", "EvidenceMaterial",
    "EventsOutOfOrder", "IncidentRecord", "NaiveTime", "NoLegalBasis", "NoticeInForce", "NothingToExport", "Person",
    "Practice", "Redaction", "RequestInfo", "TimelineEvent", "PdfNotMade", "warm_up", "SigningKey", "SigningKeyError",
    "Verification", "check_bundle", "verify_bundle",
]  # fmt: skip
