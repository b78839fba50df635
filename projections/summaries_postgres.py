"""Incident summaries in PostgreSQL.

Search uses a tsvector column generated from the indexed words, with a GIN index; the `simple`
configuration (no stemming, no stop words) so that every word matches as a prefix while the
user types, as on SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composable, Identifier

from .postgres_folding import FoldWriting
from .postgres_statements import ComposedOnce
from .summaries import (
    SORT_SLOTS,
    TOTAL_CAP,
    IncidentSummary,
    IncidentSummaryView,
    SummaryPage,
    SummaryQuery,
    joined,
    label_words,
    page_of,
    sort_base,
)
from .summary_fold import ID, ROW_COLUMNS, SummaryFold

COLUMNS = SQL(
    "incident_id, practice, kind, occurred_at, reported_at, location, status, last_response, "
    "last_response_at, responses, notes, corrections, reviewed_at, closed_at, outcome, clinician"
)
INDEXED = ("kind_words", "location_words", "clinician", "outcome_words", "response_words", "note_words")
Statement = tuple[str, dict[str, Any]]
MATCHES = SQL("search @@ to_tsquery('simple'::regconfig, %(words)s)")
RECENT_WINDOW = 2000  # rows a text search reads in list order before it asks the word index


class PostgresIncidentSummaryView(ComposedOnce, FoldWriting, PostgresTrackingRecorder, IncidentSummaryView):
    recent_window = RECENT_WINDOW
    # A rebuild makes the list's indexes and the search column once, at the end: its writes look
    # rows up by incident id and sort key only (rebuild_postgres.defer_indexes).
    deferred_in_rebuild = ("incident_summaries",)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = Identifier(self.datastore.schema, "incident_summaries")
        self._delete_rows = SQL("DELETE FROM {0} WHERE incident_id = ANY(%s)").format(self.table)
        self._copy_rows = SQL("COPY {0} ({1}) FROM STDIN").format(self.table, SQL(", ").join(map(Identifier, ROW_COLUMNS)))
        # The next free slot of the incident's millisecond (see summaries.sort_base).
        self.next_key = SQL(
            "(SELECT COALESCE(MAX(sort_key) + 1, %(base)s) FROM {0} "
            "WHERE sort_key >= %(base)s AND sort_key < %(base)s + {1})"
        ).format(self.table, SORT_SLOTS)
        searched = SQL(" || ' ' || ").join(Identifier(name) for name in INDEXED)
        by = "CREATE INDEX IF NOT EXISTS {0} ON {1} (practice, {2}sort_key)"
        indexes = {
            "by_time": "", "by_kind": "kind, ", "by_status": "status, ", "by_location": "location, ",
            "by_kind_status": "kind, status, ", "by_location_status": "location, status, ",
        }
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} ("
                    "incident_id uuid PRIMARY KEY, practice text NOT NULL, kind text NOT NULL, "
                    "occurred_at timestamptz NOT NULL, reported_at timestamptz NOT NULL, location text NOT NULL, "
                    "status text NOT NULL, last_response text NOT NULL DEFAULT '', last_response_at timestamptz, "
                    "responses integer NOT NULL DEFAULT 0, notes integer NOT NULL DEFAULT 0, "
                    "corrections integer NOT NULL DEFAULT 0, reviewed_at timestamptz, closed_at timestamptz, "
                    "outcome text NOT NULL DEFAULT '', clinician text NOT NULL DEFAULT '', "
                    "sort_key bigint NOT NULL UNIQUE, "
                    "kind_words text NOT NULL DEFAULT '', location_words text NOT NULL DEFAULT '', "
                    "outcome_words text NOT NULL DEFAULT '', response_words text NOT NULL DEFAULT '', "
                    "note_words text NOT NULL DEFAULT '', "
                    "search tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {1})) STORED)"
                ).format(self.table, searched),
                SQL("CREATE INDEX IF NOT EXISTS incident_summaries_reported ON {0} (practice, reported_at)").format(self.table),
                # One index per combination of filters, each ending in the list's order, so a
                # page is read in order and the reading stops at the page's end. (A location
                # belongs to one kind, so kind and location together need no index.)
                *[
                    SQL(by).format(Identifier(f"incident_summaries_{name}"), self.table, SQL(columns))
                    for name, columns in indexes.items()
                ],
                SQL("CREATE INDEX IF NOT EXISTS incident_summaries_search ON {0} USING gin (search)").format(self.table),
            ]
        )

    def create_table(self) -> None:
        """Create the tables; a table of an older layout (no search words) is dropped first and
        this view's tracking emptied, so the projection fills it again from the first event."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT count(*) AS n, count(*) FILTER (WHERE column_name='note_words') AS current "
                "FROM information_schema.columns WHERE table_schema=%s AND table_name='incident_summaries'",
                (self.datastore.schema,),
            )
            layout = curs.fetchone()
            if layout and layout["n"] and not layout["current"]:
                curs.execute(SQL("DROP TABLE {0}").format(self.table))
                tracking = Identifier(self.datastore.schema, self.tracking_table_name)
                curs.execute("SELECT to_regclass(%s) AS found", (f"{self.datastore.schema}.{self.tracking_table_name}",))
                if curs.fetchone()["found"]:  # type: ignore[index]
                    curs.execute(SQL("DELETE FROM {0}").format(tracking))
        super().create_table()

    def start_rebuilding(self) -> SummaryFold:
        """For a rebuild into a scratch schema: the projection writes to the returned fold
        (every row in memory, see summary_fold.py) and each flush() writes the rows it changed
        since the last: deleted, then copied in (COPY), with the tracking position of the fold's
        last event, in one transaction (postgres_folding.py). (Deleting first: a row may now have
        the sort key that another changed row had.)"""
        self._fold = SummaryFold()
        return self._fold

    def _write_fold(self, curs: Any, fold: SummaryFold) -> None:
        rows = list(fold.drain())
        curs.execute(self._delete_rows, ([row[ID] for row in rows],))
        with curs.copy(self._copy_rows) as copy:
            for row in rows:
                copy.write_row(row)

    def _write(self, statements: list[Statement], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement, params in statements:
                curs.execute(statement, params)
            self._insert_tracking(curs, tracking)

    def _update(self, incident_id: UUID, assignments: str, **params: Any) -> Statement:
        """An update of the incident's row (assignments name columns; values are parameters)."""
        statement = self._composed_once(
            assignments, lambda: SQL("UPDATE {0} SET " + assignments + " WHERE incident_id=%(incident_id)s").format(self.table)
        )
        return statement, {"incident_id": incident_id, **params}

    def _appended(self, column: str, words: str) -> tuple[str, dict[str, Any]]:
        if not words:
            return "", {}
        return f", {column} = {column} || ' ' || %(words)s", {"words": words}

    def add(self, summary: IncidentSummary, note: str, tracking: Tracking) -> None:
        self._write([self.add_statement(summary, note)], tracking)

    def add_statement(self, summary: IncidentSummary, note: str) -> Statement:
        """The insert of a new incident's row (also used to fill a view in bulk for benchmarks)."""
        params = {
            "incident_id": summary.incident_id, "practice": summary.practice, "kind": summary.kind,
            "occurred_at": summary.occurred_at, "reported_at": summary.reported_at, "location": summary.location,
            "status": summary.status, "last_response": summary.last_response, "last_response_at": summary.last_response_at,
            "responses": summary.responses, "notes": summary.notes, "corrections": summary.corrections,
            "reviewed_at": summary.reviewed_at, "closed_at": summary.closed_at, "outcome": summary.outcome,
            "clinician": summary.clinician, "base": sort_base(summary.occurred_at),
            "kind_words": label_words(summary.kind), "location_words": label_words(summary.location),
            "outcome_words": label_words(summary.outcome), "note_words": note,
        }
        names = [name for name in params if name != "base"]
        statement = self._composed_once(
            "INSERT",
            lambda: SQL("INSERT INTO {0} ({1}, sort_key) VALUES ({2}, {3}) ON CONFLICT (incident_id) DO NOTHING").format(
                self.table,
                SQL(", ").join(Identifier(n) for n in names),
                SQL(", ").join(SQL("%({})s".format(n)) for n in names),
                self.next_key,
            ),
        )
        return statement, params

    def record_response(self, incident_id: UUID, name: str, at: datetime, words: str, tracking: Tracking) -> None:
        more, extra = self._appended("response_words", words)
        assignments = "last_response=%(name)s, last_response_at=%(at)s, responses=responses+1" + more
        self._write([self._update(incident_id, assignments, name=name, at=at, **extra)], tracking)

    def add_note(self, incident_id: UUID, words: str, tracking: Tracking) -> None:
        more, extra = self._appended("note_words", words)
        self._write([self._update(incident_id, "notes=notes+1" + more, **extra)], tracking)

    def correct(self, incident_id: UUID, column: str | None, value: Any, reason: str, tracking: Tracking) -> None:
        more, extra = self._appended("note_words", reason)
        counted = "corrections=corrections+1" + more
        if column == "occurred_at":
            statement = self._composed_once(
                "occurred_at " + counted,
                lambda: SQL("UPDATE {0} SET " + counted + ", occurred_at=%(value)s, sort_key={1} WHERE incident_id=%(incident_id)s").format(
                    self.table, self.next_key
                ),
            )
            params = {"incident_id": incident_id, "value": value, "base": sort_base(value), **extra}
        elif column == "location":
            statement, params = self._update(incident_id, counted + ", location=%(value)s, location_words=%(label)s", value=value, label=label_words(value), **extra)
        elif column == "clinician":
            statement, params = self._update(incident_id, counted + ", clinician=%(value)s", value=value, **extra)
        else:
            statement, params = self._update(incident_id, counted, **extra)
        self._write([(statement, params)], tracking)

    def mark_reviewed(self, incident_id: UUID, at: datetime, comment: str, tracking: Tracking) -> None:
        more, extra = self._appended("note_words", comment)
        self._write([self._update(incident_id, "reviewed_at=COALESCE(reviewed_at, %(at)s)" + more, at=at, **extra)], tracking)

    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, note: str, tracking: Tracking) -> None:
        more, extra = self._appended("note_words", note)
        assignments = (
            "status='closed', outcome=%(outcome)s, outcome_words=%(label)s, closed_at=%(at)s, "
            "reviewed_at=COALESCE(reviewed_at, %(at)s)" + more
        )
        self._write([self._update(incident_id, assignments, outcome=outcome, label=label_words(outcome), at=at, **extra)], tracking)

    def mark_reopened(self, incident_id: UUID, reason: str, tracking: Tracking) -> None:
        more, extra = self._appended("note_words", reason)
        assignments = "status='open', outcome='', outcome_words='', closed_at=NULL" + more
        self._write([self._update(incident_id, assignments, **extra)], tracking)

    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {1} FROM {0} WHERE practice=%s AND reported_at>=%s AND reported_at<%s "
                    "ORDER BY reported_at DESC LIMIT %s").format(self.table, COLUMNS),
                (practice, start, end, limit),
            )
            return [IncidentSummary(**row) for row in curs.fetchall()]

    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {1} FROM {0} WHERE practice=%s AND incident_id=%s").format(self.table, COLUMNS),
                (practice, incident_id),
            )
            row = curs.fetchone()
            return IncidentSummary(**row) if row else None

    def search(self, query: SummaryQuery) -> SummaryPage:
        params: dict[str, Any] = {
            "practice": query.practice, "limit": query.page_size + 1, "offset": query.offset, "cap": TOTAL_CAP + 1,
            "window": self.recent_window,
        }
        where = ["practice=%(practice)s"]
        for name in ("kind", "status", "location"):
            value = getattr(query, name)
            if value is not None:
                params[name] = value
                where.append(f"{name}=%({name})s")
        if query.start is not None:
            params["low"] = sort_base(query.start)
            where.append("sort_key >= %(low)s")
        if query.end is not None:
            params["high"] = sort_base(query.end)
            where.append("sort_key < %(high)s")
        filtered = SQL(" AND ".join(where))
        if not query.words:
            return self._page(query, filtered, params)
        # Each word is letters and digits only (summaries.search_words): quoted, it is one
        # lexeme to the tsquery parser, and `:*` makes it match as a prefix.
        params["words"] = " & ".join(f"'{word}':*" for word in query.prefixes)
        return self._text_page(query, filtered, params)

    def _page(self, query: SummaryQuery, condition: Composable, params: dict[str, Any]) -> SummaryPage:
        # Both statements in one round trip, outside a transaction (two more round trips).
        with self.datastore.get_connection() as connection:
            with connection.pipeline():
                listed = connection.execute(self._rows_sql(condition), params)
                counted = connection.execute(self._count_sql(condition), params)
            rows = [IncidentSummary(**row) for row in listed.fetchall()]
            total = counted.fetchone()["n"]  # type: ignore[index]
        return page_of(query, rows, total)

    def _text_page(self, query: SummaryQuery, filtered: Composable, params: dict[str, Any]) -> SummaryPage:
        """A word used often is found among the newest rows: read those in list order (the
        `recent` window) and stop. A word used rarely is not: then ask the word index (GIN) for
        every match, and sort those few. PostgreSQL's planner cannot tell the two apart before
        it runs (a LIMIT plan reading in order, for a word that never comes, reads every row),
        so the window is always tried first, and the index read is forced when it falls short.
        When the page comes from the window, the total counts only the window's matches and is
        marked as a lower bound."""
        recent = SQL("(SELECT {1}, sort_key, search FROM {0} WHERE {2} ORDER BY sort_key DESC LIMIT %(window)s) AS recent").format(
            self.table, COLUMNS, filtered
        )
        with self.datastore.get_connection() as connection:
            with connection.pipeline():
                listed = connection.execute(
                    SQL("SELECT {1} FROM {0} WHERE {2} ORDER BY sort_key DESC LIMIT %(limit)s OFFSET %(offset)s").format(
                        recent, COLUMNS, MATCHES
                    ),
                    params,
                )
                seen = connection.execute(
                    SQL("SELECT count(*) AS scanned, count(*) FILTER (WHERE {1}) AS found FROM {0}").format(recent, MATCHES),
                    params,
                )
            rows = [IncidentSummary(**row) for row in listed.fetchall()]
            window = seen.fetchone()
        assert window is not None
        every_row_seen = window["scanned"] < self.recent_window
        if every_row_seen or window["found"] >= query.offset + query.page_size + 1:
            # The page is right; counting every match would cost as much as the whole list.
            return page_of(query, rows, window["found"], at_least=not every_row_seen)
        condition = SQL("{0} AND {1}").format(filtered, MATCHES)
        with self.datastore.get_connection() as connection:
            with connection.pipeline(), connection.transaction(force_rollback=True):
                connection.execute("SET LOCAL enable_indexscan = off")
                connection.execute("SET LOCAL enable_seqscan = off")
                listed = connection.execute(self._rows_sql(condition), params)
                counted = connection.execute(self._count_sql(condition), params)
                rows = [IncidentSummary(**row) for row in listed.fetchall()]
                total = counted.fetchone()["n"]  # type: ignore[index]
        return page_of(query, rows, total)

    def _rows_sql(self, condition: Composable) -> Composable:
        return SQL("SELECT {1} FROM {0} WHERE {2} ORDER BY sort_key DESC LIMIT %(limit)s OFFSET %(offset)s").format(
            self.table, COLUMNS, condition
        )

    def _count_sql(self, condition: Composable) -> Composable:
        return SQL("SELECT count(*) AS n FROM (SELECT 1 FROM {0} WHERE {1} LIMIT %(cap)s) AS capped").format(self.table, condition)

    def indexed_text(self, practice: str, incident_id: UUID) -> str | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {1} FROM {0} WHERE practice=%s AND incident_id=%s").format(
                    self.table, SQL(", ").join(Identifier(n) for n in INDEXED)
                ),
                (practice, incident_id),
            )
            row = curs.fetchone()
            return joined(*(" ".join(str(row[n]).split()) for n in INDEXED)) if row else None
