"""`incidents projections quarantine [--retry]`: list the events the views set aside, or apply each again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from incidents.application.service import IncidentLog
from incidents.storage import Store

from incidents.projections.catalogue import CATALOGUE

from .locks import holding_lock
from .quarantine import Quarantined, error_text, listed, note_error, remove, stops_the_view
from .rebuild import READ_ONLY_LOG
from .runner import view_env


@dataclass(frozen=True)
class Retried:
    entry: Quarantined
    error: str  # '' when the event now reached its view


def list_quarantined(store: Store, app_env: dict[str, str]) -> list[Quarantined]:
    """Every event each view has set aside, view by view, in the order of the log."""
    env = view_env(store, app_env)
    entries: list[Quarantined] = []
    for spec in CATALOGUE:
        with spec.opened(store, env) as view:
            entries.extend(listed(view, spec.name))
    return entries


def retry_quarantined(store: Store, app_env: dict[str, str]) -> list[Retried]:
    """Apply each event set aside to its view again; those that now succeed leave the quarantine."""
    with holding_lock(store, "a retry of the quarantined events"):
        env = view_env(store, app_env)
        log = IncidentLog(env={**app_env, **READ_ONLY_LOG})
        results: list[Retried] = []
        try:
            for spec in CATALOGUE:
                with spec.opened(store, env) as view:
                    projection = spec.projection(view)
                    results.extend(_apply(log, view, projection, entry) for entry in listed(view, spec.name))
        finally:
            log.close()
        return results


def _apply(log: IncidentLog, view: Any, projection: Any, entry: Quarantined) -> Retried:
    found = log.recorder.select_notifications(start=entry.notification_id, limit=1)
    if not found or found[0].id != entry.notification_id:
        return Retried(entry, "the event is no longer in the store")
    event = log.mapper.domain_event_or_unreadable(found[0])  # still unreadable: it stays set aside

    def instead_of_tracking(cursor: Any, tracking: Tracking) -> None:
        remove(cursor, view, entry.view, entry.notification_id)  # in the transaction of the event's write

    view._insert_tracking = instead_of_tracking
    try:
        projection.process_event(event, Tracking(log.name, entry.notification_id))
    except Exception as error:
        if stops_the_view(error):
            raise
        view.fold.forget()
        note_error(view, entry.view, entry.notification_id, error)
        return Retried(entry, error_text(error))
    finally:
        del view._insert_tracking
    return Retried(entry, "")
