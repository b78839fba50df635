"""`incidents project` (the worker) when a projection fails: one line saying which and what to do,
and exit code 1, not a traceback."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from eventsourcing.persistence import OperationalError
from typer.testing import CliRunner

from incidents.application import commands as c
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from incidents.cli import app
from incidents.projections.summaries.fold import SummaryFold
from incidents.settings import Settings


def test_the_worker_names_the_projection_that_failed_and_exits_1(tmp_path, monkeypatch):
    opened = open_log(Settings(data_dir=tmp_path))
    actor = Actor(uuid.uuid4(), "sue.reception", "Sue", "A81001", ("reception",))
    opened.log.report(
        c.ReportFilming(
            submission_key=uuid.uuid4().hex, occurred_at=datetime.now(timezone.utc) - timedelta(minutes=5),
            area="waiting_area", filmer="patient", people_captured="staff_and_patients", children_present="no", note="",
        ),
        actor,
    )
    opened.log.close()

    def broken(*args, **kwargs):  # its database's failure, not the event's (which is set aside)
        raise OperationalError("the summaries view broke")

    monkeypatch.setattr(SummaryFold, "add", broken)
    result = CliRunner().invoke(app, ["project"], env={"INCIDENTS_DATA_DIR": str(tmp_path), "INCIDENTS_CHECKPOINT_SECONDS": "0"})
    assert result.exit_code == 1, result.output
    assert "Stopped: The incident_summaries projection has stopped" in result.output
    assert "Start the worker again" in result.output
    assert "Traceback" not in result.output
