"""One contract for listing and searching the incident summaries, run on a SQLite file and on
PostgreSQL: filters alone and together, date-range edges, pages, capped totals, text search
over summaries and notes (practice-scoped, never raising), and corrections that move a row."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.projections.running.runner import start_projections
from incidents.projections.summaries import (
    TOTAL_CAP,
    IncidentSummaries,
    IncidentSummary,
    InvalidSummaryQuery,
    SummaryQuery,
    searchable,
)
from incidents.projections.summaries.postgres import PostgresIncidentSummaryView
from incidents.projections.summaries.sqlite import SQLiteIncidentSummaryView
from incidents.settings import Settings
from incidents.storage import store_for

from .test_summary_view_contract import actor_in

UK = ZoneInfo("Europe/London")
A, B = "A81001", "B82002"


# Through the whole pipeline: commands, events, the projection runner ---------------------------


@pytest.fixture
def running(settings):
    opened = open_log(settings)
    projections = start_projections(opened.store, opened.env)
    yield opened.log, projections
    projections.stop()
    opened.log.close()


def filming(log, actor, when, area="waiting_area", note=""):
    return log.report_filming(
        c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=when, area=area, filmer="patient", people_captured="staff", children_present="no", note=note),
        actor,
    )


def recording(log, actor, when, setting="telephone", clinician="Dr Okafor", note="", nhs_number=""):
    return log.report_recording(
        c.ReportRecording(submission_key=uuid.uuid4().hex, occurred_at=when, clinician=clinician, setting=setting, openness="announced", media="audio", nhs_number=nhs_number, note=note),
        actor,
    )


def ids(page):
    return [row.incident_id for row in page.rows]


def caught_up(log, projections):
    assert projections.wait(log.recorder.max_notification_id(), timeout=20)
    view = projections.summaries
    if isinstance(view, SQLiteIncidentSummaryView):
        check_search_index(view)
    return view


def check_search_index(view):
    """SQLite: the FTS5 index holds exactly the words of its content table, and that content is
    every row's current words (nothing left stale after a commit)."""
    with view.datastore.transaction(commit=False) as c:
        c.execute("INSERT INTO incident_search (incident_search, rank) VALUES ('integrity-check', 1)")
        c.execute("SELECT count(*) FROM incident_search_stale")
        assert c.fetchone()[0] == 0
        words = "facets, kind_words, location_words, clinician, outcome_words, response_words, note_words"
        c.execute(f"SELECT sort_key, {words} FROM incident_summaries EXCEPT SELECT sort_key, {words} FROM incident_search_text")
        assert c.fetchall() == []
        c.execute("SELECT (SELECT count(*) FROM incident_summaries) - (SELECT count(*) FROM incident_search_text)")
        assert c.fetchone()[0] == 0


def test_each_filter_alone_and_combined(running):
    log, projections = running
    a, b = actor_in(log, A), actor_in(log, B)
    now = datetime.now(timezone.utc)
    f1 = filming(log, a, now - timedelta(days=3)).id
    f2 = filming(log, a, now - timedelta(days=2), area="reception").id
    r1 = recording(log, a, now - timedelta(days=1)).id
    r2 = recording(log, a, now - timedelta(hours=5), setting="consulting_room").id
    filming(log, b, now - timedelta(hours=1))
    for closed in (f2, r2):
        log.close_incident(c.CloseIncident(incident_id=closed, outcome="no_further_action"), a)
    view = caught_up(log, projections)

    def found(**filters):
        return ids(view.search(SummaryQuery(practice=A, **filters)))

    assert found() == [r2, r1, f2, f1]
    assert found(kind="filming") == [f2, f1]
    assert found(status="closed") == [r2, f2]
    assert found(status="open") == [r1, f1]
    assert found(location="waiting_area") == [f1]
    assert found(kind="recording", status="open") == [r1]
    assert found(location="consulting_room", status="closed") == [r2]
    assert found(kind="filming", location="consulting_room") == []
    assert found(kind="", status="", location="") == [r2, r1, f2, f1]  # blank form fields: any
    assert found(status="open", occurred_from=now - timedelta(days=2)) == [r1]
    assert ids(view.search(SummaryQuery(practice=B))) != [] and not set(ids(view.search(SummaryQuery(practice=B)))) & {f1, f2, r1, r2}


def test_search_finds_words_of_the_summary_and_of_notes_added_later(running):
    log, projections = running
    a, b = actor_in(log, A), actor_in(log, B)
    now = datetime.now(timezone.utc)
    film = filming(log, a, now - timedelta(hours=3), note="Teenager with a phone near the pharmacy hatch").id
    talk = recording(log, a, now - timedelta(hours=2), clinician="Dr Okafor").id
    log.respond(c.RecordResponse(incident_id=film, submission_key=uuid.uuid4().hex, response="PoliceCalled", occurred_at=now - timedelta(hours=2), note="Officer Brannigan came"), a)
    log.add_note(c.AddNote(incident_id=talk, submission_key=uuid.uuid4().hex, text="Patient emailed a transcript afterwards"), a)
    log.correct(c.CorrectIncident(incident_id=talk, field="media", new_value="video", reason="The clip had moving pictures"), a)
    log.close_incident(c.CloseIncident(incident_id=film, outcome="warning_letter", note="Escalated by Marguerite"), a)
    other = filming(log, b, now - timedelta(hours=1), note="transcript pharmacy Brannigan").id
    view = caught_up(log, projections)

    def found(text, practice=A, **filters):
        return ids(view.search(SummaryQuery(practice=practice, text=text, **filters)))

    assert found("pharmacy") == [film]  # the note made when reporting
    assert found("transcript") == [talk]  # a note added later; B's note with the word is not A's
    assert found("brannigan") == [film]  # a note on a response
    assert found("police") == [film]  # the response's label
    assert found("Marguerite") == [film]  # the closing note
    assert found("warning letter") == [film]  # the outcome's label
    assert found("moving pictures") == [talk]  # a correction's reason
    assert found("okafor") == [talk] and found("telephone consultation") == [talk]
    assert found("waiting") == [film] and found("film") == [film]  # 'Someone filmed': a prefix
    assert found("pharm hatch") == [film]  # every word, each as a prefix
    assert found("pharmacy transcript") == []
    assert found("TRANSCRIPT", kind="recording", status="open") == [talk]
    assert found("transcript", kind="filming") == []
    assert found("transcript", practice=B) == [other]


def recorded_an_hour_ago(running, **facts) -> tuple[Any, Any, Any, Any]:
    """A recording in practice A with the facts given: the log, the projections, who reported it and its id."""
    log, projections = running
    a = actor_in(log, A)
    return log, projections, a, recording(log, a, datetime.now(timezone.utc) - timedelta(hours=1), **facts).id


def test_no_patient_identifier_reaches_the_view(running):
    log, projections, _, saved = recorded_an_hour_ago(
        running, nhs_number="943 476 5919",
        note="Mum rang back on 07700 900123, born 12/03/1980, NHS 9434765919, mail jo@example.org; room 4",
    )
    view = caught_up(log, projections)
    text = view.indexed_text(A, saved)
    assert text is not None and "Mum rang back" in text and "room 4" in text
    for identifier in ("943", "5919", "900123", "07700", "1980", "jo@", "example"):
        assert identifier not in text
    for words in ("9434765919", "943", "900123", "example"):
        assert ids(view.search(SummaryQuery(practice=A, text=words))) == []
    assert view.indexed_text(B, saved) is None


def test_an_nhs_number_however_typed_and_in_any_free_text_field_is_not_kept(running):
    log, projections, a, saved = recorded_an_hour_ago(
        running, clinician="Dr Lee re 401.023.2137",
        note="Numbers given: 401_023_2137 then 401/023/2137 then 401\u00a0023\u00a02137; room 4",
    )
    log.correct(c.CorrectIncident(incident_id=saved, field="clinician", new_value="Dr Lee 401023-2137", reason="was 401.023.2137"), a)
    view = caught_up(log, projections)
    text = view.indexed_text(A, saved)
    assert text is not None and "Numbers given" in text and "room 4" in text and "Lee" in text
    for identifier in ("401", "023", "2137"):
        assert identifier not in text
    row = view.get(A, saved)
    assert row is not None and "2137" not in row.clinician and "Lee" in row.clinician
    for words in ("401", "2137", "4010232137"):
        assert ids(view.search(SummaryQuery(practice=A, text=words))) == []


def test_a_correction_moves_the_row_under_the_filters(running):
    log, projections = running
    a = actor_in(log, A)
    now = datetime.now(timezone.utc)
    early = filming(log, a, now - timedelta(days=10)).id
    late = filming(log, a, now - timedelta(days=1)).id
    log.correct(c.CorrectIncident(incident_id=early, field="area", new_value="corridor", reason="It was the corridor"), a)
    log.correct(c.CorrectIncident(incident_id=late, field="occurred_at", new_value=(now - timedelta(days=20)).isoformat(), reason="Wrong day"), a)
    view = caught_up(log, projections)

    def found(**filters):
        return ids(view.search(SummaryQuery(practice=A, **filters)))

    assert found() == [early, late]  # the corrected time orders the list
    assert found(location="corridor") == [early] and found(location="waiting_area") == [late]
    assert found(text="corridor") == [early] and found(text="waiting") == [late]
    assert found(occurred_from=now - timedelta(days=15)) == [early]
    assert found(occurred_to=now - timedelta(days=15)) == [late]
    assert found(text="wrong", occurred_to=now - timedelta(days=15)) == [late]
    assert found(text="wrong", occurred_from=now - timedelta(days=15)) == []


def test_reopening_moves_the_row_back_to_open(running):
    log, projections = running
    a = actor_in(log, A)
    saved = filming(log, a, datetime.now(timezone.utc) - timedelta(hours=1)).id
    log.close_incident(c.CloseIncident(incident_id=saved, outcome="police_involved"), a)
    view = caught_up(log, projections)
    assert ids(view.search(SummaryQuery(practice=A, status="closed", text="police"))) == [saved]
    log.reopen_incident(c.ReopenIncident(incident_id=saved, reason="He came back"), a)
    view = caught_up(log, projections)
    assert ids(view.search(SummaryQuery(practice=A, status="closed"))) == []
    assert ids(view.search(SummaryQuery(practice=A, status="open", text="came back"))) == [saved]
    assert ids(view.search(SummaryQuery(practice=A, text="police"))) == []  # the outcome is gone


# On a view filled directly: many rows, exact times -----------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def view(request, tmp_path):
    if request.param == "sqlite":
        env, view_class = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "view.sqlite")}, SQLiteIncidentSummaryView
    else:
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
        env, view_class = store_for(settings).env, PostgresIncidentSummaryView
    factory = InfrastructureFactory.construct(Environment(IncidentSummaries.name, env))
    yield factory.tracking_recorder(view_class)
    factory.close()


class Filler:
    def __init__(self, view):
        self.view, self.position = view, 0

    def add(self, occurred_at: datetime, practice=A, kind="filming", location="waiting_area", note="") -> uuid.UUID:
        self.position += 1
        incident_id = uuid.uuid4()
        summary = IncidentSummary(incident_id=incident_id, practice=practice, kind=kind, occurred_at=occurred_at, reported_at=occurred_at, location=location)
        self.view.fold.add(summary, searchable(note))
        self.view.insert_tracking(Tracking("filler", self.position))
        return incident_id


def test_pages_do_not_overlap_and_the_total_is_capped(view):
    fill = Filler(view)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    made = [fill.add(start + timedelta(minutes=i), note="tablet") for i in range(7)]
    newest_first = list(reversed(made))
    pages = [view.search(SummaryQuery(practice=A, page=n, page_size=3)) for n in (1, 2, 3, 4)]
    assert [ids(p) for p in pages] == [newest_first[:3], newest_first[3:6], newest_first[6:], []]
    assert [p.has_next for p in pages] == [True, True, False, False]
    assert [(p.total, p.total_capped, p.last_page) for p in pages[:1]] == [(7, False, 3)]
    assert pages[0].total_text == "7" and not pages[0].has_previous and pages[1].has_previous
    searched = [view.search(SummaryQuery(practice=A, text="tab", page=n, page_size=3)) for n in (1, 2, 3)]
    assert [ids(p) for p in searched] == [ids(p) for p in pages[:3]]
    assert searched[0].total == 7 and searched[1].has_next and not searched[2].has_next

    for i in range(TOTAL_CAP + 5 - 7):
        fill.add(start - timedelta(hours=i + 1), note="tablet")
    for query in (SummaryQuery(practice=A), SummaryQuery(practice=A, text="tablet")):
        page = view.search(query)
        assert (page.total, page.total_capped, page.last_page, page.has_next) == (TOTAL_CAP, True, None, True)
        assert page.total_text == "1,000 or more" and len(page.rows) == 25
    exact = view.search(SummaryQuery(practice=A, occurred_from=start - timedelta(hours=10)))
    assert (exact.total, exact.total_capped) == (7 + 10, False)


def test_date_range_edges(view):
    fill = Filler(view)
    at = datetime(2025, 6, 15, 23, 30, tzinfo=UK)  # 22:30 UTC: still the 15th in the UK
    late_evening = fill.add(at)
    next_morning = fill.add(datetime(2025, 6, 16, 0, 30, tzinfo=UK))
    winter = fill.add(datetime(2025, 1, 15, 0, 10, tzinfo=UK))  # GMT: UTC the same

    def found(**filters):
        return ids(view.search(SummaryQuery(practice=A, **filters)))

    assert found(occurred_from=at) == [next_morning, late_evening]  # from: included
    assert found(occurred_to=at) == [winter]  # to, as a moment: excluded
    assert found(occurred_from=at, occurred_to=at + timedelta(milliseconds=1)) == [late_evening]
    assert found(occurred_from=date(2025, 6, 15), occurred_to=date(2025, 6, 15)) == [late_evening]  # whole UK days
    assert found(occurred_from=date(2025, 6, 16)) == [next_morning]
    assert found(occurred_to=date(2025, 1, 14)) == []
    assert found(occurred_from=date(2025, 1, 15), occurred_to=date(2025, 1, 15)) == [winter]


def test_incidents_of_the_same_moment_keep_one_order_across_pages(view):
    fill = Filler(view)
    same = datetime(2025, 3, 3, 10, 30, tzinfo=timezone.utc)
    made = [fill.add(same) for _ in range(5)]
    pages = [ids(view.search(SummaryQuery(practice=A, page=n, page_size=2))) for n in (1, 2, 3)]
    assert sum(pages, []) == list(reversed(made))  # the one the view learned of last comes first
    assert ids(view.search(SummaryQuery(practice=A, occurred_from=same, occurred_to=same + timedelta(seconds=1)))) == list(reversed(made))


ODD = [
    '"', "'", "\\", '" OR 1=1 --', "AND", "OR NOT", "NEAR(a b)", "*", "a*", "^start", "col:word", "{facets}: x",
    "pA81001", "p" + B, "kfilming", "(((", "!&|", "<->", "'':*", "——", "🙂", "ǅemal", "Ünïcödé café", "٣٤٥", "\x00",
    "日本語のメモ", "x" * 200, "word " * 40, " ", "",
]


@pytest.mark.parametrize("text", ODD)
def test_odd_search_input_never_raises_nor_finds_another_practices_rows(view, text):
    fill = Filler(view)
    ours = fill.add(datetime(2025, 3, 3, tzinfo=timezone.utc), note="kfilming café")
    fill.add(datetime(2025, 3, 4, tzinfo=timezone.utc), practice=B, note="kfilming café")
    page = view.search(SummaryQuery(practice=A, text=text))
    assert ids(page) in ([], [ours]) and page.total == len(page.rows)
    assert ids(view.search(SummaryQuery(practice=A, text="café"))) == [ours]  # a search that finds, beside it


def test_bad_queries_are_refused_by_name():
    for bad in (
        dict(practice="nope!"), dict(practice=A, kind="burglary"), dict(practice=A, status="pending"),
        dict(practice=A, location="roof"), dict(practice=A, page=0), dict(practice=A, page_size=101),
        dict(practice=A, page="2"), dict(practice=A, occurred_from=datetime(2025, 1, 1)),
        dict(practice=A, occurred_from=date(2025, 2, 1), occurred_to=date(2025, 1, 31)),
        dict(practice=A, text="x" * 201),
    ):
        with pytest.raises(InvalidSummaryQuery):
            SummaryQuery(**bad)
    assert SummaryQuery(practice="a81001").practice == A
    assert SummaryQuery(practice=A, text='say "hello", World!! hello').words == ("say", "hello", "world")


def test_postgresql_finds_the_same_pages_whether_matches_are_recent_or_rare(tmp_path, postgres_url):
    """A text search reads the newest rows first and asks the word index only when they hold
    too few matches: both ways give the same pages and totals."""
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    factory = InfrastructureFactory.construct(Environment(IncidentSummaries.name, store_for(settings).env))
    view = factory.tracking_recorder(PostgresIncidentSummaryView)
    try:
        fill = Filler(view)
        start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        for i in range(40):
            words = ["often"] + (["sometimes"] if i % 5 == 0 else []) + (["once"] if i == 33 else [])
            fill.add(start + timedelta(hours=i), kind="recording" if i % 2 else "filming", location="telephone" if i % 2 else "corridor", note=" ".join(words))
        queries = [
            SummaryQuery(practice=A, text=text, page=page, page_size=size, **filters)
            for text in ("often", "sometimes", "once", "never", "oft some")
            for page, size in ((1, 3), (2, 3), (1, 25), (4, 5))
            for filters in ({}, {"kind": "recording"}, {"occurred_from": start + timedelta(hours=10)})
        ]
        expected = [view.search(q) for q in queries]  # the window holds every row
        view.recent_window = 4
        found = [view.search(q) for q in queries]
        assert [(p.rows, p.has_next) for p in found] == [(p.rows, p.has_next) for p in expected]
        for got, exact in zip(found, expected):  # a total counted in the window alone says so
            assert (got.total, got.total_capped) == (exact.total, exact.total_capped) or (got.total_capped and got.total <= exact.total)
        assert any(p.total_capped for p in found) and any(not p.total_capped and p.total for p in found)
        assert any(page.rows for page in expected) and any(not page.rows for page in expected)
    finally:
        factory.close()
