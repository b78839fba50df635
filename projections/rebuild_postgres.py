"""Rebuilding views on PostgreSQL: built in a schema of their own, then moved into place at once.

Each named view is constructed, by its own class, against a scratch schema (the library reads
`<NAME>_POSTGRES_SCHEMA`), so its tables, indexes and tracking table are made there by the same
statements as the live ones. One read of the notification log feeds every view; the writes of a
page of events join one transaction per view, sent in psycopg's pipeline mode (no round trip per
statement), and the tracking position is written once at the page's end. Readers see the live
tables throughout. At the end, one transaction drops the live tables and moves the rebuilt ones
into the live schema (`ALTER TABLE ... SET SCHEMA` carries their indexes and constraints), so a
reader sees either the old complete view or the new complete view.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

import psycopg
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from incidents.application.service import IncidentLog
from incidents.storage import Store

from .handlers import Handlers
from .layouts import store_layout

if TYPE_CHECKING:
    from .catalogue import ProjectionSpec

SCRATCH_PREFIX = "rebuild_"
# A view sends the same few statements for every event: prepared at first use, each is parsed
# and planned by the server once per page rather than once per event.
PREPARE_AT_ONCE = 0


class PageWriting(PostgresTrackingRecorder):
    """Mixed into a view class for a rebuild: inside `page()`, every transaction the view opens
    joins the page's one transaction, and only the page's last tracking position is written."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.datastore = _JoinsPage(datastore)  # type: ignore[assignment]
        self._page_tracking: Tracking | None = None

    @contextmanager
    def page(self) -> Iterator[None]:
        joined: _JoinsPage = self.datastore  # type: ignore[assignment]
        try:
            with joined.real.get_connection() as connection, connection.transaction():
                threshold, connection.prepare_threshold = connection.prepare_threshold, PREPARE_AT_ONCE
                with connection.pipeline():
                    joined.cursor = connection.cursor()
                    joined.connection = connection
                    try:
                        yield
                    finally:
                        joined.cursor = joined.connection = None
                connection.prepare_threshold = threshold
                if self._page_tracking is not None:  # after the pipeline's results are in
                    super()._insert_tracking(connection.cursor(), self._page_tracking)
        finally:
            self._page_tracking = None

    def insert_tracking(self, tracking: Tracking) -> None:
        if self.datastore.cursor is None:  # type: ignore[attr-defined]
            super().insert_tracking(tracking)
        else:
            self._page_tracking = tracking

    def _insert_tracking(self, curs: Any, tracking: Tracking) -> None:
        if self.datastore.cursor is None:  # type: ignore[attr-defined]
            super()._insert_tracking(curs, tracking)
        else:
            self._page_tracking = tracking


class _JoinsPage:
    """The view's datastore, except that while a page is open its transactions are the page's."""

    def __init__(self, real: PostgresDatastore) -> None:
        self.real = real
        self.cursor: psycopg.Cursor[Any] | None = None
        self.connection: psycopg.Connection[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[Any]:
        if self.cursor is None:
            with self.real.transaction(commit=commit) as cursor:
                yield cursor
        else:
            yield self.cursor

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        if self.connection is None:
            with self.real.get_connection() as connection:
                yield connection
        else:
            yield self.connection


def page_writing(view_class: type[PostgresTrackingRecorder]) -> type[PostgresTrackingRecorder]:
    return type(f"PageWriting{view_class.__name__}", (PageWriting, view_class), {})


def scratch_schema(spec: ProjectionSpec) -> str:
    return (SCRATCH_PREFIX + spec.name)[:63]


def live_schema(spec: ProjectionSpec, app_env: dict[str, str]) -> str:
    return (Environment(spec.name, app_env).get("POSTGRES_SCHEMA") or "").strip() or "public"


def rebuild_postgres(
    store: Store, app_env: dict[str, str], specs: list[ProjectionSpec], progress: Callable[[int, int], None], page_size: int
) -> int:
    admin = _connect(app_env)
    try:
        for spec in specs:
            scratch = Identifier(scratch_schema(spec))
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(scratch))  # an interrupted rebuild's
            admin.execute(SQL("CREATE SCHEMA {0}").format(scratch))
        count = _build(app_env, specs, progress, page_size, admin)
        _swap_in(admin, app_env, specs)
    except BaseException:
        for spec in specs:
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(scratch_schema(spec))))
        raise
    finally:
        admin.close()
    return count


def _build(
    app_env: dict[str, str], specs: list[ProjectionSpec], progress: Callable[[int, int], None], page_size: int,
    admin: psycopg.Connection[Any],
) -> int:
    factories, projections, views, folds = [], [], [], []
    one_connection = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}  # not the app's 8 each
    log = IncidentLog(env={**app_env, **one_connection})
    try:
        for spec in specs:
            env = {
                **app_env, **one_connection,
                spec.env_key("POSTGRES_SCHEMA"): scratch_schema(spec), spec.env_key("CREATE_TABLE"): "y",
            }
            factory = InfrastructureFactory.construct(Environment(spec.name, env))
            factories.append(factory)
            view: PageWriting = factory.tracking_recorder(page_writing(spec.postgres_view))  # type: ignore[assignment]
            views.append(view)
            # A view that folds its rows in memory says so, and writes each page's in bulk.
            fold = view.start_rebuilding() if hasattr(view, "start_rebuilding") else None
            folds.append(fold)
            projections.append(spec.projection(fold or view))
        restore = [
            statement
            for spec in specs
            for table in getattr(spec.postgres_view, "deferred_in_rebuild", ())
            for statement in defer_indexes(admin, scratch_schema(spec), table)
        ]
        handlers = [Handlers(projection) for projection in projections]
        last = log.recorder.max_notification_id() or 0
        position, count = 0, 0
        while position < last:
            page = log.recorder.select_notifications(start=position, limit=page_size, stop=last, inclusive_of_start=False)
            if not page:
                break
            events = [(log.mapper.to_domain_event(n), Tracking(log.name, n.id)) for n in page]
            # One view at a time: a transaction never waits, idle, for another view's work.
            for view, handler, fold in zip(views, handlers, folds):
                if fold is not None:
                    for event, tracking in events:
                        handler.of(type(event))(event, tracking)
                    view.flush()  # type: ignore[attr-defined]
                    continue
                with view.page():
                    for event, tracking in events:
                        handler.of(type(event))(event, tracking)
            position = page[-1].id
            count += len(page)
            progress(position, last)
        for statement in restore:
            admin.execute(statement)
        for spec, view in zip(specs, views):
            store_layout(view, spec.name, spec.layout)
        return count
    finally:
        for factory in factories:
            factory.close()
        log.close()


def defer_indexes(connection: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    """Drop the table's indexes that back no constraint, and its generated columns at the end of
    the row, and return the statements that make them again, as they were. A view whose writes
    during a rebuild look nothing up through them (it names the table in `deferred_in_rebuild`)
    then updates each row without updating every index and recomputing every generated value
    each time; they are made once, from the finished rows, at the end."""
    relation = f"{_quoted(schema)}.{_quoted(table)}"
    generated = connection.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attgenerated = 's' AND NOT a.attisdropped "
        "AND a.attnum > (SELECT coalesce(max(attnum), 0) FROM pg_attribute "
        "                WHERE attrelid = %s::regclass AND attnum > 0 AND attgenerated = '' AND NOT attisdropped) "
        "ORDER BY a.attnum",
        (relation, relation),
    ).fetchall()
    indexes = connection.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indexrelid",
        (relation,),
    ).fetchall()
    with connection.transaction():
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        for column, _, _ in generated:
            connection.execute(f"ALTER TABLE {relation} DROP COLUMN {_quoted(column)}")
    return [
        *(f"ALTER TABLE {relation} ADD COLUMN {_quoted(c)} {kind} GENERATED ALWAYS AS ({expr}) STORED" for c, kind, expr in generated),
        *(definition for _, definition in indexes),
    ]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _swap_in(admin: psycopg.Connection[Any], app_env: dict[str, str], specs: list[ProjectionSpec]) -> None:
    """In one transaction: drop each live table that was rebuilt, and move the rebuilt one in."""
    with admin.transaction():
        for spec in specs:
            scratch, live = scratch_schema(spec), live_schema(spec, app_env)
            admin.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(live)))
            tables = [
                row[0]
                for row in admin.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (scratch,)
                ).fetchall()
            ]
            for table in tables:
                admin.execute(SQL("DROP TABLE IF EXISTS {0}.{1} CASCADE").format(Identifier(live), Identifier(table)))
                admin.execute(SQL("ALTER TABLE {0}.{1} SET SCHEMA {2}").format(Identifier(scratch), Identifier(table), Identifier(live)))
            # Without CASCADE: anything the view made that is not a table (a type, a function)
            # would stop the swap here, whole, rather than be lost.
            admin.execute(SQL("DROP SCHEMA {0}").format(Identifier(scratch)))


def _connect(env: dict[str, str]) -> psycopg.Connection[Any]:
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env.get("POSTGRES_HOST", "127.0.0.1"),
        port=env.get("POSTGRES_PORT", "5432"),
        user=env.get("POSTGRES_USER", "postgres"),
        password=env.get("POSTGRES_PASSWORD", ""),
        autocommit=True,
    )
