"""Disposal on PostgreSQL: after it, no row of any table the app owns in the database (the events,
the record keys, every view's tables), read as text with its byte columns as hex, holds the
record's words, its NHS number in any format or its clinician's name; the other record's do."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from incidents.settings import Settings
from tests.conftest import wait_until
from tests.web.test_disposal import CLINICIAN, FORMS, NOTE, decide_disposal, old_recording, post

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", practice="A81001", projections="inline", database_url=postgres_url)


def every_row(url: str) -> str:
    """Every row of every table of the database, as text (a byte column as its hex)."""
    with psycopg.connect(url) as db:
        tables = [t for (t,) in db.execute("SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")]
        assert "public.record_keys" in tables and "public.incidents_events" in tables, tables
        return "\n".join(str(row[0]) for table in tables for row in db.execute(f"SELECT t::text FROM {table} t"))


def found(text: str, *words: str) -> list[str]:
    return [w for w in words if w in text or w.encode().hex() in text]


def test_a_disposed_record_leaves_nothing_readable_in_the_app_s_tables(web_app, client_for, settings):
    record = old_recording(web_app)
    old_recording(web_app, note="Kept record mentions Brobdingnagian teacups", clinician="Dr Kept Tennyson", nhs_number="4010232137")
    governance = client_for("gill.governance")
    assert f"/incidents/{record}" in governance.get("/incidents", params={"q": "Zorblaxian"}).text
    assert found(every_row(settings.database_url), "Quetzalcoatl")  # the views hold it: the test can find it
    wrapped = web_app.state.log.mapper.cipher.record_keys._backend.select(__import__("uuid").UUID(record))[1]
    assert wrapped.hex() in every_row(settings.database_url)

    decide_disposal(governance, record)
    assert post(governance, f"/retention/{record}/erase", f"/retention/{record}").status_code == 303
    assert governance.get(f"/incidents/{record}").status_code == 410
    wait_until(lambda: not found(every_row(settings.database_url), "Zorblaxian"), timeout=10)
    rows = every_row(settings.database_url)
    assert not found(rows, NOTE, "Zorblaxian", "hippogriff", CLINICIAN, "Quetzalcoatl", *FORMS)
    assert wrapped.hex() not in rows
    assert found(rows, "Dr Kept Tennyson", "Brobdingnagian") == ["Dr Kept Tennyson", "Brobdingnagian"]
