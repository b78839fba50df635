"""Incident summaries in SQLite. Search uses an FTS5 index (external content) whose rowid is the
row's sort key, with the list's filters as words of its `facets` column, so a search reads its
matches newest first from the index and stops at the end of the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from incidents.projections.sqlite import SQLiteFoldedView, in_sqlite

from . import LIST_INDEXES, ROW_COLUMNS, SUMMARIES_TABLE, SUMMARY_COLUMNS, WORDS, IncidentSummaryView, SummaryPage, SummaryQuery, page_of
from .fold import ID, SummaryFold

LIVE_HASH_SIZE = 1024 * 1024  # FTS5's default
REBUILD_HASH_SIZE = 64 * 1024 * 1024


SEARCHED = "{kind_words location_words clinician outcome_words response_words note_words}"
INDEXED = ", ".join(("facets", *WORDS))
# A write marks the incident's words stale; before the commit, the index forgets the words it
# was last told (incident_search_text, its external content) and learns the row's current ones:
# an incident is indexed once per batch, and FTS5 is never read while writing (a read flushes it).
_STALE = "incident_id IN (SELECT incident_id FROM incident_search_stale)"
REFRESH_STALE = [
    f"INSERT INTO incident_search (incident_search, rowid, {INDEXED}) "
    f"SELECT 'delete', sort_key, {INDEXED} FROM incident_search_text WHERE {_STALE}",
    f"DELETE FROM incident_search_text WHERE {_STALE}",
    f"INSERT INTO incident_search_text (sort_key, incident_id, {INDEXED}) "
    f"SELECT sort_key, incident_id, {INDEXED} FROM incident_summaries WHERE {_STALE}",
    f"INSERT INTO incident_search (rowid, {INDEXED}) SELECT sort_key, {INDEXED} FROM incident_search_text WHERE {_STALE}",
    "DELETE FROM incident_search_stale",
]
REPLACE_ROW = (
    f"INSERT OR REPLACE INTO incident_summaries ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' for _ in ROW_COLUMNS)})"
)


class SQLiteIncidentSummaryView(SQLiteFoldedView, IncidentSummaryView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = SummaryFold(self, self.stored)

    def _write_changes(self, c: Any) -> None:
        """The changed rows, each written whole (REPLACE may first delete a row whose sort key
        another row now has: that row moved, so it is among the changed rows, and is written
        again with its own new key); live, their search words are indexed again."""
        rows = [[str(row[ID]), *row[1:]] for row in self.fold.drain()]
        c.executemany(REPLACE_ROW, rows)
        if rows and not self.rebuilding:
            c.executemany("INSERT INTO incident_search_stale (incident_id) VALUES (?) ON CONFLICT DO NOTHING", [row[:1] for row in rows])
            for sql in REFRESH_STALE:
                c.execute(sql)

    def _drop_rows(self, c: Any, record_id: Any) -> None:
        """The search index forgets the record's words before its rows go."""
        found = (str(record_id),)
        c.execute(
            f"INSERT INTO incident_search (incident_search, rowid, {INDEXED}) "
            f"SELECT 'delete', sort_key, {INDEXED} FROM incident_search_text WHERE incident_id = ?", found,
        )
        c.execute("DELETE FROM incident_search_text WHERE incident_id = ?", found)
        c.execute("DELETE FROM incident_search_stale WHERE incident_id = ?", found)
        super()._drop_rows(c, record_id)

    def _erase_freed(self) -> None:
        """The index merged into one segment without the deleted words (FTS5 keeps them in its
        older segments until then), then the file rewritten."""
        if not self.datastore.pool.is_sqlite_memory_mode:
            with self.datastore.transaction(commit=True) as c:
                c.execute("INSERT INTO incident_search (incident_search) VALUES ('optimize')")
        super()._erase_freed()

    def start_rebuilding(self) -> SQLiteIncidentSummaryView:
        """The search index and the list's indexes are left alone until finish_rebuilding(),
        which builds them once from the finished rows (the same index the live writes leave:
        its content is exactly the rows' words)."""
        super().start_rebuilding()
        with self.datastore.transaction(commit=True) as c:
            for index in LIST_INDEXES:
                c.execute(f"DROP INDEX IF EXISTS {index}")
        return self

    def finish_rebuilding(self) -> None:
        self.flush()
        with self.datastore.transaction(commit=True) as c:
            for sql in self.create_table_statements:
                if sql.startswith("CREATE INDEX"):
                    c.execute(sql)
            # In key order, each row is appended to the table's b-tree rather than put in its middle.
            c.execute(
                f"INSERT INTO incident_search_text (sort_key, incident_id, {INDEXED}) "
                f"SELECT sort_key, incident_id, {INDEXED} FROM incident_summaries ORDER BY sort_key"
            )
            # A larger hash than FTS5's 1 MB lets the build write few segments and merge little.
            c.execute(f"INSERT INTO incident_search (incident_search, rank) VALUES ('hashsize', {REBUILD_HASH_SIZE})")
            c.execute("INSERT INTO incident_search (incident_search) VALUES ('rebuild')")
            c.execute(f"INSERT INTO incident_search (incident_search, rank) VALUES ('hashsize', {LIVE_HASH_SIZE})")

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            in_sqlite(SUMMARIES_TABLE.format(
                id="text", time="integer", key="integer",
                # The list's filters as words of their own column: a search needs no other lookup.
                generated="facets text GENERATED ALWAYS AS "
                "('p' || practice || ' k' || kind || ' s' || status || ' l' || replace(location, '_', '')) VIRTUAL",
            )),
            *(f"CREATE INDEX IF NOT EXISTS {name} ON incident_summaries ({columns})" for name, columns in LIST_INDEXES.items()),
            "CREATE TABLE IF NOT EXISTS incident_search_stale (incident_id TEXT PRIMARY KEY) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS incident_search_text (sort_key INTEGER PRIMARY KEY, "
            f"incident_id TEXT NOT NULL UNIQUE, {INDEXED.replace(',', ' TEXT NOT NULL,')} TEXT NOT NULL)",
            # The search index's rowid is the row's sort key: matches come out in list order.
            f"CREATE VIRTUAL TABLE IF NOT EXISTS incident_search USING fts5({INDEXED}, "
            "content='incident_search_text', content_rowid='sort_key', "
            "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4 5 6')",  # up to summaries.PREFIX_CHARS
        ]

    def search(self, query: SummaryQuery) -> SummaryPage:
        where, params = query.conditions(":{}")
        params = {name: self._stored_param(value) for name, value in params.items()}
        with self.datastore.transaction(commit=False) as c:
            if query.words:
                # Most files hold one practice: then its word, a part of every row, is left out
                # of the match (each match would have to be checked against it).
                c.execute(
                    "SELECT EXISTS (SELECT 1 FROM incident_summaries WHERE practice < :practice) "
                    "OR EXISTS (SELECT 1 FROM incident_summaries WHERE practice > :practice)",
                    params,
                )
                rows_sql, count_sql = self._text_search(query, params, only_practice=not c.fetchone()[0])
            else:
                condition = " AND ".join(where)
                rows_sql = f"SELECT {SUMMARY_COLUMNS}, sort_key FROM incident_summaries WHERE {condition} ORDER BY sort_key DESC LIMIT :limit OFFSET :offset"
                count_sql = f"SELECT count(*) FROM (SELECT 1 FROM incident_summaries WHERE {condition} LIMIT :cap)"
            c.execute(rows_sql, params)
            rows = [(self._summary(r[:-1]), r[-1]) for r in c.fetchall()]
            c.execute(count_sql, params)
            counted = c.fetchone()[0]
        return page_of(query, rows, counted)

    @classmethod
    def _stored_param(cls, value: Any) -> Any:
        """A time or a length of time as the view stores it (microseconds)."""
        if isinstance(value, timedelta):
            return value // timedelta(microseconds=1)
        return cls.stored(value) if isinstance(value, datetime) else value

    @staticmethod
    def _text_search(query: SummaryQuery, params: dict[str, Any], only_practice: bool) -> tuple[str, str]:
        # Every token is made of letters and digits only (summaries.search_words), so quoting it
        # as an FTS5 string is safe; the filters are tokens of their own column.
        # The filters as tokens of the index's `facets` column (a search needs no second lookup).
        facets = [] if only_practice else [f"p{query.practice}"]
        filters = (("k", query.kind), ("s", query.status), ("l", query.location))
        facets += [prefix + value.replace("_", "") for prefix, value in filters if value]
        terms = [f'{{facets}} : "{f}"' for f in facets] + [f'{SEARCHED} : "{w}" *' for w in query.prefixes]
        params["match"] = " AND ".join(terms)
        where = ["incident_search MATCH :match"]
        if "low" in params:
            where.append("rowid >= :low")
        if "high" in params:
            where.append("rowid < :high")
        if "before" in params:
            where.append("rowid < :before")
        if query.row_params:  # not among the index's words: the rows that pass them
            closed = " AND ".join(["practice = :practice", *query.row_conditions(":{}")])
            where.append(f"rowid IN (SELECT sort_key FROM incident_summaries WHERE {closed})")
        condition = " AND ".join(where)
        selected = ", ".join(f"s.{name}" for name in SUMMARY_COLUMNS.split(", "))
        # CROSS JOIN: SQLite then reads the page of matches first and looks up only their rows.
        return (
            f"SELECT {selected}, s.sort_key FROM (SELECT rowid AS k FROM incident_search WHERE {condition} "
            "ORDER BY rowid DESC LIMIT :limit OFFSET :offset) f "
            "CROSS JOIN incident_summaries s ON s.sort_key = f.k WHERE s.practice = :practice ORDER BY s.sort_key DESC",
            f"SELECT count(*) FROM (SELECT 1 FROM incident_search WHERE {condition} LIMIT :cap)",
        )

