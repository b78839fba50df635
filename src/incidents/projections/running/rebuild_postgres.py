"""Rebuilding views on PostgreSQL: each built by its own class in a scratch schema, then moved
into the live schema in one transaction (`ALTER TABLE ... SET SCHEMA`), so a reader sees the old
complete view or the new one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import psycopg
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from .locks import conninfo_from_env
from .side_by_side import side_by_side

if TYPE_CHECKING:
    from incidents.projections.catalogue import ProjectionSpec

SCRATCH_PREFIX = "rebuild_"


def scratch_schema(spec: ProjectionSpec) -> str:
    return (SCRATCH_PREFIX + spec.name)[:63]


def scratch_env(spec: ProjectionSpec) -> dict[str, str]:
    """The view's settings for its scratch schema (the library reads `<NAME>_POSTGRES_SCHEMA`)."""
    return {spec.env_key("POSTGRES_SCHEMA"): scratch_schema(spec), spec.env_key("CREATE_TABLE"): "y"}


def live_schema(spec: ProjectionSpec, app_env: dict[str, str]) -> str:
    return (Environment(spec.name, app_env).get("POSTGRES_SCHEMA") or "").strip() or "public"


def rebuild_aside(
    app_env: dict[str, str], specs: Sequence[ProjectionSpec], tasks: Sequence[Callable[[Any], int]],
    progress: Callable[[int, int], None], fence: Callable[[Any], None] | None = None,
) -> int:
    """Run the tasks that build the views in their scratch schemas (side by side), then swap
    every one in (in a transaction that first checks, with `fence`, that the lease is still ours)."""
    make_scratch(app_env, specs)
    admin = _connect(app_env)
    try:
        count = side_by_side(tasks, progress)[0]
        _swap_in(admin, app_env, specs, fence)
    except BaseException:
        for spec in specs:
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(scratch_schema(spec))))
        raise
    finally:
        admin.close()
    return count


def make_scratch(app_env: dict[str, str], specs: Sequence[ProjectionSpec]) -> None:
    """Empty scratch schemas for the views (an interrupted or failed build's are dropped)."""
    admin = _connect(app_env)
    try:
        for schema in (Identifier(scratch_schema(spec)) for spec in specs):
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(schema))
            admin.execute(SQL("CREATE SCHEMA {0}").format(schema))
    finally:
        admin.close()


def _swap_in(
    admin: psycopg.Connection[Any], app_env: dict[str, str], specs: Sequence[ProjectionSpec], fence: Callable[[Any], None] | None
) -> None:
    """In one transaction: drop each live table that was rebuilt, and move the rebuilt one in."""
    with admin.transaction():
        if fence is not None:
            fence(admin)
        for spec in specs:
            scratch, live = scratch_schema(spec), live_schema(spec, app_env)
            admin.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(live)))
            found = admin.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (scratch,))
            for (table,) in found.fetchall():
                admin.execute(SQL("DROP TABLE IF EXISTS {0}.{1} CASCADE").format(Identifier(live), Identifier(table)))
                admin.execute(SQL("ALTER TABLE {0}.{1} SET SCHEMA {2}").format(Identifier(scratch), Identifier(table), Identifier(live)))
            # Without CASCADE: anything the view made that is not a table (a type, a function)
            # would stop the swap here, whole, rather than be lost.
            admin.execute(SQL("DROP SCHEMA {0}").format(Identifier(scratch)))


def _connect(env: dict[str, str]) -> psycopg.Connection[Any]:
    # Without the lease's timeouts: making a large view's indexes takes longer.
    return psycopg.connect(**{**conninfo_from_env(env), "options": ""}, autocommit=True)
