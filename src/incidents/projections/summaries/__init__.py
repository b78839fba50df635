"""Incident summaries: one row per incident, for lists, today's incidents and search.

The events are encrypted at rest; this view is not. Its search index keeps the labels shown and
the free text staff typed, with what looks like a patient identifier blanked by `searchable()`;
the NHS number is kept only as its blind index entry (`patient`: an HMAC under the deployment's
patient index key, application/patient_index.py), and response references and who acted are
never copied. A name typed into a note is
indexed like any word, so protect the view's database as the practice's records (it can always
be deleted and rebuilt from the events).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import singledispatchmethod
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from incidents.projections.folding import FoldedView, FoldingProjection

from incidents.application.patient_index import PatientIndex, PatientIndexKeyError
from incidents.domain.incident import Incident
from incidents.domain.retention import RecordRetention
from incidents.domain.kinds import INCIDENT_KINDS, LOCATION_FACTS, LOCATIONS, kind_of
from incidents.domain.references import parse_ref
from incidents.domain.values import InvalidPractice, InvalidValue, has_nhs_check_digit, practice_code


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
    ref: str = ""  # the short reference (F-2026-0042)


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
    """Free text with what looks like a patient identifier blanked, ready for the index."""
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
# A word searched matches every word that begins with its first PREFIX_CHARS letters: each index
# keeps every word's prefixes up to this length, so a search reads one short list per word.
PREFIX_CHARS = 6
UK = ZoneInfo("Europe/London")
_WORD = re.compile(r"[^\W_]+")
_PATIENT_TOKEN = re.compile(r"[0-9a-f]{64}")
PATIENT_KEY_TABLE = "incident_summaries_patient_key"  # the check of the key the view was written with


def is_patient_token(text: str) -> bool:
    """Whether text has the shape of a patient's blind index entry (IncidentSummaryView.patient_token)."""
    return bool(_PATIENT_TOKEN.fullmatch(text or ""))


class InvalidSummaryQuery(ValueError):
    """A list filter a person gave is not one the list understands; the message says why."""


def search_words(text: str) -> tuple[str, ...]:
    """Search text as plain words of letters and digits, so no input can change a query's shape."""
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
    """One page of a practice's incidents, newest occurred first; any value not described here
    raises InvalidSummaryQuery. kind, status, location: a code of `KINDS`, `STATUSES`,
    `LOCATIONS` (None: any). occurred_from / occurred_to: a `date` is a whole UK day, both days
    included; an aware `datetime` is taken to the millisecond, `occurred_to` excluded. text:
    words that must all match, each as a prefix (PREFIX_CHARS), or a short reference however
    typed ("f 2026 42" finds F-2026-0042). outcome, closed_from/closed_to
    (whole UK days) and took_at_least/took_under (from report to close) find closed incidents
    as the monthly report counts them. patient: a patient's blind index entry
    (`IncidentSummaryView.patient_token`), only their incidents; clinician: text the clinician's
    name or role contains (any case). before_key: only rows after (older than) the one whose
    SummaryPage.last_key it is, to read a whole list page by page, each read where the last
    stopped, whatever is added meanwhile."""

    practice: str
    kind: str | None = None
    status: str | None = None
    location: str | None = None
    occurred_from: date | datetime | None = None
    occurred_to: date | datetime | None = None
    text: str = ""
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    outcome: str | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    took_at_least: timedelta | None = None
    took_under: timedelta | None = None
    before_key: int | None = None
    patient: str = ""
    clinician: str = ""
    start: datetime | None = field(init=False, repr=False, compare=False)
    end: datetime | None = field(init=False, repr=False, compare=False)
    closed_start: datetime | None = field(init=False, repr=False, compare=False)
    closed_end: datetime | None = field(init=False, repr=False, compare=False)
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)
    ref: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "practice", practice_code(self.practice))
        except InvalidPractice as error:
            raise InvalidSummaryQuery(str(error)) from None
        for name, allowed in (("kind", KINDS), ("status", STATUSES), ("location", LOCATIONS), ("outcome", OUTCOMES)):
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
        if self.patient and not is_patient_token(self.patient):
            raise InvalidSummaryQuery("patient must be an entry of the patient index (IncidentSummaryView.patient_token)")
        clinician = " ".join((self.clinician or "").split())
        if len(clinician) > MAX_SEARCH_CHARS:
            raise InvalidSummaryQuery(f"Enter at most {MAX_SEARCH_CHARS} characters of the clinician's name")
        object.__setattr__(self, "clinician", clinician)
        start = _moment(self.occurred_from, "occurred_from", day_end=False)
        end = _moment(self.occurred_to, "occurred_to", day_end=True)
        if start is not None and end is not None and end <= start:
            raise InvalidSummaryQuery("The end of the date range must come after its start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name in ("closed_from", "closed_to"):
            if getattr(self, name) is not None and (isinstance(getattr(self, name), datetime) or not isinstance(getattr(self, name), date)):
                raise InvalidSummaryQuery(f"{name} must be a date")
        if self.before_key is not None and (isinstance(self.before_key, bool) or not isinstance(self.before_key, int)):
            raise InvalidSummaryQuery("before_key must be a whole number")
        for name in ("took_at_least", "took_under"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), timedelta):
                raise InvalidSummaryQuery(f"{name} must be a length of time")
        object.__setattr__(self, "closed_start", _moment(self.closed_from, "closed_from", day_end=False))
        object.__setattr__(self, "closed_end", _moment(self.closed_to, "closed_to", day_end=True))
        ref = parse_ref(text, "".join(k.PREFIX for k in INCIDENT_KINDS.values()))
        object.__setattr__(self, "ref", ref)
        object.__setattr__(self, "words", () if ref else search_words(text))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def conditions(self, mark: str) -> tuple[list[str], dict[str, Any]]:
        """The filters as conditions on the view's columns, each value a named parameter marked
        as `mark` says (':{}' on SQLite, '%({})s' on PostgreSQL), and the parameters of a page."""
        params: dict[str, Any] = {"practice": self.practice, "limit": self.page_size + 1, "offset": self.offset, "cap": TOTAL_CAP + 1}
        where = ["practice=" + mark.format("practice")]
        for name in ("kind", "status", "location", "ref"):
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
                where.append(f"{name}=" + mark.format(name))
        for name, bound, moment in (("low", ">=", self.start), ("high", "<", self.end)):
            if moment is not None:
                params[name] = sort_base(moment)
                where.append(f"sort_key {bound} " + mark.format(name))
        if self.before_key is not None:
            params["before"] = self.before_key
            where.append("sort_key < " + mark.format("before"))
        return where + self.row_conditions(mark), params | self.row_params

    def row_conditions(self, mark: str) -> list[str]:
        """The conditions no search index word stands for (how an incident was closed, its
        patient, its clinician), with row_params (times and lengths of time, which each database
        passes as it stores them)."""
        tests = {
            "outcome": "outcome = {}", "closed_start": "closed_at >= {}", "closed_end": "closed_at < {}",
            "took_at_least": "closed_at - reported_at >= {}", "took_under": "closed_at - reported_at < {}",
            "patient": "patient = {}", "clinician": "lower(clinician) LIKE {} ESCAPE '!'",
        }  # fmt: skip
        return [test.format(mark.format(name)) for name, test in tests.items() if name in self.row_params]

    @property
    def row_params(self) -> dict[str, Any]:
        names = ("outcome", "closed_start", "closed_end", "took_at_least", "took_under")
        params = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.patient:
            params["patient"] = self.patient
        if self.clinician:
            escaped = self.clinician.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params["clinician"] = f"%{escaped}%"
        return params

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The beginnings of words that every match must have (see PREFIX_CHARS)."""
        return tuple(dict.fromkeys(word[:PREFIX_CHARS] for word in self.words))


@dataclass(frozen=True)
class SummaryPage:
    """One page of rows. `total` counts the matches only up to TOTAL_CAP (or, for a text search
    on PostgreSQL, among the newest rows): when `total_capped`, there are at least `total`."""

    rows: list[IncidentSummary]
    page: int
    page_size: int
    total: int
    total_capped: bool
    has_next: bool
    last_key: int | None = None  # the sort key of the page's last row (SummaryQuery.before_key)

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


def page_of(query: SummaryQuery, fetched: list[tuple[IncidentSummary, int]], counted: int, at_least: bool = False) -> SummaryPage:
    """A page from up to page_size + 1 rows, each with its sort key, and a count of up to
    TOTAL_CAP + 1 (or one that stopped early)."""
    shown = fetched[: query.page_size]
    return SummaryPage(
        rows=[row for row, _ in shown],
        page=query.page,
        page_size=query.page_size,
        total=min(counted, TOTAL_CAP),
        total_capped=at_least or counted > TOTAL_CAP,
        has_next=len(fetched) > query.page_size,
        last_key=shown[-1][1] if shown else None,
    )


# Ordering ------------------------------------------------------------------------------------

SORT_SLOTS = 2**20


def sort_base(moment: datetime) -> int:
    """The first sort key of a moment's millisecond: rows are ordered by occurred time, then in
    arrival order (SORT_SLOTS per millisecond); on SQLite it is also the search index's rowid."""
    millis = (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    return millis * SORT_SLOTS


# The view ------------------------------------------------------------------------------------

# A row of the view, in the fold as a list in this order (the views write these columns by name).
ROW_COLUMNS = (
    "incident_id", "practice", "kind", "occurred_at", "reported_at", "location", "status", "last_response",
    "last_response_at", "responses", "notes", "corrections", "reviewed_at", "closed_at", "outcome", "clinician", "ref",
    "sort_key", "kind_words", "location_words", "outcome_words", "response_words", "note_words", "patient",
)
SUMMARY_COLUMNS = ", ".join(ROW_COLUMNS[:17])  # IncidentSummary's fields, in order
# The view's table on either database, given its types and its generated search column.
SUMMARIES_TABLE = (
    "CREATE TABLE IF NOT EXISTS {{incident_summaries}} ("
    "incident_id {id} PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, "
    "occurred_at {time} NOT NULL, reported_at {time} NOT NULL, location text NOT NULL, "
    "status text NOT NULL, last_response text NOT NULL DEFAULT '', last_response_at {time}, "
    "responses integer NOT NULL DEFAULT 0, notes integer NOT NULL DEFAULT 0, "
    "corrections integer NOT NULL DEFAULT 0, reviewed_at {time}, closed_at {time}, "
    "outcome text NOT NULL DEFAULT '', clinician text NOT NULL DEFAULT '', ref text NOT NULL DEFAULT '', sort_key {key} NOT NULL UNIQUE, "
    "kind_words text NOT NULL DEFAULT '', location_words text NOT NULL DEFAULT '', "
    "outcome_words text NOT NULL DEFAULT '', response_words text NOT NULL DEFAULT '', "
    "note_words text NOT NULL DEFAULT '', patient text NOT NULL DEFAULT '', {generated})"
)
# The list's indexes: one per combination of filters, each ending in the list's order, so a page
# is read in order and the reading stops at its end (a location belongs to one kind: kind and
# location together need none).
LIST_INDEXES = {
    "incident_summaries_reported": "practice, reported_at",
    **{
        f"incident_summaries_by_{name}": f"practice, {columns}sort_key"
        for name, columns in (
            ("time", ""), ("kind", "kind, "), ("status", "status, "), ("location", "location, "),
            ("kind_status", "kind, status, "), ("location_status", "location, status, "),
        )
    },
    "incident_summaries_closed": "practice, closed_at",  # the incidents the monthly report counts as closed in a month
    "incident_summaries_by_patient": "practice, patient, sort_key",  # a patient's incidents, by the blind index
    "incident_summaries_ref": "practice, ref",  # a reference searched for
}
WORDS = ("kind_words", "location_words", "clinician", "outcome_words", "response_words", "note_words")  # what search reads

_TIMES = {ROW_COLUMNS.index(name) for name in ("occurred_at", "reported_at", "last_response_at", "reviewed_at", "closed_at")}


class IncidentSummaryView(FoldedView):
    record_rows = (("{incident_summaries}", "incident_id"),)
    """The rows the fold loads and the queries both databases answer alike (search is their own)."""

    patient_index: PatientIndex | None = None  # given by catalogue.opened_view, from the composition root's environment

    def patient_token(self, number: str) -> str:
        """The blind index entry of an NHS number as typed ('' for none; InvalidNHSNumber if it is not one)."""
        if not (number or "").strip():
            return ""
        if self.patient_index is None:
            raise LookupError("This view was opened without the patient index key: open it with catalogue.opened_view")
        return self.patient_index.token(number)

    def agree_on_patient_key(self) -> None:
        """Refuses a patient index key other than the one the view was written with (a process
        with a key file of its own would find nobody); the view keeps the key's check, never the key."""
        assert self.patient_index is not None
        mine = self.patient_index.key_check()
        schema = getattr(self.datastore, "schema", None)  # type: ignore[attr-defined]
        table = f'"{schema}"."{PATIENT_KEY_TABLE}"' if schema else f'"{PATIENT_KEY_TABLE}"'
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (key_check TEXT NOT NULL)")
            cursor.execute(f"SELECT key_check FROM {table}")
            row = cursor.fetchone()
            if row is None:
                cursor.execute(f"INSERT INTO {table} (key_check) VALUES ('{mine}')")  # hex digits only
        if row is not None and row["key_check"] != mine:
            raise PatientIndexKeyError(
                "The incident summaries were written with another patient index key than this process's: set the same "
                "INCIDENTS_PATIENT_INDEX_KEY in every process (or keep one patient-index.key), or, after changing it "
                "on purpose, rebuild the views (`incidents projections rebuild`)"
            )

    def stored_patient(self, number: str) -> str:
        """The index entry of an NHS number an event holds; none for one that is not valid today."""
        try:
            return self.patient_token(number)
        except InvalidValue:
            return ""

    def summary_row(self, incident_id: UUID) -> list[Any] | None:
        found = self._load(f"SELECT {', '.join(ROW_COLUMNS)} FROM {{incident_summaries}} WHERE incident_id = %s", (incident_id,))
        return [incident_id, *found[0][1:]] if found else None

    def sort_keys(self, base: int) -> set[int]:
        found = self._load("SELECT sort_key FROM {incident_summaries} WHERE sort_key >= %s AND sort_key < %s", (base, base + SORT_SLOTS))
        return {row[0] for row in found}

    def _summary(self, row: Any) -> IncidentSummary:
        values = [self.moment_of(value) if i in _TIMES else value for i, value in enumerate(row)]
        return IncidentSummary(self.id_of(values[0]), *values[1:])

    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        """The practice's incidents reported in [start, end), newest first."""
        rows = self._select(
            f"SELECT {SUMMARY_COLUMNS} FROM {{incident_summaries}} WHERE practice = %s AND reported_at >= %s AND reported_at < %s "
            "ORDER BY reported_at DESC LIMIT %s",
            (practice, start, end, limit),
        )
        return [self._summary(row) for row in rows]

    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None:
        found = self._select(f"SELECT {SUMMARY_COLUMNS} FROM {{incident_summaries}} WHERE practice = %s AND incident_id = %s", (practice, incident_id))
        return self._summary(found[0]) if found else None

    def refs(self, practice: str, incident_ids: list[UUID]) -> dict[UUID, str]:
        """The short references of these incidents (those that have one)."""
        if not incident_ids:
            return {}
        marks = ", ".join("%s" for _ in incident_ids)
        found = self._select(f"SELECT incident_id, ref FROM {{incident_summaries}} WHERE practice = %s AND incident_id IN ({marks})", (practice, *incident_ids))
        return {self.id_of(incident_id): ref for incident_id, ref in found if ref}

    def indexed_text(self, practice: str, incident_id: UUID) -> str | None:
        """Every word the search index holds for one incident (to check what the view keeps)."""
        found = self._select(f"SELECT {', '.join(WORDS)} FROM {{incident_summaries}} WHERE practice = %s AND incident_id = %s", (practice, incident_id))
        return joined(*(" ".join(str(words).split()) for words in found[0])) if found else None


CORRECTED_COLUMNS = {
    "occurred_at": "occurred_at", "clinician": "clinician", **{name: "location" for name in LOCATION_FACTS.values()},
    **{fact.name: "patient" for kind in INCIDENT_KINDS.values() for fact in kind.FACTS if fact.patient},
}  # fmt: skip
# The fact naming the patient a report is about, for each kind that has one.
PATIENT_FACTS = {code: fact.name for code, kind in INCIDENT_KINDS.items() for fact in kind.FACTS if fact.patient}


class IncidentSummaries(FoldingProjection):
    name = "incident_summaries"
    layout = 4
    rebuild_cost = 2  # about the two other views' together, with its search index

    @singledispatchmethod
    def fold_event(self, domain_event: Any) -> None:
        pass

    @fold_event.register
    def _(self, e: RecordRetention.Disposed) -> None:
        self.view.drop_record(e.record_id)

    @fold_event.register
    def _(self, e: Incident.Reported) -> None:
        kind = kind_of(e).KIND
        summary = IncidentSummary(
            incident_id=e.originator_id, practice=e.practice, kind=kind, occurred_at=e.occurred_at,
            reported_at=e.timestamp, location=getattr(e, LOCATION_FACTS[kind]), notes=1 if e.note else 0,
            clinician=searchable(getattr(e, "clinician", "")), ref=e.ref,
        )
        self.fold.add(summary, searchable(e.note), self.view.stored_patient(getattr(e, PATIENT_FACTS.get(kind, ""), "") or ""))

    @fold_event.register
    def _(self, e: Incident.Referenced) -> None:
        self.fold.set_ref(e.originator_id, e.ref)

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
        value = searchable(e.value) if column == "clinician" else self.view.stored_patient(e.value or "") if column == "patient" else e.value
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
