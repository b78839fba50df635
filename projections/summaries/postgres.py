"""Incident summaries in PostgreSQL.

Search uses a tsvector column generated from the indexed words, with a GIN index; the `simple`
configuration (no stemming, no stop words) so that every word matches as a prefix while the
user types, as on SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Composable, Identifier

from incidents.projections.postgres import PostgresFoldedView

from . import TOTAL_CAP, IncidentSummary, SummaryPage, SummaryQuery, joined, page_of, sort_base, SORT_SLOTS
from .fold import ID, ROW_COLUMNS, SummaryFold

COLUMNS = SQL(
    "incident_id, practice, kind, occurred_at, reported_at, location, status, last_response, "
    "last_response_at, responses, notes, corrections, reviewed_at, closed_at, outcome, clinician"
)
INDEXED = ("kind_words", "location_words", "clinician", "outcome_words", "response_words", "note_words")
MATCHES = SQL("search @@ to_tsquery('simple'::regconfig, %(words)s)")
RECENT_WINDOW = 2000  # rows a text search reads in list order before it asks the word index


class PostgresIncidentSummaryView(PostgresFoldedView):
    recent_window = RECENT_WINDOW
    # A rebuild makes the list's indexes and the search column once, at the end: its writes look
    # rows up by incident id and sort key only (rebuild_postgres.defer_indexes).
    deferred_in_rebuild = ("incident_summaries",)

    tables = ("incident_summaries",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = SummaryFold(self, lambda moment: moment)
        self.table = self.t["incident_summaries"]
        self._delete_rows = SQL("DELETE FROM {0} WHERE incident_id = ANY(%s)").format(self.table)
        self._copy_rows = SQL("COPY {0} ({1}) FROM STDIN").format(self.table, SQL(", ").join(map(Identifier, ROW_COLUMNS)))
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

    def summary_row(self, incident_id: UUID) -> list[Any] | None:
        found = self._select(f"SELECT {', '.join(ROW_COLUMNS)} FROM {{incident_summaries}} WHERE incident_id = %s", (incident_id,))
        return [incident_id, *found[0][1:]] if found else None

    def sort_keys(self, base: int) -> set[int]:
        found = self._select("SELECT sort_key FROM {incident_summaries} WHERE sort_key >= %s AND sort_key < %s", (base, base + SORT_SLOTS))
        return {row[0] for row in found}

    def _write_folded(self, curs: Any) -> None:
        """The changed rows, deleted, then copied in (deleting first: a row may now have the
        sort key that another changed row had)."""
        rows = list(self.fold.drain())
        curs.execute(self._delete_rows, ([row[ID] for row in rows],))
        with curs.copy(self._copy_rows) as copy:
            for row in rows:
                copy.write_row(row)

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
