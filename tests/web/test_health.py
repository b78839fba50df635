"""/healthz tells a monitor when a projection running in the app has stopped on an error, since
the pages would otherwise go on showing views that no longer follow the store."""

from __future__ import annotations

import sqlite3
from uuid import UUID, uuid4

from eventsourcing.persistence import OperationalError, StoredEvent
from incidents.projections.running.runner import Projections
from tests.conftest import wait_until
from tests.web.conftest import PASSWORD
from tests.integration.test_quarantine import plant_report_in_year_one
from tests.web.test_reception_slice import filming_form


def test_healthz_is_ok_while_the_projections_run(client_for):
    response = client_for(None).get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_healthz_names_a_projection_that_stopped_on_an_error(web_app, client_for, caplog):
    summaries = web_app.state.projections.view("incident_summaries")

    def broken(*args, **kwargs):  # its database's failure, not the event's (which is set aside)
        raise OperationalError("the summaries view broke")

    summaries.fold.add = broken
    reception = client_for("sue.reception")
    form = reception.get("/incidents/new/filming")
    response = reception.post("/incidents/new/filming", data=filming_form(form.text))
    assert response.status_code == 303, response.text
    health = wait_until(lambda: (answer := reception.get("/healthz")).status_code == 503 and answer, timeout=10)
    assert health.json() == {"status": "views stopped"}  # the details are for a manager
    assert client_for("mo.manager").get("/healthz").json() == {"status": "views stopped", "views": ["incident_summaries"]}
    assert "The incident_summaries projection has stopped" in caplog.text
    assert "the summaries view broke" in caplog.text
    # The other views go on following the store.
    second = reception.post("/incidents/new/filming", data=filming_form(reception.get("/incidents/new/filming").text))
    assert second.status_code == 303, second.text
    latest = web_app.state.log.recorder.max_notification_id()
    projections = web_app.state.projections
    assert Projections(
        {name: view for name, view in projections.views.items() if name != "incident_summaries"}
    ).wait(latest, 10)
    assert projections.stopped() == ["incident_summaries"]


def test_a_view_that_skipped_an_event_is_degraded_and_the_manager_is_told_how_to_look(web_app, client_for):
    log = web_app.state.log
    manager = log.authenticate("mo.manager", PASSWORD)[0]
    plant_report_in_year_one(log, manager)  # a date the views' sort keys cannot hold
    reception = client_for("sue.reception")
    response = reception.post("/incidents/new/filming", data=filming_form(reception.get("/incidents/new/filming").text))
    assert response.status_code == 303, response.text
    assert web_app.state.projections.wait(log.recorder.max_notification_id(), 10)

    health = reception.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded"}  # the details are for a manager
    assert client_for("mo.manager").get("/healthz").json() == {
        # The action queue cannot date a year-one incident's retention review either.
        "status": "degraded", "skipped_events": {"incident_summaries": 1, "dashboard_figures": 1, "action_queue": 1},
        "see": "incidents projections quarantine",
    }
    dashboard = client_for("mo.manager").get("/dashboard")
    assert dashboard.status_code == 200
    assert "3 recorded changes were left out of the incident list, the dashboard figures and the action queue" in dashboard.text
    assert "incidents projections quarantine --retry" in dashboard.text
    assert "left out of" not in client_for("gill.governance").get("/dashboard").text
    # The incident reported after the bad one reached the list.
    incident_id = UUID(response.headers["location"].split("?")[0].rstrip("/").split("/")[-1])
    assert web_app.state.projections.summaries.get("A81001", incident_id) is not None


def test_a_record_that_cannot_be_read_says_so_and_the_manager_and_monitor_are_told(web_app, client_for, caplog):
    reception = client_for("sue.reception")
    response = reception.post("/incidents/new/filming", data=filming_form(reception.get("/incidents/new/filming").text))
    location = response.headers["location"].split("?")[0]
    incident_id = location.rsplit("/", 1)[1]
    assert reception.get(location).status_code == 200
    with sqlite3.connect(web_app.state.settings.data_dir / "incidents.sqlite") as db:  # one bit of its first event flipped
        (rowid, state), = db.execute("SELECT rowid, state FROM stored_events WHERE originator_id = ? AND originator_version = 1", (UUID(incident_id).hex,))
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state[:-1] + bytes([state[-1] ^ 1]), rowid))

    page = reception.get(location)
    assert page.status_code == 500
    assert "This record cannot be read" in page.text and "incidents verify-store" in page.text
    assert f"originator_id '{incident_id}'" in caplog.text
    assert client_for(None).get("/healthz").json() == {"status": "degraded"}
    health = client_for("mo.manager").get("/healthz").json()
    assert {k: health[k] for k in ("status", "unreadable_records", "check")} == {
        "status": "degraded", "unreadable_records": 1, "check": "incidents verify-store",
    }
    # A view that had not yet read the event when it was damaged sets it aside and says so too.
    assert set(health) <= {"status", "unreadable_records", "check", "skipped_events", "see"}
    assert all(count == 1 for count in health.get("skipped_events", {}).values())
    dashboard = client_for("mo.manager").get("/dashboard").text
    assert "1 stored record could not be read" in dashboard and "incidents verify-store" in dashboard


def test_an_event_the_views_could_not_read_is_shown_to_the_manager_though_nobody_opened_it(web_app, client_for):
    log = web_app.state.log
    topic = "incidents.domain.filming:FilmingIncident.Reported"
    damaged = log.recorder.insert_events([StoredEvent(uuid4(), 1, topic, b"not what was encrypted")])[-1]
    assert web_app.state.projections.wait(damaged, 10)
    dashboard = client_for("mo.manager").get("/dashboard").text
    assert "1 stored record could not be read" in dashboard and "incidents verify-store" in dashboard
    assert web_app.state.unreadable == {}  # nobody opened it: the views met it
