"""Lists leave the app: the incident list as CSV with its filters, and the monthly report's
counts each leading to the list of the incidents behind them."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from incidents.application import commands as c
from incidents.domain.acting import recorded_as_of
from tests.web.conftest import PASSWORD

HEADING = re.compile(r'id="results-heading"[^>]*>([\d,]+)(?: or more)? incidents?')
REPORT_LINK = re.compile(r'<a href="(/incidents\?[^"]+)">(\d+)')


def filming(occurred_at: datetime, area: str = "waiting_area") -> c.ReportFilming:
    return c.ReportFilming(
        submission_key=uuid.uuid4().hex, occurred_at=occurred_at, area=area, filmer="patient",
        people_captured="staff", children_present="no", note="",
    )  # fmt: skip


def recording(occurred_at: datetime, clinician: str, setting: str = "consulting_room") -> c.ReportRecording:
    return c.ReportRecording(
        submission_key=uuid.uuid4().hex, occurred_at=occurred_at, clinician=clinician, setting=setting,
        openness="announced", media="audio", nhs_number="", note="",
    )  # fmt: skip


def rows_of(download) -> list[dict[str, str]]:
    assert download.content.startswith("\ufeff".encode())  # spreadsheets then read names in UTF-8
    return list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))


def listed(client, link: str) -> int:
    page = client.get(html.unescape(link))
    assert page.status_code == 200, page.text
    found = HEADING.search(page.text)
    assert found, page.text
    return int(found.group(1).replace(",", ""))


def test_the_list_downloads_as_csv_with_its_filters_and_no_formulas(web_app, client_for):
    log = web_app.state.log
    reception, _ = log.authenticate("sue.reception", PASSWORD)
    now = datetime.now(timezone.utc)
    log.report_filming(filming(now - timedelta(hours=2), area="reception"), reception)
    for i, name in enumerate(["=HYPERLINK(\"http://x\",\"y\")", "+Dr Plus", "-Dr Minus", "@Dr At", "=cmd|' /C calc'!A0", "Dr Zoë Adams"]):
        log.report_recording(recording(now - timedelta(hours=3 + i), name), reception)
    manager = client_for("mo.manager")

    page = manager.get("/incidents", params={"kind": "recording"})
    assert 'href="/incidents.csv?kind=recording"' in page.text and "Print this page" in page.text
    download = manager.get("/incidents.csv", params={"kind": "recording"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith('attachment; filename="incidents-A81001-')
    assert download.headers["cache-control"] == "no-store"
    rows = rows_of(download)
    assert list(rows[0]) == [
        "reference", "incident_id", "kind", "occurred_at", "recorded_at", "where", "status", "last_response", "responses", "notes",
        "corrections", "reviewed_at", "closed_at", "outcome", "clinician",
    ]  # fmt: skip
    assert len(rows) == 6 and {r["kind"] for r in rows} == {"A patient recorded a consultation"}
    clinicians = [r["clinician"] for r in rows]  # newest first, as the list
    assert clinicians[:5] == ["'=HYPERLINK(\"http://x\",\"y\")", "'+Dr Plus", "'-Dr Minus", "'@Dr At", "'=cmd|' /C calc'!A0"]
    assert clinicians[5] == "Dr Zoë Adams"
    assert rows[0]["where"] == "Consulting room" and rows[0]["status"] == "open"

    assert [r["kind"] for r in rows_of(manager.get("/incidents.csv", params={"location": "reception"}))] == ["Someone filmed in the practice"]
    assert len(rows_of(manager.get("/incidents.csv", params={"q": "plus"}))) == 1
    assert len(rows_of(client_for("other.manager").get("/incidents.csv"))) == 0  # another practice's list
    assert client_for("sue.reception").get("/incidents.csv").status_code == 403


def test_a_long_list_comes_whole_in_the_csv(web_app, client_for):
    log = web_app.state.log
    reception, _ = log.authenticate("sue.reception", PASSWORD)
    now = datetime.now(timezone.utc)
    for i in range(230):  # more than two of the view's pages
        log.report_filming(filming(now - timedelta(minutes=10 + i)), reception)
    rows = rows_of(client_for("mo.manager").get("/incidents.csv"))
    assert len(rows) == 230 == len({r["incident_id"] for r in rows})
    assert [r["occurred_at"] for r in rows] == sorted((r["occurred_at"] for r in rows), reverse=True)


def test_a_csv_asked_with_a_wrong_filter_says_what_is_wrong(client_for):
    response = client_for("mo.manager").get("/incidents.csv", params={"from": "2026-03-10", "to": "2026-03-01"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "There is a problem" in response.text and "The last day must be the same as or after the first day" in response.text
    assert client_for("mo.manager").get("/incidents", params={"took": "9"}).status_code == 422


@pytest.fixture
def march(web_app):
    """Incidents of March 2026, recorded when they happened and closed days to weeks later."""
    log = web_app.state.log
    reception, _ = log.authenticate("sue.reception", PASSWORD)
    manager, _ = log.authenticate("mo.manager", PASSWORD)
    start = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    plan = [  # (day of March, filming area or recording setting, close after days, outcome)
        (0, "reception", 0.2, "resolved_at_desk"), (1, "waiting_area", 3, "no_further_action"),
        (2, "waiting_area", 10, "warning_letter"), (3, "entrance", None, None), (4, "waiting_area", 45, "no_further_action"),
        (5, "telephone", 1.5, "no_further_action"), (6, "consulting_room", 20, "copy_added_to_record"),
        (26, "consulting_room", 2, "no_further_action"), (29, "video", None, None),
    ]  # fmt: skip
    for day, where, close_after, outcome in plan:
        occurred = start + timedelta(days=day)
        with recorded_as_of(occurred + timedelta(minutes=20)):
            if where in ("reception", "waiting_area", "entrance"):
                saved = log.report_filming(filming(occurred, area=where), reception)
            else:
                saved = log.report_recording(recording(occurred, "Dr Shah", setting=where), reception)
        if close_after is not None:
            with recorded_as_of(occurred + timedelta(days=close_after, hours=1)):
                log.close_incident(c.CloseIncident(incident_id=saved.id, outcome=outcome), manager)
    return plan


def test_each_count_of_the_monthly_report_leads_to_a_list_of_as_many_incidents(march, client_for):
    manager = client_for("mo.manager")
    report = manager.get("/reports/monthly", params={"month": "2026-03"}).text
    links = REPORT_LINK.findall(report)
    # Two for the sentence (happened, closed), one per kind, per place, per outcome and per time to close with any.
    assert len(links) >= 2 + 2 + 5 + 3 + 4
    for link, count in links:
        assert listed(manager, link) == int(count), link
    assert ('/incidents?from=2026-03-01&amp;to=2026-03-31', "9") in links
    closed = [(link, n) for link, n in links if "closed_from=2026-03-01" in link and "took" not in link and "outcome" not in link]
    assert closed == [("/incidents?status=closed&amp;closed_from=2026-03-01&amp;closed_to=2026-03-31", "6")]
    # The April report counts the close of 45 days there, under "30 days or more".
    april = manager.get("/reports/monthly", params={"month": "2026-04"}).text
    assert [listed(manager, link) for link, n in REPORT_LINK.findall(april) if "took=5" in link] == [1]


def test_the_report_offers_its_incidents_as_csv_and_prints(march, client_for):
    manager = client_for("mo.manager")
    report = manager.get("/reports/monthly", params={"month": "2026-03"}).text
    assert "Print this report" in report and "data-print" in report
    link = re.search(r'<a href="(/incidents\.csv\?[^"]+)" download>Download the month\'s incidents as CSV', report)
    assert link, report
    rows = rows_of(manager.get(html.unescape(link.group(1))))
    assert len(rows) == 9 and all(r["occurred_at"].startswith("2026-03") for r in rows)
    counts = manager.get("/reports/monthly.csv", params={"month": "2026-03"}).text
    assert "kind,Someone filmed in the practice,5" in counts
