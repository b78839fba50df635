"""Statements of a PostgreSQL view, each composed once: composing them for every event cost more
of a rebuild than the server's work (bench/README.md, session 6)."""

from __future__ import annotations

from typing import Callable

from psycopg.sql import SQL, Composable, Identifier


class ComposedOnce:
    """Mixed into a view: each statement is composed the first time it is asked for by its key."""

    def _composed_once(self, key: str, compose: Callable[[], Composable]) -> str:
        composed: dict[str, str] = self.__dict__.setdefault("_composed", {})
        statement = composed.get(key)
        if statement is None:
            statement = composed[key] = compose().as_string()
        return statement


class TableStatements(ComposedOnce):
    """Mixed into a view whose statements name its tables as `{name}`, with `self.t` mapping each
    name to its Identifier (schema and table)."""

    t: dict[str, Identifier]

    def _composable(self, text: str) -> Composable:
        return SQL(text).format(**self.t)  # type: ignore[arg-type]

    def _sql(self, text: str) -> str:
        """The statement with this view's table names, composed once."""
        return self._composed_once(text, lambda: self._composable(text))
