"""Statements of a PostgreSQL view, each composed once with the view's table names."""

from __future__ import annotations

from psycopg.sql import SQL, Composable, Identifier


class TableStatements:
    """Mixed into a view whose statements name its tables as `{name}`, with `self.t` mapping each
    name to its Identifier (schema and table)."""

    t: dict[str, Identifier]

    def _composable(self, text: str) -> Composable:
        return SQL(text).format(**self.t)  # type: ignore[arg-type]

    def _sql(self, text: str) -> str:
        """The statement with this view's table names, composed once: composing it for every
        event cost more of a rebuild than the server's work (bench/README.md, session 6)."""
        composed: dict[str, str] = self.__dict__.setdefault("_composed", {})
        statement = composed.get(text)
        if statement is None:
            statement = composed[text] = self._composable(text).as_string()
        return statement
