"""Retention through HTTP: governance places and lifts a legal hold, and reviews a record whose
period has run (keep with a new review date, or dispose), without JavaScript (POST, 303, GET).
The hold shows on the record's own page, on the dashboard and in the review queue; a held record
cannot be decided for disposal (409, the page says why); bad forms come back (422) with the error
summary and what was typed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from incidents.application import commands as c
from incidents.application.records import uk_today
from incidents.domain.acting import recorded_as_of
from tests.conftest import csrf_from
from tests.web.conftest import PASSWORD
from tests.web.test_reception_slice import log_filming


def old_incident(web_app, years: int = 11) -> str:
    """A filming incident reported `years` years ago: its retention period has run."""
    log = web_app.state.log
    actor, _ = log.authenticate("sue.reception", PASSWORD)
    then = datetime.now(timezone.utc) - timedelta(days=365 * years + 10)
    with recorded_as_of(then + timedelta(minutes=5)):
        saved = log.report_filming(
            c.ReportFilming(submission_key=uuid.uuid4().hex, occurred_at=then, area="waiting_area", filmer="patient", people_captured="staff", children_present="no"),
            actor,
        )
    return str(saved.id)


def post(client, path: str, page: str, **data: str):
    return client.post(path, data={"csrf_token": csrf_from(client.get(page).text), **data})


def test_a_hold_shows_on_the_record_the_dashboard_and_the_queue_until_lifted(client_for):
    incident = log_filming(client_for("sue.reception")).rsplit("/", 1)[1]
    governance = client_for("gill.governance")
    page = f"/retention/{incident}"
    shown = governance.get(page)
    assert shown.status_code == 200 and "Place a legal hold" in shown.text and "Incident (not serious)" not in shown.text
    assert "kept at least 10 years from the incident" in shown.text

    placed = post(governance, f"{page}/hold", page, reason="claim", text="Letter of claim from Smith & Co, ref SC/1")
    assert placed.status_code == 303 and placed.headers["location"] == f"{page}?saved=held"
    assert "The legal hold is placed" in governance.get(placed.headers["location"]).text
    for who in ("sue.reception", "mo.manager", "gill.governance"):
        record = client_for(who).get(f"/incidents/{incident}").text
        assert "Under legal hold" in record and "Letter of claim from Smith &amp; Co, ref SC/1" in record
        assert ("Retention and legal hold" in record) == (who == "gill.governance")
    dashboard = client_for("mo.manager").get("/dashboard").text
    assert "Records under legal hold (1)" in dashboard and "A claim, since" in dashboard
    queue = governance.get("/retention").text
    assert "Under legal hold (1)" in queue and "No record is due for review" in queue

    lifted = post(governance, f"{page}/lift-hold", page, reason="The claim was withdrawn")
    assert lifted.status_code == 303
    assert "Under legal hold" not in client_for("mo.manager").get(f"/incidents/{incident}").text
    assert "Records under legal hold" not in client_for("mo.manager").get("/dashboard").text
    assert "Lifted: The claim was withdrawn" in governance.get(page).text


def test_a_due_record_is_reviewed_kept_or_disposed_of(web_app, client_for):
    kept, disposed = old_incident(web_app), old_incident(web_app)
    governance = client_for("gill.governance")
    queue = governance.get("/retention").text
    assert "Due for review (2)" in queue and f"/retention/{kept}" in queue and f"/retention/{disposed}" in queue
    assert f"/retention/{kept}" in governance.get("/dashboard").text  # in What needs someone, for governance
    assert f"/retention/{kept}" not in client_for("mo.manager").get("/dashboard").text

    review_on = (uk_today() + timedelta(days=400)).isoformat()
    done = post(governance, f"/retention/{kept}/keep", f"/retention/{kept}", review_on=review_on, reason="A complaint is expected")
    assert done.status_code == 303
    assert "kept until a review on" in governance.get(f"/retention/{kept}").text

    page = f"/retention/{disposed}"
    post(governance, f"{page}/hold", page, reason="police", text="Police request 4411")
    refused = post(governance, f"{page}/dispose", page, reason="Past its period", authorised_by="Dr Shah, Caldicott Guardian")
    assert refused.status_code == 409
    assert "There is a problem" in refused.text and "under legal hold for a police request: lift the hold" in refused.text
    post(governance, f"{page}/lift-hold", page, reason="Police closed the case")
    done = post(governance, f"{page}/dispose", page, reason="Past its period", authorised_by="Dr Shah, Caldicott Guardian")
    assert done.status_code == 303
    after = governance.get(page).text
    assert "Awaiting disposal" in after and "authorised by Dr Shah, Caldicott Guardian" in after
    assert "Disposal of this record is decided" in governance.get(f"/incidents/{disposed}").text
    assert "Due for review (0)" in governance.get("/retention").text


def test_bad_forms_come_back_with_the_error_summary(web_app, client_for):
    incident = old_incident(web_app)
    governance = client_for("gill.governance")
    page = f"/retention/{incident}"
    for path, data, message in [
        ("hold", {"reason": "", "text": ""}, "Choose the reason for the hold"),
        ("hold", {"reason": "claim", "text": "  "}, "Enter what the hold is for"),
        ("hold", {"reason": "rumour", "text": "x"}, "Choose the reason for the hold"),
        ("lift-hold", {"reason": ""}, "Enter the reason"),
        ("keep", {"review_on": "", "reason": "Still needed"}, "Enter the next review date"),
        ("keep", {"review_on": "2026-02-30", "reason": "Still needed"}, "Enter a real date"),
        ("keep", {"review_on": uk_today().isoformat(), "reason": "Still needed"}, "The next review date must be after today"),
        ("dispose", {"reason": "Past its period", "authorised_by": ""}, "Enter who authorised the disposal"),
    ]:
        response = post(governance, f"{page}/{path}", page, **data)
        assert response.status_code == 422, (path, data, response.status_code)
        assert "There is a problem" in response.text and message in response.text, (path, data)
    not_on_hold = post(governance, f"{page}/lift-hold", page, reason="Nothing to lift")
    assert not_on_hold.status_code == 409 and "not under legal hold" in not_on_hold.text
    typed = post(governance, f"{page}/dispose", page, reason="Past its period, no claim", authorised_by="")
    assert "Past its period, no claim" in typed.text  # what was typed comes back


def test_another_practice_and_other_roles_cannot_reach_it(web_app, client_for):
    incident = old_incident(web_app)
    assert client_for("mo.manager").get(f"/retention/{incident}").status_code == 403
    assert client_for("other.manager").get("/retention").status_code == 403
    web_app.state.log.register_account(
        c.RegisterAccount(username="olga.governance", display_name="Olga", practice="B82002", roles=("governance",), password=PASSWORD), actor="test"
    )
    assert client_for("olga.governance").get(f"/retention/{incident}").status_code == 404
