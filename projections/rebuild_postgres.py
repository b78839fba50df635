"""Rebuilding views on PostgreSQL: built in a schema of their own, then moved into place at once.

Each named view is constructed, by its own class, against a scratch schema (the library reads
`<NAME>_POSTGRES_SCHEMA`), so its tables, indexes and tracking table are made there by the same
statements as the live ones. One read of the notification log feeds every view; each view folds
a page of events in memory (its fold, see summary_fold.py) and then writes the rows the page
changed, in bulk (COPY), with the page's last tracking position, in one transaction. Readers see
the live tables throughout. At the end, one transaction drops the live tables and moves the rebuilt ones
into the live schema (`ALTER TABLE ... SET SCHEMA` carries their indexes and constraints), so a
reader sees either the old complete view or the new complete view.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Protocol

import psycopg
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from incidents.application.service import IncidentLog
from incidents.storage import Store

from .handlers import Handlers
from .layouts import store_layout
from .quarantine import BuildAgain, RebuildQuarantine
from .rebuild import READ_ONLY_LOG
from .side_by_side import side_by_side
from .stored_pages import pages_up_to

if TYPE_CHECKING:
    from .catalogue import ProjectionSpec

SCRATCH_PREFIX = "rebuild_"


class FoldingView(Protocol):
    """What a view rebuilt on PostgreSQL offers: the fold its projection writes to, and a flush
    that writes what the fold changed, with its tracking position, in one transaction."""

    def start_rebuilding(self) -> Any: ...

    def flush(self) -> None: ...


def scratch_schema(spec: ProjectionSpec) -> str:
    return (SCRATCH_PREFIX + spec.name)[:63]


def live_schema(spec: ProjectionSpec, app_env: dict[str, str]) -> str:
    return (Environment(spec.name, app_env).get("POSTGRES_SCHEMA") or "").strip() or "public"


def rebuild_postgres(
    store: Store, app_env: dict[str, str], groups: list[list[ProjectionSpec]], last: int,
    progress: Callable[[int, int], None], page_size: int, fence: Callable[[Any], None] | None = None,
) -> int:
    """Build each group of views in its scratch schemas (side by side), then swap every one in
    (in a transaction that first checks, with `fence`, that the projections lease is still ours)."""
    specs = [spec for group in groups for spec in group]
    admin = _connect(app_env)
    try:
        for spec in specs:
            scratch = Identifier(scratch_schema(spec))
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(scratch))  # an interrupted rebuild's
            admin.execute(SQL("CREATE SCHEMA {0}").format(scratch))
        count = side_by_side([partial(_build, app_env, group, last, page_size) for group in groups], progress)[0]
        _swap_in(admin, app_env, specs, fence)
    except BaseException:
        for spec in specs:
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(scratch_schema(spec))))
        raise
    finally:
        admin.close()
    return count


def _build(
    app_env: dict[str, str], specs: list[ProjectionSpec], last: int, page_size: int, progress: Callable[[int, int], None]
) -> int:
    """Build the views in their scratch schemas from the events up to `last`, on connections of
    its own; returns how many events were read. An event a view cannot write is set aside, and
    the views built again without it."""
    trouble = RebuildQuarantine()
    while True:
        try:
            return _build_once(app_env, specs, last, page_size, progress, trouble)
        except BuildAgain:
            admin = _connect(app_env)
            try:
                for spec in specs:
                    scratch = Identifier(scratch_schema(spec))
                    admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(scratch))
                    admin.execute(SQL("CREATE SCHEMA {0}").format(scratch))
            finally:
                admin.close()


def _build_once(
    app_env: dict[str, str], specs: list[ProjectionSpec], last: int, page_size: int, progress: Callable[[int, int], None],
    trouble: RebuildQuarantine,
) -> int:
    factories, projections, views, handlers = [], [], [], []
    one_connection = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}  # not the app's 8 each
    log = IncidentLog(env={**app_env, **one_connection, **READ_ONLY_LOG})
    admin = _connect(app_env)
    try:
        for spec in specs:
            env = {
                **app_env, **one_connection,
                spec.env_key("POSTGRES_SCHEMA"): scratch_schema(spec), spec.env_key("CREATE_TABLE"): "y",
            }
            factory = InfrastructureFactory.construct(Environment(spec.name, env))
            factories.append(factory)
            view: FoldingView = factory.tracking_recorder(spec.postgres_view)  # type: ignore[assignment]
            views.append(view)
            projections.append(spec.projection(view.start_rebuilding()))
            handlers.append(Handlers(projections[-1]))
        restore = [
            statement
            for spec in specs
            for table in getattr(spec.postgres_view, "deferred_in_rebuild", ())
            for statement in defer_indexes(admin, scratch_schema(spec), table)
        ]
        event_from, name, count = log.mapper.event_from, log.name, 0
        for page in pages_up_to(log.recorder, last, page_size):
            events = [(event_from(topic, originator_id, version, state), Tracking(name, notification_id))
                      for notification_id, originator_id, version, topic, state in page]
            # One view at a time: each folds the page in memory, then writes what it changed.
            first = page[0][0]
            careful = trouble.needs_care(first, page[-1][0])
            for spec, projection, view, handler in zip(specs, projections, views, handlers):
                if careful:
                    trouble.fold_page(spec.name, projection, handler.of, view, events)
                    continue
                try:
                    for event, tracking in events:
                        handler.of(type(event))(event, tracking)
                except Exception as error:
                    trouble.failed(spec.name, event, tracking, error)
                trouble.flush(spec.name, view, first)
            count += len(page)
            progress(page[-1][0], last)
        for statement in restore:
            admin.execute(statement)
        for spec, view in zip(specs, views):
            store_layout(view, spec.name, spec.layout)
            trouble.record(spec.name, view)
        return count
    finally:
        for factory in factories:
            factory.close()
        log.close()
        admin.close()


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


def _swap_in(
    admin: psycopg.Connection[Any], app_env: dict[str, str], specs: list[ProjectionSpec], fence: Callable[[Any], None] | None
) -> None:
    """In one transaction: drop each live table that was rebuilt, and move the rebuilt one in."""
    with admin.transaction():
        if fence is not None:
            fence(admin)
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
