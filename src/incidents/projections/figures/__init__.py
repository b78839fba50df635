"""Dashboard figures: counters per practice and UK month, so that a page reads a dozen months of small
rows whatever the number of events (a reopen takes the close back out: it counts at its last close)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache, singledispatchmethod
from typing import Any, Callable, Iterable, NamedTuple
from zoneinfo import ZoneInfo

from incidents.domain.incident import Incident
from incidents.domain.retention import RecordRetention
from incidents.domain.kinds import INCIDENT_KINDS, LOCATION_FACTS, kind_of
from incidents.projections.folding import FoldedView, FoldingProjection

UK = ZoneInfo("Europe/London")
KINDS = tuple(INCIDENT_KINDS)
MONTHS_SHOWN = 12
DAY = 86_400
# An incident's row in the fold, after its id: the columns of figures_incidents in this order.
INCIDENT_COLUMNS = ("practice", "kind", "month", "location", "reported_at", "status", "close_month", "outcome", "close_bucket", "close_seconds")

# Time from report to close: (label, upper bound in days, exclusive; None for the last).
CLOSE_TIME_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("Under 1 day", 1),
    ("1 to 2 days", 2),
    ("2 to 7 days", 7),
    ("7 to 14 days", 14),
    ("14 to 30 days", 30),
    ("30 days or more", None),
)


def month_key(moment: datetime) -> str:
    """The UK calendar month a moment falls in, as 'YYYY-MM' (how the view stores months)."""
    return _month_of_hour(int(moment.timestamp() // 3600))


@lru_cache(maxsize=8192)
def _month_of_hour(hour: int) -> str:
    # Exact for every moment of the UTC hour: UK clocks change, and UK days begin, on whole UTC
    # hours, so an hour never spans two UK months. (A projection asks for one per event.)
    return datetime.fromtimestamp(hour * 3600, UK).strftime("%Y-%m")


def months_ending(today: date, count: int = MONTHS_SHOWN) -> list[str]:
    """The keys of the count months that end with today's month, oldest first."""
    index = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def bucket_of(seconds: int) -> int:
    """The index of the bucket a number of seconds is in."""
    for i, (_, days) in enumerate(CLOSE_TIME_BUCKETS):
        if days is not None and seconds < days * DAY:
            return i
    return len(CLOSE_TIME_BUCKETS) - 1


@dataclass(frozen=True)
class CloseTimes:
    """Incidents closed (in a month, or over several), and how long each took from its report."""

    count: int = 0
    total_seconds: int = 0
    buckets: tuple[int, ...] = (0,) * len(CLOSE_TIME_BUCKETS)

    @property
    def median_bucket(self) -> str | None:
        """The label of the bucket that holds the median close time."""
        if not self.count:
            return None
        half, seen = (self.count + 1) // 2, 0
        for (label, _), count in zip(CLOSE_TIME_BUCKETS, self.buckets):
            seen += count
            if seen >= half:
                return label
        return None

    def labelled(self) -> list[tuple[str, int]]:
        return [(label, count) for (label, _), count in zip(CLOSE_TIME_BUCKETS, self.buckets)]

    def __add__(self, other: CloseTimes) -> CloseTimes:
        return CloseTimes(
            self.count + other.count,
            self.total_seconds + other.total_seconds,
            tuple(a + b for a, b in zip(self.buckets, other.buckets)),
        )


@dataclass(frozen=True)
class MonthFigures:
    month: date  # the first day of the month
    incidents_by_kind: dict[str, int]  # every kind, zeros included (month the incident occurred in)
    responses: dict[str, int] = field(default_factory=dict)  # response name -> count, none of zero
    closed: CloseTimes = CloseTimes()  # incidents closed in the month

    @property
    def incidents(self) -> int:
        return sum(self.incidents_by_kind.values())


@dataclass(frozen=True)
class DashboardFigures:
    practice: str
    today: date
    open_by_kind: dict[str, int]  # every kind, zeros included
    months: tuple[MonthFigures, ...]  # the 12 months ending with today's, oldest first, zeros filled
    response_mix: dict[str, int]  # over those months, most frequent first
    close_times: CloseTimes  # over those months

    @property
    def open_incidents(self) -> int:
        return sum(self.open_by_kind.values())


@dataclass(frozen=True)
class MonthReport:
    """One month of a practice, for the monthly report page."""

    practice: str
    month: date  # the first day of the month
    by_kind: dict[str, int]  # incidents that occurred in the month; every kind, zeros included
    by_location: dict[str, int]  # the same incidents by area (filming) or setting (recording)
    by_response: dict[str, int]  # responses recorded as done in the month
    by_outcome: dict[str, int]  # incidents closed in the month, by outcome
    close_times: CloseTimes  # incidents closed in the month

    @property
    def incidents(self) -> int:
        return sum(self.by_kind.values())


class Counters(NamedTuple):
    open: list[tuple[str, int]]  # (kind, count)
    incidents: list[tuple[str, str, str, int]]  # (month, kind, location, count)
    responses: list[tuple[str, str, str, int]]  # (month, kind, response, count)
    closes: list[tuple[str, str, str, int, int, int]]  # (month, kind, outcome, bucket, count, seconds)


# The counter tables: name -> key columns (a count, and for closes a sum of seconds, beside them).
COUNTERS = {
    "figures_open": ("practice", "kind"),
    "figures_incidents_by_month": ("practice", "month", "kind", "location"),
    "figures_responses_by_month": ("practice", "month", "kind", "response"),
    "figures_closes_by_month": ("practice", "month", "kind", "outcome", "bucket"),
}


def adding_to(table: str, values: Callable[[list[str]], str]) -> str:
    """The statement adding changes (rows given by `values` of the column names) to a counter."""
    columns = COUNTERS[table]
    names = [*columns, "count", *(["seconds"] if table == "figures_closes_by_month" else [])]
    added = ", ".join(f"{name} = c.{name} + excluded.{name}" for name in names[len(columns):])
    return (
        f"INSERT INTO {{{table}}} AS c ({', '.join(names)}) {values(names)} "
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET {added}"
    )


def figures_tables(id_type: str, time_type: str, clustered: str) -> list[str]:
    """The view's tables on either database (tables in braces, see folding.FoldedView)."""
    return [
        "CREATE TABLE IF NOT EXISTS {figures_incidents} ("
        f"incident_id {id_type} PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, month text NOT NULL, "
        f"location text NOT NULL, reported_at {time_type} NOT NULL, status text NOT NULL, "
        "close_month text, outcome text, close_bucket integer, close_seconds bigint)",
        *(
            f"CREATE TABLE IF NOT EXISTS {{{table}}} ("
            + "".join(f"{column} {'integer' if column == 'bucket' else 'text'} NOT NULL, " for column in columns)
            + ("count integer NOT NULL, seconds bigint NOT NULL, " if table == "figures_closes_by_month" else "count integer NOT NULL, ")
            + f"PRIMARY KEY ({', '.join(columns)})){clustered}"
            for table, columns in COUNTERS.items()
        ),
    ]


class FiguresView(FoldedView):
    # Its counters count the record still, naming nothing of it.
    record_rows = (("{figures_incidents}", "incident_id"),)
    """The row the fold loads and the queries, the same on both databases (folding.FoldedView)."""

    def figures_incident(self, incident_id: Any) -> list[Any] | None:
        found = self._load(f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM {{figures_incidents}} WHERE incident_id = %s", (incident_id,))
        return list(found[0]) if found else None

    def _counters(self, practice: str, first: str, last: str) -> Counters:
        """The practice's counter rows for the months first..last, in one transaction (a page's figures agree)."""
        months = " WHERE practice = %s AND month >= %s AND month <= %s"
        return Counters(*self._select_all([
            ("SELECT kind, count FROM {figures_open} WHERE practice = %s", (practice,)),
            ("SELECT month, kind, location, count FROM {figures_incidents_by_month}" + months, (practice, first, last)),
            ("SELECT month, kind, response, count FROM {figures_responses_by_month}" + months, (practice, first, last)),
            ("SELECT month, kind, outcome, bucket, count, seconds FROM {figures_closes_by_month}" + months, (practice, first, last)),
        ]))

    def figures(self, practice: str, today: date) -> DashboardFigures:
        """The dashboard's figures for the 12 months ending with today's (a UK date)."""
        keys = months_ending(today)
        c = self._counters(practice, keys[0], keys[-1])
        months = tuple(
            MonthFigures(
                date(int(key[:4]), int(key[5:]), 1),
                _summed(((kind, n) for month, kind, _, n in c.incidents if month == key), KINDS),
                _by_count(_summed((response, n) for month, _, response, n in c.responses if month == key)),
                _close_times((bucket, n, s) for month, _, _, bucket, n, s in c.closes if month == key),
            )
            for key in keys
        )
        mix = _summed(pair for m in months for pair in m.responses.items())
        return DashboardFigures(practice, today, _summed(c.open, KINDS), months, _by_count(mix), sum((m.closed for m in months), CloseTimes()))

    def month_report(self, practice: str, year: int, month: int) -> MonthReport:
        key = f"{year:04d}-{month:02d}"
        c = self._counters(practice, key, key)
        return MonthReport(
            practice,
            date(year, month, 1),
            _summed(((kind, n) for _, kind, _, n in c.incidents), KINDS),
            _by_count(_summed((location, n) for _, _, location, n in c.incidents)),
            _by_count(_summed((response, n) for _, _, response, n in c.responses)),
            _by_count(_summed((outcome, n) for _, _, outcome, _, n, _ in c.closes)),
            _close_times((bucket, n, s) for _, _, _, bucket, n, s in c.closes),
        )


def _summed(pairs: Iterable[tuple[str, int]], every: Iterable[str] = ()) -> dict[str, int]:
    """The counts added up by name, with each name of `every` (0 if it has none)."""
    sums = dict.fromkeys(every, 0)
    for name, count in pairs:
        sums[name] = sums.get(name, 0) + count
    return sums


def _by_count(counts: dict[str, int]) -> dict[str, int]:
    """Most frequent first, then by name (a stable order for pages and for comparing views)."""
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _close_times(rows: Iterable[tuple[int, int, int]]) -> CloseTimes:
    buckets = [0] * len(CLOSE_TIME_BUCKETS)
    count = seconds = 0
    for bucket, n, s in rows:
        buckets[bucket] += n
        count += n
        seconds += s
    return CloseTimes(count, seconds, tuple(buckets))


class Figures(FoldingProjection):
    name = "dashboard_figures"

    @singledispatchmethod
    def fold_event(self, domain_event: Any) -> None:
        pass

    @fold_event.register
    def _(self, e: RecordRetention.Disposed) -> None:
        self.view.drop_record(e.record_id)

    @fold_event.register
    def _(self, e: Incident.Reported) -> None:
        kind = kind_of(e).KIND
        self.fold.incident_reported(e.originator_id, e.practice, kind, month_key(e.occurred_at), getattr(e, LOCATION_FACTS[kind]), e.timestamp)

    @fold_event.register
    def _(self, e: Incident.Responded) -> None:
        self.fold.response_recorded(e.originator_id, type(e).__name__, month_key(e.occurred_at))

    @fold_event.register
    def _(self, e: Incident.Corrected) -> None:
        if e.field == "occurred_at":
            when = e.value if isinstance(e.value, datetime) else datetime.fromisoformat(e.value)
            self.fold.incident_moved(e.originator_id, month_key(when), None)
        elif e.field in LOCATION_FACTS.values():
            self.fold.incident_moved(e.originator_id, None, e.value)

    @fold_event.register
    def _(self, e: Incident.Closed) -> None:
        self.fold.incident_closed(e.originator_id, e.outcome, e.timestamp, month_key(e.timestamp))

    @fold_event.register
    def _(self, e: Incident.Reopened) -> None:
        self.fold.incident_reopened(e.originator_id)

