"""The manager's dashboard: figures from the views, the action queue linking to incidents, the
trend chart as SVG with its table, and the polling endpoint that only answers when there is news."""

from __future__ import annotations

import re

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
