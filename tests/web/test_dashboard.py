"""The manager's dashboard: figures from the views, the action queue linking to incidents, the
trend chart as SVG with its table, and the polling endpoint that only answers when there is news."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

from incidents.application import commands as c
from incidents.application.records import UK
from incidents.domain.values import months_before
from tests.conftest import csrf_from
from tests.web.conftest import PASSWORD
from tests.web.test_reception_slice import log_filming


def test_the_dashboard_shows_a_new_incident_in_its_cards_queue_and_list(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    location = log_filming(reception)
    page = manager.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'app-figure__value">1</span><span class="app-figure__label">open: someone filmed in the practice', html)
    # A new incident waits for a manager's review: it is in the queue, linked to the incident.
    assert f'href="{location}">' in html
    assert "Review" in html
    assert "<svg" in html and "Show the figures as a table" in html
    assert html.count(f'href="{location}"') == 2  # the queue and the recent incidents


def test_the_live_endpoint_answers_204_until_something_new_is_recorded(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    first = manager.get("/dashboard", headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert "<html" not in first.text  # the block, not the page
    since = int(re.search(r"/dashboard/live\?since=(\d+)", first.text).group(1))
    assert manager.get(f"/dashboard/live?since={since}", headers={"HX-Request": "true"}).status_code == 204
    location = log_filming(reception)
    news = manager.get(f"/dashboard/live?since={since}", headers={"HX-Request": "true"})
    assert news.status_code == 200
    assert f'href="{location}"' in news.text
    later = int(re.search(r"/dashboard/live\?since=(\d+)", news.text).group(1))
    assert later > since


def test_another_practice_sees_none_of_it(client_for):
    log_filming(client_for("sue.reception"))
    html = client_for("other.manager").get("/dashboard").text
    assert "No incidents in the last 30 days." in html
    assert 'app-figure__value">0</span><span class="app-figure__label">open: someone filmed' in html


def test_reception_has_no_dashboard(client_for):
    assert client_for("sue.reception").get("/dashboard").status_code == 403
    assert client_for("sue.reception").get("/dashboard/live?since=0").status_code == 403


def test_the_dashboard_polling_itself_does_not_keep_an_unattended_screen_signed_in(client_for, monkeypatch):
    import incidents.web.sessions as sessions

    start = sessions.time.time()
    manager, watched = client_for("mo.manager"), client_for("gill.governance")
    idle = 10 * 60  # the default idle timeout
    clock = {"now": start + 60}
    monkeypatch.setattr(sessions.time, "time", lambda: clock["now"])
    assert manager.get("/dashboard/live?since=999999").status_code == 204  # a poll, a minute in
    assert watched.get("/dashboard").status_code == 200  # a person looking, a minute in
    clock["now"] = start + idle + 30
    ended = manager.get("/dashboard/live?since=999999")
    assert ended.status_code == 303 and "reason=inactive" in ended.headers["location"]
    assert watched.get("/dashboard/live?since=999999").status_code == 204


def test_the_dashboard_warns_when_a_required_notice_is_not_in_force(client_for):
    html = client_for("mo.manager").get("/dashboard").text
    assert "No notice in force: Telephone call recording" in html
    assert "No notice in force: The policy on filming in the practice" in html
    assert '<a href="/notices">Publish a notice on Telephone message</a>.</p>' in html


def test_governance_sees_a_due_disclosure_request_in_the_queue_and_a_manager_does_not(client_for):
    from tests.web.test_disclosures_web import receive

    governance, manager = client_for("gill.governance"), client_for("mo.manager")
    location = receive(governance, received_on="2026-01-31")  # a subject access request, due 28 Feb 2026
    assert location.startswith("/disclosures/")
    html = governance.get("/dashboard").text
    queue = html[html.index('id="queue-heading"'):html.index("Recent incidents")]
    assert f'<a href="{location}">Respond to the disclosure request</a>' in queue
    assert "Request from Patient (subject access request), ref SAR/2026/7. Respond by 28 Feb 2026." in queue
    assert "Overdue" in queue
    assert re.search(r'app-figure__value">1</span><span class="app-figure__label">overdue action<', html)
    assert governance.get(location).status_code == 200  # the link opens for governance

    html = manager.get("/dashboard").text
    assert "/disclosures/" not in html and "Respond to the disclosure request" not in html
    assert re.search(r'app-figure__value">0</span><span class="app-figure__label">overdue actions<', html)
    assert manager.get(location).status_code == 403  # the request a link would lead to


def test_incidents_left_open_without_activity_need_someone_quietest_first(client_for, web_app, monkeypatch):
    import incidents.web.dashboard_routes as dashboard_routes

    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    first, second = log_filming(reception), log_filming(reception)
    for location in (second, first):  # reviewed: no review is due, and the first was touched last
        token = csrf_from(manager.get(location).text)
        assert manager.post(f"{location}/review", data={"csrf_token": token, "comment": "Seen"}).status_code == 303
    assert "Nothing needs doing." in manager.get("/dashboard").text

    class TwentyDaysOn(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=20)

    monkeypatch.setattr(dashboard_routes, "datetime", TwentyDaysOn)
    html = manager.get("/dashboard").text
    assert "Nothing needs doing." not in html
    assert html.count("Open with no activity for 20 days") == 2
    assert html.index(f'href="{second}">Open with no activity') < html.index(f'href="{first}">Open with no activity')

    # Closing one takes it off; a practice that waits 30 days before chasing sees neither yet.
    token = csrf_from(manager.get(first).text)
    assert manager.post(f"{first}/close", data={"csrf_token": token, "outcome": "no_further_action"}).status_code == 303
    html = manager.get("/dashboard").text
    assert f'href="{first}">Open with no activity' not in html and f'href="{second}">Open with no activity' in html
    monkeypatch.setattr(web_app.state, "settings", replace(web_app.state.settings, quiet_days=30))
    assert "Nothing needs doing." in manager.get("/dashboard").text


def test_each_warning_letter_in_force_is_listed_with_its_date_and_who_it_was_given_to(client_for, web_app):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    location = log_filming(reception, filmer="visitor")
    log = web_app.state.log
    actor = log.authenticate("mo.manager", PASSWORD)[0]
    incident_id = UUID(location.rsplit("/", 1)[1])
    sent = datetime.now(timezone.utc)
    saved = log.respond(c.RecordResponse(incident_id=incident_id, submission_key=uuid4().hex, response="WarningLetterSent", occurred_at=sent, reference="WL/7"), actor)
    assert web_app.state.projections.wait(saved.notification_id, timeout=10)
    html = manager.get("/dashboard").text
    day = sent.astimezone(UK)
    assert f'<a href="{location}">Warning letter sent {day:%d %b %Y}</a>' in html
    ends = months_before(sent, -12).astimezone(UK)
    assert f"Given to: a visitor, letter reference WL/7. Window ends on {ends:%d %b %Y}." in html
