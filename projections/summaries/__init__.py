"""Incident summaries: one row per incident, for lists, today's incidents and search.

The projection (below) turns events into calls on the fold (fold.py); each database's module
holds the tables, loads and writes the fold's rows, and answers the queries.

What text the view holds, and why. The events are encrypted at rest; this view is not. To let a
manager find an incident by what was written about it, the view keeps a search index of:
the kind's title, the location's label, the clinician's name or role, the labels of every
response, the outcome's label, and the free text staff typed: the note made when reporting,
notes added later, notes on responses, review comments, closing notes, reopening reasons and
correction reasons. Before any of that free text enters the view, `searchable()` blanks what
looks like a patient identifier: any ten digits ending in an NHS number's check digit, whatever
separates them, and any run of six or more
digits (hospital numbers, telephone numbers), dates (a date of birth), and e-mail addresses.
Never copied: the NHS number field itself, response references (a record reference may point
at a patient), who reported or responded. A name typed into a note cannot be told apart from
other words and is indexed like them, so the view's database must be protected as the
practice's records are; it can always be deleted and rebuilt from the events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import singledispatchmethod
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from incidents.projections.folding import FoldingProjection

from incidents.domain.incident import Incident
from incidents.domain.kinds import INCIDENT_KINDS, LOCATION_FACTS, LOCATIONS, kind_of
from incidents.domain.values import InvalidPractice, has_nhs_check_digit, practice_code


@dataclass(frozen=True)
class IncidentSummary:
    incident_id: UUID
    practice: str
    kind: str
    occurred_at: datetime
    reported_at: datetime
    location: str
    status: str = "open"
    last_response: str = ""
    last_response_at: datetime | None = None
    responses: int = 0
    notes: int = 0
    corrections: int = 0
    reviewed_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""
    clinician: str = ""


# The vocabularies a list can be filtered by, and the words each code is searched by -------------

KINDS = {code: kind.TITLE for code, kind in INCIDENT_KINDS.items()}
STATUSES = ("open", "closed")
OUTCOMES = {code: label for kind in INCIDENT_KINDS.values() for code, label in kind.OUTCOMES.items()}
RESPONSE_LABELS = {
    response.event_class: response.label
    for kind in INCIDENT_KINDS.values()
    for response in kind.RESPONSES.values()
}
_LABELS = {**KINDS, **LOCATIONS, **OUTCOMES}


def label_words(code: str) -> str:
    """The words a person would search a code by (its label as shown, e.g. 'Waiting area')."""
    return _LABELS.get(code, code.replace("_", " ")) if code else ""


_EMAIL = re.compile(r"\S+@\S+")
_DATE = re.compile(r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}\b")
_LONG_NUMBER = re.compile(r"\d(?:[ \-]?\d){5,}")  # NHS numbers (943 476 5919), phone, hospital numbers


_DIGIT = re.compile(r"\d")
# Digits joined by up to three characters that are neither letters nor digits (spaces, no-break
# spaces, dots, slashes, underscores...): where an NHS number may hide, however it was typed.
_DIGIT_RUN = re.compile(r"\d(?:[\W_]{0,3}\d){9,}")


def _blank_nhs_numbers(text: str) -> str:
    """Blanks every ten digits in a row (whatever separates them) that end with an NHS number's check digit."""
    pieces, end = [], 0
    for run in _DIGIT_RUN.finditer(text):
        at = [run.start() + i for i, ch in enumerate(run.group()) if ch.isdigit()]
        values = [int(text[i]) for i in at]
        start = 0
        while start + 10 <= len(at):
            if has_nhs_check_digit(values[start : start + 10]):
                pieces += [text[end : at[start]], " "]
                end = at[start + 9] + 1
                start += 10
            else:
                start += 1
    return "".join(pieces) + text[end:] if pieces else text


def searchable(text: str) -> str:
    """Free text with what looks like a patient identifier blanked, ready for the index. (An
    address needs an @ and a date or number a digit: most notes have neither, and are looked
    through once, not three times.)"""
    if not text:
        return ""
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    if _DIGIT.search(text):
        text = _LONG_NUMBER.sub(" ", _DATE.sub(" ", _blank_nhs_numbers(text)))
    return text.strip()


def joined(*parts: str) -> str:
    return " ".join(p for p in parts if p)


# Queries -------------------------------------------------------------------------------------

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000
TOTAL_CAP = 1000
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 8
MAX_WORD_CHARS = 40
# A word searched matches every word that begins with it, up to this many letters: longer words
# are matched on their first PREFIX_CHARS ('consultation' finds 'consulting' too). Each index
# keeps every word's prefixes up to this length, so a search reads one short list per word,
# never the lists of every word that begins alike.
PREFIX_CHARS = 6
UK = ZoneInfo("Europe/London")
_WORD = re.compile(r"[^\W_]+")


class InvalidSummaryQuery(ValueError):
    """A list filter a person gave is not one the list understands; the message says why."""


def search_words(text: str) -> tuple[str, ...]:
    """A person's search text as plain words (letters and digits of any script): quotes,
    operators and punctuation are dropped, so no input can change the shape of a query. A word
    of one character is dropped too: it would match nearly everything, at the cost of reading
    every word of the index."""
    words: list[str] = []
    for word in _WORD.findall((text or "").casefold()):
        word = word[:MAX_WORD_CHARS]
        if len(word) > 1 and word not in words:
            words.append(word)
    return tuple(words[:MAX_SEARCH_WORDS])


def _moment(value: date | datetime | None, name: str, day_end: bool) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if value is not None and value.tzinfo is None:
            raise InvalidSummaryQuery(f"{name} must carry its time zone")
        return value.astimezone(timezone.utc) if value is not None else None
    if isinstance(value, date):
        day = value + timedelta(days=1) if day_end else value
        return datetime.combine(day, time(), tzinfo=UK).astimezone(timezone.utc)
    raise InvalidSummaryQuery(f"{name} must be a date or a datetime")


@dataclass(frozen=True)
class SummaryQuery:
    """One page of a practice's incidents, newest occurred first.

    kind, status, location: a code of `KINDS`, `STATUSES`, `LOCATIONS` ('' or None: any).
    occurred_from / occurred_to: the incident occurred in [from, to). A `date` is a whole UK
    calendar day (Europe/London): `occurred_from=date(2026, 3, 1), occurred_to=date(2026, 3, 31)`
    is all of March, both days included. A `datetime` must be time-zone aware and is taken to
    the millisecond (the view orders by milliseconds, see sort_base), `occurred_to` excluded.
    text: words to find in the incident's summary and notes; each word matches as a prefix
    ('wait' finds 'waiting'; see PREFIX_CHARS), all words must match; punctuation and operators
    are ignored.
    page: from 1; page_size: 1 to MAX_PAGE_SIZE.
    Any other value raises InvalidSummaryQuery.
    """

    practice: str
    kind: str | None = None
    status: str | None = None
    location: str | None = None
    occurred_from: date | datetime | None = None
    occurred_to: date | datetime | None = None
    text: str = ""
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    start: datetime | None = field(init=False, repr=False, compare=False)
    end: datetime | None = field(init=False, repr=False, compare=False)
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "practice", practice_code(self.practice))
        except InvalidPractice as error:
            raise InvalidSummaryQuery(str(error)) from None
        for name, allowed in (("kind", KINDS), ("status", STATUSES), ("location", LOCATIONS)):
            value = getattr(self, name) or None
            if value is not None and value not in allowed:
                raise InvalidSummaryQuery(f"{name} must be one of: {', '.join(allowed)}")
            object.__setattr__(self, name, value)
        for name, number, highest in (("page", self.page, MAX_PAGE), ("page_size", self.page_size, MAX_PAGE_SIZE)):
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= highest:
                raise InvalidSummaryQuery(f"{name} must be a whole number from 1 to {highest}")
        text = self.text or ""
        if len(text) > MAX_SEARCH_CHARS:
            raise InvalidSummaryQuery(f"Search for at most {MAX_SEARCH_CHARS} characters")
        object.__setattr__(self, "text", text)
        start = _moment(self.occurred_from, "occurred_from", day_end=False)
        end = _moment(self.occurred_to, "occurred_to", day_end=True)
        if start is not None and end is not None and end <= start:
            raise InvalidSummaryQuery("The end of the date range must come after its start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "words", search_words(text))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The beginnings of words that every match must have (see PREFIX_CHARS)."""
        return tuple(dict.fromkeys(word[:PREFIX_CHARS] for word in self.words))


@dataclass(frozen=True)
class SummaryPage:
    """One page of rows. `total` counts the matches only up to TOTAL_CAP (counting further
    would cost as much as the whole list): when `total_capped`, there are at least `total`, and
    maybe many more. (A text search on PostgreSQL may also stop counting before TOTAL_CAP: when
    its page came from the newest rows, it counts only the matches among those.)"""

    rows: list[IncidentSummary]
    page: int
    page_size: int
    total: int
    total_capped: bool
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def last_page(self) -> int | None:
        """The number of the last page, when the total is known exactly."""
        return None if self.total_capped else max(1, -(-self.total // self.page_size))

    @property
    def total_text(self) -> str:
        return f"{self.total:,} or more" if self.total_capped else f"{self.total:,}"


def page_of(query: SummaryQuery, fetched: list[IncidentSummary], counted: int, at_least: bool = False) -> SummaryPage:
    """Build a page from up to page_size + 1 rows and a count of up to TOTAL_CAP + 1 (or, when
    `at_least`, a count that stopped early)."""
    return SummaryPage(
        rows=fetched[: query.page_size],
        page=query.page,
        page_size=query.page_size,
        total=min(counted, TOTAL_CAP),
        total_capped=at_least or counted > TOTAL_CAP,
        has_next=len(fetched) > query.page_size,
    )


# Ordering ------------------------------------------------------------------------------------

SORT_SLOTS = 2**20


def sort_base(moment: datetime) -> int:
    """Rows are ordered by a sort key: the time the incident occurred, in milliseconds, times
    SORT_SLOTS, plus a slot taken in arrival order among incidents of the same millisecond. So
    the order is newest occurred first, then the one the view learned of last, the same on
    every database and after a rebuild; and on SQLite the key is also the search index's
    rowid, which lets a search read its matches already in order and stop at one page.

    Times typed on the form have whole minutes, so many incidents can share one: a million
    slots per millisecond leave no burst a practice (or a whole region on one server) could
    fill, and the key still fits 64 bits until the year 2248.
    """
    millis = (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    return millis * SORT_SLOTS


# The view ------------------------------------------------------------------------------------


class IncidentSummaryView(Protocol):
    """The queries each database's view answers."""

    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        """The practice's incidents reported in [start, end), newest first."""

    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None: ...

    def search(self, query: SummaryQuery) -> SummaryPage:
        """One page of the practice's incidents matching every filter of the query, newest
        occurred first. Its cost depends on the page, not on how many incidents there are."""

    def indexed_text(self, practice: str, incident_id: UUID) -> str | None:
        """Every word the search index holds for one incident (to check what the view keeps)."""


CORRECTED_COLUMNS = {"occurred_at": "occurred_at", "clinician": "clinician", **{name: "location" for name in LOCATION_FACTS.values()}}


class IncidentSummaries(FoldingProjection):
    name = "incident_summaries"
    layout = 2
    rebuild_cost = 2  # about the two other views' together, with its search index

    @singledispatchmethod
    def fold_event(self, domain_event: Any) -> None:
        pass

    @fold_event.register
    def _(self, e: Incident.Reported) -> None:
        kind = kind_of(e).KIND
        summary = IncidentSummary(
            incident_id=e.originator_id, practice=e.practice, kind=kind, occurred_at=e.occurred_at,
            reported_at=e.timestamp, location=getattr(e, LOCATION_FACTS[kind]), notes=1 if e.note else 0,
            clinician=searchable(getattr(e, "clinician", "")),
        )
        self.fold.add(summary, searchable(e.note))

    @fold_event.register
    def _(self, e: Incident.Responded) -> None:
        words = joined(RESPONSE_LABELS.get(type(e), ""), searchable(e.note))
        self.fold.record_response(e.originator_id, type(e).__name__, e.occurred_at, words)

    @fold_event.register
    def _(self, e: Incident.NoteAdded) -> None:
        self.fold.add_note(e.originator_id, searchable(e.text))

    @fold_event.register
    def _(self, e: Incident.Corrected) -> None:
        column = CORRECTED_COLUMNS.get(e.field)
        value = searchable(e.value) if column == "clinician" else e.value
        self.fold.correct(e.originator_id, column, value, searchable(e.reason))

    @fold_event.register
    def _(self, e: Incident.Reviewed) -> None:
        self.fold.mark_reviewed(e.originator_id, e.timestamp, searchable(e.comment))

    @fold_event.register
    def _(self, e: Incident.Closed) -> None:
        self.fold.mark_closed(e.originator_id, e.outcome, e.timestamp, searchable(e.note))

    @fold_event.register
    def _(self, e: Incident.Reopened) -> None:
        self.fold.mark_reopened(e.originator_id, searchable(e.reason))
