"""The kinds of incident, and what the read models need to know of where each one happened."""

from __future__ import annotations

from .filming import FilmingIncident
from .incident import Incident
from .recording import RecordingEpisode

INCIDENT_KINDS: dict[str, type[Incident]] = {k.KIND: k for k in (RecordingEpisode, FilmingIncident)}
# The fact each kind says where it happened by (area, setting), and every place's label by its code.
LOCATION_FACTS: dict[str, str] = {kind: k.location().name for kind, k in INCIDENT_KINDS.items()}
LOCATIONS: dict[str, str] = {code: label for _, k in sorted(INCIDENT_KINDS.items()) for code, label in (k.location().choices or {}).items()}
