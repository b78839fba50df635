"""Rebuilding views on PostgreSQL: each built in a scratch schema, then moved into the live schema
in one transaction (`ALTER TABLE ... SET SCHEMA`), so a reader sees the old complete view or the new one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import psycopg
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from .locks import conninfo_from_env

if TYPE_CHECKING:
    from incidents.projections.catalogue import ProjectionSpec

SCRATCH_PREFIX = "rebuild_"


def scratch_schema(spec: ProjectionSpec) -> str:
    return (SCRATCH_PREFIX + spec.name)[:63]


def scratch_env(spec: ProjectionSpec) -> dict[str, str]:
    """The view's settings for its scratch schema (the library reads `<NAME>_POSTGRES_SCHEMA`)."""
    return {spec.env_key("POSTGRES_SCHEMA"): scratch_schema(spec), spec.env_key("CREATE_TABLE"): "y"}


def make_scratch(app_env: dict[str, str], specs: Sequence[ProjectionSpec], empty: bool = True) -> None:
    """Drop the views' scratch schemas (an interrupted or failed build's), and make them again empty."""
    with _connect(app_env) as admin:
        for schema in (Identifier(scratch_schema(spec)) for spec in specs):
            admin.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(schema))
            if empty:
                admin.execute(SQL("CREATE SCHEMA {0}").format(schema))


def swap_in(app_env: dict[str, str], specs: Sequence[ProjectionSpec], fence: Callable[[Any], None] | None) -> None:
    """In one transaction (that first checks with `fence` that the lease is still ours): drop each
    live table that was rebuilt, and move the rebuilt one in."""
    with _connect(app_env) as admin, admin.transaction():
        if fence is not None:
            fence(admin)
        for spec in specs:
            scratch = scratch_schema(spec)
            live = (Environment(spec.name, app_env).get("POSTGRES_SCHEMA") or "").strip() or "public"
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
