"""Dashboard figures: counters per practice, kept up to date event by event.

The view holds counters, never a copy of every incident to aggregate per request: each event
adds or takes one from a few rows, so the dashboard and the monthly report read at most a
dozen months of small counter rows, whatever the number of events (a page costs the same at a
million events as at a thousand).

- open incidents by kind: +1 when reported or reopened, -1 when closed;
- incidents by month (of occurred_at, in UK local time), kind and location: a correction of
  when or where it happened moves the incident from one counter to the other;
- responses by month (of the response's own time), kind and response;
- closes by month of closing, kind, outcome and time-to-close bucket, with the count and the
  sum of the seconds from report (the Reported event's timestamp) to close. Reopening takes the
  close back out of its month, so an incident closed, reopened and closed again counts once, in
  the month of its last close, with the time from its report to that close. The buckets
  (CLOSE_TIME_BUCKETS) give the distribution and the bucket that holds the median; the count
  and the sum give the mean.

A small table of incidents (practice, kind, month, location, report time, last close) tells the
view what to take one from; events other than Reported do not carry the practice.

The projection (below) turns events into calls on the fold (fold.py); each database's module
holds the tables, loads and writes the fold's rows, and reads the counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache, singledispatchmethod
from typing import Any, Iterable, NamedTuple
from zoneinfo import ZoneInfo


from incidents.domain.incident import Incident
from incidents.domain.kinds import INCIDENT_KINDS, LOCATION_FACTS, kind_of
from incidents.projections.folding import FoldingProjection

UK = ZoneInfo("Europe/London")
KINDS = tuple(INCIDENT_KINDS)
MONTHS_SHOWN = 12
DAY = 86_400

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


def month_start(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


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
    def mean_seconds(self) -> float | None:
        return self.total_seconds / self.count if self.count else None

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


class FiguresView:
    """The queries both databases' views answer, from the counter rows each reads."""

    def _counters(self, practice: str, first: str, last: str) -> Counters:
        """The practice's counter rows for the months first..last (inclusive), read in one
        transaction, so that the figures of one page agree with each other."""
        raise NotImplementedError

    # Queries.

    def figures(self, practice: str, today: date) -> DashboardFigures:
        """The dashboard's figures for the 12 months ending with today's (a UK date)."""
        keys = months_ending(today)
        counters = self._counters(practice, keys[0], keys[-1])
        open_by_kind = dict.fromkeys(KINDS, 0)
        for kind, count in counters.open:
            open_by_kind[kind] = open_by_kind.get(kind, 0) + count
        by_kind: dict[str, dict[str, int]] = {key: dict.fromkeys(KINDS, 0) for key in keys}
        for month, kind, _, count in counters.incidents:
            by_kind[month][kind] = by_kind[month].get(kind, 0) + count
        responses: dict[str, dict[str, int]] = {key: {} for key in keys}
        for month, _, response, count in counters.responses:
            if count:
                responses[month][response] = responses[month].get(response, 0) + count
        close_rows: dict[str, list[tuple[int, int, int]]] = {key: [] for key in keys}
        for month, _, _, bucket, count, seconds in counters.closes:
            close_rows[month].append((bucket, count, seconds))
        closes = {key: _close_times(rows) for key, rows in close_rows.items()}
        months = tuple(MonthFigures(month_start(k), by_kind[k], _by_count(responses[k]), closes[k]) for k in keys)
        mix: dict[str, int] = {}
        for m in months:
            for response, count in m.responses.items():
                mix[response] = mix.get(response, 0) + count
        total = CloseTimes()
        for m in months:
            total = total + m.closed
        return DashboardFigures(practice, today, open_by_kind, months, _by_count(mix), total)

    def month_report(self, practice: str, year: int, month: int) -> MonthReport:
        key = f"{year:04d}-{month:02d}"
        counters = self._counters(practice, key, key)
        by_kind = dict.fromkeys(KINDS, 0)
        by_location: dict[str, int] = {}
        for _, kind, location, count in counters.incidents:
            by_kind[kind] = by_kind.get(kind, 0) + count
            if count:
                by_location[location] = by_location.get(location, 0) + count
        by_response: dict[str, int] = {}
        for _, _, response, count in counters.responses:
            if count:
                by_response[response] = by_response.get(response, 0) + count
        by_outcome: dict[str, int] = {}
        close_rows = []
        for _, _, outcome, bucket, count, seconds in counters.closes:
            if count:
                by_outcome[outcome] = by_outcome.get(outcome, 0) + count
            close_rows.append((bucket, count, seconds))
        return MonthReport(
            practice,
            date(year, month, 1),
            by_kind,
            _by_count(by_location),
            _by_count(by_response),
            _by_count(by_outcome),
            _close_times(close_rows),
        )


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


