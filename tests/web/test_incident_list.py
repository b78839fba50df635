"""The incident list: filters in the address, active search returning the results block only,
pages, and clear errors for filters that make no sense."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.web.test_reception_slice import log_filming

UK = ZoneInfo("Europe/London")


def test_filters_and_search_narrow_the_list(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    waiting = log_filming(reception, area="waiting_area", note="Filmed the queue on a tablet")
    desk = log_filming(reception, area="reception", note="Phone held up at the desk")
    everything = manager.get("/incidents")
    assert everything.status_code == 200
    assert waiting in everything.text and desk in everything.text
    assert "2 incidents" in everything.text
    by_place = manager.get("/incidents", params={"location": "reception"}).text
    assert desk in by_place and waiting not in by_place
    searched = manager.get("/incidents", params={"q": "tabl"}).text  # a prefix, as typed
    assert waiting in searched and desk not in searched
    assert 'value="tabl"' in searched  # the search stays in the box
    closed = manager.get("/incidents", params={"status": "closed"}).text
    assert "No incidents match" in closed


def test_active_search_gets_the_results_block_only(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    waiting = log_filming(reception, note="Filmed the queue on a tablet")
    fragment = manager.get("/incidents", params={"q": "queue"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="results"')
    assert waiting in fragment.text


def test_pages_do_not_overlap_and_keep_the_filters(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    start = datetime.now(UK) - timedelta(hours=1)
    made = [
        log_filming(reception, occurred_time=(start + timedelta(minutes=i)).strftime("%H:%M"), occurred_date=start.strftime("%Y-%m-%d"))
        for i in range(27)
    ]
    first = manager.get("/incidents", params={"kind": "filming"}).text
    assert "page 1 of 2" in first
    assert 'href="/incidents?kind=filming&amp;page=2"' in first
    second = manager.get("/incidents", params={"kind": "filming", "page": "2"}).text
    on_first = {m for m in made if m in first}
    on_second = {m for m in made if m in second}
    assert len(on_first) == 25 and len(on_second) == 2 and not on_first & on_second


def test_nonsense_filters_get_a_clear_error_not_a_crash(client_for):
    manager = client_for("mo.manager")
    bad_date = manager.get("/incidents", params={"from": "2026-02-31"})
    assert bad_date.status_code == 422
    assert "Enter the first day as a real date" in bad_date.text
    backwards = manager.get("/incidents", params={"from": "2026-03-02", "to": "2026-03-01"})
    assert backwards.status_code == 422 and "same as or after the first day" in backwards.text
    unknown = manager.get("/incidents", params={"kind": "robbery"})
    assert unknown.status_code == 422 and "kind must be one of" in unknown.text
    odd = manager.get("/incidents", params={"q": '"); DROP TABLE x; -- ＊ 李雷'})
    assert odd.status_code == 200


def test_another_practice_and_reception_see_none_of_it(client_for):
    location = log_filming(client_for("sue.reception"), note="Filmed the queue")
    assert location not in client_for("other.manager").get("/incidents", params={"q": "queue"}).text
    assert client_for("sue.reception").get("/incidents").status_code == 403
