"""The monthly report: counts from the figures view, a CSV with the same numbers, clear errors."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import csrf_from
from tests.web.test_reception_slice import log_filming

UK = ZoneInfo("Europe/London")


def test_this_months_report_counts_what_happened_and_matches_its_csv(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    log_filming(reception, area="waiting_area")
    closed = log_filming(reception, area="reception")
    page = manager.get(closed)
    assert manager.post(closed + "/close", data={"csrf_token": csrf_from(page.text), "outcome": "resolved_at_desk", "note": ""}).status_code == 303
    month = datetime.now(UK).strftime("%Y-%m")
    html = manager.get("/reports/monthly").text
    assert "2 incidents</a> happened in" in html
    assert "Waiting area" in html and "Reception desk" in html
    assert "Resolved at the desk" in html
    download = manager.get("/reports/monthly.csv", params={"month": month})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert f'filename="incidents-A81001-{month}.csv"' in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    by = {(r["table"], r["label"]): int(r["count"]) for r in rows}
    assert by[("kind", "Someone filmed in the practice")] == 2
    assert by[("location", "Waiting area")] == 1
    assert by[("outcome", "Resolved at the desk")] == 1
    assert by[("time_to_close", "Under 1 day")] == 1


def test_a_month_that_makes_no_sense_gets_a_clear_error(client_for):
    manager = client_for("mo.manager")
    for bad, message in [("2026-13", "for example 2026-03"), ("soon", "for example 2026-03"), ("2999-01", "this month or an earlier one")]:
        response = manager.get("/reports/monthly", params={"month": bad})
        assert response.status_code == 422 and message in response.text
        assert manager.get("/reports/monthly.csv", params={"month": bad}).status_code == 422


def test_an_empty_month_says_so_and_reception_cannot_see_reports(client_for):
    html = client_for("other.manager").get("/reports/monthly", params={"month": "2026-01"}).text
    assert "0 incidents</a> happened in January 2026" in html and "None this month" in html
    assert client_for("sue.reception").get("/reports/monthly").status_code == 403
