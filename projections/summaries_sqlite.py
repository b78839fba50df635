"""Incident summaries in SQLite (the embedded default). Times are UTC microseconds.

Search uses an FTS5 index over the words the summary rows hold (external content: the text is
stored once, in incident_summaries). Its rowid is the row's sort key, and the list's filters are
words of its own `facets` column, so a search reads its matches newest first straight from the
index and stops at the end of the page, however many incidents match."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT, SQLiteDatastore, SQLiteTrackingRecorder

from .summaries import (
    SORT_SLOTS,
    TOTAL_CAP,
    IncidentSummaries,
    IncidentSummary,
    IncidentSummaryView,
    SummaryPage,
    SummaryQuery,
    joined,
    label_words,
    page_of,
    sort_base,
)
from .summary_fold import ID, ROW_COLUMNS, TIME_COLUMNS, SummaryFold

COLUMNS = (
    "incident_id, practice, kind, occurred_at, reported_at, location, status, last_response, "
    "last_response_at, responses, notes, corrections, reviewed_at, closed_at, outcome"
)
SELECTED = COLUMNS + ", clinician"


def to_micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    return int(value.timestamp() * 1_000_000)


def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1_000_000, tz=timezone.utc)


def sqlite_view_path(events_file: str) -> Path:
    """The view's own file, beside the event store's (a file per view: one tracking table each)."""
    return Path(events_file).parent / f"view-{IncidentSummaries.name}.sqlite"


def relax_durability(datastore: SQLiteDatastore) -> None:
    """Open the view's connections with ``PRAGMA synchronous=NORMAL``: in WAL mode a commit is no
    longer fsynced (the WAL is, at each checkpoint). A crash may lose the last few view commits,
    never corrupt the file, and each lost row goes with its tracking position (same file, same
    transaction), so the projection simply processes those events again on restart. The view is
    derived and rebuildable; the event store keeps the library's full durability. (Each
    connection also keeps its prepared statements: see _reopened.)"""
    pool = datastore.pool
    if pool.is_sqlite_memory_mode or getattr(pool, "_relaxed", False):
        return
    create_connection = pool._create_connection
    pool._create_connection = lambda: _reopened(pool, create_connection(), RELAXED_PRAGMAS)  # type: ignore[method-assign]
    pool._relaxed = True  # type: ignore[attr-defined]


RELAXED_PRAGMAS = ("PRAGMA synchronous=NORMAL",)
REBUILDING_PRAGMAS = ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144")
STATEMENTS_KEPT = 256
LIVE_HASH_SIZE = 1024 * 1024  # FTS5's default
REBUILD_HASH_SIZE = 64 * 1024 * 1024


def _reopened(pool: Any, connection: Any, pragmas: tuple[str, ...]) -> Any:
    """The pool's connection on a new SQLite connection that keeps its prepared statements: the
    library opens its own with `cached_statements=True`, a cache of one statement, so a batch that
    alternates between a few statements prepared each one again every time."""
    connection._sqlite_conn.close()  # first: leaving WAL mode needs the file to itself
    kept = sqlite3.connect(
        pool.db_name, uri=True, check_same_thread=False, isolation_level=None,
        cached_statements=STATEMENTS_KEPT, timeout=pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
    )
    kept.row_factory = sqlite3.Row
    for pragma in pragmas:
        kept.execute(pragma)
    connection._sqlite_conn = kept
    return connection


def write_without_journal(datastore: SQLiteDatastore) -> None:
    """For a rebuild's side file only (nobody reads it until it is complete, and a failed rebuild
    throws it away): no journal, no fsync, a 256 MB page cache. A rebuild uses one connection at
    a time: the pool's idle connection is the one changed; any new one is made the same way."""
    pool = datastore.pool
    if pool.is_sqlite_memory_mode:
        return
    create_connection = pool._create_connection
    pool._create_connection = lambda: _reopened(pool, create_connection(), REBUILDING_PRAGMAS)  # type: ignore[method-assign]
    with datastore.get_connection(commit=True) as connection:
        _reopened(pool, connection, REBUILDING_PRAGMAS)


def _search_facets(practice: str, kind: str | None, status: str | None, location: str | None) -> list[str]:
    """The filters as tokens of the index's `facets` column (a search needs no second lookup)."""
    facets = [f"p{practice}"]
    for prefix, value in (("k", kind), ("s", status), ("l", location)):
        if value:
            facets.append(prefix + value.replace("_", ""))
    return facets


# The next free slot of the incident's millisecond (see summaries.sort_base).
NEXT_KEY = (
    f"(SELECT COALESCE(MAX(sort_key) + 1, :base) FROM incident_summaries "
    f"WHERE sort_key >= :base AND sort_key < :base + {SORT_SLOTS})"
)
ADDED = (
    "incident_id", "practice", "kind", "occurred_at", "reported_at", "location", "status", "last_response",
    "last_response_at", "responses", "notes", "corrections", "reviewed_at", "closed_at", "outcome", "clinician",
    "kind_words", "location_words", "outcome_words", "note_words",
)
INSERT_SUMMARY = (
    f"INSERT INTO incident_summaries ({', '.join(ADDED)}, sort_key) "
    f"VALUES ({', '.join(':' + n for n in ADDED)}, {NEXT_KEY}) ON CONFLICT (incident_id) DO NOTHING"
)
SEARCHED = "{kind_words location_words clinician outcome_words response_words note_words}"
INDEXED = "facets, kind_words, location_words, clinician, outcome_words, response_words, note_words"
# A write marks the incident's search words stale; before the transaction commits, the index
# forgets the words it was last told for each stale incident (kept in incident_search_text, the
# index's external content) and learns the row's current words. So an incident touched by many
# events of one batch is indexed once, and FTS5 is never asked anything while writing (a read
# would make it flush its pending words to disk).
MARK_STALE = "INSERT INTO incident_search_stale (incident_id) VALUES (:incident_id) ON CONFLICT DO NOTHING"
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
Statement = tuple[str, dict[str, Any]]
REPLACE_ROW = (
    f"INSERT OR REPLACE INTO incident_summaries ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' for _ in ROW_COLUMNS)})"
)
LIST_INDEXES = (
    "incident_summaries_reported", "incident_summaries_by_time", "incident_summaries_by_kind",
    "incident_summaries_by_status", "incident_summaries_by_location", "incident_summaries_by_kind_status",
    "incident_summaries_by_location_status",
)


class SQLiteIncidentSummaryView(SQLiteTrackingRecorder, IncidentSummaryView):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        relax_durability(datastore)
        super().__init__(datastore, **kwargs)
        self._batch: list[tuple[str, dict[str, Any]]] | None = None
        self._batch_tracking: Tracking | None = None
        self._fold: SummaryFold | None = None

    def start_batching(self) -> None:
        """From now on, hold writes until flush(), which commits them in one transaction with
        the tracking position of the last event. Until then nothing of them is written, not even
        the tracking, so a crash before the flush means the events are processed again: still
        exactly once. The runner flushes whenever the subscription is about to read again."""
        self._batch = []

    def start_rebuilding(self) -> SummaryFold:
        """For a rebuild into a side file nobody reads until it is complete: the projection
        writes to the returned fold (every row in memory, see summary_fold.py), and each flush()
        writes the rows it changed, in bulk, with the tracking position of its last event. The
        search index and the list's indexes are left alone until finish_rebuilding(), which
        builds them once from the finished rows (the same index the writes would have left:
        its content is exactly the rows' words). Asked nothing in between, they need not exist."""
        self._fold = SummaryFold()
        write_without_journal(self.datastore)
        with self.datastore.transaction(commit=True) as c:
            for index in LIST_INDEXES:
                c.execute(f"DROP INDEX IF EXISTS {index}")
        return self._fold

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
            # FTS5 keeps the words it is given in memory and writes them out as a segment each
            # time they pass its hash size (1 MB), then merges those segments. With a larger hash
            # the build writes few segments and merges little: for 16,541 incidents, one segment
            # in 0.40 s instead of eight in 0.87 s (bench/README.md, session 8). Live writes keep
            # the default.
            c.execute(f"INSERT INTO incident_search (incident_search, rank) VALUES ('hashsize', {REBUILD_HASH_SIZE})")
            c.execute("INSERT INTO incident_search (incident_search) VALUES ('rebuild')")
            c.execute(f"INSERT INTO incident_search (incident_search, rank) VALUES ('hashsize', {LIVE_HASH_SIZE})")
        self._fold = None

    def flush(self) -> None:
        if self._fold is not None:
            self._write_folded(self._fold)
            return
        tracking = self._batch_tracking
        if self._batch is None or tracking is None:
            return
        self._commit(self._batch, tracking)
        self._batch = []
        self._batch_tracking = None

    def _write_folded(self, fold: SummaryFold) -> None:
        """The rows the fold changed since the last flush, each written whole, and its tracking.
        (REPLACE may first delete a row whose sort key another row now has: that row moved, so
        it is among the changed rows, and is written again with its own new key.)"""
        if fold.tracking is None:
            return
        rows = []
        for row in fold.drain():
            row = row.copy()
            row[ID] = str(row[ID])
            for column in TIME_COLUMNS:
                row[column] = to_micros(row[column])
            rows.append(row)
        with self.datastore.transaction(commit=True) as c:
            c.executemany(REPLACE_ROW, rows)
            self._insert_tracking(c, fold.tracking)
        fold.tracking = None

    def _commit(self, statements: list[Statement], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            for sql, params in statements:
                c.execute(sql, params)
            if any(sql == MARK_STALE for sql, _ in statements):
                for sql in REFRESH_STALE:
                    c.execute(sql)
            self._insert_tracking(c, tracking)

    def discard_held(self) -> None:
        """Forget the held writes (their transaction failed): the events are processed again."""
        if self._batch is not None:
            self._batch = []
        self._batch_tracking = None

    def insert_tracking(self, tracking: Tracking) -> None:
        if self._batch is not None:
            self._batch_tracking = tracking
            return
        super().insert_tracking(tracking)

    def create_table(self) -> None:
        """Create the tables; a view file of an older layout (no search words) is emptied first,
        tracking included, so the projection fills it again from the first event."""
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT name FROM pragma_table_info('incident_summaries')")
            columns = {row[0] for row in c.fetchall()}
            c.execute("SELECT count(*) FROM sqlite_schema WHERE name='incident_search_text'")
            if columns and ("note_words" not in columns or not c.fetchone()[0]):
                for table in ("incident_search", "incident_search_text", "incident_search_stale", "incident_summaries", "tracking"):
                    c.execute(f"DROP TABLE IF EXISTS {table}")
        super().create_table()

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

    def _write(self, statements: list[Statement], tracking: Tracking) -> None:
        if self._batch is not None:
            self._batch.extend(statements)
            self._batch_tracking = tracking
            return
        self._commit(statements, tracking)

    @staticmethod
    def _change(incident_id: UUID, assignments: str, indexed: bool, **params: Any) -> list[Statement]:
        """An update of the incident's row (assignments name columns, never values), which marks
        its search words stale when it changes them."""
        params["incident_id"] = str(incident_id)
        update = (f"UPDATE incident_summaries SET {assignments} WHERE incident_id=:incident_id", params)
        return [update, (MARK_STALE, params)] if indexed else [update]

    @staticmethod
    def _appending(column: str, words: str) -> str:
        return f", {column} = {column} || ' ' || :words" if words else ""

    def add(self, summary: IncidentSummary, note: str, tracking: Tracking) -> None:
        values = {
            "incident_id": str(summary.incident_id), "practice": summary.practice, "kind": summary.kind,
            "occurred_at": to_micros(summary.occurred_at), "reported_at": to_micros(summary.reported_at),
            "location": summary.location, "status": summary.status, "last_response": summary.last_response,
            "last_response_at": to_micros(summary.last_response_at), "responses": summary.responses,
            "notes": summary.notes, "corrections": summary.corrections, "reviewed_at": to_micros(summary.reviewed_at),
            "closed_at": to_micros(summary.closed_at), "outcome": summary.outcome, "clinician": summary.clinician,
            "kind_words": label_words(summary.kind), "location_words": label_words(summary.location),
            "outcome_words": label_words(summary.outcome), "note_words": note,
        }
        values["base"] = sort_base(summary.occurred_at)
        self._write([(INSERT_SUMMARY, values), (MARK_STALE, values)], tracking)

    def record_response(self, incident_id: UUID, name: str, at: datetime, words: str, tracking: Tracking) -> None:
        assignments = "last_response=:name, last_response_at=:at, responses=responses+1" + self._appending("response_words", words)
        self._write(self._change(incident_id, assignments, bool(words), name=name, at=to_micros(at), words=words), tracking)

    def add_note(self, incident_id: UUID, words: str, tracking: Tracking) -> None:
        self._write(self._change(incident_id, "notes=notes+1" + self._appending("note_words", words), bool(words), words=words), tracking)

    def correct(self, incident_id: UUID, column: str | None, value: Any, reason: str, tracking: Tracking) -> None:
        assignments = "corrections=corrections+1" + self._appending("note_words", reason)
        params: dict[str, Any] = {"words": reason, "value": value}
        if column == "occurred_at":
            assignments += f", occurred_at=:value, sort_key={NEXT_KEY}"
            params.update(value=to_micros(value), base=sort_base(value))
        elif column == "location":
            assignments += ", location=:value, location_words=:label"
            params["label"] = label_words(value)
        elif column == "clinician":
            assignments += ", clinician=:value"
        self._write(self._change(incident_id, assignments, bool(column or reason), **params), tracking)

    def mark_reviewed(self, incident_id: UUID, at: datetime, comment: str, tracking: Tracking) -> None:
        assignments = "reviewed_at=COALESCE(reviewed_at, :at)" + self._appending("note_words", comment)
        self._write(self._change(incident_id, assignments, bool(comment), at=to_micros(at), words=comment), tracking)

    def mark_closed(self, incident_id: UUID, outcome: str, at: datetime, note: str, tracking: Tracking) -> None:
        assignments = (
            "status='closed', outcome=:outcome, outcome_words=:label, closed_at=:at, "
            "reviewed_at=COALESCE(reviewed_at, :at)" + self._appending("note_words", note)
        )
        params = {"outcome": outcome, "label": label_words(outcome), "at": to_micros(at), "words": note}
        self._write(self._change(incident_id, assignments, True, **params), tracking)

    def mark_reopened(self, incident_id: UUID, reason: str, tracking: Tracking) -> None:
        assignments = "status='open', outcome='', outcome_words='', closed_at=NULL" + self._appending("note_words", reason)
        self._write(self._change(incident_id, assignments, True, words=reason), tracking)

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
        return IncidentSummary(
            incident_id=UUID(r["incident_id"]),
            practice=r["practice"],
            kind=r["kind"],
            occurred_at=from_micros(r["occurred_at"]),  # type: ignore[arg-type]
            reported_at=from_micros(r["reported_at"]),  # type: ignore[arg-type]
            location=r["location"],
            status=r["status"],
            last_response=r["last_response"],
            last_response_at=from_micros(r["last_response_at"]),
            responses=r["responses"],
            notes=r["notes"],
            corrections=r["corrections"],
            reviewed_at=from_micros(r["reviewed_at"]),
            closed_at=from_micros(r["closed_at"]),
            outcome=r["outcome"],
            clinician=r["clinician"],
        )
