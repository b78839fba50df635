"""The call recording policy's pages: adopting a policy (one that singles out callers refused on
the form), how callers are told (the notice register's notices on its channels) and the
dashboard's warning, logging a listening (a role the policy does not name refused with the
reason), and a request for a copy of a call recording through the disclosure pages."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import csrf_from, field_from

UK = ZoneInfo("Europe/London")
POLICY = {
    "scope": "all_calls",
    "purposes": ["training", "complaints_and_claims"],
    "listeners": ["manager"],
    "retention_months": "36",
    "system": "Surgery Connect",
    "told_by": ["telephone_message", "practice_leaflet"],
    "in_force_from": "2026-01-05",
}


def post(client, url, form, page_url=None):
    token = csrf_from(client.get(page_url or url).text)
    return client.post(url, data={**form, "csrf_token": token})


def adopt(client, **changes):
    return post(client, "/call-recording", {**POLICY, **changes})


def test_a_policy_singling_out_callers_is_refused_on_the_form(client_for):
    manager = client_for("mo.manager")
    refused = adopt(manager, scope="selected_callers", only_callers="07700 900123 (difficult caller)")
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and "must not single out conversations with individual callers" in refused.text
    assert 'href="#scope"' in refused.text  # the summary leads to the question
    assert "Not adopted" in manager.get("/call-recording").text  # nothing was recorded

    left_behind = adopt(manager, only_callers="07700 900123")  # typed under "particular callers", then every call chosen
    assert left_behind.status_code == 303 and "07700" not in manager.get("/call-recording").text


def test_a_policy_without_a_message_on_the_line_is_refused(client_for):
    manager = client_for("mo.manager")
    refused = adopt(manager, told_by=["website"])
    assert refused.status_code == 422 and "message on the line" in refused.text and 'href="#told_by"' in refused.text


def test_bad_numbers_and_blanks_are_422_not_500(client_for):
    manager = client_for("mo.manager")
    for changes in ({"retention_months": "lots"}, {"retention_months": "0"}, {"purposes": []}, {"listeners": ["cleaner"]}, {"system": ""}, {"in_force_from": "yesterday"}):
        answer = adopt(manager, **changes)
        assert answer.status_code == 422 and "There is a problem" in answer.text, changes
        if "retention_months" in changes:
            assert "a whole number from 1 to 360" in answer.text


def test_adopt_change_and_end_with_history(client_for):
    manager = client_for("mo.manager")
    assert adopt(manager).status_code == 303
    page = manager.get("/call-recording?saved=policy").text
    assert "In force" in page and "Surgery Connect" in page and "Policy adopted" in page

    unchanged = adopt(manager, reason="No change really")
    assert unchanged.status_code == 422 and "already says this" in unchanged.text
    no_reason = adopt(manager, retention_months="24")
    assert no_reason.status_code == 422 and "Say why the policy changes" in no_reason.text
    assert adopt(manager, retention_months="24", reason="The supplier keeps two years").status_code == 303

    governance = client_for("gill.governance")  # the governance lead keeps it too
    ended = post(governance, "/call-recording/end", {"ended_from": "2026-12-01", "reason": "Calls no longer recorded"}, "/call-recording")
    assert ended.status_code == 303
    page = governance.get("/call-recording").text
    assert "Ended" in page and page.index("Policy ended") < page.index("Policy changed") < page.index("Policy adopted")
    assert "The supplier keeps two years" in page


def test_callers_told_by_notices_and_the_dashboard_warns(client_for):
    manager = client_for("mo.manager")
    dashboard = manager.get("/dashboard").text
    assert "Telephone call recording" in dashboard  # the register's own warning, before any policy
    adopt(manager)
    page = manager.get("/call-recording").text
    assert "Message on the line" in page and "Practice leaflet" in page and page.count("Publish a notice") >= 2
    dashboard = manager.get("/dashboard").text
    assert "Telephone call recording (message on the line)" in dashboard
    assert "Telephone call recording (practice leaflet)" in dashboard

    published = post(manager, "/notices", {
        "submission_key": uuid.uuid4().hex, "channel": "telephone_message",
        "wording": "Calls to the practice are recorded for training and to resolve complaints.", "in_service_from": "2026-01-01",
    }, "/notices/new")
    assert published.status_code == 303
    page = manager.get("/call-recording").text
    assert "Calls to the practice are recorded for training" in page and published.headers["location"].split("?")[0] in page
    dashboard = manager.get("/dashboard").text
    assert "(message on the line)" not in dashboard and "Telephone call recording (practice leaflet)" in dashboard


def listen(client, **changes):
    call = datetime.now(UK) - timedelta(days=3)
    form = {"call_date": f"{call:%Y-%m-%d}", "call_time": "10:15", "caller": "0113 496 0000", "purpose": "complaints_and_claims", "reason": "Complaint C-17: what was said about the repeat prescription"}
    page = client.get("/call-recording/listenings/new").text
    form |= {"csrf_token": csrf_from(page), "submission_key": field_from(page, "submission_key")}
    return client.post("/call-recording/listenings", data={**form, **changes})


def test_every_listening_is_logged_and_a_role_the_policy_does_not_name_is_refused(client_for):
    manager = client_for("mo.manager")
    receptionist = client_for("sue.reception")
    no_policy = listen(manager)
    assert no_policy.status_code == 422 and "no call recording policy" in no_policy.text
    adopt(manager)

    refused = listen(receptionist)
    assert refused.status_code == 422 and "There is a problem" in refused.text
    assert "lets only these listen to recordings: Practice manager" in refused.text

    wrong_purpose = listen(manager, purpose="staff_safety")
    assert wrong_purpose.status_code == 422 and "not recorded for safety of staff" in wrong_purpose.text
    assert listen(manager, caller="not a number").status_code == 422
    future = listen(manager, call_date=f"{datetime.now(UK) + timedelta(days=5):%Y-%m-%d}")
    assert future.status_code == 422 and "future" in future.text

    logged = listen(manager)
    assert logged.status_code == 303 and logged.headers["location"] == "/call-recording/listenings/new?saved=listened"
    page = manager.get("/call-recording").text
    assert "Complaint C-17" in page and "0113 496 0000" in page and "Recording listened to" in page
    assert page.count("Complaint C-17") == 2  # in the log and in the history, once each


def test_a_request_for_a_copy_of_a_call_recording(client_for):
    governance = client_for("gill.governance")
    form = {
        "submission_key": uuid.uuid4().hex, "requester_type": "call_recording", "requester": "Ms A Caller",
        "reference": "Her call about results", "received_on": datetime.now(UK).date().isoformat(),
    }
    no_call = post(governance, "/disclosures", form, "/disclosures/new")
    assert no_call.status_code == 422 and "Enter the date and time of the call" in no_call.text and 'href="#call_at"' in no_call.text
    bad_number = post(governance, "/disclosures", {**form, "call_date": "2026-11-02", "call_time": "09:40", "caller_number": "call me"}, "/disclosures/new")
    assert bad_number.status_code == 422 and "caller&#39;s number" in bad_number.text
    made = post(governance, "/disclosures", {**form, "call_date": "2026-11-02", "call_time": "09:40", "caller_number": "0113 496 0001"}, "/disclosures/new")
    assert made.status_code == 303, made.text
    page = governance.get(made.headers["location"]).text
    assert "Copy of a call recording" in page and "02 Nov 2026, 09:40" in page and "0113 496 0001" in page
    assert "Right of access" in page  # a caller's own call: a subject access request
    listed = governance.get("/disclosures").text
    assert "Copy of a call recording" in listed and "Ms A Caller" in listed  # in the list with its due date, like any request

    other = post(governance, "/disclosures", {**form, "submission_key": uuid.uuid4().hex, "requester_type": "solicitor", "call_date": "2026-11-02", "call_time": "09:40"}, "/disclosures/new")
    assert other.status_code == 303  # the call, asked only under a call recording request, is left behind
    assert "The call" not in governance.get(other.headers["location"]).text
