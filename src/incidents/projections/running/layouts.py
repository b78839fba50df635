"""Which layout of its projection each view was built by (`<name>_layout`, beside its tables), so
that a view of another layout is rebuilt before its projection runs (`runner.stale_views`)."""

from __future__ import annotations

from typing import Any


def qualified(view: Any, table: str) -> str:
    """The table, quoted, in the view's schema on PostgreSQL."""
    schema = getattr(view.datastore, "schema", None)
    return f'"{schema}"."{table}"' if schema else f'"{table}"'



def stored_layout(view: Any, name: str) -> int | None:
    """The layout the view was built by, or None if it has none."""
    table = qualified(view, f"{name}_layout")
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (layout INTEGER NOT NULL)")
        cursor.execute(f"SELECT layout FROM {table}")
        row = cursor.fetchone()
    return None if row is None else int(row["layout"])


def store_layout(view: Any, name: str, layout: int) -> None:
    table = qualified(view, f"{name}_layout")
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (layout INTEGER NOT NULL)")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"INSERT INTO {table} (layout) VALUES ({int(layout)})")


def is_stale(view: Any, name: str, layout: int, application_name: str) -> bool:
    """Whether the view must be rebuilt before its projection runs. A view that has processed no
    event yet is given the current layout here."""
    stored = stored_layout(view, name)
    if stored == layout:
        return False
    if stored is None and not view.max_tracking_id(application_name):
        store_layout(view, name, layout)
        return False
    return True
