"""`incidents projections quarantine` lists the events the views set aside, and `--retry`
applies them again (refused while the app runs, as a rebuild is)."""

from __future__ import annotations

import pytest

from incidents.bootstrap import open_log
from incidents.projections.running.runner import start_projections
from incidents.settings import Settings
from tests.e2e.test_projections_cli import holds_lock, run
from tests.integration.test_quarantine import plant_report_in_year_one
from tests.integration.test_summary_view_contract import actor_in, report

pytestmark = pytest.mark.slow


def test_quarantine_lists_the_events_set_aside_and_retry_says_what_still_fails(live_server_factory):
    server = live_server_factory()
    assert "No view has set aside any event" in run(server.env, "projections", "quarantine").stdout
    opened = open_log(Settings(data_dir=server.data_dir))
    try:
        manager = actor_in(opened.log, "A81001")
        _, planted = plant_report_in_year_one(opened.log, manager)
        report(opened.log, manager)
        projections = start_projections(opened.store, opened.env)
        try:
            assert projections.wait(opened.log.recorder.max_notification_id(), timeout=30)
        finally:
            projections.stop()
    finally:
        opened.log.close()

    listed = run(server.env, "projections", "quarantine")
    assert listed.returncode == 0, listed.stderr
    assert "incident_summaries" in listed.stdout and "dashboard_figures" in listed.stdout
    assert "OverflowError" in listed.stdout
    assert str(planted) in listed.stdout

    retried = run(server.env, "projections", "quarantine", "--retry")
    assert retried.returncode == 1, retried.stdout + retried.stderr
    assert "Retried 3 events: 0 applied, 3 still set aside." in retried.stdout  # the summaries, figures and action queue (its retention date)

    server.start()
    holds_lock(server.data_dir / "projections.lock", "the projections")
    refused = run(server.env, "projections", "quarantine", "--retry")
    assert refused.returncode == 2
    assert "Stop it first" in refused.stderr
