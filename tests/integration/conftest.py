"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from incidents.bootstrap import open_log
from incidents.settings import Settings


@pytest.fixture(params=["sqlite", "postgres"])
def opened(request, tmp_path):
    """An opened store, once on a SQLite file and once on a fresh PostgreSQL database (a test
    module may define its own `opened` instead)."""
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path)
    else:
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
    opened = open_log(settings)
    yield opened
    opened.log.close()
