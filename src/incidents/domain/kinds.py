"""The kinds of incident, and what the read models need to know of where each one happened."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from .filming import FilmingIncident
from .incident import Incident
from .recording import RecordingEpisode

INCIDENT_KINDS: dict[str, type[Incident]] = {k.KIND: k for k in (RecordingEpisode, FilmingIncident)}
_BY_TOPIC = {get_topic(k): k for k in INCIDENT_KINDS.values()}
# The fact each kind says where it happened by (area, setting), and every place's label by its code.
LOCATION_FACTS: dict[str, str] = {kind: k.location().name for kind, k in INCIDENT_KINDS.items()}
LOCATIONS: dict[str, str] = {code: label for _, k in sorted(INCIDENT_KINDS.items()) for code, label in (k.location().choices or {}).items()}


def kind_of(reported: Incident.Reported) -> type[Incident]:
    """The kind of incident a Reported event (of any kind, so one handler serves all) starts."""
    return _BY_TOPIC[reported.originator_topic]
