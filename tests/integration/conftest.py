"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import psycopg
import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from incidents.bootstrap import open_log
from incidents.projections.catalogue import ProjectionSpec
from incidents.projections.running.runner import start_projections
from incidents.settings import Settings


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path) -> Settings:
    """Settings for a SQLite file, and for a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path)
    return Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))


@pytest.fixture
def opened(settings):
    """An opened store, on each database of `settings` (a test module may define its own `opened` instead)."""
    opened = open_log(settings)
    opened.settings = settings
    yield opened
    opened.log.close()


@pytest.fixture(params=["sqlite", "postgres"])
def new_view(request, tmp_path_factory) -> Iterator[Callable[[ProjectionSpec], Any]]:
    """Makes an empty view of a projection (its spec), through the library's factory: in a new
    SQLite file, or a new schema of one PostgreSQL database. `close_all()` closes those made."""
    made: list[Any] = []

    def sqlite(spec: ProjectionSpec) -> Any:
        path = tmp_path_factory.mktemp("view") / "view.sqlite"
        return made_view(spec, spec.sqlite_view, {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})

    def postgres(spec: ProjectionSpec) -> Any:
        url = urlparse(request.getfixturevalue("postgres_url"))
        schema = f"view_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url.geturl(), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "", "POSTGRES_PORT": str(url.port), "POSTGRES_USER": url.username or "",
            "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema, "POSTGRES_POOL_SIZE": "1",
        }
        return made_view(spec, spec.postgres_view, env)

    def made_view(spec: ProjectionSpec, view_class: type, env: dict[str, str]) -> Any:
        factory = InfrastructureFactory.construct(Environment(spec.name, {**env, "CREATE_TABLE": "y"}))
        made.append(factory)
        return factory.tracking_recorder(view_class)

    def close_all() -> None:
        while made:
            made.pop().close()

    maker = sqlite if request.param == "sqlite" else postgres
    maker.close_all = close_all  # type: ignore[attr-defined]
    yield maker
    close_all()


@pytest.fixture
def projections(opened):
    """Every projection run in this process on the `opened` store, stopped after the test."""
    running = start_projections(opened.store, opened.env)
    yield running
    running.stop()
