"""Which layout of its projection each view was built by, so that a view of another is rebuilt first."""

from __future__ import annotations

from typing import Any


def qualified(view: Any, table: str) -> str:
    """The table, quoted, in the view's schema on PostgreSQL."""
    schema = getattr(view.datastore, "schema", None)
    return f'"{schema}"."{table}"' if schema else f'"{table}"'


def stored_layout(view: Any, name: str, layout: int | None = None) -> int | None:
    """The layout the view was built by (None if it has none), once `layout` is stored if given."""
    table = qualified(view, f"{name}_layout")
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (layout INTEGER NOT NULL)")
        if layout is not None:
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(f"INSERT INTO {table} (layout) VALUES ({int(layout)})")
        cursor.execute(f"SELECT layout FROM {table}")
        row = cursor.fetchone()
    return None if row is None else int(row["layout"])


def is_stale(view: Any, name: str, layout: int, application_name: str) -> bool:
    """Whether the view must be rebuilt before its projection runs (one with no event yet is given this layout)."""
    stored = stored_layout(view, name)
    if stored is None and not view.max_tracking_id(application_name):
        stored = stored_layout(view, name, layout)
    return stored != layout
