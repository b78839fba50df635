"""Incident summaries in PostgreSQL: search by a generated tsvector column (`simple`: no
stemming, every word a prefix as on SQLite) with a GIN index."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from psycopg.sql import SQL, Composable, Identifier

from incidents.projections.postgres import PostgresFoldedView

from . import (
    LIST_INDEXES, ROW_COLUMNS, SUMMARIES_TABLE, SUMMARY_COLUMNS, WORDS, IncidentSummary, IncidentSummaryView, SummaryPage,
    SummaryQuery, page_of,
)
from .fold import ID, SummaryFold

COLUMNS = SQL(SUMMARY_COLUMNS)
MATCHES = SQL("search @@ to_tsquery('simple'::regconfig, %(words)s)")
SEARCHED = " || ' ' || ".join(WORDS)
SEARCH_COLUMN = f"search tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {SEARCHED})) STORED"


class PostgresIncidentSummaryView(PostgresFoldedView, IncidentSummaryView):
    recent_window = 2000  # rows a text search reads in list order before it asks the word index
    tables = ("incident_summaries",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = SummaryFold(self, self.stored)
        self.table = self.t["incident_summaries"]
        self._delete_rows = SQL("DELETE FROM {0} WHERE incident_id = ANY(%s)").format(self.table)
        self._copy_rows = SQL("COPY {0} ({1}) FROM STDIN").format(self.table, SQL(", ").join(map(Identifier, ROW_COLUMNS)))
        self._indexes = [
            *(f"CREATE INDEX IF NOT EXISTS {name} ON {{incident_summaries}} ({columns})" for name, columns in LIST_INDEXES.items()),
            "CREATE INDEX IF NOT EXISTS incident_summaries_search ON {incident_summaries} USING gin (search)",
        ]
        self._create(SUMMARIES_TABLE.format(id="uuid", time="timestamptz", key="bigint", generated=SEARCH_COLUMN), *self._indexes)

    def start_rebuilding(self) -> PostgresIncidentSummaryView:
        """The list's indexes and the search column (with its index) are made once, at the end
        of a rebuild, from the finished rows: its writes look rows up by incident id only."""
        super().start_rebuilding()
        with self.datastore.transaction(commit=True) as curs:
            for name in LIST_INDEXES:
                curs.execute(SQL("DROP INDEX IF EXISTS {0}").format(Identifier(self.datastore.schema, name)))
            curs.execute(SQL("ALTER TABLE {0} DROP COLUMN IF EXISTS search").format(self.table))
        return self

    def finish_rebuilding(self) -> None:
        self.flush()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql("ALTER TABLE {incident_summaries} ADD COLUMN " + SEARCH_COLUMN))
            for statement in self._indexes:
                curs.execute(self._sql(statement))

    def _write_changes(self, curs: Any) -> None:
        """The changed rows, deleted, then copied in (deleting first: a row may now have the
        sort key that another changed row had)."""
        rows = list(self.fold.drain())
        curs.execute(self._delete_rows, ([row[ID] for row in rows],))
        with curs.copy(self._copy_rows) as copy:
            for row in rows:
                copy.write_row(row)

    def search(self, query: SummaryQuery) -> SummaryPage:
        where, params = query.conditions("%({})s")
        params["window"] = self.recent_window
        filtered = SQL(" AND ".join(where))
        if not query.words:
            return self._page(query, filtered, params)
        # Each word is letters and digits only (summaries.search_words): quoted, it is one
        # lexeme to the tsquery parser, and `:*` makes it match as a prefix.
        params["words"] = " & ".join(f"'{word}':*" for word in query.prefixes)
        return self._text_page(query, filtered, params)

    def _page(self, query: SummaryQuery, condition: Composable, params: dict[str, Any], forced: bool = False) -> SummaryPage:
        """Both statements in one round trip, outside a transaction unless `forced` through the
        word index (GIN), which the planner cannot tell is the cheaper way."""
        with self.datastore.get_connection() as connection:
            with connection.pipeline(), connection.transaction(force_rollback=True) if forced else nullcontext():
                if forced:
                    connection.execute("SET LOCAL enable_indexscan = off")
                    connection.execute("SET LOCAL enable_seqscan = off")
                listed = connection.execute(self._rows_sql(self.table, condition), params)
                counted = connection.execute(
                    SQL("SELECT count(*) AS n FROM (SELECT 1 FROM {0} WHERE {1} LIMIT %(cap)s) AS capped").format(self.table, condition),
                    params,
                )
                rows = [self._keyed(row) for row in listed.fetchall()]
                total = counted.fetchone()["n"]  # type: ignore[index]
        return page_of(query, rows, total)

    def _text_page(self, query: SummaryQuery, filtered: Composable, params: dict[str, Any]) -> SummaryPage:
        """A word used often is found among the newest rows (the `recent` window, in list order),
        counted as a lower bound; a word used rarely is not, and the word index is then forced."""
        recent = SQL("(SELECT {1}, sort_key, search FROM {0} WHERE {2} ORDER BY sort_key DESC LIMIT %(window)s) AS recent").format(
            self.table, COLUMNS, filtered
        )
        with self.datastore.get_connection() as connection:
            with connection.pipeline():
                listed = connection.execute(self._rows_sql(recent, MATCHES), params)
                seen = connection.execute(
                    SQL("SELECT count(*) AS scanned, count(*) FILTER (WHERE {1}) AS found FROM {0}").format(recent, MATCHES),
                    params,
                )
            rows = [self._keyed(row) for row in listed.fetchall()]
            window = seen.fetchone()
        assert window is not None
        every_row_seen = window["scanned"] < self.recent_window
        if every_row_seen or window["found"] >= query.offset + query.page_size + 1:
            # The page is right; counting every match would cost as much as the whole list.
            return page_of(query, rows, window["found"], at_least=not every_row_seen)
        return self._page(query, SQL("{0} AND {1}").format(filtered, MATCHES), params, forced=True)

    @staticmethod
    def _keyed(row: dict[str, Any]) -> tuple[IncidentSummary, int]:
        key = row.pop("sort_key")
        return IncidentSummary(**row), key

    @staticmethod
    def _rows_sql(source: Composable, condition: Composable) -> Composable:
        return SQL("SELECT {1}, sort_key FROM {0} WHERE {2} ORDER BY sort_key DESC LIMIT %(limit)s OFFSET %(offset)s").format(
            source, COLUMNS, condition
        )
