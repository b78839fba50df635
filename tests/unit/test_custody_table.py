"""The PDF's chain of custody: consecutive views of one record by one person, for one request,
within ten minutes of the first share a row; anything else breaks the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents.evidence.custody_table import custody_rows
from incidents.evidence.material import CustodyEntry, Person

SUE, MO = Person("sue", "Sue"), Person("mo", "Mo")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def view(who: Person, seconds: float, record: str = "inc-1", request: str = "") -> CustodyEntry:
    return CustodyEntry(who, T0 + timedelta(seconds=seconds), f"Viewed the timeline of incident {record}", request, record=record)


def shape(entries: list[CustodyEntry]) -> list[tuple[str, int, float, float]]:
    return [(r.first.who.username, r.count, (r.first.at - T0).total_seconds(), (r.last.at - T0).total_seconds()) for r in custody_rows(entries)]


def test_a_run_of_reloads_is_one_row_with_its_count_and_first_and_last_time():
    assert shape([view(SUE, 5 * i) for i in range(18)]) == [("sue", 18, 0, 85)]


def test_another_person_record_or_request_between_breaks_the_run():
    entries = [view(SUE, 0), view(SUE, 10), view(MO, 20), view(SUE, 30), view(SUE, 40, "inc-2"), view(SUE, 50), view(SUE, 60, request="r-1")]
    assert shape(entries) == [("sue", 2, 0, 10), ("mo", 1, 20, 20), ("sue", 1, 30, 30), ("sue", 1, 40, 40), ("sue", 1, 50, 50), ("sue", 1, 60, 60)]


def test_a_row_spans_ten_minutes_from_its_first_view_at_most():
    entries = [view(SUE, 0), view(SUE, 300), view(SUE, 600), view(SUE, 601), view(SUE, 1200), view(SUE, 1202)]
    assert shape(entries) == [("sue", 3, 0, 600), ("sue", 2, 601, 1200), ("sue", 1, 1202, 1202)]


def test_exports_are_never_grouped():
    export = CustodyEntry(SUE, T0, "Exported the timeline in this bundle", "r-1")
    assert [r.count for r in custody_rows([export, export, view(SUE, 1), view(SUE, 2)])] == [1, 1, 2]
