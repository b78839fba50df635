"""Incident summaries in SQLite (the embedded default). Times are UTC microseconds.

Search uses an FTS5 index over the words the summary rows hold (external content: the text is
stored once, in incident_summaries). Its rowid is the row's sort key, and the list's filters are
words of its own `facets` column, so a search reads its matches newest first straight from the
index and stops at the end of the page, however many incidents match."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from incidents.projections.sqlite import SQLiteFoldedView, from_micros, to_micros

from . import SORT_SLOTS, TOTAL_CAP, IncidentSummary, SummaryPage, SummaryQuery, joined, page_of, sort_base
from .fold import ID, ROW_COLUMNS, SummaryFold

SELECTED = (
    "incident_id, practice, kind, occurred_at, reported_at, location, status, last_response, "
    "last_response_at, responses, notes, corrections, reviewed_at, closed_at, outcome, clinician"
)
TIMES = ("occurred_at", "reported_at", "last_response_at", "reviewed_at", "closed_at")
LIVE_HASH_SIZE = 1024 * 1024  # FTS5's default
REBUILD_HASH_SIZE = 64 * 1024 * 1024


def _search_facets(practice: str, kind: str | None, status: str | None, location: str | None) -> list[str]:
    """The filters as tokens of the index's `facets` column (a search needs no second lookup)."""
    facets = [f"p{practice}"]
    for prefix, value in (("k", kind), ("s", status), ("l", location)):
        if value:
            facets.append(prefix + value.replace("_", ""))
    return facets


SEARCHED = "{kind_words location_words clinician outcome_words response_words note_words}"
INDEXED = "facets, kind_words, location_words, clinician, outcome_words, response_words, note_words"
# A write marks the incident's search words stale; before the transaction commits, the index
# forgets the words it was last told for each stale incident (kept in incident_search_text, the
# index's external content) and learns the row's current words. So an incident touched by many
# events of one batch is indexed once, and FTS5 is never asked anything while writing (a read
# would make it flush its pending words to disk).
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
LIST_INDEXES = (
    "incident_summaries_reported", "incident_summaries_by_time", "incident_summaries_by_kind",
    "incident_summaries_by_status", "incident_summaries_by_location", "incident_summaries_by_kind_status",
    "incident_summaries_by_location_status",
)


class SQLiteIncidentSummaryView(SQLiteFoldedView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fold = SummaryFold(self, to_micros)

    def summary_row(self, incident_id: UUID) -> list[Any] | None:
        found = self._load(f"SELECT {', '.join(ROW_COLUMNS)} FROM incident_summaries WHERE incident_id = ?", (str(incident_id),))
        return [incident_id, *found[0][1:]] if found else None

    def sort_keys(self, base: int) -> set[int]:
        rows = self._load("SELECT sort_key FROM incident_summaries WHERE sort_key >= ? AND sort_key < ?", (base, base + SORT_SLOTS))
        return {row[0] for row in rows}

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
        by = "ON incident_summaries (practice, {0}sort_key)"
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS incident_summaries ("
            "incident_id TEXT PRIMARY KEY, practice TEXT NOT NULL, kind TEXT NOT NULL, "
            "occurred_at INTEGER NOT NULL, reported_at INTEGER NOT NULL, location TEXT NOT NULL, "
            "status TEXT NOT NULL, last_response TEXT NOT NULL DEFAULT '', last_response_at INTEGER, "
            "responses INTEGER NOT NULL DEFAULT 0, notes INTEGER NOT NULL DEFAULT 0, "
            "corrections INTEGER NOT NULL DEFAULT 0, reviewed_at INTEGER, closed_at INTEGER, "
            "outcome TEXT NOT NULL DEFAULT '', clinician TEXT NOT NULL DEFAULT '', "
            "sort_key INTEGER NOT NULL UNIQUE, "
            "kind_words TEXT NOT NULL DEFAULT '', location_words TEXT NOT NULL DEFAULT '', "
            "outcome_words TEXT NOT NULL DEFAULT '', response_words TEXT NOT NULL DEFAULT '', "
            "note_words TEXT NOT NULL DEFAULT '', "
            # The list's filters as words of their own column: a search needs no other lookup.
            "facets TEXT GENERATED ALWAYS AS "
            "('p' || practice || ' k' || kind || ' s' || status || ' l' || replace(location, '_', '')) VIRTUAL)",
            "CREATE INDEX IF NOT EXISTS incident_summaries_reported ON incident_summaries (practice, reported_at)",
            # One index per combination of filters, each ending in the order of the list, so a
            # page is read from the index in order and the reading stops at the page's end.
            # (A location belongs to one kind, so kind and location together need no index.)
            "CREATE INDEX IF NOT EXISTS incident_summaries_by_time " + by.format(""),
            "CREATE INDEX IF NOT EXISTS incident_summaries_by_kind " + by.format("kind, "),
            "CREATE INDEX IF NOT EXISTS incident_summaries_by_status " + by.format("status, "),
            "CREATE INDEX IF NOT EXISTS incident_summaries_by_location " + by.format("location, "),
            "CREATE INDEX IF NOT EXISTS incident_summaries_by_kind_status " + by.format("kind, status, "),
            "CREATE INDEX IF NOT EXISTS incident_summaries_by_location_status " + by.format("location, status, "),
            "CREATE TABLE IF NOT EXISTS incident_search_stale (incident_id TEXT PRIMARY KEY) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS incident_search_text (sort_key INTEGER PRIMARY KEY, "
            f"incident_id TEXT NOT NULL UNIQUE, {INDEXED.replace(',', ' TEXT NOT NULL,')} TEXT NOT NULL)",
            # The search index's rowid is the row's sort key: matches come out in list order.
            f"CREATE VIRTUAL TABLE IF NOT EXISTS incident_search USING fts5({INDEXED}, "
            "content='incident_search_text', content_rowid='sort_key', "
            "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4 5 6')",  # up to summaries.PREFIX_CHARS
        ]

    def reported_between(self, practice: str, start: datetime, end: datetime, limit: int = 100) -> list[IncidentSummary]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {SELECTED} FROM incident_summaries WHERE practice=? AND reported_at>=? AND reported_at<? "
                "ORDER BY reported_at DESC LIMIT ?",
                (practice, to_micros(start), to_micros(end), limit),
            )
            return [self._row(r) for r in c.fetchall()]

    def get(self, practice: str, incident_id: UUID) -> IncidentSummary | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {SELECTED} FROM incident_summaries WHERE practice=? AND incident_id=?",
                (practice, str(incident_id)),
            )
            row = c.fetchone()
            return self._row(row) if row else None

    def search(self, query: SummaryQuery) -> SummaryPage:
        params: dict[str, Any] = {
            "practice": query.practice, "limit": query.page_size + 1, "offset": query.offset, "cap": TOTAL_CAP + 1,
        }
        if query.start is not None:
            params["low"] = sort_base(query.start)
        if query.end is not None:
            params["high"] = sort_base(query.end)
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
                rows_sql, count_sql = self._filtered(query, params)
            c.execute(rows_sql, params)
            rows = [self._row(r) for r in c.fetchall()]
            c.execute(count_sql, params)
            counted = c.fetchone()[0]
        return page_of(query, rows, counted)

    @staticmethod
    def _filtered(query: SummaryQuery, params: dict[str, Any]) -> tuple[str, str]:
        where = ["practice=:practice"]
        for name in ("kind", "status", "location"):
            value = getattr(query, name)
            if value is not None:
                params[name] = value
                where.append(f"{name}=:{name}")
        if "low" in params:
            where.append("sort_key >= :low")
        if "high" in params:
            where.append("sort_key < :high")
        condition = " AND ".join(where)
        return (
            f"SELECT {SELECTED} FROM incident_summaries WHERE {condition} ORDER BY sort_key DESC LIMIT :limit OFFSET :offset",
            f"SELECT count(*) FROM (SELECT 1 FROM incident_summaries WHERE {condition} LIMIT :cap)",
        )

    @staticmethod
    def _text_search(query: SummaryQuery, params: dict[str, Any], only_practice: bool) -> tuple[str, str]:
        # Every token is made of letters and digits only (summaries.search_words), so quoting it
        # as an FTS5 string is safe; the filters are tokens of their own column.
        facets = _search_facets(query.practice, query.kind, query.status, query.location)
        if only_practice:
            facets = facets[1:]
        terms = [f'{{facets}} : "{f}"' for f in facets] + [f'{SEARCHED} : "{w}" *' for w in query.prefixes]
        params["match"] = " AND ".join(terms)
        where = ["incident_search MATCH :match"]
        if "low" in params:
            where.append("rowid >= :low")
        if "high" in params:
            where.append("rowid < :high")
        condition = " AND ".join(where)
        selected = ", ".join(f"s.{name}" for name in SELECTED.split(", "))
        # CROSS JOIN: SQLite then reads the page of matches first and looks up only their rows.
        return (
            f"SELECT {selected} FROM (SELECT rowid AS k FROM incident_search WHERE {condition} "
            "ORDER BY rowid DESC LIMIT :limit OFFSET :offset) f "
            "CROSS JOIN incident_summaries s ON s.sort_key = f.k WHERE s.practice = :practice ORDER BY s.sort_key DESC",
            f"SELECT count(*) FROM (SELECT 1 FROM incident_search WHERE {condition} LIMIT :cap)",
        )

    def indexed_text(self, practice: str, incident_id: UUID) -> str | None:
        words = INDEXED.removeprefix("facets, ")
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {words} FROM incident_summaries WHERE practice=? AND incident_id=?", (practice, str(incident_id)))
            row = c.fetchone()
            return joined(*(" ".join(str(row[i]).split()) for i in range(6))) if row else None

    @staticmethod
    def _row(r: Any) -> IncidentSummary:
        row = dict(zip(r.keys(), r))
        for name in TIMES:
            row[name] = from_micros(row[name])
        return IncidentSummary(**{**row, "incident_id": UUID(row["incident_id"])})
