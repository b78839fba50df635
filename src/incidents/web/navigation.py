"""The header's links: every page a person's roles reach, each listed once with the roles its
route admits (deps.py), so the navigation and the route checks cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incidents.application.service import Actor

from .deps import ALL_ROLES, GOVERNANCE, MANAGERS, OVERSEERS


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    roles: tuple[str, ...]
    section: str = ""  # a path prefix whose pages this link is current for ("" : only its own path)

    def current(self, path: str) -> bool:
        return path == self.href or bool(self.section) and path.startswith(self.section)


LINKS = (
    Link("/", "Home", ALL_ROLES),
    Link("/incidents/new/filming", "Someone is filming", ALL_ROLES),
    Link("/incidents/new/recording", "A patient recorded", ALL_ROLES),
    Link("/dashboard", "Dashboard", OVERSEERS, "/dashboard"),
    Link("/incidents", "All incidents", OVERSEERS),
    Link("/reports/monthly", "Monthly report", OVERSEERS, "/reports"),
    Link("/notices", "Notices", MANAGERS, "/notices"),
    Link("/call-recording", "Call recording", OVERSEERS, "/call-recording"),
    Link("/disclosures", "Disclosure requests", GOVERNANCE, "/disclosures"),
    Link("/retention", "Retention review", GOVERNANCE, "/retention"),
    Link("/staff", "Staff accounts", GOVERNANCE, "/staff"),
    Link("/practice", "Practice settings", GOVERNANCE, "/practice"),
)


def navigation(actor: Actor | None, path: str) -> list[dict[str, Any]]:
    """The header's navigation items for the actor (none when signed out), as the NHS.UK header takes them."""
    if actor is None:
        return []
    return [{"href": link.href, "text": link.text, "current": link.current(path)} for link in LINKS if actor.holds(*link.roles)]
